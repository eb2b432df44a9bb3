/**
 * `wmill.yaml` without zod or the `yaml` package, for start-up paths (`script preview`):
 * src/util/simple-yaml.ts reads the file and `checkWmillYaml` checks it by hand against the
 * same rules as `WmillYamlSchema` (src/workspace/config.ts), returning the same value. Anything
 * the quick path does not accept (a YAML construct outside the simple subset, an invalid or
 * unusual field) makes `loadConfigFast` answer undefined: the caller then uses `loadConfig`,
 * which validates with zod and produces the one-line error naming the file and field.
 * test/simple-yaml.test.ts checks the two against each other.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseSimpleYaml } from '../util/simple-yaml.js';
import { readText } from '../util/fs.js';
import type { WmillYaml, WorkspaceConfig } from './config.js';

/** Find the sync root: walk up from `start` to the first folder with wmill.yaml, not past a git top-level. */
export function findSyncRoot(start: string): string | null {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'wmill.yaml'))) return dir;
    if (existsSync(join(dir, '.git'))) return null;
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** The configuration with its defaults, from the validated `wmill.yaml` value. */
export function configFrom(root: string, file: string | null, raw: WmillYaml): WorkspaceConfig {
  return {
    root,
    file,
    defaultTs: raw.defaultTs ?? 'bun',
    includes: raw.includes ?? ['f/**'],
    excludes: raw.excludes ?? [],
    extraIncludes: raw.extraIncludes ?? [],
    nonDottedPaths: raw.nonDottedPaths ?? false,
    raw,
  };
}

const FAIL = Symbol('fail');
type Check = (v: unknown) => unknown | typeof FAIL;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str: Check = (v) => (typeof v === 'string' ? v : FAIL);
const bool: Check = (v) => (typeof v === 'boolean' ? v : FAIL);
const strings: Check = (v) => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? [...v] : FAIL);
const positiveInt: Check = (v) => (typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : FAIL);
const record: Check = (v) => (isObject(v) ? { ...v } : FAIL);
const records: Check = (v) => (Array.isArray(v) && v.every(isObject) ? v.map((x) => ({ ...x })) : FAIL);
const oneOf =
  (...values: string[]): Check =>
  (v) =>
    typeof v === 'string' && values.includes(v) ? v : FAIL;

/** A zod `.loose()` object: the known keys checked, in shape order, then the others as they are. */
function loose(shape: [string, Check][]): (v: unknown) => Record<string, unknown> | typeof FAIL {
  const known = new Set(shape.map(([k]) => k));
  return (v) => {
    if (!isObject(v)) return FAIL;
    const out: Record<string, unknown> = {};
    for (const [k, check] of shape) {
      if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
      const r = check(v[k]);
      if (r === FAIL) return FAIL;
      out[k] = r;
    }
    for (const k of Object.keys(v)) if (!known.has(k)) out[k] = v[k];
    return out;
  };
}

/** The fields of WmillYamlSchema, in its order (a test keeps the two in step). */
export const WMILL_YAML_SHAPE: [string, Check][] = [
  ['defaultTs', oneOf('bun', 'deno')],
  ['includes', strings],
  ['excludes', strings],
  ['extraIncludes', strings],
  ['skipVariables', bool],
  ['skipResources', bool],
  ['skipResourceTypes', bool],
  ['skipScripts', bool],
  ['skipFlows', bool],
  ['skipApps', bool],
  ['skipFolders', bool],
  ['skipWorkspaceDependencies', bool],
  ['skipSecrets', bool],
  ['includeSchedules', bool],
  ['includeTriggers', bool],
  ['includeUsers', bool],
  ['includeGroups', bool],
  ['includeSettings', bool],
  ['includeKey', bool],
  ['parallel', positiveInt],
  ['locksRequired', bool],
  ['lint', bool],
  ['dedupeLockfiles', bool],
  ['plainSecrets', bool],
  ['nonDottedPaths', bool],
  ['message', str],
  ['syncBehavior', str],
  ['codebases', records],
  ['workspaces', record],
  ['overrides', record],
  [
    'python',
    loose([
      ['indexUrl', str],
      ['extraIndexUrls', strings],
      ['findLinks', strings],
      ['noIndex', bool],
    ]),
  ],
  ['npm', loose([['registry', str]])],
];

const checkTop = loose(WMILL_YAML_SHAPE);

/**
 * The parsed `wmill.yaml` value as WmillYamlSchema returns it, or undefined when it may not be
 * valid (then parseWmillYaml in config.ts decides, and names the field in its error).
 */
export function checkWmillYaml(value: unknown): WmillYaml | undefined {
  const r = checkTop(value);
  if (r === FAIL) return undefined;
  // Top-level overrides are an error (config.ts explains it).
  if (isObject(r.overrides) && Object.keys(r.overrides).length > 0) return undefined;
  return r as WmillYaml;
}

/** loadConfig's result when `wmill.yaml` is absent or simple and valid; undefined: use loadConfig. */
export function loadConfigFast(start: string): WorkspaceConfig | undefined {
  try {
    const root = findSyncRoot(start);
    if (!root) return configFrom(resolve(start), null, {});
    const file = join(root, 'wmill.yaml');
    const parsed = parseSimpleYaml(readText(file));
    if (!parsed) return undefined;
    const raw = checkWmillYaml(parsed.value);
    return raw ? configFrom(root, file, raw) : undefined;
  } catch {
    return undefined;
  }
}
