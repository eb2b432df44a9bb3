/**
 * The embedded database's data folder (`wmill serve --data DIR`, PGlite), guarded as PostgreSQL
 * guards its own:
 * - Modes: it holds the workspace keys and the token hashes, so it is created 0700 and a folder
 *   other users can read or write (any group/other bit), or one owned by another user, is
 *   refused with the fix (`chmod 700 DIR`). PGlite unpacks its initial files 0666 whatever the
 *   umask (files PostgreSQL creates later are 0600): tightenModes makes them 0600 (folders 0700).
 * - One process at a time: two servers on one folder each see only their own writes and lose
 *   the other's. `DIR/wmill-serve.pid` holds the owner's pid (PostgreSQL's postmaster.pid). It
 *   is created complete or not at all (written to a temp file, then hard-linked: link fails when
 *   the name exists); a lock whose process is gone (dead pid, or a pid reused by a process that
 *   started later) is stale and taken over. Two servers starting together on a stale lock are
 *   settled (one wins); three at once could, in a narrow window, both win (the takeover moves
 *   the file aside, and a fresh lock moved by mistake is put back with link, which a third may
 *   beat). A lock from another host (a shared filesystem) cannot be checked and is respected.
 *
 * Hand-written rather than proper-lockfile: that library decides staleness by an mtime it
 * refreshes on a timer, so an event loop stalled past its `stale` window (a loaded machine)
 * lets a second server in; and it records no pid, which the refusal must name.
 */
import { chmodSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { WmillError } from '../../errors.js';

export const LOCK_FILE = 'wmill-serve.pid';

interface Holder {
  pid: number;
  host: string;
  /** The process's start time in clock ticks since boot (Linux), to tell a reused pid apart. */
  start?: number;
}

/** Create the folder 0700, or check an existing one: a folder, ours, closed to others. */
export function checkDataDir(dir: string): void {
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700); // whatever the umask
    return;
  }
  if (!st.isDirectory()) throw new WmillError('usage', `${dir}: the data folder is not a folder; pass another --data`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new WmillError('usage', `${dir}: the data folder belongs to another user (uid ${st.uid}, this process runs as uid ${uid}); run wmill serve as its owner, or pass another --data`);
  }
  if (st.mode & 0o077) {
    const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
    throw new WmillError('usage', `${dir}: the data folder is open to other users (mode ${mode}) and holds workspace keys and token hashes; run \`chmod 700 ${dir}\` and start again`);
  }
}

/** Every file under `dir` 0600 and every folder 0700 (only those that are not already). */
export function tightenModes(dir: string): void {
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop()!;
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue; // removed meanwhile
      }
      if (st.isDirectory()) {
        if (st.mode & 0o077) chmodSync(p, 0o700);
        stack.push(p);
      } else if (st.isFile() && st.mode & 0o077) {
        chmodSync(p, 0o600);
      }
    }
  }
}

/** Process `pid`'s state letter and start time (clock ticks since boot), where /proc tells them. */
function procStat(pid: number): { state: string; start: number | undefined } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command (which may hold spaces and parentheses), from field 3.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const n = Number(f[19]); // field 22: starttime
    return { state: f[0] ?? '', start: Number.isFinite(n) ? n : undefined };
  } catch {
    return undefined;
  }
}

const processStart = (pid: number) => procStat(pid)?.start;

function readHolder(file: string): Holder | 'gone' | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw e;
  }
  try {
    const v = JSON.parse(text) as Holder;
    if (Number.isSafeInteger(v?.pid) && v.pid > 0 && typeof v.host === 'string') return v;
  } catch {
    /* below */
  }
  return 'unreadable';
}

/** Whether the holder's process still runs (a lock from another host is assumed held). */
function holderAlive(h: Holder): boolean {
  if (h.host !== hostname()) return true;
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  // The pid exists: the same process, unless it exited and waits to be reaped (a zombie), or
  // the pid was reused by a process that started at another time.
  const now = procStat(h.pid);
  if (now?.state === 'Z' || now?.state === 'X') return false;
  if (h.start !== undefined && now?.start !== undefined && now.start !== h.start) return false;
  return true;
}

const sameHolder = (a: Holder | 'gone' | 'unreadable', b: Holder) => typeof a === 'object' && a.pid === b.pid && a.host === b.host && a.start === b.start;

export interface DataDirLock {
  release(): void;
}

/** Take the folder's lock, or refuse (usage error naming the pid) when a live process holds it. */
export function lockDataDir(dir: string): DataDirLock {
  const file = join(dir, LOCK_FILE);
  const me: Holder = { pid: process.pid, host: hostname(), start: processStart(process.pid) };
  const text = `${JSON.stringify(me)}\n`;
  const rnd = () => `${process.pid}.${randomBytes(4).toString('hex')}`;
  for (let attempt = 0; attempt < 10; attempt++) {
    const tmp = `${file}.${rnd()}`;
    writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
    let taken = false;
    try {
      linkSync(tmp, file);
      taken = true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') {
        // A filesystem without hard links: an exclusive create (the content follows at once).
        try {
          writeFileSync(file, text, { mode: 0o600, flag: 'wx' });
          taken = true;
        } catch (e2) {
          if ((e2 as NodeJS.ErrnoException).code !== 'EEXIST') throw e2;
        }
      }
    } finally {
      unlinkSync(tmp);
    }
    if (taken) return holdLock(file, me);

    const holder = readHolder(file);
    if (holder === 'gone') continue; // released meanwhile
    if (holder === 'unreadable') {
      throw new WmillError('usage', `${dir}: the lock file ${LOCK_FILE} is not one wmill serve wrote; if no wmill serve uses this folder, delete ${file} and start again`);
    }
    if (holderAlive(holder)) {
      const where = holder.host === me.host ? '' : ` on host ${holder.host}`;
      throw new WmillError('usage', `${dir}: the data folder is in use by another wmill serve (pid ${holder.pid}${where}); stop it first, or pass another --data`, { pid: holder.pid, host: holder.host });
    }
    // Stale: move it aside (atomic), and check that what moved is the stale lock and not one
    // another starting server took meanwhile (then put that back: it is theirs).
    const aside = `${file}.stale.${rnd()}`;
    try {
      renameSync(file, aside);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    const moved = readHolder(aside);
    if (!sameHolder(moved, holder)) {
      try {
        linkSync(aside, file);
      } catch {
        /* another took the name: the next attempt sees it */
      }
    }
    unlinkSync(aside);
  }
  throw new WmillError('usage', `${dir}: could not take the data folder's lock (${file}) after several attempts; is another wmill serve starting?`);
}

function holdLock(file: string, me: Holder): DataDirLock {
  const release = () => {
    process.removeListener('exit', release);
    // Only our own lock: never one a later owner wrote after ours was (wrongly) taken over.
    if (sameHolder(readHolderQuiet(file), me)) {
      try {
        unlinkSync(file);
      } catch {
        /* gone already */
      }
    }
  };
  process.on('exit', release);
  return { release };
}

function readHolderQuiet(file: string): Holder | 'gone' | 'unreadable' {
  try {
    return readHolder(file);
  } catch {
    return 'unreadable';
  }
}
