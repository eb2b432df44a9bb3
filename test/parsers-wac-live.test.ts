/**
 * Workflow-as-code entry points against the reference TypeScript and Python parsers themselves
 * (windmill-parser-wasm-ts / -py, the versions windmill-cli 1.819.0 depends on, found through the
 * real CLI in node_modules: a client under test, never imported by the product). Generated
 * variants of the entry-point forms, mixed with `function main` declarations before and after,
 * must give the same answer from parseTs (and from the quick scanner when it answers) and from
 * our Python parser. The recorded corpus (parsers-oracle.test.ts) holds the hand-written cases.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parsePythonBatch } from '../src/metadata/parsers/python.js';
import { quickParseTs } from '../src/metadata/parsers/typescript-quick.js';
import { loadTs, parseTs } from '../src/metadata/parsers/typescript.js';
import { REPO } from './helpers/workspace.js';

type Parse = (code: string) => Record<string, any>;

/** The reference parser package `name`, resolved from the real CLI's own dependencies. */
function referencePackage(name: string): string | undefined {
  try {
    const cliPkg = createRequire(join(REPO, 'package.json')).resolve('windmill-cli/package.json');
    const dir = dirname(createRequire(cliPkg).resolve(`${name}/package.json`));
    return existsSync(join(dir, 'windmill_parser_wasm_bg.wasm')) ? dir : undefined;
  } catch {
    return undefined;
  }
}

async function loadReference(name: string, fn: string): Promise<Parse | undefined> {
  const dir = referencePackage(name);
  if (!dir) return undefined;
  const m = await import(pathToFileURL(join(dir, 'windmill_parser_wasm.js')).href);
  m.initSync({ module: readFileSync(join(dir, 'windmill_parser_wasm_bg.wasm')) });
  return (code: string) => {
    try {
      return JSON.parse(m[fn](code));
    } catch (e) {
      return { __throws: String(e) };
    }
  };
}

const comparable = (o: Record<string, any>) =>
  JSON.parse(
    JSON.stringify({
      type: o.type ?? null,
      has_preprocessor: o.has_preprocessor ?? null,
      auto_kind: o.auto_kind ?? null,
      args: (o.args ?? []).map((a: any) => ({ name: a.name, typ: a.typ, default: a.default, has_default: a.has_default, otyp: a.otyp ?? null })),
    }),
  );

// ---- generated TypeScript entry points ---------------------------------------------------------

const PARAMS = ['', 'x: string', 'x: string, n: number = 3', 'count: number, label?: string', 'a = 1, b = "s", c: "p" | "q" = "p"', 'ids: string[], opts?: { dry: boolean }', 'x'];
const ENTRIES: ((ps: string) => string)[] = [
  (ps) => `export const main = workflow(async (${ps}) => {\n  return 1;\n});\n`,
  (ps) => `export const main = workflow(async function (${ps}) {\n  return 1;\n});\n`,
  (ps) => `export const main = workflow(async function named(${ps}): Promise<number> {\n  return 1;\n});\n`,
  (ps) => `const main = workflow(async (${ps}) => 1)\n`,
  (ps) => `export let main = workflow(async (${ps}) => 1, { x: 1 });\n`,
  (ps) => `export default workflow(async (${ps}) => 1);\n`,
  (ps) => `export default workflow(async function (${ps}) { return 1; });\n`,
  (ps) => `export const main = workflow<number>(async (${ps}) => 1);\n`,
  (ps) => `export const main = workflow(((async (${ps}) => 1)));\n`,
  // not entry points for the reference
  (ps) => `export const main = wmill.workflow(async (${ps}) => 1);\n`,
  (ps) => `export const main = async (${ps}) => 1;\n`,
  (ps) => `export const main = workflow((${ps}) => 1);\n`,
  (ps) => `export const run = workflow(async (${ps}) => 1);\n`,
  (ps) => `export const main = (workflow(async (${ps}) => 1));\n`,
  (ps) => `export const main = workflow(async (${ps}) => 1) as any;\n`,
];
const AROUND: [string, string][] = [
  ['', ''],
  ['import { workflow, task, step } from "windmill-client";\nconst t = task(async (q: string) => q);\n\n', ''],
  ['export async function main(first: boolean) {\n  return first;\n}\n', ''],
  ['', '\nasync function main(after: number) {\n  return after;\n}\n'],
  ['export async function preprocessor(e: any) {\n  return e;\n}\n', '\nexport default workflow(async (other: Date) => other);\n'],
  ['', '\nexport function main(decl: string): string;\n'],
];

function tsVariants(): string[] {
  const out: string[] = [];
  for (const e of ENTRIES) for (const p of PARAMS) for (const [pre, post] of AROUND) out.push(`${pre}${e(p)}${post}`);
  return out;
}

// ---- generated Python entry points -------------------------------------------------------------

const PY_IMPORTS = ['from wmill import workflow, task\n', 'import wmill\n', 'from wmill import *\n', ''];
const PY_DECOS = ['@workflow', '@workflow()', '@wmill.workflow', '@task\n@workflow'];
const PY_DEFS = ['async def main', 'def main', 'async def flow'];
const PY_PARAMS = ['x: str, n: int = 3', 'count: int, label: Optional[str] = None', ''];

function pyVariants(): string[] {
  const out: string[] = [];
  for (const imp of PY_IMPORTS) for (const deco of PY_DECOS) for (const def of PY_DEFS) for (const ps of PY_PARAMS) {
    const extra = def.endsWith('flow') ? '\n\ndef main(y: int):\n    return y\n' : '';
    out.push(`${imp}\n\n${deco}\n${def}(${ps}):\n    return 1\n${extra}`);
  }
  return out;
}

let refTs: Parse | undefined;
let refPy: Parse | undefined;
beforeAll(async () => {
  [refTs, refPy] = await Promise.all([loadReference('windmill-parser-wasm-ts', 'parse_deno'), loadReference('windmill-parser-wasm-py', 'parse_python')]);
  await loadTs();
});

describe('workflow entry points: our parsers against the reference parsers, live', () => {
  it('TypeScript: parseTs and the quick scanner give the reference answer', (ctx) => {
    if (!refTs) return ctx.skip('windmill-parser-wasm-ts is not installed (a dependency of the windmill-cli dev dependency)');
    const cases = tsVariants();
    let wac = 0;
    let quick = 0;
    for (const code of cases) {
      const ref = refTs(code);
      const ours = parseTs(code);
      if (typeof ref.__throws === 'string') {
        expect(ours.error, code).toBeDefined();
        continue;
      }
      expect(comparable(ours), code).toEqual(comparable(ref));
      if (ref.auto_kind === 'wac') wac++;
      const q = quickParseTs(code);
      if (q) {
        quick++;
        expect(q, code).toStrictEqual(ours);
      }
    }
    expect(cases.length).toBeGreaterThan(500);
    // the generated set exercises both answers, and the quick scanner takes a fair share
    expect(wac).toBeGreaterThan(150);
    expect(quick).toBeGreaterThan(150);
  });

  it('Python: the @workflow forms give the reference answer', async (ctx) => {
    if (!refPy) return ctx.skip('windmill-parser-wasm-py is not installed (a dependency of the windmill-cli dev dependency)');
    const cases = pyVariants();
    const ours = await parsePythonBatch(cases.map((code, i) => ({ id: String(i), code })));
    let wac = 0;
    cases.forEach((code, i) => {
      const ref = refPy!(code);
      expect(comparable(ours.get(String(i))!), code).toEqual(comparable(ref));
      if (ref.auto_kind === 'wac') wac++;
    });
    expect(wac).toBeGreaterThan(20);
  });
});
