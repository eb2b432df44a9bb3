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
import type { Language } from '../workspace/languages.js';
import type { JsonSchema } from './args.js';

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

function parseMeta(text: string, file: string): Record<string, any> | undefined {
  try {
    if (file.endsWith('.json')) return JSON.parse(text);
    return undefined;
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
    meta = parseMeta(metaText, metaFile);
    if (!meta && metaFile.endsWith('.yaml')) {
      try {
        const { parseYaml } = await import('../metadata/yaml.js');
        const v = parseYaml(metaText);
        meta = v && typeof v === 'object' ? (v as Record<string, any>) : undefined;
      } catch {
        meta = undefined;
      }
    }
    const [{ readLockFile }, { scriptHash }] = await Promise.all([import('../metadata/lockfile.js'), import('../metadata/hash.js')]);
    let recorded: string | undefined;
    try {
      recorded = readLockFile(opts.root).locks.get(opts.path);
    } catch {
      recorded = undefined;
    }
    if (meta && recorded !== undefined && recorded === scriptHash(opts.content, metaText) && meta.schema && typeof meta.schema === 'object') {
      return { schema: meta.schema, source: 'metadata' };
    }
  }
  try {
    const { canInferSchema, parseScripts } = await import('../metadata/parsers/index.js');
    if (!canInferSchema(opts.language)) return { schema: meta?.schema ?? undefined, source: meta?.schema ? 'metadata' : 'none', note: `no signature parser for ${opts.language}` };
    const parsed = (await parseScripts([{ id: opts.path, language: opts.language, code: opts.content }])).get(opts.path);
    if (!parsed) return { schema: undefined, source: 'none', note: 'the parser returned nothing' };
    if (parsed.error) return { schema: undefined, source: 'none', note: `signature not parsed: ${parsed.error.message}` };
    const { mergeSchema } = await import('../metadata/schema.js');
    const merged = mergeSchema(opts.language, parsed, meta?.schema ?? null);
    if (merged.invalid) return { schema: undefined, source: 'none', note: 'the signature cannot be turned into a schema' };
    return { schema: merged.schema, source: 'inferred', note: metaText === null ? 'no metadata file' : 'metadata not current' };
  } catch (e) {
    return { schema: undefined, source: 'none', note: `schema inference unavailable: ${(e as Error).message}` };
  }
}
