/**
 * What a fresh clone of this repository holds: the files git tracks (as they are in the working
 * tree), copied into a temp folder, without node_modules, dist or anything else left over. For
 * the packaging and pre-commit tests, so they see what a user's clone (or pre-commit's) sees.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readlinkSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO } from './workspace.js';

/** The tracked files of the repository, or undefined when it is not a git checkout. */
export function trackedFiles(): string[] | undefined {
  const r = spawnSync('git', ['ls-files', '-z', '--cached'], { cwd: REPO, encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  return r.stdout.split('\0').filter(Boolean);
}

/** A copy of the tracked files in a new temp folder (files deleted in the working tree are left out). */
export function cleanCopy(prefix = 'wmill-clean-'): string {
  const files = trackedFiles();
  if (!files) throw new Error(`${REPO} is not a git checkout (git ls-files failed)`);
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const f of files) {
    const from = join(REPO, f);
    if (!existsSync(from)) continue;
    const to = join(dir, f);
    mkdirSync(dirname(to), { recursive: true });
    if (lstatSync(from).isSymbolicLink()) symlinkSync(readlinkSync(from), to);
    else copyFileSync(from, to);
  }
  return dir;
}

/**
 * `npm <args>` from the local cache only (`--offline`), and when the cache lacks something (a
 * clean machine's cache has the tarballs `npm ci` fetched but not the registry's package
 * documents), once more with `--prefer-offline` (the registry only for what is missing).
 */
export function npmCached(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): SpawnSyncReturns<string> {
  const run = (mode: string) => spawnSync('npm', [...args, mode, '--no-audit', '--no-fund'], { cwd, encoding: 'utf8', env, timeout: 300_000 });
  const r = run('--offline');
  if (r.status === 0 || !/ENOTCACHED/.test(`${r.stdout}${r.stderr}`)) return r;
  return run('--prefer-offline');
}
