/**
 * Flows, resources, resource types, variables, folders and schedules (spec/windmill-server.md
 * §2.3, §2.5). Flows keep one deployed version per path (overwritten; every deploy is also a
 * `flow_version` row for history). Secret variables are encrypted at rest with the workspace
 * key, deterministically, so a pull → push round trip sends back the same ciphertext and is a
 * no-op; plaintext never appears in responses unless asked (`decrypt_secret`).
 */
import { z } from 'zod';
import type { Sql } from './db/db.js';
import { parseCron } from './cron.js';
import { decryptSecret, encryptSecret } from '../items/secrets.js';
import { accessIn, accessTo, allows, can, requireAccess, requireIndirect, scopeOf, type Op } from './access.js';
import type { Env } from './env.js';
import { badRequest, boolParam, checkItemPath, checkName, forbidden, json, notFound, text, type Router } from './http.js';
import { zodMessage } from './scripts.js';
import { paged } from './paging.js';

const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : v);

function parse<T>(schema: z.ZodType<T>, v: unknown, what: string): T {
  const r = schema.safeParse(v);
  if (!r.success) throw badRequest(zodMessage(r.error, what));
  return r.data;
}

/** Items' use of the one access check (access.ts). */
async function requireItem(q: Sql, e: Env, ws: string, path: string, need: Op, what: string) {
  await requireAccess(q, ws, e.p, path, need, what);
}

// ---------------------------------------------------------------------------------------------
// Flows

const FLOW_CORE = new Set(['path', 'summary', 'description', 'value', 'schema', 'deployment_message', 'skip_draft_deletion', 'edited_by', 'edited_at', 'archived', 'extra_perms', 'workspace_id', 'version_id', 'draft_only']);

const FlowBody = z
  .object({
    path: z.string(),
    summary: z.string().nullish(),
    description: z.string().nullish(),
    value: z.object({ modules: z.array(z.unknown()) }).passthrough(),
    schema: z.unknown().optional(),
    deployment_message: z.string().nullish(),
  })
  .passthrough();

export function flowView(r: Record<string, any>) {
  return {
    path: r.path,
    summary: r.summary,
    description: r.description,
    value: r.value,
    schema: r.schema ?? undefined,
    ...(r.settings ?? {}),
    edited_by: r.edited_by,
    edited_at: iso(r.edited_at),
    archived: r.archived,
    extra_perms: r.extra_perms ?? {},
    version_id: Number(r.version_id),
  };
}

export async function saveFlow(q: Sql, e: Env, ws: string, body: Record<string, unknown>, existingPath?: string) {
  const b = parse(FlowBody, body, 'flow');
  const path = checkItemPath(b.path);
  await requireItem(q, e, ws, path, 'write', 'Flow');
  if (existingPath && existingPath !== path) await requireItem(q, e, ws, existingPath, 'write', 'Flow');
  const settings: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) if (!FLOW_CORE.has(k) && v !== undefined && v !== null) settings[k] = v;
  const snapshot = { summary: b.summary ?? '', description: b.description ?? '', value: b.value, schema: b.schema ?? null, ...settings };
  const [v] = await q.query<{ id: number }>(
    `INSERT INTO flow_version (workspace_id, path, body, deployment_msg, created_by) VALUES ($1,$2,$3::json,$4,$5) RETURNING id`,
    [ws, path, JSON.stringify(snapshot), b.deployment_message ?? null, e.p.username],
  );
  if (existingPath && existingPath !== path) {
    await q.query(`DELETE FROM flow WHERE workspace_id = $1 AND path = $2`, [ws, existingPath]);
  }
  await q.query(
    `INSERT INTO flow (workspace_id, path, summary, description, value, schema, settings, edited_by, version_id)
     VALUES ($1,$2,$3,$4,$5::json,$6::json,$7::json,$8,$9)
     ON CONFLICT (workspace_id, path) DO UPDATE SET summary = EXCLUDED.summary, description = EXCLUDED.description, value = EXCLUDED.value,
       schema = EXCLUDED.schema, settings = EXCLUDED.settings, edited_by = EXCLUDED.edited_by, edited_at = now(), version_id = EXCLUDED.version_id, archived = false`,
    [ws, path, b.summary ?? '', b.description ?? '', JSON.stringify(b.value), b.schema === undefined ? null : JSON.stringify(b.schema), JSON.stringify(settings), e.p.username, v!.id],
  );
  if (!body.skip_draft_deletion) await q.query(`DELETE FROM draft WHERE workspace_id = $1 AND kind = 'flow' AND path = $2 AND email = $3`, [ws, path, e.p.email]);
  return path;
}

export function registerFlows(r: Router<Env>): void {
  r.get('flows/get/v/([0-9]+)', async (c, e) => {
    const [row] = await e.db.query(`SELECT * FROM flow_version WHERE workspace_id = $1 AND id = $2`, [c.ws, Number(c.params[0])]);
    if (!row) throw notFound(`Flow version ${c.params[0]} not found`);
    await requireItem(e.db, e, c.ws, row.path, 'read', 'Flow');
    return json({ path: row.path, ...row.body, edited_by: row.created_by, edited_at: iso(row.created_at), version_id: Number(row.id) });
  });
  r.get('flows/get/(.+)', async (c, e) => {
    const path = c.params[0]!;
    await requireItem(e.db, e, c.ws, path, 'read', 'Flow');
    const [row] = await e.db.query(`SELECT * FROM flow WHERE workspace_id = $1 AND path = $2`, [c.ws, path]);
    if (!row) throw notFound(`Flow not found at path ${path}`);
    return json(flowView(row));
  });
  r.get('flows/exists/(.+)', async (c, e) => {
    if (!(await can(e.db, c.ws, e.p, c.params[0]!, 'read'))) return json(false);
    const [row] = await e.db.query(`SELECT 1 FROM flow WHERE workspace_id = $1 AND path = $2`, [c.ws, c.params[0]]);
    return json(!!row);
  });
  r.get('flows/list', async (c, e) => {
    const rows = await e.db.query(`SELECT * FROM flow WHERE workspace_id = $1 ${boolParam(c.query, 'show_archived') ? '' : 'AND NOT archived'} ORDER BY path`, [c.ws]);
    const out = [];
    for (const row of rows) {
      if ((await accessTo(e.db, c.ws, e.p, row.path)) === 'none') continue;
      const { value: _v, ...rest } = flowView(row);
      out.push(rest);
    }
    return json(paged(c, out));
  });
  r.post('flows/create', async (c, e) => {
    const body = await c.obj();
    const path = await e.db.tx(async (q) => {
      const [row] = await q.query(`SELECT 1 FROM flow WHERE workspace_id = $1 AND path = $2`, [c.ws, body.path]);
      if (row) throw badRequest(`Flow ${body.path} already exists`);
      return saveFlow(q, e, c.ws, body);
    });
    return text(path, 201);
  });
  r.post('flows/update/(.+)', async (c, e) => {
    const old = c.params[0]!;
    const body = await c.obj();
    const path = await e.db.tx(async (q) => {
      const [row] = await q.query(`SELECT 1 FROM flow WHERE workspace_id = $1 AND path = $2 FOR UPDATE`, [c.ws, old]);
      if (!row) throw notFound(`Flow not found at path ${old}`);
      return saveFlow(q, e, c.ws, { path: old, ...body }, old);
    });
    return text(path);
  });
  r.post('flows/archive/(.+)', async (c, e) => {
    const path = c.params[0]!;
    await requireItem(e.db, e, c.ws, path, 'write', 'Flow');
    const b = await c.obj();
    const rows = await e.db.query(`UPDATE flow SET archived = $3 WHERE workspace_id = $1 AND path = $2 RETURNING path`, [c.ws, path, b.archived ?? true]);
    if (!rows.length) throw notFound(`Flow not found at path ${path}`);
    return text(path);
  });
  r.del('flows/delete/(.+)', async (c, e) => {
    const path = c.params[0]!;
    await requireItem(e.db, e, c.ws, path, 'write', 'Flow');
    // Idempotent, as Windmill's: the real CLI sends one delete per removed file of a flow folder.
    const rows = await e.db.query(`DELETE FROM flow WHERE workspace_id = $1 AND path = $2 RETURNING path`, [c.ws, path]);
    return text(rows.length ? `Flow ${path} deleted` : `Flow ${path} was already deleted`);
  });
  r.get('flows/history/p/(.+)', async (c, e) => {
    const path = c.params[0]!;
    await requireItem(e.db, e, c.ws, path, 'read', 'Flow');
    const rows = await e.db.query(`SELECT id, created_at, deployment_msg, created_by FROM flow_version WHERE workspace_id = $1 AND path = $2 ORDER BY id DESC`, [c.ws, path]);
    return json(rows.map((x) => ({ id: Number(x.id), created_at: iso(x.created_at), deployment_msg: x.deployment_msg ?? undefined, created_by: x.created_by })));
  });
  r.get('flows/get_latest_version/(.+)', async (c, e) => {
    await requireItem(e.db, e, c.ws, c.params[0]!, 'read', 'Flow');
    const [x] = await e.db.query(`SELECT id, created_at, deployment_msg, created_by FROM flow_version WHERE workspace_id = $1 AND path = $2 ORDER BY id DESC LIMIT 1`, [c.ws, c.params[0]]);
    return json(x ? { id: Number(x.id), created_at: iso(x.created_at), deployment_msg: x.deployment_msg ?? undefined, created_by: x.created_by } : null);
  });
  r.post('flows/history_update/v/([0-9]+)', async (c, e) => {
    const b = await c.obj();
    const [v] = await e.db.query<{ path: string }>(`SELECT path FROM flow_version WHERE workspace_id = $1 AND id = $2`, [c.ws, Number(c.params[0])]);
    if (!v) throw notFound(`Flow version ${c.params[0]} not found`);
    await requireItem(e.db, e, c.ws, v.path, 'write', 'Flow');
    const rows = await e.db.query(`UPDATE flow_version SET deployment_msg = $3 WHERE workspace_id = $1 AND id = $2 RETURNING id`, [c.ws, Number(c.params[0]), b.deployment_msg ?? null]);
    if (!rows.length) throw notFound(`Flow version ${c.params[0]} not found`);
    return text('Updated');
  });
}

// ---------------------------------------------------------------------------------------------
// Resources and resource types

const ResourceBody = z.object({
  path: z.string(),
  value: z.unknown(),
  resource_type: z.string().min(1),
  description: z.string().nullish(),
}).passthrough();

function resourceView(r: Record<string, any>, ws: string) {
  return {
    workspace_id: ws,
    path: r.path,
    resource_type: r.resource_type,
    value: r.value,
    description: r.description ?? undefined,
    is_oauth: false,
    extra_perms: {},
    ...(r.extra ?? {}),
  };
}

export function registerResources(r: Router<Env>): void {
  r.get('resources/file_resource_type_to_file_ext_map', async () => json({}));
  r.get('resources/list', async (c, e) => {
    const rt = c.query.get('resource_type');
    const rows = await e.db.query(`SELECT * FROM resource WHERE workspace_id = $1 ${rt ? 'AND resource_type = $2' : ''} ORDER BY path`, rt ? [c.ws, rt] : [c.ws]);
    const out = [];
    for (const row of rows) if ((await accessTo(e.db, c.ws, e.p, row.path)) !== 'none') out.push(resourceView(row, c.ws));
    return json(paged(c, out));
  });
  r.get('resources/get/(.+)', async (c, e) => {
    const path = c.params[0]!;
    await requireItem(e.db, e, c.ws, path, 'read', 'Resource');
    const [row] = await e.db.query(`SELECT * FROM resource WHERE workspace_id = $1 AND path = $2`, [c.ws, path]);
    if (!row) throw notFound(`Resource ${path} not found`);
    return json(resourceView(row, c.ws));
  });
  r.get('resources/exists/(.+)', async (c, e) => {
    if (!(await can(e.db, c.ws, e.p, c.params[0]!, 'read'))) return json(false);
    const [row] = await e.db.query(`SELECT 1 FROM resource WHERE workspace_id = $1 AND path = $2`, [c.ws, c.params[0]]);
    return json(!!row);
  });
  r.post('resources/create', async (c, e) => {
    const b = parse(ResourceBody, await c.obj(), 'resource');
    const path = checkItemPath(b.path);
    await requireItem(e.db, e, c.ws, path, 'write', 'Resource');
    const upsert = boolParam(c.query, 'update_if_exists');
    const rows = await e.db.query(
      `INSERT INTO resource (workspace_id, path, resource_type, value, description) VALUES ($1,$2,$3,$4::json,$5)
       ON CONFLICT (workspace_id, path) DO ${upsert ? 'UPDATE SET resource_type = EXCLUDED.resource_type, value = EXCLUDED.value, description = EXCLUDED.description' : 'NOTHING'}
       RETURNING path`,
      [c.ws, path, b.resource_type, JSON.stringify(b.value ?? null), b.description ?? null],
    );
    if (!rows.length) throw badRequest(`Resource ${path} already exists (use update, or ?update_if_exists=true)`);
    return text(path, 201);
  });
  r.post('resources/update/(.+)', async (c, e) => {
    const old = c.params[0]!;
    const b = await c.obj();
    const path = b.path !== undefined ? checkItemPath(b.path) : old;
    await requireItem(e.db, e, c.ws, old, 'write', 'Resource');
    if (path !== old) await requireItem(e.db, e, c.ws, path, 'write', 'Resource');
    if (b.resource_type !== undefined && (typeof b.resource_type !== 'string' || !b.resource_type)) throw badRequest('resource_type must be a non-empty string');
    if (b.description != null && typeof b.description !== 'string') throw badRequest('description must be a string');
    const rows = await e.db.query(
      `UPDATE resource SET path = $3, value = CASE WHEN $4::boolean THEN $5::json ELSE value END,
         description = CASE WHEN $6::boolean THEN $7 ELSE description END, resource_type = COALESCE($8, resource_type)
       WHERE workspace_id = $1 AND path = $2 RETURNING path`,
      [c.ws, old, path, 'value' in b, JSON.stringify(b.value ?? null), 'description' in b, b.description ?? null, b.resource_type ?? null],
    );
    if (!rows.length) throw notFound(`Resource ${old} not found`);
    return text(path);
  });
  r.del('resources/delete/(.+)', async (c, e) => {
    const path = c.params[0]!;
    await requireItem(e.db, e, c.ws, path, 'write', 'Resource');
    const rows = await e.db.query(`DELETE FROM resource WHERE workspace_id = $1 AND path = $2 RETURNING path`, [c.ws, path]);
    if (!rows.length) throw notFound(`Resource ${path} not found`);
    return text(path);
  });

  // Resource types
  r.get('resources/type/list', async (c, e) => {
    const rows = await e.db.query(`SELECT * FROM resource_type WHERE workspace_id = $1 ORDER BY name`, [c.ws]);
    return json(rows.map((x) => ({ workspace_id: c.ws, name: x.name, ...x.body })));
  });
  r.get('resources/type/listnames', async (c, e) => {
    const rows = await e.db.query<{ name: string }>(`SELECT name FROM resource_type WHERE workspace_id = $1 ORDER BY name`, [c.ws]);
    return json(rows.map((x) => x.name));
  });
  r.get('resources/type/get/(.+)', async (c, e) => {
    const [x] = await e.db.query(`SELECT * FROM resource_type WHERE workspace_id = $1 AND name = $2`, [c.ws, c.params[0]]);
    if (!x) throw notFound(`Resource type ${c.params[0]} not found`);
    return json({ workspace_id: c.ws, name: x.name, ...x.body });
  });
  r.get('resources/type/exists/(.+)', async (c, e) => {
    const [x] = await e.db.query(`SELECT 1 FROM resource_type WHERE workspace_id = $1 AND name = $2`, [c.ws, c.params[0]]);
    return json(!!x);
  });
  const rtBody = (b: Record<string, any>) => {
    const { name: _n, workspace_id: _w, ...rest } = b;
    return rest;
  };
  r.post('resources/type/create', async (c, e) => {
    const b = await c.obj();
    const name = checkName(b.name, 'resource type name');
    if (!e.p.isAdmin) throw forbidden('only admins can create resource types');
    const rows = await e.db.query(`INSERT INTO resource_type (workspace_id, name, body) VALUES ($1,$2,$3::json) ON CONFLICT DO NOTHING RETURNING name`, [c.ws, name, JSON.stringify(rtBody(b))]);
    if (!rows.length) throw badRequest(`Resource type ${name} already exists`);
    return text(name, 201);
  });
  r.post('resources/type/update/(.+)', async (c, e) => {
    if (!e.p.isAdmin) throw forbidden('only admins can update resource types');
    const b = await c.obj();
    const rows = await e.db.query(`UPDATE resource_type SET body = $3::json WHERE workspace_id = $1 AND name = $2 RETURNING name`, [c.ws, c.params[0], JSON.stringify(rtBody(b))]);
    if (!rows.length) throw notFound(`Resource type ${c.params[0]} not found`);
    return text(c.params[0]!);
  });
  r.del('resources/type/delete/(.+)', async (c, e) => {
    if (!e.p.isAdmin) throw forbidden('only admins can delete resource types');
    const rows = await e.db.query(`DELETE FROM resource_type WHERE workspace_id = $1 AND name = $2 RETURNING name`, [c.ws, c.params[0]]);
    if (!rows.length) throw notFound(`Resource type ${c.params[0]} not found`);
    return text(c.params[0]!);
  });
}

// ---------------------------------------------------------------------------------------------
// Variables

const VariableBody = z.object({
  path: z.string(),
  value: z.string(),
  is_secret: z.boolean().nullish(),
  description: z.string().nullish(),
}).passthrough();

/** The value to store: secrets encrypted; `alreadyEncrypted` values must decrypt with this workspace's key. */
async function storedValue(e: Env, ws: string, value: string, isSecret: boolean, alreadyEncrypted: boolean, path: string, q: Sql = e.db): Promise<string> {
  if (!isSecret) return value;
  const key = await e.store.workspaceKey(ws, q);
  if (alreadyEncrypted) {
    try {
      decryptSecret(key, value);
    } catch {
      throw badRequest(`variable ${path}: value is sent as already encrypted but is not ciphertext of this workspace's key (push it with plain secrets, or pull it from this workspace first)`);
    }
    return value;
  }
  return encryptSecret(key, value);
}

export function registerVariables(r: Router<Env>): void {
  const view = async (e: Env, ws: string, row: Record<string, any>, decrypt: boolean, includeEncrypted: boolean) => {
    let value: string | undefined = row.value;
    if (row.is_secret) {
      if (decrypt) value = decryptSecret(await e.store.workspaceKey(ws), row.value);
      else if (!includeEncrypted) value = undefined;
    }
    return {
      workspace_id: ws,
      path: row.path,
      value,
      is_secret: row.is_secret,
      description: row.description,
      extra_perms: {},
      is_oauth: false,
      is_expired: false,
      ...(row.extra ?? {}),
    };
  };
  r.get('variables/list', async (c, e) => {
    const rows = await e.db.query(`SELECT * FROM variable WHERE workspace_id = $1 ORDER BY path`, [c.ws]);
    const out = [];
    for (const row of rows) if ((await accessTo(e.db, c.ws, e.p, row.path)) !== 'none') out.push(await view(e, c.ws, row, false, false));
    return json(paged(c, out));
  });
  r.get('variables/get/(.+)', async (c, e) => {
    const path = c.params[0]!;
    await requireItem(e.db, e, c.ws, path, 'read', 'Variable');
    const [row] = await e.db.query(`SELECT * FROM variable WHERE workspace_id = $1 AND path = $2`, [c.ws, path]);
    if (!row) throw notFound(`Variable ${path} not found`);
    return json(await view(e, c.ws, row, boolParam(c.query, 'decrypt_secret', true), boolParam(c.query, 'include_encrypted')));
  });
  r.get('variables/exists/(.+)', async (c, e) => {
    if (!(await can(e.db, c.ws, e.p, c.params[0]!, 'read'))) return json(false);
    const [row] = await e.db.query(`SELECT 1 FROM variable WHERE workspace_id = $1 AND path = $2`, [c.ws, c.params[0]]);
    return json(!!row);
  });
  r.get('variables/get_value/(.+)', async (c, e) => {
    const path = c.params[0]!;
    await requireItem(e.db, e, c.ws, path, 'read', 'Variable');
    const v = await e.store.getVariable(c.ws, path);
    if (!v) throw notFound(`Variable ${path} not found`);
    return json(v.value);
  });
  r.post('variables/create', async (c, e) => {
    const b = parse(VariableBody, await c.obj(), 'variable');
    const path = checkItemPath(b.path);
    await requireItem(e.db, e, c.ws, path, 'write', 'Variable');
    const value = await storedValue(e, c.ws, b.value, !!b.is_secret, boolParam(c.query, 'already_encrypted'), path);
    const rows = await e.db.query(
      `INSERT INTO variable (workspace_id, path, value, is_secret, description) VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING RETURNING path`,
      [c.ws, path, value, !!b.is_secret, b.description ?? ''],
    );
    if (!rows.length) throw badRequest(`Variable ${path} already exists`);
    return text(path, 201);
  });
  r.post('variables/update/(.+)', async (c, e) => {
    const old = c.params[0]!;
    const b = await c.obj();
    await requireItem(e.db, e, c.ws, old, 'write', 'Variable');
    const path = b.path !== undefined ? checkItemPath(b.path) : old;
    if (path !== old) await requireItem(e.db, e, c.ws, path, 'write', 'Variable');
    if (b.value !== undefined && typeof b.value !== 'string') throw badRequest('variable value must be a string');
    if (b.is_secret != null && typeof b.is_secret !== 'boolean') throw badRequest('is_secret must be a boolean');
    if (b.description != null && typeof b.description !== 'string') throw badRequest('description must be a string');
    await e.db.tx(async (q) => {
      const [row] = await q.query(`SELECT * FROM variable WHERE workspace_id = $1 AND path = $2 FOR UPDATE`, [c.ws, old]);
      if (!row) throw notFound(`Variable ${old} not found`);
      const isSecret: boolean = b.is_secret ?? row.is_secret;
      let value: string = row.value;
      if (b.value !== undefined) value = await storedValue(e, c.ws, b.value, isSecret, boolParam(c.query, 'already_encrypted'), path, q);
      else if (isSecret && !row.is_secret) value = encryptSecret(await e.store.workspaceKey(c.ws, q), row.value);
      await q.query(`UPDATE variable SET path = $3, value = $4, is_secret = $5, description = $6 WHERE workspace_id = $1 AND path = $2`, [
        c.ws, old, path, value, isSecret, b.description ?? row.description,
      ]);
    });
    return text(path);
  });
  r.del('variables/delete/(.+)', async (c, e) => {
    const path = c.params[0]!;
    await requireItem(e.db, e, c.ws, path, 'write', 'Variable');
    const rows = await e.db.query(`DELETE FROM variable WHERE workspace_id = $1 AND path = $2 RETURNING path`, [c.ws, path]);
    if (!rows.length) throw notFound(`Variable ${path} not found`);
    return text(path);
  });
}

// ---------------------------------------------------------------------------------------------
// Folders

const FolderBody = z.object({
  name: z.string(),
  summary: z.string().nullish(),
  display_name: z.string().nullish(),
  owners: z.array(z.string()).nullish(),
  extra_perms: z.record(z.string(), z.boolean()).nullish(),
}).passthrough();

export function folderView(r: Record<string, any>, ws: string) {
  return { workspace_id: ws, name: r.name, display_name: r.display_name, summary: r.summary ?? undefined, owners: r.owners ?? [], extra_perms: r.extra_perms ?? {} };
}

export function registerFolders(r: Router<Env>): void {
  r.get('folders/list', async (c, e) => json((await e.db.query(`SELECT * FROM folder WHERE workspace_id = $1 ORDER BY name`, [c.ws])).map((x) => folderView(x, c.ws))));
  r.get('folders/listnames', async (c, e) => json((await e.db.query<{ name: string }>(`SELECT name FROM folder WHERE workspace_id = $1 ORDER BY name`, [c.ws])).map((x) => x.name)));
  r.get('folders/get/([^/]+)', async (c, e) => {
    const [x] = await e.db.query(`SELECT * FROM folder WHERE workspace_id = $1 AND name = $2`, [c.ws, c.params[0]]);
    if (!x) throw notFound(`Folder ${c.params[0]} not found`);
    return json(folderView(x, c.ws));
  });
  r.get('folders/exists/([^/]+)', async (c, e) => {
    const [x] = await e.db.query(`SELECT 1 FROM folder WHERE workspace_id = $1 AND name = $2`, [c.ws, c.params[0]]);
    return json(!!x);
  });
  r.post('folders/create', async (c, e) => {
    const b = parse(FolderBody, await c.obj(), 'folder');
    const name = checkName(b.name, 'folder name');
    if (e.p.operator) throw forbidden('operators cannot create folders');
    const owners = b.owners ?? [];
    if (!e.p.isAdmin && !owners.includes(`u/${e.p.username}`)) owners.push(`u/${e.p.username}`);
    const rows = await e.db.query(
      `INSERT INTO folder (workspace_id, name, display_name, summary, owners, extra_perms) VALUES ($1,$2,$3,$4,$5::json,$6::json) ON CONFLICT DO NOTHING RETURNING name`,
      [c.ws, name, b.display_name ?? name, b.summary ?? null, JSON.stringify(owners), JSON.stringify(b.extra_perms ?? {})],
    );
    if (!rows.length) throw badRequest(`Folder ${name} already exists`);
    return text(`Created folder ${name}`);
  });
  r.post('folders/update/([^/]+)', async (c, e) => {
    const name = c.params[0]!;
    const b = parse(FolderBody.partial(), await c.obj(), 'folder');
    if ((await accessTo(e.db, c.ws, e.p, `f/${name}/x`)) !== 'write') throw forbidden(`${e.p.username} is not an owner of folder ${name}`);
    const rows = await e.db.query(
      `UPDATE folder SET display_name = COALESCE($3, display_name), summary = CASE WHEN $4::boolean THEN $5 ELSE summary END,
        owners = COALESCE($6::json, owners), extra_perms = COALESCE($7::json, extra_perms) WHERE workspace_id = $1 AND name = $2 RETURNING name`,
      [c.ws, name, b.display_name ?? null, 'summary' in b, b.summary ?? null, b.owners ? JSON.stringify(b.owners) : null, b.extra_perms ? JSON.stringify(b.extra_perms) : null],
    );
    if (!rows.length) throw notFound(`Folder ${name} not found`);
    return text(`Updated folder ${name}`);
  });
  r.del('folders/delete/([^/]+)', async (c, e) => {
    const name = c.params[0]!;
    if (!e.p.isAdmin) throw forbidden('only admins can delete folders');
    const rows = await e.db.query(`DELETE FROM folder WHERE workspace_id = $1 AND name = $2 RETURNING name`, [c.ws, name]);
    if (!rows.length) throw notFound(`Folder ${name} not found`);
    return text(`Deleted folder ${name}`);
  });
}

// ---------------------------------------------------------------------------------------------
// Schedules

const ScheduleBody = z.object({
  path: z.string(),
  schedule: z.string(),
  timezone: z.string().nullish(),
  script_path: z.string(),
  is_flow: z.boolean().nullish(),
  args: z.record(z.string(), z.unknown()).nullish(),
  enabled: z.boolean().nullish(),
}).passthrough();

const SCHEDULE_META = new Set(['path', 'workspace_id', 'edited_by', 'edited_at', 'email', 'extra_perms', 'enabled']);

export function checkSchedule(expr: string, tz: string | null | undefined) {
  try {
    parseCron(expr);
    if (tz) new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch (err) {
    throw badRequest(`invalid schedule: ${(err as Error).message}`);
  }
}

export function scheduleView(row: Record<string, any>, ws: string) {
  return {
    workspace_id: ws,
    path: row.path,
    ...row.body,
    enabled: row.enabled,
    edited_by: row.edited_by,
    edited_at: iso(row.edited_at),
    email: `${row.edited_by}`,
    extra_perms: {},
  };
}

/** A schedule runs as its owner: 400 naming the path unless `e.p` may run it. */
async function requireRunnable(e: Env, ws: string, path: string, isFlow: boolean) {
  try {
    await requireIndirect(e.db, ws, e.p, path, 'run', isFlow ? 'flow' : 'script');
  } catch (err) {
    throw badRequest(`schedule: ${(err as Error).message}`);
  }
}

export function registerSchedules(r: Router<Env>): void {
  r.get('schedules/list', async (c, e) => {
    const scope = await scopeOf(e.db, c.ws, e.p);
    const rows = await e.db.query(`SELECT * FROM schedule WHERE workspace_id = $1 ORDER BY path`, [c.ws]);
    return json(paged(c, rows.filter((x) => allows(accessIn(scope, x.path), 'list')).map((x) => scheduleView(x, c.ws))));
  });
  r.get('schedules/get/(.+)', async (c, e) => {
    const path = c.params[0]!;
    await requireItem(e.db, e, c.ws, path, 'read', 'Schedule');
    const [x] = await e.db.query(`SELECT * FROM schedule WHERE workspace_id = $1 AND path = $2`, [c.ws, path]);
    if (!x) throw notFound(`Schedule ${path} not found`);
    return json(scheduleView(x, c.ws));
  });
  r.get('schedules/exists/(.+)', async (c, e) => {
    if (!(await can(e.db, c.ws, e.p, c.params[0]!, 'read'))) return json(false);
    const [x] = await e.db.query(`SELECT 1 FROM schedule WHERE workspace_id = $1 AND path = $2`, [c.ws, c.params[0]]);
    return json(!!x);
  });
  const bodyOf = (b: Record<string, unknown>) => Object.fromEntries(Object.entries(b).filter(([k, v]) => !SCHEDULE_META.has(k) && v !== undefined));
  r.post('schedules/create', async (c, e) => {
    const raw = await c.obj();
    const b = parse(ScheduleBody, raw, 'schedule');
    const path = checkItemPath(b.path);
    checkItemPath(b.script_path, 'script_path');
    checkSchedule(b.schedule, b.timezone);
    await requireItem(e.db, e, c.ws, path, 'write', 'Schedule');
    await requireRunnable(e, c.ws, b.script_path, !!b.is_flow);
    const rows = await e.db.query(
      `INSERT INTO schedule (workspace_id, path, body, enabled, edited_by) VALUES ($1,$2,$3::json,$4,$5) ON CONFLICT DO NOTHING RETURNING path`,
      [c.ws, path, JSON.stringify({ timezone: 'UTC', args: {}, is_flow: false, ...bodyOf(raw) }), b.enabled ?? true, e.p.username],
    );
    if (!rows.length) throw badRequest(`Schedule ${path} already exists`);
    await e.armSchedule(c.ws, path);
    return text(path, 201);
  });
  r.post('schedules/update/(.+)', async (c, e) => {
    const path = c.params[0]!;
    const raw = await c.obj();
    await requireItem(e.db, e, c.ws, path, 'write', 'Schedule');
    await e.db.tx(async (q) => {
      const [x] = await q.query(`SELECT * FROM schedule WHERE workspace_id = $1 AND path = $2 FOR UPDATE`, [c.ws, path]);
      if (!x) throw notFound(`Schedule ${path} not found`);
      const body = { ...x.body, ...bodyOf(raw) };
      if (typeof body.schedule !== 'string') throw badRequest('schedule must be a cron expression string');
      checkSchedule(body.schedule, body.timezone);
      // From now on the schedule runs as its editor: they must be able to run what it runs.
      await requireRunnable(e, c.ws, checkItemPath(body.script_path, 'script_path'), !!body.is_flow);
      await q.query(`UPDATE schedule SET body = $3::json, enabled = COALESCE($4, enabled), edited_by = $5, edited_at = now() WHERE workspace_id = $1 AND path = $2`, [
        c.ws, path, JSON.stringify(body), typeof raw.enabled === 'boolean' ? raw.enabled : null, e.p.username,
      ]);
    });
    await e.armSchedule(c.ws, path);
    return text(path);
  });
  r.post('schedules/setenabled/(.+)', async (c, e) => {
    const path = c.params[0]!;
    const b = await c.obj();
    if (typeof b.enabled !== 'boolean') throw badRequest('enabled must be a boolean');
    await requireItem(e.db, e, c.ws, path, 'write', 'Schedule');
    const rows = await e.db.query(`UPDATE schedule SET enabled = $3 WHERE workspace_id = $1 AND path = $2 RETURNING path`, [c.ws, path, b.enabled]);
    if (!rows.length) throw notFound(`Schedule ${path} not found`);
    await e.armSchedule(c.ws, path);
    return text(`succesfully updated schedule at path ${path} to status ${b.enabled}`);
  });
  r.del('schedules/delete/(.+)', async (c, e) => {
    const path = c.params[0]!;
    await requireItem(e.db, e, c.ws, path, 'write', 'Schedule');
    const rows = await e.db.query(`DELETE FROM schedule WHERE workspace_id = $1 AND path = $2 RETURNING path`, [c.ws, path]);
    if (!rows.length) throw notFound(`Schedule ${path} not found`);
    await e.armSchedule(c.ws, path);
    return text(`Schedule ${path} deleted`);
  });
}
