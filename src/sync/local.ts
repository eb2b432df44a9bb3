/**
 * Read a workspace folder into sync items (src/items/canonical.ts): scripts with their
 * metadata and lock, flows with `!inline` files substituted, resources, variables,
 * schedules (when `includeSchedules`), triggers (when `includeTriggers`), folders, resource types and apps (src/items/apps.ts), honouring `wmill.yaml`
 * includes/excludes and skip flags exactly as discovery does for generate-metadata.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { writeFileAtomic } from '../util/fs.js';
import { join } from 'node:path';
import { WmillError } from '../errors.js';
import { discover } from '../workspace/discover.js';
import type { WorkspaceConfig } from '../workspace/config.js';
import { parseDataFile } from '../util/data-file.js';
import { resolveInRoot, safePath } from '../util/safe-read.js';
import { syncFilter, syncOptions, type SyncOptions } from './filter.js';
import {
  bodyHash, flowBody, folderBody, itemKey, resourceBody, resourceTypeBody, scheduleBody, scriptBody, variableBody, type ItemKind, type SyncItem,
} from '../items/canonical.js';
import { resolveInline } from '../items/inline.js';
import { triggerBody, triggerFile } from '../items/triggers.js';
import { appFromFiles, appYamlName, rawAppFileCounts } from '../items/apps.js';

/** Every file under an app folder (relative to it), sorted; for raw apps, what a push reads (no node_modules, dist, ...). */
function appFolderFiles(root: string, folder: string, raw: boolean): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const d of readdirSync(join(root, folder, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) {
        if (d.name === 'node_modules' || (raw && !rawAppFileCounts(`${r}/x`))) continue;
        walk(r);
      } else if (d.isFile()) out.push(r);
    }
  };
  walk('');
  return out.sort();
}

export { kindIncluded, syncOptions, type SyncOptions } from './filter.js';

export interface LocalItem extends SyncItem {
  /** Root-relative files this item is made of (for messages and pull). */
  files: string[];
  /** Content hash of the canonical body. */
  hash: string;
}

export interface LocalRead {
  items: Map<string, LocalItem>;
  warnings: string[];
  /** The sync cache no longer describes the folder (an item was read afresh, or one is gone). */
  cacheStale: boolean;
}

/**
 * `.wmill/sync-cache.json`: each item's hash with the size and times of the files it was made
 * from. An item whose files did not change is not read or parsed again (its body is loaded only
 * if a change needs it), so a no-op sync of a large folder is a walk and a stat per file.
 */
interface SyncCache {
  version: 1;
  items: Record<string, { hash: string; files: Record<string, string> }>;
}

const CACHE_FILE = join('.wmill', 'sync-cache.json');

function statSig(root: string, rel: string): string | undefined {
  try {
    const st = statSync(join(root, rel));
    return `${st.mtimeMs}:${st.ctimeMs}:${st.size}`;
  } catch {
    return undefined;
  }
}

function loadCache(root: string): SyncCache {
  try {
    const c = JSON.parse(readFileSync(join(root, CACHE_FILE), 'utf8')) as SyncCache;
    if (c?.version === 1 && c.items && typeof c.items === 'object') return c;
  } catch {
    /* no cache yet, or unreadable: start over */
  }
  return { version: 1, items: {} };
}

/** Remember the items' hashes and file signatures for the next sync (best effort). */
export function saveSyncCache(root: string, items: Map<string, LocalItem>): void {
  const c: SyncCache = { version: 1, items: {} };
  for (const [k, it] of items) {
    if (it.kind === 'variable') continue;
    const files: Record<string, string> = {};
    let ok = true;
    for (const f of it.files) {
      const sig = statSig(root, f);
      if (!sig) ok = false;
      else files[f] = sig;
    }
    if (ok) c.items[k] = { hash: it.hash, files };
  }
  try {
    mkdirSync(join(root, '.wmill'), { recursive: true });
    if (!existsSync(join(root, '.wmill', '.gitignore'))) writeFileAtomic(join(root, '.wmill', '.gitignore'), '*\n');
    writeFileAtomic(join(root, CACHE_FILE), JSON.stringify(c));
  } catch {
    /* a read-only folder still syncs, just without the cache */
  }
}

function readYaml(root: string, rel: string): Record<string, any> {
  const text = readFileSync(safePath(root, rel), 'utf8');
  const v = parseDataFile(text, rel) ?? {};
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new WmillError('usage', `${rel}: expected a mapping at the top level`);
  return v as Record<string, any>;
}

export function readLocal(cfg: WorkspaceConfig, o: SyncOptions = syncOptions(cfg), opts: { cache?: boolean } = {}): LocalRead {
  const d = discover(cfg);
  const items = new Map<string, LocalItem>();
  const warnings: string[] = [];
  const cache = opts.cache === false ? { version: 1 as const, items: {} } : loadCache(cfg.root);
  for (const p of d.problems) warnings.push(`${p.file}: ${p.message} (skipped)`);
  const inSync = syncFilter(cfg, o);
  /** Add an item: from the cache when its files are unchanged, else by loading it now. */
  const add = (kind: ItemKind, path: string, primary: string, load: () => { body: Record<string, unknown>; files: string[] }) => {
    if (!inSync({ kind, path, file: primary })) return;
    const key = itemKey(kind, path);
    const prev = items.get(key);
    if (prev) throw new WmillError('usage', `${primary} and ${prev.files[0]} are both ${kind} ${path}; keep one of them`);
    const cached = cache.items[key];
    if (cached && Object.keys(cached.files)[0] === primary && Object.entries(cached.files).every(([f, sig]) => statSig(cfg.root, f) === sig)) {
      let body: Record<string, unknown> | undefined;
      items.set(key, {
        kind,
        path,
        files: Object.keys(cached.files),
        hash: cached.hash,
        get body() {
          return (body ??= load().body);
        },
      });
      return;
    }
    const { body, files } = load();
    if (kind === 'resource' && !inSync({ kind, path, file: primary, resourceType: String(body.resource_type) })) return;
    fresh++;
    items.set(key, { kind, path, body, files, hash: bodyHash(body) });
  };
  let fresh = 0;

  for (const s of d.scripts) {
    add('script', s.path, s.file, () => {
      let meta: Record<string, any> = {};
      const files = [s.file];
      if (s.metaFile) {
        meta = readYaml(cfg.root, s.metaFile);
        files.push(s.metaFile);
        if (typeof meta.lock === 'string' && meta.lock.startsWith('!inline ')) {
          meta = { ...meta, lock: resolveInline(meta.lock, cfg.root, '', s.metaFile, files) };
        }
      }
      return { body: scriptBody({ ...meta, content: readFileSync(safePath(cfg.root, s.file), 'utf8'), language: s.language }), files };
    });
    if (!s.metaFile) warnings.push(`${s.file}: no metadata file; pushing it without a schema (run 'wmill generate-metadata' first)`);
  }
  for (const f of d.flows) {
    const yamlFile = existsSync(join(cfg.root, f.folder, 'flow.yaml')) ? `${f.folder}/flow.yaml` : `${f.folder}/flow.json`;
    // The flow's Windmill path has no folder suffix (`etl__flow/` → `f/x/etl`).
    add('flow', f.folder.replace(/(\.flow|__flow)$/, ''), yamlFile, () => {
      const files = [yamlFile];
      const resolved = resolveInline(readYaml(cfg.root, yamlFile), cfg.root, f.folder, yamlFile, files) as Record<string, any>;
      return { body: flowBody(resolved), files };
    });
  }
  for (const a of d.apps) {
    const meta = `${a.folder}/${appYamlName(a.kind)}`;
    add(a.kind, a.path, meta, () => {
      const rels = appFolderFiles(cfg.root, a.folder, a.kind === 'raw_app');
      const files = new Map(rels.map((r) => [r, readFileSync(safePath(cfg.root, `${a.folder}/${r}`), 'utf8')]));
      let body: Record<string, unknown>;
      try {
        body = appFromFiles(a.kind, files, { defaultTs: cfg.defaultTs }, a.folder);
      } catch (e) {
        throw new WmillError('usage', (e as Error).message);
      }
      return { body, files: [meta, ...rels.map((r) => `${a.folder}/${r}`).filter((f) => f !== meta)] };
    });
  }
  for (const x of d.others) {
    if (x.kind === 'trigger') {
      // `<path>.<kind>_trigger.yaml`; a kind the reference does not sync (native triggers) stays out.
      const t = triggerFile(x.file);
      if (t) add(`${t.kind}_trigger`, t.path, x.file, () => ({ body: triggerBody(readYaml(cfg.root, x.file)), files: [x.file] }));
      continue;
    }
    switch (x.kind) {
      case 'resource':
        add('resource', x.path, x.file, () => ({ body: resourceBody(resolveInline(readYaml(cfg.root, x.file), cfg.root, '', x.file, []) as Record<string, any>), files: [x.file] }));
        break;
      case 'variable': {
        // Always read: whether it is a secret decides if it takes part.
        const v = readYaml(cfg.root, x.file);
        if (!inSync({ kind: 'variable', path: x.path, file: x.file, isSecret: !!v.is_secret })) break;
        const body = variableBody(v);
        items.set(itemKey('variable', x.path), { kind: 'variable', path: x.path, body, files: [x.file], hash: bodyHash(body) });
        break;
      }
      case 'schedule':
        add('schedule', x.path, x.file, () => ({ body: scheduleBody(readYaml(cfg.root, x.file)), files: [x.file] }));
        break;
      case 'folder': {
        const name = x.path.split('/')[1]!;
        add('folder', name, x.file, () => ({ body: folderBody(name, readYaml(cfg.root, x.file)), files: [x.file] }));
        break;
      }
      case 'resource-type':
        add('resource-type', x.path, x.file, () => ({ body: resourceTypeBody(readYaml(cfg.root, x.file)), files: [x.file] }));
        break;
    }
  }
  const cacheStale = fresh > 0 || Object.keys(cache.items).some((k) => !items.has(k));
  return { items, warnings, cacheStale };
}
