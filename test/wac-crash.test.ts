/**
 * A durable workflow survives its worker's death at the worst moments (PostgreSQL, real
 * `wmill serve --workers 0` and `wmill worker` processes). The moment is not left to chance or
 * machine load: the test holds a lock the worker's next statement needs, waits until the worker
 * is blocked on it, then kills the worker (SIGKILL) and ends its database session, as a crash at
 * exactly that point would. A new worker must then finish the workflow:
 *
 * - between a task's completion and the parent workflow recording it (the parent row is locked);
 * - between the parent parking for a task and the task's job being queued (inserting a child
 *   job waits on an advisory lock, through a trigger).
 *
 * Each side effect happens at least once; one whose task was in flight at the crash may happen
 * twice, never more.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, Api, freshDatabase, spawnServe, spawnWorker, until } from './helpers/server.js';

// The dead worker's job is re-queued after this; generous, so that a live worker's late heartbeat
// (a loaded machine) never has serve's sweep take its jobs, which would add runs to count.
const TIMEOUT_S = '8';
const ENV: Record<string, string> = { WMILL_WORKER_TIMEOUT_S: TIMEOUT_S };

let db: Awaited<ReturnType<typeof freshDatabase>>;
let serve: Awaited<ReturnType<typeof spawnServe>>;
let api: Api;
/** The test's own session: it takes the locks that stop a worker at a chosen statement. */
let client: pg.Client;
let myPid: number;
const workers: Awaited<ReturnType<typeof spawnWorker>>[] = [];
const tmp = mkdtempSync(join(tmpdir(), 'wmill-wac-crash-'));
// Jobs on serve run sandboxed: the folder where their tasks leave what the test reads is shown
// to them, writable (as root without capabilities, so the test's own files stay writable).
Object.assign(ENV, { WMILL_SANDBOX_RW: tmp, WMILL_SANDBOX_UID: '0' });

// Task i appends i to <dir>/effects; task 0 first waits for <dir>/go (the test's cue).
const WORKFLOW = `import { workflow, task } from "windmill-client";
const effect = task(async function effect(i: number, dir: string) {
  const fs = await import("node:fs");
  while (i === 0 && !fs.existsSync(dir + "/go")) await new Promise((r) => setTimeout(r, 20));
  fs.appendFileSync(dir + "/effects", i + "\\n");
  return i * 10;
});
export const main = workflow(async (n: number, dir: string) => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await effect(i, dir));
  return out;
});
`;

beforeAll(async () => {
  db = await freshDatabase();
  serve = await spawnServe(['--workers', '0'], { DATABASE_URL: db.url, ...ENV });
  api = new Api(serve.url, ADMIN_TOKEN);
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  myPid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
  await api.deploy({ path: 'f/crash/wf', language: 'bun', content: WORKFLOW });
}, 180_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop().catch(() => undefined)));
  await serve?.stop().catch(() => undefined);
  await client?.end().catch(() => undefined);
  await db?.drop().catch(() => undefined);
  rmSync(tmp, { recursive: true, force: true });
});

/** A worker of this test (each test stops its own, so the next test's crash hits only its worker). */
async function worker(name: string) {
  await Promise.all(workers.map((w) => w.stop()));
  const w = await spawnWorker(name, db.url, ENV, ['--concurrency', '2']);
  workers.push(w);
  return w;
}

/** The backend (other than ours) waiting on a lock this test's session holds. */
async function blockedByUs(): Promise<{ pid: number; query: string } | undefined> {
  // Statistics views are a snapshot per transaction: take a fresh one (the test asks inside its own).
  await client.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await client.query(`SELECT pid, query FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, [myPid]);
  return rows[0];
}

/** The crash: SIGKILL the worker, then end its database session (its open statement rolls back). */
async function crash(w: Awaited<ReturnType<typeof spawnWorker>>, backend: number): Promise<void> {
  const exited = new Promise((r) => (w.child.exitCode !== null || w.child.signalCode ? r(null) : w.child.once('exit', r)));
  w.child.kill('SIGKILL');
  await exited;
  await client.query('SELECT pg_terminate_backend($1)', [backend]);
  await until('the dead worker\'s session to end', async () => {
    await client.query('SELECT pg_stat_clear_snapshot()');
    return (await client.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [backend])).rowCount === 0;
  }, 30_000);
}

async function jobRows(parent: string): Promise<string> {
  const { rows } = await client.query(
    `SELECT id, status, suspend, runs, worker, spec->>'wacKey' AS key FROM job WHERE id::text = $1 OR spec->>'parentJob' = $1 ORDER BY created_at`,
    [parent],
  );
  return JSON.stringify(rows);
}

/** The workflow finishes with every task's value; each effect happened once, the one in flight at most twice. */
async function expectFinished(id: string, dir: string, inFlight: number): Promise<void> {
  let done: any;
  try {
    done = await api.waitJob(id, 120_000);
  } catch (e) {
    throw new Error(`${(e as Error).message}; jobs: ${await jobRows(id)}`);
  }
  expect(done.success, JSON.stringify(done.result)).toBe(true);
  expect(done.result).toEqual([0, 10, 20]);
  const effects = readFileSync(join(dir, 'effects'), 'utf8').split('\n').filter(Boolean).map(Number);
  expect([...new Set(effects)].sort()).toEqual([0, 1, 2]);
  for (const i of [0, 1, 2]) expect(effects.filter((e) => e === i).length, `effect ${i}: ${effects}`).toBeLessThanOrEqual(i === inFlight ? 2 : 1);
}

describe('a workflow whose worker dies at a chosen statement resumes on another worker (PostgreSQL)', () => {
  it('killed between a task completing and the workflow recording it', async () => {
    const dir = mkdtempSync(join(tmp, 'a-'));
    const w1 = await worker('crash-a1');
    const id = (await api.post('jobs/run/p/f/crash/wf', { n: 3, dir })).text;
    // The workflow is parked for task 0, which runs (and waits for its cue).
    await until('the workflow to park with task 0 running', async () => {
      const { rows } = await client.query(
        `SELECT p.status AS parent, p.suspend, c.status AS child FROM job p LEFT JOIN job c ON c.spec->>'parentJob' = p.id::text WHERE p.id = $1`,
        [id],
      );
      return rows.some((r) => r.parent === 'queued' && r.suspend > 0 && r.child === 'running');
    }, 120_000);
    await client.query('BEGIN');
    try {
      await client.query('SELECT 1 FROM job WHERE id = $1 FOR UPDATE', [id]);
      writeFileSync(join(dir, 'go'), '');
      // Task 0 ran its effect; recording its result in the workflow now waits for our lock.
      const blocked = await until('the worker to wait on the workflow row', blockedByUs, 120_000);
      expect(existsSync(join(dir, 'effects'))).toBe(true);
      await crash(w1, blocked.pid);
    } finally {
      await client.query('ROLLBACK');
    }
    const w2 = await worker('crash-a2');
    await expectFinished(id, dir, 0);
    await w2.stop();
  }, 300_000);

  it('killed between the workflow parking for a task and the task being queued', async () => {
    const dir = mkdtempSync(join(tmp, 'b-'));
    writeFileSync(join(dir, 'go'), '');
    // Inserting a workflow's child job waits on advisory lock 4242 while this session holds it.
    await client.query('SELECT pg_advisory_lock(4242)');
    await client.query(`CREATE OR REPLACE FUNCTION wmill_test_hold_child() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_advisory_xact_lock_shared(4242); RETURN NEW; END $$`);
    await client.query(`CREATE TRIGGER wmill_test_hold_child BEFORE INSERT ON job FOR EACH ROW
      WHEN (NEW.spec->>'parentJob' IS NOT NULL) EXECUTE FUNCTION wmill_test_hold_child()`);
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      await client.query('SELECT pg_advisory_unlock(4242)');
      await client.query('DROP TRIGGER IF EXISTS wmill_test_hold_child ON job');
    };
    try {
      const w1 = await worker('crash-b1');
      const id = (await api.post('jobs/run/p/f/crash/wf', { n: 3, dir })).text;
      const blocked = await until('the worker to wait on queueing task 0', blockedByUs, 120_000);
      expect(existsSync(join(dir, 'effects'))).toBe(false);
      await crash(w1, blocked.pid);
      await release();
      const w2 = await worker('crash-b2');
      await expectFinished(id, dir, -1);
      await w2.stop();
    } finally {
      await release();
    }
  }, 300_000);
});
