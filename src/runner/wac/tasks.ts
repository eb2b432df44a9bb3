/**
 * Where a workflow's `taskScript(target)` / `taskFlow(target)` points (spec/windmill-server.md
 * §6.5, §6.7). A Windmill path (`f/data/extract`) is taken as is. A relative target (`./helper.ts`,
 * `../lib/x.py`) is resolved against the workflow's own path, as the workflow's relative imports
 * are: `./helper.ts` of `f/w/main` is the module `helper.ts` of the workflow script (Windmill's
 * meaning; a `f/w/main__mod/helper.ts` file) when there is one, else the script `f/w/helper`
 * (the path up to the file name's first dot), the workflow's sibling.
 */
import { posix } from 'node:path';

export interface TaskTarget {
  /** The Windmill path the target names (a relative one resolved against the workflow). */
  path: string;
  /** For a relative target: the module key (`helper.ts`) in the workflow script's `__mod` folder. */
  module?: string;
}

const RELATIVE = /^\.\.?\//;

/** The target of `taskScript(target)` / `taskFlow(target)` called in workflow `workflowPath`; undefined when it leaves the workspace or is empty. */
export function taskTarget(workflowPath: string, target: string): TaskTarget | undefined {
  const t = target.trim();
  if (!t) return undefined;
  if (!RELATIVE.test(t)) {
    const path = t.replace(/^\/+/, '');
    return /^[ufg]\/[^/]/.test(path) && !path.split('/').some((s) => s === '..' || s === '.') ? { path } : undefined;
  }
  const joined = posix.normalize(posix.join(posix.dirname(workflowPath), t));
  if (joined.startsWith('..') || posix.isAbsolute(joined) || !/^[ufg]\/[^/]/.test(joined)) return undefined;
  const dir = posix.dirname(joined);
  const base = posix.basename(joined);
  const dot = base.indexOf('.');
  const path = `${dir}/${dot > 0 ? base.slice(0, dot) : base}`;
  return t.startsWith('./') && !t.slice(2).includes('..') ? { path, module: posix.normalize(t.slice(2)) } : { path };
}

/** How a missing target is reported (naming what a relative target was resolved to). */
export function taskNotFound(kind: 'script' | 'flow', workflowPath: string, target: string): string {
  const resolved = taskTarget(workflowPath, target);
  if (!resolved) return `${kind} ${target} (called by ${workflowPath}) is not a path in the workspace: use a Windmill path (f/folder/name) or a path relative to the workflow (./name.ts)`;
  if (!RELATIVE.test(target.trim())) return `${kind} ${target} not found`;
  const mod = kind === 'script' && resolved.module ? `no module ${workflowPath}__mod/${resolved.module}, ` : '';
  return `${kind} ${target} not found (resolved against ${workflowPath}: ${mod}no ${kind} ${resolved.path})`;
}
