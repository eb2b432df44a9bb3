/**
 * Per-user drafts of scripts (spec/windmill-server.md §4.2-4.4), from the command line:
 * - a local script file (content + its `.script.yaml`) becomes the value of YOUR draft, which
 *   records the version it started from (`parent_hash`: the deployed head when the draft was
 *   first saved; kept on later saves so that a deploy made since is noticed);
 * - saves carry `last_sync` (the server timestamp this copy last saw for the draft, remembered in
 *   `.wmill/drafts.json` under the sync root), so a save over a newer save made elsewhere is a
 *   conflict unless forced;
 * - deploying a draft sends its `parent_hash`: when someone deployed since, the server refuses
 *   with its lineage error (or re-parents with `auto_parent`). Other users' drafts are kept.
 * Everything takes plain data and an ApiClient; rendering is the command's job.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { WmillError } from '../errors.js';
import type { ApiClient } from '../api/client.js';
import { createScript, deployRejection, getHead, newScriptFrom, type RemoteScript } from '../api/scripts.js';
import { readTextOrNull, writeFileAtomic } from '../util/fs.js';
import { findInRoot, safePath } from '../util/safe-read.js';
import { dataError, parseJsonText } from '../util/data-file.js';

export type DraftKind = 'script' | 'flow' | 'app' | 'raw_app' | 'resource' | 'variable' | 'schedule';
export const DRAFT_KINDS: readonly DraftKind[] = ['script', 'flow', 'app', 'raw_app', 'resource', 'variable', 'schedule'];

export type DraftValue = Record<string, unknown> & { path: string; parent_hash?: string | null };

export interface OwnDraft {
  value: DraftValue;
  created_at: string;
}

const clean = (path: string) => path.replace(/^\/+/, '').replace(/\/+$/, '');
const enc = (path: string) => clean(path).split('/').map(encodeURIComponent).join('/');

// ---------------------------------------------------------------------------------------------
// The local script → draft value

export interface LocalScript {
  root: string;
  /** Root-relative file, `/`-separated. */
  file: string;
  path: string;
  language: string;
  /** Root-relative metadata file used, or null. */
  metaFile: string | null;
  value: DraftValue;
}

/** Keys of `.script.yaml` that are not sent as they are. */
const META_HANDLED = new Set(['summary', 'description', 'lock', 'kind', 'schema']);

/** Read a local script file and its metadata into a draft value (the NewScript it would deploy as). */
export async function readLocalScript(cwd: string, file: string): Promise<LocalScript> {
  const abs = resolve(cwd, file);
  if (isDirectory(abs)) throw new WmillError('usage', `${file} is a folder; pass a script file, or a flow folder (<name>__flow or <name>.flow)`, { file });
  const text = readTextOrNull(abs);
  if (text === null) throw new WmillError('usage', `file not found: ${file}`, { file });
  if (/\.(script|flow|app|resource|variable|schedule)\.(ya?ml|json)$/.test(abs) || /\.script\.lock$/.test(abs)) {
    throw new WmillError('usage', `${file} is a metadata file; pass the script file next to it`, { file });
  }
  const { loadConfig } = await import('../workspace/config.js');
  const cfg = loadConfig(dirname(abs));
  const rel = relative(cfg.root, abs);
  const relFile = rel.split(sep).join('/');
  if (rel === '' || rel.startsWith('..') || !/^[ufg]\/[^/]+\/./.test(relFile)) {
    throw new WmillError('usage', `${file} is not a script of a workspace folder: its path from the sync root (${cfg.root}) must start with f/<folder>/, u/<user>/ or g/<group>/`, { file });
  }
  // A link out of the workspace is refused like sync push refuses it (nothing outside the root is sent).
  safePath(cfg.root, relFile);
  const { languageOf, remotePathOf } = await import('../workspace/languages.js');
  const language = languageOf(relFile, cfg.defaultTs);
  if (typeof language !== 'string') throw new WmillError('usage', language.error, { file });
  const path = /__mod\/script\.[^/]+$/.test(relFile) ? relFile.slice(0, relFile.indexOf('__mod/')) : remotePathOf(relFile);

  const [{ metadataFiles, scriptSchema }, { defaultSchema }] = await Promise.all([import('../metadata/script-schema.js'), import('../metadata/schema.js')]);
  let meta: Record<string, any> = {};
  let metaFile: string | null = null;
  for (const f of metadataFiles(relFile, path)) {
    const t = readTextOrNull(safePath(cfg.root, f));
    if (t === null) continue;
    const { parseMetadata, formatOf } = await import('../metadata/script-metadata.js');
    const parsed = parseMetadata(t, formatOf(f));
    if ('error' in parsed) throw new WmillError('usage', `${f}${parsed.line ? `:${parsed.line}` : ''}: ${parsed.error}`, { file: f });
    meta = parsed.value;
    metaFile = f;
    break;
  }
  const lock = lockText(cfg.root, metaFile, meta.lock);
  const sch = await scriptSchema({ root: cfg.root, relFile, path, language, content: text });
  // Without a stored schema, the inferred one is completed as generate-metadata would write it.
  const schema = sch.schema && !meta.schema ? { ...defaultSchema(), ...sch.schema } : (sch.schema ?? meta.schema ?? undefined);
  const value: DraftValue = {
    path,
    summary: typeof meta.summary === 'string' ? meta.summary : '',
    description: typeof meta.description === 'string' ? meta.description : '',
    content: text,
    language,
    kind: typeof meta.kind === 'string' ? meta.kind : 'script',
    ...(schema ? { schema } : {}),
    lock,
  };
  for (const [k, v] of Object.entries(meta)) if (!META_HANDLED.has(k) && v !== undefined && v !== null) value[k] = v;
  return { root: cfg.root, file: relFile, path, language, metaFile, value };
}

/** The lock text a metadata `lock` value stands for: `!inline <file>` read, a list of lines joined. */
function lockText(root: string, metaFile: string | null, lock: unknown): string {
  if (Array.isArray(lock)) return lock.join('\n');
  if (typeof lock !== 'string') return '';
  const m = /^!inline\s+(.+)$/.exec(lock.trim());
  if (!m) return lock;
  const ref = m[1]!.trim();
  const abs = findInRoot(root, metaFile ? ['', posix.dirname(metaFile)] : [''], ref, { from: metaFile ?? '(metadata)', ref: lock });
  const text = abs ? readTextOrNull(abs) : null;
  if (text === null) throw new WmillError('usage', `${metaFile}: lock file ${ref} not found; run 'wmill generate-metadata' to recreate it`, { file: metaFile });
  return text;
}

export interface LocalFlow {
  root: string;
  /** Root-relative flow folder, `/`-separated. */
  folder: string;
  path: string;
  /** The flow as a deploy would send it (inline files substituted), without lineage fields. */
  value: DraftValue;
}

const isDirectory = (abs: string) => {
  try {
    return statSync(abs).isDirectory();
  } catch {
    return false;
  }
};

/** Whether `target` names a flow folder (`<name>__flow` / `<name>.flow`) or its flow.yaml/flow.json. */
export function isFlowTarget(cwd: string, target: string): boolean {
  const abs = resolve(cwd, target);
  if (/[\\/]flow\.(ya?ml|json)$/.test(abs)) return true;
  return isDirectory(abs) && /(\.flow|__flow)$/.test(abs.replace(/[\\/]+$/, ''));
}

/** Read a local flow folder into a draft value (the flow it would deploy as). */
export async function readLocalFlow(cwd: string, target: string): Promise<LocalFlow> {
  let abs = resolve(cwd, target).replace(/[\\/]+$/, '');
  if (!isDirectory(abs)) abs = dirname(abs);
  const yamlName = existsSync(join(abs, 'flow.yaml')) ? 'flow.yaml' : existsSync(join(abs, 'flow.json')) ? 'flow.json' : null;
  if (!yamlName) throw new WmillError('usage', `${target}: no flow.yaml in this folder; pass a flow folder (<name>__flow or <name>.flow)`, { file: target });
  const { loadConfig } = await import('../workspace/config.js');
  const cfg = loadConfig(abs);
  const folder = relative(cfg.root, abs).split(sep).join('/');
  if (folder === '' || folder.startsWith('..') || !/^[ufg]\/[^/]+\/./.test(folder)) {
    throw new WmillError('usage', `${target} is not a flow of a workspace folder: its path from the sync root (${cfg.root}) must start with f/<folder>/, u/<user>/ or g/<group>/`, { file: target });
  }
  const yamlFile = `${folder}/${yamlName}`;
  const [{ parseDataText, dataError }, { resolveInline }, { flowBody }, { validateFlow, FlowDefinitionError }] = await Promise.all([
    import('../util/data-file.js'),
    import('../items/inline.js'),
    import('../items/canonical.js'),
    import('../items/flow-schema.js'),
  ]);
  // Through the one parsing boundary, from inside the sync root only (as sync push reads it).
  const parsed = parseDataText(readTextOrNull(safePath(cfg.root, yamlFile)) ?? '', yamlFile);
  if ('error' in parsed) throw dataError(yamlFile, parsed);
  const doc = parsed.value;
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new WmillError('usage', `${yamlFile}: expected a mapping with summary, value and schema`, { file: yamlFile });
  const resolved = resolveInline(doc, cfg.root, folder, yamlFile, []) as Record<string, any>;
  try {
    validateFlow(resolved.value, yamlFile);
  } catch (e) {
    if (e instanceof FlowDefinitionError) throw new WmillError('usage', e.message, { file: yamlFile });
    throw e;
  }
  const path = folder.replace(/(\.flow|__flow)$/, '');
  return { root: cfg.root, folder, path, value: { path, ...flowBody(resolved) } };
}

// ---------------------------------------------------------------------------------------------
// .wmill/drafts.json: what this copy last saw of each of its drafts, per server and workspace

export interface DraftRecord {
  last_sync: string;
  parent_hash: string | null;
}

type StateFile = Record<string, Record<string, Record<string, DraftRecord>>>;

export const STATE_FILE = '.wmill/drafts.json';

export interface DraftTarget {
  root: string;
  remote: string;
  workspace: string;
}

function readState(root: string): StateFile {
  const t = readTextOrNull(join(root, STATE_FILE));
  if (t === null) return {};
  const parsed = parseJsonText(t);
  if ('error' in parsed) throw dataError(join(root, STATE_FILE), parsed, 'delete it (it only remembers when your drafts were last saved)');
  const v = parsed.value;
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as StateFile) : {};
}

export function getRecord(t: DraftTarget, kind: DraftKind, path: string): DraftRecord | undefined {
  return readState(t.root)[t.remote]?.[t.workspace]?.[`${kind}/${clean(path)}`];
}

export function setRecord(t: DraftTarget, kind: DraftKind, path: string, rec: DraftRecord | null): void {
  const state = readState(t.root);
  const key = `${kind}/${clean(path)}`;
  if (rec === null && !state[t.remote]?.[t.workspace]?.[key]) return;
  const ws = ((state[t.remote] ??= {})[t.workspace] ??= {});
  if (rec) ws[key] = rec;
  else {
    delete ws[key];
    if (!Object.keys(ws).length) delete state[t.remote]![t.workspace];
    if (!Object.keys(state[t.remote]!).length) delete state[t.remote];
  }
  const dir = join(t.root, '.wmill');
  if (!existsSync(join(dir, '.gitignore'))) writeFileAtomic(join(dir, '.gitignore'), '# local state of wmill (not shared)\n*\n');
  writeFileAtomic(join(t.root, STATE_FILE), JSON.stringify(state, null, 2) + '\n');
}

// ---------------------------------------------------------------------------------------------
// Server calls

export async function getOwnDraft(client: ApiClient, kind: DraftKind, path: string): Promise<OwnDraft | null> {
  const r = await client.json<OwnDraft | null>('GET', client.ws(`/drafts/get_own/${kind}/${enc(path)}`));
  return r && typeof r === 'object' ? r : null;
}

export interface DraftListEntry {
  kind: string;
  path: string;
  created_at: string;
  mine: boolean;
  can_write?: boolean;
  draft_only?: boolean;
  username?: string | null;
  [key: string]: unknown;
}

export async function listDrafts(client: ApiClient, allUsers: boolean): Promise<DraftListEntry[]> {
  return client.json<DraftListEntry[]>('GET', client.ws('/drafts/list'), { query: { all_users: allUsers ? true : undefined } });
}

interface UpdateReply {
  status: 'saved' | 'conflict' | 'moved' | string;
  current_timestamp: string;
  path?: string;
  moved_to?: string;
}

async function updateDraft(client: ApiClient, kind: DraftKind, path: string, body: { value: DraftValue | null; last_sync?: string; force?: boolean }): Promise<UpdateReply> {
  return client.json<UpdateReply>('POST', client.ws(`/drafts/update/${kind}/${enc(path)}`), { body });
}

const sameValue = (a: Record<string, unknown>, b: Record<string, unknown>) => {
  const strip = ({ parent_hash: _p, version_id: _v, ...rest }: Record<string, unknown>) => canonical(rest);
  return strip(a) === strip(b);
};

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, val) =>
    val && typeof val === 'object' && !Array.isArray(val) ? Object.fromEntries(Object.keys(val).sort().map((k) => [k, (val as any)[k]])) : val,
  );
}

export interface PushOptions {
  /** The timestamp this copy last saw for the draft (default: the one remembered in .wmill/drafts.json). */
  lastSync?: string;
  force?: boolean;
  /** Start the draft over from the currently deployed version (parent_hash = head). */
  rebase?: boolean;
}

export interface PushResult {
  kind: 'script' | 'flow';
  path: string;
  saved_at: string;
  /** Scripts: the version hash the draft is based on (null: nothing deployed when it started). */
  parent_hash?: string | null;
  /** Flows: the version id the draft is based on (null: nothing deployed when it started). */
  version_id?: number | null;
  /** The currently deployed version (null: none). */
  deployed: string | number | null;
  /** True when the draft's base is no longer the deployed version. */
  deployed_changed_since_draft: boolean;
  /** A draft of yours existed before this save. */
  replaced: boolean;
}

const conflict = (path: string, savedAt: string, mine: string | null, kind: 'script' | 'flow' = 'script') =>
  new WmillError(
    'conflict',
    `your draft of ${path} was saved elsewhere at ${savedAt}${mine ? `, after this copy last synced it (${mine})` : ' and this copy has never synced it'}; see it with 'wmill draft show ${path}${kind === 'flow' ? ' --kind flow' : ''}', or pass --force to overwrite it`,
    { path, current_timestamp: savedAt, last_sync: mine },
  );

/** The deployed flow at `path` (null: none). */
async function deployedFlow(client: ApiClient, path: string): Promise<Record<string, any> | null> {
  try {
    return await client.json<Record<string, any>>('GET', client.ws(`/flows/get/${enc(path)}`));
  } catch (e) {
    if ((e as { status?: number }).status === 404) return null;
    throw e;
  }
}

/** What a draft of each kind records as the version it started from, and how to read the deployed one. */
const LINEAGE = {
  script: { field: 'parent_hash', deployed: async (c: ApiClient, p: string) => (await getHead(c, p))?.hash ?? null },
  flow: {
    field: 'version_id',
    deployed: async (c: ApiClient, p: string) => {
      const f = await deployedFlow(c, p);
      return f && !f.archived && typeof f.version_id === 'number' ? (f.version_id as number) : null;
    },
  },
} as const;

/**
 * Save a local script (or, with `kind: 'flow'`, a local flow) as the caller's draft. Throws a
 * `conflict` WmillError (exit 1) on a stale save.
 */
export async function pushDraft(client: ApiClient, target: DraftTarget | null, local: { kind?: 'script' | 'flow'; path: string; value: DraftValue }, opts: PushOptions = {}): Promise<PushResult> {
  const kind = local.kind ?? 'script';
  const lineage = LINEAGE[kind];
  const path = local.path;
  const record = target ? getRecord(target, kind, path) : undefined;
  let lastSync = opts.lastSync ?? record?.last_sync;
  if (opts.lastSync !== undefined && Number.isNaN(Date.parse(opts.lastSync))) throw new WmillError('usage', `--last-sync must be a timestamp such as 2026-05-01T10:00:00.000Z, got '${opts.lastSync}'`);
  const [existing, head] = await Promise.all([getOwnDraft(client, kind, path), lineage.deployed(client, path)]);
  // No record of this draft here, but one exists on the server with other content: it was saved
  // from elsewhere (another copy, the editor). Replacing it silently would lose that work.
  if (existing && lastSync === undefined && !opts.force && !sameValue(existing.value, local.value)) {
    throw conflict(path, existing.created_at, null, kind);
  }
  if (existing && lastSync === undefined) lastSync = existing.created_at;
  const base = (!opts.rebase && existing && lineage.field in existing.value ? (existing.value[lineage.field] ?? null) : head) as string | number | null;
  const value: DraftValue = { ...local.value, [lineage.field]: base };
  const r = await updateDraft(client, kind, path, { value, ...(lastSync !== undefined ? { last_sync: lastSync } : {}), ...(opts.force ? { force: true } : {}) });
  if (r.status === 'conflict') throw conflict(path, r.current_timestamp, lastSync ?? null, kind);
  if (r.status !== 'saved') throw new WmillError('failure', `the server did not save the draft of ${path}: ${r.status}${r.moved_to ? ` (moved to ${r.moved_to})` : ''}`, { status: r.status });
  if (target) setRecord(target, kind, path, { last_sync: r.current_timestamp, parent_hash: base === null ? null : String(base) });
  return {
    kind,
    path,
    saved_at: r.current_timestamp,
    [lineage.field]: base,
    deployed: head,
    deployed_changed_since_draft: head !== null && base !== head,
    replaced: !!existing,
  };
}

export interface DraftDiff {
  kind: string;
  path: string;
  draft_created_at?: string;
  deployed_version: string | null;
  draft_base: string | null;
  deployed_changed_since_draft: boolean;
  changed_fields: string[];
  draft: DraftValue;
  deployed: Record<string, unknown> | null;
}

export async function diffDraft(client: ApiClient, kind: DraftKind, path: string): Promise<DraftDiff> {
  try {
    return await client.json<DraftDiff>('GET', client.ws(`/drafts/diff/${kind}/${enc(path)}`));
  } catch (e) {
    if ((e as { status?: number }).status === 404) throw noDraft(kind, path);
    throw e;
  }
}

export const noDraft = (kind: DraftKind, path: string) =>
  new WmillError('usage', `you have no draft of ${kind} ${clean(path)}${kind === 'script' ? `; save one with 'wmill draft push <file>'` : ''}`, { kind, path: clean(path) });

export interface DeployResult {
  path: string;
  hash: string;
  /** The parent sent (the draft's base, or null). */
  parent_hash: string | null;
  auto_parent: boolean;
}

/** Deploy the caller's draft of a script on top of the version it started from; the draft is then deleted. */
export async function deployDraft(client: ApiClient, target: DraftTarget | null, rawPath: string, opts: { message?: string; autoParent?: boolean } = {}): Promise<DeployResult> {
  const path = clean(rawPath);
  const own = await getOwnDraft(client, 'script', path);
  if (!own) throw noDraft('script', path);
  const { parent_hash: parent, ...rest } = own.value;
  if (typeof rest.content !== 'string' || typeof rest.language !== 'string') {
    throw new WmillError('failure', `your draft of ${path} has no content or language; save it again with 'wmill draft push <file>'`);
  }
  const body: Record<string, unknown> = {
    ...newScriptFrom(rest),
    path,
    ...(parent ? { parent_hash: parent } : {}),
    ...(opts.autoParent ? { auto_parent: true } : {}),
    ...(opts.message !== undefined ? { deployment_message: opts.message } : {}),
    // keep the other users' drafts of this path (they will see the new version in `draft diff`)
    skip_draft_deletion: true,
  };
  let hash: string;
  try {
    hash = await createScript(client, body);
  } catch (e) {
    const why = deployRejection(e);
    if (why === 'lineage' || why === 'path_conflict') {
      const head: RemoteScript | null = await getHead(client, path).catch(() => null);
      const server = (e as { body?: string }).body?.trim().replace(/\s+/g, ' ') ?? '';
      throw new WmillError(
        'failure',
        `cannot deploy your draft of ${path}: someone deployed it since your draft started (draft based on ${parent ?? 'no version'}, deployed now ${head?.hash ?? 'unknown'}${head?.created_by ? ` by ${head.created_by}` : ''}); ` +
          `review with 'wmill draft diff ${path}', then deploy on top of theirs with 'wmill draft deploy ${path} --auto-parent' (server: ${server})`,
        { reason: why, path, draft_base: parent ?? null, deployed: head?.hash ?? null },
      );
    }
    if (why === 'parent_missing') {
      throw new WmillError('failure', `cannot deploy your draft of ${path}: the version it started from (${parent}) no longer exists; pass --auto-parent to deploy on top of the current version`, { reason: why, path });
    }
    throw e;
  }
  await updateDraft(client, 'script', path, { value: null, force: true });
  if (target) setRecord(target, 'script', path, null);
  return { path, hash, parent_hash: parent ?? null, auto_parent: !!opts.autoParent };
}

export interface FlowDeployResult {
  kind: 'flow';
  path: string;
  /** The flow's version id after the deploy. */
  version: number | null;
  /** The version the draft started from (null: nothing was deployed then). */
  version_id: number | null;
  auto_parent: boolean;
}

/**
 * Deploy the caller's draft of a flow; the draft is then deleted. Flows have no server-side
 * parent check, so the check is made here: when someone deployed the flow since the draft
 * started, it fails unless `autoParent` (deploy over their version).
 */
export async function deployFlowDraft(client: ApiClient, target: DraftTarget | null, rawPath: string, opts: { message?: string; autoParent?: boolean } = {}): Promise<FlowDeployResult> {
  const path = clean(rawPath);
  const own = await getOwnDraft(client, 'flow', path);
  if (!own) throw noDraft('flow', path);
  const { version_id: rawBase, parent_hash: _p, ...rest } = own.value as DraftValue & { version_id?: number | null };
  const base = typeof rawBase === 'number' ? rawBase : null;
  if (!rest.value || typeof rest.value !== 'object') throw new WmillError('failure', `your draft of flow ${path} has no value; save it again with 'wmill draft push <flow folder>'`);
  const live = await deployedFlow(client, path);
  const current = live && typeof live.version_id === 'number' ? (live.version_id as number) : null;
  if (current !== null && current !== base && !opts.autoParent) {
    throw new WmillError(
      'failure',
      `cannot deploy your draft of flow ${path}: someone deployed it since your draft started (draft based on ${base === null ? 'no version' : `version ${base}`}, deployed now version ${current}${live?.edited_by ? ` by ${live.edited_by}` : ''}); ` +
        `review with 'wmill draft diff ${path} --kind flow', then deploy over theirs with 'wmill draft deploy ${path} --kind flow --auto-parent'`,
      { reason: 'lineage', path, draft_base: base, deployed: current },
    );
  }
  const body: Record<string, unknown> = {
    ...rest,
    path,
    summary: typeof rest.summary === 'string' ? rest.summary : '',
    ...(opts.message !== undefined ? { deployment_message: opts.message } : {}),
    skip_draft_deletion: true,
  };
  if (live) await client.text('POST', client.ws(`/flows/update/${enc(path)}`), { body });
  else await client.text('POST', client.ws('/flows/create'), { body });
  await updateDraft(client, 'flow', path, { value: null, force: true });
  if (target) setRecord(target, 'flow', path, null);
  const after = await deployedFlow(client, path);
  return { kind: 'flow', path, version: typeof after?.version_id === 'number' ? after.version_id : null, version_id: base, auto_parent: !!opts.autoParent };
}

/** Delete the caller's draft; false when there was none. */
export async function deleteDraft(client: ApiClient, target: DraftTarget | null, kind: DraftKind, rawPath: string): Promise<boolean> {
  const path = clean(rawPath);
  const own = await getOwnDraft(client, kind, path);
  if (own) await updateDraft(client, kind, path, { value: null, force: true });
  if (target) setRecord(target, kind, path, null);
  return !!own;
}

// ---------------------------------------------------------------------------------------------
// Rendering helpers (pure)

/** A unified-style line diff (LCS), `context` lines around changes; null when too large to compute. */
export function lineDiff(a: string, b: string, context = 3): string[] | null {
  const lines = (s: string) => (s.endsWith('\n') ? s.slice(0, -1) : s).split('\n');
  const x = lines(a);
  const y = lines(b);
  if (x.length * y.length > 4_000_000) return null;
  const n = x.length;
  const m = y.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = x[i] === y[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const ops: { t: ' ' | '-' | '+'; s: string }[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) {
      ops.push({ t: ' ', s: x[i]! });
      i++;
      j++;
    } else if (i < n && (j >= m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) ops.push({ t: '-', s: x[i++]! });
    else ops.push({ t: '+', s: y[j++]! });
  }
  const keep = ops.map(() => false);
  ops.forEach((o, k) => {
    if (o.t !== ' ') for (let c = Math.max(0, k - context); c <= Math.min(ops.length - 1, k + context); c++) keep[c] = true;
  });
  const out: string[] = [];
  let gap = false;
  ops.forEach((o, k) => {
    if (!keep[k]) {
      gap = true;
      return;
    }
    if (gap && out.length) out.push('@@');
    gap = false;
    out.push(`${o.t}${o.s}`);
  });
  return out;
}

