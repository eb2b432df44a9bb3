/**
 * Bash jobs, as Windmill runs them: `bash -e <script> <args...>` with the arguments positional
 * in signature order (the `name="$1"` lines), strings as they are and other JSON values as JSON
 * text, a missing one as "". The working directory is the job folder. Result: `./result.json`
 * if the script wrote one (JSON), else `./result.out` (text), else the last line of the output.
 */
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assetDir } from '../assets.js';
import { errorResult, type ExecOutcome } from '../types.js';
import { outcomeOf, shellJobResult } from './common.js';
import type { ExecContext, Executor, ResidentContext } from './index.js';
import { runProcess } from './process.js';
import type { ResidentLaunch } from './resident.js';

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

/**
 * A resident Bash (wmill dev): a bash process that forks a subshell per job (assets.ts
 * bash-resident.sh) instead of starting bash. The arguments go positional in `argNames` order
 * (the caller parses the signature); the job's variables are exported in the subshell.
 */
function bashResident(ctx: ResidentContext): ResidentLaunch {
  const jobDir = join(ctx.dir, 'job');
  const label = ctx.config.bash;
  const script = ctx.job?.file ?? (ctx.job ? join(ctx.dir, 'main.sh') : '');
  if (ctx.job && !ctx.job.file) writeFileSync(script, ctx.job.content);
  return {
    command: { cmd: ctx.config.bash, args: [join(assetDir(), 'bash-resident.sh')], label, key: `bash:${ctx.config.bash}`, sandbox: ctx.config.sandbox },
    script,
    ...(ctx.job?.root ? { root: ctx.job.root } : {}),
    encode: (input) => {
      // What the last job left in its folder goes (usually result.json alone: no rmdir/mkdir).
      let left: string[];
      try {
        left = readdirSync(jobDir);
      } catch {
        mkdirSync(jobDir);
        left = [];
      }
      for (const n of left) rmSync(join(jobDir, n), { recursive: true, force: true });
      const env = Object.entries((input.env ?? {}) as Record<string, string | null>).filter(([k, v]) => v !== null && /^[A-Za-z_][A-Za-z0-9_]*$/.test(k));
      const args = (input.args ?? {}) as Record<string, unknown>;
      const names = Array.isArray(input.argNames) ? (input.argNames as string[]) : [];
      const fields = [String(env.length), ...env.flat().map(String), String(names.length), ...names.map((n) => bashArg(args[n])), String(input.script)];
      // A NUL cannot be passed in a bash argument: cut there, as the shell would.
      return fields.map((f) => `${f.split('\0')[0]}\0`).join('');
    },
    settle: (code, _value, output) => {
      if (code !== 0) {
        const last = output.trimEnd().split('\n').slice(-10).join('\n');
        return { success: false, result: errorResult('ExecutionErr', `${label} exited with code ${code}${last ? `; last log lines:\n${last}` : ''}`) };
      }
      return shellJobResult(jobDir, output);
    },
  };
}

export const bashExecutor: Executor = {
  resident: bashResident,
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
      sandbox: ctx.config.sandbox,
      signal: ctx.signal,
      onOutput: (chunk) => {
        // Only the end of the output matters for the result: keep a bounded tail.
        output = (output + chunk).slice(-64 * 1024);
        tail = output.slice(-2000);
        ctx.log(chunk);
      },
    });
    if (end.spawnError || end.code !== 0) return outcomeOf(end, { ok: false }, 'bash', tail);
    return shellJobResult(ctx.jobDir, output);
  },
};
