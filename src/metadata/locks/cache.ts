/**
 * The on-disk caches behind locks, under `$WMILL_CACHE_DIR` or `$XDG_CACHE_HOME/wmill`
 * (default `~/.cache/wmill`):
 * - `resolutions/<sha256(key)>.json`: one resolved lock per normalized dependency request and
 *   registry/index configuration, so scripts that share imports share the work, across runs.
 * - `installs/<kind>/<sha256(lock)>/`: content-addressed installs made from a lock (see install.ts).
 * Every write is atomic (temp + rename): concurrent runs never see a half-written entry.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { writeFileAtomic } from '../../util/fs.js';
import { sha256 } from '../hash.js';

export function cacheRoot(): string {
  if (process.env.WMILL_CACHE_DIR) return process.env.WMILL_CACHE_DIR;
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg && xdg.trim() ? xdg : join(homedir(), '.cache'), 'wmill');
}

interface CachedResolution {
  key: string;
  lock: string;
}

/** A cached lock for this exact request key, or null. A damaged entry counts as a miss. */
export function readResolution(key: string): string | null {
  const file = join(cacheRoot(), 'resolutions', `${sha256(key)}.json`);
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as CachedResolution;
    return v.key === key && typeof v.lock === 'string' ? v.lock : null;
  } catch {
    return null;
  }
}

export function writeResolution(key: string, lock: string): void {
  const file = join(cacheRoot(), 'resolutions', `${sha256(key)}.json`);
  try {
    writeFileAtomic(file, JSON.stringify({ key, lock } satisfies CachedResolution));
  } catch {
    /* a read-only cache only costs speed */
  }
}

/**
 * Create `final` by filling a fresh sibling temp dir with `fill`, then renaming it into place.
 * When another process (or call) wins the race, its directory is used and ours is removed.
 */
export async function materializeDir(final: string, fill: (tmp: string) => Promise<void>): Promise<string> {
  if (existsSync(final)) return final;
  const parent = join(final, '..');
  mkdirSync(parent, { recursive: true });
  const tmp = mkdtempSync(join(parent, '.tmp-'));
  try {
    await fill(tmp);
    try {
      renameSync(tmp, final);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'EPERM') && existsSync(final)) {
        rmSync(tmp, { recursive: true, force: true });
        return final;
      }
      throw e;
    }
    return final;
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when the program could not be started (e.g. ENOENT). */
  spawnError?: NodeJS.ErrnoException;
}

/** Run a program without a shell; never rejects (failures are in the result). */
export function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(cmd, args, {
        cwd: opts.cwd,
        env: opts.env ?? process.env,
        stdio: ['ignore', 'pipe', 'pipe'],
        signal: opts.signal,
        timeout: opts.timeoutMs,
      });
    } catch (e) {
      resolve({ code: null, stdout: '', stderr: '', spawnError: e as NodeJS.ErrnoException });
      return;
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let spawnError: NodeJS.ErrnoException | undefined;
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => {
      spawnError = e;
    });
    child.on('close', (code) => {
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), spawnError });
    });
  });
}

/** Run `n` async tasks with at most `limit` in flight. */
export async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!);
    }
  });
  await Promise.all(workers);
}
