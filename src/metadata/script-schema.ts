/**
 * The argument schema of a script file, as cheaply as possible:
 * 1. its `.script.yaml`/`.script.json` when wmill-lock.yaml records the hash of exactly these
 *    files (metadata current: no parser is loaded at all);
 * 2. otherwise inferred from the code now (the metadata parsers + the reference merge rules),
 *    merged into the stored schema so hand-written UI keys are kept, and nothing is written;
 * 3. none when the language has no parser (or the parsers cannot be loaded): the arguments
 *    then pass unchecked.
 */
import { join } from 'node:path';
import { readTextOrNull } from '../util/fs.js';
import { parseSimpleYaml } from '../util/simple-yaml.js';
import { parseDataText } from '../util/data-file.js';
import type { Language } from '../workspace/languages.js';
import type { JsonSchema } from '../items/args.js';

export interface ScriptSchema {
  schema: JsonSchema | undefined;
  source: 'metadata' | 'inferred' | 'none';
  /** Why inference was needed or skipped (for --json and debugging). */
  note?: string;
}

/** Root-relative metadata candidates for a root-relative script file (flat and `__mod/` layouts). */
export function metadataFiles(relFile: string, path: string): string[] {
  const mod = /^(.*)__mod\/script\.[^/]+$/.exec(relFile);
  const base = mod ? `${mod[1]}__mod/script` : `${path}.script`;
  return [`${base}.yaml`, `${base}.json`];
}

async function parseMeta(text: string, file: string): Promise<Record<string, any> | undefined> {
  // Metadata as wmill writes it is read without loading the yaml package (src/util/data-file.ts).
  const parsed = parseDataText(text, file);
  if ('error' in parsed) return undefined;
  const v = parsed.value;
  return v && typeof v === 'object' ? (v as Record<string, any>) : undefined;
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The hash wmill-lock.yaml records for `path`, as readLockFile (src/metadata/lockfile.ts) reads
 * it: from a simple, valid lock file without loading zod and yaml, else through readLockFile.
 * Undefined when there is none or the file is unreadable.
 */
async function recordedHash(root: string, path: string): Promise<string | undefined> {
  try {
    const text = readTextOrNull(join(root, 'wmill-lock.yaml'));
    if (text === null) return undefined;
    const doc = parseSimpleYaml(text)?.value;
    // The shape readLockFile accepts: {version?: 'v1' | 'v2', locks?: null | {key: hash | {sub: hash}}}.
    if (isMap(doc) && (doc.version === undefined || doc.version === 'v1' || doc.version === 'v2')) {
      const locks = doc.locks;
      if (locks === undefined || locks === null) return undefined;
      if (isMap(locks) && Object.values(locks).every((v) => typeof v === 'string' || (isMap(v) && Object.values(v).every((h) => typeof h === 'string')))) {
        const found = new Map<string, string>();
        for (const [k, v] of Object.entries(locks)) {
          const key = k.startsWith('./') ? k.slice(2) : k;
          if (typeof v === 'string') found.set(key, v);
          else for (const [sub, h] of Object.entries(v as Record<string, string>)) found.set(`${key}+${sub}`, h);
        }
        return found.get(path);
      }
    }
  } catch {
    /* decided by readLockFile below */
  }
  try {
    const { readLockFile } = await import('./lockfile.js');
    return readLockFile(root).locks.get(path);
  } catch {
    return undefined;
  }
}

export async function scriptSchema(opts: {
  root: string;
  relFile: string | null;
  path: string;
  language: Language;
  content: string;
}): Promise<ScriptSchema> {
  let metaText: string | null = null;
  let metaFile: string | null = null;
  if (opts.relFile) {
    for (const f of metadataFiles(opts.relFile, opts.path)) {
      metaText = readTextOrNull(join(opts.root, f));
      if (metaText !== null) {
        metaFile = f;
        break;
      }
    }
  }
  let meta: Record<string, any> | undefined;
  if (metaText !== null && metaFile) {
    meta = await parseMeta(metaText, metaFile);
    const [recorded, { scriptHash }] = await Promise.all([recordedHash(opts.root, opts.path), import('./hash.js')]);
    if (meta && recorded !== undefined && recorded === scriptHash(opts.content, metaText) && meta.schema && typeof meta.schema === 'object') {
      return { schema: meta.schema, source: 'metadata' };
    }
  }
  try {
    const { canInferSchema, parseScriptQuick } = await import('./parsers/index.js');
    if (!canInferSchema(opts.language)) return { schema: meta?.schema ?? undefined, source: meta?.schema ? 'metadata' : 'none', note: `no signature parser for ${opts.language}` };
    const parsed = await parseScriptQuick({ id: opts.path, language: opts.language, code: opts.content });
    if (!parsed) return { schema: undefined, source: 'none', note: 'the parser returned nothing' };
    if (parsed.error) return { schema: undefined, source: 'none', note: `signature not parsed: ${parsed.error.message}` };
    const { mergeSchema } = await import('./schema.js');
    const merged = mergeSchema(opts.language, parsed, meta?.schema ?? null);
    if (merged.invalid) return { schema: undefined, source: 'none', note: 'the signature cannot be turned into a schema' };
    return { schema: merged.schema, source: 'inferred', note: metaText === null ? 'no metadata file' : 'metadata not current' };
  } catch (e) {
    return { schema: undefined, source: 'none', note: `schema inference unavailable: ${(e as Error).message}` };
  }
}

/**
 * The argument names in signature order, when the schema tells them: a freshly inferred schema
 * lists properties in argument order; a stored one does not (the YAML writer sorts keys) unless
 * it has an explicit `order`. Undefined otherwise: the executors find the order themselves
 * (TypeScript from main's source, bash from its signature).
 */
export function argOrder(sch: ScriptSchema): string[] | undefined {
  const props = sch.schema && sch.schema.properties && typeof sch.schema.properties === 'object' ? Object.keys(sch.schema.properties) : undefined;
  const order: unknown = sch.schema?.order;
  if (Array.isArray(order) && props && props.every((p) => order.includes(p))) return order as string[];
  return sch.source === 'inferred' && props?.length ? props : undefined;
}
