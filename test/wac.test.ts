/**
 * Durable workflow-as-code (TypeScript, with the npm windmill-client unchanged): tasks in
 * sequence and in parallel, step() values stable across replays, sleeps that hold no worker,
 * approvals resumed over HTTP, failed tasks caught as TaskError, taskScript, the source guard
 * and the replay divergence check; in preview and on `wmill serve`; and a server killed midway.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_TOKEN, Api, spawnServe, startTestServer, type TestServer } from './helpers/server.js';
import { BIN } from './helpers/workspace.js';

let tmp: string;
let srv: TestServer;

function run(args: string[], cwd: string, onStderr?: (all: string) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => {
    stderr += d;
    onStderr?.(stderr);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
  return new Promise((resolve) => child.once('close', (code) => (clearTimeout(timer), resolve({ code, stdout, stderr }))));
}

/** The arguments of WF's workflows (both required: their schema says so). */
const NO_ARGS = '{"n": 0, "marker": ""}';

const WF = (body: string, extra = '') => `import { workflow, task, taskScript, step, sleep, waitForApproval, parallel } from "windmill-client";
${extra}
export const main = workflow(async (n: number, marker: string) => {
${body}
});
`;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'wmill-wac-'));
  // Jobs on serve run sandboxed: the folder where their tasks leave what the test reads is shown
  // to them, writable (as root without capabilities, so the test's own files stay writable).
  Object.assign(process.env, { WMILL_SANDBOX_RW: tmp, WMILL_SANDBOX_UID: '0' });
  mkdirSync(join(tmp, 'f/w'), { recursive: true });
  writeFileSync(join(tmp, 'wmill.yaml'), 'defaultTs: bun\nincludes:\n  - f/**\n');
  srv = await startTestServer();
}, 120_000);

afterAll(async () => {
  await srv?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const DOUBLE = `const double = task(async function double(x: number) {
  return x * 2;
});
const boom = task(async function boom(msg: string) {
  throw new Error("boom: " + msg);
});`;

describe('workflow-as-code in preview', () => {
  it('runs tasks in sequence and in parallel, keeps step() values across replays, catches TaskError', async () => {
    writeFileSync(
      join(tmp, 'f/w/basic.ts'),
      WF(
        `  const t0 = await step("t0", () => new Date().toISOString() + Math.random());
  const a = await double(n);
  const [b, c] = await Promise.all([double(a), double(a + 1)]);
  const many = await parallel([1, 2, 3], (i: number) => double(i), { concurrency: 2 });
  let caught = "";
  try {
    await boom("x");
  } catch (e: any) {
    caught = e.name + ": " + e.message;
  }
  const t1 = await step("t1", () => t0);
  return { a, b, c, many, caught, stable: t0 === t1 };`,
        DOUBLE,
      ),
    );
    const r = await run([BIN, 'script', 'preview', 'f/w/basic.ts', '-d', '{"n": 3, "marker": ""}', '--json'], tmp);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout).result;
    expect(out).toMatchObject({ a: 6, b: 12, c: 14, many: [2, 4, 6], stable: true });
    expect(out.caught).toMatch(/^TaskError: .*boom: x/);
  }, 120_000);

  it('an approval prints its URL and waits; resumed over HTTP with a payload; --fast-sleep skips sleeps', async () => {
    writeFileSync(
      join(tmp, 'f/w/approve.ts'),
      WF(`  await sleep(30);
  const r = await waitForApproval({ key: "boss", timeout: 120 });
  return { approved: r.approved, value: r.value };`),
    );
    let sent = false;
    const r = await run([BIN, 'script', 'preview', 'f/w/approve.ts', '-d', NO_ARGS, '--fast-sleep', '-s'], tmp, (s) => {
      const m = /approve: curl -X POST '([^']+)'/.exec(s);
      if (m && !sent) {
        sent = true;
        void fetch(m[1]!, { method: 'POST', body: '{"note":"ok"}', headers: { 'content-type': 'application/json' } });
      }
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ approved: true, value: { note: 'ok' } });
  }, 120_000);

  it('fails a workflow whose source changed between rounds, and one whose replay diverged', async () => {
    const file = join(tmp, 'f/w/changing.ts');
    writeFileSync(file, WF(`  await sleep(2);\n  return "done";`));
    const changed = run([BIN, 'script', 'preview', 'f/w/changing.ts', '-d', NO_ARGS, '--json'], tmp, (s) => {
      if (s.includes('workflow sleeping') && !readFileSync(file, 'utf8').includes('edited')) writeFileSync(file, `${readFileSync(file, 'utf8')}// edited\n`);
    });
    const c = await changed;
    expect(c.code).toBe(1);
    expect(JSON.parse(c.stdout).result.error.message).toContain('Workflow source code changed between replays');

    // Non-deterministic order: the first round calls a then b, the next round b first.
    const order = join(tmp, 'order.txt');
    writeFileSync(
      join(tmp, 'f/w/diverge.ts'),
      WF(`  const fs = await import("node:fs");
  const first = !fs.existsSync(${JSON.stringify(order)});
  if (first) fs.writeFileSync(${JSON.stringify(order)}, "x");
  if (first) { await step("a", () => 1); await double(1); }
  else { await step("b", () => 2); await double(1); }
  return "unreachable";`, DOUBLE),
    );
    const d = await run([BIN, 'script', 'preview', 'f/w/diverge.ts', '-d', NO_ARGS, '--json'], tmp);
    expect(d.code).toBe(1);
    expect(JSON.parse(d.stdout).result.error.message).toMatch(/replay diverged at step #1: expected key 'a' .* reached 'b'/);
  }, 120_000);
});

const PY_WF = `import asyncio
import wmill
from wmill import workflow, task, task_script, step, sleep, wait_for_approval, TaskError


@task
async def double(x: int):
    return x * 2


@task
async def boom(msg: str):
    raise ValueError("boom: " + msg)


@workflow
async def main(n: int = 3):
    t0 = await step("t0", lambda: str(asyncio.get_event_loop().time()))
    a = await double(n)
    b, c = await asyncio.gather(double(a), double(a + 1))
    try:
        await boom("x")
        caught = ""
    except TaskError as e:
        caught = "TaskError: " + str(e)
    await sleep(1)
    ok = await wait_for_approval(key="boss", timeout=120)
    t1 = await step("t1", lambda: t0)
    return {"a": a, "b": b, "c": c, "caught": caught, "approved": ok["approved"], "value": ok["value"], "stable": t0 == t1}
`;

describe('workflow-as-code in Python (our wmill module)', () => {
  it('preview: tasks in sequence and gathered, step stable, TaskError caught, sleep and approval', async () => {
    writeFileSync(join(tmp, 'f/w/pyflow.py'), PY_WF);
    const r = await run([BIN, 'script', 'preview', 'f/w/pyflow.py', '-d', '{"n":3}', '--approve', '--fast-sleep', '-s'], tmp);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ a: 6, b: 12, c: 14, caught: 'TaskError: boom: x', approved: true, value: null, stable: true });
  }, 120_000);

  it('server: a Python workflow calling a deployed script, approved over HTTP', async () => {
    const api = srv.api;
    await api.deploy({ path: 'u/admin/py_add', language: 'bash', content: 'x="$1"\necho "$((x + 1))"\n' });
    await api.deploy({
      path: 'u/admin/py_wf',
      language: 'python3',
      content: `from wmill import workflow, task_script, wait_for_approval\n\nadd = task_script("u/admin/py_add")\n\n@workflow\nasync def main(n: int):\n    x = await add({"x": n})\n    ok = await wait_for_approval(timeout=120)\n    return {"x": x, "approved": ok["approved"], "value": ok["value"]}\n`,
    });
    const id = (await api.post('jobs/run/p/u/admin/py_wf', { n: 1 })).text;
    for (let i = 0; i < 300; i++) {
      if ((await srv.server.store.getJob(id))?.wacState?.pending_steps?.mode === 'approval') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const urls = (await api.get(`jobs/wac_approval_urls/${id}/approval`)).json;
    const res = await fetch(urls.resume, { method: 'POST', body: '{"n":1}', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(201);
    const done = await api.waitJob(id, 60_000);
    expect(done.success, JSON.stringify(done.result)).toBe(true);
    expect(done.result).toEqual({ x: '2', approved: true, value: { n: 1 } });
  }, 120_000);
});

describe('workflow-as-code on wmill serve', () => {
  it('a 5 s sleep holds no worker (other jobs run meanwhile); taskScript calls a deployed script; approval over HTTP', async () => {
    const api = srv.api;
    await api.deploy({ path: 'u/admin/add_one', language: 'bash', content: 'x="$1"\necho "$((x + 1))"\n' });
    await api.deploy({ path: 'u/admin/quick', language: 'bash', content: 'echo quick\n' });
    await api.deploy({
      path: 'u/admin/wf_sleep',
      language: 'bun',
      content: WF(
        `  const started = await step("started", () => Date.now());
  await sleep(5);
  const plus = await addOne({ x: n });
  const ok = await waitForApproval({ key: "go", timeout: 120 });
  return { plus, waited: (await step("ended", () => Date.now())) - started >= 5000, approved: ok.approved, by: ok.approver };`,
        'const addOne = taskScript("u/admin/add_one");',
      ),
    });
    const id = (await api.post('jobs/run/p/u/admin/wf_sleep', { n: 41 })).text;
    // While it sleeps, plain jobs run on both worker slots.
    await new Promise((r) => setTimeout(r, 2500));
    const during = Date.now();
    const quick = await Promise.all([api.runWait('u/admin/quick'), api.runWait('u/admin/quick'), api.runWait('u/admin/quick')]);
    expect(quick.map((q) => q.result)).toEqual(['quick', 'quick', 'quick']);
    expect(Date.now() - during).toBeLessThan(2500);
    expect((await api.get(`jobs_u/completed/get_result_maybe/${id}`)).json.completed).toBe(false);
    // Wait for the approval to be pending, then approve over HTTP with the URL from the API.
    let urls: any;
    for (let i = 0; i < 300 && !urls; i++) {
      const r = await api.get(`jobs/wac_approval_urls/${id}/go`);
      const j = (await api.get(`jobs_u/get/${id}`)).json;
      if (r.status === 200 && j && (await srv.server.store.getJob(id))?.wacState?.pending_steps?.mode === 'approval') urls = r.json;
      else await new Promise((res) => setTimeout(res, 100));
    }
    expect(urls?.resume).toBeTruthy();
    const res = await fetch(urls.resume, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(201);
    const done = await api.waitJob(id, 120_000);
    expect(done.success).toBe(true);
    expect(done.result).toEqual({ plus: '42', waited: true, approved: true, by: 'anonymous' });
  }, 180_000);

  it('wmill job resume approves a waiting workflow with a payload; wmill job cancel cancels a parked one', async () => {
    const api = srv.api;
    await api.deploy({
      path: 'u/admin/wf_wait',
      language: 'bun',
      content: WF(`  const r = await waitForApproval({ timeout: 300 });
  return r;`),
    });
    const remote = ['--base-url', srv.url, '--token', srv.token, '--workspace', 'admins'];
    const waitParked = async (id: string) => {
      for (let i = 0; i < 300; i++) {
        if ((await srv.server.store.getJob(id))?.wacState?.pending_steps?.mode === 'approval') return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('never parked');
    };
    const id = (await api.post('jobs/run/p/u/admin/wf_wait', {})).text;
    await waitParked(id);
    const r = await run([BIN, 'job', 'resume', id, '-d', '{"ticket":7}', ...remote], tmp);
    expect(r.code, r.stderr).toBe(0);
    const done = await api.waitJob(id, 60_000);
    expect(done.result).toEqual({ value: { ticket: 7 }, approver: 'admin', approved: true });

    const id2 = (await api.post('jobs/run/p/u/admin/wf_wait', {})).text;
    await waitParked(id2);
    const c = await run([BIN, 'job', 'cancel', id2, ...remote], tmp);
    expect(c.code, c.stderr).toBe(0);
    const done2 = await api.waitJob(id2, 60_000);
    expect(done2.success).toBe(false);
    expect((await api.get(`jobs_u/completed/get/${id2}`)).json.canceled).toBe(true);
  }, 120_000);

  it('a server killed mid-way through a 20-task workflow restarts and completes; each side effect happens once', async () => {
    const data = mkdtempSync(join(tmpdir(), 'wmill-wac-kill-'));
    // Beside the tests' files (a job sees no server's data folder).
    const marker = join(tmp, 'kill-effects.txt');
    let s = await spawnServe(['--data', data], { WMILL_WORKER_TIMEOUT_S: '2' });
    let api = new Api(s.url, ADMIN_TOKEN);
    const content = WF(
      `  const out: number[] = [];
  for (let i = 0; i < 20; i++) out.push(await effect(i, marker));
  return out.length;`,
      `const effect = task(async function effect(i: number, file: string) {
  const fs = await import("node:fs");
  // Slow enough that the kill lands mid-way (tasks on a resident interpreter take milliseconds);
  // task 12 waits for the test's cue, so the kill lands before it however slow the test is.
  await new Promise((r) => setTimeout(r, 150));
  while (i === 12 && !fs.existsSync(file + ".go")) await new Promise((r) => setTimeout(r, 20));
  fs.appendFileSync(file, i + "\\n");
  return i;
});`,
    );
    await api.deploy({ path: 'u/admin/wf20', language: 'bun', content });
    const id = (await api.post('jobs/run/p/u/admin/wf20', { n: 0, marker })).text;
    const effects = () => (existsSync(marker) ? readFileSync(marker, 'utf8').split('\n').filter(Boolean).length : 0);
    for (let waited = 0; effects() < 6; waited += 100) {
      if (waited > 300_000) throw new Error(`the workflow did not get to its 6th task: ${effects()} effects`);
      await new Promise((r) => setTimeout(r, 100));
    }
    s.child.kill('SIGKILL');
    await new Promise((r) => (s.child.exitCode !== null || s.child.signalCode ? r(null) : s.child.once('exit', r)));
    const before = effects();
    expect(before).toBeGreaterThanOrEqual(6);
    expect(before).toBeLessThanOrEqual(12);
    writeFileSync(`${marker}.go`, '');
    s = await spawnServe(['--data', data], { WMILL_WORKER_TIMEOUT_S: '2' });
    api = new Api(s.url, ADMIN_TOKEN);
    try {
      const done = await api.waitJob(id, 300_000);
      expect(done.success, JSON.stringify(done.result)).toBe(true);
      expect(done.result).toBe(20);
      const lines = readFileSync(marker, 'utf8').split('\n').filter(Boolean).map(Number);
      // Each task's side effect once; a task whose child was running at the kill may run twice at
      // most (its result was not recorded yet): at-least-once until recorded, never after.
      expect([...new Set(lines)].sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
      expect(lines.length - 20).toBeLessThanOrEqual(1);
    } finally {
      await s.stop();
      rmSync(data, { recursive: true, force: true });
    }
  }, 720_000);
});
