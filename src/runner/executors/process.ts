/**
 * Child processes for jobs. Each job runs detached in its own process group so that a cancel,
 * a timeout or Ctrl-C on wmill kills the whole tree (the script and anything it started), and
 * so that a terminal's SIGINT reaches wmill only (wmill decides, then kills the group).
 *
 * A process can be started before its job is known (a "prewarmed" interpreter waiting for its
 * input on stdin): output produced before `attach` is buffered, and the abort signal can be
 * bound later.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { sandboxed, type SandboxConfig } from './sandbox.js';
import { spawnerActive, startRemoteProcess } from './spawner.js';

export interface SpawnSpec {
  cmd: string;
  args: string[];
  cwd: string;
  env: Record<string, string | undefined>;
  /** SIGTERM first, then SIGKILL after this many ms (default 2000). */
  graceMs?: number;
  /** Spawn from this process even when the spawner helper runs (long-lived processes: no relay hop). */
  direct?: boolean;
  /** Run inside this job sandbox (serve, worker: executors/sandbox.ts). */
  sandbox?: SandboxConfig;
}

export interface ProcessSpec extends SpawnSpec {
  onOutput: (chunk: string, stream: 'stdout' | 'stderr') => void;
  /** Aborting kills the process group. */
  signal: AbortSignal;
  /** Written to the process's stdin, which is then closed. */
  input?: string;
}

export interface ProcessEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The process could not be started (e.g. the interpreter is not installed). */
  spawnError?: NodeJS.ErrnoException;
  /** It was killed because the signal was aborted (or kill() was called). */
  aborted: boolean;
  pid?: number;
}

export function killGroup(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, sig);
    return true;
  } catch {
    return false;
  }
}

export interface ProcessHandle {
  readonly pid: number | undefined;
  /** Resolves when the process is gone and its output is drained. */
  readonly done: Promise<ProcessEnd>;
  /** Deliver output (including what was buffered so far) to `onOutput`. */
  attach(onOutput: ProcessSpec['onOutput']): void;
  /** Kill the group when `signal` aborts (at once if it already has). */
  bindSignal(signal: AbortSignal): void;
  /** Write `input` to stdin and close it. */
  send(input: string): void;
  /** Write to stdin and keep it open (a resident process reads one job per line). */
  write(data: string): void;
  /** Kill the process group (SIGTERM, then SIGKILL after the grace period). */
  kill(): void;
}

/** A process's output, held until someone attaches (a prewarmed process may print before its job is known). */
export function outputBuffer() {
  let sink: ProcessSpec['onOutput'] | undefined;
  const buffered: [string, 'stdout' | 'stderr'][] = [];
  return {
    emit(text: string, s: 'stdout' | 'stderr') {
      if (!text) return;
      if (sink) sink(text, s);
      else buffered.push([text, s]);
    },
    attach(onOutput: ProcessSpec['onOutput']) {
      sink = onOutput;
      for (const [t, s] of buffered.splice(0)) onOutput(t, s);
    },
  };
}

/** Kill when `signal` aborts (at once if it already has), until the process is `done`. */
export function bindAbort(signal: AbortSignal, kill: () => void, done: Promise<unknown>): void {
  if (signal.aborted) kill();
  else signal.addEventListener('abort', kill, { once: true });
  void done.then(() => signal.removeEventListener('abort', kill));
}

export function startProcess(given: SpawnSpec): ProcessHandle {
  // Every job process of a server starts in its sandbox, whoever forks it (here or the spawner helper).
  const spec: SpawnSpec = given.sandbox ? { ...given, ...sandboxed(given.sandbox, given), sandbox: undefined } : given;
  if (!spec.direct && spawnerActive()) return startRemoteProcess(spec);
  let child: ChildProcess | undefined;
  let spawnError: NodeJS.ErrnoException | undefined;
  try {
    child = spawn(spec.cmd, spec.args, { cwd: spec.cwd, env: spec.env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (e) {
    spawnError = e as NodeJS.ErrnoException;
  }
  const pid = child?.pid;
  let aborted = false;
  let killTimer: NodeJS.Timeout | undefined;
  const output = outputBuffer();
  const emit = output.emit;

  let over = false;
  const kill = () => {
    if (aborted || over || pid === undefined) return;
    aborted = true;
    killGroup(pid, 'SIGTERM');
    killTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), spec.graceMs ?? 2000);
    killTimer.unref?.();
  };

  const done = new Promise<ProcessEnd>((resolve) => {
    if (!child || spawnError) {
      resolve({ code: null, signal: null, spawnError, aborted: false });
      return;
    }
    const c = child;
    let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let finished = false;
    let openStreams = 2;
    const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
    const finish = (end: ProcessEnd) => {
      if (finished) return;
      finished = true;
      if (killTimer) clearTimeout(killTimer);
      for (const s of ['stdout', 'stderr'] as const) emit(decoders[s].end(), s);
      resolve(end);
    };
    for (const s of ['stdout', 'stderr'] as const) {
      const stream = c[s]!;
      stream.on('data', (b: Buffer) => emit(decoders[s].write(b), s));
      stream.on('close', () => {
        openStreams--;
        if (openStreams === 0 && exited) finish({ ...exited, aborted, pid });
      });
    }
    // EPIPE when the process died before reading its input: the exit status tells the story.
    c.stdin?.on('error', () => {});
    c.on('error', (e: NodeJS.ErrnoException) => {
      if (pid === undefined || e.code === 'ENOENT' || e.code === 'EACCES') finish({ code: null, signal: null, spawnError: e, aborted, pid });
    });
    c.on('exit', (code, signal) => {
      exited = { code, signal };
      // Whatever the script left behind in its group goes with it.
      if (pid !== undefined) killGroup(pid, 'SIGKILL');
      if (openStreams === 0) finish({ ...exited, aborted, pid });
      else {
        // A process outside the group (setsid) may still hold our pipes: do not wait for it.
        const t = setTimeout(() => {
          c.stdout?.destroy();
          c.stderr?.destroy();
          finish({ ...exited!, aborted, pid });
        }, 1000);
        t.unref?.();
      }
    });
  });

  void done.then(() => {
    over = true;
  });

  return {
    pid,
    done,
    attach: output.attach,
    bindSignal: (signal) => bindAbort(signal, kill, done),
    send(input) {
      if (!child?.stdin || child.stdin.destroyed) return;
      child.stdin.end(input);
    },
    write(data) {
      if (!child?.stdin || child.stdin.destroyed) return;
      child.stdin.write(data);
    },
    kill,
  };
}

/** Start, feed, wait: a process for one job. */
export function runProcess(spec: ProcessSpec): Promise<ProcessEnd> {
  const h = startProcess(spec);
  h.attach(spec.onOutput);
  h.bindSignal(spec.signal);
  h.send(spec.input ?? '');
  return h.done;
}
