/**
 * The one gate for reading a file of a workspace folder: a root-relative file or a file
 * reference (`!inline <file>` in a resource, a script's `lock`, a flow step's `content`) is
 * resolved against the sync root, and refused (usage error, exit 2, one line naming the file
 * and the reference) when it leaves it: an absolute path, `..` climbing above the root, or a
 * symlink (of the file or of a folder on the way) whose real target is outside the root. A
 * reference to something that is not a regular file (a folder, a FIFO, a device) is refused
 * too: reading it would fail or block.
 *
 * Callers read the returned absolute path themselves (each keeps its own decoding), and a
 * missing file is theirs to report: resolving it reads nothing.
 *
 * Cost: one lstat per file (folders' real paths are resolved once per process), about what an
 * extra stat of each file costs; pushes of unchanged items do not read them (the sync cache).
 */
import { existsSync, lstatSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, posix, resolve, sep, win32 } from 'node:path';
import { WmillError } from '../errors.js';

/** Where a reference was written: the root-relative file holding it and the reference as written. */
export interface RefSite {
  from: string;
  ref: string;
}

/** Real paths of folders, resolved once per process (the CLI reads a folder tree once). */
const realDirs = new Map<string, string>();

function realDir(dir: string): string {
  let r = realDirs.get(dir);
  if (r === undefined) {
    r = realpathSync.native(dir);
    if (realDirs.size > 10_000) realDirs.clear();
    realDirs.set(dir, r);
  }
  return r;
}

const realRoot = realDir;

const inside = (real: string, rootReal: string) => real === rootReal || real.startsWith(rootReal.endsWith(sep) ? rootReal : rootReal + sep);

function refused(site: RefSite | undefined, rel: string, why: string, fix: string): WmillError {
  const msg = site ? `${site.from}: '${site.ref}' ${why}; ${fix}` : `${rel}: ${why}; ${fix}`;
  return new WmillError('usage', msg, site ? { file: site.from, ref: site.ref } : { file: rel });
}

/**
 * The absolute path of `target`, a path relative to the root-relative folder `dir` ('' for the
 * root), after checking it stays inside `root`. `site` names the referencing file in messages;
 * without it `target` is a file found in the folder (a script, a metadata file).
 */
export function resolveInRoot(root: string, dir: string, target: string, site?: RefSite): string {
  if (target.includes('\0')) throw refused(site, target, 'contains a NUL character', 'fix the reference');
  if (isAbsolute(target) || win32.isAbsolute(target)) {
    throw refused(site, target, 'is an absolute path, and nothing outside the sync root is read', 'refer to a file inside the workspace folder by a path relative to it');
  }
  const rel = posix.normalize(posix.join(dir || '.', target));
  if (rel === '..' || rel.startsWith('../')) {
    throw refused(site, target, `points outside the sync root (to ${rel})`, 'keep the file inside the workspace folder and refer to it from there');
  }
  const abs = join(root, rel);
  // The real path: the folder's (cached: a workspace has few folders) plus the file's own
  // name, unless the file is itself a link. One lstat per file in the usual case.
  let st;
  let real: string;
  try {
    const dirReal = realDir(posix.dirname(rel) === '.' ? root : join(root, posix.dirname(rel)));
    st = lstatSync(abs);
    real = st.isSymbolicLink() ? realpathSync.native(abs) : join(dirReal, posix.basename(rel));
    if (st.isSymbolicLink()) st = statSync(real);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // Missing (or a dangling link): nothing is read; the caller reports it.
    if (code === 'ENOENT' || code === 'ENOTDIR') return abs;
    throw e;
  }
  if (!inside(real, realRoot(root))) {
    const why = site ? `resolves through a symlink to ${real}, outside the sync root` : `is a symlink to ${real} (or inside a linked folder), outside the sync root`;
    throw refused(site, rel, why, 'copy the file into the workspace folder instead of linking to it');
  }
  if (!st.isFile()) {
    throw refused(site, rel, `${site ? 'points to' : 'is'} ${st.isDirectory() ? 'a folder' : 'a special file'}, not a regular file`, 'refer to a file');
  }
  return abs;
}

/** A file found in the folder (root-relative path): its absolute path, checked as above. */
export function safePath(root: string, rel: string): string {
  return resolveInRoot(root, '', rel);
}

/**
 * A reference tried against several folders in turn (e.g. the root, then the referencing file's
 * folder): the absolute path of the first existing candidate inside the root, or undefined when
 * none exists. A candidate that leaves the root is skipped; when no candidate exists, the first
 * refusal is thrown (so an escaping reference is never silently ignored).
 */
export function findInRoot(root: string, dirs: string[], target: string, site: RefSite): string | undefined {
  let refusal: unknown;
  for (const dir of dirs) {
    let abs: string;
    try {
      abs = resolveInRoot(root, dir, target, site);
    } catch (e) {
      refusal ??= e;
      continue;
    }
    if (existsSync(abs)) return abs;
  }
  if (refusal) throw refusal;
  return undefined;
}

/**
 * Before writing or removing the root-relative file `rel` (sync pull): refuse (usage error, exit
 * 2, naming the file) when it is not inside the root as written (absolute, `..`), or when a
 * component on the way, or the file itself, is a symlink whose target is outside the root (a
 * write would land there, or a folder there would be emptied). Links inside the root are fine.
 */
export function checkWriteInRoot(root: string, rel: string): void {
  const fix = 'remove the link (or replace it with a real folder or file) and pull again';
  if (rel.includes('\0') || isAbsolute(rel) || win32.isAbsolute(rel)) throw refused(undefined, rel, 'is not a path inside the sync root', 'the server sent an invalid path');
  const norm = posix.normalize(rel);
  if (norm === '..' || norm.startsWith('../')) throw refused(undefined, rel, 'points outside the sync root', 'the server sent an invalid path');
  const rootReal = realRoot(root);
  let cur = root;
  for (const part of norm.split('/')) {
    cur = join(cur, part);
    let st;
    try {
      st = lstatSync(cur);
    } catch {
      return; // from here on, created fresh
    }
    if (!st.isSymbolicLink()) continue;
    let target: string;
    try {
      target = realpathSync.native(cur);
    } catch {
      target = resolve(dirname(cur), readlinkSync(cur)); // dangling: where it points
    }
    if (!inside(target, rootReal)) {
      const at = cur.slice(root.length + 1);
      throw refused(undefined, rel, `would be written through the symlink ${at} to ${target}, outside the sync root; nothing was written`, fix);
    }
  }
}
