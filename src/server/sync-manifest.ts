/**
 * Our extension for sync (`POST /api/w/{ws}/wmill/sync_manifest`): every item the caller can
 * see with the content hash of its canonical body (src/items/canonical.ts), so a client plans a
 * push or pull from hashes alone; bodies only for the keys it asks for (`bodies: [keys]` or
 * `true`). Secret variables carry their ciphertext, as in the tarball, or their plaintext with
 * `plain_secrets: true` (the client's `plainSecrets`). Resources of type `state` and `cache`
 * (written by jobs at run time) are left out, as Windmill leaves them out of its exports.
 */
import {
  bodyHash, flowBody, folderBody, itemKey, resourceBody, resourceTypeBody, scheduleBody, scriptBody, variableBody, type ItemKind,
} from '../items/canonical.js';
import { decryptSecret } from '../items/secrets.js';
import { triggerBody, type TriggerKind } from '../items/triggers.js';
import { appBody } from '../items/apps.js';
import { appExport, deployedApps } from './apps.js';
import { accessTo } from './auth.js';
import type { Env } from './env.js';
import { badRequest, json, type Router } from './http.js';

export interface ManifestEntry {
  kind: ItemKind;
  path: string;
  hash: string;
  /** Scripts: the deployed version hash (the parent of the next deploy). */
  version?: string;
  /** Scripts: the language (a client filters by the file name it implies). */
  language?: string;
  /** Variables: set for secrets (so a client skipping secrets needs no bodies). */
  is_secret?: boolean;
  body?: Record<string, unknown>;
}

/**
 * Body hashes of script versions, by workspace and version hash: a version's row never changes
 * (a deploy inserts a new one; archiving and the deployment message are not part of the body),
 * so a no-op sync reads only paths and version hashes, not every script's content.
 */
const scriptBodyHashes = new Map<string, string>();
const MEMO_CAP = 200_000;

export async function manifest(e: Env, ws: string, wantBodies: Set<string> | true, opts: { plainSecrets?: boolean } = {}): Promise<ManifestEntry[]> {
  const out: ManifestEntry[] = [];
  // Access is decided per folder (or user/group prefix): one lookup per folder, not per item.
  const access = new Map<string, Promise<boolean>>();
  const visible = (path: string) => {
    const scope = path.split('/').slice(0, 2).join('/');
    let v = access.get(scope);
    if (!v) access.set(scope, (v = accessTo(e.db, ws, e.p, path).then((a) => a !== 'none')));
    return v;
  };
  const wants = (kind: ItemKind, path: string) => wantBodies === true || wantBodies.has(itemKey(kind, path));
  const push = (kind: ItemKind, path: string, body: Record<string, unknown>, version?: string, hash = bodyHash(body), language?: string) => {
    const secret = kind === 'variable' && body.is_secret ? { is_secret: true } : {};
    out.push({ kind, path, hash, ...(version ? { version } : {}), ...(language ? { language } : {}), ...secret, ...(wants(kind, path) ? { body } : {}) });
  };
  for (const f of await e.db.query(`SELECT * FROM folder WHERE workspace_id = $1 ORDER BY name`, [ws])) push('folder', f.name, folderBody(f.name, f));
  for (const t of await e.db.query(`SELECT * FROM resource_type WHERE workspace_id = $1 ORDER BY name`, [ws])) push('resource-type', t.name, resourceTypeBody(t.body));
  // With plainSecrets the client's files hold secret values decrypted: hash and send them so.
  const key = opts.plainSecrets ? await e.store.workspaceKey(ws) : undefined;
  for (const v of await e.db.query(`SELECT * FROM variable WHERE workspace_id = $1 ORDER BY path`, [ws])) {
    if (!(await visible(v.path))) continue;
    let value = v.value;
    if (v.is_secret && key) {
      try {
        value = decryptSecret(key, v.value);
      } catch {
        throw badRequest(`secret variable ${v.path} cannot be decrypted with this workspace's key; set its value again`);
      }
    }
    push('variable', v.path, variableBody({ ...v, value }));
  }
  // Resources written by jobs at run time (setState, caches) are not workspace content.
  for (const r of await e.db.query(`SELECT * FROM resource WHERE workspace_id = $1 AND resource_type NOT IN ('state', 'cache') ORDER BY path`, [ws])) {
    if (await visible(r.path)) push('resource', r.path, resourceBody(r));
  }
  const heads = await e.db.query<{ path: string; hash: string; language: string }>(
    `SELECT DISTINCT ON (path) path, hash, language FROM script WHERE workspace_id = $1 AND NOT archived AND NOT deleted AND NOT draft_only ORDER BY path, seq DESC`,
    [ws],
  );
  const memoKey = (h: string) => `${ws}\u0000${h}`;
  const shown: { path: string; hash: string; language: string }[] = [];
  for (const h of heads) if (await visible(h.path)) shown.push(h);
  const need = shown.filter((h) => !scriptBodyHashes.has(memoKey(h.hash)) || wants('script', h.path)).map((h) => h.hash);
  const rows = new Map<string, Record<string, any>>();
  if (need.length) {
    for (const s of await e.db.query(`SELECT * FROM script WHERE workspace_id = $1 AND hash = ANY($2::text[])`, [ws, need])) rows.set(s.hash, s);
  }
  if (scriptBodyHashes.size > MEMO_CAP) scriptBodyHashes.clear();
  for (const h of shown) {
    const s = rows.get(h.hash);
    if (s) {
      const body = scriptBody({ ...s.settings, ...s });
      const hash = bodyHash(body);
      scriptBodyHashes.set(memoKey(h.hash), hash);
      push('script', h.path, body, h.hash, hash, h.language);
    } else {
      out.push({ kind: 'script', path: h.path, hash: scriptBodyHashes.get(memoKey(h.hash))!, version: h.hash, language: h.language });
    }
  }
  for (const f of await e.db.query(`SELECT * FROM flow WHERE workspace_id = $1 AND NOT archived ORDER BY path`, [ws])) {
    if (await visible(f.path)) push('flow', f.path, flowBody({ ...f.settings, summary: f.summary, description: f.description, value: f.value, schema: f.schema }), String(f.version_id));
  }
  // Apps: every deploy is a new version, so the version id decides the body (memoized like scripts').
  const apps: { path: string; raw_app: boolean; version_id: string }[] = [];
  for (const a of await e.db.query<{ path: string; raw_app: boolean; version_id: string }>(`SELECT path, raw_app, version_id FROM app WHERE workspace_id = $1 ORDER BY path`, [ws])) if (await visible(a.path)) apps.push(a);
  const appKey = (a: { version_id: string }) => `${ws}\u0000app\u0000${a.version_id}`;
  const needApps = apps.filter((a) => !scriptBodyHashes.has(appKey(a)) || wants(a.raw_app ? 'raw_app' : 'app', a.path)).map((a) => a.path);
  const appRows = new Map<string, Record<string, any>>();
  if (needApps.length) for (const a of await deployedApps(e.db, ws, needApps)) appRows.set(a.path, a);
  for (const a of apps) {
    const kind = a.raw_app ? 'raw_app' : 'app';
    const row = appRows.get(a.path);
    if (row) {
      // (Deployed again since the first query: the newer version, as read.)
      const body = appBody(row.raw_app ? 'raw_app' : 'app', appExport(row));
      const hash = bodyHash(body);
      scriptBodyHashes.set(appKey(row as { version_id: string }), hash);
      push(row.raw_app ? 'raw_app' : 'app', a.path, body, String(row.version_id), hash);
    } else if (scriptBodyHashes.has(appKey(a))) {
      out.push({ kind, path: a.path, hash: scriptBodyHashes.get(appKey(a))!, version: String(a.version_id) });
    }
  }
  for (const s of await e.db.query(`SELECT * FROM schedule WHERE workspace_id = $1 ORDER BY path`, [ws])) if (await visible(s.path)) push('schedule', s.path, scheduleBody({ ...s.body, enabled: s.enabled }));
  for (const t of await e.db.query(`SELECT kind, path, body FROM triggers WHERE workspace_id = $1 ORDER BY path, kind`, [ws])) {
    if (await visible(t.path)) push(`${t.kind as TriggerKind}_trigger`, t.path, triggerBody(t.body));
  }
  return out;
}

export function registerSyncManifest(r: Router<Env>): void {
  r.post('wmill/sync_manifest', async (c, e) => {
    const b = await c.obj();
    let want: Set<string> | true = new Set();
    if (b.bodies === true) want = true;
    else if (Array.isArray(b.bodies)) want = new Set(b.bodies.map(String));
    else if (b.bodies !== undefined && b.bodies !== false) throw badRequest('bodies must be true or a list of "<kind>:<path>" keys');
    if (b.plain_secrets !== undefined && typeof b.plain_secrets !== 'boolean') throw badRequest('plain_secrets must be a boolean');
    return json({ version: 1, items: await manifest(e, c.ws, want, { plainSecrets: b.plain_secrets === true }) });
  });
}
