// Shared helpers for benchmarks: wall-clock timing of whole commands, medians, ratios.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = resolve(REPO, 'bin/wmill.mjs');

export function timeCmd(cmd, args, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...opts, env: { ...process.env, NO_COLOR: '1', ...(opts.env ?? {}) } });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0 && !opts.allowFail) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr?.slice(0, 500)}`);
  }
  return { ms, ...r };
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function medianOf(n, fn) {
  const xs = [];
  for (let i = 0; i < n; i++) xs.push(fn());
  return median(xs);
}

export const fmt = (ms) => `${ms.toFixed(1)} ms`;
export const ratio = (a, b) => `${(a / b).toFixed(2)}x`;
