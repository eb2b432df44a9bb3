/**
 * The engine handler for flow jobs: builds the FlowHost over the engine (children are normal
 * jobs of the same engine and store) and runs the FlowRun. Canceling the flow cancels the
 * children in flight.
 */
import type { Engine, JobHandler } from '../engine.js';
import type { JobRecord } from '../types.js';
import { FlowRun, type FlowHost, type FlowState, type ResumeUrls } from './executor.js';
import type { FlowValue } from './schema.js';

export interface FlowDeps {
  resolveScript: (job: JobRecord, path: string, hash?: string) => ReturnType<FlowHost['resolveScript']>;
  resolveFlow: (job: JobRecord, path: string) => Promise<FlowValue | undefined>;
  resumeUrls: (job: JobRecord) => Promise<ResumeUrls | undefined>;
  onSuspend?: (job: JobRecord, urls: ResumeUrls | undefined, stepId: string) => void;
  /** Receives the log chunks of every child job (preview streams them). */
  childLog?: (job: JobRecord, chunk: string) => void;
}

export function flowHandler(engine: Engine, deps: FlowDeps): JobHandler {
  return async (job, ctx) => {
    const children = new Set<string>();
    const host: FlowHost = {
      submit: async (spec) => {
        const id = await engine.submit(spec, deps.childLog ? { onLog: (c) => deps.childLog!(job, c) } : {});
        children.add(id);
        return id;
      },
      wait: (id) => engine.wait(id),
      cancel: async (id, reason) => void (await engine.cancel(id, job.createdBy ?? engine.user, reason)),
      resolveScript: (path, hash) => deps.resolveScript(job, path, hash),
      resolveFlow: (path) => deps.resolveFlow(job, path),
      saveState: (state: FlowState) => engine.store.updateJob(job.id, { flowState: state }),
      log: ctx.log,
      resumes: () => engine.store.listResumes(job.id),
      resumeUrls: () => deps.resumeUrls(job),
      onSuspend: deps.onSuspend ? (urls, step) => deps.onSuspend!(job, urls, step) : undefined,
      signal: ctx.signal,
    };
    const onAbort = () => {
      for (const id of children) void engine.cancel(id, job.createdBy ?? engine.user, 'parent flow canceled').catch(() => undefined);
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const run = new FlowRun(job, host, job.flow, job.flowState as FlowState | undefined);
      return await run.run();
    } catch (e) {
      if (ctx.signal.aborted) return { success: false, result: null };
      const err = e as Error;
      return { success: false, result: { error: { name: err.name === 'Error' ? 'FlowError' : err.name, message: err.message } } };
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
    }
  };
}
