/**
 * The engine's Store on SQL (PGlite or PostgreSQL): what `wmill serve` and `wmill worker`
 * share. The pull is one statement (`FOR UPDATE SKIP LOCKED`, priority then scheduled time,
 * spec/windmill-server.md §5.4); completion is conditional on the job not being final yet, so
 * a job completes exactly once even when a presumed-dead worker comes back; heartbeats feed the
 * sweep that re-queues the jobs of dead workers.
 */
import type { JobPatch, ResumeEvent, Store } from '../../runner/store.js';
import type { JobRecord, ResourceRecord, VariableRecord } from '../../runner/types.js';
import { decryptSecret, encryptSecret } from '../../items/secrets.js';
import type { Db, Sql } from './db.js';

const iso = (v: unknown): string | undefined => (v == null ? undefined : v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString());

/** A workflow's checkpoint with its step() rows merged in (what rounds and children recorded wins). */
function withSteps(state: Record<string, any> | null, steps: Record<string, unknown> | null): Record<string, any> {
  const st = { ...(state ?? {}) };
  if (steps) st.completed_steps = { ...steps, ...(st.completed_steps ?? {}) };
  return st;
}

const WAC_STEPS = '(SELECT json_object_agg(s.key, s.value) FROM wac_step s WHERE s.job_id = job.id) AS wac_steps';

/** A claimable job, and what claiming it sets ($1: the worker). */
const DUE = `status = 'queued' AND NOT cancel_requested
  AND ((suspend <= 0 AND scheduled_for <= clock_timestamp()) OR (suspend > 0 AND suspend_until <= clock_timestamp()))`;
/** A worker listening to the tags in parameter `p` (null: every job) takes the job; untagged is `default`. */
const TAGGED = (p: string) => `(${p}::text[] IS NULL OR COALESCE(tag, 'default') = ANY(${p}::text[]))`;
const CLAIM_SET = `status = 'running', started_at = COALESCE(started_at, clock_timestamp()), worker = $1, ping = clock_timestamp(), runs = runs + 1, suspend = 0`;

export function rowToJob(r: Record<string, any>): JobRecord {
  const spec = (r.spec ?? {}) as Record<string, any>;
  return {
    id: r.id,
    workspace: r.workspace_id,
    kind: r.kind,
    path: r.path,
    language: r.language,
    content: r.content,
    args: r.args ?? {},
    ...(spec.file ? { file: spec.file } : {}),
    ...(spec.root ? { root: spec.root } : {}),
    ...(spec.argNames ? { argNames: spec.argNames } : {}),
    ...(spec.timeoutS != null ? { timeoutS: spec.timeoutS } : {}),
    ...(spec.env ? { env: spec.env } : {}),
    ...(spec.parentJob ? { parentJob: spec.parentJob } : {}),
    ...(spec.flowStepId ? { flowStepId: spec.flowStepId } : {}),
    ...(spec.rootJob ? { rootJob: spec.rootJob } : {}),
    ...(spec.flow ? { flow: spec.flow } : {}),
    ...(spec.flowScope ? { flowScope: spec.flowScope } : {}),
    ...(r.flow_status ? { flowState: r.flow_status } : {}),
    ...(r.wac_status || r.wac_steps ? { wacState: withSteps(r.wac_status, r.wac_steps) } : {}),
    ...(spec.wacKey ? { wacKey: spec.wacKey } : {}),
    ...(spec.cache ? { cache: spec.cache } : {}),
    ...(spec.concurrency ? { concurrency: spec.concurrency } : {}),
    ...(r.suspend ? { suspend: r.suspend } : {}),
    ...(r.suspend_until ? { suspendUntil: iso(r.suspend_until) } : {}),
    createdBy: r.created_by,
    permissionedAs: r.permissioned_as,
    ...(r.tag ? { tag: r.tag } : {}),
    ...(r.script_hash ? { scriptHash: r.script_hash } : {}),
    scheduledFor: iso(r.scheduled_for),
    ...(r.schedule_path ? { schedulePath: r.schedule_path } : {}),
    ...(r.priority != null ? { priority: r.priority } : {}),
    status: r.status,
    created_at: iso(r.created_at)!,
    ...(r.started_at ? { started_at: iso(r.started_at) } : {}),
    ...(r.completed_at ? { completed_at: iso(r.completed_at) } : {}),
    ...(r.duration_ms != null ? { duration_ms: Number(r.duration_ms) } : {}),
    ...(r.result !== null && r.result !== undefined ? { result: r.result } : r.completed_at ? { result: null } : {}),
    ...(r.canceled_by ? { canceled_by: r.canceled_by } : {}),
    ...(r.canceled_reason ? { canceled_reason: r.canceled_reason } : {}),
    ...(r.cancel_requested ? { cancel_requested: true } : {}),
    ...(r.worker ? { worker: r.worker } : {}),
  };
}

const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));

/**
 * NOTIFY channels (PostgreSQL): a job became claimable (payload empty), a job became final
 * (payload: its id). Sent in the writing transaction, so they arrive after the commit.
 */
export const QUEUED_CHANNEL = 'wmill_job_queued';
export const DONE_CHANNEL = 'wmill_job_done';

/** Insert a job row through `q` (a transaction when the caller needs atomicity with other writes). */
export async function insertJobRow(q: Sql, job: JobRecord): Promise<void> {
  const spec = { file: job.file, root: job.root, argNames: job.argNames, timeoutS: job.timeoutS, env: job.env, parentJob: job.parentJob, flowStepId: job.flowStepId, rootJob: job.rootJob, flow: job.flow, flowScope: job.flowScope, wacKey: job.wacKey, cache: job.cache, concurrency: job.concurrency };
  // The job and its (empty) logs row in one statement; a queued job wakes the workers that
  // LISTEN (same statement: no extra round trip).
  await q.query(
    `WITH j AS (INSERT INTO job (id, workspace_id, kind, path, language, content, script_hash, args, spec, created_at, created_by,
       permissioned_as, tag, scheduled_for, schedule_path, priority, status, wac_status, concurrency_key)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8::json,$9::json,$10,$11,$12,$13,COALESCE($14::timestamptz, clock_timestamp()),$15,$16,$17,$18::json,$19)
     RETURNING id)
     INSERT INTO job_logs (job_id) SELECT id FROM j${job.status === 'queued' ? ` RETURNING pg_notify('${QUEUED_CHANNEL}', '')` : ''}`,
    [
      job.id,
      job.workspace,
      job.kind,
      job.path,
      job.language,
      job.content,
      job.scriptHash ?? null,
      json(job.args ?? {}),
      json(spec),
      job.created_at,
      job.createdBy ?? 'unknown',
      job.permissionedAs ?? 'u/unknown',
      job.tag ?? null,
      job.scheduledFor ?? null,
      job.schedulePath ?? null,
      job.priority ?? null,
      job.status,
      job.wacState ? JSON.stringify(job.wacState) : null,
      job.concurrency?.key ?? null,
    ],
  );
}

const PATCH_COLUMNS: Record<keyof JobPatch, string> = {
  status: 'status',
  started_at: 'started_at',
  completed_at: 'completed_at',
  duration_ms: 'duration_ms',
  result: 'result',
  canceled_by: 'canceled_by',
  canceled_reason: 'canceled_reason',
  cancel_requested: 'cancel_requested',
  worker: 'worker',
  flowState: 'flow_status',
  flow: 'spec',
};

function patchSql(patch: JobPatch, first: number): { sets: string[]; values: unknown[] } {
  const sets: string[] = [];
  const values: unknown[] = [];
  for (const [k, v] of Object.entries(patch) as [keyof JobPatch, unknown][]) {
    if (v === undefined) continue;
    const col = PATCH_COLUMNS[k];
    if (k === 'flow') {
      // The flow a job runs lives in its spec document: replace that key only.
      values.push(json(v));
      sets.push(`spec = (COALESCE(spec::jsonb, '{}'::jsonb) || jsonb_build_object('flow', $${first + values.length - 1}::jsonb))::json`);
      continue;
    }
    const isJson = k === 'result' || k === 'flowState';
    values.push(isJson ? json(v) : v);
    sets.push(`${col} = $${first + values.length - 1}${isJson ? '::json' : ''}`);
  }
  return { sets, values };
}

/** Make job `id` final through `q` unless it already is; whether this call did. */
async function completeRow(q: Sql, id: string, patch: JobPatch): Promise<boolean> {
  const { sets, values } = patchSql(patch, 2);
  const rows = await q.query(
    `UPDATE job SET ${sets.join(', ')} WHERE id = $1 AND status IN ('queued', 'running') RETURNING id, pg_notify('${DONE_CHANNEL}', id::text)`,
    [id, ...values],
  );
  return rows.length > 0;
}

/** Store.childDone through `q`, a transaction (the parent row is locked until it ends). */
async function childDoneIn(q: Sql, kind: Db['kind'], parentId: string, key: string, childId: string, value: unknown): Promise<boolean> {
  const [r] = await q.query(`SELECT status, suspend, wac_status FROM job WHERE id = $1 FOR UPDATE`, [parentId]);
  const st = r?.wac_status as Record<string, any> | null;
  if (!r || !st || !['queued', 'running'].includes(r.status) || st.pending_steps?.job_ids?.[key] !== childId) return false;
  st.completed_steps ??= {};
  if (key in st.completed_steps) return false;
  st.completed_steps[key] = value ?? null;
  const suspend = Math.max(0, Number(r.suspend) - 1);
  if (suspend === 0) delete st.pending_steps;
  await q.query(`UPDATE job SET suspend = $2, wac_status = $3::json WHERE id = $1`, [parentId, suspend, json(st)]);
  if (suspend === 0 && kind === 'postgres') await q.query(`SELECT pg_notify('${QUEUED_CHANNEL}', '')`);
  return suspend === 0;
}

export class SqlStore implements Store {
  /** Workspace encryption keys, read once per workspace. */
  private keys = new Map<string, string>();

  constructor(readonly db: Db) {}

  async insertJob(job: JobRecord): Promise<void> {
    await insertJobRow(this.db, job);
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
    const [r] = await this.db.query(`SELECT job.*, ${WAC_STEPS} FROM job WHERE id = $1`, [id]);
    return r ? rowToJob(r) : undefined;
  }

  async claimNext(worker: string): Promise<JobRecord | undefined> {
    return (await this.claim(worker, 1)).jobs[0];
  }

  async claimById(worker: string, id: string, tags?: string[]): Promise<JobRecord | undefined> {
    // Not while a due job of a higher priority waits for this worker: the queue order decides.
    const [r] = await this.db.query(
      `UPDATE job SET ${CLAIM_SET} WHERE id = $2 AND ${DUE} AND ${TAGGED('$3')}
         AND NOT EXISTS (SELECT 1 FROM job o WHERE o.status = 'queued' AND o.priority > COALESCE(job.priority, -2147483648)
           AND NOT o.cancel_requested AND ((o.suspend <= 0 AND o.scheduled_for <= clock_timestamp()) OR (o.suspend > 0 AND o.suspend_until <= clock_timestamp()))
           AND ($3::text[] IS NULL OR COALESCE(o.tag, 'default') = ANY($3::text[])))
       RETURNING *, ${WAC_STEPS}`,
      [worker, id, tags ?? null],
    );
    return r ? rowToJob(r) : undefined;
  }

  async claim(worker: string, limit: number, tags?: string[]): Promise<{ jobs: JobRecord[]; more: boolean }> {
    const due = `${DUE} AND ${TAGGED('$3')}`;
    // \`due\` counts, in the statement's snapshot, the due jobs up to one past the limit (the
    // ones taken here included): no more than were taken means the queue is drained.
    const rows = await this.db.query(
      `UPDATE job SET ${CLAIM_SET}
       WHERE id IN (
         SELECT id FROM job WHERE ${due}
         ORDER BY priority DESC NULLS LAST, scheduled_for, created_at
         FOR UPDATE SKIP LOCKED LIMIT $2)
       RETURNING *, ${WAC_STEPS}, (SELECT count(*) FROM (SELECT 1 FROM job WHERE ${due} LIMIT $2 + 1) d)::int AS due`,
      [worker, limit, tags ?? null],
    );
    const jobs = rows
      .map(rowToJob)
      .sort((a, b) => (b.priority ?? -Infinity) - (a.priority ?? -Infinity) || String(a.scheduledFor ?? '').localeCompare(String(b.scheduledFor ?? '')) || a.created_at.localeCompare(b.created_at));
    return { jobs, more: rows.length > 0 && Number(rows[0]!.due) > rows.length };
  }

  async updateJob(id: string, patch: JobPatch): Promise<void> {
    const { sets, values } = patchSql(patch, 2);
    if (!sets.length) return;
    await this.db.query(`UPDATE job SET ${sets.join(', ')} WHERE id = $1`, [id, ...values]);
  }

  async completeJob(id: string, patch: JobPatch): Promise<boolean> {
    return completeRow(this.db, id, patch);
  }

  async completeChild(id: string, patch: JobPatch, parent: { id: string; key: string; value: unknown }): Promise<{ first: boolean; parentReady: boolean }> {
    return this.db.tx(async (q) => {
      if (!(await completeRow(q, id, patch))) return { first: false, parentReady: false };
      return { first: true, parentReady: await childDoneIn(q, this.db.kind, parent.id, parent.key, id, parent.value) };
    });
  }

  async addResume(jobId: string, e: ResumeEvent & { resumeId: number }, check?: (job: JobRecord | undefined, events: ResumeEvent[]) => void): Promise<boolean> {
    const insert = async (q: Sql) =>
      (
        await q.query(
          `INSERT INTO resume_job (job_id, resume_id, approved, payload, approver) VALUES ($1,$2,$3,$4::json,$5) ON CONFLICT DO NOTHING RETURNING seq`,
          [jobId, e.resumeId, e.approved, json(e.payload ?? null), e.approver ?? null],
        )
      ).length > 0;
    if (!check) return insert(this.db);
    // The job's row locked: a second resume at the same time waits here, then sees the first.
    return this.db.tx(async (q) => {
      const ok = /^[0-9a-f-]{36}$/i.test(jobId);
      const [r] = ok ? await q.query(`SELECT job.*, ${WAC_STEPS} FROM job WHERE id = $1 FOR UPDATE OF job`, [jobId]) : [];
      const rows = r ? await q.query(`SELECT approved, payload, approver, resume_id FROM resume_job WHERE job_id = $1 ORDER BY seq`, [jobId]) : [];
      check(r ? rowToJob(r) : undefined, rows.map((x) => ({ approved: x.approved, payload: x.payload, resumeId: Number(x.resume_id), ...(x.approver ? { approver: x.approver } : {}) })));
      return insert(q);
    });
  }

  async listResumes(jobId: string): Promise<ResumeEvent[]> {
    const rows = await this.db.query(`SELECT approved, payload, approver, resume_id FROM resume_job WHERE job_id = $1 ORDER BY seq`, [jobId]);
    return rows.map((r) => ({ approved: r.approved, payload: r.payload, resumeId: Number(r.resume_id), ...(r.approver ? { approver: r.approver } : {}) }));
  }

  async parkJob(id: string, p: { suspend: number; until: string; state: Record<string, any> }, children: JobRecord[] = []): Promise<boolean> {
    const park = async (q: Sql) =>
      (
        await q.query(
          `UPDATE job SET status = 'queued', worker = NULL, ping = NULL, suspend = $2, suspend_until = $3, wac_status = $4::json, scheduled_for = clock_timestamp()
           WHERE id = $1 AND status = 'running' RETURNING id${this.db.kind === 'postgres' ? `, pg_notify('${QUEUED_CHANNEL}', '')` : ''}`,
          [id, p.suspend, p.until, json(p.state)],
        )
      ).length > 0;
    if (!children.length) return park(this.db);
    return this.db.tx(async (q) => {
      if (!(await park(q))) return false;
      for (const c of children) await insertJobRow(q, c);
      return true;
    });
  }

  async childDone(parentId: string, key: string, childId: string, value: unknown): Promise<boolean> {
    return this.db.tx((q) => childDoneIn(q, this.db.kind, parentId, key, childId, value));
  }

  async recordStep(id: string, key: string, value: unknown, opts: { stored?: boolean } = {}): Promise<{ stored: unknown } | undefined> {
    await this.db.query(`INSERT INTO wac_step (job_id, key, value) VALUES ($1, $2, $3::json) ON CONFLICT DO NOTHING`, [id, key, json(value ?? null)]);
    if (!opts.stored) return { stored: undefined };
    const [r] = await this.db.query(`SELECT value FROM wac_step WHERE job_id = $1 AND key = $2`, [id, key]);
    return { stored: r?.value ?? null };
  }

  async cacheGet(ws: string, key: string): Promise<{ value: unknown } | undefined> {
    const [r] = await this.db.query(`SELECT result FROM result_cache WHERE workspace_id = $1 AND key = $2 AND expires_at > clock_timestamp()`, [ws, key]);
    return r ? { value: r.result ?? null } : undefined;
  }

  async cachePut(ws: string, key: string, value: unknown, ttlS: number): Promise<void> {
    await this.db.query(
      `INSERT INTO result_cache (workspace_id, key, result, expires_at) VALUES ($1, $2, $3::json, clock_timestamp() + $4::double precision * interval '1 second')
       ON CONFLICT (workspace_id, key) DO UPDATE SET result = EXCLUDED.result, expires_at = EXCLUDED.expires_at`,
      [ws, key, json(value ?? null), ttlS],
    );
  }

  async concurrencyGate(job: JobRecord): Promise<number | undefined> {
    const c = job.concurrency;
    if (!c) return undefined;
    return this.db.tx(async (q) => {
      // One gate at a time per key (PostgreSQL with several workers); PGlite runs one statement at a time anyway.
      if (this.db.kind === 'postgres') await q.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`${job.workspace}\u0000${c.key}`]);
      const win = c.windowS && c.windowS > 0 ? c.windowS : 0;
      const [r] = await q.query<{ n: number; oldest: string | null }>(
        `SELECT count(*)::int AS n, min(started_at) AS oldest FROM job
         WHERE workspace_id = $1 AND concurrency_key = $2 AND id <> $3 AND started_at IS NOT NULL
           AND (status = 'running' OR ($4::double precision > 0 AND started_at > clock_timestamp() - $4::double precision * interval '1 second'))`,
        [job.workspace, c.key, job.id, win],
      );
      if ((r?.n ?? 0) < c.limit) return undefined;
      // Over the limit: back in the queue, due when the window may have room (or in a second).
      // Through iso(): String() of a Date drops the milliseconds (the job would be due early).
      const oldest = r?.oldest ? Date.parse(iso(r.oldest)!) : NaN;
      const at = win && !Number.isNaN(oldest) ? Math.max(Date.now() + 100, oldest + win * 1000 + 10) : Date.now() + 1000;
      await q.query(
        `UPDATE job SET status = 'queued', worker = NULL, started_at = NULL, ping = NULL, runs = GREATEST(runs - 1, 0), scheduled_for = $2 WHERE id = $1 AND status = 'running'`,
        [job.id, new Date(at).toISOString()],
      );
      return at;
    });
  }

  async stepsOf(id: string): Promise<Record<string, unknown>> {
    const [r] = await this.db.query(`SELECT json_object_agg(key, value) AS s FROM wac_step WHERE job_id = $1`, [id]);
    return (r?.s as Record<string, unknown> | null) ?? {};
  }

  async wake(id: string): Promise<void> {
    await this.db.query(
      `UPDATE job SET suspend = 0 WHERE id = $1 AND suspend > 0 AND status = 'queued' AND wac_status->'pending_steps'->>'mode' = 'approval'${this.db.kind === 'postgres' ? ` RETURNING pg_notify('${QUEUED_CHANNEL}', '')` : ''}`,
      [id],
    );
  }

  async heartbeat(worker: string, ids: string[]): Promise<string[]> {
    if (!ids.length) return [];
    const rows = await this.db.query<{ id: string; cancel_requested: boolean }>(
      `UPDATE job SET ping = clock_timestamp() WHERE id = ANY($1::uuid[]) AND worker = $2 AND status = 'running' RETURNING id, cancel_requested`,
      [ids, worker],
    );
    return rows.filter((r) => r.cancel_requested).map((r) => r.id);
  }

  /**
   * Put back in the queue the running jobs whose worker has not sent a heartbeat for `staleMs`,
   * except the jobs `own.worker` (the caller's own worker) is running: the caller is alive, so
   * they are too, however late their heartbeat is (a loaded machine, a busy embedded database).
   */
  async requeueStale(staleMs: number, own?: { worker: string; ids: string[] }): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>(
      `UPDATE job SET status = 'queued', worker = NULL, started_at = NULL, ping = NULL
       WHERE status = 'running' AND ping < clock_timestamp() - ($1::double precision * interval '1 millisecond')
         AND NOT (worker IS NOT DISTINCT FROM $2::text AND id = ANY($3::uuid[]))
       RETURNING id, pg_notify('${QUEUED_CHANNEL}', '')`,
      [staleMs, own?.worker ?? null, own?.ids ?? []],
    );
    for (const r of rows) await this.appendLogs(r.id, `\n[wmill] worker stopped sending heartbeats; job re-queued\n`);
    return rows.map((r) => r.id);
  }

  /**
   * Wake-ups from other processes sharing the database (PostgreSQL LISTEN): `queued` when a
   * job may be claimable, `done` with the id of a job that became final. Undefined when the
   * database cannot notify other processes (PGlite has none to notify).
   */
  async listen(what: 'queued' | 'done', cb: (id: string) => void): Promise<(() => Promise<void>) | undefined> {
    if (this.db.kind !== 'postgres' || !this.db.listen) return undefined;
    return this.db.listen(what === 'queued' ? QUEUED_CHANNEL : DONE_CHANNEL, cb);
  }

  async appendLogs(id: string, chunk: string): Promise<void> {
    await this.db.query('UPDATE job_logs SET logs = logs || $2 WHERE job_id = $1', [id, chunk]);
  }

  async getLogs(id: string, offset = 0): Promise<{ logs: string; offset: number }> {
    const [r] = await this.db.query<{ part: string; len: number }>(
      'SELECT substr(logs, $2 + 1) AS part, length(logs) AS len FROM job_logs WHERE job_id = $1',
      [id, Math.max(0, offset)],
    );
    if (!r) return { logs: '', offset };
    return { logs: r.part ?? '', offset: Number(r.len) };
  }

  async listJobs(filter: { status?: JobRecord['status'][] } = {}): Promise<JobRecord[]> {
    const rows = filter.status
      ? await this.db.query('SELECT * FROM job WHERE status = ANY($1::text[]) ORDER BY created_at', [filter.status])
      : await this.db.query('SELECT * FROM job ORDER BY created_at');
    return rows.map(rowToJob);
  }

  async setProgress(id: string, percent: number): Promise<void> {
    const p = Math.min(99, Math.max(0, Math.floor(percent)));
    await this.db.query(`UPDATE job SET progress = GREATEST(COALESCE(progress, 0), $2) WHERE id = $1`, [id, p]);
  }

  async getProgress(id: string): Promise<number | null> {
    const [r] = await this.db.query<{ progress: number | null }>(`SELECT progress FROM job WHERE id = $1`, [id]);
    return r?.progress ?? null;
  }

  async getFlowUserState(id: string, key: string): Promise<unknown> {
    const [r] = await this.db.query<{ value: unknown }>(`SELECT value FROM flow_user_state WHERE job_id = $1 AND key = $2`, [id, key]);
    return r ? (r.value ?? null) : undefined;
  }

  async setFlowUserState(id: string, key: string, value: unknown): Promise<void> {
    await this.db.query(
      `INSERT INTO flow_user_state (job_id, key, value) VALUES ($1, $2, $3::json) ON CONFLICT (job_id, key) DO UPDATE SET value = EXCLUDED.value`,
      [id, key, json(value ?? null)],
    );
  }

  /**
   * The workspace's encryption key (cached). Inside a transaction pass its connection `q`: on a
   * cold cache the key is read there, since a query beside an open transaction waits for it to
   * end (PGlite has one connection), and the transaction would wait on that query forever.
   */
  async workspaceKey(workspace: string, q: Sql = this.db): Promise<string> {
    let k = this.keys.get(workspace);
    if (!k) {
      const [r] = await q.query<{ encryption_key: string }>('SELECT encryption_key FROM workspace WHERE id = $1', [workspace]);
      if (!r) throw new Error(`workspace ${workspace} not found`);
      k = r.encryption_key;
      this.keys.set(workspace, k);
    }
    return k;
  }

  async getResource(workspace: string, path: string): Promise<ResourceRecord | undefined> {
    const [r] = await this.db.query('SELECT * FROM resource WHERE workspace_id = $1 AND path = $2', [workspace, path]);
    if (!r) return undefined;
    return { path: r.path, resource_type: r.resource_type, value: r.value, ...(r.description != null ? { description: r.description } : {}) };
  }

  async putResource(workspace: string, r: ResourceRecord): Promise<void> {
    await upsertResourceRow(this.db, workspace, r);
  }

  /** The variable with its plain value (secrets decrypted). */
  async getVariable(workspace: string, path: string): Promise<VariableRecord | undefined> {
    const [r] = await this.db.query('SELECT * FROM variable WHERE workspace_id = $1 AND path = $2', [workspace, path]);
    if (!r) return undefined;
    const value = r.is_secret ? decryptSecret(await this.workspaceKey(workspace), r.value) : r.value;
    return { path: r.path, value, is_secret: r.is_secret, description: r.description };
  }

  async putVariable(workspace: string, v: VariableRecord): Promise<void> {
    const stored = v.is_secret ? encryptSecret(await this.workspaceKey(workspace), v.value) : v.value;
    await upsertVariableRow(this.db, workspace, { ...v, value: stored });
  }
}

/** Create or replace a resource row (through `q`: a transaction when the caller has one). */
export async function upsertResourceRow(q: Sql, workspace: string, r: ResourceRecord): Promise<void> {
  await q.query(
    `INSERT INTO resource (workspace_id, path, resource_type, value, description) VALUES ($1,$2,$3,$4::json,$5)
     ON CONFLICT (workspace_id, path) DO UPDATE SET resource_type = EXCLUDED.resource_type, value = EXCLUDED.value, description = EXCLUDED.description`,
    [workspace, r.path, r.resource_type, json(r.value), r.description ?? null],
  );
}

/** Create or replace a variable row; `v.value` is stored as given (a secret's must already be encrypted). */
export async function upsertVariableRow(q: Sql, workspace: string, v: VariableRecord): Promise<void> {
  await q.query(
    `INSERT INTO variable (workspace_id, path, value, is_secret, description) VALUES ($1,$2,$3,$4,$5)
     ON CONFLICT (workspace_id, path) DO UPDATE SET value = EXCLUDED.value, is_secret = EXCLUDED.is_secret, description = EXCLUDED.description`,
    [workspace, v.path, v.value, v.is_secret, v.description ?? ''],
  );
}
