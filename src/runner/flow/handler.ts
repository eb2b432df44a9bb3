/**
 * The engine handler for flow jobs: builds the FlowHost over the engine (children are normal
 * jobs of the same engine and store) and runs the FlowRun. Canceling the flow cancels the
 * children in flight. A flow job's log holds its steps' logs too (live when a step runs in this
 * process, copied from the store when it ran elsewhere), so an iteration's or a branch's job
 * shows what its steps printed, and so does the whole flow's.
 */
import type { Engine, JobHandler } from '../engine.js';
import type { JobRecord } from '../types.js';
import { FlowRun, type FlowHost, type FlowState, type ResumeUrls } from './executor.js';
import type { FlowValue } from '../../items/flow-schema.js';

export interface FlowDeps {
  resolveScript: (job: JobRecord, path: string, hash?: string) => ReturnType<FlowHost['resolveScript']>;
  resolveFlow: (job: JobRecord, path: string) => Promise<FlowValue | undefined>;
  resumeUrls: (job: JobRecord) => Promise<ResumeUrls | undefined>;
  onSuspend?: (job: JobRecord, urls: ResumeUrls | undefined, stepId: string) => void;
  /**
   * Receives what the steps of an outermost flow job print (a flow that is not itself a step,
   * iteration or branch of another: those reach it through their parent's log), e.g. to show a
   * workflow's taskFlow live in preview.
   */
  childLog?: (job: JobRecord, chunk: string) => void;
}

export function flowHandler(engine: Engine, deps: FlowDeps): JobHandler {
  return async (job, ctx) => {
    const children = new Set<string>();
    /** Characters of each child's log already copied into this flow's log, live. */
    const forwarded = new Map<string, { n: number }>();
    const show = deps.childLog && !job.flowStepId ? (c: string) => deps.childLog!(job, c) : undefined;
    const host: FlowHost = {
      submit: async (spec) => {
        const fwd = { n: 0 };
        const id = await engine.submit(spec, {
          onLog: (c) => {
            fwd.n += c.length;
            ctx.log(c);
            show?.(c);
          },
        });
        forwarded.set(id, fwd);
        children.add(id);
        return id;
      },
      record: (spec, outcome) => engine.record(spec, outcome),
      wait: async (id) => {
        const j = await engine.wait(id);
        // What was not seen live (the child ran in another process, or before a restart).
        const seen = forwarded.get(id)?.n ?? 0;
        forwarded.delete(id);
        // Run by this engine and seen live: all of it came through (no read of the store needed).
        if (seen > 0 && j.worker === engine.worker) return j;
        const { logs } = await engine.store.getLogs(id).catch(() => ({ logs: '' }));
        if (logs.length > seen) {
          ctx.log(logs.slice(seen));
          show?.(logs.slice(seen));
        }
        return j;
      },
      job: (id) => engine.store.getJob(id),
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
