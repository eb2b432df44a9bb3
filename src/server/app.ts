/**
 * `wmill serve`: the engine hosted behind Windmill's HTTP API subset (spec/windmill-server.md
 * §9), on PGlite (a data folder) or PostgreSQL (`DATABASE_URL`). One process serves the API
 * and runs in-process workers; `wmill worker` processes add workers against PostgreSQL. Jobs
 * reach this server with a token derived from their id (any worker can mint it); a periodic
 * sweep re-queues jobs whose worker stopped sending heartbeats; schedules keep exactly one
 * next tick queued.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiServer, API_VERSION } from '../runner/job-api.js';
import { APPROVAL_PAGE_PATH, handleApprovalPage } from '../runner/approval-page.js';
import { nextTick, parseCron } from './cron.js';
import { openPglite, openPostgres, redactUrl, type Db } from './db/db.js';
import { migrate } from './db/migrations.js';
import { SqlStore } from './db/sql-store.js';
import { Engine } from '../runner/engine.js';
import { newJobId } from '../runner/ids.js';
import {
  accountOfToken, addMember, bootstrap, createWorkspace, instanceSecret, jobIdOfToken, jobOwner, jobTokenFor,
  memberPrincipal, type Principal,
} from './auth.js';
import { AccessDenied, can, requireAccess, requireIndirect } from './access.js';
import { tokenRoutes } from './tokens.js';
import { redact, redactRequestUrl } from '../runner/redact.js';
import type { Guard } from '../runner/job-api.js';
import { registerDrafts } from './drafts.js';
import type { Env } from './env.js';
import { HttpError, Router, badRequest, checkName, forbidden, json, makeCtx, requestToken, send, text, type Reply } from './http.js';
import { registerFlows, registerFolders, registerResources, registerSchedules, registerVariables } from './items.js';
import { flowJobSpec, registerJobs, scriptJobSpec } from './jobs.js';
import { registerScripts } from './scripts.js';
import { flowAtPath, scriptAtHash, scriptAtPath } from './runnables.js';
import type { FlowValue } from '../items/flow-schema.js';
import type { JobSpec } from '../runner/types.js';
import { flowHandler } from '../runner/flow/handler.js';
import { resumeUrlsFor, stepApprovalUrlsFor } from '../runner/flow/resume.js';
import { taskTarget } from '../runner/wac/tasks.js';
import { workspaceArchive } from './tarball.js';
import { startSpawner } from '../runner/executors/spawner.js';
import { chooseSandbox, type SandboxChoice } from '../runner/executors/sandbox.js';
import { materialize } from './materialize.js';
import { registerSyncManifest } from './sync-manifest.js';
import { expireSyncPushes, registerSyncApply } from './sync-apply.js';
import { registerTriggers, serveHttpRoute } from './triggers.js';
import { uiHandler } from './ui/index.js';
import { dependenciesHandler, flowDependenciesHandler, registerDependencyRoutes } from './dependencies.js';
import { jobsAdminGlobalRoutes, registerJobsAdminRoutes, startWorkerPings } from './jobs-admin.js';
import { registerAppRoutes } from './apps.js';
import { login, registerUserGlobalRoutes, registerUserRoutes } from './users.js';
import { registerGroupRoutes } from './groups.js';
import { registerForkGlobalRoutes, registerForkRoutes } from './forks.js';
import { HUB_PATH, hubOffline, recorded, registerAdminGlobalRoutes, registerAdminRoutes } from './admin.js';

export interface ServeOptions {
  port?: number;
  host?: string;
  /** PGlite data folder (ignored with databaseUrl). */
  dataDir?: string;
  databaseUrl?: string;
  adminToken?: string;
  /** Jobs this process runs at once (0: API only, leave the jobs to `wmill worker`s). */
  workers?: number;
  /** Job tags this process's workers take (an untagged job is `default`); undefined: every job. */
  tags?: string[];
  /** A running job whose worker sent no heartbeat for this long is re-queued. */
  staleAfterMs?: number;
  /** Public URL to hand out (default: the listening address). */
  publicUrl?: string;
  /** The job sandbox: bwrap | none | auto (default: WMILL_SANDBOX, else auto; executors/sandbox.ts). */
  sandbox?: string;
  log?: (line: string) => void;
}

export interface RunningServer {
  url: string;
  port: number;
  db: Db;
  engine: Engine;
  store: SqlStore;
  /** The admin token generated on first start (undefined when WMILL_ADMIN_TOKEN is used or it existed). */
  generatedToken?: string;
  /** How job processes are confined. */
  sandbox: 'bwrap' | 'none';
  close(): Promise<void>;
}

export async function openDatabase(opts: { dataDir?: string; databaseUrl?: string }): Promise<Db> {
  // Job processes are forked from a small helper started now, before the database grows this process.
  if (!process.env.WMILL_NO_SPAWNER) startSpawner();
  const db = opts.databaseUrl ? await openPostgres(opts.databaseUrl) : await openPglite(opts.dataDir);
  try {
    await migrate(db);
  } catch (e) {
    await db.close().catch(() => undefined);
    throw new Error(`cannot prepare the database: ${redactUrl((e as Error).message)}`);
  }
  return db;
}

/** Engine options shared by `wmill serve` and `wmill worker` (same store, same job tokens). */
export function engineFor(
  store: SqlStore,
  secret: string,
  opts: { worker: string; concurrency: number; apiBaseUrl?: string; publicUrl: () => string; tags?: string[]; sandbox?: SandboxChoice },
): Engine {
  const engine = new Engine({
    store,
    // Every job process in the sandbox chosen at start (none only when asked or unavailable, said at start).
    ...(opts.sandbox?.config ? { config: { sandbox: opts.sandbox.config } } : {}),
    residentSpares: true,
    ...(opts.tags ? { tags: opts.tags } : {}),
    concurrency: opts.concurrency,
    worker: opts.worker,
    pollMs: 50,
    heartbeatMs: 1000,
    apiBaseUrl: opts.apiBaseUrl,
    mintToken: (job) => jobTokenFor(secret, job.id),
    // A job acts for its owner (permissioned_as), with the owner's rights as they are when it runs.
    authorize: async (job) => {
      // A schedule runs as its owner: if they may no longer run its script, the tick fails and says so.
      if (!job.schedulePath) return;
      try {
        await requireIndirect(store.db, job.workspace, await owner(job), job.path, 'run', job.kind === 'flow' ? 'flow' : 'script');
      } catch (e) {
        throw Object.assign(new Error(`schedule ${job.schedulePath}: ${(e as Error).message}`), { name: (e as Error).name });
      }
    },
    emailOf: async (job) => (await owner(job))?.email,
    checkReference: async (job, kind, path) => requireIndirect(store.db, job.workspace, await owner(job), path, 'read', kind),
    // A schedule's tick that finished queues the next one.
    afterComplete: async (job) => {
      if (job.schedulePath) await armSchedule(store.db, job.workspace, job.schedulePath, new Date(Math.max(Date.now(), Date.parse(job.scheduledFor ?? '') || 0)));
    },
    prepare: async (job, jobDir) => {
      // A schedule tick runs the script's version current at run time, not at arming time.
      if (job.schedulePath) {
        const head = await scriptAtPath(store.db, job.workspace, job.path);
        if (head) Object.assign(job, { content: head.content, language: head.language, scriptHash: head.hash });
      }
      if (job.kind === 'script' || job.kind === 'preview') {
        // Relative imports resolve to what the job's owner may read; anything else stays missing.
        const p = await owner(job);
        return materialize(store.db, job, jobDir, async (path) => !!p && (await can(store.db, job.workspace, p, path, 'read')));
      }
    },
    handlers: {
      dependencies: dependenciesHandler(store.db, (job) => owner(job)),
      flowdependencies: flowDependenciesHandler,
    },
  });
  // Flow steps of type script/flow and workflow tasks run as the job's owner: what they may not run is refused, naming the path.
  const flows = flowHandler(engine, {
    resolveScript: async (job, path, hash) => {
      const p = await owner(job);
      if (!hash) await requireIndirect(store.db, job.workspace, p, path, 'run', 'script');
      const row = hash ? await scriptAtHash(store.db, job.workspace, hash) : await scriptAtPath(store.db, job.workspace, path);
      // By hash: the version's own path decides (not the path the step claims); an unknown hash and
      // one the owner may not run get the same answer.
      if (hash && !(row && p && (await can(store.db, job.workspace, p, row.path, 'run')))) {
        throw new AccessDenied('script', `${path} (hash ${hash})`, p?.username ?? 'this job');
      }
      if (!row) return undefined;
      return { content: row.content, language: row.language, hash: row.hash };
    },
    resolveFlow: async (job, path) => {
      await requireIndirect(store.db, job.workspace, await owner(job), path, 'run', 'flow');
      return (await flowAtPath(store.db, job.workspace, path))?.value as FlowValue | undefined;
    },
    resumeUrls: async (job) => resumeUrlsFor(opts.publicUrl(), job.workspace, await store.workspaceKey(job.workspace), job.id),
  });
  engine.setHandler('flow', async (job, ctx) => {
    // A schedule tick runs the flow's version current when it starts, not at arming time.
    if (job.schedulePath && !job.flowState) {
      const f = await flowAtPath(store.db, job.workspace, job.path);
      if (f && JSON.stringify(f.value) !== JSON.stringify(job.flow)) {
        job.flow = f.value;
        await store.updateJob(job.id, { flow: f.value });
      }
    }
    return flows(job, ctx);
  });
  engine.setWacHosting({
    // A workflow's taskScript / taskFlow target: the deployed script (its current version) or
    // flow at that path; a relative target (./helper.ts) is resolved against the workflow's path.
    resolveTask: async (job, step) => {
      const target = taskTarget(job.path, step.script);
      if (!target) return undefined;
      await requireIndirect(store.db, job.workspace, await owner(job), target.path, 'run', step.dispatch_type === 'flow' ? 'flow' : 'script');
      if (step.dispatch_type === 'flow') {
        const f = await flowAtPath(store.db, job.workspace, target.path);
        return f ? { kind: 'flow', path: target.path, language: 'flow' as never, content: '', flow: f.value } : undefined;
      }
      const head = await scriptAtPath(store.db, job.workspace, target.path);
      return head ? { kind: 'script', path: head.path, language: head.language, content: head.content, scriptHash: head.hash } : undefined;
    },
    approvalUrls: async (job, key) => stepApprovalUrlsFor(opts.publicUrl(), job.workspace, await store.workspaceKey(job.workspace), job.id, key),
  });
  engine.setHandler('flowpreview', flows);
  return engine;

  function owner(job: { workspace: string; permissionedAs?: string }) {
    return jobOwner(store.db, job.workspace, job.permissionedAs);
  }
}

/** Queue the next tick of schedule `path` (and drop its previously queued one). Idempotent. */
export async function armSchedule(db: Db, ws: string, path: string, after = new Date()): Promise<void> {
  await db.tx(async (q) => {
    await q.query(`DELETE FROM job WHERE workspace_id = $1 AND schedule_path = $2 AND status = 'queued'`, [ws, path]);
    const [s] = await q.query(`SELECT * FROM schedule WHERE workspace_id = $1 AND path = $2`, [ws, path]);
    if (!s || !s.enabled) return;
    const body = s.body as Record<string, any>;
    const paused = body.paused_until ? Date.parse(body.paused_until) : NaN;
    const from = Number.isNaN(paused) ? after : new Date(Math.max(after.getTime(), paused));
    const when = nextTick(parseCron(body.schedule), from, body.timezone || 'UTC');
    const args = (body.args as Record<string, unknown>) ?? {};
    const tick = { scheduledFor: when.toISOString(), schedulePath: path };
    let spec: JobSpec;
    if (body.is_flow) {
      const f = await flowAtPath(q, ws, body.script_path);
      if (!f) return;
      spec = flowJobSpec(ws, f, args, s.edited_by, tick);
    } else {
      const head = await scriptAtPath(q, ws, body.script_path);
      if (!head) return;
      spec = scriptJobSpec(ws, head, args, s.edited_by, tick);
    }
    const { insertJobRow } = await import('./db/sql-store.js');
    await insertJobRow(q, { ...spec, id: newJobId(when.getTime()), status: 'queued', created_at: new Date().toISOString() });
  });
}

/** The job sandbox for this host (WMILL_SANDBOX), said in its log; hides the data folder from jobs. */
export function hostSandbox(setting: string | undefined, hide: (string | undefined)[], log: (line: string) => void): SandboxChoice {
  const choice = chooseSandbox(setting ?? process.env.WMILL_SANDBOX, { hide: hide.filter((h): h is string => !!h) });
  log(choice.line);
  return choice;
}

export async function startServer(opts: ServeOptions = {}): Promise<RunningServer> {
  const log = opts.log ?? (() => undefined);
  const sandbox = hostSandbox(opts.sandbox, [opts.dataDir], log);
  const db = await openDatabase(opts);
  const { generatedToken } = await db.tx((q) => bootstrap(q, opts.adminToken));
  const secret = await instanceSecret(db);
  const store = new SqlStore(db);
  let baseUrl = '';
  const engine = engineFor(store, secret, { worker: `serve-${process.pid}`, concurrency: opts.workers ?? 2, publicUrl: () => baseUrl, tags: opts.tags, sandbox });
  // The in-job routes (interpolated resources, state, ...) shared with preview's loopback API.
  const jobApi = new ApiServer({
    store,
    tokenInfo: () => undefined,
    cancel: (id, by, reason) => engine.cancel(id, by, reason),
    log: (id, chunk) => void store.appendLogs(id, chunk),
    user: 'admin',
  });

  const router = new Router<Env>();
  registerScripts(router);
  registerFlows(router);
  registerResources(router);
  registerVariables(router);
  registerFolders(router);
  registerSchedules(router);
  registerJobs(router);
  registerDrafts(router);
  registerSyncManifest(router);
  registerSyncApply(router);
  registerTriggers(router);
  registerDependencyRoutes(router);
  registerJobsAdminRoutes(router);
  registerAppRoutes(router);
  registerUserRoutes(router);
  registerGroupRoutes(router);
  registerForkRoutes(router);
  registerAdminRoutes(router);
  // Routes without a workspace in the URL (`/api/<rest>`): the caller's account is `p`.
  const globals = new Router<Env>();
  registerUserGlobalRoutes(globals);
  registerForkGlobalRoutes(globals);
  registerAdminGlobalRoutes(globals);
  router.get('users/whoami', async (c, e) => json(userView(e.p, c.ws)));
  router.get('users/list', async (c, e) => {
    const rows = await e.db.query(`SELECT * FROM member WHERE workspace_id = $1 ORDER BY username`, [c.ws]);
    return json(rows.map((m) => ({ email: m.email, username: m.username, is_admin: m.is_admin, operator: m.operator, groups: m.groups, workspace_id: c.ws })));
  });
  router.get('users/username_to_email/([^/]+)', async (c, e) => {
    const [m] = await e.db.query(`SELECT email FROM member WHERE workspace_id = $1 AND username = $2`, [c.ws, c.params[0]]);
    if (!m) throw new HttpError(404, `user ${c.params[0]} not found in workspace ${c.ws}`);
    return text(m.email);
  });
  router.get('workspaces/list_ws_specific', async () => json([]));
  router.get('workspaces/tarball', async (c, e) => ({ bytes: await workspaceArchive(e, c.ws, c.query), contentType: 'application/zip', filename: `${c.ws}.zip` }));
  router.post('workspaces/add_user', async (c, e) => {
    if (!e.p.isAdmin) throw forbidden('only workspace admins can add users');
    const b = await c.obj();
    if (typeof b.email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(b.email)) throw badRequest('email is required');
    const username = checkName(b.username ?? b.email.split('@')[0], 'username');
    const groups = Array.isArray(b.groups) ? b.groups.map((g: unknown) => checkName(g, 'group')) : [];
    await e.db.tx((q) => addMember(q, c.ws, { email: b.email, username, is_admin: !!b.is_admin, operator: !!b.operator, groups }));
    return text(`added ${b.email} to ${c.ws} as ${username}`, 201);
  });

  const ui = uiHandler({
    router,
    principalOf,
    envFor: (p) => ({ db, store, engine, p, baseUrl, armSchedule: (w, sp) => armSchedule(db, w, sp) }),
    publicUrl: () => baseUrl,
    workspacesOf: async (p) =>
      (await db.query<{ id: string }>(p.superAdmin ? `SELECT id FROM workspace ORDER BY id` : `SELECT workspace_id AS id FROM member WHERE email = $1 ORDER BY workspace_id`, p.superAdmin ? [] : [p.email])).map((w) => w.id),
  });

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      const e = err as Error & { code?: string };
      // PostgreSQL data and integrity errors come from input we did not catch earlier: a 400, never a 500.
      if (typeof e.code === 'string' && /^(22|23)/.test(e.code)) return send(res, { status: 400, text: e.message });
      // No token in the log line: not the request's (header, cookie or query), not any other credential parameter.
      const token = requestToken(req, new URL(req.url ?? '/', 'http://localhost').searchParams);
      log(`error: ${req.method} ${redactRequestUrl(req.url ?? '', [token])}: ${redact(e.stack ?? e.message, [token])}`);
      send(res, { status: 500, text: `internal error: ${redact(e.message, [token])}` });
    });
  });

  // A running job calls the API many times (each step() of a workflow): its principal is kept
  // for a second instead of two queries per call.
  const jobPrincipals = new Map<string, { p: Principal; ws: string; until: number }>();
  async function principalOf(token: string | undefined, ws: string | undefined): Promise<Principal | undefined> {
    if (!token) return undefined;
    if (token.startsWith('wjt_')) {
      // A job token is valid while its job runs, and acts for the job's owner (permissioned_as).
      // A job of this process's workers runs exactly while the engine holds its token (dropped
      // before the job is recorded as finished): no query. Another worker's job: its status row.
      const jobId = jobIdOfToken(secret, token);
      if (!jobId) return undefined;
      const local = engine.jobToken(token);
      const hit = jobPrincipals.get(token);
      let jobWs = hit?.ws;
      if (!local || !hit || hit.until <= Date.now()) {
        const [j] = await db.query(`SELECT workspace_id, permissioned_as FROM job WHERE id = $1 AND status = 'running'`, [jobId]);
        if (!j) return undefined;
        jobWs = j.workspace_id;
        if (!hit || hit.until <= Date.now()) {
          const p = await jobOwner(db, j.workspace_id, j.permissioned_as);
          if (!p) return undefined;
          if (jobPrincipals.size > 10_000) jobPrincipals.clear();
          jobPrincipals.set(token, { p: { ...p, superAdmin: false, jobId }, ws: j.workspace_id, until: Date.now() + 1000 });
        }
      }
      if (ws && jobWs !== ws) return undefined;
      return jobPrincipals.get(token)?.p;
    }
    const account = await accountOfToken(db, token);
    if (!account) return undefined;
    if (!ws) return { email: account.email, username: account.email.split('@')[0]!, isAdmin: account.superAdmin, superAdmin: account.superAdmin, operator: false, groups: [] };
    return memberPrincipal(db, ws, account);
  }

  const logRequests = !!process.env.WMILL_LOG_REQUESTS;
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (logRequests) {
      const t = requestToken(req, url.searchParams);
      res.once('finish', () => log(`${req.method} ${redactRequestUrl(req.url ?? '', [t])} ${res.statusCode}`));
    }
    let path: string;
    try {
      path = decodeURI(url.pathname);
    } catch {
      return send(res, { status: 400, text: 'malformed URL' });
    }
    if (path === '/api/version' || path === '/api/version/') return send(res, text(API_VERSION));
    // Approval pages: no login, the link's signature is the credential (checked there).
    const approve = APPROVAL_PAGE_PATH.exec(path);
    if (approve) {
      return handleApprovalPage(req, res, approve, url.searchParams, async (ws) => {
        const key = await store.workspaceKey(ws).catch(() => undefined);
        return key === undefined ? undefined : { store, key, wake: async (id) => (await store.wake(id), engine.poke()) };
      });
    }
    if (!path.startsWith('/api/')) {
      if (await ui(req, res, path, url)) return;
      return send(res, { status: 404, text: `Not found: ${path}` });
    }
    if (path.startsWith(HUB_PATH)) return send(res, hubOffline());
    const token = requestToken(req, url.searchParams);
    const m = /^\/api\/w\/([^/]+)\/(.*)$/.exec(path);
    try {
      // HTTP routes (src/server/triggers.ts): each route decides its own authentication.
      if (path.startsWith('/api/r/')) return send(res, await serveHttpRoute(req, path.slice(7), url.searchParams, { db, store, engine, principalOf, token, setHeader: (k, v) => res.setHeader(k, v) }));
      if (!m) return send(res, await global(req, path.slice(5), url.searchParams, token));
      const [, ws, rest] = m as unknown as [string, string, string];
      let p = await principalOf(token, ws);
      // Signed approval URLs work without a token: the signature is the credential (public apps: their secret, checked there).
      if (!p && (/^jobs_u\/(resume|cancel)\/[^/]+\/[^/]+\/[^/]+$/.test(rest) || /^apps_u\/(public_app|page|get_data|run)\//.test(rest))) {
        p = { email: 'anonymous', username: 'anonymous', isAdmin: false, superAdmin: false, operator: true, groups: [] };
      }
      if (!p) {
        if (!token) throw new HttpError(401, 'Unauthorized: a token is required (Authorization: Bearer <token>)');
        const account = token.startsWith('wjt_') ? undefined : await accountOfToken(db, token);
        if (account) throw new HttpError(account ? 403 : 401, `${account.email} is not a member of workspace ${ws} (or it does not exist)`);
        throw new HttpError(401, 'Unauthorized: invalid or expired token');
      }
      const env: Env = { db, store, engine, p, baseUrl, armSchedule: (w, sp) => armSchedule(db, w, sp) };
      const hit = router.match(req.method ?? 'GET', rest);
      if (hit) return send(res, await recorded(env, ws, req.method ?? 'GET', rest, () => hit.h(makeCtx(req, ws, hit.params, url.searchParams), env)));
      // The in-job routes (shared with preview's loopback API) ask the same access check.
      const principal = p;
      const guard: Guard = (kind, itemPath, op) => requireAccess(db, ws, principal, itemPath, op, kind === 'resource' ? 'Resource' : 'Variable');
      const viaJobApi = await jobApi.dispatch(req, ws, rest, url.searchParams, { token: token!, jobId: p.jobId ?? '', workspace: ws }, guard);
      if (viaJobApi) return send(res, (viaJobApi.text !== undefined ? { status: viaJobApi.status, text: viaJobApi.text } : { status: viaJobApi.status, json: viaJobApi.json }) as Reply);
      if (router.knows(rest)) throw new HttpError(405, `${req.method} is not allowed on ${path}`);
      throw new HttpError(404, `Not found: ${req.method} ${path} is not served by wmill serve`);
    } catch (err) {
      if (err instanceof HttpError) {
        req.resume();
        return send(res, { status: err.status, text: err.message });
      }
      throw err;
    }
  }

  async function global(req: IncomingMessage, rest: string, query: URLSearchParams, token: string | undefined): Promise<Reply> {
    if (req.method === 'POST' && rest === 'auth/login') return text(await login(db, await makeCtx(req, '', [], query).obj()));
    const p = await principalOf(token, undefined);
    if (!p) throw new HttpError(401, token ? 'Unauthorized: invalid or expired token' : 'Unauthorized: a token is required (Authorization: Bearer <token>)');
    const ctx = makeCtx(req, '', [], query);
    const method = req.method ?? 'GET';
    const g = globals.match(method, rest);
    if (g) return g.h(makeCtx(req, '', g.params, query), { db, store, engine, p, baseUrl, armSchedule: (w, sp) => armSchedule(db, w, sp) });
    if (method === 'GET' && rest === 'users/whoami') {
      return json({ email: p.email, username: p.username, super_admin: p.superAdmin, verified: true, disabled: false, first_time_user: false, login_type: 'password' });
    }
    if (method === 'POST' && rest === 'workspaces/exists') {
      const b = await ctx.obj();
      const [w] = await db.query(`SELECT 1 FROM workspace WHERE id = $1`, [String(b.id ?? '')]);
      return json(!!w);
    }
    if (method === 'GET' && rest === 'workspaces/list') {
      const rows = await db.query(
        p.superAdmin
          ? `SELECT id, name FROM workspace ORDER BY id`
          : `SELECT w.id, w.name FROM workspace w JOIN member m ON m.workspace_id = w.id WHERE m.email = $1 ORDER BY w.id`,
        p.superAdmin ? [] : [p.email],
      );
      return json(rows.map((w) => ({ id: w.id, name: w.name, owner: 'admin@windmill.dev' })));
    }
    if (method === 'POST' && rest === 'workspaces/create') {
      if (!p.superAdmin || p.jobId) throw forbidden('only super admins can create workspaces');
      const b = await ctx.obj();
      const id = checkName(b.id, 'workspace id');
      const created = await db.tx(async (q) => {
        const ok = await createWorkspace(q, id, typeof b.name === 'string' ? b.name : id);
        if (ok) await addMember(q, id, { email: p.email, username: p.username, is_admin: true });
        return ok;
      });
      if (!created) throw badRequest(`workspace ${id} already exists`);
      return text(id, 201);
    }
    const tokens = await tokenRoutes(db, method, rest, p, ctx);
    if (tokens) return tokens;
    const admin = await jobsAdminGlobalRoutes(db, method, rest, p, ctx);
    if (admin) return admin;
    throw new HttpError(404, `Not found: ${method} /api/${rest} is not served by wmill serve`);
  }

  server.keepAliveTimeout = 5000;
  server.headersTimeout = 30000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8000, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const listenUrl = `http://${opts.host && opts.host !== '0.0.0.0' ? opts.host : '127.0.0.1'}:${port}`;
  baseUrl = (opts.publicUrl ?? listenUrl).replace(/\/+$/, '');
  engine.setApiBaseUrl(listenUrl);
  await db.query(`INSERT INTO instance (key, value) VALUES ('api_url', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, [listenUrl]);

  const staleMs = opts.staleAfterMs ?? 30_000;
  const sweep = setInterval(() => {
    store.requeueStale(staleMs, { worker: engine.worker, ids: engine.runningIds() }).then((ids) => {
      if (ids.length) {
        log(`re-queued ${ids.length} job(s) of workers that stopped sending heartbeats`);
        engine.poke();
      }
    }).catch(() => undefined);
    void expireSyncPushes(db).catch(() => undefined);
  }, Math.max(250, Math.floor(staleMs / 3)));
  sweep.unref();

  // Every enabled schedule has its next tick queued (after a restart too).
  for (const s of await db.query(`SELECT workspace_id, path FROM schedule s WHERE enabled AND NOT EXISTS (SELECT 1 FROM job j WHERE j.workspace_id = s.workspace_id AND j.schedule_path = s.path AND j.status = 'queued')`)) {
    await armSchedule(db, s.workspace_id, s.path).catch((e) => log(`schedule ${s.path}: ${(e as Error).message}`));
  }
  if ((opts.workers ?? 2) > 0) engine.start();
  const pings = (opts.workers ?? 2) > 0 ? startWorkerPings(db, { worker: engine.worker, tags: opts.tags }) : undefined;

  return {
    url: listenUrl,
    port,
    db,
    engine,
    store,
    generatedToken,
    sandbox: sandbox.mode,
    async close() {
      clearInterval(sweep);
      await pings?.stop();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await engine.close();
      await db.close();
    },
  };
}

function userView(p: Principal, ws: string) {
  return {
    workspace_id: ws,
    email: p.email,
    username: p.username,
    is_admin: p.isAdmin,
    is_super_admin: p.superAdmin,
    operator: p.operator,
    disabled: false,
    groups: p.groups.filter((g) => g !== 'all'),
    folders: [],
    folders_read: [],
    folders_owners: [],
    created_at: new Date(0).toISOString(),
  };
}

/** `wmill worker`: run jobs from the PostgreSQL queue of a `wmill serve`. */
export async function startWorker(opts: { databaseUrl: string; concurrency?: number; apiBaseUrl?: string; staleAfterMs?: number; name?: string; tags?: string[]; sandbox?: string; log?: (l: string) => void }) {
  const sandbox = hostSandbox(opts.sandbox, [], opts.log ?? (() => undefined));
  const db = await openDatabase({ databaseUrl: opts.databaseUrl });
  const secret = await instanceSecret(db);
  const store = new SqlStore(db);
  let apiBaseUrl = opts.apiBaseUrl;
  if (!apiBaseUrl) {
    const [r] = await db.query<{ value: string }>(`SELECT value FROM instance WHERE key = 'api_url'`);
    apiBaseUrl = r?.value;
  }
  const engine = engineFor(store, secret, { worker: opts.name ?? `worker-${process.pid}`, concurrency: opts.concurrency ?? 1, apiBaseUrl, publicUrl: () => apiBaseUrl ?? '', tags: opts.tags, sandbox });
  const staleMs = opts.staleAfterMs ?? 30_000;
  const sweep = setInterval(() => void store.requeueStale(staleMs, { worker: engine.worker, ids: engine.runningIds() }).catch(() => undefined), Math.max(250, Math.floor(staleMs / 3)));
  sweep.unref();
  engine.start();
  const pings = startWorkerPings(db, { worker: engine.worker, tags: opts.tags });
  return {
    engine,
    db,
    async close() {
      clearInterval(sweep);
      await pings.stop();
      await engine.close();
      await db.close();
    },
  };
}
