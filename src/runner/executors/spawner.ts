/**
 * Job processes started through a small helper process (`spawner.mjs`, src/runner/assets.ts)
 * instead of by the server itself: a fork from a process holding PGlite's hundreds of MB costs
 * 30-50 ms and blocks the event loop meanwhile; from the helper, a few ms. `wmill serve` and
 * `wmill worker` start it before opening the database. Same ProcessHandle contract as a direct
 * spawn: the job still runs detached in its own process group (killed from here by pid), output
 * streams back, the exit status arrives after the output is drained.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { assetDir } from '../assets.js';
import { allowListedEnv } from '../job-env.js';
import { bindAbort, killGroup, outputBuffer, type ProcessEnd, type ProcessHandle, type SpawnSpec } from './process.js';

type Msg =
  | { t: 'spawned'; id: number; pid: number }
  | { t: 'error'; id: number; code?: string; message: string }
  | { t: 'out'; id: number; s: 'stdout' | 'stderr'; b: Uint8Array }
  | { t: 'exit'; id: number; code: number | null; signal: NodeJS.Signals | null };

let helper: ChildProcess | undefined;
let seq = 0;
const listeners = new Map<number, (m: Msg) => void>();

/** Start the helper (idempotent). Call before the process grows. */
export function startSpawner(): void {
  if (helper) return;
  // Every job process gets its environment from the spawn message: the helper itself starts from
  // the allow-list only, so the server's secrets are not in the environment of a job's parent either.
  const h = fork(join(assetDir(), 'spawner.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced', env: allowListedEnv() });
  h.on('message', (m: Msg) => listeners.get(m.id)?.(m));
  h.on('exit', () => {
    helper = undefined;
    // Jobs in flight lose their process: report them as killed.
    for (const [id, l] of listeners) l({ t: 'exit', id, code: null, signal: 'SIGKILL' });
  });
  h.unref();
  (h as unknown as { channel?: { unref(): void } }).channel?.unref();
  helper = h;
}

export function stopSpawner(): void {
  helper?.kill();
  helper = undefined;
}

export const spawnerActive = (): boolean => !!helper?.connected;


export function startRemoteProcess(spec: SpawnSpec): ProcessHandle {
  const id = ++seq;
  let pid: number | undefined;
  let aborted = false;
  let over = false;
  let killWanted = false;
  let killTimer: NodeJS.Timeout | undefined;
  const output = outputBuffer();
  const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  const emit = output.emit;
  const doKill = () => {
    if (pid === undefined) return;
    killGroup(pid, 'SIGTERM');
    killTimer = setTimeout(() => pid !== undefined && killGroup(pid, 'SIGKILL'), spec.graceMs ?? 2000);
    killTimer.unref?.();
  };
  const kill = () => {
    if (aborted || over) return;
    aborted = true;
    if (pid === undefined) killWanted = true;
    else doKill();
  };
  const done = new Promise<ProcessEnd>((resolve) => {
    listeners.set(id, (m) => {
      if (m.t === 'spawned') {
        pid = m.pid;
        if (killWanted) doKill();
      } else if (m.t === 'out') emit(decoders[m.s].write(Buffer.from(m.b)), m.s);
      else {
        listeners.delete(id);
        over = true;
        if (killTimer) clearTimeout(killTimer);
        for (const s of ['stdout', 'stderr'] as const) emit(decoders[s].end(), s);
        if (m.t === 'error') {
          resolve({ code: null, signal: null, spawnError: Object.assign(new Error(m.message), { code: m.code }) as NodeJS.ErrnoException, aborted: false });
        } else resolve({ code: m.code, signal: m.signal, aborted, pid });
      }
    });
  });
  helper!.send({ t: 'spawn', id, cmd: spec.cmd, args: spec.args, cwd: spec.cwd, env: Object.fromEntries(Object.entries(spec.env).filter(([, v]) => v !== undefined)) });
  return {
    get pid() {
      return pid;
    },
    done,
    attach: output.attach,
    bindSignal: (signal) => bindAbort(signal, kill, done),
    send(input) {
      helper?.send({ t: 'stdin', id, data: input });
    },
    write(data) {
      helper?.send({ t: 'write', id, data });
    },
    kill,
  };
}
