/**
 * `--show-diffs`: the content of each planned update, local against remote, as a line diff of
 * the item's canonical body in YAML (what the files hold). Secret values are never shown: a
 * secret variable's value is replaced by a fixed mark on both sides (the diff then says only
 * that it changed).
 */
import { toYaml } from '../util/yaml.js';
import type { Plan } from './plan.js';

const SECRET = '<secret value: not shown>';

function text(kind: string, body: Record<string, unknown> | undefined): string[] {
  if (!body) return [];
  const b = kind === 'variable' && body.is_secret ? { ...body, value: SECRET } : body;
  const { content, ...rest } = b as Record<string, unknown>;
  const lines = toYaml(rest).split('\n');
  if (typeof content === 'string') lines.push('content: |', ...content.split('\n').map((l) => `  ${l}`));
  return lines.filter((l, i, a) => l !== '' || i < a.length - 1);
}

/** A minimal line diff (LCS), lines prefixed with ' ', '-' or '+'. */
export function lineDiff(a: string[], b: string[]): string[] {
  const n = a.length;
  const m = b.length;
  if (n * m > 4_000_000) return [...a.map((l) => `-${l}`), ...b.map((l) => `+${l}`)];
  const t: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) t[i]![j] = a[i] === b[j] ? t[i + 1]![j + 1]! + 1 : Math.max(t[i + 1]![j]!, t[i]![j + 1]!);
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push(` ${a[i]}`);
      i++;
      j++;
    } else if (t[i + 1]![j]! >= t[i]![j + 1]!) out.push(`-${a[i++]}`);
    else out.push(`+${b[j++]}`);
  }
  while (i < n) out.push(`-${a[i++]}`);
  while (j < m) out.push(`+${b[j++]}`);
  return out;
}

/** The diff of every update in the plan: `-` what the changed side has, `+` what it gets. Unchanged lines are left out but for 2 around each change. */
export function showDiffs(plan: Plan, local: Map<string, { body: Record<string, unknown> }>, remoteBodies: Map<string, Record<string, unknown>>): string[] {
  const out: string[] = [];
  for (const c of plan.changes) {
    if (c.op !== 'update') continue;
    const key = `${c.kind}:${c.path}`;
    const l = text(c.kind, local.get(key)?.body);
    const r = text(c.kind, remoteBodies.get(key));
    const d = plan.direction === 'push' ? lineDiff(r, l) : lineDiff(l, r);
    out.push(`--- ${c.kind} ${c.path} (${plan.direction === 'push' ? 'remote' : 'local'})`, `+++ ${c.kind} ${c.path} (${plan.direction === 'push' ? 'local' : 'remote'})`);
    const keep = new Set<number>();
    d.forEach((x, i) => {
      if (x[0] !== ' ') for (let k = i - 2; k <= i + 2; k++) keep.add(k);
    });
    let last = -1;
    d.forEach((x, i) => {
      if (!keep.has(i)) return;
      if (last >= 0 && i > last + 1) out.push('@@');
      out.push(x);
      last = i;
    });
  }
  return out;
}
