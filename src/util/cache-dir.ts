import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The folder wmill keeps per-user caches in (the resolved python3, the TypeScript compiler's V8
 * code cache): `$WMILL_CACHE_DIR`, else `$XDG_CACHE_HOME/wmill` (an absolute one), else
 * `~/.cache/wmill`; undefined when `WMILL_CACHE_DIR=off`. A cache only saves time: every reader
 * copes with it missing, stale or unwritable.
 */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.WMILL_CACHE_DIR === 'off') return undefined;
  if (env.WMILL_CACHE_DIR) return env.WMILL_CACHE_DIR;
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg && xdg.startsWith('/') ? xdg : join(env.HOME || homedir(), '.cache'), 'wmill');
}
