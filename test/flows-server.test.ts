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
        ...py('def main(loop, pick, both):\n    print("MARK-last")\n    return {"loop": loop, "pick": pick, "both": both}\n'),
        input_transforms: { loop: { type: 'javascript', expr: 'results.loop' }, pick: { type: 'javascript', expr: 'results.pick' }, both: { type: 'javascript', expr: 'results.same' } },
      },
    },
  ],
};
const TRACED_RESULT = { loop: [1, 11, 21], pick: 'big', both: ['L', 'R'] };

beforeAll(async () => {
  srv = await startTestServer();
  tmp = mkdtempSync(join(tmpdir(), 'wmill-flows-server-'));
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
