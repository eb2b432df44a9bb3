/**
 * The fast YAML writer (src/util/yaml-emit.ts) answers exactly what yaml@2's stringify writes
 * with our options, or nothing: on generated documents (seeded), on every YAML file of the
 * fixtures, and on the schemas of the conformance corpus.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { stringify, parse, type Pair } from 'yaml';
import { emitYaml } from '../src/util/yaml-emit.js';
import { compareKeys } from '../src/util/yaml.js';

const OPTIONS = {
  sortMapEntries: (a: Pair, b: Pair) => compareKeys(String(a.key), String(b.key)),
  aliasDuplicateObjects: false,
  singleQuote: true,
} as const;
const reference = (v: unknown) => stringify(v, OPTIONS);

const SEED = Number(process.env.YAML_EMIT_SEED ?? Date.now() % 100000);
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

const WORDS = ['', 'a', 'name', 'type', 'string', 'null', 'Null', 'true', 'TRUE', 'False', 'yes', 'no', '~', '1', '1.5', '0x1f', '-a', 'a-b', 'a b', 'a  b', 'a b ',
  ' a', 'a: b', 'a:b', 'a:', ':', 'https://json-schema.org/draft/2020-12/schema', '$schema', 'a#b', 'a #b', '#a', "it's", 'é', 'a\nb', 'a\tb', '@x', '!x', '%x', '&x',
  '*x', '[a]', '{a}', 'a,b', '?x', 'x?', '|x', '>x', '<<', '=', '-', 'f/folder/script', 'u/bob/x', 'originalType', 'description', 'default', 'enum', 'properties',
  'word '.repeat(12).trim(), 'word '.repeat(30).trim(), 'x'.repeat(100), 'resource-postgresql', 'S3Object', 'object', 'integer', '.inf', '1e3', '1_000', '12:30', 'nul l',
  '!a ', '"a', '!a b: c', '{x: 1}', '!inline f/a/b.script.lock', '@a #b', '| x', '! ', '!', '!!str', '& a', '*', '`', '%', '[', ']x', '#', '> a b', '!' + 'x'.repeat(80), '!in ' + 'w '.repeat(40), 'f/a/b+__lock', 'f/x/y__flow+flow.yaml', 'a+', 'a +b', 'a+ b', '09db90b94863df48120d8dffda429bff876f85b156a09dafbf03e7cf2d96449e', '123', '1e5', '12e3a', '0123abc', '0e0', '00', '0', '1.', '7e', 'deadbeef', '1ee2'];

function gen(r: () => number, depth: number): unknown {
  const pick = r();
  if (depth > 3 || pick < 0.45) {
    const k = r();
    if (k < 0.1) return null;
    if (k < 0.2) return r() < 0.5;
    if (k < 0.3) return Math.floor((r() - 0.5) * 1000);
    if (k < 0.35) return [0.5, -2.25, 1e21, 1e-7, -0, 3.0, 123456789012, NaN, Infinity][Math.floor(r() * 9)];
    return WORDS[Math.floor(r() * WORDS.length)];
  }
  if (pick < 0.7) {
    const n = Math.floor(r() * 4);
    return Array.from({ length: n }, () => gen(r, depth + 1));
  }
  const n = Math.floor(r() * 5);
  const o: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    const k = WORDS[Math.floor(r() * WORDS.length)]!;
    o[k] = r() < 0.05 ? undefined : gen(r, depth + 1);
  }
  return o;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(n) ? [p] : [];
  });
}

describe('fast YAML writer', () => {
  it(`equals yaml@2 stringify whenever it answers, on generated documents (seed ${SEED})`, () => {
    const r = rng(SEED);
    let answered = 0;
    for (let i = 0; i < 20000; i++) {
      const doc = { top: gen(r, 0), other: gen(r, 1) } as Record<string, unknown>;
      const fast = emitYaml(doc);
      if (fast === undefined) continue;
      answered++;
      expect(fast, JSON.stringify(doc)).toBe(reference(doc));
    }
    // it must answer a fair share, or the fast path is not doing its job
    expect(answered).toBeGreaterThan(2000);
  });

  it('equals yaml@2 stringify on every YAML fixture, and answers the metadata files', () => {
    const files = yamlFiles(join(import.meta.dirname, 'fixtures'));
    expect(files.length).toBeGreaterThan(20);
    let answered = 0;
    for (const f of files) {
      let value: unknown;
      try {
        value = parse(readFileSync(f, 'utf8'));
      } catch {
        continue;
      }
      const fast = emitYaml(value);
      if (fast === undefined) continue;
      answered++;
      expect(fast, f).toBe(reference(value));
    }
    expect(answered).toBeGreaterThan(10);
  });

  it('answers a typical script metadata document', () => {
    const meta = {
      summary: '',
      description: '',
      lock: '!inline f/a/b.script.lock',
      kind: 'script',
      schema: {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        properties: { name: { type: 'string', description: '', default: null, originalType: 'string' }, mode: { type: 'string', enum: ['a', 'b'], default: 'a' }, n: { type: 'integer', default: 3 } },
        required: ['name'],
      },
    };
    const fast = emitYaml(meta);
    expect(fast).toBeDefined();
    expect(fast).toBe(reference(meta));
  });

  it('answers a wmill-lock.yaml document', () => {
    const lock = { version: 'v2', locks: { 'f/a/b': '09db90b94863df48120d8dffda429bff876f85b156a09dafbf03e7cf2d96449e', 'f/a/b+__lock': 'a3'.repeat(32), 'f/x/y__flow+flow.yaml': 'ff'.repeat(32) } };
    const fast = emitYaml(lock);
    expect(fast).toBeDefined();
    expect(fast).toBe(reference(lock));
  });

  it('gives up (undefined) on what it does not write: top-level scalars and arrays, nested arrays, odd strings', () => {
    expect(emitYaml('x')).toBeUndefined();
    expect(emitYaml([1])).toBeUndefined();
    expect(emitYaml({ a: [[1]] })).toBeUndefined();
    expect(emitYaml({ a: 'x: y' })).toBeUndefined();
    expect(emitYaml({ a: 'multi\nline' })).toBeUndefined();
    expect(emitYaml({ a: new Date(0) })).toBeUndefined();
  });
});
