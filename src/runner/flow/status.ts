/**
 * A flow job's `flow_status` as Windmill's API shows it (spec/windmill-server.md §7.6), made
 * from what the executor records (pure: state in, view out). Every top-level module names a
 * job once it started: a script step its job; a loop its iterations' flow jobs in `flow_jobs`
 * (with `flow_jobs_success` and `iterator.index`) and the latest one in `job`; a branch-one the
 * flow job of the branch taken (`branch_chosen`); a branch-all its branches' flow jobs
 * (`branchall`); identity and skipped steps their recorded job. The real windmill-cli's
 * `flow run` follows exactly these fields to print each step's logs.
 */
import type { FlowState, StepRecord } from './executor.js';
import type { FlowModule, FlowValue } from '../../items/flow-schema.js';

/** Windmill's id for "no job" (an empty loop): truthy for clients that test `module.job`. */
const NIL = '00000000-0000-0000-0000-000000000000';

type Status = 'WaitingForPriorSteps' | 'WaitingForEvents' | 'InProgress' | 'Success' | 'Failure';

export interface ModuleStatus {
  id: string;
  type: Status;
  job?: string | null;
  flow_jobs?: string[];
  flow_jobs_success?: (boolean | null)[];
  iterator?: { index: number };
  branch_chosen?: { type: 'branch'; branch: number } | { type: 'default' };
  branchall?: { branch: number; len: number };
  failed_retries?: string[];
  skipped?: boolean;
  resume_urls?: unknown;
  result?: unknown;
}

export interface FlowStatusView {
  step: number;
  modules: ModuleStatus[];
  failure_module?: ModuleStatus;
}

/** The child keys of a module (`<id>/<n>` iterations or branches, `<id>/default`), with their job and outcome. */
function children(st: FlowState, id: string): Map<string, { job?: string; rec?: StepRecord }> {
  const out = new Map<string, { job?: string; rec?: StepRecord }>();
  const prefix = `${id}/`;
  const sub = (k: string) => (k.startsWith(prefix) && !k.slice(prefix.length).includes('/') ? k.slice(prefix.length) : undefined);
  for (const [k, jobId] of Object.entries(st.running ?? {})) {
    const s = sub(k);
    if (s !== undefined) out.set(s, { job: jobId });
  }
  for (const [k, rec] of Object.entries(st.done ?? {})) {
    const s = sub(k);
    if (s !== undefined && s !== 'suspend') out.set(s, { job: rec.job, rec });
  }
  return out;
}

function moduleStatus(m: FlowModule, st: FlowState): ModuleStatus {
  const id = m.id;
  const d = st.done?.[id];
  const subs = children(st, id);
  // Retries: the step's later attempts run under `<id>#retry<n>`; the latest in flight is the one shown.
  const attempts = Object.entries(st.running ?? {})
    .filter(([k]) => k === id || k.startsWith(`${id}#retry`))
    .sort(([a], [b]) => (Number(a.split('#retry')[1] ?? 0) || 0) - (Number(b.split('#retry')[1] ?? 0) || 0));
  const failedRetries = Object.entries(st.done ?? {})
    .filter(([k, r]) => k.startsWith(`${id}#retry`) && !r.success && r.job)
    .map(([, r]) => r.job!);
  let type: Status;
  if (st.waiting?.key === `${id}/suspend`) type = 'WaitingForEvents';
  else if (d) type = d.success ? 'Success' : 'Failure';
  else if (attempts.length || subs.size) type = 'InProgress';
  else type = 'WaitingForPriorSteps';
  const out: ModuleStatus = { id, type };
  const kind = m.value.type;
  if (kind === 'forloopflow' || kind === 'whileloopflow' || kind === 'branchall') {
    const entries = [...subs.entries()].filter(([k]) => /^\d+$/.test(k)).sort(([a], [b]) => Number(a) - Number(b));
    if (entries.length || d) {
      out.flow_jobs = entries.map(([, c]) => c.job ?? NIL);
      out.flow_jobs_success = entries.map(([, c]) => (c.rec ? c.rec.success : null));
      const failed = entries.find(([, c]) => c.rec && !c.rec.success);
      const last = entries[entries.length - 1];
      out.job = (failed ?? last)?.[1].job ?? NIL;
      const index = last ? Number(last[0]) : 0;
      if (kind === 'branchall') out.branchall = { branch: index, len: m.value.branches.length };
      else out.iterator = { index };
    }
  } else if (kind === 'branchone') {
    const [branch, c] = [...subs.entries()][0] ?? [];
    if (branch !== undefined) {
      out.job = c?.job ?? null;
      out.branch_chosen = branch === 'default' ? { type: 'default' } : { type: 'branch', branch: Number(branch) };
    }
  } else {
    out.job = d?.job ?? attempts[attempts.length - 1]?.[1] ?? null;
  }
  if (failedRetries.length) out.failed_retries = failedRetries;
  if (d?.skipped) out.skipped = true;
  if (type === 'WaitingForEvents') out.resume_urls = st.waiting?.urls ?? null;
  if (d) out.result = d.result;
  return out;
}

/** A flow job's status: one entry per top-level module, plus the failure module. */
export function flowStatusOf(flow: FlowValue | undefined, state: unknown): FlowStatusView | undefined {
  if (!flow?.modules) return undefined;
  const st = (state && typeof state === 'object' ? state : { done: {}, running: {} }) as FlowState;
  const modules = flow.modules.map((m) => moduleStatus(m, st));
  const step = modules.findIndex((m) => m.type !== 'Success');
  return {
    step: step < 0 ? modules.length : step,
    modules,
    ...(flow.failure_module ? { failure_module: moduleStatus({ ...flow.failure_module, id: 'failure' }, st) } : {}),
  };
}
