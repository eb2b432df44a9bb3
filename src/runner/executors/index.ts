/**
 * Executors: one per language family. Each turns a job into a child process (or, for SQL, a
 * connection from this process) and reports {success, result}. The engine owns the job's
 * lifecycle (status, timeout, cancel, logs); executors only run code.
 */
import { accessSync, constants, statSync } from 'node:fs';
import type { Language } from '../../workspace/languages.js';
import type { ExecOutcome, JobRecord } from '../types.js';
import type { ProcessHandle } from './process.js';
import type { ResidentLaunch } from './resident.js';
import type { SandboxConfig } from './sandbox.js';

export interface RunnerConfig {
  /** TypeScript (bun flavour) runtime: `node` (Node + tsx, the default) or `bun` when on PATH. */
  tsRuntime: 'node' | 'bun';
  /** Python interpreter command. */
  python: string;
  /** Bash interpreter command. */
  bash: string;
  /** Job processes run in this sandbox (serve and worker; never local preview). */
  sandbox?: SandboxConfig;
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
const FAMILY: Partial<Record<Language, 'typescript' | 'python' | 'bash' | 'postgresql' | 'mysql' | 'duckdb' | 'powershell'>> = {
  bun: 'typescript',
  nativets: 'typescript',
  python3: 'python',
  bash: 'bash',
  postgresql: 'postgresql',
  mysql: 'mysql',
  duckdb: 'duckdb',
  powershell: 'powershell',
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
    case 'mysql':
      return (await import('./mysql.js')).mysqlExecutor;
    case 'duckdb':
      return (await import('./duckdb.js')).duckdbExecutor;
    case 'powershell':
      return (await import('./powershell.js')).powershellExecutor;
    default:
      return undefined;
  }
}

/** What runs each language: an interpreter command (checked on PATH), or a service it talks to. */
const NEEDS: Record<Language, { cmd?: (c: RunnerConfig) => string; what: string }> = {
  python3: { cmd: (c) => c.python, what: 'Python 3' },
  bash: { cmd: (c) => c.bash, what: 'Bash' },
  bun: { cmd: () => process.execPath, what: 'Node.js (or bun, with runtime: bun)' },
  nativets: { cmd: () => process.execPath, what: 'Node.js' },
  postgresql: { what: 'a PostgreSQL server (the `database` resource)' },
  mysql: { what: 'a MySQL or MariaDB server (the `database` resource)' },
  duckdb: { what: 'DuckDB (built in)' },
  powershell: { cmd: () => process.env.WMILL_PWSH || 'pwsh', what: 'PowerShell 7' },
  deno: { cmd: () => 'deno', what: 'Deno' },
  go: { cmd: () => 'go', what: 'the Go toolchain' },
  php: { cmd: () => 'php', what: 'PHP' },
  rust: { cmd: () => 'cargo', what: 'the Rust toolchain' },
  csharp: { cmd: () => 'dotnet', what: 'the .NET SDK' },
  nu: { cmd: () => 'nu', what: 'Nushell' },
  java: { cmd: () => 'java', what: 'a Java JDK' },
  ruby: { cmd: () => 'ruby', what: 'Ruby' },
  rlang: { cmd: () => 'Rscript', what: 'R' },
  ansible: { cmd: () => 'ansible-playbook', what: 'Ansible' },
  dbt: { cmd: () => 'dbt', what: 'dbt' },
  bigquery: { what: 'a BigQuery connection' },
  snowflake: { what: 'a Snowflake connection' },
  mssql: { what: 'an MS SQL Server connection' },
  oracledb: { what: 'an Oracle Database connection' },
  graphql: { what: 'a GraphQL endpoint' },
};

/** `cmd`'s absolute path: itself when it has a slash and is executable, else the first hit on PATH. */
export function findExecutable(cmd: string, path = process.env.PATH ?? ''): string | undefined {
  const ok = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (cmd.includes('/')) return ok(cmd) ? cmd : undefined;
  for (const dir of path.split(':')) if (dir && ok(`${dir}/${cmd}`)) return `${dir}/${cmd}`;
  return undefined;
}

/**
 * Why a script of `language` cannot run in preview here (one line, naming the interpreter it
 * needs), or undefined when it can.
 */
export function previewBlocker(language: Language, config: RunnerConfig): string | undefined {
  const need = NEEDS[language];
  const cmd = need.cmd?.(config);
  const found = cmd ? findExecutable(cmd) : undefined;
  if (isSupported(language)) {
    if (!cmd || found) return undefined;
    return `${language} scripts run with ${cmd} (${need.what}), which is not installed here (not found on PATH)${language === 'powershell' ? '; install PowerShell 7 or set WMILL_PWSH' : ''}`;
  }
  const runs = `preview runs ${SUPPORTED_LANGUAGES.join(', ')}`;
  if (!cmd) return `${language} scripts need ${need.what}, which preview does not provide; ${runs}`;
  if (found) return `${language} scripts are not run by preview yet (${cmd} is installed at ${found}, but wmill has no ${language} runner); ${runs}`;
  return `${language} scripts need ${cmd} (${need.what}), which is not installed here (not found on PATH); ${runs}`;
}
