import { existsSync, readFileSync, chmodSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { WmillError } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { normalizeRemote } from '../util/url.js';
import { entryForBranch, entryGitBranch, entryWorkspaceId, type WorkspaceEntry } from './workspaces.js';

/**
 * Workspace profiles, stored exactly as the reference CLI stores them:
 * `<config>/windmill/remotes.ndjson` (one `{name, remote, workspaceId, token}` per line) and
 * `<config>/windmill/activeWorkspace` (the active profile's name). Files are written 0600.
 */
export interface Profile {
  name: string;
  remote: string;
  workspaceId: string;
  token: string;
}

/** The zod schema of a profile line (loaded only when a line fails the quick check, for its message). */
function profileSchema() {
  const { z } = createRequire(import.meta.url)('zod') as typeof import('zod');
  return z.object({ name: z.string().min(1), remote: z.string().min(1), workspaceId: z.string().min(1), token: z.string() });
}

const isProfile = (v: unknown): v is Profile => {
  const o = v as Record<string, unknown> | null;
  return !!o && typeof o === 'object' && [o.name, o.remote, o.workspaceId].every((x) => typeof x === 'string' && x.length > 0) && typeof o.token === 'string';
};

export function configDir(flag?: string): string {
  const base =
    flag ?? process.env.WMILL_CONFIG_DIR ?? process.env.XDG_CONFIG_HOME ?? join(process.env.HOME ?? homedir(), '.config');
  return join(base, 'windmill');
}

export function readProfiles(dir = configDir()): Profile[] {
  const file = join(dir, 'remotes.ndjson');
  if (!existsSync(file)) return [];
  const out: Profile[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch {
        throw new WmillError('usage', `${file}:${i + 1}: not valid JSON; fix or remove that line`);
      }
      if (isProfile(v)) {
        out.push({ name: v.name, remote: v.remote, workspaceId: v.workspaceId, token: v.token });
        return;
      }
      const r = profileSchema().safeParse(v);
      if (!r.success) throw new WmillError('usage', `${file}:${i + 1}: field ${r.error.issues[0]!.path.join('.')}: ${r.error.issues[0]!.message}`);
      out.push(r.data);
    });
  return out;
}

function writeSecret(file: string, text: string): void {
  writeFileAtomic(file, text);
  chmodSync(file, 0o600);
}

export function writeProfiles(profiles: Profile[], dir = configDir()): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeSecret(join(dir, 'remotes.ndjson'), profiles.map((p) => JSON.stringify(p)).join('\n') + (profiles.length ? '\n' : ''));
}

export function activeProfileName(dir = configDir()): string | null {
  const file = join(dir, 'activeWorkspace');
  if (!existsSync(file)) return null;
  const n = readFileSync(file, 'utf8').trim();
  return n || null;
}

export function setActiveProfile(name: string | null, dir = configDir()): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeSecret(join(dir, 'activeWorkspace'), name ?? '');
}

/** Add or replace a profile by name, and make it active. */
export function addProfile(p: Profile, opts: { force?: boolean } = {}, dir = configDir()): void {
  const profiles = readProfiles(dir);
  const remote = normalizeRemote(p.remote);
  const same = profiles.find((x) => x.name === p.name);
  if (same && (same.remote !== remote || same.workspaceId !== p.workspaceId) && !opts.force) {
    throw new WmillError('usage', `a profile named '${p.name}' already points at ${same.workspaceId} on ${same.remote}; pass --force to replace it`);
  }
  const dup = profiles.find((x) => x.name !== p.name && x.remote === remote && x.workspaceId === p.workspaceId);
  if (dup && !opts.force) {
    throw new WmillError('usage', `profile '${dup.name}' already targets workspace ${p.workspaceId} on ${remote}; pass --force to add another`);
  }
  writeProfiles([...profiles.filter((x) => x.name !== p.name), { ...p, remote }], dir);
  setActiveProfile(p.name, dir);
}

export function removeProfile(name: string, dir = configDir()): void {
  const profiles = readProfiles(dir);
  if (!profiles.some((p) => p.name === name)) throw new WmillError('usage', `no profile named '${name}'; see 'wmill workspace list'`);
  writeProfiles(profiles.filter((p) => p.name !== name), dir);
  if (activeProfileName(dir) === name) setActiveProfile(null, dir);
}

export interface ResolveFlags {
  workspace?: string;
  baseUrl?: string;
  token?: string;
  configDir?: string;
}

export interface ResolvedWorkspace extends Profile {
  source: 'flags' | 'profile' | 'env' | 'wmill.yaml';
  /** The wmill.yaml `workspaces:` entry this target is (its overrides apply to sync), if any. */
  entry?: string;
  /** How it was chosen, one line for stderr (never the token). */
  note?: string;
}

/** What wmill.yaml and git tell the resolution (absent: neither is consulted). */
export interface ResolveContext {
  entries?: [string, WorkspaceEntry][];
  branch?: string | null;
}

const envBaseUrl = () => process.env.BASE_INTERNAL_URL || process.env.BASE_URL || process.env.WM_BASE_URL || undefined;

/**
 * Which workspace a command talks to, in the reference CLI's order (spec/wmill-cli.md §2):
 * 1. `--base-url` with `--workspace` and `--token` (or WM_TOKEN): that workspace id there.
 * 2. `--workspace X`: the wmill.yaml entry X (its baseUrl and workspaceId, with the stored
 *    profile for that pair, else --token/WM_TOKEN), else the profile named X.
 * 3. In a git work tree, the entry whose `gitBranch` (default: its name) is the current branch.
 * 4. The only wmill.yaml entry with a baseUrl, when there is exactly one.
 * 5. The active profile.
 * 6. WM_WORKSPACE + WM_TOKEN + BASE_INTERNAL_URL / BASE_URL (our extra: WM_BASE_URL).
 * `--token` replaces the chosen target's token in every case.
 */
export function resolveWorkspace(flags: ResolveFlags, ctx: ResolveContext = {}): ResolvedWorkspace {
  const dir = configDir(flags.configDir);
  if (flags.baseUrl) {
    const token = flags.token ?? process.env.WM_TOKEN;
    if (!flags.workspace || !token) throw new WmillError('usage', '--base-url needs --workspace and --token (or WM_TOKEN)');
    return { name: flags.workspace, remote: normalizeRemote(flags.baseUrl), workspaceId: flags.workspace, token, source: 'flags' };
  }
  const entries = ctx.entries ?? [];
  const withToken = (w: ResolvedWorkspace): ResolvedWorkspace => (flags.token ? { ...w, token: flags.token } : w);
  /** The target of a wmill.yaml entry with a baseUrl: its stored profile, else a token from the flags or the environment. */
  const fromEntry = (name: string, e: WorkspaceEntry, why: string, required: boolean): ResolvedWorkspace | undefined => {
    const remote = normalizeRemote(e.baseUrl!);
    const id = entryWorkspaceId(name, e);
    const p = readProfiles(dir).find((x) => x.remote === remote && x.workspaceId === id);
    const note = `Using workspace '${name}' (${why}) → ${id} on ${remote}`;
    if (p) return withToken({ ...p, source: 'wmill.yaml', entry: name, note: `${note} (profile '${p.name}')` });
    const token = flags.token ?? process.env.WM_TOKEN;
    if (token) return { name, remote, workspaceId: id, token, source: 'wmill.yaml', entry: name, note: `${note} (token from ${flags.token ? '--token' : 'WM_TOKEN'})` };
    if (required) {
      throw new WmillError('auth', `no token for workspace '${name}' (${id} on ${remote}): add a profile with 'wmill workspace add ${name} ${id} ${remote} --token <token>', or pass --token (or set WM_TOKEN)`);
    }
    return undefined;
  };
  if (flags.workspace) {
    const e = entries.find(([n]) => n === flags.workspace);
    if (e?.[1].baseUrl) return fromEntry(e[0], e[1], 'selected via --workspace', !readProfiles(dir).some((p) => p.name === flags.workspace))
      ?? withToken({ ...profileNamed(flags.workspace, dir, entries), entry: e[0] });
    return withToken({ ...profileNamed(flags.workspace, dir, entries), ...(e ? { entry: e[0] } : {}) });
  }
  if (ctx.branch) {
    const m = entryForBranch(entries, ctx.branch);
    if (m?.[1].baseUrl) {
      const b = entryGitBranch(m[0], m[1]);
      const why = b !== ctx.branch ? `matched via fork branch '${ctx.branch}' → '${b}'` : b !== m[0] ? `matched git branch '${b}'` : `matched current git branch '${b}'`;
      const w = fromEntry(m[0], m[1], why, false);
      if (w) return w;
    }
  }
  const withUrl = entries.filter(([, e]) => e.baseUrl);
  if (withUrl.length === 1) {
    const w = fromEntry(withUrl[0]![0], withUrl[0]![1], 'only workspace in wmill.yaml', false);
    if (w) return w;
  }
  const active = activeProfileName(dir);
  if (active) {
    const p = readProfiles(dir).find((x) => x.name === active);
    if (p) {
      const e = entries.find(([n, x]) => x.baseUrl && normalizeRemote(x.baseUrl) === p.remote && entryWorkspaceId(n, x) === p.workspaceId);
      return withToken({ ...p, source: 'profile', ...(e ? { entry: e[0] } : {}) });
    }
  }
  const url = envBaseUrl();
  const token = flags.token ?? process.env.WM_TOKEN;
  if (process.env.WM_WORKSPACE && token && url) {
    return { name: process.env.WM_WORKSPACE, remote: normalizeRemote(url), workspaceId: process.env.WM_WORKSPACE, token, source: 'env' };
  }
  throw new WmillError(
    'usage',
    "no workspace given and no default set; run 'wmill workspace add <name> <workspace_id> <url> --token <token>', pass --base-url, --workspace and --token, or set WM_WORKSPACE, WM_TOKEN and BASE_URL",
  );
}

function profileNamed(name: string, dir: string, entries: [string, WorkspaceEntry][]): ResolvedWorkspace {
  const profiles = readProfiles(dir);
  const p = profiles.find((x) => x.name === name);
  if (p) return { ...p, source: 'profile' };
  const known = [...new Set([...entries.map(([n]) => n), ...profiles.map((x) => x.name)])];
  const near = known.filter((n) => distance(n, name) <= 3).sort((a, b) => distance(a, name) - distance(b, name)).slice(0, 3);
  throw new WmillError(
    'usage',
    `workspace '${name}' is neither a wmill.yaml workspaces entry with a baseUrl nor a profile${near.length ? ` (did you mean ${near.map((n) => `'${n}'`).join(', ')}?)` : known.length ? ` (known: ${known.join(', ')})` : ''}; add one with 'wmill workspace add'`,
  );
}

/** Levenshtein distance, for suggestions. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const t = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = t;
    }
  }
  return d[b.length]!;
}
