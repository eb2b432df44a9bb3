/**
 * Resident interpreters (src/runner/executors/resident.ts): workflow rounds and inline tasks run
 * in one long-lived process per script instead of one process each. The marker protocol, process
 * reuse and isolation, log attribution, abort/crash/idle handling, a body stuck on a promise that
 * never settles, the step() checkpoint over the pipes; then end to end: a TypeScript workflow in
 * preview runs its tasks in one process, and on `wmill serve` a task that times out takes its
 * process with it while the workflow carries on in a fresh one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MarkerScanner, ResidentPool, type ResidentRequest } from '../src/runner/executors/resident.js';
import { typescriptExecutor } from '../src/runner/executors/typescript.js';
import { pythonExecutor } from '../src/runner/executors/python.js';
import { DEFAULT_RUNNER_CONFIG } from '../src/runner/executors/index.js';
import type { JobRecord } from '../src/runner/types.js';
import { MemoryStore, type Store } from '../src/runner/store.js';
import { SqlStore } from '../src/server/db/sql-store.js';
import { openPglite } from '../src/server/db/db.js';
import { migrate } from '../src/server/db/migrations.js';
import { ADMIN_TOKEN, Api, spawnServe, startTestServer, until, type TestServer } from './helpers/server.js';
import { BIN } from './helpers/workspace.js';

let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'wmill-resident-'));
  // Jobs on serve run sandboxed (as nobody when the tests run as root): the folder where their
  // tasks leave what the tests read is shown to them, writable.
  chmodSync(tmp, 0o777);
  process.env.WMILL_SANDBOX_RW = tmp;
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('MarkerScanner', () => {
  it('splits output from marker payloads however the stream is chunked', () => {
    const marker = '\x1eabc123 ';
    const stream = `hello\nwor\x1eld\n${marker}R 0 {"a":1}\nafter\x1e\n${marker}S 1 {"k":"v"}\ntail`;
    for (let trial = 0; trial < 200; trial++) {
      let text = '';
      const payloads: string[] = [];
      const sc = new MarkerScanner(marker, (t) => (text += t), (p) => payloads.push(p));
      let i = 0;
      while (i < stream.length) {
        const n = 1 + Math.floor(Math.random() * 7);
        sc.push(stream.slice(i, i + n));
        i += n;
      }
      sc.flush();
      expect(payloads).toEqual(['R 0 {"a":1}', 'S 1 {"k":"v"}']);
      expect(text).toBe('hello\nwor\x1eld\nafter\x1e\ntail');
    }
  });
});

function file(name: string, content: string): string {
  const f = join(tmp, name);
  writeFileSync(f, content);
  return f;
}

function request(lang: 'ts' | 'py', key: string, script: string, extra: Partial<ResidentRequest> & { args?: Record<string, unknown>; wac?: unknown } = {}) {
  const logs: string[] = [];
  const ex = lang === 'ts' ? typescriptExecutor : pythonExecutor;
  const env = { ...process.env };
  const req: ResidentRequest = {
    key,
    launch: async (dir) => ex.resident!({ job: { file: script, content: '', language: lang === 'ts' ? 'bun' : 'python3' } as JobRecord, dir, env, config: DEFAULT_RUNNER_CONFIG }),
    env,
    input: { args: extra.args ?? {}, argNames: null, env: { WM_JOB_ID: 'job-1', WM_WORKSPACE: 'w', WM_TOKEN: 't', BASE_INTERNAL_URL: 'http://127.0.0.1:9' }, wac: extra.wac ?? null },
    log: (c) => logs.push(c),
    signal: extra.signal ?? new AbortController().signal,
    ...(extra.onCheckpoint ? { onCheckpoint: extra.onCheckpoint } : {}),
  };
  return { req, logs };
}

describe.each(['ts', 'py'] as const)('resident %s interpreters', (lang) => {
  const ext = lang === 'ts' ? 'ts' : 'py';
  const src = {
    pid:
      lang === 'ts'
        ? 'export async function main(tag: string) { console.log("log of " + tag); return { pid: process.pid, tag }; }\n'
        : 'import os\n\ndef main(tag: str):\n    print("log of " + tag)\n    return {"pid": os.getpid(), "tag": tag}\n',
    slow: lang === 'ts' ? 'export async function main() { await new Promise((r) => setTimeout(r, 60000)); }\n' : 'import time\n\ndef main():\n    time.sleep(60)\n',
    exit: lang === 'ts' ? 'export async function main() { console.log("last words"); process.exit(3); }\n' : 'import sys, os\n\ndef main():\n    print("last words")\n    sys.stdout.flush()\n    os._exit(3)\n',
  };

  it('runs jobs of one key in one process, each with its own logs; other keys get their own process', async () => {
    const pool = new ResidentPool({ tmpRoot: tmp });
    try {
      const f = file(`pid.${ext}`, src.pid);
      const a = request(lang, 'k1', f, { args: { tag: 'a' } });
      const b = request(lang, 'k1', f, { args: { tag: 'b' } });
      const c = request(lang, 'k2', f, { args: { tag: 'c' } });
      const ra = await pool.run(a.req);
      const rb = await pool.run(b.req);
      const rc = await pool.run(c.req);
      expect(ra.success, JSON.stringify(ra.result)).toBe(true);
      const pa = (ra.result as { pid: number }).pid;
      expect(rb.result).toEqual({ pid: pa, tag: 'b' });
      expect((rc.result as { pid: number }).pid).not.toBe(pa);
      expect(a.logs.join('')).toBe('log of a\n');
      expect(b.logs.join('')).toBe('log of b\n');
      expect(pool.size).toBe(2);
    } finally {
      await pool.close();
    }
    expect(pool.size).toBe(0);
  }, 60_000);

  it('an abort kills the process (the next job gets a new one); a process that exits fails its job only', async () => {
    const pool = new ResidentPool({ tmpRoot: tmp });
    try {
      const pidFile = file(`pid2.${ext}`, src.pid);
      const first = await pool.run(request(lang, 'p', pidFile, { args: { tag: 'x' } }).req);
      const ac = new AbortController();
      const slowFile = file(`slow.${ext}`, src.slow);
      const slow = pool.run(request(lang, 's', slowFile, { signal: ac.signal }).req);
      setTimeout(() => ac.abort(), 1500);
      const r = await slow;
      expect(r.success).toBe(false);
      expect(pool.size).toBe(1); // the aborted one is gone, the other one idles

      const exiting = request(lang, 'e', file(`exit.${ext}`, src.exit));
      const crashed = await pool.run(exiting.req);
      expect(crashed.success).toBe(false);
      expect(JSON.stringify(crashed.result)).toContain('exited with code 3');
      expect(exiting.logs.join('')).toContain('last words');
      const again = await pool.run(request(lang, 'p', pidFile, { args: { tag: 'y' } }).req);
      expect(again.result).toEqual({ pid: (first.result as { pid: number }).pid, tag: 'y' });
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('an idle process is stopped after the idle time', async () => {
    const pool = new ResidentPool({ tmpRoot: tmp, idleMs: 300 });
    try {
      const r = await pool.run(request(lang, 'idle', file(`pid3.${ext}`, src.pid), { args: { tag: 'i' } }).req);
      expect(r.success).toBe(true);
      expect(pool.size).toBe(1);
      for (let i = 0; i < 50 && pool.size > 0; i++) await new Promise((res) => setTimeout(res, 100));
      expect(pool.size).toBe(0);
    } finally {
      await pool.close();
    }
  }, 30_000);

  it('a step() checkpoint travels the pipes to onCheckpoint and its answer comes back', async () => {
    const pool = new ResidentPool({ tmpRoot: tmp });
    const seen: unknown[] = [];
    try {
      const script =
        lang === 'ts'
          ? 'import { workflow, step } from "windmill-client";\nexport const main = workflow(async () => {\n  const a = await step("a", () => 41);\n  const b = await step("b", () => a + 1);\n  return { a, b };\n});\n'
          : 'from wmill import workflow, step\n\n@workflow\nasync def main():\n    a = await step("a", lambda: 41)\n    b = await step("b", lambda: a + 1)\n    return {"a": a, "b": b}\n';
      const { req } = request(lang, 'wf', file(`steps.${ext}`, script), {
        wac: { checkpoint: { completed_steps: {}, _executing_key: null } },
        onCheckpoint: async (body) => {
          seen.push({ key: body.key, result: body.result });
          return {};
        },
      });
      const r = await pool.run(req);
      expect(r.success, JSON.stringify(r.result)).toBe(true);
      expect((r.result as { __wac: Record<string, unknown> }).__wac).toMatchObject({ type: 'complete', result: { a: 41, b: 42 } });
      expect(seen).toEqual([
        { key: 'a', result: 41 },
        { key: 'b', result: 42 },
      ]);
    } finally {
      await pool.close();
    }
  }, 60_000);
});

it('keeps a spare interpreter: a new script starts in a process that was already running, and a new spare follows', async () => {
  const pool = new ResidentPool({ tmpRoot: tmp });
  try {
    const up = 'export async function main() { return { pid: process.pid, up: process.uptime() }; }\n';
    const spareOf = (req: ResidentRequest): ResidentRequest => ({
      ...req,
      spareKey: 'ts-node',
      spare: (dir) => typescriptExecutor.resident!({ dir, env: req.env, config: DEFAULT_RUNNER_CONFIG }).command,
    });
    const a = await pool.run(spareOf(request('ts', 'up-a', file('up-a.ts', up)).req));
    expect(a.success, JSON.stringify(a.result)).toBe(true);
    expect(pool.size).toBe(2); // the resident of up-a, and a spare
    await new Promise((r) => setTimeout(r, 3000));
    const b = await pool.run(spareOf(request('ts', 'up-b', file('up-b.ts', up)).req));
    const rb = b.result as { pid: number; up: number };
    expect(rb.pid).not.toBe((a.result as { pid: number }).pid);
    expect(rb.up).toBeGreaterThan(2.5); // started with the first request, three seconds before this one
    expect(pool.size).toBe(3); // up-a, up-b (the former spare), and a new spare
  } finally {
    await pool.close();
  }
  expect(pool.size).toBe(0);
}, 60_000);

it('a TypeScript child round that never reaches its step is answered, and the process serves the next round', async () => {
  const pool = new ResidentPool({ tmpRoot: tmp });
  try {
    const script = file(
      'stuck.ts',
      'import { workflow, task } from "windmill-client";\nconst t = task(async function t() { return process.pid; });\nexport const main = workflow(async () => {\n  return await t();\n});\n',
    );
    const stuck = await pool.run(request('ts', 'st', script, { wac: { checkpoint: { completed_steps: {}, _executing_key: 'nope' } } }).req);
    expect(stuck.success).toBe(false);
    expect(JSON.stringify(stuck.result)).toContain("never reached step 'nope'");
    const ok = await pool.run(request('ts', 'st', script, { wac: { checkpoint: { completed_steps: {}, _executing_key: 't' } } }).req);
    expect(ok.success, JSON.stringify(ok.result)).toBe(true);
    expect(pool.size).toBe(1);
  } finally {
    await pool.close();
  }
}, 60_000);

describe.each(['memory', 'pglite'] as const)('concurrency gate (%s store)', (kind) => {
  it('lets `limit` jobs of a key run, requeues the next until one ends; with a window, counts starts within it', async () => {
    let store: Store;
    let close = async () => {};
    if (kind === 'memory') store = new MemoryStore();
    else {
      const db = await openPglite(undefined);
      await migrate(db);
      store = new SqlStore(db);
      close = () => db.close();
    }
    try {
      const mk = (id: string, key: string, windowS?: number): JobRecord => ({
        id, workspace: 'w', kind: 'script', path: 'f/x', language: 'bash', content: '', args: {}, status: 'queued', created_at: new Date().toISOString(),
        concurrency: { key, limit: 1, ...(windowS ? { windowS } : {}) },
      });
      const ids = ['01900000-0000-7000-8000-000000000001', '01900000-0000-7000-8000-000000000002', '01900000-0000-7000-8000-000000000003'];
      for (const id of ids.slice(0, 2)) await store.insertJob(mk(id, 'k'));
      const a = (await store.claimById('w1', ids[0]!))!;
      expect(await store.concurrencyGate(a)).toBeUndefined();
      const b = (await store.claimById('w1', ids[1]!))!;
      const beforeGate = Date.now();
      const at = await store.concurrencyGate(b);
      expect(at).toBeGreaterThanOrEqual(beforeGate + 1000);
      expect((await store.getJob(ids[1]!))!.status).toBe('queued');
      await store.completeJob(ids[0]!, { status: 'success', result: null, completed_at: new Date().toISOString() });
      // Due again only at `at`; once claimed, the key has room.
      await new Promise((r) => setTimeout(r, Math.max(0, at! - Date.now()) + 50));
      const b2 = (await store.claimById('w1', ids[1]!))!;
      expect(b2).toBeDefined();
      expect(await store.concurrencyGate(b2)).toBeUndefined();
      await store.completeJob(ids[1]!, { status: 'success', result: null, completed_at: new Date().toISOString() });
      // A 60 s window: the key's two starts above are within it, so a third job waits though none
      // runs, until the window has passed since the first of them started.
      await store.insertJob(mk(ids[2]!, 'k', 60));
      const firstStart = Date.parse((await store.getJob(ids[0]!))!.started_at!);
      const c = (await store.claimById('w1', ids[2]!))!;
      const at2 = await store.concurrencyGate(c);
      expect(at2).toBeGreaterThanOrEqual(firstStart + 60_000);
      expect((await store.getJob(ids[2]!))!.status).toBe('queued');
    } finally {
      await close();
    }
  }, 300_000);
});

function cli(args: string[], cwd: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

describe('workflows on resident interpreters', () => {
  const WF = `import { workflow, task, step } from "windmill-client";
const where = task(async function where(i: number) { return { i, pid: process.pid }; });
export const main = workflow(async (n: number) => {
  const at = await step("at", () => process.pid);
  const out = [];
  for (let i = 0; i < n; i++) out.push(await where(i));
  return { at, out };
});
`;

  it('preview: a TypeScript workflow runs its rounds and tasks in one process (a fresh process each with WMILL_WAC_RESIDENT=0)', async () => {
    const ws = mkdtempSync(join(tmp, 'ws-'));
    mkdirSync(join(ws, 'f/w'), { recursive: true });
    writeFileSync(join(ws, 'wmill.yaml'), 'defaultTs: bun\nincludes:\n  - f/**\n');
    writeFileSync(join(ws, 'f/w/where.ts'), WF);
    const r = await cli(['script', 'preview', 'f/w/where.ts', '-d', '{"n":3}', '-s'], ws);
    expect(r.code, r.stderr).toBe(0);
    const v = JSON.parse(r.stdout) as { at: number; out: { i: number; pid: number }[] };
    expect(v.out.map((o) => o.i)).toEqual([0, 1, 2]);
    expect(new Set([v.at, ...v.out.map((o) => o.pid)]).size).toBe(1);

    const off = await cli(['script', 'preview', 'f/w/where.ts', '-d', '{"n":3}', '-s'], ws, { WMILL_WAC_RESIDENT: '0' });
    expect(off.code, off.stderr).toBe(0);
    const w = JSON.parse(off.stdout) as { at: number; out: { i: number; pid: number }[] };
    expect(w.out.map((o) => o.i)).toEqual([0, 1, 2]);
    expect(new Set(w.out.map((o) => o.pid)).size).toBe(3);
  }, 120_000);

  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer();
  }, 120_000);
  afterAll(async () => {
    await srv?.close();
  });

  it('serve: a task that times out takes its process with it; the workflow catches it and goes on in a new process', async () => {
    const api = srv.api;
    await api.deploy({
      path: 'u/admin/wf_timeout',
      language: 'bun',
      content: `import { workflow, task } from "windmill-client";
// A process's own mark (a sandboxed job's pid is its PID namespace's, the same in every process).
const pid = task(async function pid() { return ((globalThis as any).__mark ??= Math.random()); });
const hang = task(async function hang() { await new Promise((r) => setTimeout(r, 60000)); return 1; }, { timeout: 2 });
export const main = workflow(async () => {
  const before = await pid();
  let caught = "";
  try {
    await hang();
  } catch (e) {
    caught = String((e as Error).message);
  }
  const after = await pid();
  return { before, after, caught };
});
`,
    });
    const id = (await api.post('jobs/run/p/u/admin/wf_timeout', {})).text;
    const done = await api.waitJob(id, 90_000);
    expect(done.success, JSON.stringify(done.result)).toBe(true);
    expect(done.result.caught).toMatch(/timed out/i);
    expect(typeof done.result.before).toBe('number');
    expect(done.result.after).not.toBe(done.result.before);
    // The task's logs are its own: the parent's logs do not hold the child's output.
    const logs = (await api.get(`jobs_u/get_logs/${id}`)).text;
    expect(logs).toContain('--- WAC: pid ---');
  }, 120_000);

  it('a resident does not outlive a server killed with SIGKILL (TypeScript and Python)', async () => {
    const data = mkdtempSync(join(tmp, 'data-'));
    const s = await spawnServe(['--data', data], { WMILL_SANDBOX_RW: tmp });
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    try {
      const api = new Api(s.url, ADMIN_TOKEN);
      const pidTs = join(tmp, 'long-ts.pid');
      const pidPy = join(tmp, 'long-py.pid');
      await api.deploy({
        path: 'u/admin/long_ts',
        language: 'bun',
        content: `import { workflow, task } from "windmill-client";
const long = task(async function long(f: string) {
  const fs = await import("node:fs");
  const fd = fs.openSync(f, "w");
  fs.writeSync(fd, String(process.pid));
  await new Promise((r) => setTimeout(r, 120000));
  fs.closeSync(fd);
});
export const main = workflow(async (f: string) => { await long(f); });
`,
      });
      await api.deploy({
        path: 'u/admin/long_py',
        language: 'python3',
        content: `import os, time
from wmill import workflow, task

@task
async def long(f: str):
    with open(f, "w") as h:
        h.write(str(os.getpid()))
        h.flush()
        time.sleep(120)

@workflow
async def main(f: str):
    await long(f)
`,
      });
      await api.post('jobs/run/p/u/admin/long_ts', { f: pidTs });
      await api.post('jobs/run/p/u/admin/long_py', { f: pidPy });
      // The task's process as the host sees it (in a sandbox its own pid is its namespace's):
      // the one holding its file open.
      const holder = (f: string) => {
        for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
          try {
            if (readdirSync(`/proc/${p}/fd`).some((fd) => readlinkSync(`/proc/${p}/fd/${fd}`) === f)) return Number(p);
          } catch {
            /* gone, or not ours to read */
          }
        }
        return 0;
      };
      const pidOf = (f: string) => (existsSync(f) && readFileSync(f, 'utf8') ? holder(f) : 0);
      await until('both tasks to run', async () => pidOf(pidTs) > 0 && pidOf(pidPy) > 0, 300_000, 100);
      const pids = [pidOf(pidTs), pidOf(pidPy)];
      expect(pids.every(alive)).toBe(true);
      s.child.kill('SIGKILL');
      // Gone soon after (0.5 s when the machine is idle); the bound only stops a test that fails.
      await until('the residents to exit', async () => !pids.some(alive), 120_000, 100).catch(() => undefined);
      expect(pids.filter(alive)).toEqual([]);
    } finally {
      s.child.kill('SIGKILL');
    }
  }, 600_000);

  it('serve: cache_ttl reuses a task result for the same arguments (also in a later run); concurrency_limit keeps tasks of one key apart', async () => {
    const api = srv.api;
    const effects = join(tmp, 'cache-effects.txt');
    const spans = join(tmp, 'spans.txt');
    writeFileSync(effects, '');
    writeFileSync(spans, '');
    chmodSync(effects, 0o666);
    chmodSync(spans, 0o666);
    await api.deploy({
      path: 'u/admin/wf_cache',
      language: 'bun',
      content: `import { workflow, task } from "windmill-client";
const stamp = task(async function stamp(x: number, f: string) {
  (await import("node:fs")).appendFileSync(f, x + "\\n");
  return x * 10;
}, { cache_ttl: 600 });
export const main = workflow(async (f: string) => {
  const a = await stamp(1, f);
  const b = await stamp(1, f);
  const c = await stamp(2, f);
  return [a, b, c];
});
`,
    });
    for (let run = 0; run < 2; run++) {
      const id = (await api.post('jobs/run/p/u/admin/wf_cache', { f: effects })).text;
      const done = await api.waitJob(id, 60_000);
      expect(done.success, JSON.stringify(done.result)).toBe(true);
      expect(done.result).toEqual([10, 10, 20]);
    }
    // Each distinct argument ran once, over both runs; the rest came from the cache.
    expect(readFileSync(effects, 'utf8').trim().split('\n').sort()).toEqual(['1', '2']);

    await api.deploy({
      path: 'u/admin/wf_limit',
      language: 'bun',
      content: `import { workflow, task } from "windmill-client";
const span = task(async function span(i: number, f: string) {
  const fs = await import("node:fs");
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, 400));
  fs.appendFileSync(f, JSON.stringify([i, t0, Date.now()]) + "\\n");
  return i;
}, { concurrency_limit: 1, concurrency_key: "one-at-a-time" });
export const main = workflow(async (f: string) => {
  return await Promise.all([span(1, f), span(2, f), span(3, f)]);
});
`,
    });
    const id = (await api.post('jobs/run/p/u/admin/wf_limit', { f: spans })).text;
    const done = await api.waitJob(id, 60_000);
    expect(done.success, JSON.stringify(done.result)).toBe(true);
    expect(done.result).toEqual([1, 2, 3]);
    const iv = readFileSync(spans, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as [number, number, number]).sort((a, b) => a[1] - b[1]);
    expect(iv).toHaveLength(3);
    // Two worker slots, three parallel tasks of one key with a limit of 1: no two overlap.
    for (let i = 1; i < iv.length; i++) expect(iv[i]![1]).toBeGreaterThanOrEqual(iv[i - 1]![2]);
  }, 120_000);

  it('serve: a task tag takes effect: its child waits until a worker takes that tag (--tags)', async () => {
    const dataDir = mkdtempSync(join(tmp, 'tags-'));
    let a: TestServer | undefined = await startTestServer({ dataDir, tags: ['default'] });
    let b: TestServer | undefined;
    try {
      await a.api.deploy({
        path: 'u/admin/wf_tag',
        language: 'bun',
        content: `import { workflow, task } from "windmill-client";
const onGpu = task(async function onGpu(x: number) { return x * 2; }, { tag: "gpu" });
export const main = workflow(async (x: number) => ({ doubled: await onGpu(x) }));
`,
      });
      const id = (await a.api.post('jobs/run/p/u/admin/wf_tag', { x: 21 })).text;
      let child: JobRecord | undefined;
      for (let i = 0; i < 300 && !child; i++) {
        child = (await a.server.store.listJobs()).find((j) => j.parentJob === id);
        if (!child) await new Promise((r) => setTimeout(r, 100));
      }
      expect(child?.tag).toBe('gpu');
      // An untagged job runs meanwhile; the gpu task still waits.
      await a.api.deploy({ path: 'u/admin/plain_echo', language: 'bash', content: 'echo hi\n' });
      const plain = (await a.api.post('jobs/run/p/u/admin/plain_echo', {})).text;
      expect((await a.api.waitJob(plain, 30_000)).success).toBe(true);
      await new Promise((r) => setTimeout(r, 1000));
      expect((await a.server.store.getJob(child!.id))?.status).toBe('queued');
      expect((await a.server.store.getJob(id))?.status).toBe('queued');
      await a.close();
      a = undefined;
      // A server whose workers take `gpu` runs it, and the workflow completes.
      b = await startTestServer({ dataDir, tags: ['default', 'gpu'] });
      const done = await b.api.waitJob(id, 60_000);
      expect(done.success, JSON.stringify(done.result)).toBe(true);
      expect(done.result).toEqual({ doubled: 42 });
    } finally {
      await a?.close();
      await b?.close();
    }
  }, 120_000);
});
