/**
 * The job model shared by every host of the engine (preview now, `wmill serve` later).
 * Shapes follow spec/windmill-server.md §2.6 and §5 so the HTTP layer can expose them as is.
 */
import type { Language } from '../workspace/languages.js';

export type JobStatus = 'queued' | 'running' | 'success' | 'failure' | 'canceled';

export type JobKind = 'preview' | 'script' | 'dependencies' | 'flowdependencies' | 'flowscript' | 'flow' | 'flowpreview' | 'identity';

/** What a caller submits. */
export interface JobSpec {
  workspace: string;
  kind: JobKind;
  /** Windmill path of the runnable (e.g. f/examples/hello). */
  path: string;
  language: Language;
  /** The code that runs (stored on the job, as Windmill stores `raw_code` for previews). */
  content: string;
  /**
   * Absolute path of the file on disk when the code is run in place (preview), so that relative
   * imports resolve against the workspace. Without it the executor writes `content` to the job dir.
   */
  file?: string;
  /** Root of the workspace folder (for `from f.x import y` in Python, module resolution). */
  root?: string;
  args: Record<string, unknown>;
  /** Argument names in signature order, when known (from the schema); executors fall back to introspection. */
  argNames?: string[];
  /** Seconds; the job is killed and fails when exceeded. */
  timeoutS?: number;
  createdBy?: string;
  /** `u/<user>` or `g/<group>`. */
  permissionedAs?: string;
  tag?: string;
  /** Extra environment for the job process. */
  env?: Record<string, string>;
  /** The deployed version this job runs (`run/h`, or resolved from the path at submission). */
  scriptHash?: string;
  /** ISO time before which the job is not pulled (delayed runs, schedule ticks). */
  scheduledFor?: string;
  /** The schedule that queued this job. */
  schedulePath?: string;
  /** Higher first. */
  priority?: number;
  /** The flow job this job is a step of (or the job that started it), and its step key. */
  parentJob?: string;
  flowStepId?: string;
  /** The outermost flow job of the flow this job is a step of (set on flow steps). */
  rootJob?: string;
  /** Flow jobs: the OpenFlow value that runs. */
  flow?: unknown;
  /**
   * A loop iteration or branch run as a flow job of its own (as Windmill runs them): what its
   * steps see of the enclosing flow (earlier steps' results, the previous result, approvals).
   */
  flowScope?: { results: Record<string, unknown>; previous_result: unknown; resume?: unknown; approvers?: string[] };
  /** Workflow-as-code: the step key this child job executes for its parent workflow. */
  wacKey?: string;
  /** Workflow-as-code: the checkpoint document (completed steps, pending children, ...). */
  wacState?: Record<string, any>;
  /** Workflow-as-code: set by the engine for one round; the executor hands it to the wrapper. */
  wac?: { checkpoint: Record<string, unknown> };
  /** Keep a successful result under `key` for `ttlS` seconds (a task's `cache_ttl`). */
  cache?: { key: string; ttlS: number };
  /**
   * At most `limit` jobs of `key` (per workspace) run at once, or start within the last `windowS`
   * seconds when set (a task's `concurrency_limit` / `concurrency_key` / `concurrency_time_window_s`);
   * a job over the limit waits in the queue.
   */
  concurrency?: { key: string; limit: number; windowS?: number };
}

export interface JobError {
  name: string;
  message: string;
  stack?: string;
  extra?: Record<string, unknown>;
  [k: string]: unknown;
}

export interface JobRecord extends JobSpec {
  id: string;
  status: JobStatus;
  created_at: string;
  started_at?: string;
  completed_at?: string;
  duration_ms?: number;
  /** main's return value on success; `{error: JobError}` on failure or cancellation. */
  result?: unknown;
  canceled_by?: string;
  canceled_reason?: string;
  /** Set while the job is queued or running when someone asked to cancel it. */
  cancel_requested?: boolean;
  /** The worker that claimed the job. */
  worker?: string;
  /** Flow jobs: the orchestration state (finished steps, child in flight, approvals). */
  flowState?: unknown;
  /** Parked (workflow waiting): events still awaited, and the time it is woken anyway. */
  suspend?: number;
  suspendUntil?: string;
}

export const isFinal = (s: JobStatus): boolean => s === 'success' || s === 'failure' || s === 'canceled';

/** Resource as stored (value still raw: `$var:`/`$res:` references not resolved). */
export interface ResourceRecord {
  path: string;
  resource_type: string;
  value: unknown;
  description?: string;
}

export interface VariableRecord {
  path: string;
  value: string;
  is_secret: boolean;
  description?: string;
}

/** What an executor reports back. */
export interface ExecOutcome {
  /** Workflow-as-code round output (what to do next) instead of a final result. */
  wac?: Record<string, any>;
  success: boolean;
  result: unknown;
}

export function errorResult(name: string, message: string, extra: Partial<JobError> = {}): { error: JobError } {
  return { error: { name, message, ...extra } };
}
