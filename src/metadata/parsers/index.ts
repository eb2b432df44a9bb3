import type { Language } from '../../workspace/languages.js';
import type { ParseOutput } from './types.js';
import { parseBash } from './bash.js';
import { parsePowershell } from './powershell.js';
import { parseSql, parseGraphql } from './sql.js';
import { parseGo } from './go.js';
import { quickParseTs } from './typescript-quick.js';
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../paths.js';

export type { ParseOutput } from './types.js';

export interface ParseRequest {
  id: string;
  language: Language;
  code: string;
}

const TS_LANGS = new Set<Language>(['bun', 'deno', 'nativets']);
const SQL_LANGS = new Set<Language>(['postgresql', 'mysql', 'bigquery', 'snowflake', 'mssql', 'oracledb', 'duckdb']);

export function canInferSchema(language: Language): boolean {
  return language === 'python3' || TS_LANGS.has(language) || SQL_LANGS.has(language) ||
    ['graphql', 'bash', 'powershell', 'go'].includes(language);
}

/**
 * Parse many scripts at once: Python in one child process, TypeScript after a single lazy load
 * of the compiler, the rest synchronously. Languages without a parser are absent from the result.
 */
export async function parseScripts(reqs: ParseRequest[]): Promise<Map<string, ParseOutput>> {
  const out = new Map<string, ParseOutput>();
  const py = reqs.filter((r) => r.language === 'python3');
  const ts = reqs.filter((r) => TS_LANGS.has(r.language));
  const pyPromise = py.length
    ? import('./python.js').then((m) => m.parsePythonBatch(py.map((r) => ({ id: r.id, code: r.code }))))
    : Promise.resolve(new Map<string, ParseOutput>());
  if (ts.length) {
    const m = await import('./typescript.js');
    const [mine, theirs] = splitForWorker(ts);
    const fromWorker = theirs.length ? parseInWorker(theirs) : undefined;
    await m.loadTs();
    for (const r of mine) out.set(r.id, m.parseTs(r.code));
    const got = fromWorker ? await fromWorker : undefined;
    // the worker could not be used: parse its share here (same parser, same answers)
    if (fromWorker && !got) for (const r of theirs) out.set(r.id, m.parseTs(r.code));
    if (got) for (const [id, v] of got) out.set(id, v);
  }
  for (const r of reqs) {
    if (SQL_LANGS.has(r.language)) out.set(r.id, parseSql(r.code, r.language as Parameters<typeof parseSql>[1]));
    else if (r.language === 'graphql') out.set(r.id, parseGraphql(r.code));
    else if (r.language === 'bash') out.set(r.id, parseBash(r.code));
    else if (r.language === 'powershell') out.set(r.id, parsePowershell(r.code));
    else if (r.language === 'go') out.set(r.id, parseGo(r.code));
  }
  for (const [k, v] of await pyPromise) out.set(k, v);
  return out;
}

/**
 * TypeScript scripts a run parses in a worker thread: none below `WMILL_METADATA_PARALLEL` (default
 * 200) stale TypeScript scripts or on one core, else the second half (the main thread parses the
 * first). Measured on the 2-core machine (bench/metadata.mjs): a worker costs ~40 ms to start plus
 * ~85 ms to load the compiler, and parsing takes ~0.5 ms per script, so it pays from a few hundred
 * scripts on. `WMILL_METADATA_PARALLEL=0` turns it off.
 */
function splitForWorker<T>(ts: T[]): [T[], T[]] {
  const min = Number(process.env.WMILL_METADATA_PARALLEL ?? 200);
  if (!(min > 0) || ts.length < min || availableParallelism() < 2) return [ts, []];
  const half = Math.ceil(ts.length / 2);
  return [ts.slice(0, half), ts.slice(half)];
}

/** Parse in a worker thread (dist/parse-worker.mjs); undefined when it cannot be used. */
async function parseInWorker(reqs: ParseRequest[]): Promise<[string, ParseOutput][] | undefined> {
  let file: string;
  try {
    file = join(packageRoot(), 'dist', 'parse-worker.mjs');
  } catch {
    return undefined;
  }
  if (!existsSync(file)) return undefined; // running from src/ without a build
  const { Worker } = await import('node:worker_threads');
  return new Promise((resolve) => {
    const w = new Worker(file);
    const done = (v: [string, ParseOutput][] | undefined) => {
      resolve(v);
      void w.terminate();
    };
    w.once('message', (m: { ok?: [string, ParseOutput][]; error?: string }) => done(m.ok));
    w.once('error', () => done(undefined));
    w.once('exit', () => done(undefined));
    w.postMessage(reqs.map((r) => ({ id: r.id, code: r.code })));
  });
}

/**
 * One script's signature, for `wmill script preview` (the edit → preview loop): TypeScript first
 * through the quick scanner (./typescript-quick.ts), which answers the everyday signatures
 * exactly as the full parser does without loading the TypeScript compiler (~600 ms), but does
 * not look for syntax errors elsewhere in the file (the run that follows reports them); else
 * as `parseScripts`. generate-metadata keeps using `parseScripts`.
 */
export async function parseScriptQuick(req: ParseRequest): Promise<ParseOutput | undefined> {
  if (TS_LANGS.has(req.language)) {
    const quick = quickParseTs(req.code);
    if (quick) return quick;
  }
  return (await parseScripts([req])).get(req.id);
}

/** Relative imports (Windmill paths) of a script, for the importers graph. */
export async function relativeImports(language: Language, code: string, scriptPath: string): Promise<string[]> {
  if (language === 'python3') return (await import('./python.js')).pythonRelativeImports(code, scriptPath);
  if (TS_LANGS.has(language)) return (await import('./typescript.js')).tsRelativeImports(code, scriptPath);
  return [];
}
