/**
 * Workspace forks (`wmill workspace fork|list-forks|delete-fork|merge`): a fork is a new
 * workspace `wm-fork-<id>` holding a copy of its parent's items (folders, scripts with their
 * versions, flows with their versions, resource types, resources, variables with the parent's
 * encryption key so secrets stay readable, schedules copied disabled, workspace dependencies),
 * members and groups. At fork time the digest of every item is recorded (`fork_base`);
 * `workspaces/compare/{fork}` (asked on the parent) reports each item changed since then on
 * either side: `ahead` (changed in the fork), `behind` (changed in the parent), both = a
 * conflict, `has_changes: false` when both sides hold the same now. `wmill workspace merge`
 * deploys the chosen side with the ordinary routes (so a script lands as a new version whose
 * parent is the target's head: the lineage stays linear), then `reset_diff_tally` moves the base
 * of every item now equal on both sides. Deleting a fork (`DELETE /workspaces/delete/{id}`)
 * needs a super admin or an admin of that fork; other workspaces need a super admin.
 */
import { createHash } from 'node:crypto';
import type { Sql } from './db/db.js';
import type { Env } from './env.js';
import { can } from './access.js';
import { badRequest, forbidden, json, notFound, text, type Router } from './http.js';

export const FORK_PREFIX = 'wm-fork-';

/** Canonical JSON (sorted keys), so a digest does not depend on key order. */
function canon(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as object).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canon((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}
const digest = (v: unknown) => createHash('sha256').update(canon(v)).digest('hex');

export type ItemKind = 'script' | 'flow' | 'resource' | 'variable' | 'resource_type' | 'folder';

/** `kind:path` → digest of what matters of every item of `ws` (what a deploy would carry). */
export async function itemDigests(q: Sql, ws: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const put = (kind: ItemKind, path: string, v: unknown) => out.set(`${kind}:${path}`, digest(v));
  for (const s of await q.query(
    `SELECT DISTINCT ON (path) path, content, language, summary, description, kind, archived FROM script
     WHERE workspace_id = $1 AND NOT deleted AND NOT draft_only ORDER BY path, seq DESC`,
    [ws],
  )) {
    if (!s.archived) put('script', s.path, [s.content, s.language, s.summary ?? '', s.description ?? '', s.kind ?? 'script']);
  }
  for (const f of await q.query(`SELECT path, summary, description, value FROM flow WHERE workspace_id = $1 AND NOT archived`, [ws])) {
    put('flow', f.path, [f.summary ?? '', f.description ?? '', f.value]);
  }
  for (const r of await q.query(`SELECT path, resource_type, value, description FROM resource WHERE workspace_id = $1 AND resource_type NOT IN ('state', 'cache')`, [ws])) {
    put('resource', r.path, [r.resource_type, r.value, r.description ?? '']);
  }
  for (const v of await q.query(`SELECT path, value, is_secret, description FROM variable WHERE workspace_id = $1`, [ws])) {
    put('variable', v.path, [v.value, v.is_secret, v.description ?? '']);
  }
  for (const t of await q.query(`SELECT name, body FROM resource_type WHERE workspace_id = $1`, [ws])) put('resource_type', t.name, t.body);
  for (const f of await q.query(`SELECT name, display_name, summary, owners, extra_perms FROM folder WHERE workspace_id = $1`, [ws])) {
    put('folder', f.name, [f.summary ?? '', f.owners ?? [], f.extra_perms ?? {}]);
  }
  return out;
}

/** Tables copied into a fork, with the columns not copied (serial ids, renumbered). */
const COPIED: [table: string, skip: string[]][] = [
  ['folder', []],
  ['script', ['seq']],
  ['flow_version', ['id']],
  ['flow', []],
  ['resource_type', []],
  ['resource', []],
  ['variable', []],
  ['schedule', []],
  ['member', []],
  ['usr_group', []],
  ['workspace_dependencies', ['id']],
];

async function columnsOf(q: Sql, table: string): Promise<string[]> {
  const rows = await q.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns WHERE table_name = $1 AND table_schema = current_schema() ORDER BY ordinal_position`,
    [table],
  );
  return rows.map((r) => r.column_name);
}

async function copyInto(q: Sql, from: string, to: string): Promise<void> {
  for (const [table, skip] of COPIED) {
    const cols = (await columnsOf(q, table)).filter((c) => c !== 'workspace_id' && !skip.includes(c));
    const list = cols.map((c) => `"${c}"`).join(', ');
    const order = table === 'script' ? ' ORDER BY seq' : table === 'flow_version' ? ' ORDER BY id' : '';
    await q.query(`INSERT INTO ${table} (workspace_id, ${list}) SELECT $2, ${list} FROM ${table} WHERE workspace_id = $1${order}`, [from, to]);
  }
  // A flow points at its newest version, renumbered in the fork.
  await q.query(
    `UPDATE flow f SET version_id = v.id FROM (SELECT path, max(id) AS id FROM flow_version WHERE workspace_id = $1 GROUP BY path) v
     WHERE f.workspace_id = $1 AND f.path = v.path`,
    [to],
  );
  // A fork does not run its parent's schedules.
  await q.query(`UPDATE schedule SET enabled = false WHERE workspace_id = $1`, [to]);
}

async function recordBase(q: Sql, fork: string, digests: Map<string, string>): Promise<void> {
  await q.query(`DELETE FROM fork_base WHERE workspace_id = $1`, [fork]);
  for (const [key, d] of digests) {
    const at = key.indexOf(':');
    await q.query(`INSERT INTO fork_base (workspace_id, kind, path, digest) VALUES ($1, $2, $3, $4)`, [fork, key.slice(0, at), key.slice(at + 1), d]);
  }
}

export interface ForkDiff {
  kind: ItemKind;
  path: string;
  ahead: number;
  behind: number;
  has_changes: boolean;
  exists_in_source: boolean;
  exists_in_fork: boolean;
}

/** What changed on either side since the fork was made (or last merged). */
export async function compareFork(q: Sql, parent: string, fork: string): Promise<ForkDiff[]> {
  const [p, f] = [await itemDigests(q, parent), await itemDigests(q, fork)];
  const base = new Map<string, string>();
  for (const r of await q.query<{ kind: string; path: string; digest: string }>(`SELECT kind, path, digest FROM fork_base WHERE workspace_id = $1`, [fork])) {
    base.set(`${r.kind}:${r.path}`, r.digest);
  }
  const keys = [...new Set([...p.keys(), ...f.keys(), ...base.keys()])].sort();
  const diffs: ForkDiff[] = [];
  for (const key of keys) {
    const [dp, df, db] = [p.get(key), f.get(key), base.get(key)];
    const ahead = df !== db ? 1 : 0;
    const behind = dp !== db ? 1 : 0;
    if (!ahead && !behind) continue;
    const at = key.indexOf(':');
    diffs.push({
      kind: key.slice(0, at) as ItemKind,
      path: key.slice(at + 1),
      ahead,
      behind,
      has_changes: dp !== df,
      exists_in_source: dp !== undefined,
      exists_in_fork: df !== undefined,
    });
  }
  return diffs;
}

const SUMMARY_KEYS: Record<ItemKind, string> = {
  script: 'scripts_changed',
  flow: 'flows_changed',
  resource: 'resources_changed',
  variable: 'variables_changed',
  resource_type: 'resource_types_changed',
  folder: 'folders_changed',
};

/** Where a kind's path lives for the access check (folders and resource types by name). */
const accessPath = (d: ForkDiff) => (d.kind === 'folder' ? `f/${d.path}/x` : d.kind === 'resource_type' ? undefined : d.path);

async function forkOf(q: Sql, parent: string, fork: string): Promise<void> {
  const [w] = await q.query<{ parent_workspace_id: string | null }>(`SELECT parent_workspace_id FROM workspace WHERE id = $1`, [fork]);
  if (!w) throw notFound(`workspace ${fork} not found`);
  if (w.parent_workspace_id !== parent) throw badRequest(`workspace ${fork} is not a fork of ${parent}`);
}

export function registerForkRoutes(r: Router<Env>): void {
  // Windmill starts git-sync jobs for the fork's branch here; this server has no git sync: none started.
  r.post('workspaces/create_workspace_fork_branch', async () => json([]));

  r.post('workspaces/create_fork', async (c, e) => {
    if (e.p.operator || e.p.jobId) throw forbidden(`${e.p.username} may not fork workspace ${c.ws} (operators and jobs cannot)`);
    const b = await c.obj();
    if (typeof b.id !== 'string' || !b.id.startsWith(FORK_PREFIX) || !/^[A-Za-z0-9_-]{1,50}$/.test(b.id)) {
      throw badRequest(`invalid fork id ${JSON.stringify(b.id)}: ${FORK_PREFIX}<slug> with letters, digits, _ and -, at most 50 characters`);
    }
    const name = typeof b.name === 'string' && b.name.trim() ? b.name : b.id;
    if (name.length > 50) throw badRequest('fork name: at most 50 characters');
    await e.db.tx(async (q) => {
      const [parent] = await q.query(`SELECT * FROM workspace WHERE id = $1`, [c.ws]);
      const settings = { ...((parent!.settings as Record<string, unknown>) ?? {}), ...(typeof b.color === 'string' ? { color: b.color } : {}) };
      const rows = await q.query(
        `INSERT INTO workspace (id, name, encryption_key, parent_workspace_id, settings) VALUES ($1, $2, $3, $4, $5::json) ON CONFLICT (id) DO NOTHING RETURNING id`,
        [b.id, name, parent!.encryption_key, c.ws, JSON.stringify(settings)],
      );
      if (!rows.length) throw badRequest(`workspace ${b.id} already exists`);
      await copyInto(q, c.ws, b.id);
      // The one who forks administers the fork (a super admin not a member of the parent too).
      await q.query(`INSERT INTO account (email) VALUES ($1) ON CONFLICT DO NOTHING`, [e.p.email]);
      await q.query(
        `INSERT INTO member (workspace_id, email, username, is_admin) VALUES ($1, $2, $3, true)
         ON CONFLICT (workspace_id, email) DO UPDATE SET is_admin = true, operator = false`,
        [b.id, e.p.email, e.p.username],
      );
      await recordBase(q, b.id, await itemDigests(q, b.id));
    });
    return text(`Created forked workspace ${b.id} (${name}) from ${c.ws}`, 201);
  });

  r.get('workspaces/compare/([^/]+)', async (c, e) => {
    const fork = c.params[0]!;
    await forkOf(e.db, c.ws, fork);
    const all = await compareFork(e.db, c.ws, fork);
    const diffs: ForkDiff[] = [];
    for (const d of all) {
      const path = accessPath(d);
      if (path === undefined || (await can(e.db, c.ws, e.p, path, 'read'))) diffs.push(d);
    }
    const summary: Record<string, number> = {
      total_diffs: diffs.filter((d) => d.has_changes).length,
      scripts_changed: 0,
      flows_changed: 0,
      apps_changed: 0,
      resources_changed: 0,
      variables_changed: 0,
      resource_types_changed: 0,
      folders_changed: 0,
      schedules_changed: 0,
      triggers_changed: 0,
      conflicts: diffs.filter((d) => d.has_changes && d.ahead > 0 && d.behind > 0).length,
    };
    for (const d of diffs) if (d.has_changes) summary[SUMMARY_KEYS[d.kind]]! += 1;
    return json({
      skipped_comparison: false,
      all_ahead_items_visible: diffs.length === all.length,
      all_behind_items_visible: diffs.length === all.length,
      diffs,
      summary,
    });
  });

  r.post('workspaces/reset_diff_tally/([^/]+)', async (c, e) => {
    const fork = c.params[0]!;
    await forkOf(e.db, c.ws, fork);
    if (e.p.operator) throw forbidden(`${e.p.username} may not merge forks (operators cannot write)`);
    await e.db.tx(async (q) => {
      const [p, f] = [await itemDigests(q, c.ws), await itemDigests(q, fork)];
      for (const d of await compareFork(q, c.ws, fork)) {
        const key = `${d.kind}:${d.path}`;
        if (p.get(key) !== f.get(key)) continue; // still different: its changes stay counted
        const now = p.get(key);
        if (now === undefined) await q.query(`DELETE FROM fork_base WHERE workspace_id = $1 AND kind = $2 AND path = $3`, [fork, d.kind, d.path]);
        else {
          await q.query(
            `INSERT INTO fork_base (workspace_id, kind, path, digest) VALUES ($1, $2, $3, $4) ON CONFLICT (workspace_id, kind, path) DO UPDATE SET digest = EXCLUDED.digest`,
            [fork, d.kind, d.path, now],
          );
        }
      }
    });
    return text(`reset the changes counted between ${c.ws} and ${fork}`);
  });
}

export function registerForkGlobalRoutes(g: Router<Env>): void {
  g.del('workspaces/delete/([^/]+)', async (c, e) => {
    const id = c.params[0]!;
    if (e.p.jobId) throw forbidden('a job cannot delete workspaces');
    const [w] = await e.db.query<{ parent_workspace_id: string | null }>(`SELECT parent_workspace_id FROM workspace WHERE id = $1`, [id]);
    if (!w) throw notFound(`workspace ${id} not found`);
    if (id === 'admins') throw badRequest('workspace admins cannot be deleted');
    if (!e.p.superAdmin) {
      const [m] = await e.db.query(`SELECT is_admin FROM member WHERE workspace_id = $1 AND email = $2`, [id, e.p.email]);
      if (!w.parent_workspace_id || !m?.is_admin) throw forbidden(`only super admins can delete workspace ${id}${w.parent_workspace_id ? ' (or an admin of the fork)' : ''}`);
    }
    await e.db.tx(async (q) => {
      // Jobs and their data are kept by id, not by workspace foreign key: removed here with it.
      await q.query(`DELETE FROM job_logs WHERE job_id IN (SELECT id FROM job WHERE workspace_id = $1)`, [id]);
      await q.query(`DELETE FROM job WHERE workspace_id = $1`, [id]);
      await q.query(`DELETE FROM job_state WHERE workspace_id = $1`, [id]);
      await q.query(`DELETE FROM audit_log WHERE workspace_id = $1`, [id]);
      await q.query(`DELETE FROM workspace WHERE id = $1`, [id]);
    });
    return text(`Deleted workspace ${id}`);
  });
}
