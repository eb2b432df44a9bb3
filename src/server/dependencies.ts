/**
 * Lock resolution on `wmill serve`: the `dependencies` jobs the real windmill-cli queues during
 * `generate-metadata` (`jobs/run/dependencies_async`, once per script or app inline script) and
 * the flow ones (`jobs/run/flow_dependencies_async`). A script's lock is made by the same local
 * resolver `wmill generate-metadata` uses (src/metadata/locks), from the same inputs: the script,
 * the scripts it imports relatively (the caller's unsaved versions named by `temp_script_refs`,
 * else the deployed ones its owner may read) and the workspace dependency files sent with it. So
 * the real CLI writes the locks ours writes, byte for byte.
 *
 * Flows: `wmill generate-metadata` does not lock flow inline scripts (README "Locks"), so a flow
 * job answers with the flow value as it was sent: the real CLI then writes what ours leaves.
 */
import type { Principal } from './auth.js';
import type { Sql } from './db/db.js';
import type { ExecOutcome, JobRecord } from '../runner/types.js';
import type { Language } from '../workspace/languages.js';
import type { WorkspaceConfig } from '../workspace/config.js';
import { relativeImports } from '../metadata/parsers/index.js';
import { LockInputs, loadLockParsers, lockKindOf, requestKey, type LockScript } from '../metadata/locks/request.js';
import { resolveRequests } from '../metadata/locks/resolve.js';
import { can } from './access.js';
import { allowListedEnv } from '../runner/job-env.js';
import { scriptAtPath } from './runnables.js';
import { badRequest, checkItemPath, forbidden, text, type Router } from './http.js';
import type { Env } from './env.js';

/** What a dependencies job carries besides the script itself (kept in its args). */
export type DependencyArgs = {
  raw_workspace_dependencies?: Record<string, string> | null;
  temp_script_refs?: Record<string, string> | null;
};

function stringMap(v: unknown, what: string): Record<string, string> | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) {
    throw badRequest(`${what} must be an object of strings`);
  }
  return v as Record<string, string>;
}

/** The args of a dependencies job from a request body (validated). */
export function dependencyArgs(b: Record<string, unknown>): DependencyArgs {
  const deps = stringMap(b.raw_workspace_dependencies, 'raw_workspace_dependencies');
  const refs = stringMap(b.temp_script_refs, 'temp_script_refs');
  return { ...(deps ? { raw_workspace_dependencies: deps } : {}), ...(refs ? { temp_script_refs: refs } : {}) };
}

/** The server's resolver configuration: no wmill.yaml, so the machine's npm/pip settings (env, rc files). */
function serverConfig(): WorkspaceConfig {
  return { root: process.cwd(), file: null, defaultTs: 'bun', includes: [], excludes: [], extraIncludes: [], nonDottedPaths: false, raw: {} as WorkspaceConfig['raw'] };
}

/**
 * What npm and pip run with on the server: a job's allow-list (PATH, HOME, locale, ...) plus
 * their own configuration (npm_config_*, PIP_*, proxies, CA bundles), never the server's secrets
 * (WMILL_ADMIN_TOKEN, DATABASE_URL, ...): resolving a Python requirement may build an sdist,
 * which runs its setup code.
 */
export function resolverEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out = allowListedEnv(env);
  const tool = /^(npm_config_|NPM_CONFIG_|PIP_|UV_)|^(HTTPS?_PROXY|https?_proxy|NO_PROXY|no_proxy|SSL_CERT_FILE|SSL_CERT_DIR|NODE_EXTRA_CA_CERTS|REQUESTS_CA_BUNDLE|WMILL_PYTHON)$/;
  for (const [k, v] of Object.entries(env)) if (v !== undefined && tool.test(k)) out[k] = v;
  return out;
}

function failed(message: string): ExecOutcome {
  return { success: false, result: { error: { name: 'ExecutionErr', message } } };
}

/**
 * The handler of `dependencies` jobs. `owner` is the job's owner (what it may read decides which
 * deployed scripts its relative imports see).
 */
export function dependenciesHandler(db: Sql, owner: (job: JobRecord) => Promise<Principal | undefined>) {
  return async (job: JobRecord, ctx: { signal: AbortSignal }): Promise<ExecOutcome> => {
    const kind = lockKindOf(job.language);
    if (!kind) return failed(`${job.language} locks are not resolved by wmill serve (only python3, bun and deno are); keep the lock you have in ${job.path}'s metadata`);
    const args = (job.args ?? {}) as DependencyArgs;
    const refs = args.temp_script_refs ?? {};
    const p = await owner(job);
    await loadLockParsers();
    // The script and everything it imports relatively, transitively.
    const scripts = new Map<string, LockScript>();
    const queue: LockScript[] = [{ path: job.path, language: job.language, content: job.content, imports: [] }];
    while (queue.length) {
      const s = queue.shift()!;
      if (scripts.has(s.path)) continue;
      s.imports = await relativeImports(s.language, s.content, s.path);
      scripts.set(s.path, s);
      for (const imp of s.imports) {
        if (scripts.has(imp)) continue;
        const found = await importedScript(db, job.workspace, p, imp, refs[imp], s.language);
        if (found) queue.push(found);
      }
    }
    const inputs = new LockInputs(scripts, new Map(Object.entries(args.raw_workspace_dependencies ?? {})));
    const r = inputs.request(job.path);
    if ('error' in r) return failed(`cannot resolve dependencies: ${r.error}`);
    const key = requestKey(r.request);
    const { outcomes } = await resolveRequests(serverConfig(), new Map([[key, r.request]]), { signal: ctx.signal, env: resolverEnv() });
    const out = outcomes.get(key) ?? { error: 'not resolved' };
    if ('error' in out) return failed(out.error);
    return { success: true, result: { lock: out.lock } };
  };
}

/** An imported script: the caller's temp version when named, else the deployed head its owner may read. */
async function importedScript(db: Sql, ws: string, p: Principal | undefined, path: string, tempHash: string | undefined, importerLanguage: Language): Promise<LockScript | undefined> {
  if (tempHash) {
    const [row] = await db.query(`SELECT content FROM temp_script WHERE workspace_id = $1 AND hash = $2`, [ws, tempHash]);
    if (row) return { path, language: importerLanguage, content: row.content as string, imports: [] };
  }
  if (!p || !(await can(db, ws, p, path, 'read'))) return undefined;
  const head = await scriptAtPath(db, ws, path);
  return head ? { path, language: head.language as Language, content: head.content as string, imports: [] } : undefined;
}

/** The handler of `flowdependencies` jobs: the flow value back, as `wmill generate-metadata` leaves flows. */
export async function flowDependenciesHandler(job: JobRecord): Promise<ExecOutcome> {
  return { success: true, result: { updated_flow_value: job.flow ?? null } };
}

/** `jobs/run/flow_dependencies_async`: a job id (text/plain, 201), polled like any job. */
export function registerDependencyRoutes(r: Router<Env>): void {
  r.post('jobs/run/flow_dependencies_async', async (c, e) => {
    const b = await c.obj();
    const fv = b.flow_value;
    if (!fv || typeof fv !== 'object' || Array.isArray(fv)) throw badRequest('flow_value must be an object (the OpenFlow value)');
    if (e.p.operator) throw forbidden('operators cannot resolve flow dependencies');
    const path = typeof b.path === 'string' && b.path ? checkItemPath(b.path) : `u/${e.p.username}/flow_dependencies`;
    const id = await e.engine.submit({
      workspace: c.ws,
      kind: 'flowdependencies',
      path,
      language: 'flow' as Language,
      content: '',
      flow: fv,
      args: dependencyArgs(b),
      createdBy: e.p.username,
      permissionedAs: `u/${e.p.username}`,
    });
    return text(id, 201);
  });
}
