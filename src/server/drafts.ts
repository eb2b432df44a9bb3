/**
 * Per-user drafts (spec/windmill-server.md §4.2-4.4): each user has their own draft of an item,
 * saved apart from the deployed version. A save carries `last_sync` (the timestamp the client
 * last saw for its draft); a save over a newer save of the same user is refused with
 * `{status: "conflict"}` unless `force`. A script draft records the version it started from
 * (`parent_hash`), so the diff endpoint can tell that a deploy happened since, and deploying the
 * draft with that parent fails with the lineage error instead of overwriting the newer version.
 * Secret variable values are stored encrypted (`$encrypted:`).
 */
import { encryptSecret } from '../items/secrets.js';
import { accessTo } from './auth.js';
import type { Env } from './env.js';
import { badRequest, forbidden, json, notFound, type Router } from './http.js';
import { headAt, scriptView } from './scripts.js';
import { flowView } from './items.js';

const KINDS = new Set(['script', 'flow', 'app', 'raw_app', 'resource', 'variable', 'schedule']);
const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : String(v));

function kindOf(k: string): string {
  if (!KINDS.has(k)) throw badRequest(`unknown draft kind "${k}": one of ${[...KINDS].join(', ')}`);
  return k;
}

/** Field-level differences between a draft and what is deployed (content as a line diff summary). */
export function draftDiff(deployed: Record<string, any> | undefined, draft: Record<string, any>) {
  const fields: string[] = [];
  for (const k of Object.keys(draft)) {
    if (['parent_hash', 'path'].includes(k)) continue;
    if (JSON.stringify(draft[k] ?? null) !== JSON.stringify(deployed?.[k] ?? null)) fields.push(k);
  }
  return fields;
}

export function registerDrafts(r: Router<Env>): void {
  r.post('drafts/update/([a-z_]+)/(.+)', async (c, e) => {
    const kind = kindOf(c.params[0]!);
    const path = c.params[1]!;
    if ((await accessTo(e.db, c.ws, e.p, path)) !== 'write') throw forbidden(`${e.p.username} cannot save drafts at ${path}`);
    const b = await c.obj();
    const force = b.force === true;
    let lastSync: string | null = null;
    if (b.last_sync != null) {
      if (typeof b.last_sync !== 'string' || Number.isNaN(Date.parse(b.last_sync))) throw badRequest('last_sync must be a timestamp');
      lastSync = new Date(Date.parse(b.last_sync)).toISOString();
    }
    let value = b.value;
    if (value !== undefined && value !== null && (typeof value !== 'object' || Array.isArray(value))) throw badRequest('value must be an object (or null to delete the draft)');
    if (kind === 'variable' && value?.is_secret && typeof value.value === 'string' && !value.value.startsWith('$encrypted:')) {
      value = { ...value, value: `$encrypted:${encryptSecret(await e.store.workspaceKey(c.ws), value.value)}` };
    }
    return e.db.tx(async (q) => {
      const [cur] = await q.query(`SELECT created_at FROM draft WHERE workspace_id = $1 AND kind = $2 AND path = $3 AND email = $4 FOR UPDATE`, [c.ws, kind, path, e.p.email]);
      if (cur && !force && lastSync !== null && new Date(cur.created_at).getTime() > Date.parse(lastSync)) {
        return json({ status: 'conflict', current_timestamp: iso(cur.created_at), path });
      }
      if (value === undefined || value === null) {
        await q.query(`DELETE FROM draft WHERE workspace_id = $1 AND kind = $2 AND path = $3 AND email = $4`, [c.ws, kind, path, e.p.email]);
        return json({ status: 'saved', current_timestamp: new Date().toISOString(), path });
      }
      const [row] = await q.query(
        `INSERT INTO draft (workspace_id, kind, path, email, value, created_at) VALUES ($1,$2,$3,$4,$5::json, date_trunc('milliseconds', clock_timestamp()))
         ON CONFLICT (workspace_id, kind, path, email) DO UPDATE SET value = EXCLUDED.value,
           created_at = GREATEST(EXCLUDED.created_at, draft.created_at + interval '1 millisecond')
         RETURNING created_at`,
        [c.ws, kind, path, e.p.email, JSON.stringify(value)],
      );
      return json({ status: 'saved', current_timestamp: iso(row!.created_at), path });
    });
  });

  r.get('drafts/get_own/([a-z_]+)/(.+)', async (c, e) => {
    const kind = kindOf(c.params[0]!);
    const [row] = await e.db.query(`SELECT value, created_at FROM draft WHERE workspace_id = $1 AND kind = $2 AND path = $3 AND email = $4`, [c.ws, kind, c.params[1], e.p.email]);
    return json(row ? { value: row.value, created_at: iso(row.created_at) } : null);
  });

  r.get('drafts/get/([a-z_]+)/(.+)', async (c, e) => {
    const kind = kindOf(c.params[0]!);
    const path = c.params[1]!;
    if ((await accessTo(e.db, c.ws, e.p, path)) === 'none') throw notFound(`Draft not found`);
    const username = c.query.get('username') ?? e.p.username;
    const [row] = await e.db.query(
      `SELECT d.value, d.created_at FROM draft d JOIN member m ON m.workspace_id = d.workspace_id AND m.email = d.email
       WHERE d.workspace_id = $1 AND d.kind = $2 AND d.path = $3 AND m.username = $4`,
      [c.ws, kind, path, username],
    );
    if (!row) throw notFound(`Draft of ${username} not found for ${kind} ${path}`);
    return json({ value: row.value, created_at: iso(row.created_at) });
  });

  r.get('drafts/list', async (c, e) => {
    const all = c.q.bool('all_users');
    const rows = await e.db.query(
      `SELECT d.kind, d.path, d.created_at, d.email, m.username FROM draft d LEFT JOIN member m ON m.workspace_id = d.workspace_id AND m.email = d.email
       WHERE d.workspace_id = $1 ${all ? '' : 'AND d.email = $2'} ORDER BY d.path, d.kind`,
      all ? [c.ws] : [c.ws, e.p.email],
    );
    const out = [];
    for (const x of rows) {
      const a = await accessTo(e.db, c.ws, e.p, x.path);
      if (a === 'none') continue;
      const deployed = x.kind === 'script' ? await headAt(e.db, c.ws, x.path) : undefined;
      out.push({
        kind: x.kind, path: x.path, created_at: iso(x.created_at), mine: x.email === e.p.email, can_write: a === 'write',
        draft_only: x.kind === 'script' ? !deployed : undefined, legacy_draft: false, username: x.username,
      });
    }
    return json(out);
  });

  /** Our addition: what a user's draft changes against what is deployed, and whether a deploy happened since it started. */
  r.get('drafts/diff/([a-z_]+)/(.+)', async (c, e) => {
    const kind = kindOf(c.params[0]!);
    const path = c.params[1]!;
    // What is deployed at a path is shown only to who may read it (a draft kept after losing access shows nothing more).
    if ((await accessTo(e.db, c.ws, e.p, path)) === 'none') throw notFound(`No draft of yours for ${kind} ${path}`);
    const [row] = await e.db.query(`SELECT value, created_at FROM draft WHERE workspace_id = $1 AND kind = $2 AND path = $3 AND email = $4`, [c.ws, kind, path, e.p.email]);
    if (!row) throw notFound(`No draft of yours for ${kind} ${path}`);
    let deployed: Record<string, any> | undefined;
    let head: string | undefined;
    if (kind === 'script') {
      const h = await headAt(e.db, c.ws, path);
      if (h) {
        deployed = scriptView(h);
        head = h.hash;
      }
    } else if (kind === 'flow') {
      const [f] = await e.db.query(`SELECT * FROM flow WHERE workspace_id = $1 AND path = $2`, [c.ws, path]);
      if (f) {
        deployed = flowView(f);
        head = String(f.version_id);
      }
    }
    const draft = row.value as Record<string, any>;
    const base = kind === 'script' ? draft.parent_hash : kind === 'flow' ? (draft.version_id != null ? String(draft.version_id) : undefined) : undefined;
    return json({
      kind, path,
      draft_created_at: iso(row.created_at),
      deployed_version: head ?? null,
      draft_base: base ?? null,
      deployed_changed_since_draft: !!(base && head && base !== head),
      changed_fields: draftDiff(deployed, draft),
      draft,
      deployed: deployed ?? null,
    });
  });
}
