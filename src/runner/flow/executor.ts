/**
 * The OpenFlow executor (spec/windmill-server.md §7), one implementation for preview and the
 * server. A flow job is orchestrated here: each step that runs code becomes its own child job
 * (rawscript, deployed script, sub-flow), control steps (loops, branches, identity) are
 * evaluated here, and the orchestration holds no worker: the engine runs flow jobs outside its
 * worker slots, and waiting for approvals is a poll of the store.
 *
 * Durable by replay: every finished step (including each loop iteration and branch) is
 * recorded in the job's flow status under a step key (`a`, `loop/3/b`, `br/1/c`), and a child
 * job in flight is recorded before it is awaited. A flow job that runs again (its worker died
 * and the sweep re-queued it) skips what is recorded and re-awaits the child in flight, so no
 * step runs twice once its result is recorded.
 */
import { evalExpr, ExprError } from './expr.js';
import type { FlowModule, FlowValue, InputTransform, ModuleValue } from '../../items/flow-schema.js';
import { validateFlow } from '../../items/flow-schema.js';
import type { JobRecord, JobSpec } from '../types.js';
import type { Language } from '../../workspace/languages.js';

export interface StepRecord {
  success: boolean;
  result: unknown;
  job?: string;
  /** The step was skipped (`skip_if`). */
  skipped?: boolean;
  /** A loop iteration or branch whose flow stopped early (`stop_after_if` inside it). */
  stopped?: { error: string | null };
}

/** What the flow job stores (also served as `flow_status` by the API). */
export interface FlowState {
  /** Finished steps by step key. */
  done: Record<string, StepRecord>;
  /** Child jobs in flight by step key. */
  running: Record<string, string>;
  /** Approval events already consumed by suspend steps. */
  consumedResumes: number;
  /** The suspend step waiting now, with its URLs. */
  waiting?: { key: string; since: string; urls?: ResumeUrls };
  /** An iteration or branch flow that a `stop_after_if` stopped (its parent decides what that means). */
  stopped?: { error: string | null };
}

export interface ResumeUrls {
  resume: string;
  cancel: string;
  approvalPage?: string;
}

export interface ResumeEvent {
  approved: boolean;
  payload: unknown;
  approver?: string;
}

export interface FlowHost {
  /** Queue a child job (returns its id). */
  submit(spec: JobSpec): Promise<string>;
  /** Record a child job that is already done (identity and skipped steps); returns its id. */
  record(spec: JobSpec, outcome: { success: boolean; result: unknown }): Promise<string>;
  /** Wait until a job is final. */
  wait(id: string): Promise<JobRecord>;
  /** A job as stored (an iteration's own flow status). */
  job(id: string): Promise<JobRecord | undefined>;
  cancel(id: string, reason: string): Promise<void>;
  /** A deployed (or local, in preview) script by path, or by exact hash. */
  resolveScript(path: string, hash?: string): Promise<{ content: string; language: Language; hash?: string } | undefined>;
  resolveFlow(path: string): Promise<FlowValue | undefined>;
  saveState(state: FlowState): Promise<void>;
  log(line: string): void;
  /** Approval events recorded for this flow job, oldest first. */
  resumes(): Promise<ResumeEvent[]>;
  resumeUrls(): Promise<ResumeUrls | undefined>;
  /** Called when a suspend step starts waiting (preview prints the URLs or approves at once). */
  onSuspend?(urls: ResumeUrls | undefined, stepId: string): void;
  signal: AbortSignal;
}

export class StepFailure extends Error {
  constructor(
    public stepId: string,
    public error: Record<string, unknown>,
  ) {
    super(String(error?.message ?? 'step failed'));
    this.name = 'StepFailure';
  }
}

class Stop {
  constructor(
    public result: unknown,
    public error?: string,
  ) {}
}

interface Scope {
  flow_input: Record<string, unknown>;
  results: Record<string, unknown>;
  previous_result: unknown;
  resume?: unknown;
  approvers?: string[];
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });

function errorOf(result: unknown): Record<string, unknown> {
  const e = (result as { error?: Record<string, unknown> })?.error;
  return e && typeof e === 'object' ? e : { name: 'Error', message: String(result) };
}

export interface FlowOutcome {
  success: boolean;
  result: unknown;
}

export class FlowRun {
  private state: FlowState;
  private flow: FlowValue;

  constructor(
    private job: JobRecord,
    private host: FlowHost,
    flow: unknown,
    prior?: FlowState,
  ) {
    this.flow = validateFlow(flow, `flow ${job.path}`);
    this.state = prior && typeof prior === 'object' && prior.done ? structuredClone(prior) : { done: {}, running: {}, consumedResumes: 0 };
  }

  private saving: Promise<void> = Promise.resolve();
  /** Saves are queued in order; a caller that needs the state durable awaits the returned promise. */
  private save = (): Promise<void> => {
    const snapshot = structuredClone(this.state);
    this.saving = this.saving.then(() => this.host.saveState(snapshot)).catch(() => undefined);
    return this.saving;
  };

  private where(m: FlowModule, field: string) {
    return `flow ${this.job.path}, module '${m.id}' ${field}`;
  }

  private ctx(scope: Scope, extra: Record<string, unknown> = {}) {
    return { flow_input: scope.flow_input, results: scope.results, previous_result: scope.previous_result, resume: scope.resume ?? null, approvers: scope.approvers ?? [], ...extra };
  }

  private transform(t: InputTransform | number | undefined, scope: Scope, m: FlowModule, field: string): unknown {
    if (t === undefined || t === null) return undefined;
    if (typeof t === 'number') return t;
    if (t.type === 'static') return (t as { value?: unknown }).value ?? null;
    return evalExpr((t as { expr: string }).expr, this.ctx(scope), this.where(m, field));
  }

  private args(transforms: Record<string, InputTransform> | undefined, scope: Scope, m: FlowModule, extra: Record<string, unknown> = {}) {
    const out: Record<string, unknown> = {};
    for (const [k, t] of Object.entries(transforms ?? {})) {
      out[k] = t.type === 'static' ? ((t as { value?: unknown }).value ?? null) : evalExpr((t as { expr: string }).expr, this.ctx(scope, extra), this.where(m, `input '${k}'`));
    }
    return out;
  }

  /** Run a child job for a step key, or reuse its recorded outcome. */
  private async child(key: string, spec: JobSpec): Promise<StepRecord> {
    const done = this.state.done[key];
    if (done) return done;
    let id = this.state.running[key];
    if (!id) {
      id = await this.host.submit({ ...spec, parentJob: this.job.id, flowStepId: key, rootJob: this.job.rootJob ?? this.job.id });
      this.state.running[key] = id;
      // Recorded in the background while the child runs (for progress views and re-attaching after
      // a restart); a step's result is always awaited (record) before the flow moves on.
      void this.save();
    }
    const j = await this.host.wait(id);
    const rec: StepRecord = { success: j.status === 'success', result: j.result ?? null, job: id };
    const stopped = (j.flowState as FlowState | undefined)?.stopped;
    if (stopped && rec.success) rec.stopped = stopped;
    return rec;
  }

  /** A step that runs no code (identity, skipped, an empty branch): recorded as a finished job of its own. */
  private async instant(key: string, m: FlowModule, outcome: { success: boolean; result: unknown }, extra: Partial<StepRecord> = {}): Promise<StepRecord> {
    const done = this.state.done[key];
    if (done) return done;
    const id = await this.host.record(
      { workspace: this.job.workspace, kind: 'identity', path: this.job.path, language: 'flow' as Language, content: '', args: {}, createdBy: this.job.createdBy, permissionedAs: this.job.permissionedAs, parentJob: this.job.id, flowStepId: key, rootJob: this.job.rootJob ?? this.job.id },
      outcome,
    );
    const rec: StepRecord = { ...outcome, job: id, ...extra };
    await this.record(key, rec);
    return rec;
  }

  /**
   * One loop iteration or branch: a flow job of its own running `modules`, with `flowInput` as its
   * input and what the enclosing flow's steps see (`scope`); recorded under `key`.
   */
  private async subflow(key: string, modules: FlowModule[], flowInput: Record<string, unknown>, scope: Scope, previous: unknown): Promise<StepRecord> {
    const done = this.state.done[key];
    if (done) return done;
    const rec = await this.child(key, {
      workspace: this.job.workspace,
      kind: 'flow',
      path: this.job.path,
      language: 'flow' as Language,
      content: '',
      flow: { modules },
      args: flowInput,
      flowScope: { results: scope.results, previous_result: previous, ...(scope.resume !== undefined ? { resume: scope.resume } : {}), ...(scope.approvers ? { approvers: scope.approvers } : {}) },
      createdBy: this.job.createdBy,
      permissionedAs: this.job.permissionedAs,
    });
    await this.record(key, rec);
    return rec;
  }

  /**
   * The results of the steps an iteration or branch flow ran (job `jobId` running `modules`), by
   * step id, including those of the branches they took: what `results.<id>` sees after a
   * branch-one, and what a while loop's `stop_after_if` sees, as when they ran inline.
   */
  private async innerResults(jobId: string | undefined, modules: FlowModule[], depth = 0): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    if (!jobId || depth > 20) return out;
    const done = ((await this.host.job(jobId))?.flowState as FlowState | undefined)?.done ?? {};
    for (const im of modules) {
      if (done[im.id]) out[im.id] = done[im.id]!.result;
      if (im.value.type !== 'branchone') continue;
      const branch = Object.keys(done).find((k) => k.startsWith(`${im.id}/`) && !k.slice(im.id.length + 1).includes('/') && k !== `${im.id}/suspend`);
      if (!branch) continue;
      const which = branch.slice(im.id.length + 1);
      const mods = which === 'default' ? (im.value.default ?? []) : (im.value.branches[Number(which)]?.modules ?? []);
      Object.assign(out, await this.innerResults(done[branch]!.job, mods, depth + 1));
    }
    return out;
  }

  /** The failure of an iteration or branch flow, as the failure of the step inside it. */
  private subFailure(m: FlowModule, rec: StepRecord): StepFailure {
    const { step_id, ...err } = errorOf(rec.result) as Record<string, unknown> & { step_id?: unknown };
    return new StepFailure(typeof step_id === 'string' && step_id ? step_id : m.id, err);
  }

  private async record(key: string, rec: StepRecord) {
    this.state.done[key] = rec;
    delete this.state.running[key];
    await this.save();
  }

  async run(): Promise<FlowOutcome> {
    const nested = this.job.flowScope;
    const scope: Scope = nested
      ? { flow_input: this.job.args ?? {}, results: { ...(nested.results ?? {}) }, previous_result: nested.previous_result ?? null, resume: nested.resume, approvers: nested.approvers }
      : { flow_input: this.job.args ?? {}, results: {}, previous_result: this.job.args ?? {} };
    try {
      const r = await this.modules(this.flow.modules, scope, '');
      if (this.flow.early_return) return { success: true, result: evalExpr(this.flow.early_return, this.ctx(scope), `flow ${this.job.path} early_return`) };
      return { success: true, result: r };
    } catch (e) {
      if (e instanceof Stop) {
        if (nested) {
          // An iteration or branch: the enclosing flow decides what a stop means there.
          this.state.stopped = { error: e.error ?? null };
          await this.save();
          return { success: true, result: e.result };
        }
        if (e.error !== undefined) return this.failed(new StepFailure('stop_after_if', { name: 'StopAfterIf', message: e.error, result: e.result }), scope);
        return { success: true, result: e.result };
      }
      if (this.host.signal.aborted) throw e;
      return this.failed(e, scope);
    }
  }

  private async failed(e: unknown, scope: Scope): Promise<FlowOutcome> {
    const err =
      e instanceof StepFailure
        ? { ...e.error, step_id: e.stepId }
        : { name: (e as Error)?.name ?? 'Error', message: (e as Error)?.message ?? String(e), step_id: (e as { stepId?: string })?.stepId ?? null };
    const fm = this.flow.failure_module;
    if (!fm) return { success: false, result: { error: err } };
    const fscope: Scope = { ...scope, previous_result: { error: err } };
    try {
      const r = await this.step(fm, fscope, 'failure', { error: err });
      return { success: false, result: r };
    } catch (e2) {
      const e2err = e2 instanceof StepFailure ? e2.error : { message: (e2 as Error).message };
      return { success: false, result: { error: { ...err, failure_module_error: e2err } } };
    }
  }

  /** Run steps in order; returns the last step's result. */
  private async modules(mods: FlowModule[], scope: Scope, prefix: string): Promise<unknown> {
    let last: unknown = scope.previous_result;
    for (const m of mods) {
      if (this.host.signal.aborted) throw this.host.signal.reason;
      const key = `${prefix}${m.id}`;
      last = await this.step(m, scope, key);
    }
    return last;
  }

  private async step(m: FlowModule, scope: Scope, key: string, extra: Record<string, unknown> = {}): Promise<unknown> {
    const recorded = this.state.done[key];
    let rec: StepRecord;
    if (recorded) {
      rec = recorded;
    } else {
      if (m.skip_if?.expr && evalExpr(m.skip_if.expr, this.ctx(scope, extra), this.where(m, 'skip_if'))) {
        this.host.log(`====== ${m.id}: skipped ======\n`);
        rec = await this.instant(key, m, { success: true, result: null }, { skipped: true });
      } else {
        const pause = this.transform(m.sleep, scope, m, 'sleep');
        if (typeof pause === 'number' && pause > 0) await sleep(pause * 1000, this.host.signal);
        this.host.log(`====== ${m.id}${m.summary ? `: ${m.summary}` : ''} ======\n`);
        rec = await this.withRetry(m, scope, key, extra);
        if (!rec.success && m.continue_on_error) rec = { ...rec, success: true };
        if (this.state.done[key] !== rec) await this.record(key, rec);
      }
    }
    if (!rec.success) throw new StepFailure(m.id, errorOf(rec.result));
    scope.results[m.id] = rec.result;
    scope.previous_result = rec.result;
    if (m.suspend && (m.suspend.required_events ?? 1) > 0) await this.suspend(m, scope, key);
    if (m.stop_after_if?.expr && evalExpr(m.stop_after_if.expr, { ...this.ctx(scope), result: rec.result }, this.where(m, 'stop_after_if'))) {
      this.host.log(`stop_after_if of '${m.id}' is true: stopping\n`);
      throw new Stop(rec.result, m.stop_after_if.error_message ?? undefined);
    }
    return rec.result;
  }

  private async withRetry(m: FlowModule, scope: Scope, key: string, extra: Record<string, unknown>): Promise<StepRecord> {
    const r = m.retry ?? {};
    const attempts = (r.constant?.attempts ?? 0) + (r.exponential?.attempts ?? 0);
    for (let attempt = 0; ; attempt++) {
      const k = attempt === 0 ? key : `${key}#retry${attempt}`;
      let rec: StepRecord;
      try {
        rec = await this.value(m, m.value, scope, k, extra);
      } catch (e) {
        if (e instanceof StepFailure || e instanceof Stop || e instanceof ExprError || this.host.signal.aborted) throw e;
        rec = { success: false, result: { error: { name: (e as Error).name, message: (e as Error).message } } };
      }
      if (rec.success || attempt >= attempts) return rec;
      if (r.retry_if?.expr && !evalExpr(r.retry_if.expr, { ...this.ctx(scope), result: rec.result, error: errorOf(rec.result) }, this.where(m, 'retry_if'))) return rec;
      // A failed attempt is kept apart from the step's own key (which holds its final outcome);
      // the first attempt's child stays in `running` so a replay re-awaits it.
      if (attempt === 0) {
        this.state.done[`${key}#retry0`] = rec;
        await this.save();
      } else await this.record(k, rec);
      let seconds: number;
      if (r.constant && attempt < (r.constant.attempts ?? 0)) seconds = r.constant.seconds ?? 0;
      else {
        const ex = r.exponential!;
        const n = attempt - (r.constant?.attempts ?? 0);
        seconds = (ex.seconds ?? 1) * Math.pow(ex.multiplier ?? 2, n);
        const rf = Math.min(100, Math.max(0, ex.random_factor ?? 0)) / 100;
        if (rf) seconds *= 1 - rf + Math.random() * 2 * rf;
      }
      this.host.log(`'${m.id}' failed (attempt ${attempt + 1} of ${attempts + 1}): retrying in ${seconds.toFixed(2)}s\n`);
      await sleep(seconds * 1000, this.host.signal);
    }
  }

  /** A step's script or flow, as the host resolves it; a refusal (the flow's user may not run it) fails the step with the host's message. */
  private async resolved<T>(m: FlowModule, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      const err = e as Error;
      throw new StepFailure(m.id, { name: err.name === 'Error' ? 'NotFound' : err.name, message: err.message });
    }
  }

  private async value(m: FlowModule, v: ModuleValue, scope: Scope, key: string, extra: Record<string, unknown>): Promise<StepRecord> {
    const base = { workspace: this.job.workspace, createdBy: this.job.createdBy, permissionedAs: this.job.permissionedAs, ...(m.timeout ? { timeoutS: m.timeout } : {}) };
    switch (v.type) {
      case 'identity':
        return this.instant(key, m, { success: true, result: scope.previous_result ?? null });
      case 'rawscript': {
        const args = this.args(v.input_transforms, scope, m, extra);
        return this.child(key, { ...base, kind: 'flowscript', path: `${this.job.path}/${m.id}`, language: v.language as Language, content: v.content, args, ...(v.tag ? { tag: v.tag } : {}) });
      }
      case 'script': {
        const args = this.args(v.input_transforms, scope, m, extra);
        const s = this.state.done[key] || this.state.running[key] ? undefined : await this.resolved(m, () => this.host.resolveScript(v.path, v.hash ?? undefined));
        if (!s && !this.state.done[key] && !this.state.running[key]) throw new StepFailure(m.id, { name: 'NotFound', message: `script ${v.path}${v.hash ? ` (hash ${v.hash})` : ''} not found` });
        return this.child(key, { ...base, kind: 'script', path: v.path, language: (s?.language ?? 'bash') as Language, content: s?.content ?? '', args, ...(s?.hash ? { scriptHash: s.hash } : {}) });
      }
      case 'flow': {
        const args = this.args(v.input_transforms, scope, m, extra);
        const f = this.state.done[key] || this.state.running[key] ? undefined : await this.resolved(m, () => this.host.resolveFlow(v.path));
        if (!f && !this.state.done[key] && !this.state.running[key]) throw new StepFailure(m.id, { name: 'NotFound', message: `flow ${v.path} not found` });
        return this.child(key, { ...base, kind: 'flow', path: v.path, language: 'flow' as Language, content: '', flow: f, args });
      }
      case 'forloopflow': {
        const items = this.transform(v.iterator, scope, m, 'iterator');
        if (!Array.isArray(items)) throw new StepFailure(m.id, { name: 'IteratorError', message: `module '${m.id}': the iterator is not a list (got ${items === null ? 'null' : typeof items})` });
        const par = v.parallel ? Math.max(1, Number(this.transform(v.parallelism as InputTransform | number | undefined, scope, m, 'parallelism') ?? items.length) || items.length) : 1;
        const out: unknown[] = new Array(items.length);
        let next = 0;
        const runOne = async (i: number) => {
          const rec = await this.subflow(`${key}/${i}`, v.modules, { ...scope.flow_input, iter: { value: items[i], index: i } }, scope, scope.previous_result);
          // A stop inside an iteration ends that iteration only.
          if (rec.success) out[i] = rec.result;
          else if (v.skip_failures) out[i] = { error: this.subFailure(m, rec).error };
          else throw this.subFailure(m, rec);
        };
        const workers = Array.from({ length: Math.min(par, items.length) }, async () => {
          while (next < items.length) await runOne(next++);
        });
        await Promise.all(workers);
        return { success: true, result: out };
      }
      case 'whileloopflow': {
        const out: unknown[] = [];
        for (let i = 0; ; i++) {
          if (this.host.signal.aborted) throw this.host.signal.reason;
          const flowInput = { ...scope.flow_input, iter: { value: i, index: i } };
          const previous = i === 0 ? scope.previous_result : out[i - 1];
          const rec = await this.subflow(`${key}/${i}`, v.modules, flowInput, scope, previous);
          if (rec.stopped) {
            out.push(rec.result);
            break;
          }
          const r = rec.success ? rec.result : v.skip_failures ? { error: this.subFailure(m, rec).error } : undefined;
          if (!rec.success && !v.skip_failures) throw this.subFailure(m, rec);
          out.push(r);
          if (m.stop_after_if?.expr) {
            // The condition sees the iteration's own step results, as when it ran inline.
            const results = { ...scope.results, ...(await this.innerResults(rec.job, v.modules)) };
            const iscope: Scope = { flow_input: flowInput, results, previous_result: r };
            if (evalExpr(m.stop_after_if.expr, { ...this.ctx(iscope), result: r }, this.where(m, 'stop_after_if'))) break;
          }
        }
        // The loop's own stop_after_if ended the loop, not the flow.
        return { success: true, result: out };
      }
      case 'branchone': {
        let chosen = -1;
        for (let i = 0; i < v.branches.length; i++) {
          if (evalExpr(v.branches[i]!.expr, this.ctx(scope, extra), this.where(m, `branches[${i}].expr`))) {
            chosen = i;
            break;
          }
        }
        const mods = chosen >= 0 ? v.branches[chosen]!.modules : v.default ?? [];
        this.host.log(`'${m.id}': ${chosen >= 0 ? `branch ${chosen}${v.branches[chosen]!.summary ? ` (${v.branches[chosen]!.summary})` : ''}` : 'default branch'}\n`);
        const bkey = `${key}/${chosen >= 0 ? chosen : 'default'}`;
        const rec = mods.length
          ? await this.subflow(bkey, mods, scope.flow_input, scope, scope.previous_result)
          : await this.instant(bkey, m, { success: true, result: scope.previous_result ?? null });
        // The branch's steps are visible to the steps after it (`results.<id>`), as when it ran inline.
        if (mods.length) Object.assign(scope.results, await this.innerResults(rec.job, mods));
        if (rec.stopped) throw new Stop(rec.result, rec.stopped.error ?? undefined);
        if (!rec.success) throw this.subFailure(m, rec);
        return { success: true, result: rec.result };
      }
      case 'branchall': {
        const out: unknown[] = new Array(v.branches.length);
        const runBranch = async (i: number) => {
          const b = v.branches[i]!;
          const bkey = `${key}/${i}`;
          const rec = b.modules.length
            ? await this.subflow(bkey, b.modules, scope.flow_input, scope, scope.previous_result)
            : await this.instant(bkey, m, { success: true, result: scope.previous_result ?? null });
          if (rec.stopped) throw new Stop(rec.result, rec.stopped.error ?? undefined);
          if (rec.success) out[i] = rec.result;
          else if (b.skip_failure) out[i] = { error: this.subFailure(m, rec).error };
          else throw this.subFailure(m, rec);
        };
        if (v.parallel) await Promise.all(v.branches.map((_b, i) => runBranch(i)));
        else for (let i = 0; i < v.branches.length; i++) await runBranch(i);
        return { success: true, result: out };
      }
    }
  }

  /** Wait for the approvals a `suspend` step requires (holding no worker: a poll of the store). */
  private async suspend(m: FlowModule, scope: Scope, key: string) {
    const susKey = `${key}/suspend`;
    const done = this.state.done[susKey];
    if (!done) {
      const required = m.suspend?.required_events ?? 1;
      const timeoutS = m.suspend?.timeout ?? 30 * 24 * 3600;
      const since = this.state.waiting?.key === susKey ? this.state.waiting.since : new Date().toISOString();
      const urls = await this.host.resumeUrls();
      this.state.waiting = { key: susKey, since, urls };
      await this.save();
      this.host.log(`'${m.id}' is waiting for ${required} approval(s)${urls ? `: resume ${urls.resume} , cancel ${urls.cancel}` : ''}\n`);
      this.host.onSuspend?.(urls, m.id);
      const deadline = Date.parse(since) + timeoutS * 1000;
      let outcome: StepRecord | undefined;
      while (!outcome) {
        const events = (await this.host.resumes()).slice(this.state.consumedResumes);
        const denied = events.find((e) => !e.approved);
        const approved = events.filter((e) => e.approved);
        if (denied) outcome = { success: false, result: { error: { name: 'Disapproved', message: `'${m.id}' was disapproved${denied.approver ? ` by ${denied.approver}` : ''}`, resume: denied.payload ?? null } } };
        else if (approved.length >= required) {
          const used = approved.slice(0, required);
          outcome = { success: true, result: { resume: used[used.length - 1]!.payload ?? null, approvers: used.map((e) => e.approver ?? 'anonymous') } };
          this.state.consumedResumes += events.indexOf(used[used.length - 1]!) + 1;
        } else if (Date.now() > deadline) {
          outcome = m.suspend?.continue_on_disapprove_timeout
            ? { success: true, result: { resume: null, approvers: [] } }
            : { success: false, result: { error: { name: 'Timeout', message: `'${m.id}' got no approval within ${timeoutS}s` } } };
        } else await sleep(200, this.host.signal);
      }
      if (denied(outcome)) this.state.consumedResumes = (await this.host.resumes()).length;
      delete this.state.waiting;
      await this.record(susKey, outcome);
    }
    const rec = this.state.done[susKey]!;
    if (!rec.success) throw new StepFailure(m.id, errorOf(rec.result));
    const r = rec.result as { resume: unknown; approvers: string[] };
    scope.resume = r.resume;
    scope.approvers = r.approvers;
  }
}

function denied(rec: StepRecord): boolean {
  return !rec.success;
}
