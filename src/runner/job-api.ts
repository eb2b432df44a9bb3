/**
 * The API a job talks to (loopback only, 127.0.0.1 and a free port): the subset "S" of
 * spec/windmill-server.md §2 that the npm `windmill-client` and our Python `wmill` call from
 * inside a job, with Windmill's shapes and conventions (§1): `/api` prefix, Bearer (or `token`
 * cookie / `?token=`) auth with the job's token, JSON bodies, text/plain ids, 201 on creates,
 * text error bodies.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Store } from './store.js';
import { isFinal, type JobRecord } from './types.js';
import { interpolate, looksEncrypted, NotFoundError } from './workspace-files.js';
import type { JobToken } from './engine.js';
import { queryReader, type QueryReader } from '../util/query.js';
import { MAX_DEPTH, valueDepth } from '../util/data-file.js';

export interface ApiContext {
  store: Store;
  tokenInfo: (token: string) => JobToken | undefined;
  cancel: (id: string, by: string, reason?: string) => Promise<boolean>;
  /** Write a line into a job's logs (warnings about what the job asked for). */
  log: (jobId: string, chunk: string) => void;
  user: string;
  /** Key that signs approval URLs of suspended flows (preview: random per run). */
  resumeKey?: string;
  /** An approval was recorded for job `id` (wake it). */
  onResume?: (id: string) => void;
}

export const API_VERSION = 'CE v1.819.0';

class HttpError extends Error {
  constructor(
    public status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The caller's right to touch the item at `path` (throws when it has none). Preview's loopback
 * API has one user and allows everything; `wmill serve` passes its access check (server/access.ts).
 */
export type Guard = (kind: 'resource' | 'variable', path: string, op: 'read' | 'write') => Promise<void>;
const allowAll: Guard = async () => undefined;

type Handler = (req: IncomingMessage, m: { ws: string; rest: string; query: URLSearchParams; q: QueryReader; auth: JobToken; guard: Guard }) => Promise<Reply>;

const readQuery = (query: URLSearchParams) => queryReader(query, (msg) => new HttpError(400, msg));
type Reply = { status?: number; json?: unknown; text?: string };

const MAX_BODY = 32 * 1024 * 1024;

async function readJson(req: IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, 'request body too large');
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'request body is not valid JSON');
  }
  if (valueDepth(v, MAX_DEPTH) > MAX_DEPTH) throw new HttpError(400, `request body: nested more than ${MAX_DEPTH} levels deep`);
  return v;
}

function bearer(req: IncomingMessage, query: URLSearchParams): string | undefined {
  const h = req.headers.authorization;
  if (h && /^Bearer\s+/i.test(h)) return h.replace(/^Bearer\s+/i, '').trim();
  const cookie = req.headers.cookie;
  if (cookie) {
    for (const part of cookie.split(';')) {
      const [k, ...v] = part.trim().split('=');
      if (k === 'token') return decodeURIComponent(v.join('='));
    }
  }
  return query.get('token') ?? undefined;
}

export function jobView(j: JobRecord, logs?: string) {
  const completed = isFinal(j.status);
  const common = {
    id: j.id,
    workspace_id: j.workspace,
    created_at: j.created_at,
    created_by: j.createdBy,
    started_at: j.started_at ?? null,
    script_path: j.path,
    job_kind: j.kind,
    language: j.language,
    args: j.args,
    permissioned_as: j.permissionedAs,
    tag: j.tag ?? j.language,
    canceled: j.status === 'canceled' || !!j.cancel_requested,
    canceled_by: j.canceled_by ?? null,
    canceled_reason: j.canceled_reason ?? null,
    ...(logs !== undefined ? { logs } : {}),
  };
  if (completed) {
    return {
      type: 'CompletedJob',
      ...common,
      success: j.status === 'success',
      result: j.result ?? null,
      completed_at: j.completed_at,
      duration_ms: j.duration_ms ?? 0,
      is_skipped: false,
    };
  }
  return { type: 'QueuedJob', ...common, running: j.status === 'running', scheduled_for: j.scheduledFor ?? j.created_at };
}

export class ApiServer {
  private server: Server | undefined;
  baseUrl = '';
  private routes: [string, RegExp, Handler][] = [];

  constructor(private ctx: ApiContext) {
    const r = (method: string, pattern: string, h: Handler) => this.routes.push([method, new RegExp(`^${pattern}$`), h]);
    const store = ctx.store;

    // -- resources -------------------------------------------------------------------------
    r('GET', 'resources/get_value_interpolated/(.+)', async (_q, m) => {
      try {
        await m.guard('resource', m.rest, 'read');
        const r0 = await store.getResource(m.ws, m.rest);
        if (!r0) throw new NotFoundError('resource', m.rest);
        return { json: await interpolate(r0.value, store, m.ws, [m.rest], (kind, p) => m.guard(kind, p, 'read')) };
      } catch (e) {
        if (e instanceof NotFoundError) throw new HttpError(404, `${e.message}`);
        if (typeof (e as { status?: unknown }).status === 'number') throw e; // the guard's refusal, as it is
        throw new HttpError(400, (e as Error).message);
      }
    });
    r('GET', 'resources/get_value/(.+)', async (_q, m) => {
      await m.guard('resource', m.rest, 'read');
      const r0 = await store.getResource(m.ws, m.rest);
      if (!r0) throw new HttpError(404, `Resource not found at ${m.rest}`);
      return { json: r0.value };
    });
    r('GET', 'resources/get/(.+)', async (_q, m) => {
      await m.guard('resource', m.rest, 'read');
      const r0 = await store.getResource(m.ws, m.rest);
      if (!r0) throw new HttpError(404, `Resource not found at ${m.rest}`);
      return { json: { ...r0, description: r0.description ?? '', is_oauth: false, extra_perms: {}, workspace_id: m.ws } };
    });
    r('GET', 'resources/exists/(.+)', async (_q, m) => {
      await m.guard('resource', m.rest, 'read');
      return { json: !!(await store.getResource(m.ws, m.rest)) };
    });
    r('POST', 'resources/create', async (req, m) => {
      const b = (await readJson(req)) ?? {};
      if (typeof b.path !== 'string' || !b.path) throw new HttpError(400, 'path is required');
      await m.guard('resource', b.path, 'write');
      const exists = await store.getResource(m.ws, b.path);
      if (exists && !m.q.bool('update_if_exists')) throw new HttpError(400, `Resource ${b.path} already exists`);
      await store.putResource(m.ws, { path: b.path, value: b.value ?? null, resource_type: String(b.resource_type ?? 'any'), description: b.description ?? '' });
      return { status: 201, text: b.path };
    });
    r('POST', 'resources/update_value/(.+)', async (req, m) => {
      await m.guard('resource', m.rest, 'write');
      const b = (await readJson(req)) ?? {};
      const r0 = await store.getResource(m.ws, m.rest);
      if (!r0) throw new HttpError(404, `Resource not found at ${m.rest}`);
      await store.putResource(m.ws, { ...r0, value: b.value ?? null });
      return { text: `value of resource ${m.rest} updated` };
    });
    r('POST', 'resources/update/(.+)', async (req, m) => {
      await m.guard('resource', m.rest, 'write');
      const b = (await readJson(req)) ?? {};
      if (typeof b.path === 'string' && b.path && b.path !== m.rest) await m.guard('resource', b.path, 'write');
      const r0 = await store.getResource(m.ws, m.rest);
      if (!r0) throw new HttpError(404, `Resource not found at ${m.rest}`);
      await store.putResource(m.ws, {
        path: typeof b.path === 'string' && b.path ? b.path : r0.path,
        value: 'value' in b ? b.value : r0.value,
        resource_type: b.resource_type ?? r0.resource_type,
        description: b.description ?? r0.description,
      });
      return { text: `resource ${m.rest} updated` };
    });

    // -- variables -------------------------------------------------------------------------
    const variable = async (ws: string, path: string, jobId: string, guard: Guard) => {
      await guard('variable', path, 'read');
      const v = await store.getVariable(ws, path);
      if (!v) throw new HttpError(404, `Variable not found at ${path}`);
      if (looksEncrypted(v)) {
        ctx.log(jobId, `[wmill] warning: variable ${path} is secret and its file holds what looks like an encrypted value (pulled without --plain-secrets); it is returned as written\n`);
      }
      return v;
    };
    r('GET', 'variables/get_value/(.+)', async (_q, m) => ({ json: (await variable(m.ws, m.rest, m.auth.jobId, m.guard)).value }));
    r('GET', 'variables/get/(.+)', async (_q, m) => {
      const v = await variable(m.ws, m.rest, m.auth.jobId, m.guard);
      const decrypt = m.q.bool('decrypt_secret', true);
      return {
        json: {
          workspace_id: m.ws,
          path: v.path,
          value: !v.is_secret || decrypt ? v.value : undefined,
          is_secret: v.is_secret,
          description: v.description ?? '',
          extra_perms: {},
          is_oauth: false,
        },
      };
    });
    r('GET', 'variables/exists/(.+)', async (_q, m) => {
      await m.guard('variable', m.rest, 'read');
      return { json: !!(await store.getVariable(m.ws, m.rest)) };
    });
    r('POST', 'variables/create', async (req, m) => {
      const b = (await readJson(req)) ?? {};
      if (typeof b.path !== 'string' || !b.path) throw new HttpError(400, 'path is required');
      await m.guard('variable', b.path, 'write');
      if (await store.getVariable(m.ws, b.path)) throw new HttpError(400, `Variable ${b.path} already exists`);
      await store.putVariable(m.ws, { path: b.path, value: String(b.value ?? ''), is_secret: !!b.is_secret, description: b.description ?? '' });
      return { status: 201, text: b.path };
    });
    r('POST', 'variables/update/(.+)', async (req, m) => {
      await m.guard('variable', m.rest, 'write');
      const b = (await readJson(req)) ?? {};
      if (typeof b.path === 'string' && b.path && b.path !== m.rest) await m.guard('variable', b.path, 'write');
      const v = await store.getVariable(m.ws, m.rest);
      if (!v) throw new HttpError(404, `Variable not found at ${m.rest}`);
      await store.putVariable(m.ws, {
        path: typeof b.path === 'string' && b.path ? b.path : v.path,
        value: 'value' in b ? String(b.value ?? '') : v.value,
        is_secret: typeof b.is_secret === 'boolean' ? b.is_secret : v.is_secret,
        description: b.description ?? v.description,
      });
      return { text: `variable ${m.rest} updated` };
    });

    // -- jobs ------------------------------------------------------------------------------
    const job = async (ws: string, id: string) => {
      const j = await store.getJob(id);
      if (!j || j.workspace !== ws) throw new HttpError(404, `Job ${id} not found`);
      return j;
    };
    r('GET', 'jobs_u/completed/get_result_maybe/([^/]+)', async (_q, m) => {
      const j = await job(m.ws, m.rest);
      const done = isFinal(j.status);
      return { json: { completed: done, result: done ? (j.result ?? null) : null, success: done ? j.status === 'success' : undefined, started: j.status !== 'queued' } };
    });
    r('GET', 'jobs_u/completed/get_result/([^/]+)', async (_q, m) => {
      const j = await job(m.ws, m.rest);
      if (!isFinal(j.status)) throw new HttpError(404, `Job ${m.rest} is not completed yet`);
      return { json: j.result ?? null };
    });
    r('GET', 'jobs_u/completed/get/([^/]+)', async (_q, m) => {
      const j = await job(m.ws, m.rest);
      if (!isFinal(j.status)) throw new HttpError(404, `Job ${m.rest} is not completed yet`);
      return { json: jobView(j, (await store.getLogs(j.id)).logs) };
    });
    r('GET', 'jobs_u/get/([^/]+)', async (_q, m) => {
      const j = await job(m.ws, m.rest);
      const logs = m.q.bool('no_logs') ? undefined : (await store.getLogs(j.id)).logs;
      return { json: jobView(j, logs) };
    });
    r('GET', 'jobs_u/get_logs/([^/]+)', async (_q, m) => ({ text: (await store.getLogs((await job(m.ws, m.rest)).id)).logs }));
    r('GET', 'jobs_u/getupdate/([^/]+)', async (_q, m) => {
      const j = await job(m.ws, m.rest);
      const offset = m.q.int('log_offset', { dflt: 0, min: 0 });
      const { logs, offset: next } = await store.getLogs(j.id, offset);
      return { json: { running: j.status === 'running', completed: isFinal(j.status), new_logs: logs, log_offset: next } };
    });
    r('POST', 'jobs_u/queue/cancel/([^/]+)', async (req, m) => {
      const b = (await readJson(req)) ?? {};
      await job(m.ws, m.rest);
      const ok = await ctx.cancel(m.rest, ctx.user, typeof b.reason === 'string' ? b.reason : undefined);
      if (!ok) throw new HttpError(400, `Job ${m.rest} is already completed`);
      return { text: m.rest };
    });

    r('GET', 'jobs_u/get_root_job_id/([^/]+)', async (_q, m) => {
      let cur = await job(m.ws, m.rest);
      if (cur.rootJob) return { json: cur.rootJob };
      for (let depth = 0; cur.parentJob && depth < 100; depth++) {
        const up = await store.getJob(cur.parentJob);
        if (!up || up.workspace !== m.ws) break;
        cur = up;
      }
      return { json: cur.id };
    });
    r('POST', 'job_metrics/set_progress/([^/]+)', async (req, m) => {
      const b = (await readJson(req)) ?? {};
      if (typeof b.percent !== 'number' || !Number.isFinite(b.percent)) throw new HttpError(400, 'percent must be a number');
      await store.setProgress((await job(m.ws, m.rest)).id, b.percent);
      return { text: `progress of job ${m.rest} set` };
    });
    r('GET', 'job_metrics/get_progress/([^/]+)', async (_q, m) => ({ json: await store.getProgress((await job(m.ws, m.rest)).id) }));
    const flowJob = async (ws: string, id: string) => {
      const j = await store.getJob(id);
      if (!j || j.workspace !== ws || (j.kind !== 'flow' && j.kind !== 'flowpreview')) throw new HttpError(404, `Job ${id} does not exist or is not a flow`);
      return j;
    };
    r('GET', 'jobs/flow/user_states/([^/]+/.+)', async (_q, m) => {
      const [id, key] = [m.rest.slice(0, m.rest.indexOf('/')), m.rest.slice(m.rest.indexOf('/') + 1)];
      const v = await store.getFlowUserState((await flowJob(m.ws, id)).id, key);
      return { json: v === undefined ? null : v };
    });
    r('POST', 'jobs/flow/user_states/([^/]+/.+)', async (req, m) => {
      const [id, key] = [m.rest.slice(0, m.rest.indexOf('/')), m.rest.slice(m.rest.indexOf('/') + 1)];
      const b = await readJson(req);
      await store.setFlowUserState((await flowJob(m.ws, id)).id, key, b ?? null);
      return { text: `flow user state ${key} set` };
    });

    r('POST', 'jobs/wac/inline_checkpoint/([^/]+)', async (req, m) => {
      if (m.rest !== m.auth.jobId) throw new HttpError(403, 'a job can only checkpoint its own steps');
      const b = (await readJson(req)) ?? {};
      const { inlineCheckpoint } = await import('./wac/rounds.js');
      try {
        return { json: await inlineCheckpoint(store, m.rest, b) };
      } catch (e) {
        throw new HttpError(400, (e as Error).message);
      }
    });
    r('GET', 'jobs/wac_approval_urls/([^/]+/[^/]+)', async (_q, m) => {
      const [id, key] = m.rest.split('/') as [string, string];
      const j = await job(m.ws, id);
      if (!ctx.resumeKey) throw new HttpError(404, 'approvals are not available in this runner');
      const { stepApprovalUrlsFor } = await import('./flow/resume.js');
      return { json: stepApprovalUrlsFor(this.baseUrl, m.ws, ctx.resumeKey, j.parentJob && j.wacKey ? j.parentJob : j.id, key, m.query.get('approver') ?? undefined) };
    });
    r('GET', 'jobs/resume_urls/([^/]+/[0-9]+)', async (_q, m) => {
      const [id, rid] = m.rest.split('/') as [string, string];
      const j = await job(m.ws, id);
      if (!ctx.resumeKey) throw new HttpError(404, 'approvals are not available in this runner');
      const { resumeUrlsFor } = await import('./flow/resume.js');
      return { json: resumeUrlsFor(this.baseUrl, m.ws, ctx.resumeKey, j.parentJob ?? j.id, Number(rid), m.query.get('approver') ?? undefined) };
    });

    // -- users -----------------------------------------------------------------------------
    r('GET', 'users/whoami', async (_q, m) => ({ json: this.user(m.ws) }));
    r('GET', 'users/username_to_email/([^/]+)', async (_q, m) => {
      if (m.rest !== ctx.user) throw new HttpError(404, `user ${m.rest} not found`);
      return { text: this.user(m.ws).email };
    });
  }

  private user(ws: string) {
    const u = this.ctx.user;
    return {
      email: `${u}@localhost`,
      username: u,
      is_admin: true,
      is_super_admin: false,
      operator: false,
      disabled: false,
      groups: [],
      folders: [],
      folders_read: [],
      folders_owners: [],
      workspace_id: ws,
      created_at: new Date(0).toISOString(),
    };
  }

  /** Serve one request with the in-job routes (used by `wmill serve`); undefined when no route matches. */
  async dispatch(req: IncomingMessage, ws: string, rest: string, query: URLSearchParams, auth: JobToken, guard: Guard): Promise<{ status?: number; json?: unknown; text?: string } | undefined> {
    for (const [method, re, h] of this.routes) {
      if (method !== req.method) continue;
      const mm = re.exec(rest);
      if (!mm) continue;
      try {
        return await h(req, { ws, rest: mm[1] ?? '', query, q: readQuery(query), auth, guard });
      } catch (e) {
        if (e instanceof HttpError) return { status: e.status, text: e.message };
        throw e;
      }
    }
    return undefined;
  }

  async listen(): Promise<string> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((e) => this.send(res, { status: 500, text: String((e as Error)?.message ?? e) }));
    });
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    server.unref();
    this.server = server;
    const { port } = server.address() as AddressInfo;
    this.baseUrl = `http://127.0.0.1:${port}`;
    return this.baseUrl;
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    s.closeAllConnections?.();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private send(res: ServerResponse, reply: Reply): void {
    if (res.headersSent) return;
    if (reply.text !== undefined) {
      res.writeHead(reply.status ?? 200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(reply.text);
    } else {
      res.writeHead(reply.status ?? 200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(reply.json === undefined ? null : reply.json));
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let path: string;
    try {
      path = decodeURI(url.pathname);
    } catch {
      return this.send(res, { status: 400, text: 'malformed URL' });
    }
    if (path === '/api/version') return this.send(res, { text: API_VERSION });
    const approve = this.ctx.resumeKey ? /^\/approve\/([^/]+)\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(path) : null;
    if (approve) {
      const { handleApprovalPage } = await import('./approval-page.js');
      const key = this.ctx.resumeKey!;
      return handleApprovalPage(req, res, approve, url.searchParams, async () => ({
        store: this.ctx.store,
        key,
        wake: async (id) => this.ctx.onResume?.(id),
      }));
    }
    const resumeM = /^\/api\/w\/([^/]+)\/jobs_u\/(resume|cancel)\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(path);
    if (resumeM && this.ctx.resumeKey) {
      const [, ws, what, jobId, resumeId, signature] = resumeM as unknown as string[];
      const { recordResume, ResumeError } = await import('./flow/resume.js');
      try {
        const payload = req.method === 'POST' ? await readJson(req) : undefined;
        await recordResume(this.ctx.store, this.ctx.resumeKey, ws!, {
          jobId: jobId!, resumeId: resumeId!, signature: signature!, approver: url.searchParams.get('approver') ?? undefined, approved: what === 'resume', payload: payload ?? null,
        });
        this.ctx.onResume?.(jobId!);
        return this.send(res, { status: 201, text: `Job ${jobId} ${what === 'resume' ? 'resumed' : 'canceled'}` });
      } catch (e) {
        if (e instanceof ResumeError || e instanceof HttpError) return this.send(res, { status: (e as { status: number }).status, text: (e as Error).message });
        throw e;
      }
    }
    const token = bearer(req, url.searchParams);
    const auth = token ? this.ctx.tokenInfo(token) : undefined;
    if (!auth) return this.send(res, { status: 401, text: 'Unauthorized: missing or invalid token' });
    if (path === '/api/users/whoami' && req.method === 'GET') return this.send(res, { json: this.user(auth.workspace) });
    const m = /^\/api\/w\/([^/]+)\/(.+)$/.exec(path);
    if (!m) return this.send(res, { status: 404, text: `Not found: ${path}` });
    const [, ws, rest] = m as unknown as [string, string, string];
    if (ws !== auth.workspace) return this.send(res, { status: 403, text: `token is not valid for workspace ${ws}` });
    for (const [method, re, h] of this.routes) {
      if (method !== req.method) continue;
      const mm = re.exec(rest);
      if (!mm) continue;
      try {
        return this.send(res, await h(req, { ws, rest: mm[1] ?? '', query: url.searchParams, q: readQuery(url.searchParams), auth, guard: allowAll }));
      } catch (e) {
        if (e instanceof HttpError) return this.send(res, { status: e.status, text: e.message });
        throw e;
      }
    }
    return this.send(res, { status: 404, text: `Not found: ${req.method} ${path} is not served by the wmill runner` });
  }
}
