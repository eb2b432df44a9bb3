/**
 * Bash jobs, as Windmill runs them: `bash -e <script> <args...>` with the arguments positional
 * in signature order (the `name="$1"` lines), strings as they are and other JSON values as JSON
 * text, a missing one as "". The working directory is the job folder. Result: `./result.json`
 * if the script wrote one (JSON), else `./result.out` (text), else the last line of the output.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorResult, type ExecOutcome } from '../types.js';
import { outcomeOf } from './common.js';
import type { ExecContext, Executor } from './index.js';
import { runProcess } from './process.js';

export function bashArg(v: unknown): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

async function signatureOrder(content: string, fallback: string[] | undefined): Promise<string[]> {
  try {
    const { parseBash } = await import('../../metadata/parsers/bash.js');
    const parsed = parseBash(content);
    if (parsed.type !== 'Invalid') return parsed.args.map((a) => a.name);
  } catch {
    /* parser unavailable: use the order the caller gave */
  }
  return fallback ?? [];
}

const nonEmpty = (p: string): boolean => {
  try {
    return statSync(p).size > 0;
  } catch {
    return false;
  }
};

export const bashExecutor: Executor = {
  async run(ctx: ExecContext): Promise<ExecOutcome> {
    let file = ctx.job.file;
    if (!file) {
      file = join(ctx.jobDir, 'main.sh');
      writeFileSync(file, ctx.job.content);
    }
    const names = await signatureOrder(ctx.job.content, ctx.job.argNames);
    const positional = names.map((n) => bashArg(ctx.args[n]));
    let output = '';
    let tail = '';
    const end = await runProcess({
      cmd: ctx.config.bash,
      args: ['-e', file, ...positional],
      cwd: ctx.jobDir,
      env: ctx.env,
      signal: ctx.signal,
      onOutput: (chunk) => {
        // Only the end of the output matters for the result: keep a bounded tail.
        output = (output + chunk).slice(-64 * 1024);
        tail = output.slice(-2000);
        ctx.log(chunk);
      },
    });
    if (end.spawnError || end.code !== 0) return outcomeOf(end, { ok: false }, 'bash', tail);

    const resultJson = join(ctx.jobDir, 'result.json');
    if (nonEmpty(resultJson)) {
      const text = readFileSync(resultJson, 'utf8');
      try {
        return { success: true, result: JSON.parse(text) };
      } catch (e) {
        return { success: false, result: errorResult('ExecutionErr', `result.json is not valid JSON: ${(e as Error).message}`) };
      }
    }
    const resultOut = join(ctx.jobDir, 'result.out');
    if (nonEmpty(resultOut)) return { success: true, result: readFileSync(resultOut, 'utf8') };
    const lines = output.replace(/\n$/, '').split('\n');
    return { success: true, result: (lines[lines.length - 1] ?? '').trim() };
  },
};
