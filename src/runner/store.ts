/**
 * The engine's persistence boundary. Every method is async so a PostgreSQL/PGlite store
 * (`wmill serve`) can implement it with one statement each (`claimNext` = the
 * `FOR UPDATE SKIP LOCKED` pull of spec/windmill-server.md §5.4). Preview uses MemoryStore.
 */
import { isFinal, type JobRecord, type ResourceRecord, type VariableRecord } from './types.js';

/** An approval (or disapproval) of a suspended flow step or workflow. */
export interface ResumeEvent {
  approved: boolean;
  payload: unknown;
  approver?: string;
  resumeId?: number;
}

/** The fields of a job the engine changes after it is queued. */
export type JobPatch = Partial<
  Pick<JobRecord, 'status' | 'started_at' | 'completed_at' | 'duration_ms' | 'result' | 'canceled_by' | 'canceled_reason' | 'cancel_requested' | 'worker' | 'flowState' | 'flow'>
>;

/** Whether a job can be claimed now: queued, not canceled, due, and not parked (or its park is over). */
function due(j: JobRecord, now: number): boolean {
  if (j.status !== 'queued' || j.cancel_requested) return false;
  return (j.suspend ?? 0) > 0 ? !!j.suspendUntil && Date.parse(j.suspendUntil) <= now : !(j.scheduledFor && Date.parse(j.scheduledFor) > now);
}

/** Whether a worker listening to `tags` (undefined: every job) takes job `j`; an untagged job has the tag `default`. */
export function tagged(j: Pick<JobRecord, 'tag'>, tags: string[] | undefined): boolean {
  return !tags || tags.includes(j.tag || 'default');
}

function take(j: JobRecord, worker: string): JobRecord {
  j.status = 'running';
  j.started_at ??= new Date().toISOString();
  j.suspend = 0;
  j.worker = worker;
  return structuredClone(j);
}

export interface Store {
  insertJob(job: JobRecord): Promise<void>;
  getJob(id: string): Promise<JobRecord | undefined>;
  /**
   * Atomically take the next due queued job (not canceled; priority, then scheduled time) and
   * mark it running for `worker`; undefined when none.
   */
  claimNext(worker: string): Promise<JobRecord | undefined>;
  /**
   * Take up to `limit` due jobs at once; `more` tells whether due jobs may remain (false: the
   * queue had no more than what was taken, so pulling again now would come back empty).
   */
  claim(worker: string, limit: number, tags?: string[]): Promise<{ jobs: JobRecord[]; more: boolean }>;
  /**
   * Take job `id` if it is due (queued, not canceled, not parked) and no due job of a higher
   * priority waits for this worker; undefined otherwise.
   */
  claimById(worker: string, id: string, tags?: string[]): Promise<JobRecord | undefined>;
  updateJob(id: string, patch: JobPatch): Promise<void>;
  /**
   * Make a job final, exactly once: applies `patch` only while the job is still queued or
   * running and returns whether it did (a second completion, from a re-run after a worker
   * was presumed dead or a racing cancel, changes nothing).
   */
  completeJob(id: string, patch: JobPatch): Promise<boolean>;
  /**
   * completeJob for a workflow's child, and, when it made the child final, childDone of `parent`
   * in the same transaction: a crash leaves the child unfinished (it runs again) or finished and
   * counted, never finished and unknown to a parent that then waits for it forever.
   */
  completeChild(id: string, patch: JobPatch, parent: { id: string; key: string; value: unknown }): Promise<{ first: boolean; parentReady: boolean }>;
  /**
   * Park a running workflow between rounds (it holds no worker): back to queued, not claimable
   * until `suspend` events arrived or `until` passed; its checkpoint saved. `children` (the jobs it
   * waits for) are queued in the same transaction: a crash leaves the round running (re-run once
   * its worker's heartbeats stop) or the workflow parked with its children queued, never parked for
   * children that do not exist. Returns false, and queues nothing, when the job is not running
   * (another run of it owns it now).
   */
  parkJob(id: string, p: { suspend: number; until: string; state: Record<string, any> }, children?: JobRecord[]): Promise<boolean>;
  /**
   * A child of workflow `parentId` finished step `key`: record `value` in the parent's checkpoint and
   * count it, exactly once (only if the parent waits for this child under this key). Returns true
   * when the parent became runnable.
   */
  childDone(parentId: string, key: string, childId: string, value: unknown): Promise<boolean>;
  /** Read-modify-write of a workflow's checkpoint under a lock (step() fast path). */
  /**
   * Record a workflow step() result (the fast path) of a running job, first write wins; with
   * `stored`, also return the value stored for `key` (the first write's). getJob and claim show
   * recorded steps in `wacState.completed_steps`.
   */
  recordStep(id: string, key: string, value: unknown, opts?: { stored?: boolean }): Promise<{ stored: unknown } | undefined>;
  /** The step() results recorded for a workflow so far. */
  stepsOf(id: string): Promise<Record<string, unknown>>;
  /** A cached result (`JobSpec.cache`), unless expired. */
  cacheGet(ws: string, key: string): Promise<{ value: unknown } | undefined>;
  cachePut(ws: string, key: string, value: unknown, ttlS: number): Promise<void>;
  /**
   * A claimed job with `concurrency`: undefined when it may run; else it went back to the queue,
   * due at the returned time (ms), because its key is at its limit.
   */
  concurrencyGate(job: JobRecord): Promise<number | undefined>;
  /**
   * An approval arrived: make the job runnable now if it is parked waiting for one (a workflow
   * parked on its children or a sleep stays parked; it takes the answer at its next approval).
   */
  wake(id: string): Promise<void>;
  /**
   * Record an approval event for a suspended job; false when (job, resumeId) was already recorded.
   * `check` (throwing refuses) sees the job and its events as they are in the same transaction as
   * the record (the job's row locked): two resumes at once are decided one after the other.
   */
  addResume(jobId: string, e: ResumeEvent & { resumeId: number }, check?: (job: JobRecord | undefined, events: ResumeEvent[]) => void): Promise<boolean>;
  /** The approval events of a job, oldest first. */
  listResumes(jobId: string): Promise<ResumeEvent[]>;
  /** Record that `worker` is alive and still runs `ids`; returns those of them someone asked to cancel. */
  heartbeat(worker: string, ids: string[]): Promise<string[]>;
  appendLogs(id: string, chunk: string): Promise<void>;
  /** Logs from `offset` (a character offset); returns the new offset. */
  getLogs(id: string, offset?: number): Promise<{ logs: string; offset: number }>;
  listJobs(filter?: { status?: JobRecord['status'][] }): Promise<JobRecord[]>;

  /** Set a job's progress in percent: clamped to 0-99, never lower than before (Windmill's rule). */
  setProgress(id: string, percent: number): Promise<void>;
  /** A job's progress, or null when never set. */
  getProgress(id: string): Promise<number | null>;
  /** A flow's user state at `key` (kept on the flow's root job); undefined when never set. */
  getFlowUserState(id: string, key: string): Promise<unknown>;
  setFlowUserState(id: string, key: string, value: unknown): Promise<void>;

  getResource(workspace: string, path: string): Promise<ResourceRecord | undefined>;
  putResource(workspace: string, r: ResourceRecord): Promise<void>;
  getVariable(workspace: string, path: string): Promise<VariableRecord | undefined>;
  putVariable(workspace: string, v: VariableRecord): Promise<void>;
}

/** Read-only source of workspace items consulted when the store has no row (e.g. the files of a workspace folder). */
export interface ItemSource {
  resource(path: string): ResourceRecord | undefined;
  variable(path: string): VariableRecord | undefined;
}

/** In-memory store: preview's ephemeral store. Items written by jobs shadow the fallback source. */
export class MemoryStore implements Store {
  private jobs = new Map<string, JobRecord>();
  private logs = new Map<string, string>();
  private resources = new Map<string, ResourceRecord>();
  private variables = new Map<string, VariableRecord>();

  /** Consulted when the store has no row; may be set after construction (preview knows the root late). */
  constructor(public fallback?: ItemSource) {}

  async insertJob(job: JobRecord): Promise<void> {
    if (this.jobs.has(job.id)) throw new Error(`job ${job.id} already exists`);
    this.jobs.set(job.id, structuredClone(job));
    this.logs.set(job.id, '');
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    const j = this.jobs.get(id);
    return j ? structuredClone(j) : undefined;
  }

  async claim(worker: string, limit: number, tags?: string[]): Promise<{ jobs: JobRecord[]; more: boolean }> {
    const jobs: JobRecord[] = [];
    while (jobs.length < limit) {
      const j = await this.claimNext(worker, tags);
      if (!j) return { jobs, more: false };
      jobs.push(j);
    }
    return { jobs, more: true };
  }

  async claimById(worker: string, id: string, tags?: string[]): Promise<JobRecord | undefined> {
    const j = this.jobs.get(id);
    const now = Date.now();
    if (!j || !due(j, now) || !tagged(j, tags)) return undefined;
    // Not while a due job of a higher priority waits for this worker: the queue order decides.
    const p = j.priority ?? -Infinity;
    for (const o of this.jobs.values()) if ((o.priority ?? -Infinity) > p && due(o, now) && tagged(o, tags)) return undefined;
    return take(j, worker);
  }

  async claimNext(worker: string, tags?: string[]): Promise<JobRecord | undefined> {
    // Map iteration order is insertion order: FIFO within a priority.
    const now = Date.now();
    let best: JobRecord | undefined;
    for (const j of this.jobs.values()) {
      if (!due(j, now) || !tagged(j, tags)) continue;
      if (!best || (j.priority ?? -Infinity) > (best.priority ?? -Infinity)) best = j;
    }
    if (!best) return undefined;
    return take(best, worker);
  }

  async completeJob(id: string, patch: JobPatch): Promise<boolean> {
    const j = this.jobs.get(id);
    if (!j || isFinal(j.status)) return false;
    Object.assign(j, patch);
    return true;
  }

  private resumes = new Map<string, (ResumeEvent & { resumeId: number })[]>();

  async completeChild(id: string, patch: JobPatch, parent: { id: string; key: string; value: unknown }): Promise<{ first: boolean; parentReady: boolean }> {
    // No await in between: one step, as the SQL store's transaction.
    const j = this.jobs.get(id);
    if (!j || isFinal(j.status)) return { first: false, parentReady: false };
    Object.assign(j, patch);
    return { first: true, parentReady: this.childDoneNow(parent.id, parent.key, id, parent.value) };
  }

  async parkJob(id: string, p: { suspend: number; until: string; state: Record<string, any> }, children: JobRecord[] = []): Promise<boolean> {
    const j = this.jobs.get(id);
    if (!j || j.status !== 'running') return false;
    if (children.some((c) => this.jobs.has(c.id))) throw new Error('a child job already exists');
    Object.assign(j, { status: 'queued', suspend: p.suspend, suspendUntil: p.until, wacState: structuredClone(p.state), worker: undefined });
    for (const c of children) {
      this.jobs.set(c.id, structuredClone(c));
      this.logs.set(c.id, '');
    }
    return true;
  }

  async childDone(parentId: string, key: string, childId: string, value: unknown): Promise<boolean> {
    return this.childDoneNow(parentId, key, childId, value);
  }

  private childDoneNow(parentId: string, key: string, childId: string, value: unknown): boolean {
    const j = this.jobs.get(parentId);
    const st = j?.wacState;
    if (!j || !st || isFinal(j.status) || st.pending_steps?.job_ids?.[key] !== childId) return false;
    st.completed_steps ??= {};
    if (key in st.completed_steps) return false;
    st.completed_steps[key] = structuredClone(value);
    j.suspend = Math.max(0, (j.suspend ?? 0) - 1);
    if (j.suspend === 0) delete st.pending_steps;
    return j.suspend === 0;
  }

  async recordStep(id: string, key: string, value: unknown, _opts?: { stored?: boolean }): Promise<{ stored: unknown } | undefined> {
    const j = this.jobs.get(id);
    if (!j) return undefined;
    const st = (j.wacState ??= {});
    st.completed_steps ??= {};
    if (!(key in st.completed_steps)) st.completed_steps[key] = structuredClone(value ?? null);
    return { stored: structuredClone(st.completed_steps[key]) };
  }

  private readonly cache = new Map<string, { value: unknown; expires: number }>();

  async cacheGet(ws: string, key: string): Promise<{ value: unknown } | undefined> {
    const e = this.cache.get(`${ws}\u0000${key}`);
    return e && e.expires > Date.now() ? { value: structuredClone(e.value) } : undefined;
  }

  async cachePut(ws: string, key: string, value: unknown, ttlS: number): Promise<void> {
    this.cache.set(`${ws}\u0000${key}`, { value: structuredClone(value ?? null), expires: Date.now() + ttlS * 1000 });
  }

  async concurrencyGate(job: JobRecord): Promise<number | undefined> {
    const c = job.concurrency;
    if (!c) return undefined;
    const now = Date.now();
    const win = c.windowS && c.windowS > 0 ? c.windowS * 1000 : 0;
    let n = 0;
    let oldest = Infinity;
    for (const j of this.jobs.values()) {
      if (j.id === job.id || j.workspace !== job.workspace || j.concurrency?.key !== c.key || !j.started_at) continue;
      const started = Date.parse(j.started_at);
      if (j.status === 'running' || (win && started > now - win)) {
        n++;
        oldest = Math.min(oldest, started);
      }
    }
    if (n < c.limit) return undefined;
    const at = win && Number.isFinite(oldest) ? Math.max(now + 100, oldest + win + 10) : now + 1000;
    const j = this.jobs.get(job.id);
    if (j && j.status === 'running') {
      j.status = 'queued';
      delete j.worker;
      delete j.started_at;
      j.scheduledFor = new Date(at).toISOString();
    }
    return at;
  }

  async stepsOf(id: string): Promise<Record<string, unknown>> {
    return structuredClone(this.jobs.get(id)?.wacState?.completed_steps ?? {});
  }

  async wake(id: string): Promise<void> {
    const j = this.jobs.get(id);
    if (j && j.status === 'queued' && (j.suspend ?? 0) > 0 && j.wacState?.pending_steps?.mode === 'approval') j.suspend = 0;
  }

  async addResume(jobId: string, e: ResumeEvent & { resumeId: number }, check?: (job: JobRecord | undefined, events: ResumeEvent[]) => void): Promise<boolean> {
    // No await between the check and the record: atomic in this process.
    if (check) {
      const j = this.jobs.get(jobId);
      check(j ? structuredClone(j) : undefined, this.listResumesNow(jobId));
    }
    const list = this.resumes.get(jobId) ?? [];
    if (list.some((x) => x.resumeId === e.resumeId)) return false;
    list.push(structuredClone(e));
    this.resumes.set(jobId, list);
    return true;
  }

  async listResumes(jobId: string): Promise<ResumeEvent[]> {
    return this.listResumesNow(jobId);
  }

  private listResumesNow(jobId: string): ResumeEvent[] {
    return (this.resumes.get(jobId) ?? []).map(({ approved, payload, approver, resumeId }) => ({ approved, payload, resumeId, ...(approver ? { approver } : {}) }));
  }

  async heartbeat(_worker: string, ids: string[]): Promise<string[]> {
    return ids.filter((id) => this.jobs.get(id)?.cancel_requested);
  }

  async updateJob(id: string, patch: JobPatch): Promise<void> {
    const j = this.jobs.get(id);
    if (!j) throw new Error(`job ${id} not found`);
    Object.assign(j, patch);
  }

  async appendLogs(id: string, chunk: string): Promise<void> {
    this.logs.set(id, (this.logs.get(id) ?? '') + chunk);
  }

  async getLogs(id: string, offset = 0): Promise<{ logs: string; offset: number }> {
    const all = this.logs.get(id) ?? '';
    return { logs: all.slice(offset), offset: all.length };
  }

  async listJobs(filter: { status?: JobRecord['status'][] } = {}): Promise<JobRecord[]> {
    return [...this.jobs.values()].filter((j) => !filter.status || filter.status.includes(j.status)).map((j) => structuredClone(j));
  }

  private readonly progress = new Map<string, number>();

  async setProgress(id: string, percent: number): Promise<void> {
    const p = Math.min(99, Math.max(0, Math.floor(percent)));
    this.progress.set(id, Math.max(p, this.progress.get(id) ?? 0));
  }

  async getProgress(id: string): Promise<number | null> {
    return this.progress.get(id) ?? null;
  }

  private readonly userStates = new Map<string, unknown>();

  async getFlowUserState(id: string, key: string): Promise<unknown> {
    const k = `${id}\u0000${key}`;
    return this.userStates.has(k) ? structuredClone(this.userStates.get(k)) : undefined;
  }

  async setFlowUserState(id: string, key: string, value: unknown): Promise<void> {
    this.userStates.set(`${id}\u0000${key}`, structuredClone(value ?? null));
  }

  private key(ws: string, path: string) {
    return `${ws}\u0000${path}`;
  }

  async getResource(workspace: string, path: string): Promise<ResourceRecord | undefined> {
    return this.resources.get(this.key(workspace, path)) ?? this.fallback?.resource(path);
  }

  async putResource(workspace: string, r: ResourceRecord): Promise<void> {
    this.resources.set(this.key(workspace, r.path), structuredClone(r));
  }

  async getVariable(workspace: string, path: string): Promise<VariableRecord | undefined> {
    return this.variables.get(this.key(workspace, path)) ?? this.fallback?.variable(path);
  }

  async putVariable(workspace: string, v: VariableRecord): Promise<void> {
    this.variables.set(this.key(workspace, v.path), structuredClone(v));
  }
}
