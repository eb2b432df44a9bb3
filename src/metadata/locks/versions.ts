/** Package versions inside a lock, and what changed between two locks. */
import { parseBunLock, splitIdent } from './npm.js';
import { pinnedVersions } from './pip.js';
import type { LockKind } from './request.js';

/** name → version (several versions of one package, as nested npm copies, are joined by ", "). */
export function lockVersions(kind: LockKind, lockText: string): Map<string, string> {
  if (!lockText) return new Map();
  if (kind === 'pip') return pinnedVersions(lockText);
  const { packageJson, bunLock } = parseBunLock(lockText);
  const byName = new Map<string, Set<string>>();
  const add = (n: string, v: string) => {
    const s = byName.get(n) ?? new Set<string>();
    s.add(v);
    byName.set(n, s);
  };
  if (bunLock?.packages) {
    for (const entry of Object.values(bunLock.packages)) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string') continue;
      const [n, v] = splitIdent(entry[0]);
      if (v && !v.startsWith('workspace:') && !v.startsWith('link:')) add(n, v);
    }
  } else {
    for (const [n, v] of Object.entries(packageJson.dependencies ?? {})) add(n, v);
  }
  const out = new Map<string, string>();
  for (const n of [...byName.keys()].sort()) out.set(n, [...byName.get(n)!].sort().join(', '));
  return out;
}

/** A lock with no packages ('' for pip; an empty bun lock, e.g. Windmill's `<empty>` one, for npm). */
export function isEmptyLock(kind: LockKind, lockText: string): boolean {
  if (!lockText.trim()) return true;
  if (kind === 'pip') return pinnedVersions(lockText).size === 0 && !lockText.split('\n').some((l) => l.trim() && !l.trim().startsWith('#'));
  const { packageJson, bunLock } = parseBunLock(lockText);
  return Object.keys(packageJson.dependencies ?? {}).length === 0 && Object.keys(bunLock?.packages ?? {}).length === 0;
}

export interface VersionChange {
  name: string;
  /** null: added. */
  from: string | null;
  /** null: removed. */
  to: string | null;
}

export function diffVersions(before: Map<string, string>, after: Map<string, string>): VersionChange[] {
  const names = [...new Set([...before.keys(), ...after.keys()])].sort();
  const out: VersionChange[] = [];
  for (const name of names) {
    const from = before.get(name) ?? null;
    const to = after.get(name) ?? null;
    if (from !== to) out.push({ name, from, to });
  }
  return out;
}

export function renderChange(c: VersionChange): string {
  if (c.from === null) return `+ ${c.name} ${c.to}`;
  if (c.to === null) return `- ${c.name} ${c.from}`;
  return `${c.name} ${c.from} -> ${c.to}`;
}
