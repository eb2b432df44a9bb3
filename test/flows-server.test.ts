/**
 * Flows on `wmill serve` as Windmill runs them: flow schedules run the flow; `flow_status` names
 * a job for every top-level step (loop iterations and branches as `flow_jobs` / the chosen
 * branch's job), so the real windmill-cli's `flow run` follows every step and prints its logs;
 * our CLI's `flow history|show-version|redeploy`; `draft push` of a flow folder.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from './helpers/server.js';
import { BIN, REPO } from './helpers/workspace.js';

const REAL_CLI = join(REPO, 'node_modules/windmill-cli/esm/main.js');
let srv: TestServer;
let tmp: string;
let ws: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      // eslint-disable-next-line no-control-regex
      const strip = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '');
      resolve({ code, stdout: strip(stdout), stderr: strip(stderr) });
    }),
  );
}

const remote = () => ['--base-url', srv.url, '--token', srv.token, '--workspace', 'admins'];
const py = (body: string) => ({ type: 'rawscript', language: 'python3', content: body });

/** Every step prints a marker of its own; the loop body has two steps, the branches one each. */
const TRACED = {
  modules: [
    { id: 'first', summary: 'First', value: { ...py('def main(n):\n    print("MARK-first")\n    return list(range(n))\n'), input_transforms: { n: { type: 'javascript', expr: 'flow_input.n' } } } },
    {
      id: 'loop',
      summary: 'Each number',
      value: {
        type: 'forloopflow',
        iterator: { type: 'javascript', expr: 'results.first' },
        skip_failures: false,
        parallel: true,
        parallelism: { type: 'static', value: 2 },
        modules: [
          { id: 'a', value: { ...py('def main(x):\n    print(f"MARK-iter-a-{x}")\n    return x * 10\n'), input_transforms: { x: { type: 'javascript', expr: 'flow_input.iter.value' } } } },
          { id: 'b', value: { ...py('def main(y, first):\n    print(f"MARK-iter-b-{y}-{len(first)}")\n    return y + 1\n'), input_transforms: { y: { type: 'javascript', expr: 'results.a' }, first: { type: 'javascript', expr: 'results.first' } } } },
        ],
      },
    },
    {
      id: 'pick',
      value: {
        type: 'branchone',
        branches: [{ summary: 'big', expr: 'results.loop.length > 2', modules: [{ id: 'big', value: { ...py('def main():\n    print("MARK-branch-big")\n    return "big"\n'), input_transforms: {} } }] }],
        default: [{ id: 'small', value: { ...py('def main():\n    print("MARK-branch-small")\n    return "small"\n'), input_transforms: {} } }],
      },
    },
    {
      id: 'both',
      value: {
        type: 'branchall',
        parallel: false,
        branches: [
          { summary: 'left', modules: [{ id: 'left', value: { ...py('def main():\n    print("MARK-left")\n    return "L"\n'), input_transforms: {} } }] },
          { summary: 'right', modules: [{ id: 'right', value: { ...py('def main():\n    print("MARK-right")\n    return "R"\n'), input_transforms: {} } }] },
        ],
      },
    },
    { id: 'same', value: { type: 'identity' } },
    {
      id: 'last',
      value: {
        ...py('def main(loop, pick, both, inner):\n    print("MARK-last")\n    return {"loop": loop, "pick": pick, "both": both, "inner": inner}\n'),
        input_transforms: {
          loop: { type: 'javascript', expr: 'results.loop' },
          pick: { type: 'javascript', expr: 'results.pick' },
          both: { type: 'javascript', expr: 'results.same' },
          // A step inside the branch taken is visible after it, as Windmill shows it.
          inner: { type: 'javascript', expr: 'results.big' },
        },
      },
    },
  ],
};
const TRACED_RESULT = { loop: [1, 11, 21], pick: 'big', both: ['L', 'R'], inner: 'big' };

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'wmill-flows-server-'));
  // Jobs on serve run sandboxed: the test's folder, where they leave what the test reads, is shown
  // to them, writable (as root without capabilities).
  Object.assign(process.env, { WMILL_SANDBOX_RW: tmp, WMILL_SANDBOX_UID: '0' });
  srv = await startTestServer();
  ws = join(tmp, 'ws');
  mkdirSync(ws, { recursive: true });
  writeFileSync(join(ws, 'wmill.yaml'), 'defaultTs: bun\nincludes:\n  - f/**\n');
  const c = await srv.api.post('flows/create', { path: 'f/tests/traced', summary: 'traced', value: TRACED, schema: { type: 'object', properties: { n: { type: 'integer', default: 3 } } } });
  expect(c.status, c.text).toBe(201);
}, 120_000);

afterAll(async () => {
  await srv?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('flow_status names a job for every step', () => {
  it('loop iterations and branches are jobs of their own, whose logs hold their steps\' logs', async () => {
    const id = (await srv.api.post('jobs/run/f/f/tests/traced', { n: 3 })).text;
    const done = await srv.api.waitJob(id);
    expect(done.success, JSON.stringify(done.result)).toBe(true);
    expect(done.result).toEqual(TRACED_RESULT);
    const j = (await srv.api.get(`jobs_u/get/${id}`)).json;
    const mods = j.flow_status.modules as any[];
    expect(mods.map((m) => [m.id, m.type])).toEqual([
      ['first', 'Success'],
      ['loop', 'Success'],
      ['pick', 'Success'],
      ['both', 'Success'],
      ['same', 'Success'],
      ['last', 'Success'],
    ]);
    for (const m of mods) expect(m.job, m.id).toMatch(/^[0-9a-f-]{36}$/);
    const loop = mods[1];
    expect(loop.flow_jobs).toHaveLength(3);
    expect(loop.flow_jobs_success).toEqual([true, true, true]);
    expect(loop.iterator).toMatchObject({ index: 2 });
    for (const [i, sub] of loop.flow_jobs.entries()) {
      const logs = (await srv.api.get(`jobs_u/get_logs/${sub}`)).text;
      expect(logs).toContain(`MARK-iter-a-${i}`);
      expect(logs).toContain(`MARK-iter-b-${i * 10}-3`);
      const subJob = (await srv.api.get(`jobs_u/get/${sub}?no_logs=true`)).json;
      expect(subJob.job_kind).toBe('flow');
      expect(subJob.parent_job).toBe(id);
      expect(subJob.flow_status.modules.map((m: any) => m.id)).toEqual(['a', 'b']);
    }
    expect(mods[2].branch_chosen).toEqual({ type: 'branch', branch: 0 });
    expect((await srv.api.get(`jobs_u/get_logs/${mods[2].job}`)).text).toContain('MARK-branch-big');
    expect(mods[3].flow_jobs).toHaveLength(2);
    expect(mods[3].branchall).toEqual({ branch: 1, len: 2 });
    expect((await srv.api.get(`jobs_u/get_logs/${mods[3].flow_jobs[1]}`)).text).toContain('MARK-right');
    // The identity step's job returns what it passed through.
    expect((await srv.api.get(`jobs_u/completed/get_result/${mods[4].job}`)).json).toEqual(['L', 'R']);
    // The flow job's own log holds every step's log.
    const all = (await srv.api.get(`jobs_u/get_logs/${id}`)).text;
    for (const mark of ['MARK-first', 'MARK-iter-a-2', 'MARK-branch-big', 'MARK-left', 'MARK-right', 'MARK-last']) expect(all).toContain(mark);
  }, 60_000);

  it('the real windmill-cli flow run prints the logs of every step, loop iterations and branches included', async () => {
    const env = { WMILL_CONFIG_DIR: join(tmp, 'realcfg') };
    const add = await run([REAL_CLI, 'workspace', 'add', 'l', 'admins', srv.url, '--token', srv.token], ws, env);
    expect(add.code, add.stdout + add.stderr).toBe(0);
    const r = await run([REAL_CLI, 'flow', 'run', 'f/tests/traced', '-d', '{"n":3}'], ws, env);
    const all = r.stdout + r.stderr;
    expect(r.code, all).toBe(0);
    expect(all).toContain('Flow ran to completion');
    const marks = ['MARK-first', 'MARK-branch-big', 'MARK-left', 'MARK-right', 'MARK-last'];
    for (let i = 0; i < 3; i++) marks.push(`MARK-iter-a-${i}`, `MARK-iter-b-${i * 10}-3`);
    for (const m of marks) expect(all, m).toContain(m);
    expect(all).toContain('(iteration 2)');
    expect(all).not.toContain('MARK-branch-small');
  }, 120_000);

  it('a retried step shows its failed attempts in failed_retries and its final job, never a Failure before its last attempt', async () => {
    const flaky = 'import os\n\ndef main(marker):\n    n = int(open(marker).read()) if os.path.exists(marker) else 0\n    open(marker, "w").write(str(n + 1))\n    if n < 2:\n        raise Exception(f"attempt {n} fails")\n    return n\n';
    const value = { modules: [{ id: 'flaky', value: { ...py(flaky), input_transforms: { marker: { type: 'javascript', expr: 'flow_input.marker' } } }, retry: { constant: { attempts: 3, seconds: 0.3 } } }] };
    expect((await srv.api.post('flows/create', { path: 'f/tests/flaky', summary: '', value })).status).toBe(201);
    const id = (await srv.api.post('jobs/run/f/f/tests/flaky', { marker: join(tmp, 'flaky-marker') })).text;
    // While it retries, the step is never shown as failed (the real CLI stops following a failed step).
    const seen = new Set<string>();
    for (;;) {
      const j = (await srv.api.get(`jobs_u/get/${id}?no_logs=true`)).json;
      seen.add(j.flow_status.modules[0].type);
      if (j.type === 'CompletedJob') break;
      await new Promise((r) => setTimeout(r, 30));
    }
    expect(seen.has('Failure')).toBe(false);
    const m = (await srv.api.get(`jobs_u/get/${id}`)).json.flow_status.modules[0];
    expect(m.type).toBe('Success');
    expect(m.failed_retries).toHaveLength(2);
    expect(m.failed_retries).not.toContain(m.job);
    expect((await srv.api.get(`jobs_u/completed/get_result/${m.job}`)).json).toBe(2);
  }, 60_000);

  it('our flow run prints the logs of every step too', async () => {
    const r = await run([BIN, 'flow', 'run', 'f/tests/traced', '-d', '{"n":3}', ...remote()], ws);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(TRACED_RESULT);
    for (const m of ['MARK-first', 'MARK-iter-a-0', 'MARK-iter-b-20-3', 'MARK-branch-big', 'MARK-left', 'MARK-right', 'MARK-last']) expect(r.stderr, m).toContain(m);
  }, 60_000);
});

describe('flow schedules', () => {
  it('a schedule of a flow runs the flow and keeps its next tick queued', async () => {
    const api = srv.api;
    const value = { modules: [{ id: 'hi', value: { ...py('def main(who):\n    return f"hi {who}"\n'), input_transforms: { who: { type: 'javascript', expr: 'flow_input.who' } } } }] };
    expect((await api.post('flows/create', { path: 'f/tests/ticking', summary: '', value })).status).toBe(201);
    const c = await api.post('schedules/create', { path: 'f/tests/every_sec', schedule: '* * * * * *', timezone: 'UTC', script_path: 'f/tests/ticking', is_flow: true, args: { who: 'cron' } });
    expect(c.status, c.text).toBe(201);
    const ran = async () => srv.server.db.query<{ id: string; result: unknown; kind: string }>(`SELECT id, result, kind FROM job WHERE schedule_path = 'f/tests/every_sec' AND status = 'success'`);
    for (let i = 0; i < 200 && (await ran()).length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    const rows = await ran();
    expect(rows.length).toBeGreaterThanOrEqual(2);
    expect(rows[0]!.kind).toBe('flow');
    expect(rows[0]!.result).toBe('hi cron');
    const queued = await srv.server.db.query(`SELECT count(*)::int AS n FROM job WHERE schedule_path = 'f/tests/every_sec' AND status = 'queued'`);
    expect(queued[0]!.n).toBe(1);

    // A tick runs the flow's version current at run time.
    const v2 = { modules: [{ id: 'hi', value: { ...py('def main(who):\n    return f"hello {who}"\n'), input_transforms: { who: { type: 'javascript', expr: 'flow_input.who' } } } }] };
    expect((await api.post('flows/update/f/tests/ticking', { path: 'f/tests/ticking', summary: '', value: v2 })).status).toBe(200);
    const hello = async () => (await ran()).filter((r) => r.result === 'hello cron').length;
    for (let i = 0; i < 200 && (await hello()) < 1; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await hello()).toBeGreaterThanOrEqual(1);

    await api.post('schedules/setenabled/f/tests/every_sec', { enabled: false });
    const after = await srv.server.db.query(`SELECT count(*)::int AS n FROM job WHERE schedule_path = 'f/tests/every_sec' AND status = 'queued'`);
    expect(after[0]!.n).toBe(0);
  }, 60_000);
});

describe('flow versions from our CLI', () => {
  it('flow history lists the versions, show-version shows one, redeploy deploys an old one again', async () => {
    const api = srv.api;
    const say = (word: string) => ({ modules: [{ id: 's', value: { ...py(`def main():\n    return "${word}"\n`), input_transforms: {} } }] });
    expect((await api.post('flows/create', { path: 'f/tests/versioned', summary: 'one', value: say('v1'), deployment_message: 'first' })).status).toBe(201);
    expect((await api.post('flows/update/f/tests/versioned', { path: 'f/tests/versioned', summary: 'two', value: say('v2'), deployment_message: 'second' })).status).toBe(200);
    const h = await run([BIN, 'flow', 'history', 'f/tests/versioned', '--json', ...remote()], ws);
    expect(h.code, h.stderr).toBe(0);
    const hist = JSON.parse(h.stdout);
    expect(hist.versions.map((v: any) => [v.message, v.current])).toEqual([
      ['second', true],
      ['first', false],
    ]);
    const [v2, v1] = hist.versions.map((v: any) => v.id);
    expect(hist.current).toBe(v2);
    const text = await run([BIN, 'flow', 'history', 'f/tests/versioned', ...remote()], ws);
    expect(text.stdout).toMatch(new RegExp(`^\\* ${v2} .* second$`, 'm'));

    const show = await run([BIN, 'flow', 'show-version', 'f/tests/versioned', String(v1), ...remote()], ws);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain('Summary: one');
    expect(show.stdout).toContain('return \\"v1\\"');

    const re = await run([BIN, 'flow', 'redeploy', 'f/tests/versioned', String(v1), '--json', ...remote()], ws);
    expect(re.code, re.stderr).toBe(0);
    const r = JSON.parse(re.stdout);
    expect(r).toMatchObject({ ok: true, from: v1, deployed: true, message: `Redeploy of version ${v1}` });
    expect(r.version).toBeGreaterThan(v2);
    expect((await api.post('jobs/run_wait_result/f/f/tests/versioned', {})).json).toBe('v1');
    const again = await run([BIN, 'flow', 'history', 'f/tests/versioned', '--json', ...remote()], ws);
    expect(JSON.parse(again.stdout).versions).toHaveLength(3);
    const noop = await run([BIN, 'flow', 'redeploy', 'f/tests/versioned', String(r.version), ...remote()], ws);
    expect(noop.stdout).toContain('already the current version');

    // Bad input: one line, exit 2.
    const bad = await run([BIN, 'flow', 'show-version', 'f/tests/versioned', 'latest', ...remote()], ws);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain("got 'latest'");
    const other = (await api.get('flows/history/p/f/tests/traced')).json[0].id;
    const wrong = await run([BIN, 'flow', 'redeploy', 'f/tests/versioned', String(other), ...remote()], ws);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain(`belongs to f/tests/traced`);
    const missing = await run([BIN, 'flow', 'history', 'f/tests/nothing_here', ...remote()], ws);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("flow 'f/tests/nothing_here' not found");
  }, 60_000);
});

describe('drafts of flows', () => {
  it('draft push of a flow folder saves a flow draft (inline files included); draft deploy --kind flow deploys it', async () => {
    const dir = join(ws, 'f/tests/drafted__flow');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'hello.py'), 'def main(name):\n    return f"hello {name}"\n');
    writeFileSync(
      join(dir, 'flow.yaml'),
      "summary: drafted\ndescription: a flow draft\nvalue:\n  modules:\n    - id: hello\n      value:\n        type: rawscript\n        language: python3\n        content: '!inline hello.py'\n        input_transforms:\n          name:\n            type: javascript\n            expr: flow_input.name\nschema:\n  type: object\n  properties:\n    name:\n      type: string\n      default: draft\n",
    );
    const push = await run([BIN, 'draft', 'push', 'f/tests/drafted__flow', '--json', ...remote()], ws);
    expect(push.code, push.stderr).toBe(0);
    expect(JSON.parse(push.stdout)).toMatchObject({ ok: true, kind: 'flow', path: 'f/tests/drafted', version_id: null, deployed: null });
    const own = (await srv.api.get('drafts/get_own/flow/f/tests/drafted')).json;
    expect(own.value).toMatchObject({ path: 'f/tests/drafted', summary: 'drafted', description: 'a flow draft' });
    expect(own.value.value.modules[0].value.content).toBe('def main(name):\n    return f"hello {name}"\n');
    // Not deployed by a draft save.
    expect((await srv.api.get('flows/get/f/tests/drafted')).status).toBe(404);
    // Its flow.yaml works as well as the folder.
    const again = await run([BIN, 'draft', 'push', 'f/tests/drafted__flow/flow.yaml', ...remote()], ws);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('Saved your draft of flow f/tests/drafted');

    const dep = await run([BIN, 'draft', 'deploy', 'f/tests/drafted', '--kind', 'flow', '--message', 'from draft', ...remote()], ws);
    expect(dep.code, dep.stderr).toBe(0);
    expect(dep.stdout).toContain('Deployed your draft of flow f/tests/drafted');
    expect((await srv.api.post('jobs/run_wait_result/f/f/tests/drafted', {})).json).toBe('hello draft');
    expect((await srv.api.get('drafts/get_own/flow/f/tests/drafted')).json).toBeNull();
    expect((await srv.api.get('flows/history/p/f/tests/drafted')).json[0].deployment_msg).toBe('from draft');

    // A draft started before someone else's deploy is not deployed over it without --auto-parent.
    writeFileSync(join(dir, 'hello.py'), 'def main(name):\n    return f"hi {name}"\n');
    expect((await run([BIN, 'draft', 'push', 'f/tests/drafted__flow', ...remote()], ws)).code).toBe(0);
    const cur = (await srv.api.get('flows/get/f/tests/drafted')).json;
    const other = srv.api.as(await srv.api.addUser('flowdev', { is_admin: true }));
    expect((await other.post('flows/update/f/tests/drafted', { ...cur, deployment_message: 'someone else' })).status).toBe(200);
    const stale = await run([BIN, 'draft', 'deploy', 'f/tests/drafted', '--kind', 'flow', ...remote()], ws);
    expect(stale.code, stale.stderr).toBe(1);
    expect(stale.stderr).toContain('someone deployed it since your draft started');
    const over = await run([BIN, 'draft', 'deploy', 'f/tests/drafted', '--kind', 'flow', '--auto-parent', ...remote()], ws);
    expect(over.code, over.stderr).toBe(0);
    expect((await srv.api.post('jobs/run_wait_result/f/f/tests/drafted', { name: 'you' })).json).toBe('hi you');

    // A folder that is not a flow: one line naming it, exit 2.
    const notFlow = await run([BIN, 'draft', 'push', 'f/tests', ...remote()], ws);
    expect(notFlow.code).toBe(2);
    expect(notFlow.stderr.trim()).toBe('error: f/tests is a folder; pass a script file, or a flow folder (<name>__flow or <name>.flow)');
    // A broken flow.yaml: named, nothing saved.
    writeFileSync(join(dir, 'flow.yaml'), 'summary: x\nvalue:\n  modules:\n    - id: bad\n      value:\n        type: teleport\n');
    const broken = await run([BIN, 'draft', 'push', 'f/tests/drafted__flow', ...remote()], ws);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain("module 'bad' has unknown type 'teleport'");
  }, 60_000);
});
