/**
 * Python 3 jobs: `python3 -u python/wmill/_runner.py <result.json>`, the job on stdin. wmill's
 * own `python/` folder is first on PYTHONPATH, so `import wmill` gets our in-job SDK; the
 * workspace root is on sys.path for `from f.folder.other import x`.
 */
import { writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { packageRoot } from '../../paths.js';
import { resolvePython } from '../../util/python.js';
import type { ExecOutcome } from '../types.js';
import { prewarmWrapper, resultPath, runWrapped, type WrapperCommand } from './common.js';
import { adoptEarly } from './early.js';
import type { ExecContext, Executor, PrewarmContext, Prewarmed, ResidentContext, RunnerConfig } from './index.js';
import type { ResidentLaunch } from './resident.js';

export function wrapperCommand(config: RunnerConfig, env: Record<string, string | undefined>, jobDir: string): WrapperCommand {
  const pyDir = join(packageRoot(), 'python');
  // A version-manager shim (pyenv) is resolved once to the real interpreter (util/python.ts).
  const cmd = resolvePython(config.python);
  return {
    cmd,
    args: ['-u', join(pyDir, 'wmill', '_runner.py'), resultPath(jobDir)],
    env: {
      PYTHONPATH: [pyDir, env.PYTHONPATH].filter(Boolean).join(delimiter),
      PYTHONUNBUFFERED: '1',
      PYTHONIOENCODING: 'utf-8',
      // Running in place must not leave __pycache__ folders in the workspace.
      PYTHONDONTWRITEBYTECODE: '1',
    },
    label: config.python,
    key: `python:${cmd}`,
    sandbox: config.sandbox,
  };
}

function scriptFile(job: ExecContext['job'], dir: string): string {
  if (job.file) return job.file;
  const f = join(dir, 'main.py');
  writeFileSync(f, job.content);
  return f;
}

export const pythonExecutor: Executor = {
  prewarm(ctx: PrewarmContext): Prewarmed {
    const build = (jobDir: string) => wrapperCommand(ctx.config, ctx.env, jobDir);
    // The interpreter bin/wmill.mjs started for this preview, if it is exactly this one.
    return adoptEarly(ctx, build) ?? prewarmWrapper(ctx, build(ctx.jobDir));
  },
  resident(ctx: ResidentContext): ResidentLaunch {
    const command = wrapperCommand(ctx.config, ctx.env, ctx.dir);
    return ctx.job ? { command, script: scriptFile(ctx.job, ctx.dir), root: ctx.job.root } : { command, script: '' };
  },
  async run(ctx: ExecContext): Promise<ExecOutcome> {
    return runWrapped(ctx, wrapperCommand(ctx.config, ctx.env, ctx.jobDir), scriptFile(ctx.job, ctx.jobDir));
  },
};
