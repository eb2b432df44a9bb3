/**
 * What sync and workspace resolution ask of git, through simple-git (loaded only when asked, so
 * commands that never look at git do not pay for it): the current branch, and which files have
 * changes not committed (modified, staged, deleted or untracked). Outside a git work tree both
 * answer null / an empty list; a missing `git` binary counts as "not a git work tree".
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** The top of the git work tree holding `dir` (a `.git` file or folder), or null. */
export function gitTop(dir: string): string | null {
  let d = resolve(dir);
  for (;;) {
    if (existsSync(join(d, '.git'))) return d;
    const up = dirname(d);
    if (up === d) return null;
    d = up;
  }
}

async function git(dir: string) {
  const { simpleGit } = await import('simple-git');
  return simpleGit({ baseDir: dir, binary: 'git', maxConcurrentProcesses: 2 });
}

/** The checked-out branch (as `git rev-parse --abbrev-ref HEAD`), or null (not a repository, detached head). */
export async function currentBranch(dir: string): Promise<string | null> {
  if (!gitTop(dir)) return null;
  try {
    const b = (await (await git(dir)).revparse(['--abbrev-ref', 'HEAD'])).trim();
    return b && b !== 'HEAD' ? b : null;
  } catch {
    return null;
  }
}

/**
 * Files under `root` (paths relative to it, `/`-separated) that differ from the last commit:
 * modified or deleted in the work tree or the index, renamed, or untracked (not ignored).
 */
export async function uncommittedFiles(root: string): Promise<string[]> {
  const top = gitTop(root);
  if (!top) return [];
  let status;
  try {
    status = await (await git(root)).status(['--untracked-files=all', '--', '.']);
  } catch {
    return [];
  }
  const out = new Set<string>();
  // simple-git reports paths relative to the work tree's top.
  for (const f of status.files) {
    for (const p of [f.path, (f as { from?: string }).from].filter((x): x is string => !!x)) {
      const rel = relative(root, join(top, p)).split(sep).join('/');
      if (!rel.startsWith('..')) out.add(rel);
    }
  }
  return [...out].sort();
}
