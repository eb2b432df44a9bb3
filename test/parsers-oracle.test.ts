/**
 * Differential corpus: every input under test/fixtures/schema-oracle/<lang>/ was run through the
 * reference parsers (windmill-parser-wasm-* pinned by windmill-cli 1.819.0); their answers are in
 * test/fixtures/schema-oracle/expected.json (see the README there). Our parsers must give the
 * same answer for every input. One python3 process for all Python inputs, one TypeScript load.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseBash } from '../src/metadata/parsers/bash.js';
import { parseGo } from '../src/metadata/parsers/go.js';
import { parsePowershell } from '../src/metadata/parsers/powershell.js';
import { parsePythonBatch, pythonProcessCount } from '../src/metadata/parsers/python.js';
import { parseGraphql, parseSql } from '../src/metadata/parsers/sql.js';
import type { ParseOutput } from '../src/metadata/parsers/types.js';
import { loadTs, parseTs } from '../src/metadata/parsers/typescript.js';

const dir = resolve(fileURLToPath(import.meta.url), '../fixtures/schema-oracle');
const expected: Record<string, Record<string, unknown>> = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));

/** file suffix → our parser (longest suffixes first, as the CLI picks languages) */
const SYNC: [string, (code: string) => ParseOutput][] = [
  ['.pg.sql', (c) => parseSql(c, 'postgresql')],
  ['.my.sql', (c) => parseSql(c, 'mysql')],
  ['.ms.sql', (c) => parseSql(c, 'mssql')],
  ['.bq.sql', (c) => parseSql(c, 'bigquery')],
  ['.sf.sql', (c) => parseSql(c, 'snowflake')],
  ['.duckdb.sql', (c) => parseSql(c, 'duckdb')],
  ['.odb.sql', (c) => parseSql(c, 'oracledb')],
  ['.gql', parseGraphql],
  ['.sh', parseBash],
  ['.ps1', parsePowershell],
  ['.go', parseGo],
];

interface Case {
  key: string;
  code: string;
  kind: 'py' | 'ts' | 'sync';
}

const cases: Case[] = [];
for (const lang of readdirSync(dir).sort()) {
  if (!statSync(join(dir, lang)).isDirectory()) continue;
  for (const f of readdirSync(join(dir, lang)).sort()) {
    const kind = f.endsWith('.py') ? 'py' : f.endsWith('.ts') ? 'ts' : 'sync';
    cases.push({ key: `${lang}/${f}`, code: readFileSync(join(dir, lang, f), 'utf8'), kind });
  }
}

// The reference builds Python dict defaults in a hash map whose order changes from call to call:
// Python dict defaults (and the anonymous object types derived from them) are compared sorted.
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(Object.keys(o).sort().map((k) => [k, sortKeys(o[k])]));
  }
  return v;
}
function sortAnonymousProps(t: unknown): unknown {
  if (Array.isArray(t)) return t.map(sortAnonymousProps);
  if (!t || typeof t !== 'object') return t;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(t)) out[k] = sortAnonymousProps(v);
  const obj = out.object as { name: string | null; props: { key: string }[] | null } | undefined;
  if (obj && obj.name === null && Array.isArray(obj.props)) {
    out.object = { ...obj, props: [...obj.props].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)) };
  }
  return out;
}

/** The compared part of a parser answer, JSON round-tripped (as the CLI reads it). */
function comparable(o: Partial<ParseOutput> & Record<string, unknown>, py: boolean) {
  const args = (o.args ?? []).map((a) => ({
    name: a.name,
    typ: py ? sortAnonymousProps(a.typ) : a.typ,
    default: py ? sortKeys(a.default) : a.default,
    has_default: a.has_default,
    otyp: a.otyp ?? null,
  }));
  return JSON.parse(JSON.stringify({
    type: o.type ?? null,
    has_preprocessor: o.has_preprocessor ?? null,
    no_main_func: o.no_main_func ?? null,
    auto_kind: o.auto_kind ?? null,
    args,
  }));
}

const ours = new Map<string, ParseOutput>();

beforeAll(async () => {
  const py = cases.filter((c) => c.kind === 'py');
  const before = pythonProcessCount();
  const got = await parsePythonBatch(py.map((c) => ({ id: c.key, code: c.code })));
  expect(pythonProcessCount() - before).toBe(1);
  for (const [k, v] of got) ours.set(k, v);
  await loadTs();
  for (const c of cases) {
    if (c.kind === 'ts') ours.set(c.key, parseTs(c.code));
    else if (c.kind === 'sync') {
      const p = SYNC.find(([ext]) => c.key.endsWith(ext));
      if (!p) throw new Error(`no parser for ${c.key}`);
      ours.set(c.key, p[1](c.code));
    }
  }
});

describe('parsers agree with the reference parsers on the recorded corpus', () => {
  it('has the whole corpus recorded', () => {
    expect(cases.length).toBeGreaterThan(300);
    expect(cases.map((c) => c.key).sort()).toEqual(Object.keys(expected).sort());
  });

  for (const c of cases) {
    it(c.key, () => {
      const exp = expected[c.key]!;
      const got = ours.get(c.key)!;
      if (typeof exp.__throws === 'string') {
        // the reference parser throws (its JavaScript evaluation of a default failed): the
        // reference CLI then fails the script, and so do we
        expect(got.error, `${c.key}: reference throws "${exp.__throws}"`).toBeDefined();
        return;
      }
      expect(got.error, c.key).toBeUndefined();
      const py = c.kind === 'py';
      expect(comparable(got as never, py)).toEqual(comparable(exp as never, py));
    });
  }
});
