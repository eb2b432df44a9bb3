/**
 * Scripts and Windmill's version model (spec/windmill-server.md §3): every deploy inserts an
 * immutable version with a server-assigned 16-hex hash; the path resolves to its newest
 * non-archived version; `parent_hash` keeps each path's history linear (one child per parent,
 * checked under a row lock on the parent, with the reference's error texts); `auto_parent`
 * re-parents onto the current head; archive keeps versions runnable by hash; delete by hash
 * blanks one version; delete by path removes them all. All writes are single transactions.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { SCRIPT_SETTINGS_KEYS } from '../items/canonical.js';
import type { Sql } from './db/db.js';
import type { Principal } from './auth.js';
import { accessIn, accessTo, requireAccess as checkAccess, scopeOf, type Op } from './access.js';
import type { Env } from './env.js';
import { badRequest, checkItemPath, forbidden, json, notFound, text, type Router, boolParam } from './http.js';
import { paged } from './paging.js';

/** NewScript fields kept in their own columns; the known optional fields go to `settings`. */
const SETTINGS_KEYS = [...SCRIPT_SETTINGS_KEYS, 'is_template', 'no_main_func'] as const;

export const NewScript = z.object({
  path: z.string(),
  content: z.string(),
  language: z.string().min(1),
  summary: z.string().nullish(),
  description: z.string().nullish(),
  kind: z.string().nullish(),
  schema: z.unknown().optional(),
  lock: z.string().nullish(),
  parent_hash: z.string().nullish(),
  auto_parent: z.boolean().nullish(),
  deployment_message: z.string().nullish(),
  skip_draft_deletion: z.boolean().nullish(),
  draft_only: z.boolean().nullish(),
}).passthrough();
export type NewScript = z.infer<typeof NewScript>;

export function zodMessage(e: z.ZodError, what: string): string {
  const i = e.issues[0]!;
  return `invalid ${what}: ${i.path.length ? i.path.join('.') + ': ' : ''}${i.message}`;
}

const HEX16 = /^[0-9a-f]{16}$/;

export function checkHash(h: string): string {
  if (!HEX16.test(h)) throw badRequest(`invalid script hash "${h}": expected 16 lowercase hex digits`);
  return h;
}

export function scriptView(r: Record<string, any>, opts: { withDeploymentMsg?: boolean } = {}) {
  const settings = (r.settings ?? {}) as Record<string, unknown>;
  return {
    hash: r.hash,
    path: r.path,
    parent_hashes: r.parent_hashes ?? [],
    summary: r.summary,
    description: r.description,
    content: r.content,
    created_by: r.created_by,
    created_at: r.created_at instanceof Date ? r.created_at.toISOString() : r.created_at,
    archived: r.archived,
    deleted: r.deleted,
    schema: r.schema ?? undefined,
    is_template: false,
    extra_perms: r.extra_perms ?? {},
    lock: r.lock,
    lock_error_logs: r.lock_error_logs ?? undefined,
    language: r.language,
    kind: r.kind,
    draft_only: r.draft_only || undefined,
    ...settings,
    ...(opts.withDeploymentMsg ? { deployment_msg: r.deployment_msg ?? undefined } : {}),
  };
}

/** Newest version at `path`, archived or not (what `get/p` shows). */
export async function newestAt(q: Sql, ws: string, path: string) {
  const [r] = await q.query(`SELECT * FROM script WHERE workspace_id = $1 AND path = $2 AND NOT deleted ORDER BY seq DESC LIMIT 1`, [ws, path]);
  return r;
}

/** The version a run by path executes: newest non-archived, non-deleted. */
export async function headAt(q: Sql, ws: string, path: string, forUpdate = false) {
  const [r] = await q.query(
    `SELECT * FROM script WHERE workspace_id = $1 AND path = $2 AND NOT archived AND NOT deleted ORDER BY seq DESC LIMIT 1${forUpdate ? ' FOR UPDATE' : ''}`,
    [ws, path],
  );
  return r;
}

export async function byHash(q: Sql, ws: string, hash: string) {
  const [r] = await q.query(`SELECT * FROM script WHERE workspace_id = $1 AND hash = $2`, [ws, hash]);
  return r;
}

/** Scripts' use of the one access check (access.ts). */
async function requireAccess(q: Sql, ws: string, p: Principal, path: string, need: Op) {
  await checkAccess(q, ws, p, path, need, 'Script');
}
export { requireAccess };

function settingsOf(b: Record<string, unknown>): Record<string, unknown> {
  const s: Record<string, unknown> = {};
  for (const k of SETTINGS_KEYS) if (b[k] !== undefined && b[k] !== null) s[k] = b[k];
  return s;
}

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, val) =>
    val && typeof val === 'object' && !Array.isArray(val)
      ? Object.fromEntries(Object.keys(val).sort().map((k) => [k, (val as any)[k]]))
      : val,
  );
}

function sameVersion(row: Record<string, any>, b: NewScript, settings: Record<string, unknown>): boolean {
  return (
    row.content === b.content &&
    row.language === b.language &&
    (row.summary ?? '') === (b.summary ?? '') &&
    (row.description ?? '') === (b.description ?? '') &&
    (row.kind ?? 'script') === (b.kind ?? 'script') &&
    (row.lock ?? '') === (b.lock ?? '') &&
    canonical(row.schema ?? null) === canonical(b.schema ?? null) &&
    canonical(row.settings ?? {}) === canonical(settings)
  );
}

export interface CreateOutcome {
  hash: string;
  created: boolean;
}

/** Deploy a script version (one transaction). Throws HttpError 400 with the reference's texts. */
export async function createScript(q: Sql, ws: string, p: Principal, raw: unknown, opts: { skipIfNoop?: boolean } = {}): Promise<CreateOutcome> {
  const parsed = NewScript.safeParse(raw);
  if (!parsed.success) throw badRequest(zodMessage(parsed.error, 'script'));
  const b = parsed.data;
  const path = checkItemPath(b.path);
  await requireAccess(q, ws, p, path, 'write');
  const settings = settingsOf(b as Record<string, unknown>);

  let parentHash = b.parent_hash ?? undefined;
  if (parentHash) checkHash(parentHash);
  // Serialise deploys of one path: lock its head (and, below, the parent) for the transaction.
  const head = await headAt(q, ws, path, true);
  if (b.auto_parent && parentHash) parentHash = head?.hash ?? undefined;
  if (b.auto_parent && !parentHash && head && !head.draft_only) parentHash = head.hash;

  if (opts.skipIfNoop && head && (!parentHash || parentHash === head.hash) && sameVersion(head, b, settings)) {
    return { hash: head.hash, created: false };
  }

  const [{ n }] = (await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM script WHERE workspace_id = $1 AND path = $2`, [ws, path])) as [{ n: number }];
  const hash = createHash('sha256')
    .update(canonical({ path, parentHash: parentHash ?? null, generation: n, summary: b.summary ?? '', description: b.description ?? '', content: b.content, schema: b.schema ?? null, lock: b.lock ?? null, language: b.language, kind: b.kind ?? 'script', settings, msg: b.deployment_message ?? null }))
    .digest('hex')
    .slice(0, 16);
  if (await byHash(q, ws, hash)) throw badRequest('A script with same hash (hence same path, description, summary, content) already exists!');

  let parentHashes: string[] = [];
  let extraPerms: unknown = {};
  if (!parentHash) {
    if (head && !head.draft_only) throw badRequest(`Path conflict for ${path} with non-archived hash ${head.hash}`);
    if (head?.draft_only) await q.query(`DELETE FROM script WHERE workspace_id = $1 AND hash = $2`, [ws, head.hash]);
  } else {
    const [parent] = await q.query(`SELECT * FROM script WHERE workspace_id = $1 AND hash = $2 FOR UPDATE`, [ws, parentHash]);
    if (!parent) throw badRequest('The parent hash does not seem to exist');
    const [child] = await q.query<{ hash: string }>(
      `SELECT hash FROM script WHERE workspace_id = $1 AND parent_hashes->>0 = $2 LIMIT 1`,
      [ws, parentHash],
    );
    if (child) {
      throw badRequest(
        `A script with hash ${child.hash} with same parent_hash has been found. However, the lineage must be linear: no 2 scripts can have the same parent`,
      );
    }
    if (parent.path !== path) await requireAccess(q, ws, p, parent.path, 'write');
    if (head && head.hash !== parentHash && !head.draft_only) throw badRequest(`Path conflict for ${path} with non-archived hash ${head.hash}`);
    parentHashes = [parentHash, ...((parent.parent_hashes as string[]) ?? [])].slice(0, 20);
    extraPerms = parent.extra_perms ?? {};
    await q.query(`UPDATE script SET archived = true WHERE workspace_id = $1 AND hash = $2`, [ws, parentHash]);
  }

  await q.query(
    `INSERT INTO script (workspace_id, hash, path, parent_hashes, summary, description, content, language, kind, schema, lock,
       settings, draft_only, extra_perms, deployment_msg, created_by)
     VALUES ($1,$2,$3,$4::json,$5,$6,$7,$8,$9,$10::json,$11,$12::json,$13,$14::json,$15,$16)`,
    [
      ws, hash, path, JSON.stringify(parentHashes), b.summary ?? '', b.description ?? '', b.content, b.language, b.kind ?? 'script',
      b.schema === undefined ? null : JSON.stringify(b.schema), b.lock ?? '', JSON.stringify(settings), !!b.draft_only,
      JSON.stringify(extraPerms), b.deployment_message ?? null, p.username,
    ],
  );
  // The deployer's own draft is done; other users' drafts stay (they see the new base in their diff).
  if (!b.skip_draft_deletion) await q.query(`DELETE FROM draft WHERE workspace_id = $1 AND kind = 'script' AND path = $2 AND email = $3`, [ws, path, p.email]);
  return { hash, created: true };
}

export function registerScripts(r: Router<Env>): void {
  r.post('scripts/create', async (c, e) => {
    const body = await c.obj();
    const out = await e.db.tx((q) => createScript(q, c.ws, e.p, body, { skipIfNoop: boolParam(c.query, 'skip_if_noop') }));
    return text(out.hash, 201);
  });

  r.get('scripts/get/p/(.+)', async (c, e) => {
    const path = c.params[0]!;
    await requireAccess(e.db, c.ws, e.p, path, 'read');
    const row = await newestAt(e.db, c.ws, path);
    if (!row) throw notFound(`Script not found at path ${path}`);
    return json(scriptView(row));
  });

  r.get('scripts/get/h/([^/]+)', async (c, e) => {
    const row = await byHash(e.db, c.ws, checkHash(c.params[0]!));
    if (!row) throw notFound(`Script not found at hash ${c.params[0]}`);
    await requireAccess(e.db, c.ws, e.p, row.path, 'read');
    return json(scriptView(row));
  });

  r.get('scripts/raw/p/(.+)', async (c, e) => {
    const path = c.params[0]!.replace(/\.(ts|py|go|sh)$/, '');
    await requireAccess(e.db, c.ws, e.p, path, 'read');
    const row = await headAt(e.db, c.ws, path);
    if (!row) throw notFound(`Script not found at path ${path}`);
    return text(row.content);
  });

  r.get('scripts/raw/h/([0-9a-f]{16})(?:\\.\\w+)?', async (c, e) => {
    const row = await byHash(e.db, c.ws, c.params[0]!);
    if (!row) throw notFound(`Script not found at hash ${c.params[0]}`);
    await requireAccess(e.db, c.ws, e.p, row.path, 'read');
    return text(row.content);
  });

  r.get('scripts/exists/p/(.+)', async (c, e) => {
    const path = c.params[0]!;
    if ((await accessTo(e.db, c.ws, e.p, path)) === 'none') return json(false);
    return json(!!(await headAt(e.db, c.ws, path)));
  });

  r.get('scripts/list', async (c, e) => {
    const showArchived = boolParam(c.query, 'show_archived');
    const rows = await e.db.query(
      // The listed columns only (not every version's content, lock and schema).
      `SELECT DISTINCT ON (path) hash, path, summary, created_by, created_at, archived, language, kind, extra_perms, draft_only, deployment_msg
       FROM script WHERE workspace_id = $1 AND NOT deleted ${showArchived ? '' : 'AND NOT archived'}
       ORDER BY path, seq DESC`,
      [c.ws],
    );
    const start = c.query.get('path_start');
    const exact = c.query.get('path_exact');
    const out = [];
    // The caller's folders read once (not a query per script).
    const scope = await scopeOf(e.db, c.ws, e.p);
    for (const r0 of rows) {
      if (start && !r0.path.startsWith(start)) continue;
      if (exact && r0.path !== exact) continue;
      if (accessIn(scope, r0.path) === 'none') continue;
      out.push({
        hash: r0.hash, path: r0.path, summary: r0.summary, created_by: r0.created_by, created_at: r0.created_at, archived: r0.archived, language: r0.language,
        kind: r0.kind, extra_perms: r0.extra_perms, has_draft: false, draft_only: r0.draft_only,
        ...(boolParam(c.query, 'with_deployment_msg') ? { deployment_msg: r0.deployment_msg ?? undefined } : {}),
      });
    }
    return json(paged(c, out));
  });

  r.get('scripts/list_paths', async (c, e) => {
    const rows = await e.db.query<{ path: string }>(`SELECT DISTINCT path FROM script WHERE workspace_id = $1 AND NOT archived AND NOT deleted ORDER BY path`, [c.ws]);
    const out: string[] = [];
    for (const r0 of rows) if ((await accessTo(e.db, c.ws, e.p, r0.path)) !== 'none') out.push(r0.path);
    return json(out);
  });

  r.post('scripts/archive/p/(.+)', async (c, e) => {
    const path = c.params[0]!;
    await requireAccess(e.db, c.ws, e.p, path, 'write');
    const rows = await e.db.query(`UPDATE script SET archived = true WHERE workspace_id = $1 AND path = $2 AND NOT archived RETURNING hash`, [c.ws, path]);
    if (!rows.length && !(await newestAt(e.db, c.ws, path))) throw notFound(`Script not found at path ${path}`);
    return text(path);
  });

  r.post('scripts/archive/h/([^/]+)', async (c, e) => {
    const hash = checkHash(c.params[0]!);
    const row = await byHash(e.db, c.ws, hash);
    if (!row) throw notFound(`Script not found at hash ${hash}`);
    await requireAccess(e.db, c.ws, e.p, row.path, 'write');
    await e.db.query(`UPDATE script SET archived = true WHERE workspace_id = $1 AND hash = $2`, [c.ws, hash]);
    return json(scriptView({ ...row, archived: true }));
  });

  r.post('scripts/delete/h/([^/]+)', async (c, e) => {
    const hash = checkHash(c.params[0]!);
    if (!e.p.isAdmin) throw forbidden('only admins can delete a script version');
    const rows = await e.db.query(
      `UPDATE script SET content = '', lock = NULL, schema = NULL, archived = true, deleted = true WHERE workspace_id = $1 AND hash = $2 RETURNING *`,
      [c.ws, hash],
    );
    if (!rows.length) throw notFound(`Script not found at hash ${hash}`);
    return json(scriptView(rows[0]!));
  });

  r.post('scripts/delete/p/(.+)', async (c, e) => {
    const path = c.params[0]!;
    await e.db.tx(async (q) => {
      const rows = await q.query<{ draft_only: boolean }>(`SELECT draft_only FROM script WHERE workspace_id = $1 AND path = $2`, [c.ws, path]);
      if (!rows.length) throw notFound(`Script not found at path ${path}`);
      const draftOnly = rows.every((x) => x.draft_only);
      if (!e.p.isAdmin && !draftOnly) throw forbidden('only admins can delete a script with all its versions');
      await requireAccess(q, c.ws, e.p, path, 'write');
      await q.query(`DELETE FROM script WHERE workspace_id = $1 AND path = $2`, [c.ws, path]);
      await q.query(`DELETE FROM draft WHERE workspace_id = $1 AND kind = 'script' AND path = $2`, [c.ws, path]);
    });
    return text(path);
  });

  r.get('scripts/history/p/(.+)', async (c, e) => {
    const path = c.params[0]!;
    await requireAccess(e.db, c.ws, e.p, path, 'read');
    const perPage = c.q.int('per_page', { dflt: 100, min: 1, max: 1000, clamp: true });
    const page = c.q.int('page', { dflt: 1, min: 1, max: 1_000_000 });
    const rows = await e.db.query(
      `SELECT hash, deployment_msg, created_at, created_by, archived FROM script WHERE workspace_id = $1 AND path = $2 AND NOT deleted
       ORDER BY seq DESC LIMIT $3 OFFSET $4`,
      [c.ws, path, perPage, (page - 1) * perPage],
    );
    if (!rows.length && page === 1) throw notFound(`Script not found at path ${path}`);
    return json(rows.map((r0) => ({ script_hash: r0.hash, deployment_msg: r0.deployment_msg ?? undefined, created_at: r0.created_at, created_by: r0.created_by })));
  });

  r.get('scripts/get_latest_version/(.+)', async (c, e) => {
    const path = c.params[0]!;
    await requireAccess(e.db, c.ws, e.p, path, 'read');
    const row = await newestAt(e.db, c.ws, path);
    return json(row ? { script_hash: row.hash, deployment_msg: row.deployment_msg ?? undefined, created_at: row.created_at, created_by: row.created_by } : null);
  });

  r.post('scripts/history_update/h/([^/]+)/p/(.+)', async (c, e) => {
    const hash = checkHash(c.params[0]!);
    const path = c.params[1]!;
    await requireAccess(e.db, c.ws, e.p, path, 'write');
    const b = await c.obj();
    if (b.deployment_msg != null && typeof b.deployment_msg !== 'string') throw badRequest('deployment_msg must be a string');
    const rows = await e.db.query(`UPDATE script SET deployment_msg = $3 WHERE workspace_id = $1 AND hash = $2 AND path = $4 RETURNING hash`, [c.ws, hash, b.deployment_msg ?? null, path]);
    if (!rows.length) throw notFound(`Script not found at hash ${hash}`);
    return text('Updated the deployment message');
  });

  r.get('scripts/deployment_status/h/([^/]+)', async (c, e) => {
    const row = await byHash(e.db, c.ws, checkHash(c.params[0]!));
    if (!row) throw notFound(`Script not found at hash ${c.params[0]}`);
    await requireAccess(e.db, c.ws, e.p, row.path, 'read');
    return json({ lock: row.lock, lock_error_logs: row.lock_error_logs ?? null, job_id: null });
  });

  r.post('scripts/raw_temp/diff', async (c, e) => {
    const b = await c.obj();
    const scripts = b.scripts;
    if (!scripts || typeof scripts !== 'object' || Array.isArray(scripts)) throw badRequest('scripts must be an object of path → sha256');
    const out: string[] = [];
    for (const [path, sha] of Object.entries(scripts as Record<string, unknown>)) {
      // What the caller may not read is reported as different, as a missing script is.
      const row = (await accessTo(e.db, c.ws, e.p, path)) === 'none' ? undefined : await headAt(e.db, c.ws, path);
      const cur = row ? createHash('sha256').update(row.content).digest('hex') : undefined;
      if (cur !== sha) out.push(path);
    }
    // Workspace dependency files (`dependencies/...`): this server keeps no deployed copy to
    // compare with, so every one is reported as different and the CLI sends its local content
    // with each dependencies job (src/server/dependencies.ts uses it as `wmill generate-metadata` does).
    if (Array.isArray(b.workspace_deps)) {
      for (const d of b.workspace_deps as unknown[]) {
        const path = (d as { path?: unknown })?.path;
        if (typeof path === 'string') out.push(path);
      }
    }
    return json(out);
  });

  r.post('scripts/raw_temp/store', async (c, e) => {
    const b = await c.body();
    if (typeof b !== 'string') throw badRequest('body must be the script content as a JSON string');
    const hash = createHash('sha256').update(b).digest('hex');
    await e.db.query(`INSERT INTO temp_script (workspace_id, hash, content) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING`, [c.ws, hash, b]);
    return text(hash);
  });
}
