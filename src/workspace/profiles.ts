import { existsSync, readFileSync, chmodSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { WmillError } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { normalizeRemote } from '../util/url.js';

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
  source: 'flags' | 'profile' | 'env';
}

/**
 * Which workspace a command talks to. Precedence: flags > WM_* environment > the named or
 * active profile. A profile's token and URL may be overridden by WM_TOKEN / WM_BASE_URL.
 */
export function resolveWorkspace(flags: ResolveFlags): ResolvedWorkspace {
  const dir = configDir(flags.configDir);
  const envUrl = process.env.WM_BASE_URL ?? process.env.BASE_INTERNAL_URL ?? process.env.BASE_URL;
  if (flags.baseUrl) {
    if (!flags.workspace || !(flags.token ?? process.env.WM_TOKEN)) {
      throw new WmillError('usage', '--base-url needs --workspace and --token (or WM_TOKEN)');
    }
    return { name: flags.workspace, remote: normalizeRemote(flags.baseUrl), workspaceId: flags.workspace, token: flags.token ?? process.env.WM_TOKEN!, source: 'flags' };
  }
  const profiles = readProfiles(dir);
  const wanted = flags.workspace ?? (process.env.WM_WORKSPACE && envUrl ? undefined : process.env.WM_WORKSPACE) ?? activeProfileName(dir) ?? undefined;
  if (!flags.workspace && process.env.WM_WORKSPACE && envUrl && (flags.token ?? process.env.WM_TOKEN)) {
    return { name: process.env.WM_WORKSPACE, remote: normalizeRemote(envUrl), workspaceId: process.env.WM_WORKSPACE, token: flags.token ?? process.env.WM_TOKEN!, source: 'env' };
  }
  if (wanted) {
    const p = profiles.find((x) => x.name === wanted);
    if (!p) {
      const names = profiles.map((x) => x.name);
      throw new WmillError('usage', `no profile named '${wanted}'${names.length ? ` (known: ${names.join(', ')})` : ''}; add one with 'wmill workspace add'`);
    }
    return { ...p, token: flags.token ?? process.env.WM_TOKEN ?? p.token, remote: envUrl && process.env.WM_BASE_URL ? normalizeRemote(envUrl) : p.remote, source: 'profile' };
  }
  throw new WmillError('usage', "no workspace given and no default set; run 'wmill workspace add <name> <workspace_id> <url> --token <token>' or pass --base-url, --workspace and --token");
}
