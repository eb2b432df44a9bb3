/**
 * `python3`, resolved once to the real interpreter. Version managers (pyenv, asdf, ...) put a
 * shim first on PATH: a shell script that works out which Python to run and execs it, costing
 * ~70 ms on every start. Jobs, previews, `wmill dev` residents and the schema parser would pay
 * it on each interpreter start, so the shim is asked once (`sys.executable`) and the answer is
 * cached in `<cache>/wmill/python-resolved.json`, keyed by everything the shim decides by: PATH,
 * the shim's own path, PYENV_VERSION / ASDF_PYTHON_VERSION, and the content of the version files
 * it reads (`.python-version` / `.tool-versions` from the job's folder up, and the manager's
 * global `version` file). Change any of them and the shim is asked again.
 *
 * `WMILL_PYTHON` always wins (used as given); a command that is not a script (a real binary or
 * a symlink to one) is used as it is; when anything fails, the plain command is returned.
 * The cache file is validated by shape on read (a bad file is ignored and rewritten); it holds
 * paths only. Cost on a hit: a few stats and two small reads (no zod: preview's start-up).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from './fs.js';
import { userCacheDir } from './cache-dir.js';

const memo = new Map<string, string>();

/** Forget this process's answers (tests; the cache file stays). */
export function clearPythonMemo(): void {
  memo.clear();
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function onPath(cmd: string, path: string): string | undefined {
  for (const dir of path.split(':')) if (dir && isExecutable(`${dir}/${cmd}`)) return `${dir}/${cmd}`;
  return undefined;
}

/** True when the file starts with `#!` (a script: a shim), false for a binary. */
function isScript(p: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(p, 'r');
    const b = Buffer.alloc(2);
    return readSync(fd, b, 0, 2, 0) === 2 && b[0] === 0x23 && b[1] === 0x21;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const readOr = (p: string): string => {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
};

/** What the shim's choice depends on, as one string. */
function shimKey(shim: string, env: NodeJS.ProcessEnv, cwd: string): string {
  const parts = [`PATH=${env.PATH ?? ''}`, `shim=${shim}`, `PYENV_VERSION=${env.PYENV_VERSION ?? ''}`, `ASDF=${env.ASDF_PYTHON_VERSION ?? ''}`];
  for (let d = cwd; ; d = dirname(d)) {
    for (const f of ['.python-version', '.tool-versions']) {
      const t = readOr(join(d, f));
      if (t) parts.push(`${join(d, f)}=${t}`);
    }
    if (dirname(d) === d) break;
  }
  // pyenv: <root>/shims/python3 → <root>/version (PYENV_ROOT when set).
  const root = env.PYENV_ROOT || dirname(dirname(shim));
  parts.push(`global=${readOr(join(root, 'version'))}`);
  return parts.join('\n');
}

function cacheFile(env: NodeJS.ProcessEnv): string | undefined {
  const dir = userCacheDir(env);
  return dir && join(dir, 'python-resolved.json');
}

function readCache(file: string): Record<string, string> {
  try {
    const v: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (!v || typeof v !== 'object' || Array.isArray(v)) return {};
    const out: Record<string, string> = {};
    for (const [k, p] of Object.entries(v)) if (typeof p === 'string' && p.startsWith('/')) out[k] = p;
    return out;
  } catch {
    return {};
  }
}

/**
 * The interpreter to start for `cmd` (default `python3`): WMILL_PYTHON as given, else the real
 * interpreter behind a version-manager shim (cached), else `cmd` itself.
 */
export function resolvePython(cmd = 'python3', env: NodeJS.ProcessEnv = process.env): string {
  if (env.WMILL_PYTHON) return env.WMILL_PYTHON;
  if (cmd.includes('/') || env.WMILL_PYTHON_RESOLVE === '0') return cmd;
  const memoKey = [cmd, env.PATH, env.PYENV_VERSION, env.ASDF_PYTHON_VERSION, env.PYENV_ROOT].join('\0');
  const hit = memo.get(memoKey);
  if (hit) return hit;
  const found = onPath(cmd, env.PATH ?? '');
  if (!found || !isScript(found)) {
    memo.set(memoKey, cmd);
    return cmd;
  }
  // Jobs run in a fresh folder under the temporary directory: the shim decides from there.
  const cwd = tmpdir();
  const key = shimKey(found, env, cwd);
  const file = cacheFile(env);
  const cache = file ? readCache(file) : {};
  const cached = cache[key];
  if (cached && isExecutable(cached)) {
    memo.set(memoKey, cached);
    return cached;
  }
  let real = cmd;
  try {
    const r = spawnSync(found, ['-c', 'import sys; print(sys.executable)'], { cwd, env, encoding: 'utf8', timeout: 10_000 });
    const p = r.status === 0 ? r.stdout.trim() : '';
    if (p.startsWith('/') && isExecutable(p)) {
      real = p;
      // Keep the cache small: entries for other keys beyond a handful are dropped.
      const kept = Object.entries(cache).filter(([k]) => k !== key).slice(-7);
      try {
        if (file) writeFileAtomic(file, `${JSON.stringify(Object.fromEntries([...kept, [key, p]]), null, 1)}\n`);
      } catch {
        /* no writable cache folder: resolved again next time */
      }
    }
  } catch {
    /* the shim failed: use the command as it is */
  }
  memo.set(memoKey, real);
  return real;
}
