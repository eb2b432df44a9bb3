/**
 * The quick TypeScript signature scanner (src/metadata/parsers/typescript-quick.ts) must give
 * exactly what the full parser gives, or undefined (then the caller uses the full parser).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTs, parseTs } from '../src/metadata/parsers/typescript.js';
import { quickParseTs } from '../src/metadata/parsers/typescript-quick.js';
import { parseScriptQuick } from '../src/metadata/parsers/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

beforeAll(async () => {
  await loadTs();
});

/** quick is undefined or deep-equal to parseTs; returns whether quick answered. */
function agree(code: string): boolean {
  const q = quickParseTs(code);
  if (q === undefined) return false;
  expect(q, code).toStrictEqual(parseTs(code));
  return true;
}

describe('quickParseTs: every TypeScript source of the fixtures and corpora', () => {
  const files = [
    // test/fixtures holds the schema-oracle inputs and the conformance corpus's cases.
    ...tsFiles(path.join(repoRoot, 'test/fixtures')),
    ...tsFiles(path.join(repoRoot, 'examples')),
  ];

  it('has sources', () => {
    expect(files.length).toBeGreaterThan(100);
  });

  let quick = 0;
  for (const f of files) {
    it(path.relative(repoRoot, f), () => {
      if (agree(readFileSync(f, 'utf8'))) quick++;
    });
  }

  it('the quick path answers a meaningful share of them', () => {
    // 44 of 140 when written; most of the oracle corpus is deliberately unusual on purpose
    console.log(`quickParseTs answered ${quick} of ${files.length} corpus files`);
    expect(quick).toBeGreaterThanOrEqual(40);
  });
});

// ---- generated corpus -------------------------------------------------------------------------

const TYPES = [
  'string', 'number', 'boolean', 'bigint', 'any', 'unknown', 'object', 'Date', 'Base64', 'Email', 'Sql',
  'string[]', 'number[]', 'boolean[]', 'Date[]', 'string[][]', 'object[]', 'any[]',
  '"a" | "b"', "'x' | 'y' | 'z'", '"only"', '"a" | undefined', '"a" | "b" | undefined', 'undefined | "a" | "b"',
  '"a" | null | "b"', 'string | "a"', 'string | null', 'null | string', 'number | undefined', 'undefined | boolean',
  'Date | null', 'string[] | null', 'string | string[]', 'number[] | number', 'Date | Date[]', 'object | object[]',
  'boolean | boolean[] | null', 'string | number', 'null | undefined', 'null', 'undefined', '"a"[]', '("x")', 'string | string',
];
// ("x") is a parenthesized type: not supported (checked to be undefined below)
const UNSUPPORTED_TYPES = new Set(['("x")']);

const LITERALS = [
  '"x"', "'y'", '""', '"with space / slash"', '0', '5', '1.5', '1.0', '1e3', '2E-2', '12345678901234567890', '-1', '-2.5',
  'true', 'false', 'null', 'undefined', '[]', '[ ]', '{}', '{ }', '["a", "b"]', '[1, 2]', '[1.5, 2]', '[-1, 3]', '[-0]',
  '[true, false]', '[null, 1]', '[1e2]', '[12345678901234567890]',
];

const HEADERS = ['export async function main', 'export function main', 'async function main', 'function main'];
const RETURNS = [
  '', ': Promise<void>', ': Promise<{ ok: boolean; n: number }>', ': Promise<string[]>', ': string | null',
  ': Promise<Array<Record<string, unknown>>>', ': void', ': wmill.Result<Map<string, () => void>>', ': "a" | "b"',
];
const PREAMBLES = [
  '',
  'import * as wmill from "npm:windmill-client@1"\n\n',
  'import * as wmill from "windmill-client";\n// @ts-ignore: fine\nimport { x } from "./lib.ts";\n',
  '// function main(y: number) {}\n/* export function main(z: boolean) {} */\n',
  'const re = /function main\\(/g\nconst s = `function main(${1 + 2}) {}`\nconst t = "function main()"\n',
  'type Unused = { a: string }\ninterface Date { x: number }\nconst half = 10 / 2;\n',
  'export function preprocessor(event: any) {\n  return event\n}\n',
  'function helper(a: number) {\n  return { a, b: [1, 2] }\n}\nconst o = { f() { return 1 } }\n',
  '#!/usr/bin/env bun\n',
  '\ufeffconst tpl = `a${`b${"}"}`}c`\n',
  'export const DEBUG = false\n',
];
const BODIES = [
  '{\n  return 1;\n}\n',
  '{\n  const t = `${a}/${b}`;\n  return (1 + 2) / 3;\n}\n',
  '{ return /\\}/.test("}") ? x! / 2 : { a: [1, 2] }; }\n',
  '{\n  if (true) {\n    function main(q: string) {}\n  }\n}\n',
];
const POSTAMBLES = ['', '\nfunction helper2() {}\n', '\nconst z = 1 // trailing\n'];

/** A small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One parameter: name, name?, name: T, name?: T, name: T = L, name = L. */
function param(name: string, form: number, type: string, lit: string): string {
  switch (form) {
    case 0:
      return name;
    case 1:
      return `${name}?`;
    case 2:
      return `${name}: ${type}`;
    case 3:
      return `${name}?: ${type}`;
    case 4:
      return `${name}: ${type} = ${lit}`;
    default:
      return `${name} = ${lit}`;
  }
}

describe('quickParseTs: generated signatures', () => {
  it('every parameter form × type × default, in each header', () => {
    let n = 0;
    for (const header of HEADERS) {
      for (const type of TYPES) {
        if (UNSUPPORTED_TYPES.has(type)) continue;
        for (let form = 0; form < 6; form++) {
          const lits = form >= 4 ? LITERALS : ['0'];
          for (const lit of lits) {
            if (form < 2 && type !== 'string') continue;
            const code = `${header}(${param('p', form, type, lit)}) {\n  return p;\n}\n`;
            expect(quickParseTs(code), code).toBeDefined();
            agree(code);
            n++;
          }
        }
      }
    }
    expect(n).toBeGreaterThan(1000);
  });

  it('every parameter form × type × default, in each workflow entry point', () => {
    const WF = [
      (ps: string) => `export const main = workflow(async (${ps}) => {\n  return p;\n});\n`,
      (ps: string) => `const main = workflow(async (${ps}): Promise<string> => p)\n`,
      (ps: string) => `export default workflow(async function (${ps}) {\n  return p;\n});\n`,
      (ps: string) => `export var main = workflow(async function run(${ps}) {\n  return p;\n}, {})\nexport const x = 1\n`,
    ];
    let n = 0;
    for (const header of WF) {
      for (const type of TYPES) {
        if (UNSUPPORTED_TYPES.has(type)) continue;
        for (let form = 0; form < 6; form++) {
          const lits = form >= 4 ? LITERALS : ['0'];
          for (const lit of lits) {
            if (form < 2 && type !== 'string') continue;
            const code = header(param('p', form, type, lit));
            expect(quickParseTs(code), code).toBeDefined();
            agree(code);
            expect(quickParseTs(code)!.auto_kind).toBe('wac');
            n++;
          }
        }
      }
    }
    expect(n).toBeGreaterThan(1000);
  });

  it('random combinations (parameters, comments, trailing commas, return types, preambles, bodies)', () => {
    const rand = rng(42);
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    for (let c = 0; c < 600; c++) {
      const count = Math.floor(rand() * 5);
      const params: string[] = [];
      for (let k = 0; k < count; k++) {
        let type = pick(TYPES);
        while (UNSUPPORTED_TYPES.has(type)) type = pick(TYPES);
        let p = param(`arg_${k}`, Math.floor(rand() * 6), type, pick(LITERALS));
        const r = rand();
        if (r < 0.15) p = `/* c${k} */ ${p}`;
        else if (r < 0.3) p = `\n  // about ${k}: function main(x) {\n  ${p}`;
        params.push(p);
      }
      let list = params.join(rand() < 0.5 ? ', ' : ',\n  ');
      if (count && rand() < 0.3) list += ',';
      const code = `${pick(PREAMBLES)}${pick(HEADERS)}(${list})${pick(RETURNS)} ${pick(BODIES)}${pick(POSTAMBLES)}`;
      expect(quickParseTs(code), code).toBeDefined();
      agree(code);
    }
  });

  it('no main declaration: the lib answer, with or without a preprocessor', () => {
    const cases = [
      'export const main = wmill.workflow(async (n: number) => {\n  const a = await task(n);\n  return a / 2;\n});\n',
      'import { workflow, task } from "windmill-client"\n\nexport const run = workflow(async (n: number) => {\n  return `${n}`\n})\n',
      'export function preprocessor(e: any) { return e }\nexport const main = workflow(function (n: number) { return n })\n',
      'export const main = workflow(body);\n',
      'async function preprocessor() {}\n',
      'export async function preprocessor(x: string): Promise<{ a: string }> {\n  return { a: x };\n}\n',
      '',
      '// nothing here\n',
      'export const main = async (a: string) => a;\n',
      'const f = (a: number) => a\nexport { f as main }\n',
      'namespace N {\n  export function main(a: string) {}\n}\n',
      'class A {\n  main(a: string) {}\n  static preprocessor() {}\n}\n',
    ];
    for (const code of cases) {
      expect(quickParseTs(code), code).toBeDefined();
      agree(code);
    }
    expect(quickParseTs(cases[2]!)!.has_preprocessor).toBe(true);
    expect(quickParseTs(cases[0]!)!.auto_kind).toBe('lib');
  });

  it('workflow entry points: the wac answer, with the parameters of the async function passed to workflow()', () => {
    const cases = [
      'export const main = workflow(async (x: string, n: number = 3) => {\n  const a = await task(n);\n  return a / 2;\n});\n',
      'import { workflow, task } from "windmill-client"\n\nexport const main = workflow(async (n: number) => {\n  return `${n}`\n})\n',
      'export function preprocessor(e: any) { return e }\nexport const main = workflow(async () => 1)\n',
      'export const main = workflow(async function (count: number, label?: string) {\n  return count;\n});\n',
      'export const main = workflow(async function named(a: string): Promise<string> {\n  return a;\n});\n',
      'export default workflow(async (url: string, retries = 2) => url);\n',
      'const main = workflow(async (ids: string[]) => ids.length)\nexport { main }\n',
      'export let main = workflow(async (a: "x" | "y" = "x"): Promise<void> => {})\nconst other = workflow(async (b: number) => b)\n',
      'export default workflow(async (a: string) => a);\nexport const main = workflow(async (b: number) => b);\n',
      'export default workflow(async (a: string) => a);\nasync function main(b: number) {\n  return b;\n}\n',
      'async function main(b: number) {\n  return b;\n}\nexport default workflow(async (a: string) => a);\n',
      'export const main = workflow(async (a: string) => a, { retries: 2 });\n',
      'export const main = workflow(\n  // the entry point\n  async (\n    x: string,\n    n: number = 3, // trailing\n  ) => {\n    return x;\n  },\n);\n',
    ];
    for (const code of cases) {
      expect(quickParseTs(code), code).toBeDefined();
      agree(code);
    }
    expect(quickParseTs(cases[0]!)).toMatchObject({ auto_kind: 'wac', args: [{ name: 'x' }, { name: 'n', default: 3 }] });
    expect(quickParseTs(cases[9]!)).toMatchObject({ auto_kind: 'wac', args: [{ name: 'b' }] });
    expect(quickParseTs(cases[10]!)).toMatchObject({ auto_kind: null, args: [{ name: 'b' }] });
  });

  it('workflow entry points it is not sure about: undefined', () => {
    const cases = [
      'export const main: any = workflow(async (a: string) => a);\n',
      'export const v = 1, main = workflow(async (a: string) => a);\n',
      'export const main = workflow<string>(async (a: string) => a);\n',
      'export const main = workflow(async x => x);\n',
      'export const main = workflow(async <T>(x: T) => x);\n',
      'export const main = workflow(async function* (a: string) { yield a });\n',
      'export const main = workflow(async (a: string) => a) as any;\n',
      'export const main = workflow(async (a: string) => a)!;\n',
      'export const main = workflow(async (a: string) => a).x;\n',
      'export const main = workflow(async ({ a }: { a: string }) => a);\n',
      'export const main = workflow((n: number) => n);\n',
      'export const main = workflow((async (a: string) => a));\n',
      'let main;\nmain = workflow(async (a: string) => a);\n',
      'declare const main = workflow(async (a: string) => a);\n',
      'import workflow from "x";\nexport const main = workflow(async (a: string) => a);\n',
    ];
    for (const code of cases) expect(quickParseTs(code), code).toBeUndefined();
  });
});

// ---- adversarial ------------------------------------------------------------------------------

describe('quickParseTs: adversarial inputs', () => {
  const MAIN = 'export async function main(a: string, b = 2) {\n  return a;\n}\n';

  /** Must give the same answer as parseTs (and must answer at all). */
  const handled: Record<string, string> = {
    'main in a block comment': `/*\n${MAIN}*/\nexport const main = workflow(async () => 1);\n`,
    'main in a line comment': `// ${MAIN.split('\n')[0]}\nexport const main = 1;\n`,
    'main in a string': `const s = "export function main(x: number) {}";\nconst t = 'function main(y) {';\n`,
    'main in a template literal': 'const s = `\nexport function main(x: number) {\n`;\n',
    'main in a template literal with substitutions': 'const s = `${ { a: "}" }.a } function main(x: number) { ${`${"`"}`}`;\n',
    'main in a regular expression': 'const re = /function main\\(x: number\\) \\{/;\n',
    'main nested in another function': 'function outer() {\n  function main(x: number) {}\n  return main;\n}\n',
    'main nested in a block': '{\n  function main(x: number) {}\n}\n',
    'main nested in an object method': 'const o = {\n  run() {\n    function main(x: number) {}\n  },\n};\n',
    'main after a nested main': `function outer() {\n  function main(x: number) {}\n}\n${MAIN}`,
    'the workflow form': 'export const main = workflow(async (n: number) => {\n  const r = await step("x", () => n * 2);\n  return r;\n});\n',
    'a preprocessor': `export async function preprocessor(event: { kind: string }) {\n  return { a: "x" };\n}\n${MAIN}`,
    'a non-exported preprocessor after main': `${MAIN}function preprocessor() {}\n`,
    'a nested preprocessor': `${MAIN}function f() {\n  function preprocessor() {}\n}\n`,
    'an @ in comments and strings': `// @ts-ignore\n/** @param a the name */\nconst email = "a@b.c";\n${MAIN}`,
    'imports without semicolons': `import * as wmill from "npm:windmill-client@1"\nimport { a } from "./a.ts"\n\n${MAIN}`,
    'CRLF lines': MAIN.replace(/\n/g, '\r\n'),
    'a byte order mark': `\ufeff${MAIN}`,
    'a hashbang': `#!/usr/bin/env -S bun run\n${MAIN}`,
    'escaped quotes before main': `const s = 'it\\'s "x"';\nconst t = "a\\"b";\n${MAIN}`,
    'nested templates before main': 'const s = `a${`b${1}c`}d${"}"}e`;\n' + MAIN,
    'a regex inside a substitution before main': 'const s = `${/}/.source}`;\n' + MAIN,
    'a division after an identifier before main': `const total = 10;\nconst half = total / 2;\n${MAIN}`,
    'braces in strings before main': `const s = "{";\nconst t = '}';\n${MAIN}`,
    'a local interface named like a special type': `interface Date { x: number }\nexport function main(d: Date, e: Date[] = []) {}\n`,
    'a local alias named like a keyword-free type': `type Mode = "a" | "b";\n${MAIN}`,
    'a return type with an object type argument': 'export async function main(a: string): Promise<{ a: string; b: () => void }> {\n  return { a, b() {} };\n}\n',
    'comments between parameters': 'export function main(\n  // the name\n  a: string, /* count */ b: number = 3, // trailing\n) {}\n',
    'a division and regex in main body then nothing': `${MAIN.replace('return a;', 'return (a.length) / 2 + /x/.exec(a)!.length;')}`,
    'a comment before the name of main': 'export function /* x */ main(a: string) {}\n',
    'main after a statement ending on a number': `const x = 1\n${MAIN}`,
    'main after a statement ending on a closing bracket': `const x = [1]\n${MAIN}`,
  };
  for (const [name, code] of Object.entries(handled)) {
    it(`handles: ${name}`, () => {
      expect(quickParseTs(code), code).toBeDefined();
      agree(code);
    });
  }

  /** Must be undefined (the full parser decides). */
  const unsure: Record<string, string> = {
    'two mains': `${MAIN}function main(x: number) {}\n`,
    'overloads': 'export function main(a: string): void;\nexport function main(a: string, b?: number): void;\nexport function main(a: string, b?: number) {}\n',
    'declare function main': `declare function main(x: number): void;\n${MAIN}`,
    'declare function preprocessor': `declare function preprocessor(): void;\n${MAIN}`,
    'a decorator': `function dec(t: any) {}\n@dec\nclass A {}\n${MAIN}`,
    'a decorator after an uncertain slash': `${MAIN}const x = (1) / 2;\n@dec class B {}\n`,
    'object destructuring': 'export function main({ a, b }: { a: string; b: number }) {}\n',
    'array destructuring': 'export function main([a, b]: string[]) {}\n',
    'a rest parameter': 'export function main(...args: string[]) {}\n',
    'a this parameter': 'export function main(this: any, a: string) {}\n',
    'export default function main': 'export default function main(a: string) {}\n',
    'export default async function main': 'export default async function main(a: string) {}\n',
    'a function expression named main': 'const f = function main(a: string) {};\n',
    'a generic main': 'export function main<T>(a: T) {}\n',
    'a generator main': 'export function* main(a: string) {}\n',
    'a local type': 'type Mode = "a" | "b";\nexport function main(m: Mode) {}\n',
    'a resource type': 'type Postgresql = object;\nexport function main(db: Postgresql) {}\n',
    'Array<string>': 'export function main(a: Array<string>) {}\n',
    'an object type literal': 'export function main(a: { x: number }) {}\n',
    'a leading pipe': 'export function main(a: | "x" | "y") {}\n',
    'a template default': 'export function main(a = `x`) {}\n',
    'an expression default': 'export function main(a = 1 + 2) {}\n',
    'a new Date() default': 'export function main(a: Date = new Date()) {}\n',
    'an escaped string default': 'export function main(a = "a\\nb") {}\n',
    'an object default': 'export function main(a = { x: 1 }) {}\n',
    'a non-JSON array default': "export function main(a = ['x']) {}\n",
    'a trailing comma in an array default': 'export function main(a = [1, 2,]) {}\n',
    'a hex default': 'export function main(a = 0x10) {}\n',
    'an optional parameter with a default': 'export function main(a?: string = "x") {}\n',
    'a modifier': 'export function main(readonly a: string) {}\n',
    'a unicode escape in the name': 'export function m\\u0061in(a: string) {}\n',
    'a no-break space between function and main': 'export function\u00a0main(a: string) {}\n',
    'main after an ambiguous slash': 'const x = (1) / 2;\nexport function main(a: string) {}\n',
    'main after a regex following )': 'if (ok) /\'/.test(s);\nexport function main(a: string) {}\n',
    'main after a non-null division': 'const y = x! / 2;\nexport function main(a: string) {}\n',
    'main after a slash on a new line': 'const y = x\n/ 2;\nexport function main(a: string) {}\n',
    'preprocessor after an ambiguous slash': `${MAIN}const x = (1) / 2;\nfunction preprocessor() {}\n`,
    'main in an if statement': 'if (true) function main(a: string) {}\n',
    'main after a label': 'lbl: function main(a: string) {}\n',
    'main with a comment before its name after an ambiguous slash': 'const x = (1) / 2;\nexport function /* x */ main(a: string) {}\n',
    'a return type predicate': 'export function main(a: unknown): a is string { return true }\n',
    'an object type return': 'export function main(a: string): { a: string } { return { a } }\n',
    'an unterminated template': 'const s = `abc\n' + MAIN,
  };
  for (const [name, code] of Object.entries(unsure)) {
    it(`gives up: ${name}`, () => {
      expect(quickParseTs(code), code).toBeUndefined();
    });
  }

  it('does not report syntax errors elsewhere in the file (documented: preview runs the script next)', () => {
    const code = 'export function main(a: string) {\n  let = ;\n}\n';
    expect(parseTs(code).error).toBeDefined();
    expect(quickParseTs(code)).toStrictEqual({
      star_args: false,
      star_kwargs: false,
      args: [{ name: 'a', otyp: null, typ: { str: null }, default: null, has_default: false, oidx: null }],
      auto_kind: null,
      has_preprocessor: false,
    });
  });
});

// ---- fragments ----------------------------------------------------------------------------------

describe('quickParseTs: random sequences of tricky fragments', () => {
  const FRAGMENTS = [
    'export async function main(a: string, b = 2) { return a }\n',
    'function main(x: number) {}\n',
    'export function preprocessor(e: any) { return e }\n',
    'function preprocessor() {}\n',
    '{ function main(q: boolean) {} }\n',
    'function outer() { function main(z: string) {} }\n',
    '/* function main(c: number) {} */\n',
    '// function main(d: number) {}\n',
    'const s = "function main(e: number) {}";\n',
    'const t = `function main(f: number) ${"{"} `;\n',
    'const u = `${`${"}"}`} function main(g: number) {`;\n',
    'const re = /function main\\(h: number\\) \\{/;\n',
    'const re2 = /[/]/g\n',
    'const d = 10 / 2 / 1;\n',
    'const e = (1) / 2;\n',
    'if (x) /a/.test("b");\n',
    'const w = workflow(async (n: number) => n * 2);\n',
    'export const main = workflow(async (n: number) => { return n });\n',
    'export default workflow(async (q: string) => q);\n',
    'const main = workflow(async function (r: number) { return r })\n',
    'export const main = wmill.workflow(async (s: string) => s);\n',
    'export const main = workflow((t: string) => t);\n',
    'export const main: any = workflow(async (u: string) => u);\n',
    'type A = { main(x: number): void };\n',
    'class C { main(a: string) {} static x = 1 / 2 }\n',
    'const o = { main: function main(a: string) {} };\n',
    'let v = x!\n',
    'const q = a ? /}/ : /{/;\n',
    'x = y\n',
    '(function main(a: string) {})();\n',
    'namespace N { export function main(a: string) {} }\n',
    'async function main(a: "x" | "y" = "x", b?: Date[]) {}\n',
    "const str = 'it\\'s';\n",
    'const arr = [1, 2] / 3;\n',
    'function* gen() { yield /x/ }\n',
    'async function f() { await /x/ }\n',
    '@dec class D {}\n',
    'export default function main(a: string) {}\n',
    'function main(a: string);\n',
  ];

  it('agree with parseTs on every syntactically valid sequence', () => {
    const rand = rng(7);
    let answered = 0;
    for (let c = 0; c < 3000; c++) {
      const n = 1 + Math.floor(rand() * 5);
      let code = '';
      for (let k = 0; k < n; k++) code += FRAGMENTS[Math.floor(rand() * FRAGMENTS.length)];
      const q = quickParseTs(code);
      if (q === undefined) continue;
      const full = parseTs(code);
      if (full.error) continue; // syntax errors: not the quick path's business (see above)
      expect(q, code).toStrictEqual(full);
      answered++;
    }
    expect(answered).toBeGreaterThan(1000);
  });
});

describe('parseScriptQuick (script preview)', () => {
  it('answers TypeScript through the quick scanner, else through the full parser', async () => {
    const simple = 'export async function main(a: string, n = 3) { return a }\n';
    expect(await parseScriptQuick({ id: 'f/x/a', language: 'bun', code: simple })).toStrictEqual(quickParseTs(simple));
    const local = 'type Mode = "a" | "b";\nexport async function main(m: Mode) {}\n';
    expect(quickParseTs(local)).toBeUndefined();
    for (const language of ['bun', 'deno', 'nativets'] as const) {
      expect(await parseScriptQuick({ id: 'f/x/b', language, code: local })).toStrictEqual(parseTs(local));
    }
    const sh = 'name="${1:-x}"\necho "$name"\n';
    const { parseBash } = await import('../src/metadata/parsers/bash.js');
    expect(await parseScriptQuick({ id: 'f/x/c', language: 'bash', code: sh })).toStrictEqual(parseBash(sh));
  });
});
