/**
 * Apps on `wmill serve` (Windmill's `apps/*` routes, the shapes windmill-cli 1.819 sends and
 * reads): low-code apps (`apps/create`, `apps/update`: JSON) and raw apps (`apps/create_raw`,
 * `apps/update_raw`: multipart with the `app` JSON and the frontend bundle `js`/`css` the CLI
 * built). One deployed app per path; every deploy is an `app_version` row (history, versions,
 * deployment messages). Every route asks the one access check (access.ts).
 *
 * Public apps: each app has a secret (`apps/secret_of/{path}`). `apps_u/public_app/{secret}`
 * answers the deployed version without a login while the app's policy says
 * `execution_mode: anonymous` (the CLI's `public: true`), and 403 once it no longer does (a
 * logged-in user who may read the app still gets it). A raw app is served at a URL so that it
 * runs in a browser: `apps_u/page/{secret}` (public) and `apps/page/{path}` (logged in) frame
 * the app (its bundle inlined, or its own `index.html` and files) in a sandbox (an opaque origin:
 * the app's code never acts with its viewer's session) and relay its `backend.<id>()` calls to
 * `apps_u/run/{secret}/{id}`, which runs the deployed runnable as the app's publisher. Low-code
 * app JSON is stored, synced and served as JSON, not rendered.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Sql } from './db/db.js';
import { accessIn, allows, can, requireAccess, scopeOf } from './access.js';
import type { Env } from './env.js';
import { badRequest, boolParam, checkItemPath, forbidden, HttpError, json, notFound, readBody, text, type Reply, type Router } from './http.js';
import { zodMessage } from './scripts.js';
import { jobOwner } from './auth.js';
import { requireIndirect } from './access.js';
import { flowJobSpec, scriptJobSpec } from './jobs.js';
import { flowAtPath, scriptAtPath } from './runnables.js';
import type { JobSpec } from '../runner/types.js';
import type { Language } from '../workspace/languages.js';
import { canonicalJson } from '../items/canonical.js';

const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : v);

const AppBody = z
  .object({
    path: z.string(),
    summary: z.string().nullish(),
    value: z.record(z.string(), z.unknown()),
    policy: z.record(z.string(), z.unknown()).nullish(),
    deployment_message: z.string().nullish(),
    custom_path: z.string().nullish(),
  })
  .passthrough();

export interface SaveAppOptions {
  raw: boolean;
  /** The path being updated (a different `path` in the body moves the app). */
  existingPath?: string;
  /** Create only: refuse when the path is taken. */
  create?: boolean;
  js?: string;
  css?: string;
}

/** Deploy an app (create, update or move): a new version, the app row pointing at it. Returns the path. */
export async function saveApp(q: Sql, e: Env, ws: string, body: Record<string, unknown>, o: SaveAppOptions): Promise<string> {
  const r = AppBody.safeParse(body);
  if (!r.success) throw badRequest(zodMessage(r.error, 'app'));
  const b = r.data;
  const path = checkItemPath(b.path);
  await requireAccess(q, ws, e.p, path, 'write', 'App');
  const from = o.existingPath ?? path;
  if (from !== path) await requireAccess(q, ws, e.p, from, 'write', 'App');
  const [old] = await q.query(`SELECT * FROM app WHERE workspace_id = $1 AND path = $2 FOR UPDATE`, [ws, from]);
  if (o.create && old) throw badRequest(`App ${path} already exists`);
  if (o.existingPath && !old) throw notFound(`App not found at path ${from}`);
  if (from !== path) {
    const [taken] = await q.query(`SELECT 1 FROM app WHERE workspace_id = $1 AND path = $2`, [ws, path]);
    if (taken) throw badRequest(`App ${path} already exists`);
  }
  // The app runs as its last deployer unless it is public: the server says who, not the body.
  const policy: Record<string, unknown> = { ...(old?.policy ?? {}), ...(b.policy ?? {}) };
  if (typeof policy.execution_mode !== 'string') policy.execution_mode = 'publisher';
  if (!['anonymous', 'publisher', 'viewer', 'guest'].includes(policy.execution_mode as string)) {
    throw badRequest(`policy.execution_mode: expected anonymous, publisher, viewer or guest, got ${JSON.stringify(policy.execution_mode)}`);
  }
  policy.on_behalf_of = `u/${e.p.username}`;
  policy.on_behalf_of_email = e.p.email;
  let id: number;
  if (old) {
    id = Number(old.id);
    await q.query(
      `UPDATE app SET path = $3, summary = $4, policy = $5::json, raw_app = $6, custom_path = $7, edited_by = $8, edited_at = now() WHERE workspace_id = $1 AND path = $2`,
      [ws, from, path, b.summary ?? old.summary ?? '', JSON.stringify(policy), o.raw, b.custom_path === undefined ? old.custom_path : b.custom_path, e.p.username],
    );
    if (from !== path) await q.query(`UPDATE app_version SET path = $3 WHERE workspace_id = $1 AND app_id = $2`, [ws, id, path]);
  } else {
    const [row] = await q.query<{ id: string }>(
      `INSERT INTO app (workspace_id, path, summary, policy, raw_app, custom_path, secret, version_id, created_by, edited_by)
       VALUES ($1,$2,$3,$4::json,$5,$6,$7,0,$8,$8) RETURNING id`,
      [ws, path, b.summary ?? '', JSON.stringify(policy), o.raw, b.custom_path ?? null, randomBytes(16).toString('hex'), e.p.username],
    );
    id = Number(row!.id);
  }
  // A deploy without a bundle (a sync push) keeps the deployed one while the frontend files are unchanged.
  let js = o.js;
  let css = o.css;
  if (js === undefined && old) {
    const [prev] = await q.query(`SELECT value, bundle_js, bundle_css FROM app_version WHERE id = $1`, [Number(old.version_id)]);
    if (prev?.bundle_js != null && canonicalJson(prev.value?.files ?? {}) === canonicalJson((b.value as Record<string, unknown>).files ?? {})) {
      js = prev.bundle_js;
      css = prev.bundle_css ?? undefined;
    }
  }
  const [v] = await q.query<{ id: string }>(
    `INSERT INTO app_version (workspace_id, path, app_id, value, raw_app, bundle_js, bundle_css, deployment_msg, created_by)
     VALUES ($1,$2,$3,$4::json,$5,$6,$7,$8,$9) RETURNING id`,
    [ws, path, id, JSON.stringify(b.value), o.raw, js ?? null, css ?? null, b.deployment_message ?? null, e.p.username],
  );
  await q.query(`UPDATE app SET version_id = $3 WHERE workspace_id = $1 AND path = $2`, [ws, path, Number(v!.id)]);
  if (!body.skip_draft_deletion) await q.query(`DELETE FROM draft WHERE workspace_id = $1 AND kind IN ('app', 'raw_app') AND path = $2 AND email = $3`, [ws, path, e.p.email]);
  return path;
}

/** Delete the app at `path` and its versions (idempotent). Whether there was one. */
export async function deleteApp(q: Sql, e: Env, ws: string, path: string): Promise<boolean> {
  await requireAccess(q, ws, e.p, path, 'write', 'App');
  const rows = await q.query<{ id: string }>(`DELETE FROM app WHERE workspace_id = $1 AND path = $2 RETURNING id`, [ws, path]);
  if (rows.length) await q.query(`DELETE FROM app_version WHERE workspace_id = $1 AND app_id = $2`, [ws, Number(rows[0]!.id)]);
  return rows.length > 0;
}

/** The deployed apps of a workspace with their current value (for the archive and the sync manifest), every one, unfiltered. */
export async function deployedApps(q: Sql, ws: string, paths?: string[]): Promise<Record<string, any>[]> {
  return q.query(
    `SELECT a.*, v.value FROM app a JOIN app_version v ON v.id = a.version_id WHERE a.workspace_id = $1 ${paths ? 'AND a.path = ANY($2::text[])' : ''} ORDER BY a.path`,
    paths ? [ws, paths] : [ws],
  );
}

/** An app as Windmill exports it in the workspace archive (`<path>.app.json` / `.raw_app.json`). */
export function appExport(row: Record<string, any>): Record<string, unknown> {
  return { summary: row.summary ?? '', value: row.value, policy: row.policy ?? {}, ...(row.custom_path ? { custom_path: row.custom_path } : {}) };
}

async function versionsOf(q: Sql, ws: string, appId: number): Promise<number[]> {
  return (await q.query<{ id: string }>(`SELECT id FROM app_version WHERE workspace_id = $1 AND app_id = $2 ORDER BY id`, [ws, appId])).map((x) => Number(x.id));
}

/** AppWithLastVersion: the app row with the value of `version` (default: the deployed one). */
async function appView(q: Sql, ws: string, row: Record<string, any>, version?: Record<string, any>): Promise<Record<string, unknown>> {
  const v = version ?? (await q.query(`SELECT * FROM app_version WHERE id = $1`, [Number(row.version_id)]))[0];
  return {
    id: Number(row.id),
    workspace_id: ws,
    path: row.path,
    summary: row.summary ?? '',
    versions: await versionsOf(q, ws, Number(row.id)),
    created_by: v?.created_by ?? row.created_by,
    created_at: iso(v?.created_at ?? row.created_at),
    value: v?.value ?? {},
    policy: row.policy ?? {},
    execution_mode: row.policy?.execution_mode ?? 'publisher',
    extra_perms: row.extra_perms ?? {},
    raw_app: !!row.raw_app,
    draft_only: false,
    ...(row.custom_path ? { custom_path: row.custom_path } : {}),
  };
}

/** Multipart body of `create_raw`/`update_raw`: the `app` JSON and the bundle's `js` and `css`. */
async function rawAppForm(c: { req: import('node:http').IncomingMessage }): Promise<{ app: Record<string, unknown>; js?: string; css?: string }> {
  const type = String(c.req.headers['content-type'] ?? '');
  const buf = await readBody(c.req);
  if (!/^multipart\/form-data/i.test(type)) {
    // A JSON body ({app, js, css} or the app itself) is accepted too.
    let v: any;
    try {
      v = JSON.parse(buf.toString('utf8') || '{}');
    } catch (e) {
      throw badRequest(`request body is not multipart/form-data nor valid JSON: ${(e as Error).message}`);
    }
    return v && typeof v === 'object' && v.app ? { app: v.app, js: v.js, css: v.css } : { app: v };
  }
  let form: FormData;
  try {
    form = await new Request('http://localhost/', { method: 'POST', headers: { 'content-type': type }, body: new Uint8Array(buf) }).formData();
  } catch (e) {
    throw badRequest(`malformed multipart/form-data body: ${(e as Error).message}`);
  }
  const field = async (k: string) => {
    const v = form.get(k);
    if (v == null) return undefined;
    return typeof v === 'string' ? v : await (v as Blob).text();
  };
  const appText = await field('app');
  if (appText === undefined) throw badRequest('multipart field "app" (the app as JSON) is required');
  let app: unknown;
  try {
    app = JSON.parse(appText);
  } catch (e) {
    throw badRequest(`multipart field "app" is not valid JSON: ${(e as Error).message}`);
  }
  if (!app || typeof app !== 'object' || Array.isArray(app)) throw badRequest('multipart field "app" must be a JSON object');
  return { app: app as Record<string, unknown>, js: await field('js'), css: await field('css') };
}

const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8', htm: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', mjs: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8', json: 'application/json', svg: 'image/svg+xml', txt: 'text/plain; charset=utf-8', md: 'text/plain; charset=utf-8',
};

/** App pages run in an opaque origin: no access to the viewer's cookies or to this API as them. */
const SANDBOX = { 'Content-Security-Policy': 'sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads', 'X-Content-Type-Options': 'nosniff' };

const page = (body: string, contentType = CONTENT_TYPES.html!): Reply => ({ bytes: Buffer.from(body, 'utf8'), contentType, headers: SANDBOX });

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** The document of a raw app: its bundle inlined (as `wmill app push` built it), else its own index.html. */
function rawAppPage(app: Record<string, any>, version: Record<string, any>): Reply {
  const files: Record<string, unknown> = version.value?.files ?? {};
  if (version.bundle_js) {
    const js = String(version.bundle_js).replace(/<\/script/gi, '<\\/script');
    const css = String(version.bundle_css ?? '').replace(/<\/style/gi, '<\\/style');
    return page(
      `<!doctype html>\n<html>\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>${escapeHtml(app.summary || app.path)}</title>\n<style>${css}</style>\n</head>\n<body>\n<div id="root"></div>\n<script>${js}</script>\n</body>\n</html>\n`,
    );
  }
  const index = files['/index.html'];
  if (typeof index === 'string') return page(index);
  throw notFound(`raw app ${app.path} has no bundle and no index.html to serve (push it with \`wmill app push\` or add an index.html)`);
}

/**
 * The page a raw app is opened at: the app itself in a sandboxed frame (an opaque origin), and
 * beside it this server's bridge for the `wmill` module the app's bundle carries: its
 * `backend.<id>(args)` calls arrive as messages, run the app's runnable `<id>` (`apps_u/run`) and
 * the result goes back to the frame. Only this page talks to the API; the app never can.
 */
function hostPage(app: Record<string, any>, frameSrc: string, runUrl: string): Reply {
  const title = escapeHtml(app.summary || app.path);
  const body = `<!doctype html>
<html>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>html, body { margin: 0; height: 100%; } iframe { border: 0; width: 100%; height: 100%; display: block; }</style>
</head>
<body>
<iframe id="app" title="${title}" sandbox="allow-scripts allow-forms allow-popups allow-modals allow-downloads" src="${escapeHtml(frameSrc)}"></iframe>
<script>
(() => {
  const frame = document.getElementById('app');
  const runUrl = ${JSON.stringify(runUrl)};
  window.addEventListener('message', async (ev) => {
    if (ev.source !== frame.contentWindow) return;
    const d = ev.data || {};
    if (typeof d.reqId !== 'string' || typeof d.type !== 'string') return;
    const reply = (result, error) => frame.contentWindow.postMessage({ type: d.type + 'Res', reqId: d.reqId, result, error }, '*');
    if (d.type !== 'backend') return reply({ message: d.type + ' is not supported by wmill serve (only backend.<id>(args))' }, true);
    try {
      const r = await fetch(runUrl + encodeURIComponent(String(d.runnable_id)), { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify(d.v ?? {}) });
      const text = await r.text();
      let j;
      try { j = JSON.parse(text); } catch { j = { success: false, result: { message: text } }; }
      if (!r.ok || !j.success) return reply(j.result ?? { message: text }, true);
      reply(j.result, false);
    } catch (e) {
      reply({ message: String(e && e.message || e) }, true);
    }
  });
})();
</script>
</body>
</html>
`;
  return { bytes: Buffer.from(body, 'utf8'), contentType: CONTENT_TYPES.html!, headers: { 'X-Content-Type-Options': 'nosniff', 'X-Frame-Options': 'SAMEORIGIN' } };
}

/**
 * Run the app's runnable `component` for the caller (its page), and wait for the result. The
 * runnable is the deployed one (never code from the request); static fields win over the
 * arguments sent. It runs as the app's publisher (its last deployer), or as the viewer when the
 * policy says `viewer`.
 */
async function runComponent(e: Env, ws: string, app: Record<string, any>, v: Record<string, any>, component: string, sent: unknown): Promise<Reply> {
  const r = (v.value?.runnables ?? {})[component];
  if (!r || typeof r !== 'object' || !Object.prototype.hasOwnProperty.call(v.value.runnables, component)) throw notFound(`app ${app.path} has no runnable ${component}`);
  if (sent !== undefined && (typeof sent !== 'object' || sent === null || Array.isArray(sent))) throw badRequest('the arguments must be a JSON object');
  const statics = Object.fromEntries(Object.entries(r.fields ?? {}).filter(([, f]) => (f as any)?.type === 'static').map(([k, f]) => [k, (f as any).value]));
  const args = { ...((sent as Record<string, unknown>) ?? {}), ...statics };
  const anonymous = e.p.username === 'anonymous';
  let owner: string;
  if (app.policy?.execution_mode === 'viewer') {
    if (anonymous) throw forbidden(`app ${app.path} runs as its viewer: log in to use it`);
    owner = e.p.username;
  } else owner = String(app.policy?.on_behalf_of ?? `u/${app.edited_by}`).replace(/^u\//, '');
  const ownerP = await jobOwner(e.db, ws, `u/${owner}`);
  if (!ownerP) throw forbidden(`app ${app.path} runs as ${owner}, who is no longer a member of ${ws}`);
  const by = anonymous ? 'anonymous' : e.p.username;
  let spec: JobSpec;
  if (r.inlineScript && typeof r.inlineScript.content === 'string') {
    spec = { workspace: ws, kind: 'preview', path: app.path, language: String(r.inlineScript.language) as Language, content: r.inlineScript.content, args, createdBy: by, permissionedAs: `u/${owner}` };
  } else if (r.type === 'path' && typeof r.path === 'string' && (r.runType === 'script' || r.runType === 'flow')) {
    try {
      await requireIndirect(e.db, ws, ownerP, r.path, 'run', r.runType);
    } catch (err) {
      throw forbidden((err as Error).message);
    }
    if (r.runType === 'script') {
      const head = await scriptAtPath(e.db, ws, r.path);
      if (!head) throw notFound(`script ${r.path} (runnable ${component} of app ${app.path}) not found`);
      spec = scriptJobSpec(ws, head, args, owner, { createdBy: by });
    } else {
      const f = await flowAtPath(e.db, ws, r.path);
      if (!f) throw notFound(`flow ${r.path} (runnable ${component} of app ${app.path}) not found`);
      spec = flowJobSpec(ws, f, args, owner, { createdBy: by });
    }
  } else throw badRequest(`runnable ${component} of app ${app.path} cannot run on wmill serve (${r.runType ?? r.type ?? 'unknown type'})`);
  const id = await e.engine.submit(spec);
  const j = await e.engine.wait(id);
  return json({ job_id: id, success: j.status === 'success', result: j.result ?? null });
}

/** One of a raw app's files (relative to the app folder), or its document for an empty path. */
function rawAppFile(app: Record<string, any>, version: Record<string, any>, rel: string): Reply {
  if (!rel || rel === 'index.html') return rawAppPage(app, version);
  const content = (version.value?.files ?? {})[`/${rel}`];
  if (typeof content !== 'string') throw notFound(`raw app ${app.path} has no file ${rel}`);
  const ext = rel.slice(rel.lastIndexOf('.') + 1).toLowerCase();
  return page(content, CONTENT_TYPES[ext] ?? 'text/plain; charset=utf-8');
}

export function registerAppRoutes(r: Router<Env>): void {
  const byPath = async (e: Env, ws: string, path: string, op: 'read' | 'write' = 'read') => {
    await requireAccess(e.db, ws, e.p, path, op, 'App');
    const [row] = await e.db.query(`SELECT * FROM app WHERE workspace_id = $1 AND path = $2`, [ws, path]);
    if (!row) throw notFound(`App not found at path ${path}`);
    return row;
  };
  const bySecret = async (e: Env, ws: string, secret: string) => {
    const [row] = await e.db.query(`SELECT * FROM app WHERE workspace_id = $1 AND secret = $2`, [ws, secret]);
    if (!row) throw notFound('App not found');
    // Public while its policy says anonymous; otherwise only for those who may read it.
    if (row.policy?.execution_mode !== 'anonymous' && !(e.p.username !== 'anonymous' && (await can(e.db, ws, e.p, row.path, 'read')))) {
      throw forbidden(`app ${row.path} is not public`);
    }
    return row;
  };
  const versionRow = async (e: Env, id: number) => (await e.db.query(`SELECT * FROM app_version WHERE id = $1`, [id]))[0]!;

  r.get('apps/list', async (c, e) => {
    const scope = await scopeOf(e.db, c.ws, e.p);
    const params: unknown[] = [c.ws];
    let where = '';
    const pathStart = c.query.get('path_start');
    const pathExact = c.query.get('path_exact');
    const createdBy = c.query.get('created_by');
    if (pathStart) where += ` AND a.path LIKE $${params.push(pathStart.replace(/[\\%_]/g, (ch) => `\\${ch}`) + '%')}`;
    if (pathExact) where += ` AND a.path = $${params.push(pathExact)}`;
    if (createdBy) where += ` AND a.created_by = $${params.push(createdBy)}`;
    const desc = boolParam(c.query, 'order_desc', true);
    const rows = await e.db.query(
      `SELECT a.*, v.deployment_msg FROM app a JOIN app_version v ON v.id = a.version_id WHERE a.workspace_id = $1${where} ORDER BY a.edited_at ${desc ? 'DESC' : 'ASC'}, a.path`,
      params,
    );
    const visible = rows.filter((x) => allows(accessIn(scope, x.path), 'list'));
    const perPage = c.q.int('per_page', { dflt: 1000, min: 1, max: 10000, clamp: true });
    // Pages count from 1; the real CLI starts at 0, which is the first page too (as in Windmill).
    const pageNo = Math.max(1, c.q.int('page', { dflt: 1, min: 0 }));
    const slice = c.query.has('page') || c.query.has('per_page') ? visible.slice((pageNo - 1) * perPage, pageNo * perPage) : visible;
    const withMsg = boolParam(c.query, 'with_deployment_msg');
    return json(
      slice.map((x) => ({
        id: Number(x.id),
        workspace_id: c.ws,
        path: x.path,
        summary: x.summary ?? '',
        version: Number(x.version_id),
        extra_perms: x.extra_perms ?? {},
        starred: false,
        edited_at: iso(x.edited_at),
        execution_mode: x.policy?.execution_mode ?? 'publisher',
        raw_app: !!x.raw_app,
        ...(withMsg && x.deployment_msg ? { deployment_msg: x.deployment_msg } : {}),
      })),
    );
  });
  r.get('apps/exists/(.+)', async (c, e) => {
    if (!(await can(e.db, c.ws, e.p, c.params[0]!, 'read'))) return json(false);
    const [row] = await e.db.query(`SELECT 1 FROM app WHERE workspace_id = $1 AND path = $2`, [c.ws, c.params[0]]);
    return json(!!row);
  });
  r.get('apps/get/p/(.+)', async (c, e) => json(await appView(e.db, c.ws, await byPath(e, c.ws, c.params[0]!))));
  r.get('apps/get/lite/(.+)', async (c, e) => json(await appView(e.db, c.ws, await byPath(e, c.ws, c.params[0]!))));
  r.get('apps/get/v/([0-9]+)', async (c, e) => {
    const [v] = await e.db.query(`SELECT * FROM app_version WHERE workspace_id = $1 AND id = $2`, [c.ws, Number(c.params[0])]);
    if (!v) throw notFound(`App version ${c.params[0]} not found`);
    const row = await byPath(e, c.ws, v.path);
    return json(await appView(e.db, c.ws, row, v));
  });
  r.get('apps/history/p/(.+)', async (c, e) => {
    const row = await byPath(e, c.ws, c.params[0]!);
    const rows = await e.db.query(`SELECT id, deployment_msg FROM app_version WHERE workspace_id = $1 AND app_id = $2 ORDER BY id DESC`, [c.ws, Number(row.id)]);
    return json(rows.map((x) => ({ app_id: Number(row.id), version: Number(x.id), ...(x.deployment_msg ? { deployment_msg: x.deployment_msg } : {}) })));
  });
  r.get('apps/get_latest_version/(.+)', async (c, e) => {
    const row = await byPath(e, c.ws, c.params[0]!);
    const v = await versionRow(e, Number(row.version_id));
    return json({ app_id: Number(row.id), version: Number(v.id), ...(v.deployment_msg ? { deployment_msg: v.deployment_msg } : {}) });
  });
  r.post('apps/history_update/a/([0-9]+)/v/([0-9]+)', async (c, e) => {
    const b = await c.obj();
    if (b.deployment_msg != null && typeof b.deployment_msg !== 'string') throw badRequest('deployment_msg must be a string');
    const [v] = await e.db.query(`SELECT path FROM app_version WHERE workspace_id = $1 AND app_id = $2 AND id = $3`, [c.ws, Number(c.params[0]), Number(c.params[1])]);
    if (!v) throw notFound(`App version ${c.params[1]} not found`);
    await requireAccess(e.db, c.ws, e.p, v.path, 'write', 'App');
    await e.db.query(`UPDATE app_version SET deployment_msg = $2 WHERE id = $1`, [Number(c.params[1]), b.deployment_msg ?? null]);
    return text('Updated');
  });
  r.post('apps/create', async (c, e) => {
    const body = await c.obj();
    return text(await e.db.tx((q) => saveApp(q, e, c.ws, body, { raw: false, create: true })), 201);
  });
  r.post('apps/update/(.+)', async (c, e) => {
    const old = c.params[0]!;
    const body = await c.obj();
    return text(
      await e.db.tx(async (q) => {
        const [row] = await q.query(`SELECT raw_app FROM app WHERE workspace_id = $1 AND path = $2`, [c.ws, old]);
        if (!row) {
          await requireAccess(q, c.ws, e.p, old, 'read', 'App');
          throw notFound(`App not found at path ${old}`);
        }
        // A partial update keeps the deployed value.
        const value = body.value ?? (await q.query(`SELECT v.value FROM app a JOIN app_version v ON v.id = a.version_id WHERE a.workspace_id = $1 AND a.path = $2`, [c.ws, old]))[0]?.value;
        return saveApp(q, e, c.ws, { path: old, ...body, value }, { raw: !!row.raw_app, existingPath: old });
      }),
    );
  });
  r.post('apps/create_raw', async (c, e) => {
    const f = await rawAppForm(c);
    return text(await e.db.tx((q) => saveApp(q, e, c.ws, f.app, { raw: true, create: true, js: f.js, css: f.css })), 201);
  });
  r.post('apps/update_raw/(.+)', async (c, e) => {
    const old = c.params[0]!;
    const f = await rawAppForm(c);
    return text(await e.db.tx((q) => saveApp(q, e, c.ws, { path: old, ...f.app }, { raw: true, existingPath: old, js: f.js, css: f.css })));
  });
  r.del('apps/delete/(.+)', async (c, e) => {
    const path = c.params[0]!;
    // Idempotent, as the real CLI may send one delete per removed file of an app folder.
    const done = await e.db.tx((q) => deleteApp(q, e, c.ws, path));
    return text(done ? `app ${path} deleted` : `app ${path} was already deleted`);
  });
  r.get('apps/secret_of/(.+)', async (c, e) => text((await byPath(e, c.ws, c.params[0]!)).secret));
  r.get('apps/secret_of_latest_version/(.+)', async (c, e) => text((await byPath(e, c.ws, c.params[0]!)).secret));
  // The bundle of a raw app by its secret (`<secret>.js` / `<secret>.css`), for those who may read it.
  const bundle = async (e: Env, ws: string, name: string) => {
    const m = /^([0-9a-f]+)\.(js|css)$/.exec(name);
    if (!m) throw notFound(`expected <secret>.js or <secret>.css, got ${name}`);
    const row = await bySecret(e, ws, m[1]!);
    const v = await versionRow(e, Number(row.version_id));
    return page(String((m[2] === 'js' ? v.bundle_js : v.bundle_css) ?? ''), CONTENT_TYPES[m[2]!]!);
  };
  r.get('apps/get_data/v/([^/]+)', async (c, e) => bundle(e, c.ws, c.params[0]!));
  r.get('apps_u/get_data/v/([^/]+)', async (c, e) => bundle(e, c.ws, c.params[0]!));
  r.get('apps_u/public_app/([^/]+)', async (c, e) => {
    const row = await bySecret(e, c.ws, c.params[0]!);
    const view = await appView(e.db, c.ws, row);
    // Who deployed it and its permissions are not for anonymous viewers.
    const { policy: _p, extra_perms: _x, ...pub } = view;
    return json(e.p.username === 'anonymous' ? { ...pub, policy: { execution_mode: row.policy?.execution_mode } } : view);
  });
  // A raw app in a browser: public by secret, or by path for those who may read it. The page
  // (`.../{secret}`, `.../{path}`) frames the app (`.../{secret}/`, `.../{path}/-/`: its document
  // and files, sandboxed) and relays its backend calls.
  const rawOnly = (row: Record<string, any>, json: string) => {
    if (!row.raw_app) throw new HttpError(501, `app ${row.path} is a low-code app: wmill serve does not render low-code apps (its JSON is at ${json})`);
  };
  r.get('apps_u/page/([0-9a-f]+)(/(.*))?', async (c, e) => {
    const row = await bySecret(e, c.ws, c.params[0]!);
    rawOnly(row, `apps_u/public_app/${row.secret}`);
    if (!c.params[1]) return hostPage(row, `${row.secret}/`, `../run/${row.secret}/`);
    return rawAppFile(row, await versionRow(e, Number(row.version_id)), c.params[2]!);
  });
  r.get('apps/page/(.+?)(/-/(.*))?', async (c, e) => {
    const row = await byPath(e, c.ws, c.params[0]!);
    rawOnly(row, `apps/get/p/${row.path}`);
    const name = row.path.split('/').pop();
    if (!c.params[1]) return hostPage(row, `${name}/-/`, `${'../'.repeat(row.path.split('/').length + 1)}apps_u/run/${row.secret}/`);
    return rawAppFile(row, await versionRow(e, Number(row.version_id)), c.params[2]!);
  });
  r.post('apps_u/run/([0-9a-f]+)/([^/]+)', async (c, e) => {
    const row = await bySecret(e, c.ws, c.params[0]!);
    return runComponent(e, c.ws, row, await versionRow(e, Number(row.version_id)), decodeURIComponent(c.params[1]!), await c.body());
  });
}
