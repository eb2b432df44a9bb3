/**
 * The one access check of `wmill serve`. Every route, and every indirect resolution of a path
 * (a flow step, a schedule tick, a workflow task, a relative import, a `$var:`/`$res:`
 * reference, a webhook, a job read, a resume signature), asks it; nothing else decides.
 *
 * Windmill's rules: admins may do everything; `u/<user>/...` is its owner's; `g/<group>/...` its
 * members'; `f/<folder>/...` follows the folder's `owners` and `extra_perms` (`u/<name>` or
 * `g/<group>` → true = write, false = read; everyone is in group `all`). Operators never write.
 * Operations: `read` (see an item), `list` (it appears in lists), `run` (run it, or use it
 * from a job): all three need read access; `write` (create, change, delete) needs write access.
 *
 * Jobs: a user sees the jobs they started or that run as them, and the jobs of paths they can
 * read; admins see all.
 */
import type { Sql } from './db/db.js';
import type { Principal } from './auth.js';
import { forbidden, notFound } from './http.js';

export type Access = 'none' | 'read' | 'write';
export type Op = 'read' | 'list' | 'run' | 'write';

export interface FolderPerms {
  owners?: unknown;
  extra_perms?: unknown;
}

/** What `p` may do in a folder with these owners and extra_perms (before the operator cap). */
export function folderLevel(f: FolderPerms, p: Principal): Access {
  const me = [`u/${p.username}`, ...p.groups.map((g) => `g/${g}`)];
  const owners = Array.isArray(f.owners) ? (f.owners as unknown[]) : [];
  if (me.some((k) => owners.includes(k))) return 'write';
  const extra = f.extra_perms && typeof f.extra_perms === 'object' && !Array.isArray(f.extra_perms) ? (f.extra_perms as Record<string, unknown>) : {};
  let best: Access = 'none';
  for (const k of me) {
    if (extra[k] === true) return 'write';
    if (extra[k] === false) best = 'read';
  }
  return best;
}

/** What `p` may do at `path`, given the folder of the path when it is `f/<folder>/...` (undefined: no such folder). */
export function levelAt(p: Principal, path: string, folder: FolderPerms | undefined): Access {
  if (p.isAdmin) return 'write';
  const [kind, owner] = path.split('/');
  let a: Access = 'none';
  if (kind === 'u') a = owner === p.username ? 'write' : 'none';
  else if (kind === 'g') a = owner && p.groups.includes(owner) ? 'write' : 'none';
  else if (kind === 'f' && owner && folder) a = folderLevel(folder, p);
  return p.operator && a === 'write' ? 'read' : a;
}

/** What `p` may do at item `path` of workspace `ws`. */
export async function accessTo(q: Sql, ws: string, p: Principal, path: string): Promise<Access> {
  if (p.isAdmin) return 'write';
  const [kind, owner] = path.split('/');
  let folder: FolderPerms | undefined;
  if (kind === 'f' && owner) {
    [folder] = await q.query<FolderPerms>(`SELECT owners, extra_perms FROM folder WHERE workspace_id = $1 AND name = $2`, [ws, owner]);
  }
  return levelAt(p, path, folder);
}

export const allows = (a: Access, op: Op): boolean => (op === 'write' ? a === 'write' : a !== 'none');

/** Whether `p` may do `op` at `path`. */
export async function can(q: Sql, ws: string, p: Principal, path: string, op: Op): Promise<boolean> {
  return allows(await accessTo(q, ws, p, path), op);
}

/**
 * Throw unless `p` may do `op` at `path`: 404 "<What> <path> not found" when `p` may not even
 * see it (its existence is not revealed), 403 naming the user and the path otherwise.
 */
export async function requireAccess(q: Sql, ws: string, p: Principal, path: string, op: Op, what = 'Item'): Promise<void> {
  const a = await accessTo(q, ws, p, path);
  if (allows(a, op)) return;
  if (a === 'none' && op !== 'write') throw notFound(`${what} ${path} not found`);
  throw forbidden(`${p.username} is not allowed to ${op} ${path}`);
}

/** The error an indirect resolution (flow step, schedule, task, reference) reports: it names the path, and reveals nothing more. */
export class AccessDenied extends Error {
  constructor(what: string, path: string, username: string) {
    super(`${what} ${path} not found, or ${username} may not ${what === 'variable' || what === 'resource' ? 'read' : 'run'} it`);
    this.name = 'PermissionDenied';
  }
}

/** Throw AccessDenied unless `p` may `op` what is at `path` (for indirect resolutions). */
export async function requireIndirect(q: Sql, ws: string, p: Principal | undefined, path: string, op: Op, what: string): Promise<void> {
  if (p && (await can(q, ws, p, path, op))) return;
  throw new AccessDenied(what, path, p?.username ?? 'this job');
}

/** Everything `p` may see in a workspace, computed once (for lists and SQL filters). */
export interface Scope {
  p: Principal;
  all: boolean;
  folders: Map<string, Access>;
}

export async function scopeOf(q: Sql, ws: string, p: Principal): Promise<Scope> {
  const folders = new Map<string, Access>();
  if (!p.isAdmin) {
    for (const f of await q.query<FolderPerms & { name: string }>(`SELECT name, owners, extra_perms FROM folder WHERE workspace_id = $1`, [ws])) {
      const a = levelAt(p, `f/${f.name}/x`, f);
      if (a !== 'none') folders.set(f.name, a);
    }
  }
  return { p, all: p.isAdmin, folders };
}

/** accessTo, answered from a scope (no query). */
export function accessIn(s: Scope, path: string): Access {
  if (s.all) return 'write';
  const [kind, owner] = path.split('/');
  if (kind === 'f') return owner ? (s.folders.get(owner) ?? 'none') : 'none';
  return levelAt(s.p, path, undefined);
}

export interface JobOwnership {
  path: string;
  createdBy?: string;
  permissionedAs?: string;
}

/** Whether the job is `p`'s own (started by them, or running as them or one of their groups). */
function ownJob(p: Principal, j: JobOwnership): boolean {
  if (j.createdBy === p.username || j.permissionedAs === `u/${p.username}`) return true;
  return !!j.permissionedAs?.startsWith('g/') && p.groups.includes(j.permissionedAs.slice(2));
}

/** Whether `p` may see the job (its args, logs, result, state, signatures). */
export async function canSeeJob(q: Sql, ws: string, p: Principal, j: JobOwnership): Promise<boolean> {
  return p.isAdmin || ownJob(p, j) || (await can(q, ws, p, j.path, 'read'));
}

/** The same rule as canSeeJob, answered from a scope. */
export function seesJobIn(s: Scope, j: JobOwnership): boolean {
  return s.all || ownJob(s.p, j) || allows(accessIn(s, j.path), 'read');
}

/**
 * canSeeJob as an SQL condition over the `job` table (its parameters appended to `params`), so
 * that lists page over what the caller may see. TRUE for admins.
 */
export function visibleJobsSql(s: Scope, params: unknown[]): string {
  if (s.all) return 'TRUE';
  const add = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  const u = add(s.p.username);
  const readable = [...s.folders.keys()];
  return `(created_by = ${u} OR permissioned_as = 'u/' || ${u}
    OR (permissioned_as LIKE 'g/%' AND substr(permissioned_as, 3) = ANY(${add(s.p.groups)}::text[]))
    OR (split_part(path, '/', 1) = 'u' AND split_part(path, '/', 2) = ${u})
    OR (split_part(path, '/', 1) = 'g' AND split_part(path, '/', 2) = ANY(${add(s.p.groups)}::text[]))
    OR (split_part(path, '/', 1) = 'f' AND split_part(path, '/', 2) = ANY(${add(readable)}::text[])))`;
}
