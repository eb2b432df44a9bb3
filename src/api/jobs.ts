/**
 * Running a deployed script and following its job (spec/wire-protocol.md "script run"):
 * submit by path, poll `getupdate` for new log text until completed, then read the completed
 * job. Cancellation and a client-side deadline are part of the wait loop. Plain data in and out.
 */
import { ApiError, type ApiClient } from './client.js';

export interface JobUpdate {
  running: boolean;
  completed: boolean;
  new_logs?: string | null;
  log_offset?: number;
}

export interface CompletedJob {
  id: string;
  success: boolean;
  result: unknown;
  logs?: string;
  canceled?: boolean;
  canceled_reason?: string | null;
  duration_ms?: number;
  [key: string]: unknown;
}

/** POST jobs/run/p/{path}; returns the job id. A 404 is an ApiError with status 404. */
export async function runScriptByPath(client: ApiClient, path: string, args: Record<string, unknown>, opts: { tag?: string } = {}): Promise<string> {
  return (await client.text('POST', client.ws(`/jobs/run/p/${path.replace(/^\/+/, '')}`), { body: args, query: { tag: opts.tag } })).trim();
}

export async function getUpdate(client: ApiClient, id: string, logOffset: number): Promise<JobUpdate> {
  return client.json<JobUpdate>('GET', client.ws(`/jobs_u/getupdate/${id}`), { query: { log_offset: logOffset } });
}

export async function getCompletedJob(client: ApiClient, id: string): Promise<CompletedJob> {
  return client.json<CompletedJob>('GET', client.ws(`/jobs_u/completed/get/${id}`));
}

/** Cancel a queued or running job; false when it had already completed. */
export async function cancelJob(client: ApiClient, id: string, reason: string): Promise<boolean> {
  try {
    await client.call('POST', client.ws(`/jobs_u/queue/cancel/${id}`), { body: { reason } });
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.status === 400 && /already completed/i.test(e.body)) return false;
    throw e;
  }
}

export interface FollowOptions {
  /** New log text, as it arrives. */
  onLog?: (chunk: string) => void;
  pollMs?: number;
  /** Resolves (or is already settled) when waiting should stop early (Ctrl-C, deadline). */
  stop?: Promise<unknown>;
}

export type FollowOutcome = { kind: 'completed'; job: CompletedJob } | { kind: 'stopped' };

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll a job until it completes (logs streamed through onLog) or `stop` settles. */
export async function followJob(client: ApiClient, id: string, opts: FollowOptions = {}): Promise<FollowOutcome> {
  let stopped = false;
  void opts.stop?.then(
    () => (stopped = true),
    () => (stopped = true),
  );
  const stopP = opts.stop?.then(() => 'stop' as const, () => 'stop' as const);
  let offset = 0;
  const pollMs = opts.pollMs ?? 100;
  for (;;) {
    if (stopped) return { kind: 'stopped' };
    const u = await getUpdate(client, id, offset);
    if (u.new_logs) opts.onLog?.(u.new_logs);
    if (typeof u.log_offset === 'number') offset = u.log_offset;
    if (u.completed) break;
    if (stopP) {
      if ((await Promise.race([sleep(pollMs).then(() => 'tick' as const), stopP])) === 'stop') return { kind: 'stopped' };
    } else await sleep(pollMs);
  }
  // The update that says `completed` read the job before its logs, so it carried all of them.
  return { kind: 'completed', job: await getCompletedJob(client, id) };
}
