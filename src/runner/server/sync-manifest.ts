/**
 * Our extension for sync (`POST /api/w/{ws}/wmill/sync_manifest`): every item the caller can
 * see with the content hash of its canonical body (src/sync/canonical.ts), so a client plans a
 * push or pull from hashes alone; bodies only for the keys it asks for (`bodies: [keys]` or
 * `true`). Secret variables carry their ciphertext, as in the tarball.
 */
import {
  bodyHash, flowBody, folderBody, itemKey, resourceBody, resourceTypeBody, scheduleBody, scriptBody, variableBody, type ItemKind,
} from '../../sync/canonical.js';
import { accessTo } from './auth.js';
import type { Env } from './env.js';
import { badRequest, json, type Router } from './http.js';

export interface ManifestEntry {
  kind: ItemKind;
  path: string;
  hash: string;
  /** Scripts: the deployed version hash (the parent of the next deploy). */
  version?: string;
  /** Variables: set for secrets (so a client skipping secrets needs no bodies). */
  is_secret?: boolean;
  body?: Record<string, unknown>;
}

export async function manifest(e: Env, ws: string, wantBodies: Set<string> | true): Promise<ManifestEntry[]> {
  const out: ManifestEntry[] = [];
  const visible = async (path: string) => (await accessTo(e.db, ws, e.p, path)) !== 'none';
  const push = (kind: ItemKind, path: string, body: Record<string, unknown>, version?: string) => {
    const withBody = wantBodies === true || wantBodies.has(itemKey(kind, path));
    const secret = kind === 'variable' && body.is_secret ? { is_secret: true } : {};
    out.push({ kind, path, hash: bodyHash(body), ...(version ? { version } : {}), ...secret, ...(withBody ? { body } : {}) });
  };
  for (const f of await e.db.query(`SELECT * FROM folder WHERE workspace_id = $1 ORDER BY name`, [ws])) push('folder', f.name, folderBody(f.name, f));
  for (const t of await e.db.query(`SELECT * FROM resource_type WHERE workspace_id = $1 ORDER BY name`, [ws])) push('resource-type', t.name, resourceTypeBody(t.body));
  for (const v of await e.db.query(`SELECT * FROM variable WHERE workspace_id = $1 ORDER BY path`, [ws])) if (await visible(v.path)) push('variable', v.path, variableBody(v));
  for (const r of await e.db.query(`SELECT * FROM resource WHERE workspace_id = $1 ORDER BY path`, [ws])) if (await visible(r.path)) push('resource', r.path, resourceBody(r));
  const scripts = await e.db.query(
    `SELECT DISTINCT ON (path) * FROM script WHERE workspace_id = $1 AND NOT archived AND NOT deleted AND NOT draft_only ORDER BY path, seq DESC`,
    [ws],
  );
  for (const s of scripts) if (await visible(s.path)) push('script', s.path, scriptBody({ ...s.settings, ...s }), s.hash);
  for (const f of await e.db.query(`SELECT * FROM flow WHERE workspace_id = $1 AND NOT archived ORDER BY path`, [ws])) {
    if (await visible(f.path)) push('flow', f.path, flowBody({ ...f.settings, summary: f.summary, description: f.description, value: f.value, schema: f.schema }), String(f.version_id));
  }
  for (const s of await e.db.query(`SELECT * FROM schedule WHERE workspace_id = $1 ORDER BY path`, [ws])) if (await visible(s.path)) push('schedule', s.path, scheduleBody({ ...s.body, enabled: s.enabled }));
  return out;
}

export function registerSyncManifest(r: Router<Env>): void {
  r.post('wmill/sync_manifest', async (c, e) => {
    const b = await c.obj();
    let want: Set<string> | true = new Set();
    if (b.bodies === true) want = true;
    else if (Array.isArray(b.bodies)) want = new Set(b.bodies.map(String));
    else if (b.bodies !== undefined && b.bodies !== false) throw badRequest('bodies must be true or a list of "<kind>:<path>" keys');
    return json({ version: 1, items: await manifest(e, c.ws, want) });
  });
}
