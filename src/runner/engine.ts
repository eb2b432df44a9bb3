/**
 * The runner engine: one implementation for preview (in-memory store, one job) and for
 * `wmill serve` (persistent store, many jobs). It queues jobs in the Store, pulls them with an
 * in-process worker loop, runs them through the executors with the job's environment and API,
 * enforces timeouts and cancellation (killing the job's whole process group), records logs and
 * results, and completes each job exactly once.
 *
 * Job states (spec/windmill-server.md §5.2): queued → running → success | failure | canceled;
 * a queued job can go straight to canceled.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ApiServer } from './job-api.js';
import { DEFAULT_RUNNER_CONFIG, executorFor, type Prewarmed, type RunnerConfig } from './executors/index.js';
import { ResidentPool } from './executors/resident.js';
import { giveToJob } from './executors/sandbox.js';
import { bodyHash } from '../items/canonical.js';
import { newJobId, newToken } from './ids.js';
import type { Store } from './store.js';
import { errorResult, isFinal, type ExecOutcome, type JobKind, type JobRecord, type JobSpec } from './types.js';
import { interpolate, NotFoundError } from './workspace-files.js';
import { allowListedEnv, inheritedEnv } from './job-env.js';
import { StreamRedactor } from './redact.js';
import { approvalEventFor, checkKeySequence, failureMarker, inlineCheckpoint, isWorkflowScript, normalizeStepResult, prepareRound, type PreparedRound } from './wac/rounds.js';
import { taskNotFound } from './wac/tasks.js';
import type { Language } from '../workspace/languages.js';

export interface EngineOptions {
  store: Store;
  config?: Partial<RunnerConfig>;
  /** Jobs run at the same time by this process's worker loop (0: none; other hosts of the store run them). */
  concurrency?: number;
  /** Start the worker loop on submit (default true). */
  autoRun?: boolean;
  /** Where job folders are created (default: the OS temp folder). */
  tmpRoot?: string;
  /** Username the jobs run as (`u/<user>`). */
  user?: string;
  /** This worker's name, recorded on the jobs it claims (default `<host>-<pid>`). */
  worker?: string;
  /**
   * When the store is shared with other processes (`wmill serve` + `wmill worker`): look for
   * due jobs every `pollMs` while start()ed, and poll job states in wait().
   */
  pollMs?: number;
  /** Report liveness of running jobs (and pick up cancel requests from other processes) this often. */
  heartbeatMs?: number;
  /** Jobs of these kinds run in-process through the handler instead of an executor. */
  handlers?: Partial<Record<JobKind, JobHandler>>;
  /** Called before a job's executor runs, with its folder; may point the job at files it wrote there. */
  prepare?: (job: JobRecord, jobDir: string) => Promise<Partial<JobRecord> | void>;
  /** Token a job authenticates with (default: random, known only to this engine's loopback API). */
  mintToken?: (job: JobRecord) => string;
  /** Called once after a job became final (schedules queue their next tick here). */
  afterComplete?: (job: JobRecord) => Promise<void>;
  /** Workflow-as-code: resolve a `taskScript`/`taskFlow` target into the child job's runnable. */
  resolveTask?: (job: JobRecord, step: { script: string; dispatch_type: string }) => Promise<Partial<JobSpec> | undefined>;
  /** Workflow-as-code: approval URLs of step `key` (signed for this job). */
  approvalUrls?: (job: JobRecord, key: string) => Promise<{ resume: string; cancel: string; approvalPage?: string } | undefined>;
  /** Workflow-as-code: told when a workflow starts waiting for an approval (preview prints or approves). */
  onApproval?: (job: JobRecord, key: string, urls: { resume: string; cancel: string; approvalPage?: string } | undefined) => void;
  /** Workflow-as-code: multiply sleeps by this (preview --fast-sleep: 0). */
  sleepScale?: number;
  /** Key signing approval URLs served by the engine's loopback API (preview). */
  resumeKey?: string;
  /** Base URL jobs use for the API (default: a loopback API server started by the engine). */
  apiBaseUrl?: string;
  /**
   * The job tags this worker takes (an untagged job has the tag `default`); undefined: every job.
   * A job whose tag no worker takes waits in the queue.
   */
  tags?: string[];
  /** Run workflow rounds and inline tasks in resident interpreters (default: unless WMILL_WAC_RESIDENT=0). */
  residents?: boolean;
  /**
   * wmill dev: every job of a language with a resident interpreter (TypeScript, Python, Bash)
   * runs in one, shared by the script files of one interpreter set-up and kept warm (no idle
   * stop); `generation()`, bumped by dev on every change, makes the wrapper import the script
   * and its workspace modules afresh.
   */
  devResidents?: { generation: () => number };
  /** Keep a spare resident per interpreter in use, so a workflow's first round skips the start (hosts: yes; one-shot preview: no). */
  residentSpares?: boolean;
  /**
   * Job processes start from this process's whole environment (local preview: the user's own
   * process). Default: only the allow-list of job-env.ts (a server's environment holds its secrets).
   */
  inheritEnv?: boolean;
  /** The email of the user a job runs as (WM_EMAIL; default `<user>@localhost`). */
  emailOf?: (job: JobRecord) => Promise<string | undefined>;
  /** Called before a job runs (at run time, not queue time); throwing fails the job with the error's message. */
  authorize?: (job: JobRecord) => Promise<void>;
  /** Called for each `$var:`/`$res:` reference of a job's arguments; throwing fails the job (the owner may not read it). */
  checkReference?: (job: JobRecord, kind: 'resource' | 'variable', path: string) => Promise<void>;
}

/** Runs a job in-process (flows, dependency jobs); `signal` aborts on cancel or timeout. */
export type JobHandler = (job: JobRecord, ctx: { signal: AbortSignal; log: (chunk: string) => void }) => Promise<ExecOutcome>;

/** Orchestrating kinds: they wait for child jobs, so they do not take one of the worker slots. */
const DETACHED: ReadonlySet<JobKind> = new Set(['flow', 'flowpreview']);

export interface JobToken {
  token: string;
  jobId: string;
  workspace: string;
}

/** A store shared with other processes may wake this one up (SqlStore on PostgreSQL: LISTEN). */
interface WakeupStore {
  listen?(what: 'queued' | 'done', cb: (id: string) => void): Promise<(() => Promise<void>) | undefined>;
}

interface Running {
  abort: AbortController;
  reason?: { kind: 'cancel'; by: string; message?: string } | { kind: 'timeout'; seconds: number };
}

export class Engine {
  readonly store: Store;
  readonly config: RunnerConfig;
  readonly user: string;
  readonly worker: string;
  private readonly opts: EngineOptions;
  private readonly concurrency: number;
  private readonly autoRun: boolean;
  private readonly tmpRoot: string;
  private readonly events = new EventEmitter();
  private readonly running = new Map<string, Running>();
  private readonly tokens = new Map<string, JobToken>();
  private active = 0;
  private pumping = false;
  private api: ApiServer | undefined;
  private readonly prewarms = new Map<Language, Promise<Prewarmed | undefined>>();
  private apiStarting: Promise<ApiServer> | undefined;
  private closed = false;
  /** Resident interpreters for workflow rounds and tasks (off with WMILL_WAC_RESIDENT=0). */
  private readonly residents: ResidentPool | undefined;

  constructor(opts: EngineOptions) {
    this.store = opts.store;
    this.config = { ...DEFAULT_RUNNER_CONFIG, ...opts.config };
    this.concurrency = Math.max(0, opts.concurrency ?? 1);
    this.autoRun = opts.autoRun ?? true;
    this.tmpRoot = opts.tmpRoot ?? tmpdir();
    this.user = sanitizeUser(opts.user ?? safeUsername());
    this.worker = opts.worker ?? `${hostname()}-${process.pid}`;
    this.opts = opts;
    this.events.setMaxListeners(0);
    const idleS = Number(process.env.WMILL_WAC_RESIDENT_IDLE_S);
    this.residents =
      (opts.residents ?? process.env.WMILL_WAC_RESIDENT !== '0')
        ? new ResidentPool({ tmpRoot: this.tmpRoot, ...(opts.devResidents ? { idleMs: 2 ** 31 - 1 } : idleS > 0 ? { idleMs: idleS * 1000 } : {}) })
        : undefined;
  }

  /** Pids of the resident interpreters alive. */
  residentPids(): number[] {
    return this.residents?.pids() ?? [];
  }

  /** Stop the resident interpreters (what they load changed: package.json, requirements); the next job starts a new one. */
  async restartResidents(): Promise<void> {
    await this.residents?.restart();
  }

  private pollTimer: NodeJS.Timeout | undefined;
  private beatTimer: NodeJS.Timeout | undefined;

  /** Pull due jobs from a shared store periodically (serve, worker) and send heartbeats. */
  start(): void {
    if (this.opts.pollMs && !this.pollTimer) {
      this.pollTimer = setInterval(() => this.poke(), this.opts.pollMs);
      this.pollTimer.unref();
    }
    if (this.opts.heartbeatMs && !this.beatTimer) {
      this.beatTimer = setInterval(() => void this.beat(), this.opts.heartbeatMs);
      this.beatTimer.unref();
    }
    // Polling stays as the fallback (and for jobs scheduled later); a notification claims at once.
    this.watch('queued', () => this.poke());
    void this.pump();
  }

  private readonly watches = new Map<'queued' | 'done', Promise<(() => Promise<void>) | undefined>>();

  /** Subscribe once to the store's wake-ups of kind `what` (no-op for stores without them). */
  private watch(what: 'queued' | 'done', cb: (id: string) => void): void {
    const store = this.store as Store & WakeupStore;
    if (this.closed || this.watches.has(what) || !store.listen) return;
    this.watches.set(what, store.listen(what, cb).catch(() => undefined));
  }

  /** Wake the worker loop now (a job was queued by another host of the same store). */
  poke(): void {
    this.workGen++;
    void this.pump();
  }

  /**
   * Empty pulls cost a query each: the loop pulls again only after something may have made a
   * job claimable (a submit, a poke: a child done, a resume, a timer, a notification, the poll
   * tick) since a pull last came back empty. A freed slot alone does not.
   */
  private workGen = 0;
  /**
   * Jobs this engine just made runnable (a workflow's child, a workflow whose children are done):
   * taken by id before anything else, a primary-key update instead of a queue scan. Another
   * worker may take them first; then the update finds nothing.
   */
  private readonly handOffs: string[] = [];

  private handOff(id: string): void {
    this.handOffs.push(id);
    void this.pump();
  }

  private readonly cancelSoon = new Map<string, { by: string; reason?: string }>();
  private emptyAtGen = -1;

  private beating = false;
  private async beat(): Promise<void> {
    if (this.beating || this.running.size === 0) return;
    this.beating = true;
    try {
      const cancel = await this.store.heartbeat(this.worker, [...this.running.keys()]);
      for (const id of cancel) {
        const r = this.running.get(id);
        if (!r) continue;
        const j = await this.store.getJob(id);
        r.reason ??= { kind: 'cancel', by: j?.canceled_by ?? this.user, message: j?.canceled_reason };
        r.abort.abort();
      }
    } catch {
      // The store is unreachable for a moment; the next beat retries.
    } finally {
      this.beating = false;
    }
  }

  /** Point jobs at an API the host serves (known only once it listens). */
  setApiBaseUrl(url: string): void {
    this.opts.apiBaseUrl = url;
  }

  /** How this host resolves workflow `taskScript`/`taskFlow` targets and signs approval URLs. */
  setWacHosting(h: Pick<EngineOptions, 'resolveTask' | 'approvalUrls' | 'onApproval' | 'sleepScale'>): void {
    Object.assign(this.opts, h);
  }

  /** Run jobs of `kind` in-process with `h`. */
  setHandler(kind: JobKind, h: JobHandler): void {
    this.opts.handlers = { ...this.opts.handlers, [kind]: h };
  }

  /** Where jobs reach the API. */
  private async apiBase(): Promise<string> {
    if (this.opts.apiBaseUrl) return this.opts.apiBaseUrl;
    return (await this.apiServer()).baseUrl;
  }

  /** Token of a running job of this engine (the HTTP server authenticates jobs with it). */
  jobToken(token: string): JobToken | undefined {
    return this.tokens.get(token);
  }

  /** The loopback API jobs talk to (started on first need). */
  async apiServer(): Promise<ApiServer> {
    if (this.api) return this.api;
    this.apiStarting ??= (async () => {
      const s = new ApiServer({
        store: this.store,
        tokenInfo: (t) => this.tokens.get(t),
        cancel: (id, by, reason) => this.cancel(id, by, reason),
        log: (id, chunk) => this.log(id, chunk),
        user: this.user,
        resumeKey: this.opts.resumeKey,
        onResume: (id) => void this.store.wake(id).then(() => this.poke()),
      });
      await s.listen();
      this.api = s;
      return s;
    })();
    return this.apiStarting;
  }

  /**
   * Start an interpreter for `language` now, before the job is known (preview calls this first
   * thing, so the interpreter's start-up overlaps wmill's own work). The next job of that
   * language adopts it; unused ones are killed by close(). No user code runs until a job is sent.
   */
  prewarm(language: Language): void {
    if (this.closed || this.prewarms.has(language)) return;
    const p = (async () => {
      const ex = await executorFor(language);
      if (!ex?.prewarm || this.closed) return undefined;
      const jobDir = mkdtempSync(join(this.tmpRoot, 'wmill-job-'));
      try {
        return ex.prewarm({ jobDir, env: this.baseEnv(), config: { ...this.config } });
      } catch {
        rmSync(jobDir, { recursive: true, force: true });
        return undefined;
      }
    })().catch(() => undefined);
    this.prewarms.set(language, p);
  }

  /** Kill prewarmed interpreters nobody used (e.g. after a configuration change). */
  async discardPrewarms(): Promise<void> {
    const all = [...this.prewarms.values()];
    this.prewarms.clear();
    await Promise.all(
      all.map(async (p) => {
        const w = await p;
        if (!w) return;
        w.handle.kill();
        await w.handle.done;
        rmSync(w.jobDir, { recursive: true, force: true });
      }),
    );
  }

  private async takePrewarm(language: Language): Promise<Prewarmed | undefined> {
    const p = this.prewarms.get(language);
    if (!p) return undefined;
    this.prewarms.delete(language);
    return p;
  }

  /** Queue a job; returns its id. `onLog` receives every log chunk of the job, from the first one. */
  async submit(spec: JobSpec, opts: { onLog?: (chunk: string) => void; id?: string; handOff?: boolean } = {}): Promise<string> {
    if (this.closed) throw new Error('engine is closed');
    const job = this.newJob(spec, opts.id);
    await this.store.insertJob(job);
    if (opts.onLog) this.onLog(job.id, opts.onLog);
    if (opts.handOff && this.autoRun) this.handOff(job.id);
    else {
      this.workGen++;
      if (this.autoRun) void this.pump();
    }
    return job.id;
  }

  /**
   * Record a job that ran in-process and is already done (a flow's identity or skipped step, as
   * Windmill's identity jobs): stored as running, then completed at once, never claimed.
   */
  async record(spec: JobSpec, outcome: ExecOutcome): Promise<string> {
    if (this.closed) throw new Error('engine is closed');
    const now = new Date().toISOString();
    const job: JobRecord = {
      ...spec,
      id: newJobId(),
      status: 'running',
      created_at: now,
      started_at: now,
      permissionedAs: spec.permissionedAs ?? `u/${this.user}`,
      createdBy: spec.createdBy ?? this.user,
    };
    await this.store.insertJob(job);
    await this.complete(job, outcome, outcome.success ? 'success' : 'failure');
    return job.id;
  }

  /** The queued job record of `spec`. */
  private newJob(spec: JobSpec, id?: string): JobRecord {
    return {
      ...spec,
      id: id ?? newJobId(),
      status: 'queued',
      created_at: new Date().toISOString(),
      permissionedAs: spec.permissionedAs ?? `u/${this.user}`,
      createdBy: spec.createdBy ?? this.user,
    };
  }

  /** The ids of the jobs this engine runs now (a host's sweep leaves them alone: see SqlStore.requeueStale). */
  runningIds(): string[] {
    return [...this.running.keys()];
  }

  /** Subscribe to a job's log chunks as they are produced. Returns an unsubscribe function. */
  onLog(id: string, cb: (chunk: string) => void): () => void {
    const ev = `log:${id}`;
    this.events.on(ev, cb);
    return () => this.events.off(ev, cb);
  }

  /** Resolves with the job once it is final. */
  async wait(id: string): Promise<JobRecord> {
    let timer: NodeJS.Timeout | undefined;
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    const ev = `done:${id}`;
    this.events.once(ev, resolveDone);
    try {
      const j = await this.store.getJob(id);
      if (!j) throw new Error(`job ${id} not found`);
      if (isFinal(j.status)) return j;
      if (this.opts.pollMs) {
        // Another process may complete it: its notification resolves the wait at once.
        this.watch('done', (doneId) => this.events.emit(`done:${doneId}`));
        // Look at the store too (notifications can be lost while the listener reconnects).
        const poll = async () => {
          const cur = await this.store.getJob(id).catch(() => undefined);
          if (cur && isFinal(cur.status)) resolveDone();
          else timer = setTimeout(poll, this.opts.pollMs);
        };
        timer = setTimeout(poll, this.opts.pollMs);
      }
      await done;
      return (await this.store.getJob(id))!;
    } finally {
      if (timer) clearTimeout(timer);
      this.events.off(ev, resolveDone);
    }
  }

  /**
   * Cancel a job: a queued one completes as canceled at once; a running one has its process
   * group killed and then completes as canceled. Returns false when the job is already final.
   */
  async cancel(id: string, by = this.user, reason?: string): Promise<boolean> {
    const j = await this.store.getJob(id);
    if (!j || isFinal(j.status)) return false;
    const r = this.running.get(id);
    if (r) {
      r.reason ??= { kind: 'cancel', by, message: reason };
      r.abort.abort();
      return true;
    }
    // Claimed by this engine a moment ago, its run not started yet: the run starts canceled.
    // (A job claimed by another process learns of the cancel with its next heartbeat.)
    if (j.status === 'running' && j.worker === this.worker) this.cancelSoon.set(id, { by, reason });
    await this.store.updateJob(id, { cancel_requested: true, canceled_by: by, canceled_reason: reason });
    // A parked workflow's children go with it.
    for (const child of Object.values((j.wacState?.pending_steps?.job_ids ?? {}) as Record<string, string>)) {
      void this.cancel(child, by, 'parent workflow canceled').catch(() => undefined);
    }
    if (j.status === 'queued') {
      await this.complete(j, { success: false, result: canceledResult(by, reason) }, 'canceled', { by, reason });
    }
    return true;
  }

  /** Cancel everything still queued or running (used on Ctrl-C and shutdown). */
  async cancelAll(by = this.user, reason?: string): Promise<void> {
    const jobs = await this.store.listJobs({ status: ['queued', 'running'] });
    await Promise.all(jobs.map((j) => this.cancel(j.id, by, reason)));
  }

  /** Stop accepting work, cancel what runs, close the API server. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    for (const t of this.wakeTimers) clearTimeout(t);
    this.wakeTimers.clear();
    if (this.beatTimer) clearInterval(this.beatTimer);
    const watches = [...this.watches.values()];
    this.watches.clear();
    await Promise.all(watches.map(async (w) => (await w)?.().catch(() => undefined)));
    const ids = [...this.running.keys()];
    for (const id of ids) await this.cancel(id, this.user, 'runner shutting down');
    await Promise.all(ids.map((id) => this.wait(id).catch(() => undefined)));
    await this.discardPrewarms();
    await this.residents?.close();
    await this.logsWritten();
    const api = this.api ?? (this.apiStarting ? await this.apiStarting.catch(() => undefined) : undefined);
    if (api) await api.close();
  }

  private log(id: string, chunk: string): void {
    if (!chunk) return;
    this.events.emit(`log:${id}`, chunk);
    // A chunk is stored at once when no write is in flight; chunks arriving during a write go
    // together in the next one (a chatty job costs a write per store round trip, not per line,
    // and no timer delays a line). So what a worker killed with SIGKILL loses of the output it
    // read is at most what arrived during its last round trip to the store (README: Delivery).
    this.logPending.set(id, (this.logPending.get(id) ?? '') + chunk);
    this.logChain ??= this.writeLogs();
  }

  private readonly logPending = new Map<string, string>();
  /** The log writer while it runs; await logsWritten() for everything logged so far to be stored. */
  private logChain: Promise<void> | undefined;

  private async writeLogs(): Promise<void> {
    try {
      while (this.logPending.size) {
        const batch = [...this.logPending];
        this.logPending.clear();
        for (const [id, text] of batch) await this.store.appendLogs(id, text).catch(() => undefined);
      }
    } finally {
      this.logChain = undefined;
    }
  }

  private async logsWritten(): Promise<void> {
    if (this.logPending.size) this.logChain ??= this.writeLogs();
    while (this.logChain) await this.logChain;
  }

  private pumpAgain = false;

  private async pump(): Promise<void> {
    // A wake-up during a pull (whose empty answer may predate the job just queued) pulls again.
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        while (this.active < this.concurrency && !this.closed && this.handOffs.length) {
          const job = await this.store.claimById(this.worker, this.handOffs.shift()!, this.opts.tags);
          if (job) this.launch(job);
          // Taken by another worker, or a job of a higher priority comes first: pull the queue.
          else this.workGen++;
        }
        while (this.active < this.concurrency && !this.closed && this.emptyAtGen !== this.workGen) {
          const gen = this.workGen;
          const { jobs, more } = await this.store.claim(this.worker, this.concurrency - this.active, this.opts.tags);
          if (!more) this.emptyAtGen = gen;
          for (const job of jobs) this.launch(job);
          if (!jobs.length) break;
        }
      } while (this.pumpAgain && this.active < this.concurrency && !this.closed && (this.handOffs.length > 0 || this.emptyAtGen !== this.workGen));
    } finally {
      this.pumping = false;
    }
  }

  /**
   * Drop a finished (or parked) run's entry, unless it is already a newer run's: a parked
   * workflow can be claimed again, and its next round started, before this one has returned.
   */
  private forgetRun(id: string, run: Running): void {
    if (this.running.get(id) === run) this.running.delete(id);
  }

  /** Run a claimed job (in a worker slot unless it only orchestrates). */
  private launch(job: JobRecord): void {
    const slot = !DETACHED.has(job.kind);
    if (slot) this.active++;
    void this.execute(job).finally(() => {
      if (slot) this.active--;
      void this.pump();
    });
  }

  private async execute(job: JobRecord): Promise<void> {
    const run: Running = { abort: new AbortController() };
    this.running.set(job.id, run);
    let jobDir: string | undefined;
    let token: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    let outcome: ExecOutcome;
    let prewarmed: Prewarmed | undefined;
    let wac: PreparedRound | undefined;
    // The job's own token never reaches its logs (whoever may read them would get its rights).
    let redactor: StreamRedactor | undefined;
    const log = (c: string) => this.log(job.id, redactor ? redactor.push(c) : c);
    try {
      // A cancel that raced with the pull (see cancel()).
      const early = this.cancelSoon.get(job.id);
      if (early) {
        this.cancelSoon.delete(job.id);
        run.reason = { kind: 'cancel', by: early.by, message: early.reason };
      }

      // A job over its concurrency limit goes back to the queue until there is room.
      if (job.concurrency && !run.reason) {
        const at = await this.store.concurrencyGate(job);
        if (at !== undefined) {
          this.forgetRun(job.id, run);
          this.wakeAt(at);
          return;
        }
      }
      if (this.opts.authorize && !run.reason) await this.opts.authorize(job);
      const handler = this.opts.handlers?.[job.kind];
      const executor = handler ? undefined : await executorFor(job.language);
      if (handler && !run.reason) {
        timer = armTimeout(job, run);
        outcome = await handler(job, { signal: run.abort.signal, log });
      } else if (!executor) {
        outcome = { success: false, result: errorResult('ExecutionErr', `${job.language} is not supported by this runner yet`) };
      } else if (run.reason) {
        outcome = { success: false, result: null };
      } else {
        let args: Record<string, unknown>;
        try {
          const check = this.opts.checkReference;
          args = (await interpolate(job.args ?? {}, this.store, job.workspace, [], check ? (kind, path) => check(job, kind, path) : undefined)) as Record<string, unknown>;
        } catch (e) {
          const msg = e instanceof NotFoundError ? `${e.message} (argument reference)` : (e as Error).message;
          throw Object.assign(new Error(msg), { name: 'ExecutionErr' });
        }
        const apiBase = await this.apiBase();
        token = this.opts.mintToken ? this.opts.mintToken(job) : newToken();
        this.tokens.set(token, { token, jobId: job.id, workspace: job.workspace });
        redactor = new StreamRedactor([token]);
        // Workflow rounds and inline tasks run in a resident interpreter (executors/resident.ts).
        const dev = this.opts.devResidents && job.file ? this.opts.devResidents : undefined;
        const resident = this.residents && executor.resident && (dev || isWorkflowScript(job)) ? this.residents : undefined;
        if (!resident) {
          prewarmed = await this.takePrewarm(job.language);
          jobDir = prewarmed?.jobDir ?? mkdtempSync(join(this.tmpRoot, 'wmill-job-'));
        }
        timer = armTimeout(job, run);
        if (this.opts.prepare && jobDir) Object.assign(job, (await this.opts.prepare(job, jobDir)) ?? {});
        // What prepare wrote is the job's own to change (a sandboxed job runs as another uid).
        if (jobDir) giveToJob(this.config.sandbox, jobDir);
        if (isWorkflowScript(job)) {
          const prep = await prepareRound(job, this.store);
          if ('fail' in prep) throw Object.assign(new Error(prep.fail), { name: 'WorkflowError' });
          wac = prep;
          job.wac = { checkpoint: prep.checkpoint };
        }
        const jobVars = this.jobVars(job, token, apiBase, await this.opts.emailOf?.(job));
        if (resident) {
          const env = this.baseEnv();
          outcome = await resident.run({
            key: dev ? devResidentKey(job) : residentKey(job),
            launch: async (dir) => {
              const j = { ...job, ...((this.opts.prepare ? await this.opts.prepare({ ...job }, dir) : undefined) ?? {}) };
              return executor.resident!({ job: j, dir, env, config: this.config });
            },
            env,
            ...(this.opts.residentSpares
              ? {
                  spareKey: `${job.language}\u0000${JSON.stringify(this.config)}`,
                  spare: (dir: string) => executor.resident!({ dir, env, config: this.config }).command,
                }
              : {}),
            input: { args, argNames: job.argNames ?? null, env: jobVars, wac: job.wac ?? null, ...(dev ? { script: job.file, root: job.root ?? null, reload: dev.generation() } : {}) },
            log,
            signal: run.abort.signal,
            onCheckpoint: (body) => inlineCheckpoint(this.store, job.id, body),
          });
        } else outcome = await executor.run({
          job,
          args,
          jobDir: jobDir!,
          env: { ...this.baseEnv(), ...jobVars },
          jobVars,
          prewarmed,
          log,
          signal: run.abort.signal,
          config: this.config,
        });
      }
    } catch (e) {
      const err = e as Error;
      outcome = { success: false, result: errorResult(err.name === 'Error' ? 'ExecutionErr' : err.name, err.message, { stack: err.stack }) };
    } finally {
      // A prewarmed interpreter taken for this job but never reached by the executor must not linger.
      if (prewarmed) prewarmed.handle.kill();
      if (timer) clearTimeout(timer);
      if (token) this.tokens.delete(token);
      if (jobDir) rmSync(jobDir, { recursive: true, force: true });
      const held = redactor?.flush();
      redactor = undefined;
      if (held) this.log(job.id, held);
    }
    const reason = run.reason;
    const output = (outcome.result as { __wac?: Record<string, any> } | null)?.__wac;
    const failedKeys = (outcome.result as { __wac_keys?: unknown } | null)?.__wac_keys;
    if (outcome.result && typeof outcome.result === 'object' && '__wac_keys' in outcome.result) {
      // A failed round: a replay divergence explains it better than the error it led to.
      const { __wac_keys: _k, ...rest } = outcome.result as Record<string, unknown>;
      outcome = { ...outcome, result: rest };
      const diverged = wac && !job.wacKey ? checkKeySequence(wac.state, failedKeys) : undefined;
      if (diverged) outcome = { success: false, result: errorResult('ReplayDivergence', diverged) };
    }
    if (!reason && wac && outcome.success && output) {
      // A workflow round ended: complete, or park until its children/timer/approval.
      try {
        const next = await this.afterRound(job, wac.state, output);
        if (next === 'parked') {
          this.forgetRun(job.id, run);
          return;
        }
        outcome = next;
      } catch (e) {
        outcome = { success: false, result: errorResult('WorkflowError', (e as Error).message) };
      }
    }
    try {
      if (reason?.kind === 'cancel') {
        await this.complete(job, { success: false, result: canceledResult(reason.by, reason.message) }, 'canceled', {
          by: reason.by,
          reason: reason.message,
        });
      } else if (reason?.kind === 'timeout') {
        await this.complete(
          job,
          { success: false, result: errorResult('TimeoutError', `Job timed out after ${reason.seconds}s: its processes were killed`) },
          'failure',
        );
      } else {
        await this.complete(job, outcome, outcome.success ? 'success' : 'failure');
      }
    } catch (e) {
      // The store could not record the end (connection lost, chosen as a deadlock victim): the job
      // is still running there. This run is forgotten, so its heartbeats stop and a sweep re-queues
      // it (run again: at least once), instead of a job that stays running for ever.
      this.log(job.id, `\n[wmill] could not record the end of this run (${(e as Error).message}); the job will run again\n`);
    } finally {
      this.forgetRun(job.id, run);
    }
  }

  private async complete(
    job: JobRecord,
    outcome: ExecOutcome,
    status: 'success' | 'failure' | 'canceled',
    cancel?: { by: string; reason?: string },
  ): Promise<void> {
    const now = Date.now();
    const started = job.started_at ? Date.parse(job.started_at) : now;
    await this.logsWritten();
    const patch = {
      status,
      result: outcome.result ?? null,
      completed_at: new Date(now).toISOString(),
      duration_ms: Math.max(0, now - started),
      ...(cancel ? { canceled_by: cancel.by, canceled_reason: cancel.reason } : {}),
    };
    // A workflow's child is counted in its parent in the same step as it completes.
    const parent =
      job.parentJob && job.wacKey
        ? { id: job.parentJob, key: job.wacKey, value: status === 'success' ? (outcome.result ?? null) : failureMarker(job.wacKey, job.id, outcome.result) }
        : undefined;
    const { first, parentReady } = parent ? await this.store.completeChild(job.id, patch, parent) : { first: await this.store.completeJob(job.id, patch), parentReady: false };
    if (first && status === 'success' && job.cache) await this.store.cachePut(job.workspace, job.cache.key, outcome.result ?? null, job.cache.ttlS).catch(() => undefined);
    this.events.emit(`done:${job.id}`);
    this.events.removeAllListeners(`log:${job.id}`);
    if (parentReady) this.handOff(parent!.id);
    if (first && this.opts.afterComplete) {
      await this.opts.afterComplete({ ...job, status, result: outcome.result ?? null }).catch(() => undefined);
    }
  }

  private wakeTimers = new Set<NodeJS.Timeout>();

  /** Wake the worker loop at `at` (a parked workflow's timer). */
  private wakeAt(at: number): void {
    const t = setTimeout(() => {
      this.wakeTimers.delete(t);
      this.poke();
    }, Math.max(0, at - Date.now()) + 5);
    this.wakeTimers.add(t);
  }

  /** Act on a workflow round's output: the final outcome, or 'parked'. */
  private async afterRound(job: JobRecord, state: Record<string, any>, out: Record<string, any>): Promise<ExecOutcome | 'parked'> {
    if (!job.wacKey) {
      const diverged = checkKeySequence(state, out.keys);
      if (diverged) return { success: false, result: errorResult('ReplayDivergence', diverged) };
    }
    if (out.type !== 'complete') {
      // step() results the round recorded through the API (the fast path) are in the store.
      state.completed_steps = { ...(await this.store.stepsOf(job.id)), ...state.completed_steps };
    }
    // Park (with the children to queue, in the same step); a job no longer running is another
    // run's now (its worker was presumed dead and it was re-queued): that run decides.
    const park = async (suspend: number, untilMs: number, children: JobRecord[] = []) => {
      await this.logsWritten();
      if (!(await this.store.parkJob(job.id, { suspend, until: new Date(untilMs).toISOString(), state }, children))) return;
      this.events.emit(`parked:${job.id}`);
      for (const c of children) {
        if (this.autoRun) this.handOff(c.id);
        else this.workGen++;
      }
      if (suspend === 0 || untilMs <= Date.now()) this.handOff(job.id);
      else if (untilMs - Date.now() < 2 ** 31 - 1) this.wakeAt(untilMs);
    };
    switch (out.type) {
      case 'complete':
        return { success: true, result: out.result ?? null };
      case 'inline_checkpoint':
        state.completed_steps[out.key] = normalizeStepResult(out.key, out.result);
        await park(0, Date.now());
        return 'parked';
      case 'sleep': {
        const seconds = Math.max(0, Number(out.seconds) || 0) * (this.opts.sleepScale ?? 1);
        state.pending_steps = { mode: 'sleep', keys: [out.key] };
        this.log(job.id, `[wmill] workflow sleeping ${out.seconds}s (${out.key}); no worker is held\n`);
        await park(1, Date.now() + seconds * 1000);
        return 'parked';
      }
      case 'approval': {
        const key = String(out.key);
        const timeoutS = Math.max(1, Number(out.timeout) || 1800);
        state.approval_deadlines ??= {};
        state.approval_deadlines[key] ??= Date.now() + timeoutS * 1000;
        state.pending_steps = { mode: 'approval', keys: [key] };
        const urls = await this.opts.approvalUrls?.(job, key);
        // What the approval page shows: the step, its form and description, its deadline.
        state._approval = {
          key,
          timeout: timeoutS,
          deadline: new Date(state.approval_deadlines[key]).toISOString(),
          ...(out.form && typeof out.form === 'object' ? { form: out.form } : {}),
          ...(out.description !== undefined && out.description !== null ? { description: out.description } : {}),
          ...(urls ?? {}),
        };
        this.log(job.id, `[wmill] workflow waiting for approval '${key}'${urls ? `: resume ${urls.resume} , cancel ${urls.cancel}${urls.approvalPage ? ` , page ${urls.approvalPage}` : ''}` : ''}\n`);
        await park(1, state.approval_deadlines[key]);
        // An approval sent before the workflow reached this step (a getResumeUrls link used
        // early) or while it was parking: runnable at once. (Looked up after parking: a resume
        // recorded after this look-up wakes the parked job itself.)
        if (approvalEventFor(state, key, await this.store.listResumes(job.id))) {
          await this.store.wake(job.id);
          this.handOff(job.id);
        }
        this.opts.onApproval?.(job, key, urls);
        return 'parked';
      }
      case 'dispatch': {
        const steps = (out.steps ?? []) as {
          name: string; script: string; args?: Record<string, unknown>; key: string; dispatch_type: string; timeout?: number; tag?: string; priority?: number;
          cache_ttl?: number; concurrent_limit?: number; concurrency_key?: string; concurrency_time_window_s?: number;
        }[];
        if (!steps.length) return { success: false, result: errorResult('WorkflowError', 'the workflow dispatched no steps') };
        if (new Set(steps.map((s) => s.key)).size !== steps.length) return { success: false, result: errorResult('WorkflowError', 'duplicate step keys in one dispatch') };
        const ids: Record<string, string> = {};
        // cache_ttl: the same task with the same arguments twice in one dispatch runs once; the
        // later calls take the first one's result (state.wac_aliases, resolved by prepareRound).
        const cacheKeys = new Map<string, string>();
        const primaryOf = new Map<string, string>();
        const aliases: Record<string, string> = {};
        for (const s of steps) {
          const ck = Number(s.cache_ttl) > 0 ? taskCacheKey(job, s) : undefined;
          if (ck) cacheKeys.set(s.key, ck);
          const first = ck ? primaryOf.get(ck) : undefined;
          if (first) {
            aliases[s.key] = first;
            ids[s.key] = ids[first]!;
          } else {
            if (ck) primaryOf.set(ck, s.key);
            ids[s.key] = newJobId();
          }
        }
        const children = steps.filter((s) => !(s.key in aliases));
        if (Object.keys(aliases).length) state.wac_aliases = { ...(state.wac_aliases ?? {}), ...aliases };
        state.pending_steps = { mode: out.mode, keys: steps.map((s) => s.key), job_ids: ids };
        state.job_ids = { ...(state.job_ids ?? {}), ...ids };
        // The children are queued with the park, in one step: a child can never complete before its
        // parent waits for it, and a parent never waits for a child that was not queued. A step
        // answered now (from the cache, or a target that does not exist) is recorded in the park.
        const checkpoint = structuredClone(state.completed_steps);
        const jobs: JobRecord[] = [];
        let waiting = children.length;
        const doneNow = (key: string, value: unknown) => {
          state.completed_steps[key] = value ?? null;
          waiting--;
        };
        // Queued (and handed off) highest priority first (taken in that order, also on a free worker).
        const prio = (s: (typeof steps)[number]) => (typeof s.priority === 'number' && Number.isFinite(s.priority) ? s.priority : -Infinity);
        const byPriority = children.map((s, i) => ({ s, i })).sort((a, b) => (prio(a.s) === prio(b.s) ? a.i - b.i : prio(b.s) > prio(a.s) ? 1 : -1)).map((x) => x.s);
        for (const s of byPriority) {
          // cache_ttl: a result of the same task with the same arguments, younger than the ttl, is reused.
          const ttl = Number(s.cache_ttl);
          const cacheKey = cacheKeys.get(s.key);
          if (cacheKey) {
            const hit = await this.store.cacheGet(job.workspace, cacheKey);
            if (hit) {
              this.log(job.id, `[wmill] task '${s.name}' (${s.key}): result from the cache (cache_ttl ${ttl}s)\n`);
              doneNow(s.key, hit.value);
              continue;
            }
          }
          const limit = Number(s.concurrent_limit);
          const common: Partial<JobSpec> = {
            workspace: job.workspace,
            createdBy: job.createdBy,
            permissionedAs: job.permissionedAs,
            parentJob: job.id,
            wacKey: s.key,
            ...(s.timeout ? { timeoutS: s.timeout } : {}),
            ...(s.tag ? { tag: s.tag } : {}),
            ...(s.priority !== undefined ? { priority: s.priority } : {}),
            ...(cacheKey ? { cache: { key: cacheKey, ttlS: ttl } } : {}),
            ...(limit > 0
              ? {
                  concurrency: {
                    key: s.concurrency_key || (s.dispatch_type === 'inline' ? `${job.path}#${s.name}` : s.script),
                    limit: Math.floor(limit),
                    ...(Number(s.concurrency_time_window_s) > 0 ? { windowS: Number(s.concurrency_time_window_s) } : {}),
                  },
                }
              : {}),
          };
          let spec: JobSpec | undefined;
          let refused: { name: string; message: string } | undefined;
          if (s.dispatch_type === 'inline') {
            spec = {
              ...common, kind: job.kind, path: job.path, language: job.language, content: job.content, args: state.input_args ?? job.args ?? {},
              ...(job.file ? { file: job.file } : {}), ...(job.root ? { root: job.root } : {}), ...(job.scriptHash ? { scriptHash: job.scriptHash } : {}),
              wacState: { completed_steps: checkpoint },
            } as JobSpec;
          } else {
            const target = await this.opts.resolveTask?.(job, { script: s.script, dispatch_type: s.dispatch_type }).catch((e: Error) => {
              refused = { name: e.name === 'Error' ? 'NotFound' : e.name, message: e.message };
              return undefined;
            });
            if (target) spec = { ...common, args: s.args ?? {}, ...target } as JobSpec;
          }
          if (!spec) {
            const missing = failureMarker(s.key, undefined, { error: refused ?? { name: 'NotFound', message: taskNotFound(s.dispatch_type === 'flow' ? 'flow' : 'script', job.path, s.script) } });
            doneNow(s.key, missing);
            continue;
          }
          jobs.push(this.newJob(spec, ids[s.key]));
        }
        if (waiting === 0) delete state.pending_steps;
        await park(waiting, Date.now() + 14 * 24 * 3600 * 1000, jobs);
        return 'parked';
      }
      default:
        return { success: false, result: errorResult('WorkflowError', `unknown workflow output ${JSON.stringify(out.type)}`) };
    }
  }

  /**
   * What a job process starts from (its own WM_* variables come on top): the allow-list of
   * job-env.ts, or, for a local preview (inheritEnv), this process's environment without
   * Windmill's reserved variables.
   */
  private baseEnv(): Record<string, string | undefined> {
    return this.opts.inheritEnv ? inheritedEnv() : allowListedEnv();
  }

  /** The variables that make a process this job's (reserved WM_* variables, API location, job.env). */
  private jobVars(job: JobRecord, token: string, baseUrl: string, email?: string): Record<string, string> {
    const statePath = `${job.path}/user`;
    const user = job.permissionedAs?.startsWith('u/') ? job.permissionedAs.slice(2) : this.user;
    return {
      ...(job.env ?? {}),
      WM_TOKEN: token,
      WM_WORKSPACE: job.workspace,
      WM_JOB_ID: job.id,
      WM_JOB_PATH: job.path,
      WM_PERMISSIONED_AS: job.permissionedAs ?? `u/${this.user}`,
      WM_USERNAME: user,
      WM_EMAIL: email ?? `${user}@localhost`,
      WM_STATE_PATH: statePath,
      WM_STATE_PATH_NEW: statePath,
      WM_OBJECT_PATH: `${job.path.replace(/\//g, '_')}/${job.id}`,
      // A flow step: its flow job, the outermost flow job, and its module id.
      ...(job.flowStepId && job.parentJob
        ? { WM_FLOW_JOB_ID: job.parentJob, WM_ROOT_FLOW_JOB_ID: job.rootJob ?? job.parentJob, WM_FLOW_STEP_ID: job.flowStepId.replace(/#retry\d+$/, '') }
        : {}),
      WM_WORKER_GROUP: 'local',
      BASE_INTERNAL_URL: baseUrl,
      BASE_URL: baseUrl,
      WM_BASE_URL: baseUrl,
      ...noProxyFor(baseUrl, { ...this.baseEnv(), ...(job.env ?? {}) }),
    };
  }
}

/**
 * With a proxy in the job's environment (HTTP(S)_PROXY), the job's clients that honour it
 * (Python's urllib, requests, bun's fetch, curl) must still reach this runner's API directly:
 * its host joins NO_PROXY / no_proxy. The job's other requests keep the proxy.
 */
function noProxyFor(baseUrl: string, env: Record<string, string | undefined>): Record<string, string> {
  if (!['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY'].some((k) => env[k])) return {};
  let host: string;
  try {
    host = new URL(baseUrl).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return {};
  }
  const list = (env.no_proxy ?? env.NO_PROXY ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (!list.includes(host)) list.push(host);
  const value = list.join(',');
  return { NO_PROXY: value, no_proxy: value };
}

/**
 * What may share one resident interpreter: the same script content at the same path and file,
 * in the same workspace, run as the same user, on the same interpreter family.
 */
function residentKey(job: JobRecord): string {
  const h = createHash('sha256').update(job.content).digest('hex').slice(0, 32);
  return [job.language, job.workspace, job.permissionedAs ?? '', job.path, job.file ?? '', job.root ?? '', job.scriptHash ?? '', h].join('\u0000');
}

/** wmill dev: one resident per interpreter family, workspace, user and root, whatever the script (it names its file per job). */
function devResidentKey(job: JobRecord): string {
  return ['dev', job.language === 'nativets' ? 'bun' : job.language, job.workspace, job.permissionedAs ?? '', job.root ?? ''].join('\u0000');
}

/**
 * The cache key of a workflow task: the workflow, the task (or script) and its arguments, hashed
 * with object keys sorted (equal arguments give one key whatever their order).
 */
function taskCacheKey(job: JobRecord, s: { name: string; script: string; dispatch_type: string; args?: Record<string, unknown> }): string {
  const key = [job.path, s.dispatch_type, s.dispatch_type === 'inline' ? s.name : s.script, s.args ?? {}];
  // A preview runs code its user wrote, at a path of their choosing: its results are its user's
  // own, never read from (or written to) the cache of what is deployed at that path.
  return bodyHash(job.kind === 'preview' ? [...key, 'preview', job.permissionedAs ?? ''] : key);
}

/** The job's time limit: past it, the run is aborted with a timeout reason. */
function armTimeout(job: JobRecord, run: Running): NodeJS.Timeout | undefined {
  const seconds = job.timeoutS;
  if (!seconds || seconds <= 0) return undefined;
  return setTimeout(() => {
    run.reason ??= { kind: 'timeout', seconds };
    run.abort.abort();
  }, seconds * 1000);
}

function canceledResult(by: string, reason?: string) {
  return errorResult('Canceled', `Job canceled: ${reason ?? 'no reason given'} by ${by}`, { reason: reason ?? null, canceler: by });
}

function safeUsername(): string {
  try {
    return userInfo().username || 'local';
  } catch {
    return process.env.USER || 'local';
  }
}

function sanitizeUser(u: string): string {
  const s = u.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  return s || 'local';
}
