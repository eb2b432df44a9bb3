/**
 * The `workspaces:` section of `wmill.yaml` (spec/wmill-cli.md §2, §4): named entries, each a
 * workspace on a server (`baseUrl`, `workspaceId` = the name, `gitBranch` = the name) with the
 * sync options it overrides (`overrides`, and `promotionOverrides` for `--promotion <branch>`).
 * The deprecated top-level aliases `gitBranches`, `environments` and `git_branches` are read
 * as `workspaces` with a warning, as the reference reads them. Pure: the caller gives the raw
 * wmill.yaml value and the current git branch.
 */
import { WmillError } from '../errors.js';

export interface WorkspaceEntry {
  baseUrl?: string;
  workspaceId?: string;
  gitBranch?: string;
  overrides?: Record<string, unknown>;
  promotionOverrides?: Record<string, unknown>;
  [k: string]: unknown;
}

/** Keys of `workspaces:` that are not entries. */
const RESERVED = new Set(['commonSpecificItems']);
const LEGACY = ['gitBranches', 'environments', 'git_branches'] as const;

export interface Entries {
  entries: [string, WorkspaceEntry][];
  warnings: string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The entries of `workspaces:` (or of a deprecated alias, with its warning), validated. */
export function workspaceEntries(raw: Record<string, unknown>, file = 'wmill.yaml'): Entries {
  const warnings: string[] = [];
  let key = 'workspaces';
  let section = raw.workspaces;
  if (section === undefined || section === null) {
    const legacy = LEGACY.find((k) => isObject(raw[k]));
    if (legacy) {
      key = legacy;
      section = raw[legacy];
      warnings.push(`'${legacy}' in wmill.yaml is deprecated. Use 'workspaces' instead (same entries; 'wmill config migrate' in windmill-cli rewrites it).`);
    }
  } else {
    for (const k of LEGACY) if (raw[k] !== undefined) warnings.push(`Both 'workspaces' and '${k}' found in wmill.yaml. Using 'workspaces' and ignoring '${k}'.`);
  }
  if (section === undefined || section === null) return { entries: [], warnings };
  if (!isObject(section)) throw new WmillError('usage', `${file}: field ${key}: expected a mapping of workspace names to entries`, { field: key });
  const entries: [string, WorkspaceEntry][] = [];
  for (const [name, e] of Object.entries(section)) {
    if (RESERVED.has(name)) continue;
    const v = e ?? {};
    if (!isObject(v)) throw new WmillError('usage', `${file}: field ${key}.${name}: expected a mapping (baseUrl, workspaceId, gitBranch, overrides, ...)`, { field: `${key}.${name}` });
    for (const f of ['baseUrl', 'workspaceId', 'gitBranch'] as const) {
      if (v[f] !== undefined && typeof v[f] !== 'string') throw new WmillError('usage', `${file}: field ${key}.${name}.${f}: expected a string`, { field: `${key}.${name}.${f}` });
    }
    for (const f of ['overrides', 'promotionOverrides'] as const) {
      if (v[f] !== undefined && v[f] !== null && !isObject(v[f])) throw new WmillError('usage', `${file}: field ${key}.${name}.${f}: expected a mapping of wmill.yaml options`, { field: `${key}.${name}.${f}` });
    }
    if (v.baseUrl !== undefined) {
      try {
        new URL(v.baseUrl as string);
      } catch {
        throw new WmillError('usage', `${file}: field ${key}.${name}.baseUrl: not a URL ("${String(v.baseUrl)}"); write it as https://host/`, { field: `${key}.${name}.baseUrl` });
      }
    }
    entries.push([name, v as WorkspaceEntry]);
  }
  return { entries, warnings };
}

export const entryWorkspaceId = (name: string, e: WorkspaceEntry) => e.workspaceId ?? name;
export const entryGitBranch = (name: string, e: WorkspaceEntry) => e.gitBranch ?? name;

/** Fork branches (`wm-fork/<branch>/<forkId>`) map to the entry of the branch they forked. */
export function branchForLookup(branch: string): string {
  const m = /^wm-fork\/(.+)\/[^/]+$/.exec(branch);
  return m ? m[1]! : branch;
}

/** The first entry whose git branch (`gitBranch`, else its name) is `branch`. */
export function entryForBranch(entries: [string, WorkspaceEntry][], branch: string): [string, WorkspaceEntry] | undefined {
  const b = branchForLookup(branch);
  return entries.find(([n, e]) => entryGitBranch(n, e) === b);
}

/**
 * The options in effect: the top-level keys, then the chosen entry's `overrides` (or, with
 * `--promotion <branch>`, the `promotionOverrides` of the entry for that branch, else its
 * `overrides`). Command-line flags are applied on top by the caller.
 */
export function effectiveOptions(
  raw: Record<string, unknown>,
  entries: [string, WorkspaceEntry][],
  chosen: string | undefined,
  promotion?: string,
): { options: Record<string, unknown>; applied: string | null } {
  const options: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (k !== 'workspaces' && !(LEGACY as readonly string[]).includes(k)) options[k] = v;
  if (promotion) {
    const m = entryForBranch(entries, promotion);
    if (m?.[1].promotionOverrides) return { options: Object.assign(options, m[1].promotionOverrides), applied: `promotionOverrides of workspace '${m[0]}' (--promotion ${promotion})` };
    if (m?.[1].overrides) return { options: Object.assign(options, m[1].overrides), applied: `overrides of workspace '${m[0]}' (--promotion ${promotion}; it has no promotionOverrides)` };
    return { options, applied: null };
  }
  const e = chosen ? entries.find(([n]) => n === chosen) : undefined;
  if (e?.[1].overrides) return { options: Object.assign(options, e[1].overrides), applied: `overrides of workspace '${e[0]}'` };
  return { options, applied: null };
}
