/**
 * Triggers on `wmill serve` (spec/windmill-server.md, endpoint-catalog `<kind>_triggers/*`):
 * every kind the reference CLI syncs (src/items/triggers.ts) is stored, listed, read, updated
 * and deleted with Windmill's routes and shapes, so `trigger` commands and sync carry them.
 *
 * HTTP routes are served for real: a request to `/api/r/<route>` (or `/api/r/<workspace>/<route>`
 * for a `workspaced_route`) whose method matches runs the trigger's script or flow as the
 * trigger's owner (its `permissioned_as`, like a schedule), checked with the one access check
 * and resolved through runnables.ts. `request_type` sync answers with the result, async with
 * the job id (201). Authentication: `none`, `windmill` (a token of a member who may read the
 * trigger), `api_key` and `basic_http` (checked against the resource at
 * `authentication_resource_path`, read as the owner). Arguments, as Windmill builds them for a
 * runnable without a preprocessor: the JSON body's fields (a non-object body as `body`; the
 * whole body as `body` with `wrap_body`; the raw text as `raw_string` with `raw_string`, and for
 * text/xml bodies). wmill serve runs no preprocessors, so where Windmill would hand the route's
 * path parameters and the query string to one, they are arguments too: query values first, the
 * body's fields over them, the path parameters (`:id`) over both.
 *
 * Listeners of the other kinds (websocket, kafka, nats, postgres, mqtt, amqp, sqs, gcp, azure,
 * email) do not run here: their `error` field says so.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import type { Db, Sql } from './db/db.js';
import type { SqlStore } from './db/sql-store.js';
import type { Engine } from '../runner/engine.js';
import { interpolate } from '../runner/workspace-files.js';
import { AccessDenied, accessIn, allows, can, requireAccess, requireIndirect, scopeOf } from './access.js';
import { jobOwner, type Principal } from './auth.js';
import type { Env } from './env.js';
import { badRequest, checkItemPath, forbidden, HttpError, json, notFound, readBody, text, type Reply, type Router } from './http.js';
import { flowAtPath, scriptAtPath } from './runnables.js';
import { flowJobSpec, scriptJobSpec } from './jobs.js';
import { zodMessage } from './scripts.js';
import { TRIGGER_KINDS, triggerConfig, type TriggerKind } from '../items/triggers.js';
import type { JobSpec } from '../runner/types.js';

export const NOT_SUPPORTED = (kind: TriggerKind) => `not supported by wmill serve: the ${kind} listener does not run here (the trigger is stored and synced)`;

const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : v);

const Base = z
  .object({
    path: z.string(),
    script_path: z.string(),
    is_flow: z.boolean().nullish(),
  })
  .passthrough();

const HTTP_METHODS = ['get', 'post', 'put', 'delete', 'patch'] as const;
const AUTH_METHODS = ['none', 'windmill', 'api_key', 'basic_http', 'custom_script', 'signature'] as const;
const ROUTE_RE = /^:?[-\w]+(\/:?[-\w]+)*$/;

const Http = Base.extend({
  route_path: z.string().regex(ROUTE_RE, 'a route is segments of letters, digits, _ and -, a parameter as :name (e.g. users/:id)'),
  http_method: z.enum(HTTP_METHODS),
  authentication_method: z.enum(AUTH_METHODS).nullish(),
  authentication_resource_path: z.string().nullish(),
  request_type: z.enum(['sync', 'async', 'sync_sse']).nullish(),
  is_async: z.boolean().nullish(),
  workspaced_route: z.boolean().nullish(),
  wrap_body: z.boolean().nullish(),
  raw_string: z.boolean().nullish(),
  is_static_website: z.boolean().nullish(),
  mode: z.enum(['enabled', 'disabled', 'suspended']).nullish(),
  enabled: z.boolean().nullish(),
});

type Row = { kind: string; path: string; body: Record<string, any>; edited_by: string; email: string; permissioned_as: string; edited_at: unknown; workspace_id: string; route_key: string | null };

/** What GET/list answer: the configuration as stored, with the server's fields. */
function view(r: Row, kind: TriggerKind) {
  return {
    workspace_id: r.workspace_id,
    path: r.path,
    ...r.body,
    script_path: r.body.script_path ?? '',
    is_flow: r.body.is_flow ?? false,
    edited_by: r.edited_by,
    edited_at: iso(r.edited_at),
    email: r.email,
    permissioned_as: r.permissioned_as,
    extra_perms: {},
    ...(kind === 'http' ? {} : { error: NOT_SUPPORTED(kind) }),
  };
}

/** `users/:id/posts` → `users/*\/posts`: what makes two routes the same (with the method and the workspace prefix). */
export function routeKey(method: string, route: string, ws: string | undefined): string {
  const r = route.replace(/(^|\/):[-\w]+/g, '$1*');
  return `${method} ${ws ? `${ws}/` : ''}${r}`;
}

/** The principal a trigger runs as, and the 400 that names what it may not run. */
async function ownerOf(q: Sql, ws: string, permissionedAs: string): Promise<Principal | undefined> {
  return jobOwner(q, ws, permissionedAs);
}

export function registerTriggers(r: Router<Env>): void {
  for (const kind of TRIGGER_KINDS) registerKind(r, kind);
  // Native triggers register with an external service (its OAuth app): not on wmill serve.
  const native = async (c: { params: string[] }) => {
    throw new HttpError(501, `native triggers (${c.params[0]}) are not supported by wmill serve: they register with the external service, which needs a Windmill instance it can reach`);
  };
  r.post('native_triggers/([^/]+)/create', native);
  r.post('native_triggers/([^/]+)/update/.+', native);
  r.get('native_triggers/([^/]+)/(?:get/.+|list)', native);
  r.del('native_triggers/([^/]+)/delete/.+', native);
  r.post('http_triggers/route_exists', async (c, e) => {
    const b = await c.obj();
    if (typeof b.route_path !== 'string' || !HTTP_METHODS.includes(b.http_method)) throw badRequest('route_path and http_method (get, post, put, delete, patch) are required');
    const key = routeKey(b.http_method, b.route_path, b.workspaced_route ? c.ws : undefined);
    const rows = await e.db.query(`SELECT workspace_id, path FROM triggers WHERE kind = 'http' AND route_key = $1`, [key]);
    return json(rows.some((x) => !(x.workspace_id === c.ws && x.path === b.trigger_path)));
  });
}

function registerKind(r: Router<Env>, kind: TriggerKind): void {
  const what = `${kind} trigger`;
  const base = `${kind}_triggers`;
  const get = async (q: Sql, ws: string, path: string, lock = false) =>
    (await q.query<Row>(`SELECT * FROM triggers WHERE workspace_id = $1 AND kind = $2 AND path = $3${lock ? ' FOR UPDATE' : ''}`, [ws, kind, path]))[0];

  r.get(`${base}/list`, async (c, e) => {
    const scope = await scopeOf(e.db, c.ws, e.p);
    const pathStart = c.query.get('path_start');
    const scriptPath = c.query.get('path');
    const isFlow = c.q.optBool('is_flow');
    let rows = (await e.db.query<Row>(`SELECT * FROM triggers WHERE workspace_id = $1 AND kind = $2 ORDER BY path`, [c.ws, kind])).filter((x) => allows(accessIn(scope, x.path), 'list'));
    if (pathStart) rows = rows.filter((x) => x.path.startsWith(pathStart));
    if (scriptPath) rows = rows.filter((x) => x.body.script_path === scriptPath && (isFlow === undefined || !!x.body.is_flow === isFlow));
    const perPage = c.q.int('per_page', { dflt: 1000, min: 1, max: 10_000, clamp: true });
    const page = c.q.int('page', { dflt: 1, min: 1 });
    return json(rows.slice((page - 1) * perPage, page * perPage).map((x) => view(x, kind)));
  });
  r.get(`${base}/get/(.+)`, async (c, e) => {
    const path = c.params[0]!;
    await requireAccess(e.db, c.ws, e.p, path, 'read', `${kind[0]!.toUpperCase()}${kind.slice(1)} trigger`);
    const row = await get(e.db, c.ws, path);
    if (!row) throw notFound(`${what} ${path} not found`);
    return json(view(row, kind));
  });
  r.get(`${base}/exists/(.+)`, async (c, e) => {
    if (!(await can(e.db, c.ws, e.p, c.params[0]!, 'read'))) return json(false);
    return json(!!(await get(e.db, c.ws, c.params[0]!)));
  });
  r.post(`${base}/create`, async (c, e) => {
    const raw = await c.obj();
    const path = await e.db.tx(async (q) => {
      const t = await checked(q, e, c.ws, kind, raw, undefined);
      if (await get(q, c.ws, t.path)) throw badRequest(`${what} ${t.path} already exists`);
      await q.query(
        `INSERT INTO triggers (workspace_id, kind, path, body, edited_by, email, permissioned_as, route_key) VALUES ($1,$2,$3,$4::json,$5,$6,$7,$8)`,
        [c.ws, kind, t.path, JSON.stringify(t.body), e.p.username, e.p.email, t.permissionedAs, t.routeKey],
      );
      return t.path;
    });
    return text(path, 201);
  });
  r.post(`${base}/update/(.+)`, async (c, e) => {
    const old = c.params[0]!;
    const raw = await c.obj();
    const path = await e.db.tx(async (q) => {
      await requireAccess(q, c.ws, e.p, old, 'write', what);
      const prev = await get(q, c.ws, old, true);
      if (!prev) throw notFound(`${what} ${old} not found`);
      const t = await checked(q, e, c.ws, kind, { path: old, ...raw }, prev);
      if (t.path !== old && (await get(q, c.ws, t.path))) throw badRequest(`${what} ${t.path} already exists`);
      await q.query(
        `UPDATE triggers SET path = $4, body = $5::json, edited_by = $6, email = $7, permissioned_as = $8, route_key = $9, edited_at = now()
         WHERE workspace_id = $1 AND kind = $2 AND path = $3`,
        [c.ws, kind, old, t.path, JSON.stringify(t.body), e.p.username, e.p.email, t.permissionedAs, t.routeKey],
      );
      return t.path;
    });
    return text(path);
  });
  r.del(`${base}/delete/(.+)`, async (c, e) => {
    const path = c.params[0]!;
    await requireAccess(e.db, c.ws, e.p, path, 'write', what);
    const rows = await e.db.query(`DELETE FROM triggers WHERE workspace_id = $1 AND kind = $2 AND path = $3 RETURNING path`, [c.ws, kind, path]);
    if (!rows.length) throw notFound(`${what} ${path} not found`);
    return text(`${what} ${path} deleted`);
  });
}

export interface CheckedTrigger {
  path: string;
  body: Record<string, unknown>;
  permissionedAs: string;
  routeKey: string | null;
}

/**
 * Validate a trigger sent by `e.p` (create, update, or a sync push) inside transaction `q`:
 * its path and configuration, the caller's write access, the route's uniqueness, and that the
 * principal it will run as may run its script or flow. A 400 names the field.
 */
export async function checked(q: Sql, e: Env, ws: string, kind: TriggerKind, raw: Record<string, any>, prev: Row | undefined): Promise<CheckedTrigger> {
  const parsed = (kind === 'http' ? Http : Base).safeParse(raw);
  if (!parsed.success) throw badRequest(zodMessage(parsed.error, `${kind} trigger`));
  const b = parsed.data as Record<string, any>;
  const path = checkItemPath(b.path);
  await requireAccess(q, ws, e.p, path, 'write', `${kind} trigger`);
  if (b.script_path) checkItemPath(b.script_path, 'script_path');
  const body = triggerConfig(raw);
  // Whom it runs as: the editor; an admin may keep the owner it had or name one (the CLI's preserve_permissioned_as).
  let permissionedAs = `u/${e.p.username}`;
  if (e.p.isAdmin && raw.preserve_permissioned_as === true) {
    if (typeof raw.permissioned_as === 'string' && /^u\/[A-Za-z0-9_.@-]+$/.test(raw.permissioned_as)) permissionedAs = raw.permissioned_as;
    else if (prev) permissionedAs = prev.permissioned_as;
  }
  let routeKey: string | null = null;
  if (kind === 'http') {
    routeKey = routeKey_(b, ws);
    const routeChanged = !prev || prev.route_key !== routeKey;
    // Routes share the server's /api/r/ namespace: creating or moving one is an admin's decision (as in Windmill).
    if (routeChanged && !e.p.isAdmin) throw forbidden(`only workspace admins can create or change an HTTP route (${e.p.username} is not an admin)`);
    if (b.authentication_method === 'api_key' || b.authentication_method === 'basic_http') {
      if (!b.authentication_resource_path) throw badRequest(`http trigger ${path}: authentication_method ${b.authentication_method} needs authentication_resource_path`);
      checkItemPath(b.authentication_resource_path, 'authentication_resource_path');
    }
    const clash = await q.query(`SELECT workspace_id, path FROM triggers WHERE kind = 'http' AND route_key = $1`, [routeKey]);
    if (clash.some((x) => !(x.workspace_id === ws && prev && x.path === prev.path))) {
      throw badRequest(`A route already exists with this path: ${b.http_method.toUpperCase()} ${b.route_path}`);
    }
  }
  if (b.script_path) {
    const owner = await ownerOf(q, ws, permissionedAs);
    try {
      await requireIndirect(q, ws, owner, b.script_path, 'run', b.is_flow ? 'flow' : 'script');
    } catch (err) {
      throw badRequest(`${kind} trigger ${path} runs as ${permissionedAs}: ${(err as Error).message}`);
    }
  }
  return { path, body, permissionedAs, routeKey };
}

function routeKey_(b: Record<string, any>, ws: string): string {
  return routeKey(b.http_method, b.route_path, b.workspaced_route ? ws : undefined);
}

// -------------------------------------------------------------------------------------------
// Serving HTTP routes

export interface RouteDeps {
  db: Db;
  store: SqlStore;
  engine: Engine;
  /** The caller of a token in a workspace (undefined: no such token, or not a member). */
  principalOf(token: string | undefined, ws: string): Promise<Principal | undefined>;
  token: string | undefined;
  /** Set a header on the answer (CORS, a result's `windmill_headers`). */
  setHeader?(name: string, value: string): void;
}

interface Match {
  row: Row;
  params: Record<string, string>;
  /** Segment kinds (0 static, 1 parameter): the most static route wins. */
  rank: number[];
}

function matchRoute(row: Row, segs: string[]): Match | undefined {
  const full = row.body.workspaced_route ? `${row.workspace_id}/${row.body.route_path}` : String(row.body.route_path);
  const pat = full.split('/');
  if (pat.length !== segs.length) return undefined;
  const params: Record<string, string> = {};
  const rank: number[] = [];
  for (let i = 0; i < pat.length; i++) {
    const p = pat[i]!;
    if (p.startsWith(':')) {
      if (!segs[i]) return undefined;
      params[p.slice(1)] = segs[i]!;
      rank.push(1);
    } else if (p === segs[i]) rank.push(0);
    else return undefined;
  }
  return { row, params, rank };
}

/** Up to this many segments, a request looks its route up by key (2^n keys), past it by scanning the method's routes. */
const MAX_KEYED_SEGMENTS = 8;

/** Every route key that can match these segments: each segment as itself or as a parameter (`*`). */
function candidateKeys(method: string, segs: string[]): string[] {
  let out = [''];
  for (const seg of segs) out = out.flatMap((k) => (seg ? [`${k}/${seg}`, `${k}/*`] : [`${k}/${seg}`]));
  return out.map((k) => `${method} ${k.slice(1)}`);
}

const byRank = (a: Match, b: Match) => {
  for (let i = 0; i < a.rank.length; i++) if (a.rank[i] !== b.rank[i]) return a.rank[i]! - b.rank[i]!;
  return 0;
};

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The request's arguments (module comment), or a 4xx. */
async function argsOf(req: IncomingMessage, body: Record<string, any>, params: Record<string, string>, query: URLSearchParams): Promise<Record<string, unknown>> {
  const buf = await readBody(req);
  const ct = String(req.headers['content-type'] ?? '').toLowerCase();
  const raw = buf.toString('utf8');
  let args: Record<string, unknown> = {};
  let rawString: string | undefined = body.raw_string ? raw : undefined;
  if (!buf.length) {
    /* no body */
  } else if (!ct || ct.startsWith('application/json')) {
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch (e) {
      throw badRequest(`request body is not valid JSON: ${(e as Error).message.split('\n')[0]}`);
    }
    args = v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { body: v };
  } else if (ct.startsWith('text/plain') || ct.startsWith('application/xml') || ct.startsWith('text/xml')) {
    rawString = raw;
  } else if (ct.startsWith('application/x-www-form-urlencoded')) {
    args = Object.fromEntries(new URLSearchParams(raw));
  } else {
    throw new HttpError(415, `content type ${ct} is not supported by wmill serve's HTTP routes (send JSON, text, XML or a URL-encoded form)`);
  }
  if (body.wrap_body) args = { body: args };
  const fromQuery: Record<string, unknown> = {};
  for (const k of new Set(query.keys())) {
    // A credential in the query (`?token=`) is never an argument (arguments are stored with the job).
    if (k === 'token') continue;
    const all = query.getAll(k);
    fromQuery[k] = all.length > 1 ? all : all[0];
  }
  return { ...fromQuery, ...args, ...(rawString !== undefined ? { raw_string: rawString } : {}), ...params };
}

/** Headers a result may not set (the server's framing of the answer). */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'content-type']);

/**
 * A job result as an HTTP answer, as in Windmill: `windmill_status_code` / `windmill_content_type`
 * set the status and type (the body is then `result`), `windmill_headers` adds headers.
 */
function resultReply(result: unknown, setHeader: RouteDeps['setHeader'], status = 200): Reply {
  if (result && typeof result === 'object' && !Array.isArray(result)) {
    const o = result as Record<string, unknown>;
    const headers = o.windmill_headers && typeof o.windmill_headers === 'object' && !Array.isArray(o.windmill_headers) ? (o.windmill_headers as Record<string, unknown>) : undefined;
    for (const [k, v] of Object.entries(headers ?? {})) {
      if (typeof v === 'string' && /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k) && !/[\r\n]/.test(v) && !FRAMING.has(k.toLowerCase())) setHeader?.(k, v);
    }
    const code = typeof o.windmill_status_code === 'number' && o.windmill_status_code >= 100 && o.windmill_status_code <= 599 ? o.windmill_status_code : undefined;
    const type = typeof o.windmill_content_type === 'string' ? o.windmill_content_type : undefined;
    if (code !== undefined || type !== undefined || headers) {
      const inner = 'result' in o ? o.result : Object.fromEntries(Object.entries(o).filter(([k]) => !k.startsWith('windmill_')));
      if (type && typeof inner === 'string') return { status: code ?? status, bytes: Buffer.from(inner), contentType: type };
      return { status: code ?? status, bytes: Buffer.from(JSON.stringify(inner ?? null)), contentType: type ?? 'application/json' };
    }
  }
  return json(result ?? null, status);
}

/** Answer a request to `/api/r/<route>` (`route`: what follows `/api/r/`). */
export async function serveHttpRoute(req: IncomingMessage, route: string, query: URLSearchParams, d: RouteDeps): Promise<Reply> {
  const method = (req.method ?? 'GET').toLowerCase();
  // Routes are called from browsers: CORS as Windmill answers it (a result's windmill_headers may override).
  d.setHeader?.('Access-Control-Allow-Origin', '*');
  d.setHeader?.('Access-Control-Allow-Methods', 'GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS');
  d.setHeader?.('Access-Control-Allow-Headers', 'content-type, authorization');
  if (method === 'head' || method === 'options') return text('');
  if (!(HTTP_METHODS as readonly string[]).includes(method)) throw new HttpError(405, `${method.toUpperCase()} is not an HTTP route method`);
  const segs = route.replace(/\/+$/, '').split('/');
  const rows = await d.db.query<Row>(
    segs.length <= MAX_KEYED_SEGMENTS ? `SELECT * FROM triggers WHERE kind = 'http' AND route_key = ANY($1::text[])` : `SELECT * FROM triggers WHERE kind = 'http' AND route_key LIKE $1`,
    [segs.length <= MAX_KEYED_SEGMENTS ? candidateKeys(method, segs) : `${method} %`],
  );
  const matches = rows.map((r) => matchRoute(r, segs)).filter((m): m is Match => !!m).sort(byRank);
  const m = matches[0];
  if (!m) throw notFound(`Trigger not found: no HTTP route ${method.toUpperCase()} /${route}`);
  const t = m.row.body;
  const ws = m.row.workspace_id;
  const mode = t.mode ?? (t.enabled === false ? 'disabled' : 'enabled');
  if (mode !== 'enabled') throw notFound(`HTTP route ${m.row.path} is ${mode}${mode === 'suspended' ? ' (suspended mode is not supported by wmill serve)' : ''}`);

  // Authentication.
  const auth = (t.authentication_method ?? 'none') as (typeof AUTH_METHODS)[number];
  let caller = `HTTP-${m.row.path}`;
  const owner = await jobOwner(d.db, ws, m.row.permissioned_as);
  if (auth === 'windmill') {
    if (!d.token) throw new HttpError(401, 'Requires authentication: this route takes a Windmill token (Authorization: Bearer <token>)');
    const p = await d.principalOf(d.token, ws);
    if (!p || !(await can(d.db, ws, p, m.row.path, 'read'))) throw new HttpError(401, 'Unauthorized');
    caller = p.username;
  } else if (auth === 'api_key' || auth === 'basic_http') {
    const secret = await authResource(d, ws, owner, String(t.authentication_resource_path ?? ''), m.row.path);
    if (auth === 'api_key') {
      const header = typeof secret.api_key_header === 'string' ? secret.api_key_header.toLowerCase() : '';
      const given = header ? req.headers[header] : undefined;
      if (!header || typeof secret.api_key_secret !== 'string') throw new HttpError(500, `HTTP route ${m.row.path}: resource ${t.authentication_resource_path} must have api_key_header and api_key_secret`);
      if (typeof given !== 'string' || !safeEqual(given, secret.api_key_secret)) throw new HttpError(401, `Unauthorized: missing or invalid API key (header ${secret.api_key_header})`);
    } else {
      const h = req.headers.authorization ?? '';
      const decoded = /^Basic\s+/i.test(h) ? Buffer.from(h.replace(/^Basic\s+/i, ''), 'base64').toString('utf8') : '';
      if (!decoded || !safeEqual(decoded, `${secret.username}:${secret.password}`)) throw new HttpError(401, 'Unauthorized: invalid basic authentication');
    }
  } else if (auth !== 'none') {
    throw new HttpError(501, `HTTP route ${m.row.path}: authentication method ${auth} is not supported by wmill serve`);
  }
  if (t.is_static_website || t.static_asset_config) throw new HttpError(501, `HTTP route ${m.row.path}: static assets and websites are not supported by wmill serve`);
  if (!t.script_path) throw notFound(`Runnable path of HTTP route at path: ${m.row.path}`);
  const requestType = t.request_type ?? (t.is_async ? 'async' : 'sync');
  if (requestType === 'sync_sse') throw new HttpError(501, `HTTP route ${m.row.path}: request_type sync_sse is not supported by wmill serve`);

  // The runnable, as the trigger's owner.
  const isFlow = !!t.is_flow;
  try {
    await requireIndirect(d.db, ws, owner, t.script_path, 'run', isFlow ? 'flow' : 'script');
  } catch (err) {
    if (err instanceof AccessDenied) throw forbidden(`HTTP route ${m.row.path} runs as ${m.row.permissioned_as}: ${err.message}`);
    throw err;
  }
  const args = await argsOf(req, t, m.params, query);
  let spec: JobSpec;
  if (isFlow) {
    const f = await flowAtPath(d.db, ws, t.script_path);
    if (!f) throw notFound(`Flow '${t.script_path}' not found (HTTP route ${m.row.path})`);
    spec = flowJobSpec(ws, f, args, owner!.username, { createdBy: caller });
  } else {
    const head = await scriptAtPath(d.db, ws, t.script_path);
    if (!head) throw notFound(`Script '${t.script_path}' not found (HTTP route ${m.row.path})`);
    spec = scriptJobSpec(ws, head, args, owner!.username, { createdBy: caller });
  }
  const id = await d.engine.submit(spec);
  if (requestType === 'async') return text(id, 201);
  const j = await d.engine.wait(id);
  // The request was fine; the job failed: 422 with the job's error, as run_wait_result answers on this server.
  return j.status === 'success' ? resultReply(j.result, d.setHeader) : json(j.result ?? null, 422);
}

/** The authentication resource's value (variables interpolated), read as the trigger's owner. */
async function authResource(d: RouteDeps, ws: string, owner: Principal | undefined, path: string, trigger: string): Promise<Record<string, unknown>> {
  const check = async (kind: 'variable' | 'resource', p: string) => requireIndirect(d.db, ws, owner, p, 'read', kind);
  try {
    await check('resource', path);
    const r = await d.store.getResource(ws, path);
    if (!r) throw new Error(`resource ${path} not found`);
    const v = await interpolate(r.value, d.store, ws, [path], check);
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`resource ${path} is not an object`);
    return v as Record<string, unknown>;
  } catch (err) {
    throw new HttpError(500, `HTTP route ${trigger}: its authentication resource cannot be read: ${(err as Error).message}`);
  }
}
