/**
 * Write pulled items as files, in the layout and YAML form the reference CLI writes (so a
 * pull followed by `generate-metadata --check` or by the real CLI's diff finds nothing to do):
 * a script's content file, `.script.yaml` and `.script.lock`; a flow folder with `flow.yaml`
 * and its inline scripts extracted (names from the step summary or id, as the reference names
 * them, reusing the names already in a local flow.yaml); app folders as the reference writes them
 * (src/items/apps.ts); resources, variables, schedules,
 * folders and resource types as YAML. Every file is written atomically; deletions remove
 * exactly the files of the deleted item.
 */
import { existsSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/fs.js';
import { checkWriteInRoot } from '../util/safe-read.js';
import { toYaml, parseYaml } from '../util/yaml.js';
import { extensionFor, type Language } from '../workspace/languages.js';
import type { WorkspaceConfig } from '../workspace/config.js';
import { isTriggerItem, itemKey, SCRIPT_SETTINGS_KEYS, type ItemKind } from '../items/canonical.js';
import type { LocalItem } from './local.js';
import type { PlanChange } from './plan.js';
import { appFileOwned, appSuffix, appToFiles } from '../items/apps.js';

const write = (root: string, rel: string, text: string) => writeFileAtomic(join(root, rel), text);

function removeFile(root: string, rel: string) {
  try {
    unlinkSync(join(root, rel));
  } catch {
    /* already gone */
  }
}

const INLINE_EXT: Partial<Record<string, string>> = {
  python3: 'py', deno: 'deno.ts', bun: 'bun.ts', go: 'go', bash: 'sh', powershell: 'ps1', postgresql: 'pg.sql', mysql: 'my.sql',
  bigquery: 'bq.sql', oracledb: 'odb.sql', snowflake: 'sf.sql', mssql: 'ms.sql', graphql: 'gql', nativets: 'native.ts', php: 'php',
  rust: 'rs', csharp: 'cs', nu: 'nu', ansible: 'playbook.yml', java: 'java', duckdb: 'duckdb.sql', ruby: 'rb', rlang: 'r',
};

const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/i;

export function sanitizeInlineName(s: string): string {
  let n = s
    .replace(/ /g, '_')
    // eslint-disable-next-line no-control-regex
    .replace(/[/\\:*?"<>|\u0000-\u001f\u007f]/g, '')
    .replace(/_+/g, '_')
    .replace(/^[._]+|[._]+$/g, '')
    .toLowerCase();
  if (RESERVED.test(n)) n = `_${n}`;
  return n;
}

type Mod = Record<string, any>;

/** Every module of a flow value, depth first, in the reference's traversal order. */
function modulesOf(value: Record<string, any>): Mod[] {
  const out: Mod[] = [];
  const walk = (mods: unknown) => {
    if (!Array.isArray(mods)) return;
    for (const m of mods as Mod[]) {
      out.push(m);
      const v = m?.value ?? {};
      if (v.type === 'forloopflow' || v.type === 'whileloopflow') walk(v.modules);
      if (v.type === 'branchall') for (const b of v.branches ?? []) walk(b.modules);
      if (v.type === 'branchone') {
        for (const b of v.branches ?? []) walk(b.modules);
        walk(v.default);
      }
    }
  };
  walk(value.modules);
  if (value.failure_module) out.push(value.failure_module);
  if (value.preprocessor_module) out.push(value.preprocessor_module);
  return out;
}

/** Split a flow body into flow.yaml + inline script files (relative to the flow folder). */
export function flowFiles(body: Record<string, any>, opts: { defaultTs: 'bun' | 'deno'; nonDotted: boolean; existing?: Record<string, any> }): Map<string, string> {
  const files = new Map<string, string>();
  const flow = structuredClone(body);
  const known = new Map<string, { content?: string; lock?: string }>();
  if (opts.existing?.value) {
    for (const m of modulesOf(opts.existing.value)) {
      const v = m?.value ?? {};
      const ref = (x: unknown) => (typeof x === 'string' && x.startsWith('!inline ') ? x.slice(8).trim() : undefined);
      if (m?.id && v.type === 'rawscript') known.set(m.id, { content: ref(v.content), lock: ref(v.lock) });
    }
  }
  const used = new Set<string>();
  let counter = 0;
  for (const m of modulesOf(flow.value ?? {})) {
    const v = m?.value;
    if (!v || v.type !== 'rawscript' || typeof v.content !== 'string') continue;
    const prior = m.id ? known.get(m.id) : undefined;
    let contentFile = prior?.content;
    let base: string;
    if (contentFile && !used.has(contentFile.toLowerCase())) {
      base = contentFile.replace(/(\.inline_script)?\.[^/]+$/, '');
    } else {
      base = sanitizeInlineName(String(m.summary || m.id || '')) || `inline_script_${counter}`;
      while ([...used].some((u) => u.startsWith(`${base.toLowerCase()}.`))) base = `${base}_${++counter}`;
      const lang = String(v.language ?? '');
      const ext = lang === opts.defaultTs || lang === 'bunnative' ? 'ts' : (INLINE_EXT[lang] ?? 'txt');
      contentFile = opts.nonDotted ? `${base}.${ext}` : `${base}.inline_script.${ext}`;
    }
    used.add(contentFile.toLowerCase());
    files.set(contentFile, v.content);
    v.content = `!inline ${contentFile}`;
    if (typeof v.lock === 'string' && v.lock.trim()) {
      const lockFile = prior?.lock ?? (opts.nonDotted ? `${base}.lock` : `${base}.inline_script.lock`);
      files.set(lockFile, v.lock);
      v.lock = `!inline ${lockFile}`;
    }
  }
  const doc: Record<string, unknown> = { summary: flow.summary ?? '', description: flow.description ?? '' };
  for (const [k, val] of Object.entries(flow)) if (!(k in doc) && val !== null && val !== undefined) doc[k] = val;
  files.set('flow.yaml', toYaml(doc));
  return files;
}

export interface PullResult {
  written: string[];
  deleted: string[];
}

type Op = { op: 'write'; rel: string; text: string } | { op: 'rm'; rel: string } | { op: 'rmdir'; rel: string };

/**
 * Apply a pull plan's changes to the folder. `bodies` holds the remote body of every added/updated
 * item. Every file is checked before any is touched: one that would be written or removed through
 * a symlink leading out of the sync root refuses the whole pull (exit 2, naming the file).
 */
export function applyPull(
  cfg: WorkspaceConfig,
  changes: PlanChange[],
  bodies: Map<string, Record<string, unknown>>,
  local: Map<string, LocalItem>,
  opts: { format?: 'yaml' | 'json' } = {},
): PullResult {
  const root = cfg.root;
  const res: PullResult = { written: [], deleted: [] };
  const ops: Op[] = [];
  const put = (rel: string, text: string) => {
    ops.push({ op: 'write', rel, text });
    res.written.push(rel);
  };
  const rm = (_root: string, rel: string) => ops.push({ op: 'rm', rel });
  /** A new metadata file's name: `.yaml`, or `.json` with --json (an existing file keeps its name and format). */
  const named = (rel: string) => (opts.format === 'json' ? rel.replace(/\.yaml$/, '.json') : rel);
  /** A document in the format its file name says. */
  const docOf = (rel: string, value: unknown) => (rel.endsWith('.json') ? `${JSON.stringify(value, null, 2)}\n` : toYaml(value));
  for (const c of changes) {
    const key = itemKey(c.kind as ItemKind, c.path);
    const mine = local.get(key);
    if (c.op === 'delete') {
      if ((c.kind === 'flow' || c.kind === 'app' || c.kind === 'raw_app') && mine) {
        const folder = mine.files[0]!.slice(0, mine.files[0]!.lastIndexOf('/'));
        ops.push({ op: 'rmdir', rel: folder });
        res.deleted.push(`${folder}/`);
      } else for (const f of mine?.files ?? []) {
        rm(root, f);
        res.deleted.push(f);
      }
      continue;
    }
    const b = bodies.get(key);
    if (!b) throw new Error(`no remote content for ${c.kind} ${c.path}`);
    switch (c.kind) {
      case 'script': {
        const lang = String(b.language) as Language;
        const contentFile = mine?.files[0] ?? `${c.path}${extensionFor(lang, cfg.defaultTs)}`;
        const metaFile = mine?.files.find((f) => /\.script\.(yaml|json)$/.test(f)) ?? named(`${c.path}.script.yaml`);
        const lockFile = `${c.path}.script.lock`;
        put(contentFile, String(b.content ?? ''));
        const lock = String(b.lock ?? '');
        const meta: Record<string, unknown> = { summary: b.summary ?? '', description: b.description ?? '', lock: lock ? `!inline ${lockFile}` : '', kind: b.kind ?? 'script' };
        if (b.schema !== null && b.schema !== undefined) meta.schema = b.schema;
        for (const k of SCRIPT_SETTINGS_KEYS) if (b[k] !== undefined && b[k] !== null) meta[k] = b[k];
        if (lock) put(lockFile, lock);
        else if (existsSync(join(root, lockFile))) {
          rm(root, lockFile);
          res.deleted.push(lockFile);
        }
        put(metaFile, metaFile.endsWith('.json') ? JSON.stringify(meta, null, 2) : toYaml(meta));
        break;
      }
      case 'flow': {
        const folder = mine ? mine.files[0]!.slice(0, mine.files[0]!.lastIndexOf('/')) : `${c.path}${cfg.nonDottedPaths ? '__flow' : '.flow'}`;
        let existing: Record<string, any> | undefined;
        try {
          const f = existsSync(join(root, folder, 'flow.json')) ? 'flow.json' : 'flow.yaml';
          existing = parseYaml(readFileSync(join(root, folder, f), 'utf8')) as Record<string, any>;
        } catch {
          existing = undefined;
        }
        const files = flowFiles(b as Record<string, any>, { defaultTs: cfg.defaultTs, nonDotted: cfg.nonDottedPaths, existing });
        for (const f of mine?.files ?? []) {
          const rel = f.slice(folder.length + 1);
          if (f.startsWith(`${folder}/`) && !files.has(rel)) {
            rm(root, f);
            res.deleted.push(f);
          }
        }
        const flowFile = mine?.files[0]?.endsWith('/flow.json') || (!mine && opts.format === 'json') ? 'flow.json' : 'flow.yaml';
        if (flowFile === 'flow.json') {
          files.set('flow.json', `${JSON.stringify(parseYaml(files.get('flow.yaml')!), null, 2)}\n`);
          files.delete('flow.yaml');
        }
        for (const [rel, text] of files) put(`${folder}/${rel}`, text);
        break;
      }
      case 'app':
      case 'raw_app': {
        const folder = mine ? mine.files[0]!.slice(0, mine.files[0]!.lastIndexOf('/')) : `${c.path}${appSuffix(c.kind, cfg.nonDottedPaths)}`;
        const files = appToFiles(c.kind, b as Record<string, any>, { defaultTs: cfg.defaultTs, nonDotted: cfg.nonDottedPaths });
        for (const f of mine?.files ?? []) {
          const rel = f.slice(folder.length + 1);
          if (f.startsWith(`${folder}/`) && !files.has(rel) && appFileOwned(c.kind, rel)) {
            rm(root, f);
            res.deleted.push(f);
          }
        }
        for (const [rel, text] of files) put(`${folder}/${rel}`, text);
        break;
      }
      case 'resource': {
        const doc: Record<string, unknown> = {};
        if (b.description) doc.description = b.description;
        doc.resource_type = b.resource_type;
        doc.value = b.value;
        const f = mine?.files[0] ?? named(`${c.path}.resource.yaml`);
        put(f, docOf(f, doc));
        break;
      }
      case 'variable': {
        const f = mine?.files[0] ?? named(`${c.path}.variable.yaml`);
        put(f, docOf(f, { description: b.description ?? '', value: b.value, is_secret: !!b.is_secret }));
        break;
      }
      case 'schedule':
      case 'folder':
      case 'resource-type': {
        const f = mine?.files[0] ?? named(c.kind === 'schedule' ? `${c.path}.schedule.yaml` : c.kind === 'folder' ? `f/${c.path}/folder.meta.yaml` : `${c.path}.resource-type.yaml`);
        put(f, docOf(f, b));
        break;
      }
      default:
        // Triggers: the configuration as the server keeps it.
        if (isTriggerItem(c.kind)) {
          const f = mine?.files[0] ?? named(`${c.path}.${c.kind}.yaml`);
          put(f, docOf(f, b));
        }
        break;
    }
  }
  for (const o of ops) checkWriteInRoot(root, o.rel);
  for (const o of ops) {
    if (o.op === 'write') write(root, o.rel, o.text);
    else if (o.op === 'rm') removeFile(root, o.rel);
    else rmSync(join(root, o.rel), { recursive: true, force: true });
  }
  return res;
}
