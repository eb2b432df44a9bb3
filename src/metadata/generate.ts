import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkspaceConfig } from '../workspace/config.js';
import { discover, type Discovery, type FlowItem, type ScriptItem } from '../workspace/discover.js';
import { languageNeedsLock, languageOf, type Language } from '../workspace/languages.js';
import { readText, readTextOrNull, writeFileAtomicAsync, WriteQueue } from '../util/fs.js';
import { resolveInRoot, safePath } from '../util/safe-read.js';
import { dependencyFileHash, flowFileHash, flowHash, scriptHash } from './hash.js';
import { propagate, type GraphNode } from './import-graph.js';
import { clearLockEntries, lockKeyIndex, readLockFile, writeLockFile, type LegacyLock } from './lockfile.js';
import { canInferSchema, parseScripts, relativeImports } from './parsers/index.js';
import { mergeSchema } from './schema.js';
import { defaultMetadata, formatOf, parseMetadata, renderMetadata, type ScriptMetadata } from './script-metadata.js';
import { dependencyFileBase, selectDependencyFiles } from './locks/annotations.js';
import {
  isEmptyRequest,
  LockInputs,
  lockInputsHash,
  lockKindOf,
  loadLockParsers,
  requestKey,
  type DependencyRequest,
  type LockScript,
} from './locks/request.js';
import { resolveRequests, type ResolveOutcome, type ResolveStats } from './locks/resolve.js';
import { diffVersions, isEmptyLock, lockVersions, type VersionChange } from './locks/versions.js';

export type Mode = 'all' | 'schema-only' | 'lock-only';

export interface StaleItem {
  kind: 'script' | 'flow' | 'dependency';
  /** Windmill path (scripts, flows) or root-relative file (dependencies). */
  path: string;
  /** Root-relative file or folder shown to the user. */
  file: string;
  reason: string;
}

export interface SkippedImporter {
  file: string;
  dependsOn: string;
  folder: string;
}

export interface Plan {
  stale: StaleItem[];
  skipped: SkippedImporter[];
  /** Files we could not even read or parse as metadata: reported, not processed. */
  problems: { file: string; line?: number; message: string }[];
}

export interface Failure {
  file: string;
  line?: number;
  message: string;
  /** A file we read is malformed (bad input: exit 2 rather than 1). */
  badInput?: boolean;
}

export interface ItemResult {
  kind: StaleItem['kind'];
  path: string;
  file: string;
  /** Files this item rewrote (root-relative). */
  written: string[];
}

export interface LockChange {
  path: string;
  file: string;
  /** True when the script had no lock before. */
  created: boolean;
  changes: VersionChange[];
}

export interface GenerateResult extends Plan {
  updated: ItemResult[];
  failed: Failure[];
  warnings: string[];
  /** Scripts whose lock was left as it is because local lock resolution is not available for them. */
  locksLeft: { path: string; language: Language }[];
  /** Dependency versions that changed in the locks written by this run. */
  lockChanges: LockChange[];
  /** Distinct dependency sets, resolutions performed, and answers from the resolution cache. */
  lockStats: ResolveStats;
  lockFileCreated: boolean;
  /** True when the run was stopped early by its AbortSignal. */
  interrupted?: boolean;
}

interface ScriptState {
  item: ScriptItem;
  content: string;
  metaText: string | null;
}

interface FlowState {
  item: FlowItem;
  fileHashes: Record<string, string>;
  contents: Record<string, string>;
}

const DEPENDENCY_FILES: Record<string, Language> = {
  'requirements.in': 'python3',
  'package.json': 'bun',
  'go.mod': 'go',
  'composer.json': 'php',
  'modules.json': 'powershell',
};

interface Loaded {
  cfg: WorkspaceConfig;
  discovery: Discovery;
  scripts: ScriptState[];
  flows: FlowState[];
  deps: { file: string; hash: string; language: Language; text: string }[];
  locks: Map<string, string>;
  /** The lock file is in the legacy format (kept when it is rewritten). */
  legacyLock?: LegacyLock;
  /** Built by computePlan when locks are involved. */
  lockInputs?: LockInputs;
  /** Relative imports of every script (set by computePlan). */
  importsOf?: Map<string, string[]>;
  lockFileCreated: boolean;
  problems: Plan['problems'];
}

/** Whether a root-relative file or folder is under one of the scopes (none: everything). */
function inScope(rel: string, folder: string | string[] | undefined): boolean {
  if (!folder) return true;
  const scopes = Array.isArray(folder) ? folder : [folder];
  return scopes.some((s) => {
    const f = s.replace(/\/+$/, '');
    return rel === f || rel.startsWith(`${f}/`) || rel.startsWith(`${f}.`);
  });
}

function load(cfg: WorkspaceConfig): Loaded {
  const discovery = discover(cfg);
  const { locks, created, legacy } = readLockFile(cfg.root);
  const problems: Plan['problems'] = discovery.problems.map((p) => ({ file: p.file, message: p.message }));
  const scripts: ScriptState[] = [];
  for (const item of discovery.scripts) {
    const content = readText(safePath(cfg.root, item.file));
    const metaText = item.metaFile ? readText(safePath(cfg.root, item.metaFile)) : null;
    // Metadata is parsed (and validated) only when the item turns out stale: a no-op run hashes raw text.
    scripts.push({ item, content, metaText });
  }
  const flows: FlowState[] = discovery.flows.map((item) => {
    const fileHashes: Record<string, string> = {};
    const contents: Record<string, string> = {};
    for (const f of item.inlineFiles) {
      const c = readText(safePath(cfg.root, `${item.folder}/${f}`));
      contents[f] = c;
      fileHashes[f] = flowFileHash(c);
    }
    return { item, fileHashes, contents };
  });
  const deps: Loaded['deps'] = [];
  const depDir = join(cfg.root, 'dependencies');
  if (existsSync(depDir)) {
    for (const name of readdirSync(depDir).sort()) {
      const base = Object.keys(DEPENDENCY_FILES).find((b) => name === b || name.endsWith(`.${b}`));
      if (!base) continue;
      const rel = `dependencies/${name}`;
      const text = readTextOrNull(safePath(cfg.root, rel));
      if (text === null) continue;
      deps.push({ file: rel, hash: dependencyFileHash(text, rel), language: DEPENDENCY_FILES[base]!, text });
    }
  }
  return { cfg, discovery, scripts, flows, deps, locks, legacyLock: legacy, lockFileCreated: created, problems };
}

/** Why a flow is stale, or null when its recorded hashes match its inline files. */
function flowStaleness(f: FlowState, locks: Map<string, string>): string | null {
  const key = f.item.folder;
  const stored = locks.get(`${key}+__flow_hash`);
  if (stored === undefined) return 'no recorded hash';
  if (stored !== flowHash(f.fileHashes)) return 'content changed';
  const entries = [...locks.keys()].filter((k) => k.startsWith(`${key}+`) && k !== `${key}+__flow_hash`);
  if (entries.length === 0 && f.item.inlineFiles.length > 0) return 'no recorded hash';
  return f.item.inlineFiles.some((file) => locks.get(`${key}+${file}`) !== f.fileHashes[file]) ? 'content changed' : null;
}

/** The lock a script's metadata points at: its text ('' when none) and whether a referenced file is missing. */
function currentLockText(root: string, metaText: string | null, format: 'yaml' | 'json', metaFile: string): { text: string; missing: boolean; file: string | null } {
  if (metaText === null) return { text: '', missing: false, file: null };
  const ref = /!inline ([^'"\n\r]+?)['"]?\s*[,}]?\s*$/m.exec(metaText) ?? /!inline ([^'"\n\r,}]+)/.exec(metaText);
  if (ref) {
    const file = ref[1]!.trim();
    const text = readTextOrNull(resolveInRoot(root, '', file, { from: metaFile, ref: `!inline ${file}` }));
    return { text: text ?? '', missing: text === null, file };
  }
  if (format === 'yaml' && /^lock:\s*(''|"")?\s*$/m.test(metaText)) return { text: '', missing: false, file: null };
  const parsed = parseMetadata(metaText, format);
  if ('value' in parsed) {
    const lock = parsed.value.lock;
    return { text: Array.isArray(lock) ? lock.join('\n') : typeof lock === 'string' ? lock : '', missing: false, file: null };
  }
  return { text: '', missing: false, file: null };
}

/** Where a script's lock file goes: `<path>.script.lock` (or `script.lock` in a module folder). */
function lockFileOf(item: ScriptItem): string {
  return item.metaTarget.replace(/\.yaml$/, '.lock');
}

async function lockInputsOf(l: Loaded, importsOf: Map<string, string[]>): Promise<LockInputs> {
  if (!l.lockInputs) {
    await loadLockParsers();
    const scripts = new Map<string, LockScript>();
    for (const s of l.scripts) {
      scripts.set(s.item.path, { path: s.item.path, language: s.item.language, content: s.content, imports: importsOf.get(s.item.path) ?? [] });
    }
    l.lockInputs = new LockInputs(scripts, new Map(l.deps.map((d) => [d.file, d.text])));
  }
  return l.lockInputs;
}

interface LockPlanOptions {
  mode: Mode;
  refreshLocks: boolean;
}

async function computePlan(l: Loaded, folder: string | string[] | undefined, strict: boolean, lockOpts: LockPlanOptions = { mode: 'all', refreshLocks: false }, skip: { scripts?: boolean; flows?: boolean } = {}): Promise<Plan> {
  const direct = new Map<string, string>();
  const nodes: GraphNode[] = [];
  const reportFile = new Map<string, { kind: StaleItem['kind']; path: string; file: string }>();
  const importsOf = new Map<string, string[]>();
  l.importsOf = importsOf;
  const availableDeps = new Set(l.deps.map((d) => d.file));

  for (const s of l.scripts) {
    const id = s.item.path;
    reportFile.set(id, { kind: 'script', path: id, file: s.item.file });
    const imports = await relativeImports(s.item.language, s.content, s.item.path);
    importsOf.set(id, imports);
    // The dependency files a script uses: for python3 and bun as its annotations select them
    // (default: the unnamed file, else `extra.<file>`); other languages: the unnamed file.
    let depImports: string[] = [];
    if (l.deps.length) {
      depImports =
        dependencyFileBase(s.item.language) && s.item.language !== 'nativets'
          ? selectDependencyFiles(s.content, s.item.language, availableDeps).files
          : l.deps.filter((d) => d.language === s.item.language && d.file.slice('dependencies/'.length) in DEPENDENCY_FILES).map((d) => d.file);
    }
    nodes.push({ id, imports: [...imports, ...depImports] });
    if (s.metaText === null) direct.set(id, 'metadata missing');
    else {
      const stored = l.locks.get(id);
      if (stored === undefined) direct.set(id, 'no recorded hash');
      else if (stored !== scriptHash(s.content, s.metaText!)) direct.set(id, 'content changed');
    }
  }
  // Lock staleness: `<path>+__lock` records the lock's inputs and text. A missing entry (locks made
  // by a server, or by --schema-only) is not staleness, except for --lock-only. Not propagated:
  // importers do not depend on another script's lock.
  const lockStale = new Map<string, string>();
  if (lockOpts.mode !== 'schema-only') {
    for (const s of l.scripts) {
      const id = s.item.path;
      if (direct.has(id) || !lockKindOf(s.item.language)) continue;
      if (lockOpts.refreshLocks) {
        lockStale.set(id, 'lock refresh requested');
        continue;
      }
      const recorded = l.locks.get(`${id}+__lock`);
      if (recorded === undefined && lockOpts.mode !== 'lock-only') continue;
      const req = (await lockInputsOf(l, importsOf)).request(id);
      if ('error' in req) {
        lockStale.set(id, 'dependencies changed');
        continue;
      }
      const cur = currentLockText(l.cfg.root, s.metaText, formatOf(s.item.metaFile ?? s.item.metaTarget), s.item.metaFile ?? s.item.metaTarget);
      if (recorded === undefined) {
        // no entry is recorded for a script without dependencies whose lock is empty
        if (!(isEmptyRequest(req.request) && isEmptyLock(req.request.kind, cur.text))) lockStale.set(id, 'no recorded lock hash');
        continue;
      }
      if (lockInputsHash(req.request, cur.text) === recorded) continue;
      if (cur.missing) lockStale.set(id, 'lock file missing');
      else {
        const have = lockVersions(req.request.kind, cur.text);
        const wanted = req.request.kind === 'npm'
          ? (req.request.entries as [string, string][]).map(([n]) => n)
          : (req.request.entries as string[]).map((e) => /^[A-Za-z0-9._-]+/.exec(e)?.[0] ?? e);
        lockStale.set(id, wanted.every((n) => have.has(n)) ? 'lock edited by hand' : 'dependencies changed');
      }
    }
  }
  for (const f of l.flows) {
    const id = `flow:${f.item.folder}`;
    reportFile.set(id, { kind: 'flow', path: f.item.path, file: f.item.folder });
    const inlineIds: string[] = [];
    for (const file of f.item.inlineFiles) {
      const inlineId = `${f.item.folder}/${file.slice(0, file.lastIndexOf('.'))}`;
      inlineIds.push(inlineId);
      const lang = languageOf(file, l.cfg.defaultTs);
      const imports = typeof lang === 'string' ? await relativeImports(lang, f.contents[file]!, `${f.item.path}/${file}`) : [];
      nodes.push({ id: inlineId, imports, internal: true });
    }
    nodes.push({ id, imports: inlineIds });
    const why = flowStaleness(f, l.locks);
    if (why) direct.set(id, why);
  }
  for (const d of l.deps) {
    reportFile.set(d.file, { kind: 'dependency', path: d.file, file: d.file });
    nodes.push({ id: d.file, imports: [] });
    if (l.locks.get(d.file) !== d.hash) direct.set(d.file, 'content changed');
  }

  const marks = propagate(nodes, direct.keys());
  const stale: StaleItem[] = [];
  const skipped: SkippedImporter[] = [];
  const fileOf = (id: string) => reportFile.get(id)?.file ?? id;
  for (const [id, mark] of marks) {
    const info = reportFile.get(id);
    if (!info) continue; // internal node
    const reason = mark.dependsOn === null ? direct.get(id)! : `depends on ${reportFile.get(mark.dependsOn)?.path ?? mark.dependsOn}`;
    const inside = inScope(info.file, folder);
    if (!inside) {
      const causeInside = inScope(fileOf(mark.rootCause), folder);
      if (!causeInside || info.kind === 'dependency') {
        if (info.kind !== 'dependency' || !folder) continue;
      } else if (strict) {
        skipped.push({ file: info.file, dependsOn: reportFile.get(mark.dependsOn ?? mark.rootCause)?.path ?? mark.rootCause, folder: Array.isArray(folder) ? folder.join(', ') : folder! });
        continue;
      }
    }
    stale.push({ kind: info.kind, path: info.path, file: info.file, reason });
  }
  for (const [id, reason] of lockStale) {
    if (marks.has(id)) continue;
    const info = reportFile.get(id)!;
    if (!inScope(info.file, folder)) continue;
    stale.push({ kind: info.kind, path: info.path, file: info.file, reason });
  }
  const order = { dependency: 0, script: 1, flow: 2 } as const;
  if (skip.scripts || skip.flows) {
    for (let i = stale.length - 1; i >= 0; i--) if ((skip.scripts && stale[i]!.kind === 'script') || (skip.flows && stale[i]!.kind === 'flow')) stale.splice(i, 1);
  }
  stale.sort((a, b) => order[a.kind] - order[b.kind] || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  skipped.sort((a, b) => (a.file < b.file ? -1 : 1));
  return { stale, skipped, problems: l.problems.filter((p) => inScope(p.file, folder)) };
}

export interface GenerateOptions {
  /** Only items under this folder (or these paths), and their importers unless strictFolderBoundaries. */
  folder?: string | string[];
  /** --skip-scripts / --skip-flows: leave items of that kind as they are. */
  skipScripts?: boolean;
  skipFlows?: boolean;
  /** Dependency resolutions run at once (--parallel). */
  parallel?: number;
  mode?: Mode;
  strictFolderBoundaries?: boolean;
  /** Compute the plan only; write nothing. */
  dryRun?: boolean;
  onProgress?: (done: number, total: number, item: StaleItem) => void;
  /** Stop between items: what was done is recorded, nothing is half-written. */
  signal?: AbortSignal;
  /** Re-lock every lock-capable script in scope, resolving again (no cached resolution). */
  refreshLocks?: boolean;
  /** Extra pip `--find-links` folders. */
  findLinks?: string[];
  /** Called before each dependency resolution that runs npm or pip. */
  onResolve?: (done: number, total: number, names: string[]) => void;
}

/** Which items are stale, and why. Pure with respect to the files: nothing is written. */
export async function planMetadata(cfg: WorkspaceConfig, opts: GenerateOptions = {}): Promise<Plan> {
  const l = load(cfg);
  return computePlan(l, normalizeFolder(opts.folder), !!opts.strictFolderBoundaries, { mode: opts.mode ?? 'all', refreshLocks: !!opts.refreshLocks }, { scripts: opts.skipScripts, flows: opts.skipFlows });
}

function normalizeOne(folder: string): string | undefined {
  const f = folder.split('\\').join('/').replace(/^\.\//, '').replace(/\/+$/, '');
  return f === '' || f === '.' ? undefined : f;
}

/**
 * The scopes: a folder as it is; a file as its item (`f/a/b.script.yaml` → `f/a/b`; a file in a
 * flow folder → that folder; `f/a/b__mod/script.ts` → `f/a/b`), so that a list of changed files
 * (a pre-commit hook's) selects exactly their items. Undefined: everything.
 */
function normalizeFolder(folder: string | string[] | undefined): string | string[] | undefined {
  if (!folder) return undefined;
  if (!Array.isArray(folder)) return normalizeOne(folder);
  const out: string[] = [];
  for (const x of folder) {
    const f = normalizeOne(x);
    if (f === undefined) return undefined;
    const flow = /^(.*?(?:__flow|\.flow))(\/|$)/.exec(f);
    if (flow) out.push(flow[1]!);
    else if (f.includes('__mod/')) out.push(f.slice(0, f.indexOf('__mod/')));
    else if (f.startsWith('dependencies/')) out.push(f);
    else {
      const slash = f.lastIndexOf('/');
      const dot = f.indexOf('.', slash + 1);
      out.push(dot > slash ? f.slice(0, dot) : f);
    }
  }
  return out;
}

/** generate-metadata: infer schemas, keep locks, record hashes, for every stale item in scope. */
export async function generateMetadata(cfg: WorkspaceConfig, opts: GenerateOptions = {}): Promise<GenerateResult> {
  const mode = opts.mode ?? 'all';
  const l = load(cfg);
  const plan = await computePlan(l, normalizeFolder(opts.folder), !!opts.strictFolderBoundaries, { mode, refreshLocks: !!opts.refreshLocks }, { scripts: opts.skipScripts, flows: opts.skipFlows });
  const result: GenerateResult = {
    ...plan,
    updated: [],
    failed: [],
    warnings: [],
    locksLeft: [],
    lockChanges: [],
    lockStats: { sets: 0, resolutions: 0, cacheHits: 0 },
    lockFileCreated: l.lockFileCreated,
  };
  if (opts.dryRun) return result;

  const staleScripts = new Map(plan.stale.filter((s) => s.kind === 'script').map((s) => [s.path, s]));
  const scriptStates = l.scripts.filter((s) => staleScripts.has(s.item.path));
  const parsed =
    mode === 'lock-only'
      ? new Map()
      : await parseScripts(
          scriptStates.filter((s) => canInferSchema(s.item.language)).map((s) => ({ id: s.item.path, language: s.item.language, code: s.content })),
        );
  const lockPlan = mode === 'schema-only' ? new Map<string, ScriptLock>() : await resolveLocks(l, scriptStates, opts, result);
  const total = plan.stale.length;
  let done = 0;
  const lockKeys = lockKeyIndex(l.locks);
  const writes = new WriteQueue();
  const stateOf = new Map(scriptStates.map((s) => [s.item.path, s]));
  const flowOf = new Map(l.flows.map((f) => [f.item.folder, f]));
  const depOf = new Map(l.deps.map((d) => [d.file, d]));
  for (const stale of plan.stale) {
    if (done % 16 === 0) await new Promise((r) => setImmediate(r)); // let a Ctrl-C be noticed
    if (opts.signal?.aborted) {
      result.interrupted = true;
      break;
    }
    done++;
    opts.onProgress?.(done, total, stale);
    if (stale.kind === 'script') {
      const s = stateOf.get(stale.path)!;
      const steps: Array<() => Promise<void>> = [];
      const r = processScript(cfg, s, parsed.get(s.item.path), mode, result, lockPlan.get(s.item.path), steps);
      await writes.add(steps);
      if (r) {
        const previousLockHash = l.locks.get(`${s.item.path}+__lock`);
        clearLockEntries(l.locks, s.item.path, lockKeys);
        l.locks.set(s.item.path, r.hash);
        if (r.lockHash) l.locks.set(`${s.item.path}+__lock`, r.lockHash);
        else if (previousLockHash !== undefined && mode === 'schema-only') l.locks.set(`${s.item.path}+__lock`, previousLockHash);
        result.updated.push({ kind: 'script', path: s.item.path, file: s.item.file, written: r.written });
      }
    } else if (stale.kind === 'flow') {
      const f = flowOf.get(stale.file)!;
      clearLockEntries(l.locks, f.item.folder, lockKeys);
      for (const [file, h] of Object.entries(f.fileHashes)) l.locks.set(`${f.item.folder}+${file}`, h);
      l.locks.set(`${f.item.folder}+__flow_hash`, flowHash(f.fileHashes));
      result.updated.push({ kind: 'flow', path: f.item.path, file: f.item.folder, written: [] });
    } else {
      const d = depOf.get(stale.file)!;
      l.locks.set(d.file, d.hash);
      result.updated.push({ kind: 'dependency', path: d.file, file: d.file, written: [] });
    }
  }
  // every item file is in place before wmill-lock.yaml records its hash
  await writes.drain();
  if (result.updated.length > 0 || l.lockFileCreated) writeLockFile(cfg.root, l.locks, l.legacyLock);
  return result;
}

/** A stale script's lock for this run: the request and its resolved lock, or why there is none. */
type ScriptLock = { request: DependencyRequest; outcome: ResolveOutcome } | { error: string };

/** Resolve the locks of the stale scripts: one resolution per distinct dependency set. */
async function resolveLocks(l: Loaded, scripts: ScriptState[], opts: GenerateOptions, result: GenerateResult): Promise<Map<string, ScriptLock>> {
  const out = new Map<string, ScriptLock>();
  const lockable = scripts.filter((s) => lockKindOf(s.item.language));
  if (!lockable.length) return out;
  const inputs = await lockInputsOf(l, l.importsOf ?? new Map());
  const requests = new Map<string, DependencyRequest>();
  const byPath = new Map<string, DependencyRequest>();
  for (const s of lockable) {
    const r = inputs.request(s.item.path);
    if ('error' in r) {
      out.set(s.item.path, { error: r.error });
      continue;
    }
    const key = requestKey(r.request);
    requests.set(key, r.request);
    byPath.set(s.item.path, r.request);
  }
  const { outcomes, stats } = await resolveRequests(l.cfg, requests, {
    ...(opts.parallel ? { concurrency: opts.parallel } : {}),
    findLinks: opts.findLinks,
    refresh: opts.refreshLocks,
    signal: opts.signal,
    onResolve: opts.onResolve
      ? (i, n, req) => opts.onResolve!(i, n, req.kind === 'npm' ? (req.entries as [string, string][]).map(([a, v]) => (v === 'latest' ? a : `${a}@${v}`)) : (req.entries as string[]))
      : undefined,
  });
  result.lockStats = stats;
  for (const [path, request] of byPath) out.set(path, { request, outcome: outcomes.get(requestKey(request)) ?? { error: 'not resolved' } });
  return out;
}

function processScript(
  cfg: WorkspaceConfig,
  s: ScriptState,
  parse: import('./parsers/types.js').ParseOutput | undefined,
  mode: Mode,
  result: GenerateResult,
  lock: ScriptLock | undefined,
  /** The file writes, in order, for the caller to run (WriteQueue). */
  steps: Array<() => Promise<void>>,
): { hash: string; written: string[]; lockHash?: string } | null {
  const metaFile = s.item.metaFile ?? s.item.metaTarget;
  const format = formatOf(metaFile);
  let meta: ScriptMetadata = defaultMetadata();
  if (s.metaText !== null) {
    const parsedMeta = parseMetadata(s.metaText, format);
    if ('error' in parsedMeta) {
      result.failed.push({ file: metaFile, line: parsedMeta.line, message: `${parsedMeta.error}; fix the file or delete it to regenerate`, badInput: true });
      return null;
    }
    meta = parsedMeta.value;
  }
  if (mode !== 'lock-only') {
    if (parse?.error) {
      result.failed.push({ file: s.item.file, line: parse.error.line, message: parse.error.message });
      return null;
    }
    if (parse) {
      const inferred = mergeSchema(s.item.language, parse, meta.schema);
      if (inferred.invalid) result.warnings.push(`Script ${s.item.path} invalid, it cannot be parsed to infer schema.`);
      meta.schema = inferred.schema;
      if (inferred.hasPreprocessor) meta.has_preprocessor = true;
      else delete meta.has_preprocessor;
      // The reference never keeps these two: they are server-side hints.
      delete meta.no_main_func;
      delete meta.auto_kind;
    } else if (!canInferSchema(s.item.language)) {
      result.warnings.push(`${s.item.file}: schema inference for ${s.item.language} is not supported yet; its schema was kept as it is`);
    }
  }
  const written: string[] = [];
  let lockHash: string | undefined;
  let removeLockFile: string | null = null;
  const kind = lockKindOf(s.item.language);
  if (mode !== 'schema-only' && kind) {
    if (!lock) {
      result.failed.push({ file: s.item.file, message: 'cannot resolve dependencies: no lock request' });
      return null;
    }
    if ('error' in lock) {
      result.failed.push({ file: s.item.file, message: lock.error.startsWith('cannot resolve') ? lock.error : `cannot resolve dependencies: ${lock.error}` });
      return null;
    }
    if ('error' in lock.outcome) {
      result.failed.push({ file: s.item.file, message: lock.outcome.error });
      return null;
    }
    const newLock = lock.outcome.lock;
    const old = currentLockText(cfg.root, s.metaText, format, s.item.metaFile ?? s.item.metaTarget);
    const lockFile = lockFileOf(s.item);
    // the lock file first, so metadata never points at a lock that is not there
    if (newLock !== '') {
      if (readTextOrNull(safePath(cfg.root, lockFile)) !== newLock) {
        steps.push(() => writeFileAtomicAsync(join(cfg.root, lockFile), newLock));
        written.push(lockFile);
      }
      meta.lock = `!inline ${lockFile}`;
    } else {
      meta.lock = '';
      if (existsSync(join(cfg.root, lockFile))) removeLockFile = lockFile;
    }
    const changes = diffVersions(lockVersions(kind, old.text), lockVersions(kind, newLock));
    if (changes.length) result.lockChanges.push({ path: s.item.path, file: s.item.file, created: old.text === '', changes });
    // nothing to record for a script without dependencies: keeps wmill-lock.yaml to one line per item
    if (!(isEmptyRequest(lock.request) && isEmptyLock(kind, newLock))) lockHash = lockInputsHash(lock.request, newLock);
  } else if (mode !== 'schema-only' && languageNeedsLock(s.item.language)) {
    result.locksLeft.push({ path: s.item.path, language: s.item.language });
  }
  if (Array.isArray(meta.lock)) meta.lock = meta.lock.join('\n');
  const text = renderMetadata(meta, format);
  if (text !== s.metaText) {
    steps.push(() => writeFileAtomicAsync(join(cfg.root, metaFile), text));
    written.push(metaFile);
  }
  if (removeLockFile) {
    const file = join(cfg.root, removeLockFile);
    steps.push(async () => rmSync(file, { force: true }));
    written.push(removeLockFile);
  }
  return { hash: scriptHash(s.content, text), written, lockHash };
}

export interface RehashResult {
  scripts: number;
  flows: number;
  skipped: { file: string; reason: string }[];
}

/** Recompute every hash from the files on disk (no inference, no metadata rewritten). */
export function rehash(cfg: WorkspaceConfig, folder?: string): RehashResult {
  const l = load(cfg);
  const f = normalizeFolder(folder);
  const out: RehashResult = { scripts: 0, flows: 0, skipped: [] };
  const lockKeys = lockKeyIndex(l.locks);
  for (const s of l.scripts) {
    if (!inScope(s.item.file, f)) continue;
    if (!s.metaText) {
      out.skipped.push({ file: s.item.file, reason: "no metadata file; run 'wmill generate-metadata' to create it" });
      continue;
    }
    const lockEntry = l.locks.get(`${s.item.path}+__lock`);
    clearLockEntries(l.locks, s.item.path, lockKeys);
    l.locks.set(s.item.path, scriptHash(s.content, s.metaText));
    // the lock-inputs entry is kept: a hand-edited lock stays visible after a rehash
    if (lockEntry !== undefined) l.locks.set(`${s.item.path}+__lock`, lockEntry);
    out.scripts++;
  }
  for (const fl of l.flows) {
    if (!inScope(fl.item.folder, f)) continue;
    clearLockEntries(l.locks, fl.item.folder, lockKeys);
    for (const [file, h] of Object.entries(fl.fileHashes)) l.locks.set(`${fl.item.folder}+${file}`, h);
    l.locks.set(`${fl.item.folder}+__flow_hash`, flowHash(fl.fileHashes));
    out.flows++;
  }
  for (const d of l.deps) if (inScope(d.file, f)) l.locks.set(d.file, d.hash);
  for (const p of l.problems) out.skipped.push({ file: p.file, reason: p.message });
  writeLockFile(cfg.root, l.locks, l.legacyLock);
  return out;
}
