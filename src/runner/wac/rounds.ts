/**
 * Workflow-as-code v2 rounds (spec/windmill-server.md §6), engine side. A workflow job runs in
 * rounds: each round replays the body from the top against its checkpoint and ends with one
 * output (complete, dispatch, sleep, approval, inline_checkpoint). Between rounds the job is
 * parked (queued, not claimable until its children finished, its timer fired or an approval
 * arrived), so it holds no worker. Children are pushed only after the parent is parked, and a
 * child's completion is counted once, in the store, only if the parent waits for that child under
 * that key.
 *
 * Beyond the reference: every round reports the step keys it allocated, in order, and a replay
 * that reaches a different key at some position than an earlier round fails with the position,
 * the expected and the found key.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ResumeEvent, Store } from '../store.js';
import type { JobRecord } from '../types.js';

const TS_WAC = /import\s*(?:type\s+)?\{[^}]*\bworkflow\b[^}]*\}\s*from\s*["']windmill-client["']/;
const PY_WAC = /^\s*@(?:wmill\.)?workflow\b/m;

/** Whether a job's code is a workflow-as-code v2 script (the reference's `is_wac_v2`). */
export function isWorkflowScript(job: Pick<JobRecord, 'language' | 'content' | 'kind'>): boolean {
  if (!['script', 'preview'].includes(job.kind)) return false;
  const lang = job.language as string;
  if (lang === 'bun' || lang === 'bunnative' || lang === 'nativets') return TS_WAC.test(job.content);
  if (lang === 'python3') return PY_WAC.test(job.content) && /\bwmill\b/.test(job.content);
  return false;
}

/** resume id of a WAC approval: the first 4 bytes of SHA-256(step key), big-endian. */
export function approvalResumeId(key: string): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0);
}

export const SOURCE_CHANGED =
  'Workflow source code changed between replays. Cannot safely resume from checkpoint — step keys may have shifted. Please restart this workflow.';

export type WacState = Record<string, any>;

export interface PreparedRound {
  state: WacState;
  checkpoint: Record<string, unknown>;
}

/** The source the round will run: the file in place (preview) or the stored content. */
export function currentSource(job: JobRecord): string {
  if (job.file) {
    try {
      return readFileSync(job.file, 'utf8');
    } catch {
      return job.content;
    }
  }
  return job.content;
}

/** Build the checkpoint for this round (resolving a finished sleep or an arrived approval), or fail. */
export async function prepareRound(job: JobRecord, store: Store): Promise<PreparedRound | { fail: string }> {
  const state: WacState = structuredClone(job.wacState ?? {});
  state.completed_steps ??= {};
  // Calls of a cached task that shared another call's child (same task, same arguments) take its result.
  for (const [dup, first] of Object.entries((state.wac_aliases ?? {}) as Record<string, string>)) {
    if (!(dup in state.completed_steps) && first in state.completed_steps) {
      const v = state.completed_steps[first];
      state.completed_steps[dup] = isFailureMarker(v) ? { ...(v as Record<string, unknown>), step_key: dup } : v;
    }
  }
  if (job.wacKey) return { state, checkpoint: { completed_steps: state.completed_steps, _executing_key: job.wacKey } };
  state.input_args ??= job.args ?? {};
  state.job_ids ??= {};
  const hash = createHash('sha256').update(currentSource(job)).digest('hex').slice(0, 16);
  if (state.source_hash && state.source_hash !== hash) return { fail: SOURCE_CHANGED };
  state.source_hash = hash;
  const p = state.pending_steps as { mode: string; keys: string[] } | undefined;
  if (p?.mode === 'sleep') {
    state.completed_steps[p.keys[0]!] = true;
    delete state.pending_steps;
  } else if (p?.mode === 'approval') {
    const key = p.keys[0]!;
    const ev = approvalEventFor(state, key, await store.listResumes(job.id));
    if (ev) {
      state.completed_steps[key] = { value: ev.payload ?? null, approver: ev.approver ?? 'anonymous', approved: ev.approved };
      (state.consumed_resume_ids ??= []).push(ev.resumeId);
      delete state.pending_steps;
    } else if (job.suspendUntil && Date.parse(job.suspendUntil) <= Date.now()) {
      state.completed_steps[key] = { value: null, approver: null, approved: false };
      delete state.pending_steps;
    }
  } else if (p && (p.mode === 'parallel' || p.mode === 'sequential')) {
    return { fail: `workflow children (${p.keys.join(', ')}) did not complete within the parking timeout` };
  }
  return { state, checkpoint: { completed_steps: state.completed_steps, _executing_key: null } };
}

/**
 * The approval event approval step `key` takes (§6.8): the oldest one not taken yet that is
 * either bound to this step (its resume id) or open (a getResumeUrls link, or an authenticated
 * resume) — not bound to another step the workflow has reached.
 */
export function approvalEventFor(state: WacState, key: string, events: ResumeEvent[]): (ResumeEvent & { resumeId: number }) | undefined {
  const consumed = new Set<number>(state.consumed_resume_ids ?? []);
  const rid = approvalResumeId(key);
  const known = new Set<string>([...Object.keys(state.completed_steps ?? {}), ...(Array.isArray(state.key_sequence) ? state.key_sequence : []), ...Object.keys(state.approval_deadlines ?? {})]);
  known.delete(key);
  const others = new Set([...known].map(approvalResumeId));
  for (const e of events) {
    if (e.resumeId === undefined || consumed.has(e.resumeId)) continue;
    if (e.resumeId === rid || !others.has(e.resumeId)) return e as ResumeEvent & { resumeId: number };
  }
  return undefined;
}

/** The step key order check; returns a failure message on divergence and records the longer sequence. */
export function checkKeySequence(state: WacState, keys: unknown): string | undefined {
  if (!Array.isArray(keys)) return undefined;
  const prev: string[] = Array.isArray(state.key_sequence) ? state.key_sequence : [];
  for (let i = 0; i < Math.min(prev.length, keys.length); i++) {
    if (prev[i] !== keys[i]) {
      return `workflow replay diverged at step #${i + 1}: expected key '${prev[i]}' (recorded in an earlier round) but the code reached '${String(keys[i])}'; the workflow no longer calls its steps in the same order (non-deterministic code, or the code changed). Restart the workflow.`;
    }
  }
  if (keys.length > prev.length) state.key_sequence = keys;
  return undefined;
}

/** A failed child's (or step's) failure record, as the SDK reads it back into a TaskError. */
export function failureMarker(key: string, childId: string | undefined, result: unknown): Record<string, unknown> {
  const err = ((result as { error?: Record<string, unknown> })?.error ?? { name: 'Error', message: String(result) }) as Record<string, unknown>;
  const stack = typeof err.stack === 'string' ? err.stack.slice(0, 8192) : undefined;
  return {
    __wmill_error: true,
    message: String(err.message ?? 'task failed'),
    step_key: key,
    ...(childId ? { child_job_id: childId } : {}),
    result: { error: { name: String(err.name ?? 'Error'), message: String(err.message ?? ''), ...(stack ? { stack } : {}) } },
  };
}

/** Whether a recorded step value is a failure marker (what the SDK raises as a TaskError). */
const isFailureMarker = (v: unknown): boolean => !!v && typeof v === 'object' && !!(v as Record<string, unknown>).__wmill_error;

/** Normalize what the SDK posted for a step (a failure marker keeps a fixed shape). */
export function normalizeStepResult(key: string, result: unknown): unknown {
  if (isFailureMarker(result)) {
    const r = result as Record<string, any>;
    return failureMarker(key, r.child_job_id, r.result ?? { error: { name: 'Error', message: r.message } });
  }
  return result ?? null;
}

/** The step() fast path: record one step's result in a workflow's checkpoint (first write wins). */
export async function inlineCheckpoint(store: Store, jobId: string, body: Record<string, unknown>): Promise<{ failure?: unknown }> {
  const key = body.key;
  if (typeof key !== 'string' || !key) throw new Error('inline_checkpoint: key is required');
  if (!('result' in body)) throw new Error('inline_checkpoint: result is required');
  const value = normalizeStepResult(key, body.result);
  // The value stored matters only for a failed step: the SDK raises the stored failure.
  const r = await store.recordStep(jobId, key, value, { stored: isFailureMarker(value) });
  if (!r) throw new Error(`job ${jobId} not found`);
  return isFailureMarker(r.stored) ? { failure: r.stored } : {};
}
