/**
 * The plan: a pure comparison of local and remote item hashes. Text, `--json` and
 * `--dry-run` all render this object, and apply executes exactly its changes, so what a
 * dry-run shows is what a push does. A saved plan carries the remote's fingerprint; applying
 * it is refused when the remote changed since.
 */
import { createHash } from 'node:crypto';
import { KIND_ORDER, type ItemKind } from '../items/canonical.js';

export type Op = 'add' | 'update' | 'delete';

export interface PlanChange {
  op: Op;
  kind: ItemKind;
  path: string;
  /** Hash of the side being copied (local for push, remote for pull); absent for deletions. */
  hash?: string;
  /** Hash on the side being changed; absent for additions. */
  was?: string;
  /** Scripts (push): the deployed version this change replaces (its parent). */
  parent?: string;
}

export interface Plan {
  version: 1;
  direction: 'push' | 'pull';
  workspace: string;
  remote: string;
  changes: PlanChange[];
  counts: Record<Op, number>;
  /** Hash of the remote state the plan was made against. */
  remoteFingerprint: string;
}

interface Side {
  kind: ItemKind;
  path: string;
  hash: string;
  version?: string;
}

export function fingerprint(items: Iterable<Side>): string {
  const lines = [...items].map((x) => `${x.kind}:${x.path}=${x.hash}@${x.version ?? ''}`).sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 32);
}

const rank = (k: ItemKind) => KIND_ORDER.indexOf(k);

export function makePlan(
  local: Map<string, Side>,
  remote: Map<string, Side>,
  opts: { direction: 'push' | 'pull'; keepDeleted?: boolean; workspace: string; remoteUrl: string },
): Plan {
  const [src, dst] = opts.direction === 'push' ? [local, remote] : [remote, local];
  const changes: PlanChange[] = [];
  for (const [key, s] of src) {
    const d = dst.get(key);
    const remoteSide = opts.direction === 'push' ? d : s;
    if (!d) changes.push({ op: 'add', kind: s.kind, path: s.path, hash: s.hash });
    else if (d.hash !== s.hash) {
      changes.push({ op: 'update', kind: s.kind, path: s.path, hash: s.hash, was: d.hash, ...(remoteSide?.version && opts.direction === 'push' ? { parent: remoteSide.version } : {}) });
    }
  }
  if (!opts.keepDeleted) {
    for (const [key, d] of dst) if (!src.has(key)) changes.push({ op: 'delete', kind: d.kind, path: d.path, was: d.hash });
  }
  // Additions and updates in dependency order (folders first), then deletions in reverse order.
  changes.sort((a, b) => {
    const da = a.op === 'delete' ? 1 : 0;
    const db = b.op === 'delete' ? 1 : 0;
    if (da !== db) return da - db;
    const r = da ? rank(b.kind) - rank(a.kind) : rank(a.kind) - rank(b.kind);
    return r || a.path.localeCompare(b.path);
  });
  const counts = { add: 0, update: 0, delete: 0 };
  for (const c of changes) counts[c.op]++;
  return { version: 1, direction: opts.direction, workspace: opts.workspace, remote: opts.remoteUrl, changes, counts, remoteFingerprint: fingerprint(remote.values()) };
}

const SYMBOL: Record<Op, string> = { add: '+', update: '~', delete: '-' };

/** The plan as text lines (one per change; deletions are never hidden). */
export function renderPlan(plan: Plan): string[] {
  const lines = plan.changes.map((c) => `${SYMBOL[c.op]} ${c.kind} ${c.path}`);
  const arrow = plan.direction === 'push' ? `remote ${plan.workspace} <- local` : `local <- remote ${plan.workspace}`;
  const { add, update, delete: del } = plan.counts;
  lines.push(
    plan.changes.length === 0
      ? `${arrow}: nothing to do`
      : `${arrow}: ${plan.changes.length} change(s): ${add} to add, ${update} to update, ${del} to delete`,
  );
  return lines;
}
