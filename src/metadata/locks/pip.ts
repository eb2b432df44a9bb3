/**
 * Python resolution with pip: `pip install --dry-run --ignore-installed --report` over the
 * requirement lines, with the index configuration of the machine (pip.conf, `PIP_*` env) plus the
 * workspace's (`wmill.yaml` `python:` and `--find-links`). The lock is the pinned
 * `name==version` lines of everything pip would install (transitive included), names normalized
 * (PEP 503), sorted, one per line: the format a Windmill worker installs from.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { WorkspaceConfig } from '../../workspace/config.js';
import { sha256 } from '../hash.js';
import { run } from './cache.js';
import { ResolveError } from './npm.js';
import { normalizeDistName } from './python-names.js';
import { resolvePython } from '../../util/python.js';

export interface PipSettings {
  python: string;
  /** Arguments selecting indexes/find-links, for both resolution and installs. */
  indexArgs: string[];
  /** The index pip uses (for messages), or null with --no-index. */
  index: string | null;
  /** True when the index is the only source (no extra index, no find-links): then it can be probed. */
  indexOnly: boolean;
  proxied: boolean;
  fingerprint: string;
}

export function pythonExecutable(): string {
  return resolvePython();
}

let pyVersion: Promise<string> | null = null;

/** `sys.version_info` + platform of the interpreter (part of the cache key: markers depend on it). */
export function pythonFingerprint(): Promise<string> {
  if (!pyVersion) {
    pyVersion = run(pythonExecutable(), ['-I', '-S', '-c', 'import sys, platform; print(sys.version_info[:3], sys.platform, platform.machine())']).then(
      (r) => (r.code === 0 ? r.stdout.trim() : `unknown:${r.spawnError?.code ?? r.code}`),
    );
  }
  return pyVersion;
}

export function pipSettings(cfg: WorkspaceConfig, extraFindLinks: string[] = []): PipSettings {
  const py = cfg.raw.python ?? {};
  const args: string[] = [];
  const abs = (p: string) => (/^[a-z][a-z0-9+.-]*:\/\//i.test(p) || isAbsolute(p) ? p : resolve(cfg.root, p));
  let index: string | null = process.env.PIP_INDEX_URL ?? null;
  if (py.noIndex) args.push('--no-index');
  else if (!process.env.PIP_INDEX_URL && py.indexUrl) {
    args.push('--index-url', py.indexUrl);
    index = py.indexUrl;
  }
  if (!py.noIndex) for (const u of py.extraIndexUrls ?? []) args.push('--extra-index-url', u);
  for (const f of [...(py.findLinks ?? []).map(abs), ...extraFindLinks.map((f) => resolve(f))]) args.push('--find-links', f);
  const confText = confFiles().join('\n');
  const confValue = (key: string) => new RegExp(`^\\s*${key}\\s*=\\s*(\\S+)`, 'm').exec(confText)?.[1];
  if (!index) index = confValue('index-url') ?? 'https://pypi.org/simple';
  if (py.noIndex || process.env.PIP_NO_INDEX) index = null;
  const indexOnly =
    !py.extraIndexUrls?.length && !py.findLinks?.length && !extraFindLinks.length &&
    !process.env.PIP_EXTRA_INDEX_URL && !process.env.PIP_FIND_LINKS && !confValue('extra-index-url') && !confValue('find-links');
  const proxied = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'PIP_PROXY'].some((k) => !!process.env[k]);
  const pipEnv = Object.entries(process.env)
    .filter(([k]) => k.startsWith('PIP_') && !['PIP_DISABLE_PIP_VERSION_CHECK', 'PIP_DEFAULT_TIMEOUT', 'PIP_NO_INPUT', 'PIP_QUIET', 'PIP_VERBOSE'].includes(k))
    .map(([k, v]) => `${k}=${v}`)
    .sort();
  const fingerprint = sha256(JSON.stringify({ args, pipEnv, conf: confFiles() }));
  return { python: pythonExecutable(), indexArgs: args, index, indexOnly, proxied, fingerprint };
}

/** pip's configuration files (their text), as pip reads them on this machine. */
function confFiles(): string[] {
  if (process.env.PIP_CONFIG_FILE === '/dev/null' || process.env.PIP_CONFIG_FILE === 'os.devnull') return [];
  const xdgDirs = (process.env.XDG_CONFIG_DIRS || '/etc/xdg').split(':').map((d) => join(d, 'pip', 'pip.conf'));
  return [
    ...xdgDirs,
    '/etc/pip.conf',
    join(homedir(), '.pip', 'pip.conf'),
    join(process.env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'pip', 'pip.conf'),
    process.env.VIRTUAL_ENV ? join(process.env.VIRTUAL_ENV, 'pip.conf') : undefined,
    process.env.PIP_CONFIG_FILE,
  ]
    .filter((f): f is string => !!f)
    .map((f) => {
      try {
        return `${f}:${readFileSync(f, 'utf8')}`;
      } catch {
        return '';
      }
    })
    .filter(Boolean);
}

function pipErrorLine(text: string): string {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const err = lines.find((l) => l.startsWith('ERROR:')) ?? lines.find((l) => /error/i.test(l)) ?? lines[lines.length - 1] ?? 'pip failed';
  return err.replace(/\s+/g, ' ').slice(0, 300);
}

/** Resolve requirement lines with pip; returns the pinned lock text ('' for no requirements). */
export async function resolvePip(reqs: string[], settings: PipSettings, signal?: AbortSignal, env?: NodeJS.ProcessEnv): Promise<string> {
  if (reqs.length === 0) return '';
  const dir = mkdtempSync(join(tmpdir(), 'wmill-pip-'));
  try {
    const reqFile = join(dir, 'requirements.in');
    const report = join(dir, 'report.json');
    writeFileSync(reqFile, reqs.join('\n') + '\n');
    const r = await run(
      settings.python,
      ['-m', 'pip', 'install', '--dry-run', '--ignore-installed', '--quiet', '--disable-pip-version-check', '--no-input', '--report', report, ...settings.indexArgs, '-r', reqFile],
      { cwd: dir, signal, ...(env ? { env } : {}) },
    );
    if (r.spawnError) {
      if (r.spawnError.code === 'ENOENT') throw new ResolveError(`${settings.python} not found (pip resolves Python dependencies; set WMILL_PYTHON)`);
      throw new ResolveError(r.spawnError.message);
    }
    if (r.code !== 0) {
      const text = r.stderr + r.stdout;
      const conn = /Failed to establish a new connection: ([^'")]+)/.exec(text);
      const unreachable = conn || /NewConnectionError|Max retries exceeded|Temporary failure in name resolution/.test(text) ? (settings.index ?? 'package index') : undefined;
      throw new ResolveError(`${conn ? `${conn[1]!.trim()}; ` : ''}${pipErrorLine(text)}`, unreachable);
    }
    const rep = JSON.parse(readFileSync(report, 'utf8')) as { install?: { metadata?: { name?: string; version?: string } }[] };
    const lines = new Set<string>();
    for (const it of rep.install ?? []) {
      const name = it.metadata?.name;
      const version = it.metadata?.version;
      if (name && version) lines.add(`${normalizeDistName(name)}==${version}`);
    }
    return [...lines].sort().join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Parse `name==version` lines (comments and other lines ignored). */
export function pinnedVersions(lock: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of lock.split(/\r?\n/)) {
    const line = raw.replace(/#.*$/, '').trim();
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*===?\s*([^\s;]+)/.exec(line);
    if (m) out.set(normalizeDistName(m[1]!), m[2]!);
  }
  return out;
}
