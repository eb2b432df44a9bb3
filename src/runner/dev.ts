/**
 * `wmill dev`: the edit → save → look loop. A watcher on the workspace (chokidar, loaded on
 * first use); on each save the targeted script, flow or workflow runs again with its last
 * arguments in the embedded engine, whose interpreters stay resident between runs
 * (Engine `devResidents`: one warm process per interpreter; a change bumps a generation that
 * makes it import the script and its workspace modules afresh). Then the metadata of what
 * changed is refreshed through generate-metadata's own code (it writes only what is stale).
 *
 * - The target: the path given, else the script (or flow) saved most recently.
 * - A change of a module re-runs the target when the target imports it (the import graph,
 *   metadata/import-graph.ts, transitively).
 * - A change of package.json / requirements stops the residents: the next run starts new ones.
 * - Arguments: `data` (-d) when given, else `.wmill/args/<path>.json`, else {}; editing that
 *   file re-runs the target.
 *
 * Runs are serialized: a save during a run queues one more run after it (never a cancel, which
 * would cost the warm interpreter). The session reports through callbacks; rendering is the
 * command's (src/commands/dev.ts).
 */
import { randomBytes } from 'node:crypto';
import { Minimatch } from 'minimatch';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import type { WorkspaceConfig } from '../workspace/config.js';
import { discover } from '../workspace/discover.js';
import { hasScriptExtension, languageOf, remotePathOf, type Language } from '../workspace/languages.js';
import { parseJsonText } from '../util/data-file.js';
import { writeFileAtomic } from '../util/fs.js';
import { propagate, type GraphNode } from '../metadata/import-graph.js';
import { Engine, type JobHandler } from './engine.js';
import { MemoryStore } from './store.js';
import { WorkspaceFiles } from './workspace-files.js';

export interface DevTarget {
  kind: 'script' | 'flow';
  /** Windmill path. */
  path: string;
  /** Root-relative script file, or flow folder. */
  file: string;
}

export interface DevError {
  name: string;
  message: string;
  /** Root-relative file and line the error points at, when it names one of the workspace's files. */
  file?: string;
  line?: number;
  stack?: string;
}

export interface DevRun {
  path: string;
  file: string;
  kind: DevTarget['kind'];
  status: 'success' | 'failure' | 'canceled';
  duration_ms: number;
  result: unknown;
  error?: DevError;
  /** What started the run (the file saved, or "start"). */
  trigger: string;
  /** Arguments the run had. */
  args: Record<string, unknown>;
}

export interface DevEvents {
  /** A run starts. */
  onStart?: (target: DevTarget, trigger: string) => void;
  onRun: (run: DevRun) => void;
  /** A job log chunk (script output). */
  onLog: (chunk: string) => void;
  /** A line for the user (stderr): metadata written, residents restarted, problems. */
  onInfo: (line: string) => void;
}

export interface DevOptions {
  cfg: WorkspaceConfig;
  /** Root-relative file or folder (or a Windmill path); none: follow the most recently saved script. */
  target?: string;
  /** Arguments (-d): used for the runs, and saved as the target's arguments file when a target is given. */
  data?: Record<string, unknown>;
  /** Refresh metadata after runs (default true). */
  metadata?: boolean;
  /** Without a target: only files matching one of these globs (root-relative) become the target (--includes). */
  includes?: string[];
}

/** Files whose change means the residents' set-up changed (dependencies). */
const DEPENDENCY_FILES = new Set(['package.json', 'package-lock.json', 'requirements.txt', 'requirements.in', 'pyproject.toml', 'bun.lock', 'bun.lockb']);
const IGNORED_DIRS = new Set(['node_modules', '.git', '__pycache__', '.venv', 'venv', 'dist']);
/** What generate-metadata writes (never a reason to run), and atomic writes' temporary files. */
const GENERATED = /(\.script\.(ya?ml|json|lock)|(^|\/)wmill-lock\.yaml)$|(^|\/)\.[^/]*\.tmp-[^/]*$/;
const FLOW_DIR = /^(.*?(?:\.flow|__flow))(?:\/|$)/;

export const argsFileOf = (root: string, path: string): string => join(root, '.wmill', 'args', `${path}.json`);

export class DevSession {
  readonly engine: Engine;
  private target: DevTarget | undefined;
  private readonly explicit: boolean;
  private generation = 1;
  private watcher: { close(): Promise<void> } | undefined;
  private running = false;
  private queued: string | undefined;
  private idle: Promise<void> = Promise.resolve();
  private closed = false;
  private imports = new Map<string, { mtimeMs: number; imports: string[] }>();
  /** The content each watched file had when last acted on. */
  private readonly seen = new Map<string, { text: string; at: number }>();
  private metaPending = new Set<string>();
  private metaRunning: Promise<void> | undefined;
  private localTasks: Promise<import('./wac/local-tasks.js').LocalTasks> | undefined;

  constructor(
    private readonly opts: DevOptions,
    private readonly ev: DevEvents,
  ) {
    const store = new MemoryStore(new WorkspaceFiles(opts.cfg.root));
    const resumeKey = randomBytes(32).toString('hex');
    this.engine = new Engine({
      store,
      config: { tsRuntime: (opts.cfg.raw as Record<string, unknown>).runtime === 'bun' ? 'bun' : 'node' },
      concurrency: 4,
      inheritEnv: true,
      resumeKey,
      devResidents: { generation: () => this.generation },
    });
    this.explicit = opts.target !== undefined;
    if (opts.target !== undefined) this.target = this.resolveTarget(opts.target);
    const tasks = () => (this.localTasks ??= import('./wac/local-tasks.js').then((m) => new m.LocalTasks(opts.cfg)));
    this.engine.setWacHosting({ resolveTask: async (job, step) => (await tasks()).resolveTask(job, step) });
    let flows: Promise<JobHandler> | undefined;
    const handler: JobHandler = async (job, ctx) => {
      flows ??= Promise.all([import('./flow/handler.js'), import('./flow/local.js'), import('./flow/resume.js'), tasks()]).then(([{ flowHandler }, local, { resumeUrlsFor }, t]) =>
        flowHandler(this.engine, {
          resumeUrls: async (j) => resumeUrlsFor((await this.engine.apiServer()).baseUrl, j.workspace, resumeKey, j.id),
          onSuspend: (j, urls, step) => {
            if (urls) ev.onInfo(`flow ${j.path}: step '${step}' is waiting for approval:\n  approve: curl -X POST '${urls.resume}'\n  reject:  curl -X POST '${urls.cancel}'`);
          },
          resolveScript: async (_job, p) => t.flowScript(p),
          resolveFlow: async (_job, p) => {
            const dir = local.localFlows(opts.cfg).get(p);
            return dir ? local.readLocalFlow(dir).value : undefined;
          },
        }),
      );
      return (await flows)(job, ctx);
    };
    this.engine.setHandler('flow', handler);
    this.engine.setHandler('flowpreview', handler);
  }

  get current(): DevTarget | undefined {
    return this.target;
  }

  /** A script file, a flow folder (or a file in it), or a Windmill path, relative to the root or absolute. */
  resolveTarget(spec: string): DevTarget {
    const root = this.opts.cfg.root;
    const abs = resolve(process.cwd(), spec);
    let rel = relative(root, abs).split(sep).join('/');
    const fromRoot = existsSync(abs) ? rel : spec.replace(/^\.\//, '').replace(/\/+$/, '');
    rel = fromRoot;
    if (rel.startsWith('..')) throw Object.assign(new Error(`${spec} is outside the workspace (${root})`), { code: 'usage' });
    const flow = FLOW_DIR.exec(rel);
    if (flow) return { kind: 'flow', path: flow[1]!.replace(/(\.flow|__flow)$/, ''), file: flow[1]! };
    if (existsSync(join(root, rel)) && statSync(join(root, rel)).isFile()) {
      if (!hasScriptExtension(rel)) throw Object.assign(new Error(`${spec} is not a script file (nor a flow folder)`), { code: 'usage' });
      return { kind: 'script', path: remotePathOf(rel), file: rel };
    }
    // A Windmill path: the script or flow that has it.
    const d = discover(this.opts.cfg);
    const s = d.scripts.find((x) => x.path === rel);
    if (s) return { kind: 'script', path: s.path, file: s.file };
    const f = d.flows.find((x) => x.path === rel);
    if (f) return { kind: 'flow', path: f.path, file: f.folder };
    throw Object.assign(new Error(`${spec}: no script file, flow folder or Windmill path by that name under ${root}`), { code: 'usage' });
  }

  /** Start watching (and run the target once, when there is one). Resolves when the watcher is ready. */
  async start(): Promise<void> {
    const root = this.opts.cfg.root;
    if (this.target && this.opts.data) writeFileAtomic(argsFileOf(root, this.target.path), `${JSON.stringify(this.opts.data, null, 2)}\n`);
    const [{ watch }] = await Promise.all([import('chokidar'), loadImportScanners()]);
    const ignored = (p: string): boolean => {
      const rel = relative(root, p).split(sep).join('/');
      if (!rel || rel.startsWith('..')) return false;
      const parts = rel.split('/');
      if (parts.some((x) => IGNORED_DIRS.has(x))) return true;
      if (parts[0] === '.wmill') return !(parts.length === 1 || parts[1] === 'args');
      return GENERATED.test(rel);
    };
    const w = watch(root, { ignoreInitial: true, ignored, persistent: true });
    this.watcher = w;
    w.on('change', (p: string) => this.changed(p));
    w.on('add', (p: string) => this.changed(p));
    // chokidar drops a file's events within 5 ms of the previous one (a save that truncates then
    // writes is two): the raw events are seen too, deduplicated by content in changed().
    w.on('raw', (event: string, p: string, opts: unknown) => {
      const watchedPath = (opts as { watchedPath?: unknown } | undefined)?.watchedPath;
      if (event !== 'change' || !p || typeof watchedPath !== 'string') return;
      const abs = basename(watchedPath) === p ? watchedPath : join(watchedPath, p);
      if (!ignored(abs) && this.seen.has(abs)) this.changed(abs);
    });
    w.on('error', (e: unknown) => this.ev.onInfo(`watcher: ${(e as Error).message}`));
    await new Promise<void>((r) => w.once('ready', () => r()));
    // What is there now is not a change (files up to 1 MB: scripts, arguments, dependencies).
    const watched = (w as unknown as { getWatched(): Record<string, string[]> }).getWatched();
    for (const [dir, names] of Object.entries(watched)) {
      for (const n of names) {
        const abs = join(dir, n);
        try {
          const st = statSync(abs);
          if (st.isFile() && st.size <= 1 << 20) this.seen.set(abs, { text: readFileSync(abs, 'utf8'), at: -Infinity });
        } catch {
          /* gone meanwhile */
        }
      }
    }
    if (this.target) this.schedule('start');
  }

  private changed(abs: string, tries = 0): void {
    if (this.closed) return;
    const root = this.opts.cfg.root;
    const rel = relative(root, abs).split(sep).join('/');
    // A save that truncates then writes may show an empty file first, and the watcher may report
    // the write as the same change: look again shortly (an empty file is never run).
    let text: string;
    try {
      text = readFileSync(abs, 'utf8');
    } catch {
      return;
    }
    if (text.length === 0) {
      if (tries < 20) setTimeout(() => this.changed(abs, tries + 1), 5).unref();
      return;
    }
    // One save is several events (chokidar's and the raw ones): act once per new content (the
    // same content saved again later runs again: a save is also "run it again").
    const last = this.seen.get(abs);
    const now = performance.now();
    if (last?.text === text && now - last.at < 200) return;
    this.seen.set(abs, { text, at: now });
    this.generation++;
    const base = basename(rel);
    if (DEPENDENCY_FILES.has(base)) {
      this.ev.onInfo(`${rel} changed: restarting the resident interpreters`);
      void this.engine.restartResidents().then(() => {
        if (this.target) this.schedule(rel);
      });
      return;
    }
    if (rel.startsWith('.wmill/args/')) {
      const path = rel.slice('.wmill/args/'.length).replace(/\.json$/, '');
      if (this.target?.path === path) this.schedule(rel);
      return;
    }
    const flow = FLOW_DIR.exec(rel);
    if (flow) {
      const t: DevTarget = { kind: 'flow', path: flow[1]!.replace(/(\.flow|__flow)$/, ''), file: flow[1]! };
      if (!this.explicit && this.followed(rel)) this.target = t;
      if (this.target?.kind === 'flow' && this.target.path === t.path) this.schedule(rel);
      this.refreshMetadata(t.file);
      return;
    }
    if (!/^[ufg]\//.test(rel) || !hasScriptExtension(rel) || typeof languageOf(rel, this.opts.cfg.defaultTs) !== 'string') return;
    const path = remotePathOf(rel);
    if (!this.explicit && this.followed(rel)) this.target = { kind: 'script', path, file: rel };
    const t = this.target;
    if (t && (t.path === path || (t.kind === 'script' && this.importersOf(path).has(t.path)))) this.schedule(rel);
    this.refreshMetadata(path);
  }

  private matchers: ((rel: string) => boolean)[] | undefined;

  /** Whether a saved file may become the target (--includes; everything without it). */
  private followed(rel: string): boolean {
    if (!this.opts.includes?.length) return true;
    this.matchers ??= this.opts.includes.map((g) => {
      const m = new Minimatch(g, { dot: true });
      return (r: string) => m.match(r) || r.startsWith(`${g.replace(/\/+$/, '')}/`);
    });
    return this.matchers.some((m) => m(rel));
  }

  /** Windmill paths of the scripts that import `path`, transitively. */
  private importersOf(path: string): Set<string> {
    const nodes: GraphNode[] = [];
    let scripts;
    try {
      scripts = discover(this.opts.cfg).scripts;
    } catch {
      return new Set();
    }
    for (const s of scripts) {
      if (s.language !== 'python3' && s.language !== 'bun' && s.language !== 'nativets' && s.language !== 'deno') continue;
      const abs = join(this.opts.cfg.root, s.file);
      let mtimeMs: number;
      try {
        mtimeMs = statSync(abs).mtimeMs;
      } catch {
        continue;
      }
      let e = this.imports.get(s.path);
      if (!e || e.mtimeMs !== mtimeMs) {
        e = { mtimeMs, imports: relativeImportsSync(s.language, readFileSync(abs, 'utf8'), s.path) };
        this.imports.set(s.path, e);
      }
      nodes.push({ id: s.path, imports: e.imports });
    }
    const marks = propagate(nodes, [path]);
    marks.delete(path);
    return new Set(marks.keys());
  }

  /** Run the target (now, or after the run in progress). */
  private schedule(trigger: string): void {
    if (this.closed) return;
    if (this.running) {
      this.queued = trigger;
      return;
    }
    this.running = true;
    this.idle = this.loop(trigger);
  }

  private async loop(trigger: string): Promise<void> {
    let next: string | undefined = trigger;
    try {
      while (next !== undefined && !this.closed) {
        this.queued = undefined;
        const t = this.target;
        if (t) await this.runOnce(t, next).catch((e: Error) => this.ev.onInfo(`${t.path}: ${e.message}`));
        next = this.queued;
      }
    } finally {
      this.running = false;
    }
  }

  private argsFor(path: string): Record<string, unknown> {
    if (this.opts.data) return this.opts.data;
    const file = argsFileOf(this.opts.cfg.root, path);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return {};
    }
    const parsed = parseJsonText(text);
    const rel = relative(this.opts.cfg.root, file);
    if ('error' in parsed) throw new Error(`${rel}${parsed.line ? `:${parsed.line}` : ''}: ${parsed.error}; fix the file (a JSON object of arguments)`);
    const v = parsed.value;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${rel}: must be a JSON object of arguments (name → value)`);
    return v as Record<string, unknown>;
  }

  private async runOnce(t: DevTarget, trigger: string, retried = false): Promise<void> {
    const root = this.opts.cfg.root;
    const args = this.argsFor(t.path);
    if (!retried) this.ev.onStart?.(t, trigger);
    const started = performance.now();
    let id: string;
    if (t.kind === 'script') {
      const abs = join(root, t.file);
      const content = readFileSync(abs, 'utf8');
      const language = languageOf(t.file, this.opts.cfg.defaultTs) as Language;
      let argNames: string[] | undefined;
      if (language === 'bash') {
        const { parseBash } = await import('../metadata/parsers/bash.js');
        const p = parseBash(content);
        argNames = p.type === 'Invalid' ? [] : p.args.map((a) => a.name);
      }
      id = await this.engine.submit(
        { workspace: 'local', kind: 'preview', path: t.path, language, content, file: abs, root, args, ...(argNames ? { argNames } : {}) },
        { onLog: (c) => this.ev.onLog(c) },
      );
    } else {
      const [{ readLocalFlow }, { applyInputDefaults }] = await Promise.all([import('./flow/local.js'), import('../items/flow-schema.js')]);
      const lf = readLocalFlow(join(root, t.file));
      id = await this.engine.submit(
        { workspace: 'local', kind: 'flowpreview', path: lf.path, language: 'flow' as never, content: '', flow: lf.value, args: applyInputDefaults(lf.schema as never, args) },
        { onLog: (c) => this.ev.onLog(c) },
      );
    }
    const job = await this.engine.wait(id);
    // A resident killed from outside between two runs (its exit not yet seen when the save came)
    // fails the run it was handed at once: the next run gets a new interpreter, so run it again,
    // once; a script that kills itself fails the same way the second time and is reported.
    if (t.kind === 'script' && !retried && job.status !== 'success' && /was killed by SIG/.test(JSON.stringify(job.result ?? ''))) {
      return this.runOnce(t, trigger, true);
    }
    const duration_ms = Math.round((performance.now() - started) * 10) / 10;
    const status = job.status === 'success' ? 'success' : job.status === 'canceled' ? 'canceled' : 'failure';
    const ok = status === 'success';
    const run: DevRun = { path: t.path, file: t.file, kind: t.kind, status, duration_ms, result: ok ? (job.result ?? null) : null, trigger, args };
    if (!ok) run.error = describeError(job.result, root, t.kind === 'script' ? (languageOf(t.file, this.opts.cfg.defaultTs) as Language) : undefined);
    this.ev.onRun(run);
  }

  /**
   * generate-metadata scoped to what changed (a script's path, or a flow folder; the scripts
   * importing a changed module are stale through it and refreshed with it): only stale items
   * are written. One refresh at a time, after the run in progress; saves meanwhile coalesce.
   */
  private refreshMetadata(scope: string): void {
    if (this.opts.metadata === false || this.closed) return;
    this.metaPending.add(scope);
    for (const p of this.importersOf(scope)) this.metaPending.add(p);
    if (this.metaRunning) return;
    this.metaRunning = (async () => {
      while (this.metaPending.size && !this.closed) {
        // After the run it was saved for: metadata never delays a result.
        await this.idle;
        const scopes = [...this.metaPending];
        this.metaPending.clear();
        const { generateMetadata } = await import('../metadata/generate.js');
        for (const folder of scopes) {
          if (this.closed) return;
          try {
            const r = await generateMetadata(this.opts.cfg, { folder });
            for (const u of r.updated) for (const f of u.written) this.ev.onInfo(`metadata: ${f} updated`);
            for (const f of r.failed) this.ev.onInfo(`metadata: ${f.file}${f.line ? `:${f.line}` : ''}: ${f.message}`);
          } catch (e) {
            this.ev.onInfo(`metadata: ${(e as Error).message}`);
          }
        }
      }
    })().finally(() => {
      this.metaRunning = undefined;
    });
  }

  /** Wait until no run is in progress or queued, and metadata is refreshed (tests, benches). */
  async settled(): Promise<void> {
    for (;;) {
      await this.idle;
      await this.metaRunning;
      if (!this.running && !this.metaRunning) return;
    }
  }

  /** Stop watching, stop the interpreters (their process groups), free the engine. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.watcher?.close();
    await this.engine.close();
    await this.metaRunning?.catch(() => undefined);
  }
}

function relativeImportsSync(language: Language, code: string, path: string): string[] {
  // The same scanners generate-metadata's import graph uses (metadata/parsers), synchronous here.
  return (language === 'python3' ? pyImports : tsImports)?.(code, path) ?? [];
}
let pyImports: ((code: string, path: string) => string[]) | undefined;
let tsImports: ((code: string, path: string) => string[]) | undefined;

/** Load the import scanners (before the first change needs them). */
export async function loadImportScanners(): Promise<void> {
  const [py, ts] = await Promise.all([import('../metadata/parsers/python.js'), import('../metadata/parsers/typescript.js')]);
  pyImports = py.pythonRelativeImports;
  tsImports = ts.tsRelativeImports;
}

/**
 * The error of a failed run, with the workspace file and line it points at: a Python traceback's
 * last frame in the workspace, a JavaScript stack's first, a TypeScript transform error's
 * `file:line:col`, bash's `file: line N:`.
 */
export function describeError(result: unknown, root: string, language?: Language): DevError {
  const e = (result as { error?: { name?: string; message?: string; stack?: string } } | null)?.error;
  const name = e?.name ?? 'Error';
  const message = e?.message ?? JSON.stringify(result);
  const text = `${message}\n${e?.stack ?? ''}`;
  const hits: { file: string; line: number }[] = [];
  const rootPrefix = root.endsWith(sep) ? root : root + sep;
  const re = /File "([^"]+)", line (\d+)|(?:file:\/\/)?(\/[^\s():"']+?)(?::|:? line )(\d+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const file = decodeURIComponent((m[1] ?? m[3])!);
    if (!file.startsWith(rootPrefix)) continue;
    hits.push({ file: relative(root, file).split(sep).join('/'), line: Number(m[2] ?? m[4]) });
  }
  const at = language === 'python3' ? hits[hits.length - 1] : hits[0];
  return { name, message, ...(at ? { file: at.file, line: at.line } : {}), ...(e?.stack ? { stack: e.stack } : {}) };
}
