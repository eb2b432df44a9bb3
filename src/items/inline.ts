/**
 * `!inline <file>` references in item files (flow.yaml modules, a script's lock, resources):
 * the item's body holds the referenced file's text. Sync reads items this way, and so does
 * preview when it reads a local flow.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WmillError } from '../errors.js';
import { resolveInRoot } from '../util/safe-read.js';

/**
 * Replace `!inline <file>` strings (anywhere in `v`) by the file's text, relative to `dir`.
 * The file must be inside the sync root (src/util/safe-read.ts).
 */
export function resolveInline(v: unknown, root: string, dir: string, where: string, used: string[]): unknown {
  if (typeof v === 'string' && v.startsWith('!inline ')) {
    const rel = v.slice('!inline '.length).trim();
    const abs = resolveInRoot(root, dir, rel, { from: where, ref: v });
    const file = dir ? `${dir}/${rel}` : rel;
    if (!existsSync(abs)) throw new WmillError('usage', `${where}: '${v}' points to ${file}, which does not exist; restore the file or fix the reference`);
    used.push(file);
    return readFileSync(abs, 'utf8');
  }
  if (Array.isArray(v)) return v.map((x) => resolveInline(x, root, dir, where, used));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveInline(x, root, dir, where, used)]));
  return v;
}
