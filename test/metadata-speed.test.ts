/**
 * What makes a first generate-metadata fast must not change what it writes:
 * - the TypeScript compiler is loaded through V8's code cache (src/metadata/parsers/load-typescript.ts):
 *   the cache is written once, used after, and a stale or damaged cache is only slower;
 * - files are written concurrently (WriteQueue) and wmill-lock.yaml is written after all of them;
 * - the lock file's entries are cleared through an index (no quadratic scan).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeWorkspace, removeDir, wmill } from './helpers/workspace.js';
import { clearLockEntries, lockKeyIndex } from '../src/metadata/lockfile.js';

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) removeDir(dirs.pop()!);
});

function files(dir: string, base = dir): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) Object.assign(out, files(p, base));
    else out[p.slice(base.length + 1)] = readFileSync(p, 'utf8');
  }
  return out;
}

const TS = 'type Mode = "a" | "b";\nexport async function main(name: string, n = 3, mode: Mode = "a") {\n  return name;\n}\n';

describe('TypeScript through the V8 code cache', () => {
  it('writes the cache once, uses it, and survives a damaged one with the same output', () => {
    const cache = mkdtempSync(join(tmpdir(), 'wmill-cache-'));
    dirs.push(cache);
    const outputs: Record<string, string>[] = [];
    const sizes: number[] = [];
    const written: number[] = [];
    for (const damage of [false, false, true]) {
      const ws = makeWorkspace({ 'f/a/x.ts': TS });
      dirs.push(ws);
      if (damage) for (const f of readdirSync(cache)) writeFileSync(join(cache, f), 'not a code cache');
      const r = wmill(ws, ['generate-metadata', '--yes', '--schema-only'], { env: { WMILL_CACHE_DIR: cache } });
      expect(r.code, r.stderr).toBe(0);
      outputs.push(files(ws));
      const caches = readdirSync(cache).filter((f) => f.startsWith('typescript-'));
      expect(caches).toHaveLength(1);
      const st = statSync(join(cache, caches[0]!));
      sizes.push(st.size);
      written.push(st.mtimeMs);
    }
    expect(outputs[1]).toEqual(outputs[0]);
    expect(outputs[2]).toEqual(outputs[0]);
    expect(outputs[0]!['f/a/x.script.yaml']).toContain('mode:');
    // a good cache is used as it is (not written again); a damaged one is rejected and replaced
    expect(written[1]).toBe(written[0]);
    expect(sizes[0]).toBeGreaterThan(100_000);
    expect(sizes[2]).toBeGreaterThan(100_000);
  });

  it('WMILL_CACHE_DIR=off writes no cache and gives the same output', () => {
    const ws = makeWorkspace({ 'f/a/x.ts': TS });
    dirs.push(ws);
    const home = mkdtempSync(join(tmpdir(), 'wmill-home-'));
    dirs.push(home);
    const r = wmill(ws, ['generate-metadata', '--yes', '--schema-only'], { env: { WMILL_CACHE_DIR: 'off', HOME: home, XDG_CACHE_HOME: '' } });
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(home)).toEqual([]);
    expect(readFileSync(join(ws, 'f/a/x.script.yaml'), 'utf8')).toContain('mode:');
  });
});

describe('many items at once', () => {
  it('every script gets its metadata and a lock entry, and a second run has nothing to do', () => {
    const spec: Record<string, string> = {};
    for (let i = 0; i < 120; i++) {
      spec[`f/g${i % 7}/s${i}.${i % 3 === 0 ? 'py' : i % 3 === 1 ? 'ts' : 'sh'}`] =
        i % 3 === 0 ? `def main(x: int = ${i}):\n    return x\n` : i % 3 === 1 ? `export async function main(x = ${i}) { return x }\n` : `x="$1"\necho $x\n`;
    }
    const ws = makeWorkspace(spec);
    dirs.push(ws);
    const r = wmill(ws, ['generate-metadata', '--yes', '--schema-only']);
    expect(r.code, r.stderr).toBe(0);
    const out = files(ws);
    for (const f of Object.keys(spec)) expect(out[f.replace(/\.(py|ts|sh)$/, '.script.yaml')], f).toBeDefined();
    const lock = out['wmill-lock.yaml']!;
    for (const f of Object.keys(spec)) expect(lock).toContain(`${f.replace(/\.(py|ts|sh)$/, '')}:`);
    // no temp file left behind
    expect(Object.keys(out).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const again = wmill(ws, ['generate-metadata', '--yes', '--schema-only', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(files(ws)).toEqual(out);
  });
});

describe('TypeScript parsed on two threads', () => {
  it('writes exactly what a serial run writes, errors and odd signatures included', () => {
    const spec: Record<string, string> = {};
    const shapes = [
      (i: number) => `export async function main(a: number, b = ${i}, when?: Date, tags: string[] = ["x"]) { return a }\n`,
      (i: number) => `type M = "a" | "b";\ninterface O { x: number; y?: string }\nexport function main(m: M = "b", o: O = { x: ${i} }) { return m }\n`,
      () => `export function main({ a, b }: { a: number; b: string }) { return a }\n`,
      () => `export function main(a: number, { ) {\n`, // a syntax error
      () => `export const main = async (x: string) => x;\n`,
      () => `import * as wmill from "windmill-client";\nexport async function main(db: wmill.Resource<"postgresql">, n = 2 ** 3) { return n }\n`,
    ];
    for (let i = 0; i < 60; i++) spec[`f/t${i % 4}/s${i}.ts`] = shapes[i % shapes.length]!(i);
    const serial = makeWorkspace(spec);
    const parallel = makeWorkspace(spec);
    dirs.push(serial, parallel);
    const a = wmill(serial, ['generate-metadata', '--yes', '--schema-only'], { env: { WMILL_METADATA_PARALLEL: '0' } });
    const b = wmill(parallel, ['generate-metadata', '--yes', '--schema-only'], { env: { WMILL_METADATA_PARALLEL: '1' } });
    expect(b.code).toBe(a.code);
    expect(b.stdout).toBe(a.stdout);
    expect(files(parallel)).toEqual(files(serial));
    // the runs did something: metadata for the good scripts, an error for the broken ones
    expect(Object.keys(files(serial)).filter((f) => f.endsWith('.script.yaml')).length).toBeGreaterThan(40);
    expect(a.stdout + a.stderr).toMatch(/s3\.ts/);
  });
});

describe('lock entries through the index', () => {
  it('clears exactly what the full scan clears', () => {
    const keys = ['f/a/b', 'f/a/b+__lock', 'f/a/bc', 'f/a/bc+__lock', 'f/x__flow', 'f/x__flow+flow.yaml', 'f/x__flow+a.ts', 'f/x__flow+__flow_hash', 'f/a/b+x+y', 'g'];
    for (const item of ['f/a/b', 'f/a/bc', 'f/x__flow', 'g', 'f/a/b+x', 'nothing']) {
      const a = new Map(keys.map((k) => [k, 'h']));
      const b = new Map(a);
      clearLockEntries(a, item);
      clearLockEntries(b, item, lockKeyIndex(b));
      expect([...b.keys()], item).toEqual([...a.keys()]);
    }
  });
});
