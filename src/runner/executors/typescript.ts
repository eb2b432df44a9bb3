/**
 * TypeScript (bun flavour) jobs: Node + tsx by default, or bun when the workspace asks for it
 * (`runtime: bun` in wmill.yaml) and `bun` is on PATH. The script runs in place, so its relative
 * imports resolve in the workspace; `windmill-client` resolves even without node_modules there
 * (Node: resolve hook + NODE_PATH for CommonJS; bun: a preload plugin).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../../paths.js';
import { assetDir } from '../assets.js';
import type { ExecOutcome } from '../types.js';
import { prewarmWrapper, resultPath, runWrapped, type WrapperCommand } from './common.js';
import { adoptEarly } from './early.js';
import type { ExecContext, Executor, PrewarmContext, Prewarmed, ResidentContext, RunnerConfig } from './index.js';
import type { ResidentLaunch } from './resident.js';

interface NodeSetup {
  tsxEsm: string;
  /** File URL of wmill's package.json: the parent for the resolve fallback. */
  fallbackParent: string;
  /** The node_modules folder holding windmill-client (for NODE_PATH and bun). */
  clientModules: string | undefined;
}

let setup: NodeSetup | undefined;

function nodeSetup(): NodeSetup {
  if (setup) return setup;
  const pj = join(packageRoot(), 'package.json');
  const req = createRequire(pj);
  const tsxEsm = req.resolve('tsx/esm');
  let clientModules: string | undefined;
  try {
    const p = req.resolve('windmill-client');
    const i = p.lastIndexOf(`${'/'}node_modules${'/'}`);
    if (i !== -1) clientModules = p.slice(0, i + '/node_modules'.length);
  } catch {
    clientModules = undefined;
  }
  return (setup = { tsxEsm, fallbackParent: pathToFileURL(pj).href, clientModules });
}

export function onPath(cmd: string, pathEnv = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, cmd);
    if (existsSync(p)) return p;
  }
  return undefined;
}

function scriptFile(job: ExecContext['job'], dir: string): string {
  if (job.file) return job.file;
  const f = join(dir, 'main.ts');
  writeFileSync(f, job.content);
  return f;
}

/** The wrapper command for this configuration (node + tsx, or bun when asked for and on PATH). */
export function wrapperCommand(config: RunnerConfig, env: Record<string, string | undefined>, jobDir: string): WrapperCommand & { bunMissing: boolean } {
  const assets = assetDir();
  const s = nodeSetup();
  const result = resultPath(jobDir);
  const nodePath = [s.clientModules, env.NODE_PATH].filter(Boolean).join(delimiter);
  const bun = config.tsRuntime === 'bun' ? onPath('bun', env.PATH) : undefined;
  if (bun) {
    return {
      cmd: bun,
      args: ['run', '--preload', join(assets, 'bun-preload.mjs'), join(assets, 'ts-wrapper.mjs'), result],
      env: { WMILL_RESOLVE_FALLBACK_DIR: s.clientModules, NODE_PATH: nodePath },
      label: 'bun run',
      key: `bun:${bun}`,
      sandbox: config.sandbox,
      bunMissing: false,
    };
  }
  return {
    cmd: process.execPath,
    args: ['--import', pathToFileURL(s.tsxEsm).href, '--import', pathToFileURL(join(assets, 'node-register.mjs')).href, join(assets, 'ts-wrapper.mjs'), result],
    env: { WMILL_RESOLVE_FALLBACK: s.fallbackParent, NODE_PATH: nodePath },
    label: 'node (tsx)',
    key: `node:${process.execPath}`,
    sandbox: config.sandbox,
    bunMissing: config.tsRuntime === 'bun',
  };
}

export const typescriptExecutor: Executor = {
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
    const w = wrapperCommand(ctx.config, ctx.env, ctx.jobDir);
    if (w.bunMissing) ctx.log('[wmill] runtime: bun is set but bun is not on PATH; running on Node with tsx\n');
    return runWrapped(ctx, w, scriptFile(ctx.job, ctx.jobDir));
  },
};
