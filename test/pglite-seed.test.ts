/**
 * The embedded database starts from the seed cluster the build makes (dist/pglite-seed.tar.gz)
 * instead of running initdb in the process: a new data folder gets a complete cluster (closed to
 * others, migrated, reopened as is), an in-memory database works the same, and shared buffers
 * follow WMILL_PGLITE_SHARED_BUFFERS (default 16MB).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPglite } from '../src/server/db/db.js';
import { migrate, MIGRATIONS } from '../src/server/db/migrations.js';
import { packageRoot } from '../src/paths.js';

const dirs: string[] = [];
afterEach(() => {
  delete process.env.WMILL_PGLITE_SHARED_BUFFERS;
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});

function modes(dir: string): string[] {
  const bad: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    const m = statSync(p).mode & 0o777;
    if (e.isDirectory()) {
      if (m !== 0o700) bad.push(`${p} ${m.toString(8)}`);
      bad.push(...modes(p));
    } else if (m !== 0o600) bad.push(`${p} ${m.toString(8)}`);
  }
  return bad;
}

describe('embedded database from the seed', () => {
  it('the build made the seed', () => {
    expect(statSync(join(packageRoot(), 'dist', 'pglite-seed.tar.gz')).size).toBeGreaterThan(100_000);
  });

  it('a new data folder: a complete cluster, closed to others, migrated, and reopened with its data', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'wmill-seed-'));
    dirs.push(parent);
    const dir = join(parent, 'data');
    let db = await openPglite(dir);
    await migrate(db);
    await db.query('CREATE TABLE seed_probe (v text)');
    await db.query("INSERT INTO seed_probe VALUES ('kept')");
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM wmill_migration'))[0]!.n).toBe(MIGRATIONS.length);
    await db.close();
    expect(existsSync(join(dir, 'PG_VERSION'))).toBe(true);
    expect(modes(dir)).toEqual([]);
    db = await openPglite(dir);
    expect(await db.query('SELECT v FROM seed_probe')).toEqual([{ v: 'kept' }]);
    await db.close();
  });

  it('in memory, with shared buffers from the environment', async () => {
    let db = await openPglite(undefined);
    expect(await db.query('SELECT 1 + 1 AS two')).toEqual([{ two: 2 }]);
    expect((await db.query<{ shared_buffers: string }>('SHOW shared_buffers'))[0]!.shared_buffers).toBe('16MB');
    await db.close();
    process.env.WMILL_PGLITE_SHARED_BUFFERS = '32MB';
    db = await openPglite(undefined);
    expect((await db.query<{ shared_buffers: string }>('SHOW shared_buffers'))[0]!.shared_buffers).toBe('32MB');
    await db.close();
  });
});
