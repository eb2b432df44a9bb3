/**
 * Resources and variables of a workspace folder, read lazily from their files
 * (`<path>.resource.yaml|json`, `<path>.variable.yaml|json`, spec/wmill-cli.md §3.2), and the
 * `$var:` / `$res:` interpolation Windmill applies to resource values and job arguments.
 * Nothing is read until a job asks: a preview that uses no resource reads no file.
 */
import { join, posix, relative, sep } from 'node:path';
import { readTextOrNull } from '../util/fs.js';
import { parseDataText } from '../util/data-file.js';
import { findInRoot, safePath } from '../util/safe-read.js';
import type { ItemSource, Store } from './store.js';
import type { ResourceRecord, VariableRecord } from './types.js';

export class WorkspaceFiles implements ItemSource {
  private cache = new Map<string, unknown>();

  constructor(private root: string) {}

  private readItem(path: string, kind: 'resource' | 'variable'): { doc: Record<string, unknown>; file: string } | undefined {
    if (!/^[ufg]\/[^\0]+$/.test(path) || path.split('/').some((s) => s === '..' || s === '.' || s === '')) return undefined;
    for (const ext of ['yaml', 'json']) {
      const file = join(this.root, `${path}.${kind}.${ext}`);
      const text = readTextOrNull(safePath(this.root, `${path}.${kind}.${ext}`));
      if (text === null) continue;
      const parsed = parseDataText(text, file);
      if ('error' in parsed) throw new Error(`${path}.${kind}.${ext}${parsed.line ? `:${parsed.line}` : ''}: cannot be parsed: ${parsed.error}`);
      const doc = parsed.value;
      if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${path}.${kind}.${ext}: expected a mapping with a 'value' key`);
      return { doc: doc as Record<string, unknown>, file };
    }
    return undefined;
  }

  /**
   * `!inline <file>` strings (file resources) are replaced by the file's text (relative to the
   * root, else to the item's folder; never outside the root: src/util/safe-read.ts).
   */
  private inlineFiles(v: unknown, itemFile: string): unknown {
    if (typeof v === 'string' && v.startsWith('!inline ')) {
      const rel = v.slice('!inline '.length).trim();
      const from = relative(this.root, itemFile).split(sep).join('/');
      const abs = findInRoot(this.root, ['', posix.dirname(from)], rel, { from, ref: v });
      return (abs && readTextOrNull(abs)) ?? v;
    }
    if (Array.isArray(v)) return v.map((x) => this.inlineFiles(x, itemFile));
    if (v && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) o[k] = this.inlineFiles(x, itemFile);
      return o;
    }
    return v;
  }

  resource(path: string): ResourceRecord | undefined {
    const key = `r:${path}`;
    if (this.cache.has(key)) return this.cache.get(key) as ResourceRecord | undefined;
    const item = this.readItem(path, 'resource');
    const rec: ResourceRecord | undefined = item
      ? {
          path,
          resource_type: String(item.doc.resource_type ?? 'any'),
          value: this.inlineFiles(item.doc.value ?? null, item.file),
          description: typeof item.doc.description === 'string' ? item.doc.description : '',
        }
      : undefined;
    this.cache.set(key, rec);
    return rec;
  }

  variable(path: string): VariableRecord | undefined {
    const key = `v:${path}`;
    if (this.cache.has(key)) return this.cache.get(key) as VariableRecord | undefined;
    const item = this.readItem(path, 'variable');
    const rec: VariableRecord | undefined = item
      ? {
          path,
          value: item.doc.value == null ? '' : String(item.doc.value),
          is_secret: item.doc.is_secret === true,
          description: typeof item.doc.description === 'string' ? item.doc.description : '',
        }
      : undefined;
    this.cache.set(key, rec);
    return rec;
  }
}

/** A secret as `sync pull` writes it without --plain-secrets: base64 of whole 16-byte blocks (spec/windmill-server.md §2.5). */
export function looksEncrypted(v: VariableRecord): boolean {
  if (!v.is_secret || !/^[A-Za-z0-9+/]+={0,2}$/.test(v.value) || v.value.length % 4 !== 0) return false;
  const n = Buffer.from(v.value, 'base64').length;
  return n > 0 && n % 16 === 0;
}

export class NotFoundError extends Error {
  constructor(
    public kind: 'resource' | 'variable',
    public path: string,
  ) {
    super(`${kind === 'resource' ? 'Resource' : 'Variable'} not found at ${path}`);
    this.name = 'NotFound';
  }
}

/** Called before a `$var:`/`$res:` reference is read; throws to refuse it (the host's access check). */
export type ReferenceCheck = (kind: 'resource' | 'variable', path: string) => Promise<void>;

/**
 * Resolve `$var:<path>` and `$res:<path>` strings anywhere inside `value` (objects, arrays).
 * A `$res:` reference is itself interpolated; cycles are reported, not followed forever. Each
 * reference, nested ones included, passes `check` first.
 */
export async function interpolate(value: unknown, store: Store, workspace: string, seen: string[] = [], check?: ReferenceCheck): Promise<unknown> {
  if (typeof value === 'string') {
    if (value.startsWith('$var:')) {
      const p = value.slice(5);
      await check?.('variable', p);
      const v = await store.getVariable(workspace, p);
      if (!v) throw new NotFoundError('variable', p);
      return v.value;
    }
    if (value.startsWith('$res:')) {
      const p = value.slice(5);
      if (seen.includes(p)) throw new Error(`resource reference cycle: ${[...seen, p].join(' -> ')}`);
      await check?.('resource', p);
      const r = await store.getResource(workspace, p);
      if (!r) throw new NotFoundError('resource', p);
      return interpolate(r.value, store, workspace, [...seen, p], check);
    }
    return value;
  }
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const x of value) out.push(await interpolate(x, store, workspace, seen, check));
    return out;
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(value)) out[k] = await interpolate(x, store, workspace, seen, check);
    return out;
  }
  return value;
}
