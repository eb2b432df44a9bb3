/**
 * Our extension for sync (`POST /api/w/{ws}/wmill/sync_apply`): a whole push plan applied in
 * ONE transaction, so a push to our server is all or nothing (a failure names the change and
 * rolls everything back) and costs one round trip instead of one per item. Each change has the
 * same meaning as the per-item endpoints the plan would otherwise call: scripts deploy a new
 * version on top of the parent the plan saw (a deploy made since fails the whole push),
 * deletions archive scripts and delete the other kinds, secrets arrive as ciphertext of this
 * workspace's key or as plaintext to encrypt.
 */
import type { Sql } from '../db/db.js';
import { decryptSecret, encryptSecret, looksEncrypted } from '../secrets.js';
import { accessTo } from './auth.js';
import type { Env } from './env.js';
import { badRequest, checkItemPath, checkName, forbidden, HttpError, json, type Router } from './http.js';
import { checkSchedule, saveFlow } from './items.js';
import { upsertResourceRow, upsertVariableRow } from '../db/sql-store.js';
import { createScript } from './scripts.js';

interface Change {
  op: 'add' | 'update' | 'delete';
  kind: 'folder' | 'resource-type' | 'variable' | 'resource' | 'script' | 'flow' | 'schedule';
  path: string;
  body?: Record<string, any>;
  parent?: string;
}

const j = (v: unknown) => JSON.stringify(v ?? null);

async function canWrite(q: Sql, e: Env, ws: string, path: string) {
  if ((await accessTo(q, ws, e.p, path)) !== 'write') throw forbidden(`${e.p.username} is not allowed to write ${path}`);
}

async function applyOne(q: Sql, e: Env, ws: string, c: Change, message: string | undefined, schedules: string[]): Promise<void> {
  const b = c.body ?? {};
  if (c.kind === 'folder' || c.kind === 'resource-type') checkName(c.path, c.kind === 'folder' ? 'folder name' : 'resource type name');
  else checkItemPath(c.path);
  if (c.op === 'delete') {
    switch (c.kind) {
      case 'script':
        await canWrite(q, e, ws, c.path);
        await q.query(`UPDATE script SET archived = true WHERE workspace_id = $1 AND path = $2 AND NOT archived`, [ws, c.path]);
        return;
      case 'flow':
        await canWrite(q, e, ws, c.path);
        await q.query(`DELETE FROM flow WHERE workspace_id = $1 AND path = $2`, [ws, c.path]);
        return;
      case 'resource':
      case 'variable':
      case 'schedule':
        await canWrite(q, e, ws, c.path);
        await q.query(`DELETE FROM ${c.kind} WHERE workspace_id = $1 AND path = $2`, [ws, c.path]);
        if (c.kind === 'schedule') schedules.push(c.path);
        return;
      case 'folder':
      case 'resource-type':
        if (!e.p.isAdmin) throw forbidden(`only admins can delete a ${c.kind}`);
        await q.query(`DELETE FROM ${c.kind === 'folder' ? 'folder' : 'resource_type'} WHERE workspace_id = $1 AND name = $2`, [ws, c.path]);
        return;
    }
  }
  switch (c.kind) {
    case 'script': {
      const { content, language, summary, description, kind, lock, schema, ...settings } = b;
      await createScript(
        q, ws, e.p,
        { path: c.path, content, language, summary, description, kind, lock, schema, ...settings, ...(c.parent ? { parent_hash: c.parent } : {}), ...(message ? { deployment_message: message } : {}), skip_draft_deletion: true },
        { skipIfNoop: true },
      );
      return;
    }
    case 'flow':
      await saveFlow(q, e, ws, { ...b, path: c.path, ...(message ? { deployment_message: message } : {}), skip_draft_deletion: true });
      return;
    case 'resource':
      await canWrite(q, e, ws, c.path);
      if (typeof b.resource_type !== 'string' || !b.resource_type) throw badRequest('resource_type is required');
      await upsertResourceRow(q, ws, { path: c.path, resource_type: b.resource_type, value: b.value ?? null, description: b.description ? b.description : undefined });
      return;
    case 'variable': {
      await canWrite(q, e, ws, c.path);
      if (typeof b.value !== 'string') throw badRequest('variable value must be a string');
      let value = b.value as string;
      if (b.is_secret) {
        const key = await e.store.workspaceKey(ws);
        if (looksEncrypted(value)) {
          try {
            decryptSecret(key, value);
          } catch {
            value = encryptSecret(key, value);
          }
        } else value = encryptSecret(key, value);
      }
      await upsertVariableRow(q, ws, { path: c.path, value, is_secret: !!b.is_secret, description: b.description ?? '' });
      return;
    }
    case 'schedule': {
      await canWrite(q, e, ws, c.path);
      if (typeof b.schedule !== 'string' || typeof b.script_path !== 'string') throw badRequest('schedule and script_path are required');
      checkSchedule(b.schedule, b.timezone);
      const { enabled, ...body } = b;
      await q.query(
        `INSERT INTO schedule (workspace_id, path, body, enabled, edited_by) VALUES ($1,$2,$3::json,$4,$5)
         ON CONFLICT (workspace_id, path) DO UPDATE SET body = EXCLUDED.body, enabled = EXCLUDED.enabled, edited_by = EXCLUDED.edited_by, edited_at = now()`,
        [ws, c.path, j(body), enabled !== false, e.p.username],
      );
      schedules.push(c.path);
      return;
    }
    case 'folder':
      if (e.p.operator) throw forbidden('operators cannot create folders');
      if (!e.p.isAdmin && (await accessTo(q, ws, e.p, `f/${c.path}/x`)) !== 'write') {
        const [exists] = await q.query(`SELECT 1 FROM folder WHERE workspace_id = $1 AND name = $2`, [ws, c.path]);
        if (exists) throw forbidden(`${e.p.username} is not an owner of folder ${c.path}`);
      }
      await q.query(
        `INSERT INTO folder (workspace_id, name, display_name, summary, owners, extra_perms) VALUES ($1,$2,$3,$4,$5::json,$6::json)
         ON CONFLICT (workspace_id, name) DO UPDATE SET display_name = EXCLUDED.display_name, summary = EXCLUDED.summary, owners = EXCLUDED.owners, extra_perms = EXCLUDED.extra_perms`,
        [ws, c.path, b.display_name || c.path, b.summary ?? null, j(b.owners ?? []), j(b.extra_perms ?? {})],
      );
      return;
    case 'resource-type': {
      if (!e.p.isAdmin) throw forbidden('only admins can change resource types');
      const { name: _n, workspace_id: _w, ...rest } = b;
      await q.query(
        `INSERT INTO resource_type (workspace_id, name, body) VALUES ($1,$2,$3::json) ON CONFLICT (workspace_id, name) DO UPDATE SET body = EXCLUDED.body`,
        [ws, c.path, j(rest)],
      );
      return;
    }
  }
  throw badRequest(`unknown change kind ${JSON.stringify((c as Change).kind)}`);
}

export function registerSyncApply(r: Router<Env>): void {
  r.post('wmill/sync_apply', async (c, e) => {
    const b = await c.obj();
    if (!Array.isArray(b.changes)) throw badRequest('changes must be a list');
    if (b.message != null && typeof b.message !== 'string') throw badRequest('message must be a string');
    const changes = b.changes as Change[];
    const schedules: string[] = [];
    await e.db.tx(async (q) => {
      for (let i = 0; i < changes.length; i++) {
        const ch = changes[i]!;
        if (!ch || typeof ch !== 'object' || !['add', 'update', 'delete'].includes(ch.op) || typeof ch.path !== 'string') {
          throw badRequest(`change ${i + 1}: expected {op: add|update|delete, kind, path, body}`);
        }
        try {
          await applyOne(q, e, c.ws, ch, b.message ?? undefined, schedules);
        } catch (err) {
          const status = err instanceof HttpError ? err.status : 400;
          throw new HttpError(status, `change ${i + 1} (${ch.op} ${ch.kind} ${ch.path}): ${(err as Error).message}; nothing was applied`);
        }
      }
    });
    for (const s of schedules) await e.armSchedule(c.ws, s).catch(() => undefined);
    return json({ applied: changes.length });
  });
}
