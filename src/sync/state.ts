/**
 * What the folder and a workspace last agreed on: after each push or pull, the hash of every
 * item both sides then had (`.wmill/sync-state/<workspace key>.json`, per clone, not committed:
 * `.wmill/` ignores itself). `--fail-conflicts` compares against it: an item changed on BOTH
 * sides since (local hash and remote hash each differ from the recorded one) is a conflict. An
 * item with no record (a fresh clone, a first sync) is never called a conflict.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/fs.js';
import type { Plan, PlanChange } from './plan.js';

export interface SyncState {
  version: 1;
  remote: string;
  workspace: string;
  items: Record<string, string>;
}

const fileOf = (root: string, remote: string, workspace: string) =>
  join(root, '.wmill', 'sync-state', `${createHash('sha256').update(`${remote}\n${workspace}`).digest('hex').slice(0, 16)}.json`);

export function loadState(root: string, remote: string, workspace: string): SyncState {
  try {
    const s = JSON.parse(readFileSync(fileOf(root, remote, workspace), 'utf8')) as SyncState;
    if (s?.version === 1 && s.items && typeof s.items === 'object') return s;
  } catch {
    /* none yet */
  }
  return { version: 1, remote, workspace, items: {} };
}

/** Record the state both sides have after `plan` was applied (best effort: a read-only folder still syncs). */
export function saveState(root: string, plan: Plan, local: Map<string, { hash: string }>, remote: Map<string, { hash: string }>): void {
  const items: Record<string, string> = {};
  // Before: what each side had; after: the copied side's hash on both, for the items the plan changed.
  const [src, dst] = plan.direction === 'push' ? [local, remote] : [remote, local];
  for (const [k, v] of dst) if (src.get(k)?.hash === v.hash) items[k] = v.hash;
  for (const c of plan.changes) {
    const k = `${c.kind}:${c.path}`;
    if (c.op === 'delete') delete items[k];
    else if (c.hash) items[k] = c.hash;
  }
  try {
    mkdirSync(join(root, '.wmill', 'sync-state'), { recursive: true });
    writeFileAtomic(join(root, '.wmill', '.gitignore'), '*\n');
    writeFileAtomic(fileOf(root, plan.remote, plan.workspace), JSON.stringify({ version: 1, remote: plan.remote, workspace: plan.workspace, items }));
  } catch {
    /* best effort */
  }
}

/** The plan's changes to items modified on both sides since the recorded state. */
export function conflicts(plan: Plan, state: SyncState): PlanChange[] {
  return plan.changes.filter((c) => {
    if (c.op === 'add') return false;
    const base = state.items[`${c.kind}:${c.path}`];
    if (base === undefined) return false;
    // c.hash: the side being copied (absent for a deletion: that side no longer has it); c.was: the side being changed.
    const copiedChanged = c.hash === undefined || c.hash !== base;
    return copiedChanged && c.was !== base;
  });
}
