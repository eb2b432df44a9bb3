/**
 * Early prewarm: for `wmill script preview <file>`, bin/wmill.mjs starts the interpreter
 * (dist/preview-early-*.mjs, src/preview/early.ts) before the CLI bundle is even loaded, so
 * that its start-up overlaps all of wmill's own. It is offered here; the executor's `prewarm()`
 * adopts it only if it is exactly the process it would have started itself (command, arguments,
 * environment, job-folder location), and otherwise kills it and starts its own. Nothing of the
 * job is sent to it before the engine has the job, so no user code runs early.
 *
 * An offer nobody takes is killed (and its job folder removed) by `discardEarly()`, which
 * bin/wmill.mjs calls when the command returns, or on exit / SIGINT / SIGTERM at the latest.
 */
import { rmSync, rmdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { WrapperCommand } from './common.js';
import type { PrewarmContext, Prewarmed } from './index.js';

export interface EarlyPrewarm {
  prewarmed: Prewarmed;
  cmd: string;
  args: string[];
  /** The complete environment it was started with. */
  env: Record<string, string | undefined>;
}

interface Slot {
  early: EarlyPrewarm;
  uninstall: () => void;
}

// On globalThis, not in a module variable: the two sides are separate module instances (the
// early entry and the preview bundle each have their copy of this file, see scripts/build.mjs).
const KEY = Symbol.for('wmill.earlyPrewarm');
const slots = globalThis as typeof globalThis & { [KEY]?: Slot };

function take(): EarlyPrewarm | undefined {
  const s = slots[KEY];
  if (!s) return undefined;
  slots[KEY] = undefined;
  s.uninstall();
  return s.early;
}

function dispose(e: EarlyPrewarm, sync: boolean): void {
  e.prewarmed.handle.kill();
  const rm = () => rmSync(e.prewarmed.jobDir, { recursive: true, force: true });
  if (sync) {
    try {
      rm();
    } catch {
      /* best effort while exiting */
    }
  } else void e.prewarmed.handle.done.then(rm, rm).catch(() => undefined);
}

/** Kill an early interpreter nobody adopted (no-op when there is none). */
export function discardEarly(): void {
  const e = take();
  if (e) dispose(e, true);
}

/**
 * Start an early interpreter with `start` (which makes its job folder and spawns it) and offer
 * it. The exit and signal handlers are in place before `start` runs, so that no interrupt can
 * leave the folder or the process behind.
 */
export function offerEarly(start: () => EarlyPrewarm | undefined): void {
  discardEarly();
  const onExit = () => discardEarly();
  // Before the preview installs its own handlers, an interrupt must not leave the interpreter
  // and its job folder behind; once it has (another listener), this one stays out of the way.
  const onSignal = (sig: NodeJS.Signals) => {
    if (process.listenerCount(sig) > 1) return;
    discardEarly();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  const uninstall = () => {
    process.off('exit', onExit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  process.once('exit', onExit);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let early: EarlyPrewarm | undefined;
  try {
    early = start();
  } finally {
    // (Signal handlers run between tasks, so none can run before this.)
    if (early) slots[KEY] = { early, uninstall };
    else uninstall();
  }
}

const envKey = (env: Record<string, string | undefined>): string =>
  JSON.stringify(
    Object.entries(env)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );

/**
 * The early interpreter, if it is the one `build` describes for this prewarm context (built for
 * the early process's own job folder); undefined otherwise (an unsuitable one is killed).
 */
export function adoptEarly(ctx: PrewarmContext, build: (jobDir: string) => WrapperCommand): Prewarmed | undefined {
  const e = take();
  if (!e) return undefined;
  const jobDir = e.prewarmed.jobDir;
  let same = false;
  try {
    const w = build(jobDir);
    same =
      dirname(jobDir) === dirname(ctx.jobDir) &&
      w.key === e.prewarmed.key &&
      // An early process runs unconfined: never adopted by a sandboxed runner.
      !w.sandbox &&
      w.cmd === e.cmd &&
      w.args.length === e.args.length &&
      w.args.every((a, i) => a === e.args[i]) &&
      envKey({ ...ctx.env, ...w.env }) === envKey(e.env);
  } catch {
    same = false;
  }
  if (!same) {
    dispose(e, false);
    return undefined;
  }
  // The engine made an (empty) job folder for this prewarm; the adopted process has its own.
  try {
    rmdirSync(ctx.jobDir);
  } catch {
    /* not empty or gone: leave it */
  }
  return e.prewarmed;
}
