/**
 * The first thing `wmill script preview <file>` runs: bin/wmill.mjs loads a small entry,
 * dist/preview-early-python.mjs or dist/preview-early-typescript.mjs (src/preview/early-*.ts,
 * one per language so that each loads only what it needs), before the CLI bundle, and it starts
 * the job's interpreter right away, so that its start-up (100-300 ms) overlaps everything wmill
 * does itself. The interpreter waits for its job on stdin; the executor adopts it only if it is
 * exactly the one it would start (src/runner/executors/early.ts), else kills it.
 *
 * Only an optimization: when the arguments are unusual (help, several files, a file that does
 * not exist, another language) it does nothing, and the CLI does everything as usual.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { languageOf, type Language } from '../workspace/languages.js';
import { DEFAULT_RUNNER_CONFIG, type RunnerConfig } from '../runner/executors/index.js';
import { prewarmWrapper, type WrapperCommand } from '../runner/executors/common.js';
import { offerEarly } from '../runner/executors/early.js';

export { discardEarly } from '../runner/executors/early.js';

/** An executor's wrapper command (e.g. python.ts `wrapperCommand`). */
export type WrapperBuilder = (config: RunnerConfig, env: Record<string, string | undefined>, jobDir: string) => WrapperCommand;

/**
 * The file argument of `script preview [options] <file>`, when the arguments are plain: the
 * options that take a value are known; any other option is taken for a flag (a wrong guess at
 * worst starts an interpreter that goes unused and is killed). Help and `--` are left to the CLI.
 */
export function previewFile(args: string[]): string | undefined {
  let file: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-d' || a === '--data' || a === '--timeout') {
      if (i + 1 >= args.length) return undefined;
      i++;
    } else if (a === '-h' || a === '--help' || a === '--') {
      return undefined;
    } else if (a.startsWith('-')) {
      continue;
    } else if (file !== undefined) {
      return undefined;
    } else {
      file = a;
    }
  }
  return file;
}

/** The environment the engine gives an interpreter before its job (Engine.baseEnv: no WM_* variables). */
function baseEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('WM_') || k === 'BASE_INTERNAL_URL' || k === 'BASE_URL') continue;
    env[k] = v;
  }
  return env;
}

/**
 * `args`: the arguments after `script preview`; `languages`: those `build` starts the
 * interpreter for. Never throws.
 */
export function startEarly(args: string[], languages: Language[], build: WrapperBuilder): void {
  try {
    const file = previewFile(args);
    if (!file) return;
    const abs = resolve(process.cwd(), file);
    if (!statSync(abs, { throwIfNoEntry: false })?.isFile()) return;
    if (/\.(script|flow|app|resource|variable|schedule)\.(ya?ml|json)$/.test(abs) || /\.script\.lock$/.test(abs)) return;
    // The guess preview makes before wmill.yaml is read (src/commands/preview.ts).
    const language = languageOf(basename(abs), 'bun');
    if (typeof language !== 'string' || !languages.includes(language)) return;
    // Preview's engine configuration (src/commands/preview.ts); the job folder where the engine makes them.
    const config: RunnerConfig = { ...DEFAULT_RUNNER_CONFIG, tsRuntime: 'node' };
    const env = baseEnv();
    offerEarly(() => {
      const jobDir = mkdtempSync(join(tmpdir(), 'wmill-job-'));
      let w: WrapperCommand;
      try {
        w = build(config, env, jobDir);
      } catch {
        rmSync(jobDir, { recursive: true, force: true });
        return undefined;
      }
      const prewarmed = prewarmWrapper({ jobDir, env, config }, w);
      return { prewarmed, cmd: w.cmd, args: w.args, env: { ...env, ...w.env } };
    });
    if (process.env.WMILL_DEBUG_TIMING) process.stderr.write(`[timing] early prewarm (${language}) ${performance.now().toFixed(1)}ms\n`);
  } catch {
    /* the engine starts its own interpreter */
  }
}
