/**
 * Content-addressed installs made from a lock, for the runner:
 * `$cache/installs/node/<sha256(lock)>/node_modules` and `$cache/installs/python/<sha256(lock)>/`
 * (a pip `--target` folder to put on `sys.path`). An install is made in a temp folder and renamed
 * into place, so concurrent callers (threads or processes) are safe: the first rename wins and
 * the others use the winner's folder.
 */
import { join } from 'node:path';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { WorkspaceConfig } from '../../workspace/config.js';
import type { Language } from '../../workspace/languages.js';
import { sha256 } from '../hash.js';
import { cacheRoot, materializeDir, run } from './cache.js';
import { npmSettings, parseBunLock, ResolveError, splitIdent } from './npm.js';
import { pinnedVersions, pipSettings } from './pip.js';
import { lockKindOf } from './request.js';

export interface InstallOptions {
  /** The workspace whose registry/index configuration applies (.npmrc, wmill.yaml `python:`/`npm:`). */
  cfg?: WorkspaceConfig;
  findLinks?: string[];
  signal?: AbortSignal;
}

const inflight = new Map<string, Promise<string>>();

function bareConfig(): WorkspaceConfig {
  const root = process.cwd();
  return { root, file: null, defaultTs: 'bun', includes: [], excludes: [], extraIncludes: [], nonDottedPaths: false, raw: {} };
}

/** The folder a lock installs into (it may not exist yet). */
export function installDirFor(language: Language, lockText: string): string {
  const kind = lockKindOf(language);
  if (!kind) throw new ResolveError(`no local installs for ${language}`);
  return join(cacheRoot(), 'installs', kind === 'npm' ? 'node' : 'python', sha256(lockText));
}

/**
 * Make sure the packages of `lockText` are installed; returns the folder. Node: the folder holds
 * `package.json`, `package-lock.json` and `node_modules/`. Python: the folder is the `--target`.
 */
export function ensureInstalled(language: Language, lockText: string, opts: InstallOptions = {}): Promise<string> {
  const dir = installDirFor(language, lockText);
  let p = inflight.get(dir);
  if (!p) {
    p = materializeDir(dir, (tmp) => (lockKindOf(language) === 'npm' ? installNode(tmp, lockText, opts) : installPython(tmp, lockText, opts)));
    inflight.set(dir, p);
    p.then(
      () => inflight.delete(dir),
      () => inflight.delete(dir),
    );
  }
  return p;
}

/** Same as ensureInstalled without the in-process de-duplication (tests: racing installers). */
export function installUncoordinated(language: Language, lockText: string, opts: InstallOptions = {}): Promise<string> {
  const dir = installDirFor(language, lockText);
  return materializeDir(dir, (tmp) => (lockKindOf(language) === 'npm' ? installNode(tmp, lockText, opts) : installPython(tmp, lockText, opts)));
}

/** npm's package-lock (v3) equivalent of a bun-format lock. */
export function packageLockFromBunLock(lockText: string): { packageJson: object; packageLock: object } {
  const { packageJson, bunLock } = parseBunLock(lockText);
  const deps = packageJson.dependencies ?? {};
  const packages: Record<string, object> = { '': { name: 'wmill-install', dependencies: deps } };
  for (const [key, entry] of Object.entries(bunLock?.packages ?? {})) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string') continue;
    const [name, version] = splitIdent(entry[0]);
    if (!version || /^(workspace|link|file):/.test(version)) continue;
    const meta = (entry.find((x, i) => i > 0 && x && typeof x === 'object' && !Array.isArray(x)) ?? {}) as Record<string, unknown>;
    const integrity = entry.length >= 4 && typeof entry[3] === 'string' ? entry[3] : undefined;
    const resolved = typeof entry[1] === 'string' && /^https?:/.test(entry[1]) ? entry[1] : undefined;
    // "a/@s/b/c" → ["a", "@s/b", "c"]
    const segs = key.split('/');
    const names: string[] = [];
    for (let i = 0; i < segs.length; i++) names.push(segs[i]!.startsWith('@') ? `${segs[i]}/${segs[++i]}` : segs[i]!);
    const path = 'node_modules/' + names.join('/node_modules/');
    const e: Record<string, unknown> = { version };
    if (names[names.length - 1] !== name) e.name = name;
    if (resolved) e.resolved = resolved;
    if (integrity) e.integrity = integrity;
    for (const k of ['dependencies', 'optionalDependencies', 'peerDependencies', 'bin', 'os', 'cpu']) if (meta[k] !== undefined) e[k] = meta[k];
    if (Array.isArray(meta.optionalPeers)) e.peerDependenciesMeta = Object.fromEntries((meta.optionalPeers as string[]).map((n) => [n, { optional: true }]));
    packages[path] = e;
  }
  return {
    packageJson: { name: 'wmill-install', private: true, dependencies: deps },
    packageLock: { name: 'wmill-install', lockfileVersion: 3, requires: true, packages },
  };
}

async function installNode(dir: string, lockText: string, opts: InstallOptions): Promise<void> {
  const { packageJson, packageLock } = packageLockFromBunLock(lockText);
  writeFileSync(join(dir, 'package.json'), JSON.stringify(packageJson, null, 2));
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(packageLock, null, 2));
  if (Object.keys((packageJson as { dependencies: object }).dependencies).length === 0) return;
  const settings = npmSettings(opts.cfg ?? bareConfig());
  if (settings.npmrcFile) writeFileSync(join(dir, '.npmrc'), readFileSync(settings.npmrcFile, 'utf8'));
  // Like bun (Windmill's installer), dependency lifecycle scripts are not run.
  const r = await run('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--update-notifier=false', '--loglevel=error'], {
    cwd: dir,
    env: { ...process.env, ...settings.env },
    signal: opts.signal,
  });
  if (r.spawnError || r.code !== 0) throw new ResolveError(`npm ci failed: ${(r.spawnError?.message ?? r.stderr).trim().split('\n')[0] ?? ''}`);
}

async function installPython(dir: string, lockText: string, opts: InstallOptions): Promise<void> {
  const pins = [...pinnedVersions(lockText)].map(([n, v]) => `${n}==${v}`);
  if (!pins.length) return;
  const settings = pipSettings(opts.cfg ?? bareConfig(), opts.findLinks ?? []);
  const reqFile = join(dir, '..', `.${dir.split('/').pop()}-requirements.txt`);
  writeFileSync(reqFile, pins.join('\n') + '\n');
  try {
    const r = await run(
      settings.python,
      ['-m', 'pip', 'install', '--target', dir, '--no-deps', '--no-compile', '--quiet', '--disable-pip-version-check', '--no-input', ...settings.indexArgs, '-r', reqFile],
      { signal: opts.signal },
    );
    if (r.spawnError || r.code !== 0) throw new ResolveError(`pip install failed: ${(r.spawnError?.message ?? r.stderr).trim().split('\n').pop() ?? ''}`);
  } finally {
    rmSync(reqFile, { force: true });
  }
}
