/**
 * Workspace administration as the real windmill-cli 1.819.0 reaches it (spec/endpoint-catalog.txt):
 *
 * - the audit log (`wmill audit list|get`, admins): every successful write through the HTTP API
 *   (any non-GET route of a workspace) is recorded by `recorded()` below: who, when, the operation
 *   (`<resource>.<verb>`, as Windmill names them: `scripts.create`, `groups.adduser`), its kind
 *   (Create/Update/Delete/Execute) and the item it names;
 * - the trash (`wmill trash list|get|restore`, admins): a deleted variable, resource, flow,
 *   schedule or script is kept three days with the rows it had, and can be put back;
 * - workspace settings (`get_settings` and the `edit_*` routes sync's `settings.yaml` pushes),
 *   the workspace name and color;
 * - workspace dependencies (`wmill dependencies push`, sync's `dependencies/`): versioned per
 *   language and name, the newest one current;
 * - instance settings (`settings/global/{key}`, `settings/instance_config` for `wmill instance get-config`);
 * - what this server does not have answers one line with 501 (`notAvailable`): the Windmill Hub
 *   (offline), data tables, ducklakes, object storage, pipelines, docs search, Slack.
 */
import type { Sql } from './db/db.js';
import type { Env } from './env.js';
import type { Principal } from './auth.js';
import { badRequest, forbidden, HttpError, json, notFound, text, type Ctx, type Reply, type Router } from './http.js';

const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : v == null ? null : String(v));

/** The one-line refusal of a feature this server does not have. */
export function notAvailable(what: string): HttpError {
  return new HttpError(501, `${what}: not available on wmill serve (a Windmill cloud/enterprise feature); use a Windmill instance for it`);
}

/** `wmill hub pull` fetches `<hub_base_url>/resource_types/list` without a token: this server points it here. */
export const HUB_PATH = '/api/hub/';
export function hubOffline(): Reply {
  return {
    status: 503,
    text: 'the Windmill Hub is not reachable from wmill serve (it runs offline): add resource types as <name>.resource-type.yaml files and `wmill sync push` them',
  };
}

function requireAdmin(p: Principal, what: string): void {
  if (!p.isAdmin) throw forbidden(`${what} requires a workspace admin (${p.username} is not one)`);
}

// ---------------------------------------------------------------------------------------------
// Audit log and trash: recorded around every workspace route

const TRASHED: Record<string, { kind: string; table: string }> = {
  variables: { kind: 'variable', table: 'variable' },
  resources: { kind: 'resource', table: 'resource' },
  flows: { kind: 'flow', table: 'flow' },
  schedules: { kind: 'schedule', table: 'schedule' },
  scripts: { kind: 'script', table: 'script' },
};

/**
 * POSTs that change no item: a running job's own bookkeeping (workflow checkpoints, progress,
 * flow user states), reads sent as POST (sync manifest, script diffs), a push's staged parts.
 */
const NOT_AUDITED = /^(jobs\/wac\/|job_metrics\/|jobs\/flow\/user_states\/|wmill\/sync_manifest$|wmill\/sync_push\/[^/]+\/part\/|scripts\/raw_temp\/)/;

function operationOf(method: string, rest: string): { operation: string; action: string; resource: string | null } {
  const segs = rest.split('/');
  const [res = '', verb = ''] = segs;
  let resource = segs.slice(2).join('/');
  // `scripts/archive/p/<path>`, `jobs/run/p/<path>`: the path after the p/f/h marker.
  resource = resource.replace(/^(p|f|h|v)\//, '');
  const v = verb.toLowerCase();
  const action =
    res.startsWith('jobs') || v === 'run' || v.startsWith('run_') ? 'Execute'
    : method === 'DELETE' || /delete|remove|archive/.test(v) ? 'Delete'
    : /create|add|new/.test(v) ? 'Create'
    : 'Update';
  return { operation: `${res}.${verb || method.toLowerCase()}`, action, resource: resource || null };
}

/**
 * Run a workspace route, recording what it changed: a non-GET request that succeeded gets an
 * audit row; a deletion of a trashable item first snapshots its rows into the trash (removed
 * again if the deletion failed).
 */
export async function recorded(e: Env, ws: string, method: string, rest: string, run: () => Promise<Reply>): Promise<Reply> {
  if (method === 'GET' || method === 'HEAD' || NOT_AUDITED.test(rest)) return run();
  let trashId: string | undefined;
  const del = /^(variables|resources|flows|schedules)\/delete\/(.+)$|^(scripts)\/delete\/p\/(.+)$/.exec(rest);
  if (method === 'DELETE' || del) {
    if (del) {
      const coll = (del[1] ?? del[3])!;
      const path = (del[2] ?? del[4])!;
      const t = TRASHED[coll]!;
      const rows = await e.db.query(`SELECT * FROM ${t.table} WHERE workspace_id = $1 AND path = $2`, [ws, path]);
      if (rows.length) {
        const [r] = await e.db.query<{ id: string }>(
          `INSERT INTO trash (workspace_id, item_kind, item_path, item_data, deleted_by) VALUES ($1, $2, $3, $4::json, $5) RETURNING id`,
          [ws, t.kind, path, JSON.stringify({ rows }), e.p.username],
        );
        trashId = r?.id;
      }
    }
  }
  let reply: Reply;
  try {
    reply = await run();
  } catch (err) {
    if (trashId) await e.db.query(`DELETE FROM trash WHERE id = $1`, [trashId]).catch(() => undefined);
    throw err;
  }
  if ((reply.status ?? 200) >= 400) {
    if (trashId) await e.db.query(`DELETE FROM trash WHERE id = $1`, [trashId]).catch(() => undefined);
    return reply;
  }
  const op = operationOf(method, rest);
  await e.db
    .query(`INSERT INTO audit_log (workspace_id, username, operation, action_kind, resource, parameters) VALUES ($1,$2,$3,$4,$5,$6::json)`, [
      ws,
      e.p.jobId ? `${e.p.username} (job ${e.p.jobId})` : e.p.username,
      op.operation,
      op.action,
      op.resource,
      JSON.stringify({ method }),
    ])
    .catch(() => undefined);
  return reply;
}

const auditView = (r: Record<string, any>) => ({
  id: Number(r.id),
  timestamp: iso(r.timestamp),
  username: r.username,
  operation: r.operation,
  action_kind: r.action_kind,
  resource: r.resource ?? undefined,
  parameters: r.parameters ?? {},
  workspace_id: r.workspace_id,
});

function trashView(r: Record<string, any>, withData: boolean) {
  const rows = ((r.item_data as { rows?: Record<string, unknown>[] })?.rows ?? []).map(({ workspace_id: _w, ...rest }) => rest);
  // A script's newest version is what it was (all versions are kept for the restore).
  const head = rows.reduce<Record<string, unknown> | undefined>((a, b) => (!a || Number(b.seq ?? 0) > Number(a.seq ?? 0) ? b : a), undefined);
  return {
    id: Number(r.id),
    item_kind: r.item_kind,
    item_path: r.item_path,
    deleted_by: r.deleted_by,
    deleted_at: iso(r.deleted_at),
    expires_at: iso(r.expires_at),
    ...(withData ? { item_data: head ?? {} } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Workspace settings: one JSON object per workspace; each edit route sets its keys.

type Edit = (b: Record<string, any>) => Record<string, unknown>;
const orDelete = (v: unknown) => (v === null || v === undefined ? undefined : v);
const SETTINGS_EDITS: Record<string, Edit> = {
  edit_webhook: (b) => ({ webhook: orDelete(b.webhook) }),
  edit_auto_invite: (b) => ({
    auto_invite: Object.keys(b).length ? { enabled: true, operator: !!b.operator, mode: b.auto_add ? 'add' : 'invite' } : undefined,
  }),
  edit_copilot_config: (b) => ({ ai_config: Object.keys(b).length ? b : undefined }),
  edit_error_handler: (b) => ({
    error_handler: b.path ? { path: b.path, extra_args: b.extra_args ?? undefined, muted_on_cancel: !!b.muted_on_cancel, muted_on_user_path: !!b.muted_on_user_path } : undefined,
  }),
  edit_success_handler: (b) => ({ success_handler: b.path ? { path: b.path, extra_args: b.extra_args ?? undefined } : undefined }),
  edit_large_file_storage_config: (b) => ({ large_file_storage: orDelete(b.large_file_storage) }),
  edit_git_sync_config: (b) => ({ git_sync: orDelete(b.git_sync_settings) }),
  default_scripts: (b) => ({ default_scripts: Object.keys(b).length ? b : undefined }),
  edit_default_app: (b) => ({ default_app: orDelete(b.default_app_path) }),
  'critical_alerts/mute': (b) => ({ mute_critical_alerts: orDelete(b.mute_critical_alerts) }),
  change_workspace_color: (b) => ({ color: orDelete(b.color) }),
  operator_settings: (b) => ({ operator_settings: Object.keys(b).length ? b : undefined }),
  edit_slack_command: (b) => ({ slack_command_script: orDelete(b.slack_command_script) }),
};

export async function workspaceSettings(q: Sql, ws: string): Promise<Record<string, unknown>> {
  const [w] = await q.query<{ settings: Record<string, unknown> | null }>(`SELECT settings FROM workspace WHERE id = $1`, [ws]);
  return w?.settings ?? {};
}

/** settings.json of the archive (sync's settings.yaml): the workspace's name and its set settings, keys sorted. */
export async function settingsFile(q: Sql, ws: string): Promise<Record<string, unknown>> {
  const [w] = await q.query<{ name: string; settings: Record<string, unknown> | null }>(`SELECT name, settings FROM workspace WHERE id = $1`, [ws]);
  const s = w?.settings ?? {};
  const out: Record<string, unknown> = { name: w?.name ?? ws };
  for (const k of Object.keys(s).sort()) if (s[k] !== undefined && s[k] !== null) out[k] = s[k];
  return out;
}

// ---------------------------------------------------------------------------------------------
// Workspace dependencies

const DEP_LANGUAGES = new Map([
  ['bun', 'package.json'],
  ['python3', 'requirements.in'],
  ['php', 'composer.json'],
  ['go', 'go.mod'],
  ['powershell', 'modules.json'],
]);

function depLanguage(l: unknown): string {
  if (typeof l !== 'string' || !DEP_LANGUAGES.has(l)) throw badRequest(`language must be one of ${[...DEP_LANGUAGES.keys()].join(', ')}`);
  return l;
}

function depName(n: unknown): string | null {
  if (n === undefined || n === null || n === '') return null;
  if (typeof n !== 'string' || !/^[A-Za-z0-9_-]{1,100}$/.test(n)) throw badRequest(`invalid dependencies name ${JSON.stringify(n)}: use letters, digits, _ and -`);
  return n;
}

/** The current workspace dependencies of `ws`, as archive entries `dependencies/[<name>.]<file>`. */
export async function dependencyFiles(q: Sql, ws: string): Promise<{ path: string; data: string }[]> {
  const rows = await q.query(
    `SELECT DISTINCT ON (language, COALESCE(name, '')) language, name, content FROM workspace_dependencies
     WHERE workspace_id = $1 AND NOT archived ORDER BY language, COALESCE(name, ''), id DESC`,
    [ws],
  );
  return rows.map((r) => ({ path: `dependencies/${r.name ? `${r.name}.` : ''}${DEP_LANGUAGES.get(r.language) ?? r.language}`, data: r.content }));
}

const depView = (r: Record<string, any>) => ({
  id: Number(r.id),
  workspace_id: r.workspace_id,
  language: r.language,
  name: r.name ?? undefined,
  content: r.content,
  description: r.description ?? undefined,
  archived: r.archived,
  created_at: iso(r.created_at),
});

// ---------------------------------------------------------------------------------------------

export function registerAdminRoutes(r: Router<Env>): void {
  // Audit log
  r.get('audit/list', async (c, e) => {
    requireAdmin(e.p, 'the audit log');
    const params: unknown[] = [c.ws];
    const where = ['workspace_id = $1'];
    const add = (sql: string, v: unknown) => {
      params.push(v);
      where.push(sql.replace('?', `$${params.length}`));
    };
    const username = c.q.str('username');
    if (username) add('username = ?', username);
    const operation = c.q.str('operation');
    if (operation) add(`(operation = ? OR operation LIKE replace(replace(?, '%', ''), '_', '\\_') || '%')`.replace('?', `$${params.length + 1}`), operation);
    const kind = c.q.str('action_kind');
    if (kind) add('lower(action_kind) = lower(?)', kind);
    const resource = c.q.str('resource');
    if (resource) add('resource = ?', resource);
    const before = c.q.date('before');
    if (before) add('timestamp < ?', before.toISOString());
    const after = c.q.date('after');
    if (after) add('timestamp > ?', after.toISOString());
    const perPage = c.q.int('per_page', { dflt: 30, min: 1, max: 1000, clamp: true });
    const page = c.q.int('page', { dflt: 1, min: 1 });
    params.push(perPage, (page - 1) * perPage);
    const rows = await e.db.query(`SELECT * FROM audit_log WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT $${params.length - 1} OFFSET $${params.length}`, params);
    return json(rows.map(auditView));
  });
  r.get('audit/get/([0-9]+)', async (c, e) => {
    requireAdmin(e.p, 'the audit log');
    const [row] = await e.db.query(`SELECT * FROM audit_log WHERE workspace_id = $1 AND id = $2`, [c.ws, c.params[0]]);
    if (!row) throw notFound(`audit log entry ${c.params[0]} not found`);
    return json(auditView(row));
  });

  // Trash
  r.get('trash/list', async (c, e) => {
    requireAdmin(e.p, 'the trash');
    const kind = c.q.str('item_kind');
    const perPage = c.q.int('per_page', { dflt: 100, min: 1, max: 1000, clamp: true });
    const page = c.q.int('page', { dflt: 0, min: 0 });
    const rows = await e.db.query(
      `SELECT * FROM trash WHERE workspace_id = $1 AND expires_at > now() AND ($2::text IS NULL OR item_kind = $2) ORDER BY deleted_at DESC, id DESC LIMIT $3 OFFSET $4`,
      [c.ws, kind ?? null, perPage, page * perPage],
    );
    return json(rows.map((x) => trashView(x, false)));
  });
  r.get('trash/get/([0-9]+)', async (c, e) => {
    requireAdmin(e.p, 'the trash');
    const [row] = await e.db.query(`SELECT * FROM trash WHERE workspace_id = $1 AND id = $2 AND expires_at > now()`, [c.ws, c.params[0]]);
    if (!row) throw notFound(`trash item ${c.params[0]} not found (items are kept three days)`);
    return json(trashView(row, true));
  });
  r.post('trash/restore/([0-9]+)', async (c, e) => {
    requireAdmin(e.p, 'the trash');
    return e.db.tx(async (q) => {
      const [row] = await q.query(`SELECT * FROM trash WHERE workspace_id = $1 AND id = $2 AND expires_at > now() FOR UPDATE`, [c.ws, c.params[0]]);
      if (!row) throw notFound(`trash item ${c.params[0]} not found (items are kept three days)`);
      const table = Object.values(TRASHED).find((t) => t.kind === row.item_kind)?.table;
      if (!table) throw badRequest(`trash item ${row.id}: ${row.item_kind} cannot be restored`);
      const [taken] = await q.query(`SELECT 1 FROM ${table} WHERE workspace_id = $1 AND path = $2 LIMIT 1`, [c.ws, row.item_path]);
      if (taken) throw badRequest(`cannot restore ${row.item_kind} ${row.item_path}: something exists at that path now (delete or rename it first)`);
      for (const data of (row.item_data as { rows: unknown[] }).rows) {
        await q.query(`INSERT INTO ${table} SELECT * FROM json_populate_record(NULL::${table}, $1::json)`, [JSON.stringify(data)]);
      }
      await q.query(`DELETE FROM trash WHERE id = $1`, [row.id]);
      return text(`Restored ${row.item_kind} ${row.item_path}`);
    });
  });

  // Settings
  r.get('workspaces/get_settings', async (c, e) => json({ workspace_id: c.ws, ...(await workspaceSettings(e.db, c.ws)) }));
  r.get('workspaces/get_workspace_name', async (c, e) => {
    const [w] = await e.db.query<{ name: string }>(`SELECT name FROM workspace WHERE id = $1`, [c.ws]);
    return text(w?.name ?? c.ws);
  });
  r.post('workspaces/change_workspace_name', async (c, e) => {
    requireAdmin(e.p, 'renaming the workspace');
    const b = await c.obj();
    if (typeof b.new_name !== 'string' || !b.new_name.trim() || b.new_name.length > 50) throw badRequest('new_name is required (at most 50 characters)');
    await e.db.query(`UPDATE workspace SET name = $2 WHERE id = $1`, [c.ws, b.new_name]);
    return text(`renamed workspace ${c.ws} to ${b.new_name}`);
  });
  for (const [route, edit] of Object.entries(SETTINGS_EDITS)) {
    r.post(`workspaces/${route}`, async (c, e) => {
      requireAdmin(e.p, 'changing workspace settings');
      const patch = edit(await c.obj());
      await e.db.tx(async (q) => {
        const [w] = await q.query<{ settings: Record<string, unknown> | null }>(`SELECT settings FROM workspace WHERE id = $1 FOR UPDATE`, [c.ws]);
        const s = { ...(w?.settings ?? {}) };
        for (const [k, v] of Object.entries(patch)) {
          if (v === undefined) delete s[k];
          else s[k] = v;
        }
        await q.query(`UPDATE workspace SET settings = $2::json WHERE id = $1`, [c.ws, JSON.stringify(s)]);
      });
      return text(`updated ${Object.keys(patch).join(', ')} of workspace ${c.ws}`);
    });
  }

  // `wmill gitsync-settings status`: this server runs no git sync, so nothing deploys on a git push.
  r.get('workspaces/git_sync_deploy_mode', async (c, e) => json({ configured: !!(await workspaceSettings(e.db, c.ws)).git_sync, deploy_on_push: false }));

  // Workspace dependencies
  r.post('workspace_dependencies/create', async (c, e) => {
    requireAdmin(e.p, 'changing workspace dependencies');
    const b = await c.obj();
    const language = depLanguage(b.language);
    const name = depName(b.name);
    if (typeof b.content !== 'string') throw badRequest('content is required (the dependency file as text)');
    const [row] = await e.db.query<{ id: string }>(
      `INSERT INTO workspace_dependencies (workspace_id, language, name, content, description, created_by) VALUES ($1,$2,$3,$4,$5,$6) RETURNING id`,
      [c.ws, language, name, b.content, typeof b.description === 'string' ? b.description : null, e.p.username],
    );
    return text(String(row!.id), 201);
  });
  r.get('workspace_dependencies/list', async (c, e) =>
    json(
      (
        await e.db.query(
          `SELECT DISTINCT ON (language, COALESCE(name, '')) * FROM workspace_dependencies WHERE workspace_id = $1 AND NOT archived ORDER BY language, COALESCE(name, ''), id DESC`,
          [c.ws],
        )
      ).map(depView),
    ),
  );
  r.get('workspace_dependencies/get_latest/([^/]+)', async (c, e) => {
    const language = depLanguage(c.params[0]);
    const name = depName(c.q.str('name'));
    const [row] = await e.db.query(
      `SELECT * FROM workspace_dependencies WHERE workspace_id = $1 AND language = $2 AND name IS NOT DISTINCT FROM $3 AND NOT archived ORDER BY id DESC LIMIT 1`,
      [c.ws, language, name],
    );
    if (!row) throw notFound(`workspace dependencies for ${language}${name ? ` named ${name}` : ''} not found`);
    return json(depView(row));
  });
  for (const route of ['archive', 'delete']) {
    r.post(`workspace_dependencies/${route}/([^/]+)`, async (c, e) => {
      requireAdmin(e.p, 'changing workspace dependencies');
      const language = depLanguage(c.params[0]);
      const name = depName(c.q.str('name'));
      const rows = await e.db.query(
        route === 'archive'
          ? `UPDATE workspace_dependencies SET archived = true WHERE workspace_id = $1 AND language = $2 AND name IS NOT DISTINCT FROM $3 AND NOT archived RETURNING id`
          : `DELETE FROM workspace_dependencies WHERE workspace_id = $1 AND language = $2 AND name IS NOT DISTINCT FROM $3 RETURNING id`,
        [c.ws, language, name],
      );
      if (!rows.length) throw notFound(`workspace dependencies for ${language}${name ? ` named ${name}` : ''} not found`);
      return text(`${route === 'archive' ? 'archived' : 'deleted'} workspace dependencies for ${language}${name ? ` named ${name}` : ''}`);
    });
  }

  // What this server does not have: one line, 501.
  const refuse = (what: string) => async (): Promise<Reply> => {
    throw notAvailable(what);
  };
  for (const m of ['GET', 'POST', 'DELETE']) {
    r.on(m, 'workspaces/(list_datatables|list_datatable_schemas|edit_datatable_config|list_datatable_migrations|run_datatable_migrations/.+|rollback_datatable_migrations/.+|delete_datatable_migration/.+|upsert_datatable_migration/.+|create_pg_database|import_pg_database)', refuse('Data tables'));
    r.on(m, 'workspaces/list_ducklakes', refuse('Ducklake'));
    r.on(m, 'workspaces/get_secondary_storage_names', refuse('Object storage (S3)'));
    r.on(m, 'job_helpers/.+', refuse('Object storage (S3)'));
    r.on(m, 'assets/.+', refuse('Pipelines (assets)'));
    r.on(m, 'workspaces/(slack_oauth_config|connect_slack|disconnect_slack)', refuse('Slack'));
    r.on(m, 'oauth/(connect_slack|disconnect_slack).*', refuse('Slack'));
    r.on(m, 'workspaces/protection_rules(/.*)?', refuse('Protection rules'));
  }
}

/** Instance settings: kept in the `instance` table under `global:<key>`. */
const GLOBAL_DEFAULTS: Record<string, (e: Env) => unknown> = {
  // `wmill hub pull` reads this and fetches `<it>/resource_types/list`: answered by hubOffline().
  hub_base_url: (e) => `${e.baseUrl}${HUB_PATH.replace(/\/$/, '')}`,
  automate_username_creation: () => false,
};

export function registerAdminGlobalRoutes(g: Router<Env>): void {
  g.get('settings/global/([^/]+)', async (c, e) => {
    const key = c.params[0]!;
    const [row] = await e.db.query<{ value: string }>(`SELECT value FROM instance WHERE key = $1`, [`global:${key}`]);
    if (row) return json(JSON.parse(row.value));
    return json(GLOBAL_DEFAULTS[key]?.(e) ?? null);
  });
  g.post('settings/global/([^/]+)', async (c, e) => {
    if (!e.p.superAdmin || e.p.jobId) throw forbidden('only super admins can change instance settings');
    const key = c.params[0]!;
    if (!/^[a-z0-9_]{1,100}$/.test(key)) throw badRequest(`invalid setting name ${JSON.stringify(key)}`);
    const b = await c.obj();
    if (b.value === undefined || b.value === null) await e.db.query(`DELETE FROM instance WHERE key = $1`, [`global:${key}`]);
    else await e.db.query(`INSERT INTO instance (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, [`global:${key}`, JSON.stringify(b.value)]);
    return text(`set ${key}`);
  });
  g.get('settings/list_global', async (_c, e) => {
    if (!e.p.superAdmin) throw forbidden('only super admins can list instance settings');
    return json((await globalSettings(e.db)).map(([name, value]) => ({ name, value })));
  });
  g.get('settings/instance_config', async (_c, e) => {
    if (!e.p.superAdmin) throw forbidden('only super admins can read the instance config');
    return json({ global_settings: Object.fromEntries(await globalSettings(e.db)), worker_configs: {} });
  });
  g.get('docs/search', refuseGlobal('Documentation search'));
  g.post('(instance_slack|oauth)/.*slack.*', refuseGlobal('Slack'));
}

function refuseGlobal(what: string) {
  return async (_c: Ctx, _e: Env): Promise<Reply> => {
    throw notAvailable(what);
  };
}

async function globalSettings(q: Sql): Promise<[string, unknown][]> {
  const rows = await q.query<{ key: string; value: string }>(`SELECT key, value FROM instance WHERE key LIKE 'global:%' ORDER BY key`);
  return rows.map((r) => [r.key.slice('global:'.length), JSON.parse(r.value)]);
}
