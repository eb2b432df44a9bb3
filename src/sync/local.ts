/**
 * Read a workspace folder into sync items (src/sync/canonical.ts): scripts with their
 * metadata and lock, flows with `!inline` files substituted, resources, variables,
 * schedules (when `includeSchedules`), folders and resource types, honouring `wmill.yaml`
 * includes/excludes and skip flags exactly as discovery does for generate-metadata.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WmillError } from '../errors.js';
import { discover } from '../workspace/discover.js';
import type { WorkspaceConfig } from '../workspace/config.js';
import { parseYamlStrict } from '../metadata/yaml.js';
import {
  flowBody, folderBody, itemKey, resourceBody, resourceTypeBody, scheduleBody, scriptBody, variableBody, type ItemKind, type SyncItem,
} from './canonical.js';

export interface SyncOptions {
  skipVariables: boolean;
  skipResources: boolean;
  skipResourceTypes: boolean;
  skipScripts: boolean;
  skipFlows: boolean;
  skipFolders: boolean;
  skipSecrets: boolean;
  includeSchedules: boolean;
}

export function syncOptions(cfg: WorkspaceConfig): SyncOptions {
  const r = cfg.raw as Record<string, unknown>;
  const b = (k: string, d = false) => (typeof r[k] === 'boolean' ? (r[k] as boolean) : d);
  return {
    skipVariables: b('skipVariables'),
    skipResources: b('skipResources'),
    skipResourceTypes: b('skipResourceTypes'),
    skipScripts: b('skipScripts'),
    skipFlows: b('skipFlows'),
    skipFolders: b('skipFolders'),
    skipSecrets: b('skipSecrets', true),
    includeSchedules: b('includeSchedules'),
  };
}

/** Whether an item of `kind` takes part in this sync at all (both sides are filtered the same way). */
export function kindIncluded(kind: ItemKind, o: SyncOptions): boolean {
  switch (kind) {
    case 'variable': return !o.skipVariables;
    case 'resource': return !o.skipResources;
    case 'resource-type': return !o.skipResourceTypes;
    case 'script': return !o.skipScripts;
    case 'flow': return !o.skipFlows;
    case 'folder': return !o.skipFolders;
    case 'schedule': return o.includeSchedules;
  }
}

export interface LocalItem extends SyncItem {
  /** Root-relative files this item is made of (for messages and pull). */
  files: string[];
}

export interface LocalRead {
  items: Map<string, LocalItem>;
  warnings: string[];
}

function readYaml(root: string, rel: string): Record<string, any> {
  const text = readFileSync(join(root, rel), 'utf8');
  const parsed = rel.endsWith('.json') ? safeJson(text) : parseYamlStrict(text);
  if ('error' in parsed) throw new WmillError('usage', `${rel}${parsed.line ? `:${parsed.line}` : ''}: ${parsed.error}; fix the file and re-run`);
  const v = parsed.value ?? {};
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new WmillError('usage', `${rel}: expected a mapping at the top level`);
  return v as Record<string, any>;
}

function safeJson(text: string): { value: unknown } | { error: string; line?: number } {
  try {
    return { value: JSON.parse(text) };
  } catch (e) {
    return { error: `invalid JSON: ${(e as Error).message}` };
  }
}

/** Replace `!inline <file>` strings (anywhere in `v`) by the file's text, relative to `dir`. */
export function resolveInline(v: unknown, root: string, dir: string, where: string, used: string[]): unknown {
  if (typeof v === 'string' && v.startsWith('!inline ')) {
    const rel = v.slice('!inline '.length).trim();
    const file = dir ? `${dir}/${rel}` : rel;
    if (!existsSync(join(root, file))) throw new WmillError('usage', `${where}: '${v}' points to ${file}, which does not exist; restore the file or fix the reference`);
    used.push(file);
    return readFileSync(join(root, file), 'utf8');
  }
  if (Array.isArray(v)) return v.map((x) => resolveInline(x, root, dir, where, used));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveInline(x, root, dir, where, used)]));
  return v;
}

export function readLocal(cfg: WorkspaceConfig, o: SyncOptions = syncOptions(cfg)): LocalRead {
  const d = discover(cfg);
  const items = new Map<string, LocalItem>();
  const warnings: string[] = [];
  for (const p of d.problems) warnings.push(`${p.file}: ${p.message} (skipped)`);
  const add = (kind: ItemKind, path: string, body: Record<string, unknown>, files: string[]) => {
    if (!kindIncluded(kind, o)) return;
    const key = itemKey(kind, path);
    const prev = items.get(key);
    if (prev) throw new WmillError('usage', `${files[0]} and ${prev.files[0]} are both ${kind} ${path}; keep one of them`);
    items.set(key, { kind, path, body, files });
  };

  for (const s of d.scripts) {
    let meta: Record<string, any> = {};
    const files = [s.file];
    if (s.metaFile) {
      meta = readYaml(cfg.root, s.metaFile);
      files.push(s.metaFile);
      if (typeof meta.lock === 'string' && meta.lock.startsWith('!inline ')) {
        meta = { ...meta, lock: resolveInline(meta.lock, cfg.root, '', s.metaFile, files) };
      }
    } else {
      warnings.push(`${s.file}: no metadata file; pushing it without a schema (run 'wmill generate-metadata' first)`);
    }
    add('script', s.path, scriptBody({ ...meta, content: readFileSync(join(cfg.root, s.file), 'utf8'), language: s.language }), files);
  }
  for (const f of d.flows) {
    const yamlFile = existsSync(join(cfg.root, f.folder, 'flow.yaml')) ? `${f.folder}/flow.yaml` : `${f.folder}/flow.json`;
    const files = [yamlFile];
    const raw = readYaml(cfg.root, yamlFile);
    const resolved = resolveInline(raw, cfg.root, f.folder, yamlFile, files) as Record<string, any>;
    // The flow's Windmill path has no folder suffix (`etl__flow/` → `f/x/etl`).
    add('flow', f.folder.replace(/(\.flow|__flow)$/, ''), flowBody(resolved), files);
  }
  for (const x of d.others) {
    if (x.kind === 'trigger') continue;
    const v = readYaml(cfg.root, x.file);
    switch (x.kind) {
      case 'resource':
        add('resource', x.path, resourceBody(resolveInline(v, cfg.root, '', x.file, []) as Record<string, any>), [x.file]);
        break;
      case 'variable':
        if (v.is_secret && o.skipSecrets) break;
        add('variable', x.path, variableBody(v), [x.file]);
        break;
      case 'schedule':
        add('schedule', x.path, scheduleBody(v), [x.file]);
        break;
      case 'folder': {
        const name = x.path.split('/')[1]!;
        add('folder', name, folderBody(name, v), [x.file]);
        break;
      }
      case 'resource-type':
        add('resource-type', x.path, resourceTypeBody(v), [x.file]);
        break;
    }
  }
  return { items, warnings };
}
