import { join } from 'node:path';
import { z } from 'zod';
import { WmillError } from '../errors.js';
import { readTextOrNull, writeFileAtomic } from '../util/fs.js';
import { parseYamlStrict, toYaml } from '../util/yaml.js';

/**
 * wmill-lock.yaml: `version: v2` and a flat map `<path>[+<sub>]` → sha256 hex.
 * Reads v2, legacy files (no `version:` line or `version: v1`: nested maps `<path>: {<sub>: hash}`)
 * and `./`-prefixed keys. A new file is v2; a legacy file keeps its format when rewritten, as the
 * reference CLI 1.819 keeps it: only the entries that changed are written (nested for `+<sub>`
 * keys), nothing is removed, and wmill's own `<path>+__lock` entries are left out (the legacy
 * format has no place for them: that script's lock-staleness check is then skipped).
 */
export interface LockFile {
  locks: Map<string, string>;
  /** True when the file did not exist. */
  created: boolean;
  /** Set when the file is in the legacy format (kept on write). */
  legacy?: LegacyLock;
}

export interface LegacyLock {
  version?: string;
  /** The `locks` map as it was read. */
  raw: Record<string, string | Record<string, string>>;
  /** The flat view of `raw` (what changed is what differs from it). */
  flat: Map<string, string>;
}

const LockYaml = z.object({
  version: z.union([z.literal('v2'), z.literal('v1')]).optional(),
  locks: z.record(z.string(), z.union([z.string(), z.record(z.string(), z.string())])).nullable().optional(),
});

export const LOCK_FILE = 'wmill-lock.yaml';

export function parseLockFile(text: string, file: string): Map<string, string> {
  return parseLockFileFull(text, file).locks;
}

/** The entries, and the legacy format when the file is in it. */
export function parseLockFileFull(text: string, file: string): { locks: Map<string, string>; legacy?: LegacyLock } {
  const parsed = parseYamlStrict(text);
  if ('error' in parsed) throw new WmillError('usage', `${file}${parsed.line ? `:${parsed.line}` : ''}: invalid YAML: ${parsed.error}; delete the file and run 'wmill generate-metadata rehash'`);
  if (parsed.value == null) return { locks: new Map() };
  const res = LockYaml.safeParse(parsed.value);
  if (!res.success) {
    const i = res.error.issues[0]!;
    throw new WmillError('usage', `${file}: field ${i.path.join('.') || '(top level)'}: ${i.message}; expected 'version: v2' and a 'locks' map`);
  }
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(res.data.locks ?? {})) {
    const key = k.startsWith('./') ? k.slice(2) : k;
    if (typeof v === 'string') out.set(key, v);
    else for (const [sub, h] of Object.entries(v)) out.set(`${key}+${sub}`, h);
  }
  if (res.data.version === 'v2') return { locks: out };
  return { locks: out, legacy: { version: res.data.version, raw: structuredClone(res.data.locks ?? {}), flat: new Map(out) } };
}

export function readLockFile(root: string): LockFile {
  const file = join(root, LOCK_FILE);
  const text = readTextOrNull(file);
  if (text === null) return { locks: new Map(), created: true };
  return { ...parseLockFileFull(text, file), created: false };
}

export function renderLockFile(locks: Map<string, string>): string {
  const obj: Record<string, string> = {};
  for (const [k, v] of locks) obj[k] = v;
  return toYaml({ version: 'v2', locks: obj });
}

/** A legacy file with the entries of `locks` that differ from what was read. */
export function renderLegacyLockFile(locks: Map<string, string>, legacy: LegacyLock): string {
  const raw = structuredClone(legacy.raw);
  for (const [k, v] of locks) {
    if (legacy.flat.get(k) === v) continue;
    const plus = k.indexOf('+');
    if (plus < 0) {
      raw[k] = v;
      continue;
    }
    const path = k.slice(0, plus);
    const sub = k.slice(plus + 1);
    if (sub === '__lock') continue;
    let prev = raw[path];
    if (!prev || typeof prev !== 'object') {
      prev = {};
      raw[path] = prev;
    }
    prev[sub] = v;
  }
  return toYaml(legacy.version ? { version: legacy.version, locks: raw } : { locks: raw });
}

export function writeLockFile(root: string, locks: Map<string, string>, legacy?: LegacyLock): void {
  writeFileAtomic(join(root, LOCK_FILE), legacy ? renderLegacyLockFile(locks, legacy) : renderLockFile(locks));
}

/**
 * Remove `key`, `key+*` (the reference's clearGlobalLock). With `index` (from `lockKeyIndex`,
 * built once per run), only that item's entries are looked at: scanning every entry for every
 * item made a first run over n items quadratic (1,000 items: ~70 ms; 5,000: ~1.7 s).
 */
export function clearLockEntries(locks: Map<string, string>, key: string, index?: Map<string, string[]>): void {
  if (index) {
    locks.delete(key);
    for (const k of index.get(key) ?? []) locks.delete(k);
    return;
  }
  for (const k of [...locks.keys()]) if (k === key || k.startsWith(`${key}+`)) locks.delete(k);
}

/** item key → its `key+*` entry keys (the split is at every `+`, so any prefix finds them). */
export function lockKeyIndex(locks: Map<string, string>): Map<string, string[]> {
  const index = new Map<string, string[]>();
  for (const k of locks.keys()) {
    for (let i = k.indexOf('+'); i > 0; i = k.indexOf('+', i + 1)) {
      const item = k.slice(0, i);
      (index.get(item) ?? index.set(item, []).get(item)!).push(k);
    }
  }
  return index;
}
