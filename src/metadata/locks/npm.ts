/**
 * npm resolution for TypeScript scripts (bun and deno flavours) and Windmill's bun lock format.
 *
 * Resolution is delegated to the machine's own `npm` (`npm install --package-lock-only` in a temp
 * folder holding a generated package.json): it honours every npm setting the user already has
 * (.npmrc at user/global level, the workspace's .npmrc, `npm_config_*` env, scoped registries,
 * auth tokens, proxies, CA certificates, peer-dependency rules) with no re-implementation of
 * semver or of npm's config. The cost is one process per distinct dependency set, which the
 * resolution cache turns into zero on later runs.
 *
 * The lock text is what a Windmill server stores for bun: the package.json JSON text (exact
 * versions), a line `//bun.lock`, then bun's text lockfile (JSONC, lockfileVersion 1). With no
 * dependencies it is Windmill's own empty lock: `{\n  "dependencies": {}\n}\n//bun.lock\n<empty>`.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkspaceConfig } from '../../workspace/config.js';
import { sha256 } from '../hash.js';
import { run } from './cache.js';

export const BUN_LOCK_SPLIT = '\n//bun.lock\n';
export const EMPTY_MARK = '<empty>';
export const EMPTY_BUN_LOCK = `{\n  "dependencies": {}\n}${BUN_LOCK_SPLIT}${EMPTY_MARK}`;
const DEFAULT_REGISTRY = 'https://registry.npmjs.org/';

export interface NpmSettings {
  /** The registry npm will use for unscoped packages (for messages and the reachability probe). */
  registry: string;
  /** Extra env for npm (wmill.yaml `npm.registry` when no env var sets one). */
  env: Record<string, string>;
  /** The workspace's .npmrc, copied next to the generated package.json. */
  npmrcFile: string | null;
  /** Whether a proxy is configured (then no direct probe is made). */
  proxied: boolean;
  /** Everything that can change a resolution, hashed into the cache key. */
  fingerprint: string;
}

function readIni(file: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  if (!file) return out;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return out;
  }
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const i = line.indexOf('=');
    if (i <= 0) continue;
    out[line.slice(0, i).trim()] = line.slice(i + 1).trim().replace(/^["']|["']$/g, '');
  }
  return out;
}

function envNpm(name: string): string | undefined {
  const want = `npm_config_${name}`.toLowerCase();
  for (const [k, v] of Object.entries(process.env)) if (k.toLowerCase() === want && v !== undefined) return v;
  return undefined;
}

/** npm's registry and the inputs that change its resolutions, for one workspace. */
export function npmSettings(cfg: WorkspaceConfig): NpmSettings {
  const projectRc = join(cfg.root, '.npmrc');
  const npmrcFile = existsSync(projectRc) ? projectRc : null;
  const userRc = envNpm('userconfig') ?? join(homedir(), '.npmrc');
  const project = readIni(npmrcFile);
  const user = readIni(userRc);
  const env: Record<string, string> = {};
  const fromYaml = cfg.raw.npm?.registry;
  let registry = envNpm('registry');
  if (!registry && fromYaml) {
    env.npm_config_registry = fromYaml;
    registry = fromYaml;
  }
  registry = registry || project.registry || user.registry || DEFAULT_REGISTRY;
  if (!registry.endsWith('/')) registry += '/';
  const proxied =
    ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'].some((k) => !!process.env[k]) ||
    !!envNpm('proxy') || !!envNpm('https_proxy') ||
    [project, user].some((c) => !!c.proxy || !!c['https-proxy']);
  const registryEnv = Object.entries(process.env)
    .filter(([k]) => /^npm_config_/i.test(k) && /registry|^npm_config_@/i.test(k))
    .map(([k, v]) => `${k.toLowerCase()}=${v}`)
    .sort();
  const rcText = (f: string | null) => {
    try {
      return f ? readFileSync(f, 'utf8') : '';
    } catch {
      return '';
    }
  };
  const fingerprint = sha256(JSON.stringify({ registry, registryEnv, project: rcText(npmrcFile), user: rcText(userRc) }));
  return { registry, env, npmrcFile, proxied, fingerprint };
}

export class ResolveError extends Error {
  constructor(
    message: string,
    /** The registry/index when it could not be reached. */
    public unreachable?: string,
  ) {
    super(message);
  }
}

interface PackageLockEntry {
  version?: string;
  name?: string;
  integrity?: string;
  resolved?: string;
  link?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  bin?: Record<string, string> | string;
  os?: string[] | string;
  cpu?: string[] | string;
}

/** One-line summary of npm's error output. */
function npmErrorLine(stderr: string): string {
  const all = stderr.split(/\r?\n/);
  const errs = all.filter((l) => /^npm (error|ERR!)/.test(l));
  const lines = (errs.length ? errs : all.filter((l) => !/^npm (warn|WARN|notice)/.test(l)))
    .map((l) => l.replace(/^npm (error|ERR!)\s*/, '').trim())
    .filter((l) => l && !/^(code|errno|syscall|A complete log|Log files were not written)\b/.test(l) && !l.startsWith('at '));
  const first = lines.find((l) => /\b(E\d{3}|404|403|401|ETARGET|ENOTFOUND|ECONNREFUSED|ERESOLVE|not found|No matching version)\b/i.test(l)) ?? lines[0] ?? 'npm failed';
  return first.replace(/\s+/g, ' ').slice(0, 300);
}

/** Resolve `deps` (name → range) with npm; returns the bun-format lock text. */
export async function resolveNpm(deps: [string, string][], settings: NpmSettings, signal?: AbortSignal, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (deps.length === 0) return EMPTY_BUN_LOCK;
  const dir = mkdtempSync(join(tmpdir(), 'wmill-npm-'));
  try {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'wmill-lock', private: true, dependencies: Object.fromEntries(deps) }, null, 2));
    if (settings.npmrcFile) copyFileSync(settings.npmrcFile, join(dir, '.npmrc'));
    const r = await run(
      'npm',
      ['install', '--package-lock-only', '--package-lock=true', '--lockfile-version=3', '--ignore-scripts', '--no-audit', '--no-fund', '--update-notifier=false', '--loglevel=error'],
      { cwd: dir, env: { ...env, ...settings.env }, signal },
    );
    if (r.spawnError) {
      if (r.spawnError.code === 'ENOENT') throw new ResolveError('npm not found on PATH (it resolves TypeScript dependencies)');
      throw new ResolveError(r.spawnError.message);
    }
    if (r.code !== 0) {
      const text = r.stderr + r.stdout;
      const unreachable = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ECONNRESET/.test(text) ? settings.registry : undefined;
      throw new ResolveError(npmErrorLine(text), unreachable);
    }
    const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as { packages?: Record<string, PackageLockEntry> };
    return bunLockFromPackageLock(deps.map(([n]) => n), lock.packages ?? {});
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// bun.lock text (JSONC) writer and reader
// ---------------------------------------------------------------------------------------------

function inlineJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(inlineJson).join(', ')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>);
    return entries.length ? `{ ${entries.map(([k, x]) => `${JSON.stringify(k)}: ${inlineJson(x)}`).join(', ')} }` : '{}';
  }
  return JSON.stringify(v);
}

const sortObj = (o: Record<string, string> | undefined) =>
  o && Object.keys(o).length ? Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]!])) : undefined;

/** Package names along a `node_modules/a/node_modules/@s/b` path. */
function pathNames(lockPath: string): string[] {
  return lockPath.replace(/^node_modules\//, '').split('/node_modules/');
}

/** Convert npm's package-lock `packages` into the bun lock text (with the package.json part). */
export function bunLockFromPackageLock(topLevel: string[], packages: Record<string, PackageLockEntry>): string {
  const exact: Record<string, string> = {};
  for (const name of [...topLevel].sort()) {
    const e = packages[`node_modules/${name}`];
    if (!e?.version) throw new ResolveError(`npm did not resolve ${name}`);
    exact[name] = e.version;
  }
  const entries: [string, string][] = [];
  for (const [p, e] of Object.entries(packages)) {
    if (!p || !p.startsWith('node_modules/') || e.link || !e.version) continue;
    const names = pathNames(p);
    const key = names.join('/');
    const name = e.name ?? names[names.length - 1]!;
    const meta: Record<string, unknown> = {};
    const deps = sortObj(e.dependencies);
    if (deps) meta.dependencies = deps;
    const opt = sortObj(e.optionalDependencies);
    if (opt) meta.optionalDependencies = opt;
    const peer = sortObj(e.peerDependencies);
    if (peer) meta.peerDependencies = peer;
    const optionalPeers = Object.entries(e.peerDependenciesMeta ?? {})
      .filter(([, m]) => m?.optional)
      .map(([n]) => n)
      .sort();
    if (optionalPeers.length) meta.optionalPeers = optionalPeers;
    if (e.bin && (typeof e.bin === 'string' || Object.keys(e.bin).length)) meta.bin = e.bin;
    if (e.os) meta.os = e.os;
    if (e.cpu) meta.cpu = e.cpu;
    entries.push([key, `[${JSON.stringify(`${name}@${e.version}`)}, "", ${inlineJson(meta)}, ${JSON.stringify(e.integrity ?? '')}]`]);
  }
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const depLines = Object.entries(exact).map(([n, v]) => `        ${JSON.stringify(n)}: ${JSON.stringify(v)},`);
  const bunLock = [
    '{',
    '  "lockfileVersion": 1,',
    '  "workspaces": {',
    '    "": {',
    ...(depLines.length ? ['      "dependencies": {', ...depLines, '      },'] : []),
    '    },',
    '  },',
    '  "packages": {',
    entries.map(([k, v]) => `    ${JSON.stringify(k)}: ${v},`).join('\n\n'),
    '  }',
    '}',
    '',
  ].join('\n');
  return JSON.stringify({ dependencies: exact }, null, 2) + BUN_LOCK_SPLIT + bunLock;
}

/** JSONC → JSON: drop comments and trailing commas (outside strings). */
export function parseJsonc(text: string): unknown {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? text.length : end + 2;
    } else if (c === ',') {
      let j = i + 1;
      while (j < text.length && /\s/.test(text[j]!)) j++;
      if (text[j] !== '}' && text[j] !== ']') out += c;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return JSON.parse(out);
}

export interface BunLockParts {
  packageJson: { dependencies?: Record<string, string> };
  /** Parsed bun.lock, or null for `<empty>` / a binary `bun.lockb` / none. */
  bunLock: { workspaces?: Record<string, { dependencies?: Record<string, string> }>; packages?: Record<string, unknown[]> } | null;
}

/** Split and parse a bun-format lock (`package.json` + `//bun.lock` + bun.lock). */
export function parseBunLock(text: string): BunLockParts {
  const norm = text.replace(/\r\n/g, '\n');
  const i = norm.indexOf(BUN_LOCK_SPLIT);
  const pj = i === -1 ? norm : norm.slice(0, i);
  const rest = i === -1 ? null : norm.slice(i + BUN_LOCK_SPLIT.length);
  let packageJson: BunLockParts['packageJson'] = {};
  try {
    packageJson = JSON.parse(pj || '{}');
  } catch {
    packageJson = {};
  }
  let bunLock: BunLockParts['bunLock'] = null;
  if (rest !== null && rest.trim() && rest !== EMPTY_MARK) {
    try {
      bunLock = parseJsonc(rest) as BunLockParts['bunLock'];
    } catch {
      bunLock = null;
    }
  }
  return { packageJson, bunLock };
}

/** `name@version` → [name, version] (scoped names keep their leading `@`). */
export function splitIdent(ident: string): [string, string] {
  const at = ident.lastIndexOf('@');
  return at > 0 ? [ident.slice(0, at), ident.slice(at + 1)] : [ident, ''];
}
