/**
 * Workflow-as-code v2 in our Python `wmill` module, through the job wrapper (python/wmill/_runner.py)
 * started exactly as the Python executor starts it: one round per process, the checkpoint in the
 * stdin job under `wac`, the round's output in result.json as {"__wac": OUTPUT}.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wrapperCommand } from '../src/runner/executors/python.js';
import { DEFAULT_RUNNER_CONFIG } from '../src/runner/executors/index.js';

const WORKFLOW = `
import asyncio
from wmill import workflow, task, task_script, task_flow, step, sleep, wait_for_approval, get_approval_urls, parallel, TaskError

@task
async def a(x):
    return x + 1

@task(timeout=60, tag="gpu")
async def t(n):
    if n < 0:
        raise ValueError(f"negative: {n}")
    return n * 10

@task(retry={"attempts": 2, "delay": 5, "multiplier": 2})
async def flaky(i):
    raise ValueError("flaky")

extract = task_script("f/data/extract", timeout=600, concurrency_limit=2)
pipeline = task_flow("f/etl/pipeline")

async def via_coroutine(i):
    return await t(i) + 1

async def slow(v):
    await asyncio.sleep(0.05)
    return v

@workflow
async def main(mode: str = "seq", x: int = 1):
    if mode == "seq":
        r = await a(x)
        rs = await asyncio.gather(t(1), t(2))
        return {"r": r, "rs": rs}
    if mode == "fanout":
        one = await parallel([1, 2, 3], t, concurrency=2)
        two = await asyncio.gather(*(via_coroutine(i) for i in range(2)))
        return [one, two]
    if mode == "step":
        v = await step("pick", lambda: {"v": 42})
        await t(v["v"])
    if mode == "steps":
        s = await asyncio.gather(step("s1", lambda: slow(1)), step("s2", lambda: slow(2)))
        try:
            await step("bad", lambda: 1 / 0)
        except TaskError as e:
            return {"s": s, "err": str(e), "key": e.step_key}
    if mode == "catch":
        try:
            await t(-1)
        except TaskError as e:
            return {"caught": str(e), "step_key": e.step_key, "child": e.child_job_id, "name": e.result["error"]["name"]}
    if mode == "uncaught":
        await t(-1)
    if mode == "swallow":
        try:
            await t(1)
        except BaseException:
            pass
        return "swallowed"
    if mode == "sleep":
        await sleep(2.5)
        await sleep(0.2)
        return "slept"
    if mode == "approval":
        urls = await step("urls", lambda: get_approval_urls("manager", approver="bob"))
        r = await wait_for_approval(key="manager", timeout=3600, form={"type": "object"})
        r2 = await wait_for_approval(self_approval=False)
        return [urls, r, r2]
    if mode == "dupkey":
        await wait_for_approval(key="m")
        await wait_for_approval(key="m")
    if mode == "badkey":
        await wait_for_approval(key="a/b")
    if mode == "retry":
        return await flaky(1)
    if mode == "remote":
        return await asyncio.gather(extract({"url": "u"}), pipeline(y=2))
    if mode == "unawaited":
        t(1)
        t(2)
        return "done"
    if mode == "keys":
        await step("x_2", lambda: 0)
        await step("x", lambda: 1)
        await step("x", lambda: 2)
        return "ok"
    return "unknown mode"
`;

interface Round {
  code: number | null;
  result: any;
  logs: string;
}

let dir: string;
let script: string;
let jobSeq = 0;

/** One round: the wrapper process as the executor starts it, the job on stdin. */
function runRound(args: Record<string, unknown>, checkpoint: unknown, env: Record<string, string> = {}): Promise<Round> {
  const jobDir = join(dir, `job-${++jobSeq}`);
  mkdirSync(jobDir);
  const w = wrapperCommand(DEFAULT_RUNNER_CONFIG, process.env, jobDir);
  const child = spawn(w.cmd, w.args, { cwd: jobDir, env: { ...process.env, ...w.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let logs = '';
  child.stdout.on('data', (d) => (logs += d));
  child.stderr.on('data', (d) => (logs += d));
  const job: Record<string, unknown> = { script, args, argNames: null, root: dir, env };
  if (checkpoint !== undefined) job.wac = { checkpoint };
  child.stdin.end(JSON.stringify(job));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      let result: unknown;
      try {
        result = JSON.parse(readFileSync(join(jobDir, 'result.json'), 'utf8'));
      } catch {
        result = undefined;
      }
      resolve({ code, result, logs });
    });
  });
}

/** A round that must end with a WAC output (exit 0); returns OUTPUT. */
async function wac(args: Record<string, unknown>, checkpoint: unknown, env: Record<string, string> = {}): Promise<any> {
  const r = await runRound(args, checkpoint, env);
  expect(r.code, r.logs).toBe(0);
  expect(Object.keys(r.result)).toEqual(['__wac']);
  return r.result.__wac;
}

const NO_FAST_PATH = { WM_WAC_INLINE_FAST_PATH: '0' };
const failure = (key: string, message: string, child?: string) => ({
  __wmill_error: true,
  message,
  step_key: key,
  ...(child ? { child_job_id: child } : {}),
  result: { error: { name: 'ValueError', message } },
});

// A stand-in for the job API: the inline_checkpoint fast path and wac_approval_urls.
interface Seen {
  method: string;
  url: string;
  auth: string | undefined;
  body: any;
}
let server: Server;
let base: string;
const seen: Seen[] = [];
// Concurrent inline_checkpoint POSTs, per job (rounds of several tests run at once).
const inFlight = new Map<string, number>();
const maxInFlight = new Map<string, number>();

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let s = '';
    req.on('data', (d) => (s += d));
    req.on('end', () => resolve(s));
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wmill-wac-py-'));
  script = join(dir, 'wf.py');
  writeFileSync(script, WORKFLOW);
  server = createServer(async (req, res) => {
    const text = await body(req);
    const parsed = text ? JSON.parse(text) : null;
    seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body: parsed });
    if (req.url!.includes('/jobs/wac/inline_checkpoint/')) {
      const job = req.url!.split('/').pop()!;
      inFlight.set(job, (inFlight.get(job) ?? 0) + 1);
      maxInFlight.set(job, Math.max(maxInFlight.get(job) ?? 0, inFlight.get(job)!));
      await new Promise((r) => setTimeout(r, 30));
      inFlight.set(job, inFlight.get(job)! - 1);
      if (req.url!.includes('/fail-job')) {
        res.writeHead(500).end('nope');
        return;
      }
      const isFailure = parsed?.result?.__wmill_error;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(isFailure ? { failure: { ...parsed.result, message: `normalized: ${parsed.result.message}` } } : {}));
      return;
    }
    if (req.url!.includes('/jobs/wac_approval_urls/')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ approvalPage: 'p', resume: `r:${req.url}`, cancel: 'c' }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const apiEnv = (jobId: string) => ({
  BASE_INTERNAL_URL: base,
  WM_TOKEN: 'tok-1',
  WM_WORKSPACE: 'ws1',
  WM_JOB_ID: jobId,
});

describe.concurrent('Python WAC v2 harness', () => {
  it('dispatches the first task sequentially, then a gather fan-out in one parallel round, then completes', async () => {
    const [first, second, full] = await Promise.all([
      wac({ mode: 'seq', x: 1 }, {}),
      wac({ mode: 'seq', x: 1 }, { completed_steps: { a: 2 } }),
      wac({ mode: 'seq', x: 1 }, { completed_steps: { a: 2, t: 10, t_2: 20 } }),
    ]);
    expect(first).toEqual({
      type: 'dispatch',
      mode: 'sequential',
      steps: [{ name: 'a', script: 'a', args: { x: 1 }, key: 'a', dispatch_type: 'inline' }],
      keys: ['a'],
    });
    expect(second).toEqual({
      type: 'dispatch',
      mode: 'parallel',
      steps: [
        { name: 't', script: 't', args: { n: 1 }, key: 't', dispatch_type: 'inline', timeout: 60, tag: 'gpu' },
        { name: 't', script: 't', args: { n: 2 }, key: 't_2', dispatch_type: 'inline', timeout: 60, tag: 'gpu' },
      ],
      keys: ['a', 't', 't_2'],
    });
    expect(full).toEqual({ type: 'complete', result: { r: 2, rs: [10, 20] }, keys: ['a', 't', 't_2'] });
  });

  it('a child round runs only the executing task and completes with its own result; its failure fails the job', async () => {
    const [child, failing, unreached] = await Promise.all([
      wac({ mode: 'seq', x: 1 }, { completed_steps: { a: 2 }, _executing_key: 't_2' }),
      runRound({ mode: 'uncaught' }, { completed_steps: {}, _executing_key: 't' }),
      runRound({ mode: 'seq', x: 1 }, { completed_steps: { a: 2 }, _executing_key: 'zzz' }),
    ]);
    expect(child).toEqual({ type: 'complete', result: 20, keys: ['a', 't', 't_2'] });
    expect(failing.code).toBe(1);
    expect(failing.result.error).toMatchObject({ name: 'ValueError', message: 'negative: -1' });
    expect(failing.result.error.stack).toContain('raise ValueError');
    expect(failing.result.error.stack).not.toContain('_wac.py');
    expect(unreached.code).toBe(1);
    expect(unreached.result.error.message).toContain('(zzz) was not reached');
  });

  it('parallel() batches by concurrency and gather over coroutines still batches their tasks', async () => {
    const [b1, coros] = await Promise.all([
      wac({ mode: 'fanout' }, { completed_steps: { t: 10, t_2: 20 } }),
      wac({ mode: 'fanout' }, { completed_steps: { t: 10, t_2: 20, t_3: 30 } }),
    ]);
    // concurrency=2 over 3 items: the second batch is the lone t_3
    expect(b1).toMatchObject({ type: 'dispatch', mode: 'sequential', keys: ['t', 't_2', 't_3'] });
    expect(b1.steps.map((s: any) => s.key)).toEqual(['t_3']);
    expect(coros).toMatchObject({ type: 'dispatch', mode: 'parallel', keys: ['t', 't_2', 't_3', 't_4', 't_5'] });
    expect(coros.steps.map((s: any) => [s.key, s.args])).toEqual([
      ['t_4', { n: 0 }],
      ['t_5', { n: 1 }],
    ]);
  });

  it('step() with the fast path disabled ends the round with inline_checkpoint; replayed, it is not re-run', async () => {
    const [out, replay] = await Promise.all([
      wac({ mode: 'step' }, {}, NO_FAST_PATH),
      wac({ mode: 'step' }, { completed_steps: { pick: { v: 7 } } }, NO_FAST_PATH),
    ]);
    expect(out).toMatchObject({ type: 'inline_checkpoint', key: 'pick', result: { v: 42 }, keys: ['pick'] });
    expect(Object.keys(out).sort()).toEqual(['duration_ms', 'key', 'keys', 'result', 'started_at', 'type']);
    expect(out.started_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(typeof out.duration_ms).toBe('number');
    expect(replay).toMatchObject({ type: 'dispatch', steps: [{ key: 't', args: { n: 7 } }], keys: ['pick', 't'] });
  });

  it('step() fast path: POSTs each result with the job token, one at a time, and records a failure as TaskError', async () => {
    const before = seen.length;
    const out = await wac({ mode: 'steps' }, {}, apiEnv('job-steps'));
    expect(out).toEqual({ type: 'complete', result: { s: [1, 2], err: 'normalized: division by zero', key: 'bad' }, keys: ['s1', 's2', 'bad'] });
    const posts = seen.slice(before).filter((s) => s.url.includes('/job-steps'));
    expect(posts.map((p) => [p.method, p.url, p.auth])).toEqual([
      ['POST', '/api/w/ws1/jobs/wac/inline_checkpoint/job-steps', 'Bearer tok-1'],
      ['POST', '/api/w/ws1/jobs/wac/inline_checkpoint/job-steps', 'Bearer tok-1'],
      ['POST', '/api/w/ws1/jobs/wac/inline_checkpoint/job-steps', 'Bearer tok-1'],
    ]);
    expect(posts.map((p) => p.body.key).sort()).toEqual(['bad', 's1', 's2']);
    expect(Object.keys(posts[0].body).sort()).toEqual(['duration_ms', 'key', 'result', 'started_at']);
    const bad = posts.find((p) => p.body.key === 'bad')!.body.result;
    expect(bad).toMatchObject({ __wmill_error: true, message: 'division by zero', step_key: 'bad', result: { error: { name: 'ZeroDivisionError', message: 'division by zero' } } });
    expect(bad.result.error.stack).toContain('ZeroDivisionError');
    expect(maxInFlight.get('job-steps')).toBe(1);
  });

  it('step() falls back to inline_checkpoint when the POST fails; a failed step is recorded as its marker', async () => {
    const out = await wac({ mode: 'steps' }, { completed_steps: { s1: 1, s2: 2 } }, apiEnv('fail-job'));
    expect(out).toMatchObject({ type: 'inline_checkpoint', key: 'bad', keys: ['s1', 's2', 'bad'] });
    expect(out.result).toMatchObject({ __wmill_error: true, message: 'division by zero', step_key: 'bad' });
    const replay = await wac({ mode: 'steps' }, { completed_steps: { s1: 1, s2: 2, bad: out.result } }, NO_FAST_PATH);
    expect(replay).toEqual({ type: 'complete', result: { s: [1, 2], err: 'division by zero', key: 'bad' }, keys: ['s1', 's2', 'bad'] });
  });

  it('a recorded task failure raises TaskError: caught by the body, or failing the job when not', async () => {
    const rec = { completed_steps: { t: failure('t', 'negative: -1', 'job-c') } };
    const [caught, uncaught] = await Promise.all([wac({ mode: 'catch' }, rec), runRound({ mode: 'uncaught' }, rec)]);
    expect(caught).toEqual({
      type: 'complete',
      result: { caught: 'negative: -1', step_key: 't', child: 'job-c', name: 'ValueError' },
      keys: ['t'],
    });
    expect(uncaught.code).toBe(1);
    expect(uncaught.result).toMatchObject({ error: { name: 'TaskError', message: 'negative: -1' } });
  });

  it('a suspend the body swallows with a bare except still ends the round', async () => {
    expect(await wac({ mode: 'swallow' }, {})).toMatchObject({ type: 'dispatch', mode: 'sequential', steps: [{ key: 't' }], keys: ['t'] });
  });

  it('sleep: whole seconds (at least 1), keyed sleep, sleep_2, ...', async () => {
    const [s1, s2] = await Promise.all([wac({ mode: 'sleep' }, {}), wac({ mode: 'sleep' }, { completed_steps: { sleep: true } })]);
    expect(s1).toEqual({ type: 'sleep', key: 'sleep', seconds: 3, keys: ['sleep'] });
    expect(s2).toEqual({ type: 'sleep', key: 'sleep_2', seconds: 1, keys: ['sleep', 'sleep_2'] });
  });

  it('approvals: explicit and default keys, replayed values, get_approval_urls, key checks', async () => {
    const urls = { approvalPage: 'p', resume: 'r', cancel: 'c' };
    const ok = { value: { a: 1 }, approver: 'alice', approved: true };
    const [first, second, done, dup, bad] = await Promise.all([
      wac({ mode: 'approval' }, { completed_steps: { urls } }),
      wac({ mode: 'approval' }, { completed_steps: { urls, manager: ok } }),
      wac({ mode: 'approval' }, { completed_steps: { urls, manager: ok, approval: { value: null, approver: null, approved: false } } }),
      runRound({ mode: 'dupkey' }, { completed_steps: { m: ok } }),
      runRound({ mode: 'badkey' }, {}),
    ]);
    expect(first).toEqual({ type: 'approval', key: 'manager', timeout: 3600, form: { type: 'object' }, self_approval_disabled: false, keys: ['urls', 'manager'] });
    expect(second).toEqual({ type: 'approval', key: 'approval', timeout: 1800, form: null, self_approval_disabled: true, keys: ['urls', 'manager', 'approval'] });
    expect(done).toEqual({ type: 'complete', result: [urls, ok, { value: null, approver: null, approved: false }], keys: ['urls', 'manager', 'approval'] });
    expect(dup.code).toBe(1);
    expect(dup.result.error.message).toContain('"m" is already used');
    expect(bad.code).toBe(1);
    expect(bad.result.error.name).toBe('ValueError');

    const before = seen.length;
    const minted = await wac({ mode: 'approval' }, {}, apiEnv('job-appr'));
    expect(minted).toMatchObject({ type: 'approval', key: 'manager' });
    const get = seen.slice(before).find((s) => s.url.includes('wac_approval_urls'))!;
    expect([get.method, get.url, get.auth]).toEqual(['GET', '/api/w/ws1/jobs/wac_approval_urls/job-appr/manager?approver=bob', 'Bearer tok-1']);
    const post = seen.slice(before).find((s) => s.url.includes('/inline_checkpoint/job-appr'))!;
    expect(post.body).toMatchObject({ key: 'urls', result: { resume: 'r:/api/w/ws1/jobs/wac_approval_urls/job-appr/manager?approver=bob' } });
  });

  it('retries reserve attempt and backoff keys; the backoff is a durable sleep', async () => {
    const f = failure('flaky', 'flaky', 'c1');
    const keys = ['flaky', 'flaky#retry2', 'flaky#2', 'flaky#retry3', 'flaky#3'];
    const [backoff, second, exhausted] = await Promise.all([
      wac({ mode: 'retry' }, { completed_steps: { flaky: f } }),
      wac({ mode: 'retry' }, { completed_steps: { flaky: f, 'flaky#retry2': true } }),
      runRound({ mode: 'retry' }, { completed_steps: { flaky: f, 'flaky#retry2': true, 'flaky#2': f, 'flaky#retry3': true, 'flaky#3': f } }),
    ]);
    expect(backoff).toEqual({ type: 'sleep', key: 'flaky#retry2', seconds: 5, keys });
    expect(second).toMatchObject({ type: 'dispatch', steps: [{ key: 'flaky#2', name: 'flaky' }], keys });
    expect(exhausted.code).toBe(1);
    expect(exhausted.result.error).toMatchObject({ name: 'TaskError', message: 'flaky' });
  });

  it('task_script / task_flow, unawaited tasks, and keys that collide with generated ones', async () => {
    const [remote, unawaited, keys] = await Promise.all([
      wac({ mode: 'remote' }, {}),
      wac({ mode: 'unawaited' }, {}),
      wac({ mode: 'keys' }, { completed_steps: { x_2: 0, x: 1, x_3: 2 } }),
    ]);
    expect(remote).toEqual({
      type: 'dispatch',
      mode: 'parallel',
      steps: [
        { name: 'extract', script: 'f/data/extract', args: { url: 'u' }, key: 'extract', dispatch_type: 'script', timeout: 600, concurrent_limit: 2 },
        { name: 'pipeline', script: 'f/etl/pipeline', args: { y: 2 }, key: 'pipeline', dispatch_type: 'flow' },
      ],
      keys: ['extract', 'pipeline'],
    });
    expect(unawaited).toMatchObject({ type: 'dispatch', mode: 'parallel', keys: ['t', 't_2'] });
    expect(keys).toEqual({ type: 'complete', result: 'ok', keys: ['x_2', 'x', 'x_3'] });
  });

  it('without a checkpoint the script is a plain job: tasks and steps run directly', async () => {
    const [seq, fanout, steps] = await Promise.all([
      runRound({ mode: 'seq', x: 4 }, undefined),
      runRound({ mode: 'fanout' }, undefined),
      runRound({ mode: 'steps' }, undefined),
    ]);
    expect(seq.code, seq.logs).toBe(0);
    expect(seq.result).toEqual({ r: 5, rs: [10, 20] });
    expect(fanout.result).toEqual([[10, 20, 30], [1, 11]]);
    // Outside a workflow a step is just its function: its own exception, not a TaskError.
    expect(steps.code).toBe(1);
    expect(steps.result.error.name).toBe('ZeroDivisionError');
  });
});
