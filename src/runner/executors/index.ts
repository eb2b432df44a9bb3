/**
 * Executors: one per language family. Each turns a job into a child process (or, for SQL, a
 * connection from this process) and reports {success, result}. The engine owns the job's
 * lifecycle (status, timeout, cancel, logs); executors only run code.
 */
import type { Language } from '../../workspace/languages.js';
import type { ExecOutcome, JobRecord } from '../types.js';
import type { ProcessHandle } from './process.js';
import type { ResidentLaunch } from './resident.js';

export interface RunnerConfig {
  /** TypeScript (bun flavour) runtime: `node` (Node + tsx, the default) or `bun` when on PATH. */
  tsRuntime: 'node' | 'bun';
  /** Python interpreter command. */
  python: string;
  /** Bash interpreter command. */
  bash: string;
}

export const DEFAULT_RUNNER_CONFIG: RunnerConfig = {
  tsRuntime: 'node',
  python: process.env.WMILL_PYTHON || 'python3',
  bash: process.env.WMILL_BASH || 'bash',
};

/** An interpreter started before its job is known, waiting for the job on stdin (see assets.ts). */
export interface Prewarmed {
  handle: ProcessHandle;
  /** The job folder it runs in (becomes the job's jobDir). */
  jobDir: string;
  /** What it was started for; an executor only adopts a matching one. */
  key: string;
}

export interface PrewarmContext {
  jobDir: string;
  /** Environment without the job's own variables (those come with the job on stdin). */
  env: Record<string, string | undefined>;
  config: RunnerConfig;
}

export interface ExecContext {
  job: JobRecord;
  /** Arguments with `$var:`/`$res:` references resolved. */
  args: Record<string, unknown>;
  /** A private, empty folder for this job (removed afterwards); the process's working directory. */
  jobDir: string;
  /** Complete environment of the job process. */
  env: Record<string, string | undefined>;
  /** The job's own variables (WM_TOKEN, WM_JOB_ID, ...), also part of `env`. */
  jobVars: Record<string, string>;
  /** A prewarmed interpreter for this job's language, to use instead of starting one. */
  prewarmed?: Prewarmed;
  /** Append to the job's logs. */
  log: (chunk: string) => void;
  /** Aborted on cancel or timeout: the executor must stop promptly (kill its process group). */
  signal: AbortSignal;
  config: RunnerConfig;
}

export interface ResidentContext {
  /** The job whose script the resident runs; none for a spare (started before its script is known). */
  job?: JobRecord;
  /** The resident's own folder (its working directory for its whole life). */
  dir: string;
  env: Record<string, string | undefined>;
  config: RunnerConfig;
}

export interface Executor {
  run(ctx: ExecContext): Promise<ExecOutcome>;
  /** How to start a resident interpreter for this job's script (executors/resident.ts), if the language has one. */
  resident?(ctx: ResidentContext): ResidentLaunch;
  /** Start an interpreter ahead of the job (optional; languages whose start-up is negligible skip it). */
  prewarm?(ctx: PrewarmContext): Prewarmed | undefined;
}

/** Languages preview can run, and the executor module for each (loaded on first use). */
const FAMILY: Partial<Record<Language, 'typescript' | 'python' | 'bash' | 'postgresql'>> = {
  bun: 'typescript',
  nativets: 'typescript',
  python3: 'python',
  bash: 'bash',
  postgresql: 'postgresql',
};

export function isSupported(language: Language): boolean {
  return FAMILY[language] !== undefined;
}

export const SUPPORTED_LANGUAGES = Object.keys(FAMILY) as Language[];

export async function executorFor(language: Language): Promise<Executor | undefined> {
  switch (FAMILY[language]) {
    case 'typescript':
      return (await import('./typescript.js')).typescriptExecutor;
    case 'python':
      return (await import('./python.js')).pythonExecutor;
    case 'bash':
      return (await import('./bash.js')).bashExecutor;
    case 'postgresql':
      return (await import('./postgresql.js')).postgresqlExecutor;
    default:
      return undefined;
  }
}
