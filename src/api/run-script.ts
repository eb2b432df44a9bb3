/**
 * `wmill script run`: run the deployed version of a script on the server and follow its job.
 * The path is checked first (a clear "not found" instead of a bare 404) and the arguments are
 * checked against the deployed schema (missing or mistyped arguments are bad input, before any
 * job exists). Then the job is submitted and polled until it completes, the caller interrupts
 * (the remote job is canceled) or the client-side deadline passes (canceled too).
 */
import { WmillError } from '../errors.js';
import type { ApiClient } from './client.js';
import { ApiError } from './client.js';
import { cancelJob, followJob, getCompletedJob, runScriptByPath, type CompletedJob } from './jobs.js';
import { getScriptByPath } from './scripts.js';

export interface RunRequest {
  path: string;
  args: Record<string, unknown>;
  tag?: string;
  /** false: submit and return the job id. */
  wait: boolean;
  timeoutS?: number;
  pollMs?: number;
  onLog?: (chunk: string) => void;
  onSubmitted?: (jobId: string) => void;
  /** Settles with the signal when the user interrupts (Ctrl-C). */
  interrupt?: Promise<NodeJS.Signals>;
}

export type RunOutcome =
  | { kind: 'submitted'; jobId: string; warnings: string[] }
  | { kind: 'completed'; jobId: string; success: boolean; result: unknown; job: CompletedJob; warnings: string[] }
  | { kind: 'interrupted'; jobId: string | null; signal: NodeJS.Signals; canceled: boolean; warnings: string[] }
  | { kind: 'timeout'; jobId: string; canceled: boolean; warnings: string[] };

const notFound = (path: string, ws: string, why = 'nothing is deployed at that path') =>
  new WmillError('usage', `script '${path}' not found in workspace ${ws} (${why}); check the path with 'wmill script history ${path}' or deploy it first`, { path });

export async function runDeployed(client: ApiClient, req: RunRequest): Promise<RunOutcome> {
  const path = req.path.replace(/^\/+/, '');
  const warnings: string[] = [];
  let signal: NodeJS.Signals | undefined;
  void req.interrupt?.then((s) => (signal ??= s));

  const script = await getScriptByPath(client, path);
  if (!script) throw notFound(path, client.workspace);
  if (script.archived || script.deleted) throw notFound(path, client.workspace, 'it is archived');
  if (script.schema && typeof script.schema === 'object') {
    const { checkArgs } = await import('../items/args.js');
    const checked = checkArgs(script.schema, req.args, { scalarsAsStrings: script.language === 'bash' });
    if (checked.errors.length > 0) {
      const first = checked.errors[0]!;
      const more = checked.errors.length > 1 ? ` (and ${checked.errors.length - 1} more: ${checked.errors.slice(1).map((e) => e.name).join(', ')})` : '';
      throw new WmillError('usage', `${first.message}${more}`, { arg: first.name, errors: checked.errors });
    }
    if (checked.unknown.length > 0) {
      const known = Object.keys((script.schema as { properties?: object }).properties ?? {});
      warnings.push(`${checked.unknown.map((u) => `'${u}'`).join(', ')} ${checked.unknown.length > 1 ? 'are not arguments' : 'is not an argument'} of ${path}${known.length ? ` (arguments: ${known.join(', ')})` : ''}`);
    }
  }
  if (signal) return { kind: 'interrupted', jobId: null, signal, canceled: false, warnings };

  let jobId: string;
  try {
    jobId = await runScriptByPath(client, path, req.args, { tag: req.tag });
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) throw notFound(path, client.workspace);
    if (e instanceof ApiError && e.status === 400) throw new WmillError('usage', `the server refused to run ${path}: ${e.body.trim()}`, { path });
    throw e;
  }
  req.onSubmitted?.(jobId);
  if (!req.wait) return { kind: 'submitted', jobId, warnings };

  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const stops: Promise<unknown>[] = [];
  if (req.interrupt) stops.push(req.interrupt);
  if (req.timeoutS !== undefined) {
    stops.push(
      new Promise<void>((r) => {
        timer = setTimeout(() => {
          timedOut = true;
          r();
        }, req.timeoutS! * 1000);
      }),
    );
  }
  try {
    const out = signal ? ({ kind: 'stopped' } as const) : await followJob(client, jobId, { onLog: req.onLog, pollMs: req.pollMs, stop: stops.length ? Promise.race(stops) : undefined });
    if (out.kind === 'completed') {
      return { kind: 'completed', jobId, success: out.job.success === true, result: out.job.result ?? null, job: out.job, warnings };
    }
    const reason = signal ? `interrupted (${signal}) from wmill script run` : `timed out after ${req.timeoutS}s (wmill script run --timeout)`;
    const canceled = await cancelJob(client, jobId, reason);
    if (signal || !timedOut) return { kind: 'interrupted', jobId, signal: signal ?? 'SIGINT', canceled, warnings };
    if (!canceled) {
      // It completed just as the deadline passed: report what it did.
      const job = await getCompletedJob(client, jobId);
      return { kind: 'completed', jobId, success: job.success === true, result: job.result ?? null, job, warnings };
    }
    return { kind: 'timeout', jobId, canceled, warnings };
  } finally {
    if (timer) clearTimeout(timer);
  }
}
