/**
 * The environment a job process starts from on a server: an allow-list of the host's variables,
 * never the host's whole environment (which holds WMILL_ADMIN_TOKEN, DATABASE_URL, cloud keys,
 * ...). The job's own variables (WM_TOKEN, WM_JOB_ID, BASE_INTERNAL_URL, ...) come on top, from
 * the engine. An operator who wants more passes names in WHITELIST_ENVS (comma-separated, as
 * Windmill's workers read it); nothing else gets through.
 */

/** Variables a job gets from the host, when set there. */
export const JOB_ENV_ALLOWED: readonly string[] = ['PATH', 'HOME', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR'];
/** Prefixes of variables a job gets from the host (locale categories). */
export const JOB_ENV_ALLOWED_PREFIXES: readonly string[] = ['LC_'];

/** Windmill's reserved variables: a job gets its own, never the host's. */
const RESERVED = (k: string) => k.startsWith('WM_') || k === 'BASE_INTERNAL_URL' || k === 'BASE_URL';

/** The names listed in WHITELIST_ENVS (`A,B , C`), without reserved ones. */
export function extraAllowed(list: string | undefined): string[] {
  return (list ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) && !RESERVED(s));
}

/** The allow-listed part of `env` (default: this process's). */
export function allowListedEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const extra = new Set(extraAllowed(env.WHITELIST_ENVS));
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || RESERVED(k)) continue;
    if (JOB_ENV_ALLOWED.includes(k) || JOB_ENV_ALLOWED_PREFIXES.some((p) => k.startsWith(p)) || extra.has(k)) out[k] = v;
  }
  return out;
}

/** This process's environment without the reserved variables (local preview: the user's own process). */
export function inheritedEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) if (!RESERVED(k)) out[k] = v;
  return out;
}
