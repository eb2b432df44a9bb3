/**
 * Our extension for sync: a whole push plan applied in ONE transaction, so a push to our server
 * is all or nothing at any size (a failure names the change and rolls everything back) and costs
 * a round trip or a few instead of one per item. Each change has the same meaning as the
 * per-item endpoints the plan would otherwise call: scripts deploy a new version on top of the
 * parent the plan saw (a deploy made since fails the whole push), deletions archive scripts and
 * delete the other kinds; a secret arrives as ciphertext of this workspace's key (checked: it
 * must decrypt), or as plaintext to encrypt when the push says `plain_secrets`.
 *
 * - `POST wmill/sync_apply` {id, changes, message?, plain_secrets?}: the plan in one request.
 * - A plan too large for one request is staged: `POST wmill/sync_push` {id} opens a push,
 *   `POST wmill/sync_push/{id}/part/{n}` stores the plan's JSON text in slices (n = 0, 1, ...;
 *   invisible, nothing applied), `POST wmill/sync_push/{id}/commit` {parts, bytes, sha256}
 *   applies it in one transaction. A push left uncommitted expires (`WMILL_SYNC_STAGE_TTL_S`,
 *   default an hour after its last part).
 * - `POST wmill/sync_push/{id}/settle`: how push `id` ended, for a client that lost the answer:
 *   `committed` (applied, with the number of changes) or `abandoned` (nothing applied, and from
 *   now on it never will be: a commit still in flight waits for this answer or is refused).
 */
import { createHash } from 'node:crypto';
import type { Sql } from './db/db.js';
import { decryptSecret, encryptSecret } from '../items/secrets.js';
import { accessTo } from './auth.js';
import type { Env } from './env.js';
import { badRequest, checkItemPath, checkName, forbidden, HttpError, json, MAX_BODY, notFound, readBody, type Router } from './http.js';
import { checkSchedule, saveFlow } from './items.js';
import { upsertResourceRow, upsertVariableRow } from './db/sql-store.js';
import { createScript } from './scripts.js';
import { checked as checkedTrigger } from './triggers.js';
import { isTriggerItem, type TriggerItemKind } from '../items/canonical.js';
import type { TriggerKind } from '../items/triggers.js';
import { deleteApp, saveApp } from './apps.js';
import { executionMode } from '../items/apps.js';

interface Change {
  op: 'add' | 'update' | 'delete';
  kind: 'folder' | 'resource-type' | 'variable' | 'resource' | 'script' | 'flow' | 'raw_app' | 'app' | 'schedule' | TriggerItemKind;
  path: string;
  body?: Record<string, any>;
  parent?: string;
}

const j = (v: unknown) => JSON.stringify(v ?? null);

async function canWrite(q: Sql, e: Env, ws: string, path: string) {
  if ((await accessTo(q, ws, e.p, path)) !== 'write') throw forbidden(`${e.p.username} is not allowed to write ${path}`);
}

interface Opts {
  message?: string;
  /** Secret values are plaintext (encrypt them) rather than this workspace's ciphertext. */
  plainSecrets: boolean;
}

async function applyOne(q: Sql, e: Env, ws: string, c: Change, o: Opts, schedules: string[]): Promise<void> {
  const message = o.message;
  const b = c.body ?? {};
  if (c.kind === 'folder' || c.kind === 'resource-type') checkName(c.path, c.kind === 'folder' ? 'folder name' : 'resource type name');
  else checkItemPath(c.path);
  if (isTriggerItem(c.kind)) return applyTrigger(q, e, ws, c, c.kind.slice(0, -'_trigger'.length) as TriggerKind);
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
      case 'app':
      case 'raw_app': {
        // Only an app of this kind: a plan that turns an app into a raw app adds the new one first.
        const [a] = await q.query(`SELECT raw_app FROM app WHERE workspace_id = $1 AND path = $2`, [ws, c.path]);
        if (a && !!a.raw_app === (c.kind === 'raw_app')) await deleteApp(q, e, ws, c.path);
        else await canWrite(q, e, ws, c.path);
        return;
      }
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
    case 'app':
    case 'raw_app': {
      const [a] = await q.query(`SELECT policy FROM app WHERE workspace_id = $1 AND path = $2`, [ws, c.path]);
      const { public: _p, guests: _g, ...rest } = b;
      const policy = { execution_mode: executionMode(b, a?.policy?.execution_mode) };
      await saveApp(q, e, ws, { ...rest, path: c.path, policy, ...(message ? { deployment_message: message } : {}), skip_draft_deletion: true }, { raw: c.kind === 'raw_app', ...(a ? { existingPath: c.path } : {}) });
      return;
    }
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
        // Read on this transaction's connection: beside it, the read would wait for the transaction (PGlite).
        const key = await e.store.workspaceKey(ws, q);
        if (o.plainSecrets) value = encryptSecret(key, value);
        else {
          try {
            decryptSecret(key, value);
          } catch {
            throw badRequest(
              `the value of secret variable ${c.path} is not ciphertext of this workspace's key (push plaintext secrets with plainSecrets, or pull the variable from this workspace first)`,
            );
          }
        }
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

/** A trigger change: what `<kind>_triggers/create|update|delete` would do, checked the same way (triggers.ts). */
async function applyTrigger(q: Sql, e: Env, ws: string, c: Change, kind: TriggerKind): Promise<void> {
  await canWrite(q, e, ws, c.path);
  const [prev] = await q.query(`SELECT * FROM triggers WHERE workspace_id = $1 AND kind = $2 AND path = $3 FOR UPDATE`, [ws, kind, c.path]);
  if (c.op === 'delete') {
    await q.query(`DELETE FROM triggers WHERE workspace_id = $1 AND kind = $2 AND path = $3`, [ws, kind, c.path]);
    return;
  }
  const t = await checkedTrigger(q, e, ws, kind, { ...(c.body ?? {}), path: c.path, ...(prev ? { preserve_permissioned_as: true } : {}) }, prev as never);
  await q.query(
    `INSERT INTO triggers (workspace_id, kind, path, body, edited_by, email, permissioned_as, route_key) VALUES ($1,$2,$3,$4::json,$5,$6,$7,$8)
     ON CONFLICT (workspace_id, kind, path) DO UPDATE SET body = EXCLUDED.body, edited_by = EXCLUDED.edited_by, email = EXCLUDED.email,
       permissioned_as = EXCLUDED.permissioned_as, route_key = EXCLUDED.route_key, edited_at = now()`,
    [ws, kind, t.path, j(t.body), e.p.username, e.p.email, t.permissionedAs, t.routeKey],
  );
}

/** The largest staged plan (each part is a request, under the request body limit). */
export const MAX_PUSH_BYTES = 256 * 1024 * 1024;
const UUID = '([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})';
const STAGE_TTL_S = () => Math.max(1, Number(process.env.WMILL_SYNC_STAGE_TTL_S) || 3600);

function checkId(id: unknown): string {
  if (typeof id !== 'string' || !new RegExp(`^${UUID}$`).test(id)) throw badRequest('id must be a lowercase UUID chosen by the client');
  return id;
}

/** Drop staged pushes nobody committed in time (with their parts), and old outcomes. */
export async function expireSyncPushes(db: Sql): Promise<void> {
  await db.query(
    `DELETE FROM sync_push WHERE (state = 'staging' AND touched_at < now() - $1::double precision * interval '1 second')
       OR (state <> 'staging' AND created_at < now() - interval '7 days')`,
    [STAGE_TTL_S()],
  );
}

/**
 * Validate and apply a plan (inside the caller's transaction); returns the number of changes.
 * When the client is gone (`here()` false: its connection closed, e.g. the CLI was killed) before
 * the commit, the transaction is rolled back: a push whose sender can no longer learn its outcome
 * is not applied behind its back (its re-run would plan against a stale remote).
 */
async function applyPlan(q: Sql, e: Env, ws: string, plan: Record<string, any>, schedules: string[], here: () => boolean): Promise<number> {
  const stillHere = () => {
    if (!here()) throw new HttpError(400, 'the client went away before the push was committed; nothing was applied');
  };
  if (!plan || typeof plan !== 'object' || !Array.isArray(plan.changes)) throw badRequest('changes must be a list');
  if (plan.message != null && typeof plan.message !== 'string') throw badRequest('message must be a string');
  if (plan.plain_secrets != null && typeof plan.plain_secrets !== 'boolean') throw badRequest('plain_secrets must be a boolean');
  const changes = plan.changes as Change[];
  const o: Opts = { message: plan.message ?? undefined, plainSecrets: plan.plain_secrets === true };
  for (let i = 0; i < changes.length; i++) {
    stillHere();
    const ch = changes[i]!;
    if (!ch || typeof ch !== 'object' || !['add', 'update', 'delete'].includes(ch.op) || typeof ch.path !== 'string') {
      throw badRequest(`change ${i + 1}: expected {op: add|update|delete, kind, path, body}; nothing was applied`);
    }
    try {
      await applyOne(q, e, ws, ch, o, schedules);
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 400;
      throw new HttpError(status, `change ${i + 1} (${ch.op} ${ch.kind} ${ch.path}): ${(err as Error).message}; nothing was applied`);
    }
  }
  stillHere();
  return changes.length;
}

async function pushRow(q: Sql, ws: string, id: string, e: Env, lock = false) {
  const [row] = await q.query(`SELECT * FROM sync_push WHERE workspace_id = $1 AND id = $2${lock ? ' FOR UPDATE' : ''}`, [ws, id]);
  // Another user's push is not there for this caller.
  if (!row || (row.created_by !== e.p.email && !e.p.isAdmin)) return undefined;
  return row;
}

export function registerSyncApply(r: Router<Env>): void {
  r.post('wmill/sync_apply', async (c, e) => {
    const b = await c.obj();
    const id = b.id === undefined ? undefined : checkId(b.id);
    const schedules: string[] = [];
    const out = await e.db.tx(async (q) => {
      if (id) {
        // Recorded first: a settle for this id waits for this transaction, and a settle made before it refuses it.
        const fresh = await q.query(
          `INSERT INTO sync_push (workspace_id, id, created_by, state) VALUES ($1, $2, $3, 'committed') ON CONFLICT DO NOTHING RETURNING id`,
          [c.ws, id, e.p.email],
        );
        if (!fresh.length) {
          const row = await pushRow(q, c.ws, id, e);
          if (row?.state === 'committed') return { applied: Number(row.applied ?? 0), already: true };
          throw new HttpError(409, `push ${id} was abandoned (or is another's); nothing was applied: re-run the push`);
        }
      }
      const n = await applyPlan(q, e, c.ws, b, schedules, () => !c.req.socket.destroyed);
      if (id) await q.query(`UPDATE sync_push SET applied = $3 WHERE workspace_id = $1 AND id = $2`, [c.ws, id, n]);
      return { applied: n };
    });
    for (const s of schedules) await e.armSchedule(c.ws, s).catch(() => undefined);
    return json(out);
  });

  r.post('wmill/sync_push', async (c, e) => {
    const b = await c.obj();
    const id = checkId(b.id);
    await expireSyncPushes(e.db);
    const rows = await e.db.query(
      `INSERT INTO sync_push (workspace_id, id, created_by, state) VALUES ($1, $2, $3, 'staging') ON CONFLICT DO NOTHING RETURNING id`,
      [c.ws, id, e.p.email],
    );
    if (!rows.length) throw new HttpError(409, `push ${id} already exists`);
    return json({ id, part_limit: MAX_BODY, max_bytes: MAX_PUSH_BYTES, expires_after_s: STAGE_TTL_S() }, 201);
  });

  r.post(`wmill/sync_push/${UUID}/part/([0-9]{1,6})`, async (c, e) => {
    const [id, seqText] = c.params as [string, string];
    // Stored as text (PGlite is slow with large bytea): a slice of the plan's JSON text, never split inside a character.
    const data = (await readBody(c.req)).toString('utf8');
    await e.db.tx(async (q) => {
      const row = await pushRow(q, c.ws, id, e, true);
      if (!row) throw notFound(`push ${id} not found (expired, or never opened); nothing was applied: re-run the push`);
      if (row.state !== 'staging') throw new HttpError(409, `push ${id} is ${row.state}; it takes no more parts`);
      const [{ n }] = (await q.query<{ n: number }>(
        `SELECT COALESCE(SUM(octet_length(data)), 0)::bigint AS n FROM sync_push_part WHERE workspace_id = $1 AND push_id = $2 AND seq <> $3`,
        [c.ws, id, Number(seqText)],
      )) as [{ n: number }];
      if (Number(n) + Buffer.byteLength(data) > MAX_PUSH_BYTES) throw new HttpError(413, `push ${id} is larger than ${MAX_PUSH_BYTES} bytes; push fewer items at once`);
      await q.query(
        `INSERT INTO sync_push_part (workspace_id, push_id, seq, data) VALUES ($1, $2, $3, $4) ON CONFLICT (workspace_id, push_id, seq) DO UPDATE SET data = EXCLUDED.data`,
        [c.ws, id, Number(seqText), data],
      );
      await q.query(`UPDATE sync_push SET touched_at = now() WHERE workspace_id = $1 AND id = $2`, [c.ws, id]);
    });
    return json({ stored: Buffer.byteLength(data) });
  });

  r.post(`wmill/sync_push/${UUID}/commit`, async (c, e) => {
    const id = c.params[0]!;
    const b = await c.obj();
    if (!Number.isSafeInteger(b.parts) || b.parts < 1 || !Number.isSafeInteger(b.bytes) || typeof b.sha256 !== 'string') {
      throw badRequest('expected {parts, bytes, sha256} describing the staged plan');
    }
    const schedules: string[] = [];
    const out = await e.db.tx(async (q) => {
      const row = await pushRow(q, c.ws, id, e, true);
      if (!row) throw notFound(`push ${id} not found (expired, or never opened); nothing was applied: re-run the push`);
      if (row.state === 'committed') return { applied: Number(row.applied ?? 0), already: true };
      if (row.state !== 'staging') throw new HttpError(409, `push ${id} was abandoned; nothing was applied: re-run the push`);
      const parts = await q.query<{ seq: number; data: string }>(`SELECT seq, data FROM sync_push_part WHERE workspace_id = $1 AND push_id = $2 ORDER BY seq`, [c.ws, id]);
      if (parts.length !== b.parts || parts.some((p, i) => Number(p.seq) !== i)) {
        throw badRequest(`push ${id}: ${parts.length} part(s) staged, ${b.parts} announced; nothing was applied: re-run the push`);
      }
      const text = Buffer.from(parts.map((p) => p.data).join(''), 'utf8');
      if (text.length !== b.bytes || createHash('sha256').update(text).digest('hex') !== b.sha256) {
        throw badRequest(`push ${id}: the staged plan is not what was announced (size or sha256); nothing was applied: re-run the push`);
      }
      let plan: Record<string, any>;
      try {
        plan = JSON.parse(text.toString('utf8'));
      } catch (err) {
        throw badRequest(`push ${id}: the staged plan is not JSON (${(err as Error).message}); nothing was applied`);
      }
      const n = await applyPlan(q, e, c.ws, plan, schedules, () => !c.req.socket.destroyed);
      await q.query(`UPDATE sync_push SET state = 'committed', applied = $3, touched_at = now() WHERE workspace_id = $1 AND id = $2`, [c.ws, id, n]);
      await q.query(`DELETE FROM sync_push_part WHERE workspace_id = $1 AND push_id = $2`, [c.ws, id]);
      return { applied: n };
    });
    for (const s of schedules) await e.armSchedule(c.ws, s).catch(() => undefined);
    return json(out);
  });

  r.post(`wmill/sync_push/${UUID}/settle`, async (c, e) => {
    const id = c.params[0]!;
    const out = await e.db.tx(async (q) => {
      // Waits for a transaction applying this id (sync_apply's row, a commit's row lock), then fences it.
      await q.query(
        `INSERT INTO sync_push (workspace_id, id, created_by, state) VALUES ($1, $2, $3, 'abandoned') ON CONFLICT DO NOTHING`,
        [c.ws, id, e.p.email],
      );
      const row = await pushRow(q, c.ws, id, e, true);
      if (!row) throw notFound(`push ${id} not found`);
      if (row.state === 'committed') return { state: 'committed', applied: Number(row.applied ?? 0) };
      if (row.state === 'staging') {
        await q.query(`UPDATE sync_push SET state = 'abandoned' WHERE workspace_id = $1 AND id = $2`, [c.ws, id]);
        await q.query(`DELETE FROM sync_push_part WHERE workspace_id = $1 AND push_id = $2`, [c.ws, id]);
      }
      return { state: 'abandoned' };
    });
    return json(out);
  });
}
