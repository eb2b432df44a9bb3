import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorResult, type ExecOutcome } from '../types.js';
import type { ExecContext, PrewarmContext, Prewarmed } from './index.js';
import { startProcess, type ProcessEnd, type ProcessHandle, type SpawnSpec } from './process.js';
import type { SandboxConfig } from './sandbox.js';

const TAIL = 2000;

/** How to start a wrapper process (src/runner/assets.ts protocol) for a job folder. */
export interface WrapperCommand {
  cmd: string;
  args: string[];
  env?: Record<string, string | undefined>;
  /** What the process is ("node (tsx)", "python3"): named in error messages. */
  label: string;
  /** Identifies the interpreter set-up; a prewarmed process is adopted only if its key matches. */
  key: string;
  /** The job sandbox the process starts in (RunnerConfig.sandbox). */
  sandbox?: SandboxConfig;
}

export const resultPath = (jobDir: string): string => join(jobDir, 'result.json');

/**
 * A file the job wrote in its folder, read by the server: never through a symlink (a sandboxed job
 * could point result.json at a file only the server may read, and get it back as its result).
 */
export function readJobFile(path: string): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    if (!fstatSync(fd).isFile()) throw new Error(`${path} is not a regular file`);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

const nonEmpty = (p: string): boolean => {
  try {
    return lstatSync(p).size > 0;
  } catch {
    return false;
  }
};

/**
 * The result of a finished shell job (Bash, PowerShell) from its folder and output:
 * `./result.json` if the script wrote one (JSON), else `./result.out` (text), else the last line
 * of the output. The files are read without following links (readJobFile).
 */
export function shellJobResult(jobDir: string, output: string): ExecOutcome {
  const resultJson = join(jobDir, 'result.json');
  if (nonEmpty(resultJson)) {
    const text = readJobFile(resultJson);
    try {
      return { success: true, result: JSON.parse(text) };
    } catch (e) {
      return { success: false, result: errorResult('ExecutionErr', `result.json is not valid JSON: ${(e as Error).message}`) };
    }
  }
  const resultOut = join(jobDir, 'result.out');
  if (nonEmpty(resultOut)) return { success: true, result: readJobFile(resultOut) };
  const lines = output.replace(/\r?\n$/, '').split(/\r?\n/);
  return { success: true, result: (lines[lines.length - 1] ?? '').trim() };
}

export function readResultFile(path: string): { ok: true; value: unknown } | { ok: false; text?: string } {
  let text: string;
  try {
    text = readJobFile(path);
  } catch {
    return { ok: false };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, text };
  }
}

function spawnSpec(w: WrapperCommand, jobDir: string, env: Record<string, string | undefined>): SpawnSpec {
  return { cmd: w.cmd, args: w.args, cwd: jobDir, env: { ...env, ...w.env }, sandbox: w.sandbox };
}

/** Start the wrapper before the job is known. */
export function prewarmWrapper(ctx: PrewarmContext, w: WrapperCommand): Prewarmed {
  return { handle: startProcess(spawnSpec(w, ctx.jobDir, ctx.env)), jobDir: ctx.jobDir, key: w.key };
}

/**
 * Run a job through its wrapper: adopt the prewarmed process when it matches, else start one;
 * send the job on stdin; map exit status and result.json to an outcome.
 */
export async function runWrapped(ctx: ExecContext, w: WrapperCommand, script: string): Promise<ExecOutcome> {
  let handle: ProcessHandle;
  if (ctx.prewarmed && ctx.prewarmed.key === w.key && ctx.prewarmed.jobDir === ctx.jobDir) handle = ctx.prewarmed.handle;
  else {
    ctx.prewarmed?.handle.kill();
    handle = startProcess(spawnSpec(w, ctx.jobDir, ctx.env));
  }
  let tail = '';
  handle.attach((chunk) => {
    tail = (tail + chunk).slice(-TAIL);
    ctx.log(chunk);
  });
  handle.bindSignal(ctx.signal);
  handle.send(
    JSON.stringify({ script, args: ctx.args, argNames: ctx.job.argNames ?? null, root: ctx.job.root ?? null, env: ctx.jobVars, wac: ctx.job.wac ?? null }),
  );
  const end = await handle.done;
  return outcomeOf(end, readResultFile(resultPath(ctx.jobDir)), w.label, tail);
}

export function outcomeOf(end: ProcessEnd, file: ReturnType<typeof readResultFile>, label: string, tail: string): ExecOutcome {
  if (end.spawnError) {
    const hint = end.spawnError.code === 'ENOENT' ? ` (is '${label}' installed and on PATH?)` : '';
    return { success: false, result: errorResult('ExecutionErr', `could not start ${label}: ${end.spawnError.message}${hint}`) };
  }
  if (end.code === 0 && file.ok) return { success: true, result: file.value };
  if (file.ok && file.value && typeof file.value === 'object' && 'error' in file.value) {
    return { success: false, result: file.value };
  }
  const how = end.signal ? `was killed by ${end.signal}` : `exited with code ${end.code}`;
  const last = tail.trimEnd().split('\n').slice(-10).join('\n');
  return {
    success: false,
    result: errorResult('ExecutionErr', `${label} ${how}${last ? `; last log lines:\n${last}` : ''}`),
  };
}
