/**
 * `wmill serve --workers 0` + `wmill worker` processes on one PostgreSQL queue: 2,000 jobs are
 * each claimed and completed exactly once and spread over both workers; a worker killed with
 * SIGKILL mid-job stops sending heartbeats, its job is re-queued and completes on another worker.
 * Everything runs as real child processes (bin/wmill.mjs: `npm run build` first).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, Api, freshDatabase, spawnServe } from './helpers/server.js';
import { BIN } from './helpers/workspace.js';
import { alive, holderGroup } from './helpers/processes.js';

// Generous: a live worker's heartbeat (every second) may come late on a loaded machine, and
// another process's sweep must not take its jobs then (the 2,000 jobs run exactly once).
const TIMEOUT_S = '10';

interface Worker {
  name: string;
  child: ChildProcess;
  stderr: () => string;
}

let db: Awaited<ReturnType<typeof freshDatabase>>;
let serve: Awaited<ReturnType<typeof spawnServe>>;
let serveLog = '';
let api: Api;
let client: pg.Client;
const workers: Worker[] = [];
const strayGroups: number[] = [];
const tmp = mkdtempSync(join(tmpdir(), 'wmill-serve-workers-'));

async function startWorker(name: string): Promise<Worker> {
  const child = spawn(process.execPath, [BIN, 'worker', '--concurrency', '4', '--name', name], {
    // Jobs run sandboxed: the test's folder is shown to them, writable (as root without capabilities).
    env: { ...process.env, DATABASE_URL: db.url, WMILL_WORKER_TIMEOUT_S: TIMEOUT_S, NO_COLOR: '1', WMILL_SANDBOX_RW: tmp, WMILL_SANDBOX_UID: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stdout!.resume();
  child.stderr!.on('data', (d) => (err += d));
  const w = { name, child, stderr: () => err };
  workers.push(w);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker ${name} did not start: ${err}`)), 60_000);
    const check = () => {
      if (err.includes(`wmill worker ${name} started`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stderr!.on('data', check);
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`worker ${name} exited (${code ?? sig}): ${err}`));
    });
  });
  return w;
}

async function stopChild(c: ChildProcess, sig: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (c.exitCode !== null || c.signalCode) return;
  const done = new Promise((r) => c.once('exit', r));
  c.kill(sig);
  const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
  await done;
  clearTimeout(t);
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

beforeAll(async () => {
  db = await freshDatabase();
  serve = await spawnServe(['--workers', '0'], { DATABASE_URL: db.url, WMILL_WORKER_TIMEOUT_S: TIMEOUT_S });
  serve.child.stderr!.on('data', (d) => (serveLog += d));
  api = new Api(serve.url, ADMIN_TOKEN);
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await Promise.all([startWorker('w1'), startWorker('w2')]);
});

afterAll(async () => {
  for (const g of strayGroups) {
    try {
      process.kill(-g, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  await Promise.all(workers.map((w) => stopChild(w.child).catch(() => undefined)));
  if (serve) await serve.stop().catch(() => undefined);
  await client?.end().catch(() => undefined);
  await db?.drop().catch(() => undefined);
  rmSync(tmp, { recursive: true, force: true });
});

describe('wmill serve --workers 0 + wmill worker (PostgreSQL)', () => {
  it('runs 2,000 jobs, each claimed and completed exactly once, on both workers', async () => {
    await api.deploy({ path: 'f/load/echo', language: 'bash', content: 'n="$1"\necho "$n"\n' });
    const N = 2000;
    const ids = new Array<string>(N);
    let next = 0;
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < N) {
          const i = next++;
          const r = await api.post('jobs/run/p/f/load/echo', { n: `v${i}` });
          if (r.status !== 201) throw new Error(`run/p: ${r.status} ${r.text}`);
          ids[i] = r.text;
        }
      }),
    );
    const queuedMs = Date.now() - t0;
    await until(
      'all jobs to complete',
      async () => (await client.query(`SELECT count(*)::int AS n FROM job WHERE status IN ('queued', 'running')`)).rows[0].n === 0,
      600_000,
      200,
    );
    const doneMs = Date.now() - t0;
    console.log(`2000 jobs: queued in ${queuedMs} ms, all complete after ${doneMs} ms (${((N * 1000) / doneMs).toFixed(0)} jobs/s)`);

    const { rows } = await client.query(`SELECT id, status, runs, worker, args, result FROM job WHERE path = 'f/load/echo'`);
    expect(rows).toHaveLength(N);
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(new Set(ids).size).toBe(N);
    const bad = rows.filter((r) => r.status !== 'success' || r.runs !== 1);
    expect(bad.slice(0, 5)).toEqual([]);
    ids.forEach((id, i) => {
      const r = byId.get(id)!;
      expect(r.args).toEqual({ n: `v${i}` });
      expect(r.result).toBe(`v${i}`);
    });
    const perWorker: Record<string, number> = {};
    for (const r of rows) perWorker[r.worker] = (perWorker[r.worker] ?? 0) + 1;
    console.log(`jobs per worker: ${JSON.stringify(perWorker)}`);
    expect(Object.keys(perWorker).sort()).toEqual(['w1', 'w2']);
    expect(perWorker.w1).toBeGreaterThan(0);
    expect(perWorker.w2).toBeGreaterThan(0);
    const left = await client.query(`SELECT count(*)::int AS n FROM job WHERE status IN ('queued', 'running')`);
    expect(left.rows[0].n).toBe(0);
  }, 660_000);

  it('re-queues the job of a SIGKILLed worker and completes it on another worker', async () => {
    const marks = join(tmp, 'marks');
    // Sleeps on its first run only: the re-run (marks not empty) finishes at once. It prints its
    // line before it marks that it runs.
    const content = [
      'n="$1"',
      `f='${marks}'`,
      'if [ -s "$f" ]; then again=1; else again=0; fi',
      'echo "run of $n, again=$again"',
      // Held open while it runs: the test finds the job's process by it (its $$ is its sandbox's).
      'exec 3>>"$f"',
      'echo "$n $$" >&3',
      'if [ "$again" = 0 ]; then sleep 30; fi',
      'echo "done $n"',
      '',
    ].join('\n');
    await api.deploy({ path: 'f/load/slow', language: 'bash', content });
    const r = await api.post('jobs/run/p/f/load/slow', { n: 'k1' });
    expect(r.status).toBe(201);
    const id = r.text;

    const first = await until('the job to start', async () => {
      if (!existsSync(marks)) return undefined;
      const line = readFileSync(marks, 'utf8').split('\n').filter(Boolean)[0];
      const row = (await client.query(`SELECT status, worker, runs FROM job WHERE id = $1`, [id])).rows[0];
      const group = line && row?.status === 'running' ? holderGroup(marks) : 0;
      return group ? { pid: group, worker: row.worker as string } : undefined;
    }, 120_000, 50);
    // What the job printed is stored (what a worker stores survives it; output it read but had
    // not stored yet when killed, at most one store round trip's worth, is lost: README, Delivery).
    await until('the first run\'s line to be stored', async () => (await api.get(`jobs_u/get_logs/${id}`)).text.includes('run of k1, again=0'), 120_000, 50);
    strayGroups.push(first.pid);
    const victim = workers.find((w) => w.name === first.worker)!;
    expect(victim).toBeDefined();
    // The worker's last heartbeat is no earlier than this one (database clock).
    const lastPingAtLeast = (await client.query(`SELECT ping FROM job WHERE id = $1 AND status = 'running'`, [id])).rows[0]?.ping as Date;
    expect(lastPingAtLeast).toBeInstanceOf(Date);
    const t0 = Date.now();

    // The worker dies first (no clean shutdown, no cancel); then its orphaned job process.
    victim.child.kill('SIGKILL');
    await new Promise((res) => (victim.child.exitCode !== null || victim.child.signalCode ? res(null) : victim.child.once('exit', res)));
    try {
      process.kill(-first.pid, 'SIGKILL');
    } catch {
      /* already gone with its worker (a sandboxed job dies with its parent) */
    }
    await until('the orphaned job process to go', async () => !alive(first.pid), 30_000, 20);
    const replacement = await startWorker('w3');

    const done = await api.waitJob(id, 120_000);
    const tookMs = Date.now() - t0;
    console.log(`re-queued and completed ${tookMs} ms after the kill (timeout ${TIMEOUT_S} s)`);
    expect(done).toMatchObject({ completed: true, success: true, result: 'done k1' });
    const row = (await client.query(`SELECT status, runs, worker, started_at FROM job WHERE id = $1`, [id])).rows[0];
    expect(row.status).toBe('success');
    expect(row.runs).toBe(2);
    expect(row.worker).not.toBe(victim.name);
    expect(workers.filter((w) => w !== victim).map((w) => w.name)).toContain(row.worker);
    // Re-queued only once the heartbeats had stopped for the timeout: the second run started (its
    // started_at, database clock) no sooner than the timeout after the last heartbeat.
    expect(row.started_at.getTime() - lastPingAtLeast.getTime()).toBeGreaterThanOrEqual(Number(TIMEOUT_S) * 1000);
    const lines = readFileSync(marks, 'utf8').split('\n').filter(Boolean);
    expect(lines).toHaveLength(2);
    const logs = await api.get(`jobs_u/get_logs/${id}`);
    expect(logs.text).toContain('run of k1, again=0');
    expect(logs.text).toMatch(/worker stopped sending heartbeats; job re-queued/);
    expect(logs.text).toContain('run of k1, again=1');
    expect(replacement.child.exitCode).toBeNull();
    if (/re-queued 1 job/.test(serveLog)) console.log('serve logged the re-queue');
  }, 600_000);
});
