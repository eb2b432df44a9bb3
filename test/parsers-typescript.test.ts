import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import {
  loadTs,
  parseTs,
  parseTsAsync,
  toSnakeCase,
  tsExternalImports,
  tsRelativeImports,
} from '../src/metadata/parsers/typescript.js';
import type { ParseOutput } from '../src/metadata/parsers/types.js';
import { CONFORMANCE } from './helpers/workspace.js';

const confDir = CONFORMANCE;
const casesDir = path.join(confDir, 'cases');
const expectedDir = path.join(confDir, 'expected');

const tsCases = existsSync(casesDir)
  ? readdirSync(casesDir)
      .filter((f) => f.endsWith('.ts'))
      .sort()
  : [];

function pick(out: ParseOutput) {
  return {
    type: out.type,
    args: out.args.map((a) => ({
      name: a.name,
      typ: a.typ,
      default: a.default,
      has_default: a.has_default,
      otyp: a.otyp,
    })),
    has_preprocessor: out.has_preprocessor,
  };
}

beforeAll(async () => {
  await loadTs();
});

describe('parseTs: conformance corpus (parser.output of parse_deno)', () => {
  it('has TypeScript cases', () => {
    expect(tsCases.length).toBeGreaterThan(0);
  });

  for (const file of tsCases) {
    const caseName = file.slice(0, file.indexOf('.'));
    it(caseName, () => {
      const expected = JSON.parse(readFileSync(path.join(expectedDir, `${caseName}.json`), 'utf8'));
      const exp = expected.parser.output as ParseOutput;
      const out = parseTs(readFileSync(path.join(casesDir, file), 'utf8'));
      if (exp.type === 'Invalid') {
        expect(out.type).toBe('Invalid');
        return;
      }
      expect(out.error).toBeUndefined();
      expect(pick(out)).toEqual(pick(exp));
      // the remaining keys the reference writes
      expect(out.auto_kind ?? null).toEqual(exp.auto_kind ?? null);
    });
  }
});

describe('parseTs: rules', () => {
  const args = (code: string) => parseTs(code).args;
  const one = (sig: string) => args(`export async function main(${sig}) {}`)[0]!;

  it('scalars and number defaults', () => {
    expect(one('s: string').typ).toEqual({ str: null });
    expect(one('n: number').typ).toBe('float');
    expect(one('b: boolean').typ).toBe('bool');
    expect(one('i: bigint').typ).toBe('int');
    expect(one('n = 5')).toMatchObject({ typ: 'int', default: 5, has_default: true });
    expect(one('n: number = 5')).toMatchObject({ typ: 'float', default: 5 });
    expect(one('n = 1.5')).toMatchObject({ typ: 'float', default: 1.5 });
    expect(one('n = 1_000')).toMatchObject({ typ: 'int', default: 1000 });
    expect(one('n = 0x10')).toMatchObject({ typ: 'int', default: 16 });
    expect(one('n = -1')).toMatchObject({ typ: 'unknown', default: null, has_default: true });
    expect(one('n = 60 * 60')).toMatchObject({ typ: 'unknown', default: null, has_default: true });
    expect(one('x = null')).toMatchObject({ typ: 'unknown', default: null, has_default: true });
    expect(one('x = `t`')).toMatchObject({ typ: 'unknown', default: null, has_default: true });
    expect(one('x: any = true')).toMatchObject({ typ: 'bool', default: true });
  });

  it('optional and nullable', () => {
    expect(one('x?: string')).toMatchObject({ typ: { str: null }, has_default: true, default: null });
    expect(one('x: string | null')).toMatchObject({ typ: { str: null }, has_default: true });
    expect(one('x: undefined | number')).toMatchObject({ typ: 'float', has_default: true });
    expect(one('x: "a" | "b" | null')).toMatchObject({ typ: { str: ['a', 'b'] }, has_default: true });
    expect(one('x: string | number')).toMatchObject({ typ: 'unknown', has_default: false });
    expect(one('x: string | "a"')).toMatchObject({ typ: { str: ['a'] } });
  });

  it('special types', () => {
    expect(one('d: Date').typ).toBe('datetime');
    expect(one('b: Base64').typ).toBe('bytes');
    expect(one('b: wmill.Base64').typ).toBe('bytes');
    expect(one('e: wmill.Email').typ).toBe('email');
    expect(one('q: Sql').typ).toBe('sql');
    expect(one('s: S3Object').typ).toEqual({ resource: 's3_object' });
    expect(one('s: wmill.S3Object').typ).toEqual({ resource: 's3_object' });
    expect(one('r: Resource<"postgresql">').typ).toEqual({ resource: 'postgresql' });
    expect(one('r: RT.Postgresql').typ).toEqual({ resource: 'postgresql' });
    expect(one('r: Record<string, any>').typ).toEqual({ resource: 'record' });
    expect(one('a: Array<string>').typ).toEqual({ resource: 'array' });
    expect(one('a: boolean[]').typ).toEqual({ list: 'bool' });
    expect(one('a: object[]').typ).toEqual({ list: { object: { name: null, props: [] } } });
    expect(one('a: number[][]').typ).toEqual({ list: { list: 'float' } });
    expect(one('d: DynSelect_foo').typ).toEqual({ dynselect: 'foo' });
  });

  it('local declarations', () => {
    const code = `
      type Postgresql = object;
      type Alias = Foo;
      export interface Nested { inner: Inner; tags: string[] }
      interface Inner { v?: number; "quoted": string; m(): void }
      enum Color { Red = "red", Green = "green" }
      export function main(db: Postgresql, a: Alias[], n: Nested, c: Color, k: MyAPIKey) {}
    `;
    const a = args(code);
    // checked against the reference parser: local aliases resolve (and take their name)
    expect(a.map((x) => x.typ)).toEqual([
      { object: { name: 'postgresql', props: [] } },
      { list: { resource: 'alias' } },
      {
        object: {
          name: 'nested',
          props: [
            { key: 'inner', typ: { object: { name: 'inner', props: [{ key: 'v', typ: 'float' }] } } },
            { key: 'tags', typ: { list: { str: null } } },
          ],
        },
      },
      { resource: 'color' },
      { resource: 'my_api_key' },
    ]);
  });

  it('self-referencing interface does not loop (a name is expanded twice, then has no props)', () => {
    const a = args('interface Node { child: Node; v: string }\nexport function main(n: Node) {}');
    const inner = { object: { name: 'node', props: [{ key: 'child', typ: { object: { name: 'node', props: null } } }, { key: 'v', typ: { str: null } }] } };
    expect(a[0]!.typ).toEqual({
      object: { name: 'node', props: [{ key: 'child', typ: inner }, { key: 'v', typ: { str: null } }] },
    });
  });

  it('object and array defaults are evaluated like the reference (JS key order)', () => {
    const o = one('o = { z: 1, a: "x", m: [1.5], 2: 0 }');
    expect(o).toMatchObject({
      default: { 2: 0, z: 1, a: 'x', m: [1.5] },
      typ: {
        object: {
          name: null,
          props: [
            { key: '2', typ: 'int' },
            { key: 'z', typ: 'int' },
            { key: 'a', typ: { str: null } },
            { key: 'm', typ: { list: 'float' } },
          ],
        },
      },
    });
    expect(Object.keys(o.default as object)).toEqual(['2', 'z', 'a', 'm']);
    expect(one('a = []')).toMatchObject({ default: [], typ: { list: 'unknown' } });
    expect(one('a = [-1, 2]')).toMatchObject({ default: [-1, 2], typ: { list: 'int' } });
    expect(one('a = [1.0, 2]')).toMatchObject({ default: [1, 2], typ: { list: 'float' } });
    expect(one('o = { a: 60 * 60 }')).toMatchObject({ default: { a: 3600 } });
    // the reference evaluates non-JSON literals as JavaScript: an unknown name or TypeScript-only
    // syntax throws there, and the reference CLI fails the script; so do we
    expect(parseTs('export function main(o = { a: someVar }) {}').error?.message).toMatch(/someVar is not defined/);
    expect(parseTs('export function main(o = { a: 1 as number }) {}').error).toBeDefined();
    expect(one('o = { a: Math.max(1, 2), b: "xy".length }')).toMatchObject({ default: { a: 2, b: 2 } });
    expect(one('o = { f() { return 1; } }')).toMatchObject({ default: null, typ: 'unknown', has_default: true });
  });

  it('one-of unions of labelled object types', () => {
    expect(one('x: { label: "A"; a: string } | { label: "B"; b: number }').typ).toEqual({
      oneof: [
        { label: 'A', properties: [{ key: 'label', typ: { str: ['A'] } }, { key: 'a', typ: { str: null } }] },
        { label: 'B', properties: [{ key: 'label', typ: { str: ['B'] } }, { key: 'b', typ: 'float' }] },
      ],
    });
  });

  it('main detection, preprocessor, invalid signatures', () => {
    expect(parseTs('export function main(a: string) {}').args).toHaveLength(1);
    expect(parseTs('function main(a: string) {}').args).toHaveLength(1);
    expect(parseTs('export const main = (a: string) => a').args).toHaveLength(0);
    expect(parseTs('export const main = (a: string) => a').auto_kind).toBe('lib');
    expect(parseTs('export async function preprocessor() {}\nexport async function main() {}').has_preprocessor).toBe(true);
    // an object pattern is an argument named anonN (checked against the reference parser)
    expect(parseTs('export async function main({ a, b }: { a: string; b: number }) {}').args.map((x) => x.name)).toEqual(['anon1']);
    expect(parseTs('export async function main([a]: string[]) {}').type).toBe('Invalid');
    expect(parseTs('export async function main(...rest: string[]) {}').type).toBe('Invalid');
  });

  it('syntax error gives a 1-based line', () => {
    const out = parseTs('// ok\nexport async function main(a: string {\n  return a;\n}\n');
    expect(out.args).toEqual([]);
    expect(out.has_preprocessor).toBe(false);
    expect(out.error?.line).toBe(2);
    expect(out.error?.message).toBeTruthy();
  });

  it('parseTsAsync works', async () => {
    expect((await parseTsAsync('export function main(x = 1) {}')).args[0]!.typ).toBe('int');
  });

  it('is fast', () => {
    const code = readFileSync(path.join(casesDir, tsCases[0] ?? 'ts_objects.ts'), 'utf8');
    // The CPU time this process spends, not the wall clock: a loaded machine does not fail it.
    const t0 = process.cpuUsage();
    for (let i = 0; i < 1000; i++) parseTs(code + `\n// ${i}\n`);
    const used = process.cpuUsage(t0);
    expect((used.user + used.system) / 1000).toBeLessThan(1500);
  });
});

describe('snake case', () => {
  it('matches the reference boundaries', () => {
    const cases: [string, string][] = [
      ['S3', 's3'],
      ['s3', 's3'],
      ['S3Object', 's3_object'],
      ['S3object', 's3_object'],
      ['s3object', 's3_object'],
      ['ABC', 'abc'],
      ['AaBC', 'aa_bc'],
      ['A_B_C', 'a_b_c'],
      ['S_3', 's_3'],
      ['typeNameHere', 'type_name_here'],
      ['testCase1', 'test_case1'],
      ['Test123Case', 'test123_case'],
      ['Postgresql', 'postgresql'],
      ['UserConfig', 'user_config'],
    ];
    for (const [i, o] of cases) expect(toSnakeCase(i)).toBe(o);
  });
});

describe('tsRelativeImports', () => {
  it('resolves relative and absolute specifiers against the script path', () => {
    const code = `
      import { helper } from "../lib/helper.ts";
      import * as sib from './sibling';
      import thing from "/f/abs/thing.ts";
      import x from "./x.bun.ts";
      export { y } from "./reexp.ts";
      export * from '../other2/all';
      import "./side";
      const dyn = await import("./dyn.ts");
      import _ from "lodash";
      import { z } from "npm:zod";
      import "../lib/helper";
    `;
    expect(tsRelativeImports(code, 'f/other/user')).toEqual([
      'f/abs/thing',
      'f/lib/helper',
      'f/other/dyn',
      'f/other/reexp',
      'f/other/sibling',
      'f/other/side',
      'f/other/x.bun',
      'f/other2/all',
    ]);
  });

  it('ignores comments, strings, templates and regexes', () => {
    const code = `
      // import a from "./commented";
      /* import b from "./block"; */
      const s = 'import c from "./in-string"';
      const t = \`import d from "./in-template" \${ "x" + \`nested \${1}\` } import e from "./tpl2"\`;
      const r = /import f from "\\.\\/regex"/g;
      const ok = 1 / 2; import g from "./real";
      x.import("./member");
    `;
    expect(tsRelativeImports(code, 'u/admin/script')).toEqual(['u/admin/real']);
  });

  it('skips type-only imports', () => {
    const code = `
      import type { A } from "./types";
      import { type B, type C } from "./types2";
      import { type D, e } from "./mixed";
      export type { F } from "./types3";
    `;
    expect(tsRelativeImports(code, 'f/a/b')).toEqual(['f/a/mixed']);
  });
});

describe('tsExternalImports', () => {
  it('extracts npm package names and versions', () => {
    const code = `
      import { format } from "npm:date-fns@3";
      import * as wmill from "windmill-client";
      import { z } from "zod@3.22.4";
      import sub from "lodash/fp";
      import { S3Client } from "@aws-sdk/client-s3@3.400.0/dist";
      import scoped from "@scope/pkg";
      import fs from "fs";
      import fsp from "fs/promises";
      import path from "node:path";
      import { $ } from "bun";
      import jsr from "jsr:@std/path";
      import remote from "https://deno.land/x/mod.ts";
      import rel from "./rel";
      import type { T } from "typeonly";
      export * from "reexported";
      import("dynamic-pkg");
    `;
    expect(tsExternalImports(code)).toEqual([
      { name: '@aws-sdk/client-s3', version: '3.400.0' },
      { name: '@scope/pkg' },
      { name: 'date-fns', version: '3' },
      { name: 'dynamic-pkg' },
      { name: 'lodash' },
      { name: 'reexported' },
      { name: 'windmill-client' },
      { name: 'zod', version: '3.22.4' },
    ]);
  });
});
