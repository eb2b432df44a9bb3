/**
 * A workspace written by an older CLI: wmill-lock.yaml without a `version:` line (nested maps for
 * flows). The real windmill-cli 1.819 keeps that format when it rewrites the file; so do we, and
 * what both write is the same bytes (the real CLI runs against `wmill serve`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from './helpers/server.js';
import { real, runNode, tree } from './helpers/sync.js';
import { BIN, REPO } from './helpers/workspace.js';
import { parseLockFile, renderLegacyLockFile, parseLockFileFull } from '../src/metadata/lockfile.js';

let srv: TestServer;
let tmp: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'wmill-legacylock-'));
  srv = await startTestServer({ workers: 1 });
}, 120_000);

afterAll(async () => {
  await srv?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** The examples' v2 lock file in the legacy layout: no version line, `<flow>: {<file>: hash}`. */
function legacyOf(v2: string): string {
  const flat = parseLockFile(v2, 'wmill-lock.yaml');
  const lines = ['locks:'];
  const nested = new Map<string, [string, string][]>();
  for (const [k, h] of flat) {
    const plus = k.indexOf('+');
    if (plus < 0) nested.set(k, []), lines.push(`  ${k}: ${h}`);
    else {
      const p = k.slice(0, plus);
      if (!nested.has(p)) {
        nested.set(p, []);
        lines.push(`  ${p}:`);
      }
      lines.push(`    ${k.slice(plus + 1)}: ${h}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function workspace(name: string): string {
  const dir = join(tmp, name);
  cpSync(join(REPO, 'examples'), dir, { recursive: true });
  writeFileSync(join(dir, 'wmill-lock.yaml'), legacyOf(readFileSync(join(dir, 'wmill-lock.yaml'), 'utf8')));
  // Edits since the last run: a script, a flow's inline script, and a new script.
  appendFileSync(join(dir, 'f/examples/greet.py'), '# edited\n');
  appendFileSync(join(dir, 'f/examples/etl__flow/extract.py'), '# edited\n');
  writeFileSync(join(dir, 'f/examples/added.py'), 'def main(n: int = 1):\n    return n\n');
  return dir;
}

describe('a legacy wmill-lock.yaml (no version line)', () => {
  it('keeps its format when generate-metadata rewrites it, byte for byte as the real CLI', async () => {
    const before = legacyOf(readFileSync(join(REPO, 'examples/wmill-lock.yaml'), 'utf8'));
    expect(before).not.toMatch(/^version:/m);
    expect(before).toContain('  f/examples/etl__flow:\n    __flow_hash: ');

    const ours = workspace('ours');
    const mine = await runNode([BIN, 'generate-metadata', '--yes'], ours);
    expect(mine.code, mine.all).toBe(0);
    const theirsDir = workspace('real');
    const cfg = join(tmp, 'cfg');
    const add = await real(theirsDir, ['workspace', 'add', 'admins', 'admins', srv.url, '--token', srv.token], cfg);
    expect(add.code, add.all).toBe(0);
    const theirs = await real(theirsDir, ['generate-metadata', '--yes'], cfg);
    expect(theirs.code, theirs.all).toBe(0);
    expect(theirs.all).toMatch(/Done\. Updated 3 item\(s\)/);

    expect(tree(ours)).toEqual(tree(theirsDir));
    const after = readFileSync(join(ours, 'wmill-lock.yaml'), 'utf8');
    expect(after).not.toMatch(/^version:/m);
    expect(after).toContain('  f/examples/etl__flow:\n    __flow_hash: ');
    // Only the edited items' lines changed, and the new script got its line.
    const changed = after.split('\n').filter((l) => !before.split('\n').includes(l));
    expect(changed.map((l) => l.trim().split(':')[0])).toEqual(['f/examples/added', '__flow_hash', 'extract.py', 'f/examples/greet']);
    // Ours reads it back as up to date.
    expect((await runNode([BIN, 'generate-metadata', '--check'], ours)).code).toBe(0);
  }, 240_000);

  it('rehash keeps the legacy format too; wmill-only lock entries are not written into it', () => {
    const text = 'locks:\n  f/a/x: h1111\n  f/b__flow:\n    __flow_hash: h2222\n    a.py: h3333\n';
    const parsed = parseLockFileFull(text, 'wmill-lock.yaml');
    expect(parsed.legacy).toBeDefined();
    const locks = new Map(parsed.locks);
    locks.set('f/a/x', 'h4444');
    locks.set('f/a/x+__lock', 'h5555');
    locks.set('f/b__flow+b.ts', 'h6666');
    locks.delete('f/b__flow+a.py'); // the reference never removes entries from a legacy file
    expect(renderLegacyLockFile(locks, parsed.legacy!)).toBe('locks:\n  f/a/x: h4444\n  f/b__flow:\n    __flow_hash: h2222\n    a.py: h3333\n    b.ts: h6666\n');
    // `version: v1` stays v1; a v2 file is not legacy.
    expect(renderLegacyLockFile(parsed.locks, parseLockFileFull(`version: v1\n${text}`, 'f').legacy!)).toBe(`version: v1\n${text}`);
    expect(parseLockFileFull('version: v2\nlocks: {}\n', 'f').legacy).toBeUndefined();

    const dir = join(tmp, 'rehash');
    cpSync(join(REPO, 'examples'), dir, { recursive: true });
    const legacy = legacyOf(readFileSync(join(dir, 'wmill-lock.yaml'), 'utf8'));
    writeFileSync(join(dir, 'wmill-lock.yaml'), legacy);
    return runNode([BIN, 'generate-metadata', 'rehash'], dir).then((r) => {
      expect(r.code, r.all).toBe(0);
      expect(readFileSync(join(dir, 'wmill-lock.yaml'), 'utf8')).toBe(legacy);
    });
  });
});
