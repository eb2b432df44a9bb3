/**
 * The embedded data folder of `wmill serve` (issue 13 item 6, issue 14 item 7): created 0700
 * with 0600 files, refused when other users can read or write it (exit 2, one line with the
 * fix), and held by one server at a time: a second `wmill serve` on it exits 2 naming the pid of
 * the first; a lock left by a killed server is taken over. Real `wmill serve` processes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_TOKEN, Api, spawnServe } from './helpers/server.js';
import { BIN } from './helpers/workspace.js';
import { LOCK_FILE, lockDataDir } from '../src/server/db/data-dir.js';
import { WmillError } from '../src/errors.js';

let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'wmill-datadir-'));
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** `wmill serve` expected to refuse: its exit code and output. */
function serveOnce(data: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data', data], {
    env: { ...process.env, WMILL_ADMIN_TOKEN: ADMIN_TOKEN, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

function modes(dir: string): { dirs: Set<string>; files: Set<string> } {
  const dirs = new Set<string>([(statSync(dir).mode & 0o777).toString(8)]);
  const files = new Set<string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) {
        dirs.add((st.mode & 0o777).toString(8));
        walk(p);
      } else if (st.isFile()) files.add((st.mode & 0o777).toString(8));
    }
  };
  walk(dir);
  return { dirs, files };
}

const errorLines = (r: { stderr: string }) => r.stderr.split('\n').filter((l) => l.startsWith('error:'));

describe('the data folder is private', () => {
  it('a new folder is created 0700 and everything in it is 0700 (folders) or 0600 (files)', async () => {
    const data = join(tmp, 'fresh', 'data');
    const s = await spawnServe(['--data', data]);
    try {
      const api = new Api(s.url, ADMIN_TOKEN);
      expect((await api.deploy({ path: 'u/admin/m', language: 'bash', content: 'echo m\n' })).length).toBeGreaterThan(0);
    } finally {
      await s.stop();
    }
    const m = modes(data);
    expect([...m.dirs]).toEqual(['700']);
    expect([...m.files]).toEqual(['600']);
    expect(m.files.size).toBeGreaterThan(0);
  }, 180_000);

  it('a folder other users can read or write is refused with the fix, and left untouched', async () => {
    for (const mode of [0o755, 0o770, 0o705, 0o701]) {
      const data = join(tmp, `open-${mode.toString(8)}`);
      mkdirSync(data);
      chmodSync(data, mode);
      const r = await serveOnce(data);
      expect(r.code, r.stdout + r.stderr).toBe(2);
      const errors = errorLines(r);
      expect(errors, r.stderr).toHaveLength(1);
      expect(errors[0]).toContain(`chmod 700 ${data}`);
      expect(errors[0]).toContain(`mode 0${mode.toString(8)}`);
      expect(readdirSync(data)).toEqual([]);
    }
  }, 180_000);

  it.runIf(process.getuid?.() === 0)('a folder owned by another user is refused', async () => {
    const data = join(tmp, 'theirs');
    mkdirSync(data, { mode: 0o700 });
    chownSync(data, 65534, 65534);
    const r = await serveOnce(data);
    expect(r.code, r.stderr).toBe(2);
    expect(errorLines(r)).toEqual([expect.stringMatching(/belongs to another user \(uid 65534/)]);
    expect(readdirSync(data)).toEqual([]);
  }, 120_000);
});

describe('one server per data folder', () => {
  it('a second wmill serve on the same folder exits 2 naming the pid of the first; after it stops, the folder is free', async () => {
    const data = join(tmp, 'shared');
    const first = await spawnServe(['--data', data]);
    let third: Awaited<ReturnType<typeof spawnServe>> | undefined;
    try {
      const api = new Api(first.url, ADMIN_TOKEN);
      await api.deploy({ path: 'u/admin/kept', language: 'bash', content: 'echo kept\n' });
      const second = await serveOnce(data);
      expect(second.code, second.stdout + second.stderr).toBe(2);
      const errors = errorLines(second);
      expect(errors, second.stderr).toHaveLength(1);
      expect(errors[0]).toContain(`(pid ${first.child.pid})`);
      expect(errors[0]).toContain(data);
      // The first one still works and still has its write.
      expect((await api.runWait('u/admin/kept')).result).toBe('kept');
      await first.stop();
      expect(existsSync(join(data, LOCK_FILE))).toBe(false);
      third = await spawnServe(['--data', data]);
      expect((await new Api(third.url, ADMIN_TOKEN).runWait('u/admin/kept')).result).toBe('kept');
    } finally {
      await first.stop();
      await third?.stop();
    }
  }, 240_000);

  it('the lock of a server killed with SIGKILL is taken over by the next one, with every confirmed write', async () => {
    const data = join(tmp, 'killed');
    const a = await spawnServe(['--data', data]);
    const api = new Api(a.url, ADMIN_TOKEN);
    for (let i = 0; i < 5; i++) await api.deploy({ path: `u/admin/w${i}`, language: 'bash', content: `echo ${i}\n` });
    a.child.kill('SIGKILL');
    await new Promise((r) => (a.child.exitCode !== null || a.child.signalCode ? r(null) : a.child.once('exit', r)));
    expect(JSON.parse(readFileSync(join(data, LOCK_FILE), 'utf8')).pid).toBe(a.child.pid);
    const b = await spawnServe(['--data', data]);
    try {
      const listed = (await new Api(b.url, ADMIN_TOKEN).get('scripts/list')).json as { path: string }[];
      expect(listed.map((s) => s.path).sort()).toEqual(['u/admin/w0', 'u/admin/w1', 'u/admin/w2', 'u/admin/w3', 'u/admin/w4']);
      expect(JSON.parse(readFileSync(join(data, LOCK_FILE), 'utf8')).pid).toBe(b.child.pid);
    } finally {
      await b.stop();
    }
  }, 240_000);

  it('lock files: a live holder is named, a reused pid or a dead one is stale, a foreign host is respected, garbage is refused', async () => {
    const dir = join(tmp, 'locks');
    mkdirSync(dir, { mode: 0o700 });
    const file = join(dir, LOCK_FILE);
    const refusal = (): string => {
      try {
        lockDataDir(dir).release();
      } catch (e) {
        expect(e).toBeInstanceOf(WmillError);
        expect((e as WmillError).exitCode).toBe(2);
        return (e as Error).message;
      }
      throw new Error('not refused');
    };
    // A live process of ours (a sleeping child), with its real start time: held.
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120000)'], { stdio: 'ignore' });
    try {
      const stat = readFileSync(`/proc/${sleeper.pid}/stat`, 'utf8');
      const start = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
      writeFileSync(file, JSON.stringify({ pid: sleeper.pid, host: hostname(), start }));
      expect(refusal()).toContain(`(pid ${sleeper.pid})`);
      // The same pid with another start time: the pid was reused, the lock is stale.
      writeFileSync(file, JSON.stringify({ pid: sleeper.pid, host: hostname(), start: start + 1 }));
      const l = lockDataDir(dir);
      expect(JSON.parse(readFileSync(file, 'utf8')).pid).toBe(process.pid);
      // Held by this process now: a second taker is refused, naming us.
      expect(refusal()).toContain(`(pid ${process.pid})`);
      l.release();
      expect(existsSync(file)).toBe(false);
    } finally {
      sleeper.kill('SIGKILL');
    }
    // A dead pid: stale.
    const dead = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((r) => dead.once('exit', r));
    writeFileSync(file, JSON.stringify({ pid: dead.pid, host: hostname() }));
    lockDataDir(dir).release();
    // Another host: cannot be checked from here, so it is held.
    writeFileSync(file, JSON.stringify({ pid: 12345, host: 'elsewhere.example' }));
    expect(refusal()).toMatch(/pid 12345 on host elsewhere\.example/);
    // Not a lock we wrote: refused, with what to do.
    writeFileSync(file, 'garbage');
    expect(refusal()).toMatch(/delete .*wmill-serve\.pid/);
    // Nothing else was left behind by the attempts.
    expect(readdirSync(dir)).toEqual([LOCK_FILE]);
  });
});
