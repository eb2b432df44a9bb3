// TypeScript locks against the real npm registry (small, stable packages), and an install from
// the lock. Needs network; kept to one workspace.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { makeWorkspace, removeDir, wmill } from './helpers/workspace.js';
import { ensureInstalled } from '../src/metadata/locks/install.js';
import { EMPTY_BUN_LOCK } from '../src/metadata/locks/npm.js';

let d: string;
let cache: string;
const run = (args: string[]) => wmill(d, args, { env: { XDG_CACHE_HOME: cache } });
const read = (f: string) => readFileSync(join(d, f), 'utf8');

beforeAll(() => {
  cache = mkdtempSync(join(tmpdir(), 'wmill-cache-'));
  d = makeWorkspace({
    'f/a/x.ts': 'import isNumber from "is-number";\nimport isOdd from "is-odd@3.0.1";\nexport async function main(n: number) { return isNumber(n) && isOdd(n); }\n',
    // same dependency set through a relative import: shares the resolution
    'f/a/y.ts': 'import { main as x } from "./x.ts";\nimport isOdd from "is-odd@3.0.1";\nimport isNumber from "is-number";\nexport async function main() { return x(3); }\n',
    'f/a/none.ts': 'import { readFileSync } from "node:fs";\nexport async function main() { return 1; }\n',
  });
});
afterAll(() => {
  removeDir(d);
  removeDir(cache);
});

describe('TypeScript locks (npm registry)', () => {
  it('locks exact versions in the bun format, keeps a pinned import, resolves a shared set once', () => {
    const r = run(['generate-metadata', '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.lockStats).toEqual({ sets: 1, resolutions: 1, cacheHits: 0 });
    const lock = read('f/a/x.script.lock');
    const [pj, bunLock] = lock.split('\n//bun.lock\n');
    const deps = JSON.parse(pj!).dependencies;
    expect(Object.keys(deps)).toEqual(['is-number', 'is-odd']);
    expect(deps['is-odd']).toBe('3.0.1');
    expect(deps['is-number']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(bunLock).toMatch(/^\{\n {2}"lockfileVersion": 1,\n {2}"workspaces": \{\n {4}"": \{\n {6}"dependencies": \{\n/);
    expect(bunLock).toContain(`"is-number": ["is-number@${deps['is-number']}", "", {}, "sha512-`);
    // is-odd@3.0.1 needs is-number ^6: a nested copy
    expect(bunLock).toMatch(/"is-odd\/is-number": \["is-number@6\.\d+\.\d+", "", \{\}, "sha512-/);
    expect(read('f/a/y.script.lock')).toBe(lock);
    expect(parse(read('f/a/x.script.yaml')).lock).toBe('!inline f/a/x.script.lock');
    // no npm imports: Windmill's own empty bun lock
    expect(read('f/a/none.script.lock')).toBe(EMPTY_BUN_LOCK);
    expect(j.lockChanges.find((c: any) => c.path === 'f/a/x').changes.map((c: any) => c.name)).toEqual(['is-number', 'is-odd']);
    const again = run(['generate-metadata', '--yes']);
    expect(again.stdout).toContain('All metadata up-to-date');
    expect(read('f/a/x.script.lock')).toBe(lock);
  });

  it('installs from the lock into a content-addressed node_modules', async () => {
    const prev = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = cache;
    try {
      const dir = await ensureInstalled('bun', read('f/a/x.script.lock'));
      expect(dir.startsWith(join(cache, 'wmill', 'installs', 'node'))).toBe(true);
      const version = (p: string) => JSON.parse(readFileSync(join(dir, 'node_modules', p, 'package.json'), 'utf8')).version;
      expect(version('is-odd')).toBe('3.0.1');
      expect(version('is-odd/node_modules/is-number')).toMatch(/^6\./);
      expect(await ensureInstalled('bun', read('f/a/x.script.lock'))).toBe(dir);
      expect(readdirSync(join(dir, '..')).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
      const empty = await ensureInstalled('bun', EMPTY_BUN_LOCK);
      expect(existsSync(join(empty, 'node_modules'))).toBe(false);
    } finally {
      if (prev === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = prev;
    }
  });
});
