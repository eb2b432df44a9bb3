/**
 * Sync tests' tools: our CLI and the real windmill-cli as child processes (async, so a server
 * under test can run in the test process), and a folder read as {relative path: text}.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BIN, REPO } from './workspace.js';

export const REAL_CLI = join(REPO, 'node_modules/windmill-cli/esm/main.js');

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  all: string;
}

// eslint-disable-next-line no-control-regex
const strip = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '');

/**
 * Run `node <args>` in `cwd`. `onOutput` sees the output so far (stdout + stderr) and may kill
 * the process (SIGKILL); `killAfterMs` kills it (SIGKILL) that long after it started. A process
 * still running after `timeoutMs` is killed (the run then reports signal SIGKILL: a hang shows
 * as a failure, not as a stuck test).
 */
export function runNode(
  args: string[],
  cwd: string,
  opts: { env?: Record<string, string>; timeoutMs?: number; killAfterMs?: number; onOutput?: (all: string, kill: () => void) => void } = {},
): Promise<Run> {
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const kill = () => child.kill('SIGKILL');
  child.stdout.on('data', (d) => {
    stdout += d;
    opts.onOutput?.(stdout + stderr, kill);
  });
  child.stderr.on('data', (d) => {
    stderr += d;
    opts.onOutput?.(stdout + stderr, kill);
  });
  const timer = setTimeout(kill, opts.timeoutMs ?? 120_000);
  const killer = opts.killAfterMs !== undefined ? setTimeout(kill, opts.killAfterMs) : undefined;
  return new Promise((resolve) =>
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killer);
      resolve({ code, signal, stdout: strip(stdout), stderr: strip(stderr), all: strip(stdout) + strip(stderr) });
    }),
  );
}

/** Our `wmill` against a server (flags appended). */
export function ours(cwd: string, args: string[], target: { url: string; token: string; ws: string }, opts: Parameters<typeof runNode>[2] = {}): Promise<Run> {
  return runNode([BIN, ...args, '--base-url', target.url, '--token', target.token, '--workspace', target.ws], cwd, opts);
}

/** The real windmill-cli with its profiles in `configDir`. */
export function real(cwd: string, args: string[], configDir: string, opts: Parameters<typeof runNode>[2] = {}): Promise<Run> {
  return runNode([REAL_CLI, ...args], cwd, { ...opts, env: { WMILL_CONFIG_DIR: configDir, ...opts.env } });
}

/** Every file under `dir` (but our `.wmill/` cache), as text. */
export function tree(dir: string, opts: { skip?: (rel: string) => boolean } = {}): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      if (name === '.wmill') continue;
      const p = join(d, name);
      const rel = relative(dir, p);
      if (opts.skip?.(rel)) continue;
      if (statSync(p).isDirectory()) walk(p);
      else out[rel] = readFileSync(p, 'utf8');
    }
  };
  walk(dir);
  return out;
}
