/**
 * Job administration on `wmill serve`, what the real CLI's `job rerun`, `job restart`, `jobs
 * pull|push`, `queues` and `workers` call: batch re-runs, restarting a finished flow at a
 * top-level step (the steps before it keep their recorded results), export/import/delete of
 * jobs (workspace admins), completed-job counts per tag, the database clock, and the worker
 * registry (each `wmill serve` with workers and each `wmill worker` pings a row every few
 * seconds). Every job a route touches is one the caller may see (access.ts canSeeJob), and what
 * it runs again it must be allowed to run (requireAccess).
 */
import { hostname } from 'node:os';
import type { Db, Sql } from './db/db.js';
import type { Env } from './env.js';
import type { Principal } from './auth.js';
import { isFinal, type JobRecord, type JobSpec } from '../runner/types.js';
import { newJobId } from '../runner/ids.js';
import { validateFlow, type FlowValue } from '../items/flow-schema.js';
import { canSeeJob, requireAccess } from './access.js';
import { flowAtPath, scriptAtHash, scriptAtPath } from './runnables.js';
import { flowJobSpec, scriptJobSpec } from './jobs.js';
import { badRequest, forbidden, json, notFound, text, type Ctx, type Reply, type Router } from './http.js';
import { pageWindow, paged } from './paging.js';
import { insertJobRow } from './db/sql-store.js';

async function visibleJob(e: Env, ws: string, id: unknown): Promise<JobRecord> {
  if (typeof id !== 'string' || !/^[0-9a-f-]{36}$/i.test(id)) throw badRequest(`invalid job id ${JSON.stringify(id)}`);
  const j = await e.store.getJob(id);
  if (!j || j.workspace !== ws || !(await canSeeJob(e.db, ws, e.p, j))) throw notFound(`Job ${id} not found`);
  return j;
}

/** The spec that runs job `j` again as the caller: same arguments, same version unless `latest`. */
async function rerunSpec(e: Env, ws: string, j: JobRecord, latest: boolean): Promise<JobSpec> {
  const by = e.p.username;
  if (j.kind === 'script') {
    await requireAccess(e.db, ws, e.p, j.path, 'run', 'Script');
    const pinned = !latest && j.scriptHash ? await scriptAtHash(e.db, ws, j.scriptHash) : undefined;
    const row = pinned && pinned.path === j.path ? pinned : await scriptAtPath(e.db, ws, j.path);
    if (!row) throw notFound(`Script '${j.path}' not found`);
    return scriptJobSpec(ws, row, j.args ?? {}, by);
  }
  if (j.kind === 'flow' && !j.parentJob) {
    await requireAccess(e.db, ws, e.p, j.path, 'run', 'Flow');
    const deployed = await flowAtPath(e.db, ws, j.path);
    if (latest || j.flow === undefined) {
      if (!deployed) throw notFound(`Flow '${j.path}' not found`);
      return flowJobSpec(ws, deployed, j.args ?? {}, by);
    }
    return { workspace: ws, kind: 'flow', path: j.path, language: j.language, content: '', flow: j.flow, args: j.args ?? {}, createdBy: by, permissionedAs: `u/${by}` };
  }
  throw badRequest(`job ${j.id} is a ${j.parentJob ? 'flow step' : j.kind} job: only runs of deployed scripts and flows can be re-run`);
}

function optionsOf(v: unknown, what: string): Record<string, { use_latest_version?: boolean }> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw badRequest(`${what} must be an object keyed by path`);
  return v as Record<string, { use_latest_version?: boolean }>;
}

/** The recorded steps a restart at `stepId` keeps: every step before it (and iterations/branches before `n` of it). */
export function restartState(flow: FlowValue, prior: { done?: Record<string, unknown> } | undefined, stepId: string, n?: number) {
  const ids = flow.modules.map((m) => m.id);
  const at = ids.indexOf(stepId);
  if (at < 0) throw badRequest(`step '${stepId}' is not a top-level step of this flow (its steps: ${ids.join(', ') || 'none'})`);
  const mod = flow.modules[at]!;
  if (n !== undefined && !['forloopflow', 'branchall', 'whileloopflow'].includes(mod.value.type)) {
    throw badRequest(`branch_or_iteration_n applies to a for-loop, while-loop or branch-all step; '${stepId}' is a ${mod.value.type} step`);
  }
  const before = new Set(ids.slice(0, at));
  const done: Record<string, unknown> = {};
  for (const [key, rec] of Object.entries(prior?.done ?? {})) {
    const top = key.split(/[/#]/)[0]!;
    if (before.has(top)) done[key] = rec;
    else if (top === stepId && n !== undefined) {
      const m = /^[^/#]+\/(\d+)(?:[/#]|$)/.exec(key);
      if (m && Number(m[1]) < n) done[key] = rec;
    }
  }
  return { done, running: {}, consumedResumes: 0 };
}

function exportView(j: JobRecord, logs: string) {
  return {
    id: j.id,
    workspace_id: j.workspace,
    parent_job: j.parentJob ?? null,
    root_job: j.rootJob ?? null,
    created_by: j.createdBy ?? null,
    created_at: j.created_at,
    started_at: j.started_at ?? null,
    completed_at: j.completed_at ?? null,
    duration_ms: j.duration_ms ?? null,
    status: j.status,
    success: isFinal(j.status) ? j.status === 'success' : null,
    running: j.status === 'running',
    canceled: j.status === 'canceled',
    canceled_by: j.canceled_by ?? null,
    canceled_reason: j.canceled_reason ?? null,
    script_hash: j.scriptHash ?? null,
    script_path: j.path,
    job_kind: j.kind,
    language: j.language,
    raw_code: j.content,
    raw_flow: j.flow ?? null,
    flow_status: j.flowState ?? null,
    flow_step_id: j.flowStepId ?? null,
    args: j.args ?? {},
    result: j.result ?? null,
    logs,
    tag: j.tag ?? j.language,
    priority: j.priority ?? null,
    permissioned_as: j.permissionedAs ?? null,
    schedule_path: j.schedulePath ?? null,
    scheduled_for: j.scheduledFor ?? j.created_at,
  };
}

function requireAdmin(e: Env, what: string): void {
  if (!e.p.isAdmin || e.p.jobId) throw forbidden(`${what} is for workspace admins`);
}

async function exportJobs(c: Ctx, e: Env, final: boolean) {
  requireAdmin(e, 'exporting jobs');
  const w = pageWindow(c) ?? { limit: 1000, offset: 0 };
  const rows = await e.db.query<{ id: string }>(
    `SELECT id FROM job WHERE workspace_id = $1 AND status ${final ? `IN ('success','failure','canceled')` : `IN ('queued','running')`} ORDER BY created_at, id LIMIT ${w.limit} OFFSET ${w.offset}`,
    [c.ws],
  );
  const out = [];
  for (const { id } of rows) {
    const j = await e.store.getJob(id);
    if (j) out.push(exportView(j, (await e.store.getLogs(id)).logs));
  }
  return json(out);
}

const Kinds = new Set(['script', 'flow', 'preview', 'flowpreview', 'dependencies', 'flowdependencies', 'flowscript', 'identity']);
const Runnable = new Set(['script', 'flow', 'preview', 'flowpreview']);

/** Import exported jobs (completed ones final, queued ones queued again); ids already present are refused. */
async function importJobs(c: Ctx, e: Env, final: boolean): Promise<Reply> {
  requireAdmin(e, 'importing jobs');
  const body = await c.body();
  if (!Array.isArray(body)) throw badRequest('the body must be a JSON array of exported jobs');
  let n = 0;
  await e.db.tx(async (q) => {
    for (const [i, x] of body.entries()) {
      const where = `job ${i}`;
      if (!x || typeof x !== 'object') throw badRequest(`${where}: not an object`);
      const j = x as Record<string, any>;
      if (typeof j.id !== 'string' || !/^[0-9a-f-]{36}$/i.test(j.id)) throw badRequest(`${where}: id must be a job uuid`);
      if (typeof j.script_path !== 'string' || !Kinds.has(j.job_kind)) throw badRequest(`${where}: script_path and a known job_kind are required`);
      if (!final && !Runnable.has(j.job_kind)) throw badRequest(`${where}: a queued ${j.job_kind} job cannot be imported (only script, flow and preview runs)`);
      const [exists] = await q.query(`SELECT 1 FROM job WHERE id = $1`, [j.id]);
      if (exists) throw badRequest(`${where}: job ${j.id} already exists on this server`);
      const status = final ? (j.canceled ? 'canceled' : j.success ? 'success' : 'failure') : 'queued';
      await insertJobRow(q, {
        id: j.id, workspace: c.ws, kind: j.job_kind, path: j.script_path, language: j.language ?? 'bash', content: j.raw_code ?? '',
        args: j.args ?? {}, scriptHash: j.script_hash ?? undefined, flow: j.raw_flow ?? undefined, parentJob: j.parent_job ?? undefined,
        // A queued job runs as the admin who imports it, never as whoever the file names.
        createdBy: final ? (j.created_by ?? e.p.username) : e.p.username,
        permissionedAs: final ? (j.permissioned_as ?? `u/${e.p.username}`) : `u/${e.p.username}`,
        tag: j.tag ?? undefined,
        created_at: j.created_at ?? new Date().toISOString(), status: final ? 'running' : 'queued',
      });
      if (final) {
        await q.query(
          `UPDATE job SET status = $2, result = $3::json, started_at = $4, completed_at = $5, duration_ms = $6 WHERE id = $1`,
          [j.id, status, JSON.stringify(j.result ?? null), j.started_at ?? j.created_at ?? null, j.completed_at ?? new Date().toISOString(), j.duration_ms ?? 0],
        );
      }
      if (typeof j.logs === 'string' && j.logs) await q.query(`UPDATE job_logs SET logs = $2 WHERE job_id = $1`, [j.id, j.logs]);
      n++;
    }
  });
  if (!final) e.engine.poke();
  return text(`Imported ${n} ${final ? 'completed' : 'queued'} jobs`);
}

export function registerJobsAdminRoutes(r: Router<Env>): void {
  r.post('jobs/run/batch_rerun_jobs', async (c, e) => {
    const b = await c.obj();
    if (!Array.isArray(b.job_ids) || !b.job_ids.length) throw badRequest('job_ids must be a non-empty list of job ids');
    const scriptOpts = optionsOf(b.script_options_by_path, 'script_options_by_path');
    const flowOpts = optionsOf(b.flow_options_by_path, 'flow_options_by_path');
    const lines: string[] = [];
    for (const id of b.job_ids as unknown[]) {
      try {
        const j = await visibleJob(e, c.ws, id);
        const opts = j.kind === 'flow' ? flowOpts[j.path] : scriptOpts[j.path];
        lines.push(await e.engine.submit(await rerunSpec(e, c.ws, j, !!opts?.use_latest_version)));
      } catch (err) {
        lines.push(`Error: ${(err as Error).message.replace(/\s+/g, ' ')}`);
      }
    }
    return text(`${lines.join('\n')}\n`);
  });

  r.post('jobs/restart/f/([^/]+)', async (c, e) => {
    const j = await visibleJob(e, c.ws, c.params[0]);
    const b = await c.obj();
    if (j.kind !== 'flow' || j.parentJob) throw badRequest(`job ${j.id} is not a flow run: only a finished flow can be restarted at a step`);
    if (!isFinal(j.status)) throw badRequest(`flow job ${j.id} is still ${j.status}: restart it once it has finished (or cancel it)`);
    if (typeof b.step_id !== 'string' || !b.step_id) throw badRequest('step_id (a top-level step id) is required');
    const n = b.branch_or_iteration_n;
    if (n !== undefined && n !== null && !(Number.isInteger(n) && n >= 0)) throw badRequest('branch_or_iteration_n must be a non-negative integer');
    await requireAccess(e.db, c.ws, e.p, j.path, 'run', 'Flow');
    const flow = validateFlow(j.flow, `flow ${j.path}`);
    const state = restartState(flow, j.flowState as { done?: Record<string, unknown> } | undefined, b.step_id, n ?? undefined);
    const by = e.p.username;
    const id = newJobId();
    await e.db.tx(async (q: Sql) => {
      await insertJobRow(q, {
        workspace: c.ws, kind: 'flow', path: j.path, language: j.language, content: '', flow: j.flow, args: j.args ?? {},
        createdBy: by, permissionedAs: `u/${by}`, ...(j.tag ? { tag: j.tag } : {}),
        id, status: 'queued', created_at: new Date().toISOString(),
      });
      await q.query(`UPDATE job SET flow_status = $2::json WHERE id = $1`, [id, JSON.stringify(state)]);
    });
    e.engine.poke();
    return text(id, 201);
  });

  r.get('jobs/completed/export', (c, e) => exportJobs(c, e, true));
  r.get('jobs/queue/export', (c, e) => exportJobs(c, e, false));
  r.post('jobs/completed/import', (c, e) => importJobs(c, e, true));
  r.post('jobs/queue/import', (c, e) => importJobs(c, e, false));

  r.post('jobs/delete', async (c, e) => {
    requireAdmin(e, 'deleting jobs');
    const ids = await c.body();
    if (!Array.isArray(ids) || ids.some((x) => typeof x !== 'string' || !/^[0-9a-f-]{36}$/i.test(x))) throw badRequest('the body must be a JSON array of job ids');
    const n = await e.db.tx(async (q) => {
      const running = await q.query<{ id: string }>(`SELECT id FROM job WHERE workspace_id = $1 AND id = ANY($2::uuid[]) AND status = 'running'`, [c.ws, ids]);
      if (running.length) throw badRequest(`job ${running[0]!.id} is running: cancel it first`);
      const rows = await q.query<{ id: string }>(`DELETE FROM job WHERE workspace_id = $1 AND id = ANY($2::uuid[]) RETURNING id`, [c.ws, ids]);
      if (rows.length) await q.query(`DELETE FROM job_logs WHERE job_id = ANY($1::uuid[])`, [rows.map((r0) => r0.id)]);
      return rows.length;
    });
    return text(`deleted ${n} jobs`);
  });
}

/** Workspaces whose jobs `p` may count: every one for a super admin, else those it is a member of. */
async function countableWorkspaces(db: Sql, p: Principal, only: string | undefined): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    p.superAdmin ? `SELECT id FROM workspace ORDER BY id` : `SELECT workspace_id AS id FROM member WHERE email = $1 ORDER BY workspace_id`,
    p.superAdmin ? [] : [p.email],
  );
  const ids = rows.map((r0) => r0.id);
  return only ? ids.filter((i) => i === only) : ids;
}

/** The instance-level routes (`/api/jobs/db_clock`, `/api/workers/list`, ...), or undefined. */
export async function jobsAdminGlobalRoutes(db: Db, method: string, rest: string, p: Principal, ctx: Ctx): Promise<Reply | undefined> {
  // Worker group configs (`wmill worker-groups push`): kept in the instance table, listed with the groups that ping.
  const cfg = /^configs\/update\/worker__([A-Za-z0-9_-]{1,100})$/.exec(rest);
  if (cfg && (method === 'POST' || method === 'DELETE')) {
    if (!p.superAdmin) throw forbidden('only super admins can change worker group configs');
    const key = `worker_group:${cfg[1]}`;
    if (method === 'DELETE') {
      const gone = await db.query(`DELETE FROM instance WHERE key = $1 RETURNING key`, [key]);
      if (!gone.length) throw notFound(`worker group config ${cfg[1]} not found`);
      return text(`deleted config ${cfg[1]}`);
    }
    const b = await ctx.obj();
    await db.query(`INSERT INTO instance (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, [key, JSON.stringify(b)]);
    return text(`set config ${cfg[1]}`);
  }
  if (method !== 'GET') return undefined;
  if (rest === 'jobs/db_clock') {
    const [r0] = await db.query<{ now: Date | string }>(`SELECT clock_timestamp() AS now`);
    return json(new Date(r0!.now).getTime());
  }
  if (rest === 'jobs/completed/count_by_tag') {
    const horizon = ctx.q.int('horizon_secs', { dflt: 3600, min: 1, max: 10 * 365 * 86400 });
    const wss = await countableWorkspaces(db, p, ctx.q.str('workspace_id'));
    if (!wss.length) return json([]);
    const rows = await db.query<{ tag: string; count: string | number }>(
      `SELECT COALESCE(tag, language) AS tag, count(*) AS count FROM job
       WHERE workspace_id = ANY($1::text[]) AND status IN ('success','failure','canceled') AND completed_at > clock_timestamp() - ($2 || ' seconds')::interval
       GROUP BY 1 ORDER BY 2 DESC, 1`,
      [wss, String(horizon)],
    );
    return json(rows.map((r0) => ({ tag: r0.tag, count: Number(r0.count) })));
  }
  if (rest === 'workers/list') {
    const since = ctx.q.int('ping_since', { min: 0, max: 10 * 365 * 86400 });
    const rows = await db.query(
      `SELECT w.*, EXTRACT(EPOCH FROM (clock_timestamp() - w.ping_at)) AS ago,
         (SELECT count(*) FROM job j WHERE j.worker = w.worker AND j.started_at >= w.started_at) AS executed,
         (SELECT j.id || ' ' || j.workspace_id FROM job j WHERE j.worker = w.worker ORDER BY j.started_at DESC NULLS LAST LIMIT 1) AS last_job
       FROM worker_ping w ${since !== undefined ? `WHERE w.ping_at > clock_timestamp() - ($1 || ' seconds')::interval` : ''} ORDER BY w.worker`,
      since !== undefined ? [String(since)] : [],
    );
    return json(
      paged(ctx, rows.map((w) => {
        const [lastId, lastWs] = p.superAdmin && w.last_job ? String(w.last_job).split(' ') : [null, null];
        return {
          worker: w.worker,
          worker_instance: w.worker_instance,
          worker_group: w.worker_group,
          custom_tags: w.custom_tags ?? undefined,
          started_at: new Date(w.started_at).toISOString(),
          last_ping: Math.floor(Number(w.ago)),
          jobs_executed: Number(w.executed),
          last_job_id: lastId,
          last_job_workspace_id: lastWs,
          occupancy_rate: null,
          occupancy_rate_15s: null,
          occupancy_rate_5m: null,
          occupancy_rate_30m: null,
          wm_version: 'CE v1.819.0',
        };
      })),
    );
  }
  if (rest === 'configs/list_worker_groups') {
    const rows = await db.query<{ g: string }>(`SELECT DISTINCT worker_group AS g FROM worker_ping ORDER BY 1`);
    const stored = await db.query<{ key: string; value: string }>(`SELECT key, value FROM instance WHERE key LIKE 'worker_group:%'`);
    const configs = new Map(stored.map((s0) => [s0.key.slice('worker_group:'.length), JSON.parse(s0.value) as unknown]));
    const names = [...new Set(['default', ...rows.map((r0) => r0.g), ...configs.keys()])].sort();
    return json(names.map((name) => ({ name, config: configs.get(name) ?? {} })));
  }
  return undefined;
}

/** Record this process's worker in the registry now and every few seconds; stop() removes it. */
export function startWorkerPings(db: Db, w: { worker: string; tags?: string[]; everyMs?: number }): { stop(): Promise<void> } {
  const ping = () =>
    db.query(
      `INSERT INTO worker_ping (worker, worker_instance, worker_group, custom_tags) VALUES ($1, $2, 'default', $3::json)
       ON CONFLICT (worker) DO UPDATE SET ping_at = clock_timestamp(), custom_tags = EXCLUDED.custom_tags`,
      [w.worker, hostname(), w.tags ? JSON.stringify(w.tags) : null],
    );
  const first = ping().catch(() => undefined);
  const timer = setInterval(() => void ping().catch(() => undefined), w.everyMs ?? 5000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await first;
      await db.query(`DELETE FROM worker_ping WHERE worker = $1`, [w.worker]).catch(() => undefined);
    },
  };
}
