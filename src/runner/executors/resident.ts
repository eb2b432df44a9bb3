/**
 * Resident interpreters for workflow-as-code rounds. A workflow runs as many short rounds (the
 * parent replays after each task) and each inline task is a child job running the same script;
 * starting an interpreter for each of them (0.15 s for Python, 0.3 s for tsx) dwarfs the work.
 * A resident is a wrapper process started in resident mode (src/runner/assets.ts, python
 * _runner.py): it imports the script once and then runs one job per stdin line, answering each
 * with a marker line after the job's own output. It holds no worker slot and no state of record:
 * the checkpoint still travels with every round and lives in the store, so a resident that dies
 * (or is killed on a timeout or cancel, or idles out) costs only a fresh start.
 *
 * Residents are keyed by everything that decides what the process has loaded and who it runs as
 * (language family, workspace, permissioned-as user, path, content hash): rounds and tasks of one
 * workflow reuse one process, parallel tasks get one each, and no process is shared by two scripts
 * or two users.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { errorResult, type ExecOutcome } from '../types.js';
import { outcomeOf, type WrapperCommand } from './common.js';
import { startProcess, type ProcessHandle } from './process.js';

/** What a resident runs: the wrapper command (started in `dir`) and the script file it imports. */
export interface ResidentLaunch {
  command: WrapperCommand;
  script: string;
  root?: string;
  /** The job's stdin record (default: the JSON line of the wrapper protocol). */
  encode?: (input: Record<string, unknown>) => string;
  /** Map the process's answer to the outcome (default: the marker's JSON is the result). */
  settle?: (code: number, value: unknown, output: string) => ExecOutcome;
}

export interface ResidentRequest {
  key: string;
  /** Lay out the resident's folder (called once, when a new resident is started for `key`). */
  launch: (dir: string) => Promise<ResidentLaunch>;
  /**
   * Spares: residents of the same interpreter set-up (`spareKey`) started before a script needs
   * them, so a workflow's first round skips the interpreter's start. `spare(dir)` is the command
   * (what `launch` would start, before any script is known). Without these, no spare is kept.
   */
  spareKey?: string;
  spare?: (dir: string) => WrapperCommand;
  /** Environment of the process (without the job's own variables, which come with each job). */
  env: Record<string, string | undefined>;
  /** The job input line (the wrapper protocol's stdin object), without script/root. */
  input: Record<string, unknown>;
  log: (chunk: string) => void;
  signal: AbortSignal;
  /** Record a workflow step() checkpoint the job sends on its pipe (the fast path without HTTP). */
  onCheckpoint?: (body: Record<string, unknown>) => Promise<unknown>;
}

export interface ResidentPoolOptions {
  tmpRoot: string;
  /** An idle resident is stopped after this long (default 120 s). */
  idleMs?: number;
  /** Idle residents kept per key (default 4) and in all (default 8). */
  maxIdlePerKey?: number;
  maxIdle?: number;
}

const TAIL = 2000;
/** Output kept per job for a launch that computes its result from it (Bash: the last line). */
const OUTPUT = 64 * 1024;

/** Splits a stream at `marker` … "\n": text before it is output, what follows up to the newline is the payload. */
export class MarkerScanner {
  private held = '';
  private payload: string | undefined;
  constructor(
    private readonly marker: string,
    private readonly onText: (text: string) => void,
    private readonly onMarker: (payload: string) => void,
  ) {}

  push(chunk: string): void {
    let s = this.held + chunk;
    this.held = '';
    while (s) {
      if (this.payload !== undefined) {
        const nl = s.indexOf('\n');
        if (nl === -1) {
          this.payload += s;
          return;
        }
        const p = this.payload + s.slice(0, nl);
        this.payload = undefined;
        s = s.slice(nl + 1);
        this.onMarker(p);
        continue;
      }
      const i = s.indexOf(this.marker);
      if (i !== -1) {
        if (i > 0) this.onText(s.slice(0, i));
        s = s.slice(i + this.marker.length);
        this.payload = '';
        continue;
      }
      // Hold back a tail that may be the start of a marker split across chunks.
      let keep = 0;
      const from = s.lastIndexOf(this.marker[0]!);
      if (from !== -1 && s.length - from < this.marker.length && this.marker.startsWith(s.slice(from))) keep = s.length - from;
      if (s.length > keep) this.onText(s.slice(0, s.length - keep));
      this.held = s.slice(s.length - keep);
      return;
    }
  }

  /** Whatever is held back (the process ended). */
  flush(): void {
    if (this.held) this.onText(this.held);
    this.held = '';
  }
}

interface Current {
  log: (chunk: string) => void;
  onCheckpoint?: ResidentRequest['onCheckpoint'];
  result?: string;
  output: string;
  stderrDone: boolean;
  resolve: (o: ExecOutcome) => void;
}

class Resident {
  readonly handle: ProcessHandle;
  /** Spare: its key becomes the script's once adopted. */
  key: string;
  launch: ResidentLaunch;
  private readonly nonce = randomBytes(12).toString('hex');
  private current: Current | undefined;
  private lastLog: ((chunk: string) => void) | undefined;
  private tail = '';
  dead = false;
  /** Stopped once its current job ends (restart() while it was busy). */
  retire = false;
  idleTimer: NodeJS.Timeout | undefined;
  private readonly ended: Promise<void>;

  constructor(
    key: string,
    readonly dir: string,
    launch: ResidentLaunch,
    env: Record<string, string | undefined>,
    onDeath: (r: Resident) => void,
  ) {
    this.key = key;
    this.launch = launch;
    const w = launch.command;
    // Spawned directly (not through the spawner helper): one fork per workflow, and every round
    // and step() checkpoint then travels one pipe instead of two pipes and an IPC channel.
    this.handle = startProcess({ cmd: w.cmd, args: w.args, cwd: dir, env: { ...env, ...w.env, WMILL_RESIDENT: this.nonce }, direct: true, sandbox: w.sandbox });
    const text = (chunk: string) => {
      this.tail = (this.tail + chunk).slice(-TAIL);
      if (this.current && this.launch.settle) this.current.output = (this.current.output + chunk).slice(-OUTPUT);
      (this.current?.log ?? this.lastLog)?.(chunk);
    };
    const out = new MarkerScanner(`\x1e${this.nonce} `, text, (payload) => {
      const c = this.current;
      if (!c) return;
      if (payload.startsWith('S ')) {
        // A step() checkpoint of the job (see the wrapper): recorded, then answered on stdin.
        const sp = payload.indexOf(' ', 2);
        const id = Number(payload.slice(2, sp));
        void this.checkpoint(c, payload.slice(sp + 1)).then((r) => {
          if (!this.dead) this.handle.write(`${JSON.stringify({ __reply: id, status: r.status, body: r.body })}\n`);
        });
        return;
      }
      c.result = payload.startsWith('R ') ? payload.slice(2) : payload;
      this.settle();
    });
    const err = new MarkerScanner(`\x1e${this.nonce}`, text, () => {
      if (!this.current) return;
      this.current.stderrDone = true;
      this.settle();
    });
    this.handle.attach((chunk, stream) => (stream === 'stdout' ? out : err).push(chunk));
    this.ended = this.handle.done.then((end) => {
      out.flush();
      err.flush();
      this.dead = true;
      if (this.idleTimer) clearTimeout(this.idleTimer);
      rmSync(this.dir, { recursive: true, force: true });
      onDeath(this);
      const c = this.current;
      this.current = undefined;
      c?.resolve(outcomeOf(end, { ok: false }, w.label, this.tail));
    });
  }

  private async checkpoint(c: Current, text: string): Promise<{ status: number; body: unknown }> {
    if (!c.onCheckpoint) return { status: 404, body: { error: 'no checkpoint endpoint for this job' } };
    try {
      return { status: 200, body: await c.onCheckpoint(JSON.parse(text)) };
    } catch (e) {
      return { status: 400, body: { error: (e as Error).message } };
    }
  }

  private settle(): void {
    const c = this.current;
    if (!c || c.result === undefined || !c.stderrDone) return;
    this.current = undefined;
    const sp = c.result.indexOf(' ');
    const code = Number(c.result.slice(0, sp));
    let value: unknown;
    try {
      value = JSON.parse(c.result.slice(sp + 1));
    } catch {
      c.resolve({ success: false, result: errorResult('ExecutionErr', `${this.launch.command.label} returned a result that is not JSON`) });
      return;
    }
    if (this.launch.settle) c.resolve(this.launch.settle(code, value, c.output));
    else if (code === 0) c.resolve({ success: true, result: value });
    else if (value && typeof value === 'object' && 'error' in value) c.resolve({ success: false, result: value });
    else c.resolve({ success: false, result: errorResult('ExecutionErr', `${this.launch.command.label} failed`) });
  }

  /** Run one job; an abort kills the process (the outcome then comes from its end). */
  run(input: Record<string, unknown>, log: (chunk: string) => void, signal: AbortSignal, onCheckpoint?: ResidentRequest['onCheckpoint']): Promise<ExecOutcome> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.tail = '';
    this.lastLog = log;
    return new Promise<ExecOutcome>((resolve) => {
      if (this.dead) {
        resolve({ success: false, result: errorResult('ExecutionErr', `${this.launch.command.label} is gone`) });
        return;
      }
      const onAbort = () => this.handle.kill();
      this.current = {
        log,
        onCheckpoint,
        output: '',
        stderrDone: false,
        resolve: (o) => {
          // The listener goes once this job is answered (the process lives on).
          signal.removeEventListener('abort', onAbort);
          resolve(o);
        },
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      // A job may name its own script (wmill dev: one resident per interpreter runs any script).
      const job = { script: this.launch.script, root: this.launch.root ?? null, ...input };
      this.handle.write(this.launch.encode ? this.launch.encode(job) : `${JSON.stringify(job)}\n`);
    });
  }

  stop(): Promise<void> {
    this.handle.kill();
    return this.ended;
  }
}

export class ResidentPool {
  private readonly idle = new Map<string, Resident[]>();
  private readonly all = new Set<Resident>();
  private readonly idleMs: number;
  private readonly maxIdlePerKey: number;
  private readonly maxIdle: number;
  private closed = false;

  constructor(private readonly opts: ResidentPoolOptions) {
    this.idleMs = opts.idleMs ?? 120_000;
    this.maxIdlePerKey = opts.maxIdlePerKey ?? 4;
    this.maxIdle = opts.maxIdle ?? 8;
  }

  /** Residents alive (busy or idle). */
  get size(): number {
    return this.all.size;
  }

  async run(req: ResidentRequest): Promise<ExecOutcome> {
    if (this.closed) return { success: false, result: errorResult('ExecutionErr', 'the runner is shutting down') };
    let r = this.takeIdle(req.key) ?? (await this.adoptSpare(req));
    if (!r) {
      r = await this.start(req);
      this.keepSpare(req);
    }
    const outcome = await r.run(req.input, req.log, req.signal, req.onCheckpoint);
    this.release(r);
    return outcome;
  }

  private takeIdle(key: string): Resident | undefined {
    const list = this.idle.get(key);
    while (list?.length) {
      const r = list.pop()!;
      if (!r.dead) return r;
    }
    return undefined;
  }

  private async start(req: ResidentRequest): Promise<Resident> {
    const dir = mkdtempSync(join(this.opts.tmpRoot, 'wmill-resident-'));
    let launch: ResidentLaunch;
    try {
      launch = await req.launch(dir);
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    const r = new Resident(req.key, dir, launch, req.env, (gone) => this.forget(gone));
    this.all.add(r);
    return r;
  }

  private readonly spares = new Map<string, Resident>();

  /** The spare of this interpreter set-up, made this script's resident (then a new spare starts). */
  private async adoptSpare(req: ResidentRequest): Promise<Resident | undefined> {
    const sp = req.spareKey ? this.spares.get(req.spareKey) : undefined;
    if (!sp || sp.dead) return undefined;
    this.spares.delete(req.spareKey!);
    if (sp.idleTimer) clearTimeout(sp.idleTimer);
    try {
      const launch = await req.launch(sp.dir);
      sp.key = req.key;
      sp.launch = launch;
    } catch (e) {
      void sp.stop();
      throw e;
    }
    this.keepSpare(req);
    return sp.dead ? undefined : sp;
  }

  /** Start a spare for this request's interpreter set-up unless one is there. */
  private keepSpare(req: ResidentRequest): void {
    const k = req.spareKey;
    if (!k || !req.spare || this.closed || this.spares.get(k)?.dead === false) return;
    const dir = mkdtempSync(join(this.opts.tmpRoot, 'wmill-resident-'));
    let command: WrapperCommand;
    try {
      command = req.spare(dir);
    } catch {
      rmSync(dir, { recursive: true, force: true });
      return;
    }
    const sp = new Resident(`spare\u0000${k}`, dir, { command, script: '' }, req.env, (gone) => {
      if (this.spares.get(k) === gone) this.spares.delete(k);
      this.forget(gone);
    });
    this.all.add(sp);
    this.spares.set(k, sp);
    sp.idleTimer = setTimeout(() => void sp.stop(), this.idleMs);
    sp.idleTimer.unref?.();
  }

  private forget(r: Resident): void {
    this.all.delete(r);
    const list = this.idle.get(r.key);
    if (!list) return;
    const i = list.indexOf(r);
    if (i !== -1) list.splice(i, 1);
    if (!list.length) this.idle.delete(r.key);
  }

  private release(r: Resident): void {
    if (r.dead) return;
    const list = this.idle.get(r.key) ?? [];
    if (this.closed || r.retire || list.length >= this.maxIdlePerKey) {
      void r.stop();
      return;
    }
    list.push(r);
    this.idle.set(r.key, list);
    r.idleTimer = setTimeout(() => void r.stop(), this.idleMs);
    r.idleTimer.unref?.();
    // Too many idle in all: the one idle longest goes.
    let idleCount = 0;
    for (const l of this.idle.values()) idleCount += l.length;
    if (idleCount > this.maxIdle) {
      const oldestKey = this.idle.keys().next().value as string;
      const victim = this.idle.get(oldestKey)!.shift();
      if (victim) void victim.stop();
    }
  }

  /** Pids of the residents alive (wmill dev reports them; tests check none outlives it). */
  pids(): number[] {
    return [...this.all].map((r) => r.handle.pid).filter((p): p is number => p !== undefined);
  }

  /** Stop every idle resident and spare (their set-up changed: package.json, requirements); busy ones finish their job first. */
  async restart(): Promise<void> {
    const idle = [...this.idle.values()].flat().concat([...this.spares.values()]);
    this.idle.clear();
    this.spares.clear();
    for (const r of this.all) r.retire = true;
    await Promise.all(idle.map((r) => r.stop()));
  }

  /** Stop every resident (the engine is closing). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.all].map((r) => r.stop()));
  }
}
