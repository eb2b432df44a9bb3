/**
 * Jobs over HTTP (spec/windmill-server.md §2.6): run a deployed script by path (resolved to
 * its head at submission, so a queued job keeps its version) or by hash, run a preview of
 * posted code, wait for a result, poll results/updates/logs, list and cancel. Ids come back
 * as text/plain with 201. A webhook is the same endpoints called with a token in the query.
 */
import { isFinal, type JobRecord, type JobSpec } from '../runner/types.js';
import { jobView } from '../runner/job-api.js';
import type { Language } from '../workspace/languages.js';
import { LANGUAGES } from '../workspace/languages.js';
import type { Sql } from './db/db.js';
import type { Env } from './env.js';
import { badRequest, boolParam, checkItemPath, forbidden, json, notFound, text, type Ctx, type Router, HttpError } from './http.js';
import { MAX_DATE_MS } from '../util/query.js';
import { parseJsonText } from '../util/data-file.js';
import { checkHash } from './scripts.js';
import { flowAtPath, scriptAtHash, scriptAtPath, type DeployedFlow } from './runnables.js';
import { accessTo, can, canSeeJob, requireAccess, scopeOf, visibleJobsSql } from './access.js';
import { flowStatusOf } from '../runner/flow/status.js';
import { applyInputDefaults, validateFlow, type FlowValue } from '../items/flow-schema.js';
import { checkResumable, recordResume, ResumeError, resumeSignature, resumeUrlsFor, stepApprovalUrlsFor } from '../runner/flow/resume.js';
import { approvalResumeId, inlineCheckpoint } from '../runner/wac/rounds.js';
import { dependencyArgs } from './dependencies.js';
import { DEFAULT_PER_PAGE, pageWindow } from './paging.js';

function argsOf(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw badRequest('the arguments must be a JSON object');
  return body as Record<string, unknown>;
}

function scheduledFor(c: Ctx): string | undefined {
  const at = c.q.date('scheduled_for');
  if (at) return at.toISOString();
  // At most up to the last date the APIs accept (year 9999).
  const inS = c.q.number('scheduled_in_secs', { min: 0, max: Math.floor((MAX_DATE_MS - Date.now()) / 1000) });
  return inS === undefined ? undefined : new Date(Date.now() + inS * 1000).toISOString();
}

/** The job spec that runs script version `row` with `args`, as `e.p`. */
export function scriptJobSpec(ws: string, row: Record<string, any>, args: Record<string, unknown>, by: string, extra: Partial<JobSpec> = {}): JobSpec {
  const settings = (row.settings ?? {}) as Record<string, any>;
  return {
    workspace: ws,
    kind: 'script',
    path: row.path,
    language: row.language as Language,
    content: row.content,
    args,
    scriptHash: row.hash,
    ...(typeof settings.timeout === 'number' ? { timeoutS: settings.timeout } : {}),
    ...(typeof settings.tag === 'string' ? { tag: settings.tag } : {}),
    ...(typeof settings.priority === 'number' ? { priority: settings.priority } : {}),
    createdBy: by,
    permissionedAs: `u/${by}`,
    ...extra,
  };
}

async function resolvePath(q: Sql, e: Env, ws: string, path: string) {
  await requireAccess(q, ws, e.p, path, 'run', 'Script');
  const row = await scriptAtPath(q, ws, path);
  if (!row) throw notFound(`Script '${path}' not found`);
  return row;
}

async function resolveHash(q: Sql, e: Env, ws: string, hash: string) {
  const row = await scriptAtHash(q, ws, checkHash(hash));
  if (!row) throw notFound(`Script with hash ${hash} not found`);
  // A hash the caller may not run is not found either (it would name the path).
  if (!(await can(q, ws, e.p, row.path, 'run'))) throw notFound(`Script with hash ${hash} not found`);
  return row;
}

async function previewSpec(c: Ctx, e: Env, body: Record<string, any>): Promise<JobSpec> {
  if (typeof body.content !== 'string') throw badRequest('preview: content must be a string');
  if (typeof body.language !== 'string' || !(LANGUAGES as readonly string[]).includes(body.language)) {
    throw badRequest(`preview: unknown language ${JSON.stringify(body.language)}`);
  }
  const path = body.path ? checkItemPath(body.path) : `u/${e.p.username}/preview`;
  if (e.p.operator) throw forbidden('operators cannot run previews');
  // Seconds; at most what a timer can wait (2^31 - 1 ms).
  const timeout = c.q.number('timeout', { min: 0.001, max: 2_147_483 });
  return {
    workspace: c.ws,
    kind: 'preview',
    path,
    language: body.language as Language,
    content: body.content,
    args: argsOf(body.args),
    ...(typeof body.tag === 'string' ? { tag: body.tag } : {}),
    ...(timeout !== undefined ? { timeoutS: timeout } : {}),
    createdBy: e.p.username,
    permissionedAs: `u/${e.p.username}`,
  };
}

async function waitResult(e: Env, id: string): Promise<{ status: number; json: unknown }> {
  const j = await e.engine.wait(id);
  if (j.status === 'success') return { status: 200, json: j.result ?? null };
  // The request was fine; the job failed: 422 with the job's error (never a 500).
  return { status: 422, json: j.result ?? null };
}

/** The job, if the caller may see it (access.ts canSeeJob); 404 alike whether it does not exist or is not theirs to see. */
async function getJobIn(e: Env, ws: string, id: string): Promise<JobRecord> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw badRequest(`invalid job id "${id}"`);
  const j = await e.store.getJob(id);
  if (!j || j.workspace !== ws || !(await canSeeJob(e.db, ws, e.p, j))) throw notFound(`Job ${id} not found`);
  return j;
}

/** `?parent_job=` / `?root_job=` (what the SDKs send when a job starts another): jobs of this workspace. */
async function lineage(c: Ctx, e: Env): Promise<Partial<JobSpec>> {
  const out: Partial<JobSpec> = {};
  const parent = c.query.get('parent_job');
  const root = c.query.get('root_job');
  if (parent) out.parentJob = (await getJobIn(e, c.ws, parent)).id;
  if (root) out.rootJob = (await getJobIn(e, c.ws, root)).id;
  return out;
}

/** The outermost job of `j`'s chain of parents (flows, iterations, jobs started by jobs). */
async function rootOf(e: Env, j: JobRecord): Promise<string> {
  if (j.rootJob) return j.rootJob;
  let cur = j;
  for (let depth = 0; cur.parentJob && depth < 100; depth++) {
    const up = await e.store.getJob(cur.parentJob);
    if (!up || up.workspace !== j.workspace) break;
    cur = up;
  }
  return cur.id;
}

/** Who may change a job's progress or a flow's user state: its owner, or an admin. */
function requireOwner(e: Env, j: JobRecord, what: string): void {
  if (!e.p.isAdmin && j.createdBy !== e.p.username) throw forbidden(`${e.p.username} cannot ${what} of job ${j.id}`);
}

function view(j: JobRecord, logs?: string) {
  const v = jobView(j, logs) as Record<string, unknown>;
  if (j.kind === 'flow' || j.kind === 'flowpreview') {
    v.flow_status = flowStatusOf(j.flow as FlowValue | undefined, j.flowState) ?? null;
    v.raw_flow = j.flow ?? null;
  }
  if (j.parentJob) v.parent_job = j.parentJob;
  return v;
}

/** The job spec that runs deployed flow `f` with `args` (schema defaults applied), as `by`. */
export function flowJobSpec(ws: string, f: DeployedFlow, args: Record<string, unknown>, by: string, extra: Partial<JobSpec> = {}): JobSpec {
  return { workspace: ws, kind: 'flow', path: f.path, language: 'flow' as Language, content: '', flow: f.value, args: applyInputDefaults(f.schema, args), createdBy: by, permissionedAs: `u/${by}`, ...extra };
}

async function flowJob(c: Ctx, e: Env, path: string, args: Record<string, unknown>): Promise<JobSpec> {
  const p = checkItemPath(path);
  await requireAccess(e.db, c.ws, e.p, p, 'run', 'Flow');
  const f = await flowAtPath(e.db, c.ws, p);
  if (!f) throw notFound(`Flow '${p}' not found`);
  return flowJobSpec(c.ws, f, args, e.p.username, { scheduledFor: scheduledFor(c) });
}

export function registerJobs(r: Router<Env>): void {
  const submit = async (e: Env, spec: JobSpec) => {
    if (spec.flow !== undefined) {
      try {
        validateFlow(spec.flow, `flow ${spec.path}`);
      } catch (err) {
        throw badRequest((err as Error).message);
      }
    }
    return e.engine.submit(spec);
  };

  r.post('jobs/run/f/(.+)', async (c, e) => text(await submit(e, { ...(await flowJob(c, e, c.params[0]!, argsOf(await c.body()))), ...(await lineage(c, e)) }), 201));
  r.post('jobs/run_wait_result/f/(.+)', async (c, e) => waitResult(e, await submit(e, await flowJob(c, e, c.params[0]!, argsOf(await c.body())))));
  r.post('jobs/run/preview_flow', async (c, e) => {
    const b = await c.obj();
    if (e.p.operator) throw forbidden('operators cannot run previews');
    const path = b.path ? checkItemPath(b.path) : `u/${e.p.username}/flow_preview`;
    return text(await submit(e, { workspace: c.ws, kind: 'flowpreview', path, language: 'flow' as Language, content: '', flow: b.value, args: argsOf(b.args), createdBy: e.p.username, permissionedAs: `u/${e.p.username}` }), 201);
  });

  // Approvals: signed URLs, no token needed (the signature is the credential).
  const resume = (approved: boolean) => async (c: Ctx, e: Env) => {
    let payload: unknown = null;
    if (c.method === 'GET') {
      const p = c.query.get('payload');
      if (p) {
        const parsed = parseJsonText(Buffer.from(p, 'base64').toString('utf8'));
        if ('error' in parsed) throw badRequest(`payload must be base64 of JSON (${parsed.error})`);
        payload = parsed.value;
      }
    } else payload = (await c.body()) ?? null;
    try {
      await recordResume(e.store, await e.store.workspaceKey(c.ws), c.ws, {
        jobId: c.params[0]!, resumeId: c.params[1]!, signature: c.params[2]!, approver: c.query.get('approver') ?? undefined, approved, payload,
      });
    } catch (err) {
      if (err instanceof ResumeError) throw new HttpError(err.status, err.message);
      throw err;
    }
    await e.store.wake(c.params[0]!);
    e.engine.poke();
    return text(approved ? `Job ${c.params[0]} resumed` : `Job ${c.params[0]} canceled`, 201);
  };
  r.post('jobs_u/resume/([^/]+)/([^/]+)/([^/]+)', resume(true));
  r.get('jobs_u/resume/([^/]+)/([^/]+)/([^/]+)', resume(true));
  r.post('jobs_u/cancel/([^/]+)/([^/]+)/([^/]+)', resume(false));
  r.get('jobs_u/cancel/([^/]+)/([^/]+)/([^/]+)', resume(false));
  r.post('jobs/wac/inline_checkpoint/([^/]+)', async (c, e) => {
    const id = c.params[0]!;
    if (e.p.jobId !== id && !e.p.isAdmin) throw forbidden('a job can only checkpoint its own steps');
    // A job's own token was checked against this workspace and a running job when it was read.
    if (e.p.jobId !== id) await getJobIn(e, c.ws, id);
    try {
      return json(await inlineCheckpoint(e.store, id, await c.obj()));
    } catch (err) {
      throw badRequest((err as Error).message);
    }
  });
  r.get('jobs/wac_approval_urls/([^/]+)/([^/]+)', async (c, e) => {
    const j = await getJobIn(e, c.ws, c.params[0]!);
    const target = j.parentJob && j.wacKey ? j.parentJob : j.id;
    return json(stepApprovalUrlsFor(e.baseUrl, c.ws, await e.store.workspaceKey(c.ws), target, c.params[1]!, c.query.get('approver') ?? undefined));
  });
  // Resume a suspended flow or workflow as an authenticated user (what `wmill job resume` calls).
  r.post('jobs/flow/resume/([^/]+)', async (c, e) => {
    const j = await getJobIn(e, c.ws, c.params[0]!);
    if (!e.p.isAdmin && j.createdBy !== e.p.username) throw forbidden(`${e.p.username} cannot resume job ${j.id}`);
    const b = await c.obj();
    const waitingKey = (j.wacState?.pending_steps?.mode === 'approval' ? j.wacState.pending_steps.keys?.[0] : undefined) as string | undefined;
    const rid = waitingKey ? approvalResumeId(waitingKey) : Math.floor(Math.random() * 2 ** 31);
    let ok: boolean;
    try {
      ok = await e.store.addResume(j.id, { resumeId: rid, approved: b.approved !== false, payload: b.payload ?? null, approver: e.p.username }, (job, events) => {
        if (job) checkResumable(job, events);
      });
    } catch (err) {
      if (err instanceof ResumeError) throw new HttpError(err.status, err.message);
      throw err;
    }
    if (!ok) throw badRequest('resume request already sent');
    await e.store.wake(j.id);
    e.engine.poke();
    return text(`Job ${j.id} ${b.approved === false ? 'rejected' : 'resumed'}`, 201);
  });
  r.get('jobs/resume_urls/([^/]+)/([0-9]+)', async (c, e) => {
    const j = await getJobIn(e, c.ws, c.params[0]!);
    const target = j.parentJob ?? j.id;
    return json(resumeUrlsFor(e.baseUrl, c.ws, await e.store.workspaceKey(c.ws), target, Number(c.params[1]), c.query.get('approver') ?? undefined));
  });
  r.get('jobs/job_signature/([^/]+)/([0-9]+)', async (c, e) => {
    const j = await getJobIn(e, c.ws, c.params[0]!);
    return text(resumeSignature(await e.store.workspaceKey(c.ws), j.id, Number(c.params[1]), c.query.get('approver') ?? undefined));
  });

  r.post('jobs/run/p/(.+)', async (c, e) => {
    const row = await resolvePath(e.db, e, c.ws, c.params[0]!);
    const id = await submit(e, scriptJobSpec(c.ws, row, argsOf(await c.body()), e.p.username, { scheduledFor: scheduledFor(c), ...(c.query.get('tag') ? { tag: c.query.get('tag')! } : {}), ...(await lineage(c, e)) }));
    return text(id, 201);
  });
  r.post('jobs/run/h/([^/]+)', async (c, e) => {
    const row = await resolveHash(e.db, e, c.ws, c.params[0]!);
    const id = await submit(e, scriptJobSpec(c.ws, row, argsOf(await c.body()), e.p.username, { scheduledFor: scheduledFor(c), ...(await lineage(c, e)) }));
    return text(id, 201);
  });
  r.post('jobs/run/preview', async (c, e) => text(await submit(e, await previewSpec(c, e, await c.obj())), 201));

  const payloadArgs = (c: Ctx) => {
    const p = c.query.get('payload');
    if (!p) return {};
    const parsed = parseJsonText(Buffer.from(p, 'base64').toString('utf8'));
    if ('error' in parsed) throw badRequest(`payload must be base64 of a JSON object (${parsed.error})`);
    return argsOf(parsed.value);
  };
  const waitP = async (c: Ctx, e: Env, args: Record<string, unknown>) => {
    const row = await resolvePath(e.db, e, c.ws, c.params[0]!);
    return waitResult(e, await submit(e, scriptJobSpec(c.ws, row, args, e.p.username)));
  };
  const waitH = async (c: Ctx, e: Env, args: Record<string, unknown>) => {
    const row = await resolveHash(e.db, e, c.ws, c.params[0]!);
    return waitResult(e, await submit(e, scriptJobSpec(c.ws, row, args, e.p.username)));
  };
  r.post('jobs/run_wait_result/p/(.+)', async (c, e) => waitP(c, e, argsOf(await c.body())));
  r.get('jobs/run_wait_result/p/(.+)', async (c, e) => waitP(c, e, payloadArgs(c)));
  r.post('jobs/run_wait_result/h/([^/]+)', async (c, e) => waitH(c, e, argsOf(await c.body())));
  r.get('jobs/run_wait_result/h/([^/]+)', async (c, e) => waitH(c, e, payloadArgs(c)));
  r.post('jobs/run_wait_result/preview', async (c, e) => waitResult(e, await submit(e, await previewSpec(c, e, await c.obj()))));

  r.post('jobs/run/dependencies_async', async (c, e) => {
    if (e.p.operator) throw forbidden('operators cannot resolve dependencies');
    const b = await c.obj();
    const raw = Array.isArray(b.raw_scripts) ? b.raw_scripts[0] : undefined;
    if (!raw || typeof raw.raw_code !== 'string' || typeof raw.language !== 'string') throw badRequest('raw_scripts[0] with raw_code and language is required');
    const id = await submit(e, {
      workspace: c.ws,
      kind: 'dependencies',
      path: typeof raw.script_path === 'string' ? raw.script_path : `u/${e.p.username}/dependencies`,
      language: raw.language as Language,
      content: raw.raw_code,
      args: dependencyArgs(b),
      createdBy: e.p.username,
      permissionedAs: `u/${e.p.username}`,
    });
    return text(id, 201);
  });

  r.get('jobs_u/completed/get_result_maybe/([^/]+)', async (c, e) => {
    const j = await getJobIn(e, c.ws, c.params[0]!);
    if (!isFinal(j.status)) return json({ completed: false, result: null, started: j.status === 'running' });
    return json({ completed: true, result: j.result ?? null, success: j.status === 'success', started: true });
  });
  r.get('jobs_u/completed/get_result/([^/]+)', async (c, e) => {
    const j = await getJobIn(e, c.ws, c.params[0]!);
    if (!isFinal(j.status)) throw notFound(`Job ${j.id} is not completed yet`);
    return json(j.result ?? null);
  });
  r.get('jobs_u/completed/get/([^/]+)', async (c, e) => {
    const j = await getJobIn(e, c.ws, c.params[0]!);
    if (!isFinal(j.status)) throw notFound(`Completed job ${j.id} not found`);
    return json(view(j, (await e.store.getLogs(j.id)).logs));
  });
  r.get('jobs_u/get/([^/]+)', async (c, e) => {
    const j = await getJobIn(e, c.ws, c.params[0]!);
    return json(view(j, boolParam(c.query, 'no_logs') ? undefined : (await e.store.getLogs(j.id)).logs));
  });
  r.get('jobs_u/get_logs/([^/]+)', async (c, e) => {
    const j = await getJobIn(e, c.ws, c.params[0]!);
    return text((await e.store.getLogs(j.id)).logs);
  });
  r.get('jobs_u/getupdate/([^/]+)', async (c, e) => {
    const j = await getJobIn(e, c.ws, c.params[0]!);
    const offset = c.q.int('log_offset', { dflt: 0, min: 0 });
    const logs = boolParam(c.query, 'no_logs') ? { logs: undefined, offset } : await e.store.getLogs(j.id, offset);
    const progress = boolParam(c.query, 'get_progress') ? { progress: await e.store.getProgress(j.id) } : {};
    return json({ running: j.status === 'running', completed: isFinal(j.status), new_logs: logs.logs, log_offset: logs.offset, ...progress });
  });
  r.get('jobs_u/get_root_job_id/([^/]+)', async (c, e) => json(await rootOf(e, await getJobIn(e, c.ws, c.params[0]!))));
  // Progress (what the SDKs' setProgress/getProgress call): 0-99, never going back.
  r.post('job_metrics/set_progress/([^/]+)', async (c, e) => {
    const j = await getJobIn(e, c.ws, c.params[0]!);
    requireOwner(e, j, 'set the progress');
    const b = await c.obj();
    const percent = Number(b.percent);
    if (typeof b.percent !== 'number' || !Number.isFinite(percent)) throw badRequest('percent must be a number');
    await e.store.setProgress(j.id, percent);
    return text(`progress of job ${j.id} set`);
  });
  r.get('job_metrics/get_progress/([^/]+)', async (c, e) => json(await e.store.getProgress((await getJobIn(e, c.ws, c.params[0]!)).id)));
  // Flow user states, kept on the flow job (the SDKs pass the root flow job).
  const flowOf = async (c: Ctx, e: Env) => {
    const j = await getJobIn(e, c.ws, c.params[0]!).catch(() => undefined);
    if (!j || (j.kind !== 'flow' && j.kind !== 'flowpreview')) throw notFound(`Job ${c.params[0]} does not exist or is not a flow`);
    return j;
  };
  r.get('jobs/flow/user_states/([^/]+)/(.+)', async (c, e) => {
    const v = await e.store.getFlowUserState((await flowOf(c, e)).id, c.params[1]!);
    return json(v === undefined ? null : v);
  });
  r.post('jobs/flow/user_states/([^/]+)/(.+)', async (c, e) => {
    const j = await flowOf(c, e);
    requireOwner(e, j, 'set the user state');
    await e.store.setFlowUserState(j.id, c.params[1]!, (await c.body()) ?? null);
    return text(`flow user state ${c.params[1]} set`);
  });
  const cancel = async (c: Ctx, e: Env) => {
    const j = await getJobIn(e, c.ws, c.params[0]!);
    const b = await c.obj();
    if (!e.p.isAdmin && j.createdBy !== e.p.username && (await accessTo(e.db, c.ws, e.p, j.path)) !== 'write') {
      throw forbidden(`${e.p.username} is not allowed to cancel job ${j.id}`);
    }
    const ok = await e.engine.cancel(j.id, e.p.username, typeof b.reason === 'string' ? b.reason : undefined);
    if (!ok) throw badRequest(`Job ${j.id} is already completed`);
    return text(j.id);
  };
  r.post('jobs_u/queue/cancel/([^/]+)', cancel);
  r.post('jobs_u/queue/force_cancel/([^/]+)', cancel);

  const list = async (c: Ctx, e: Env, which: 'queue' | 'completed' | 'all') => {
    // `all_workspaces=true` (the real CLI's `queues`): every workspace's jobs, for super admins only.
    const everywhere = c.q.bool('all_workspaces') && e.p.superAdmin && !e.p.jobId;
    const where: string[] = [everywhere ? '$1::text IS NOT NULL' : 'workspace_id = $1'];
    const params: unknown[] = [c.ws];
    if (!everywhere) where.push(visibleJobsSql(await scopeOf(e.db, c.ws, e.p), params));
    const add = (sql: string, v: unknown) => {
      params.push(v);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (which === 'queue') where.push(`status IN ('queued','running')`);
    if (which === 'completed') where.push(`status IN ('success','failure','canceled')`);
    const kinds = c.query.get('job_kinds');
    if (kinds) add('kind = ANY(?::text[])', kinds.split(','));
    const after = c.q.date('created_after');
    if (after) add('created_at > ?::timestamptz', after.toISOString());
    const success = c.q.optBool('success');
    if (success === true) where.push(`status = 'success'`);
    if (success === false) where.push(`status IN ('failure','canceled')`);
    const exact = c.query.get('script_path_exact');
    if (exact) add('path = ?', exact);
    const by = c.query.get('created_by');
    if (by) add('created_by = ?', by);
    const before = c.q.date('created_before');
    if (before) add('created_at < ?::timestamptz', before.toISOString());
    const running = c.q.optBool('running');
    if (running === true) where.push(`status = 'running'`);
    if (running === false && which === 'queue') where.push(`status = 'queued'`);
    const status = c.query.get('status');
    if (status) add('status = ?', status);
    // Paged as the other lists (page 0 is the first page), 1000 a page by default.
    const w = pageWindow(c) ?? { limit: DEFAULT_PER_PAGE, offset: 0 };
    const rows = await e.db.query(
      `SELECT id FROM job WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ${w.limit} OFFSET ${w.offset}`,
      params,
    );
    const out = [];
    for (const { id } of rows) {
      const j = await e.store.getJob(id);
      if (j) out.push(view(j));
    }
    return json(out);
  };
  r.get('jobs/queue/list', (c, e) => list(c, e, 'queue'));
  r.get('jobs/completed/list', (c, e) => list(c, e, 'completed'));
  r.get('jobs/list', (c, e) => list(c, e, 'all'));
  r.get('jobs/queue/count', async (c, e) => {
    const params: unknown[] = [c.ws];
    const visible = visibleJobsSql(await scopeOf(e.db, c.ws, e.p), params);
    const [x] = await e.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM job WHERE workspace_id = $1 AND status IN ('queued','running') AND ${visible}`, params);
    return json({ database_length: x!.n });
  });
  r.get('jobs/queue/position/([0-9]+)', async (c, e) => {
    const [x] = await e.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM job WHERE status = 'queued' AND scheduled_for <= to_timestamp($1::double precision / 1000)`, [Number(c.params[0])]);
    return json({ position: x!.n });
  });
}
