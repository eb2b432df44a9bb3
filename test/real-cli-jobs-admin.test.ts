/**
 * The real windmill-cli's job administration against `wmill serve`: `job rerun`, `job restart`,
 * `jobs pull` / `jobs push`, `queues`, `workers`, each driven through the CLI and checked on the
 * server; plus who may do what (a user who cannot see a job cannot re-run or restart it, only
 * workspace admins export, import and delete jobs).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Api, startTestServer, type TestServer } from './helpers/server.js';
import { real } from './helpers/sync.js';
import { restartState } from '../src/server/jobs-admin.js';
import type { FlowValue } from '../src/items/flow-schema.js';

let srv: TestServer;
let tmp: string;
let cfg: string;

const RAND = 'import random\n\ndef main(x: str = "A"):\n    return f"{x}-{random.randint(0, 10**12)}"\n';
const V2 = 'def main(x: str = "A"):\n    return f"v2-{x}"\n';
const FLOW = {
  summary: '',
  value: {
    modules: [
      { id: 'a', value: { type: 'rawscript', language: 'python3', content: 'import random\n\ndef main():\n    return random.randint(0, 10**12)\n', input_transforms: {} } },
      { id: 'b', value: { type: 'rawscript', language: 'python3', content: 'def main(n: int):\n    return f"b-{n}"\n', input_transforms: { n: { type: 'javascript', expr: 'results.a' } } } },
      { id: 'c', value: { type: 'rawscript', language: 'python3', content: 'def main(s: str):\n    return f"c-{s}"\n', input_transforms: { s: { type: 'javascript', expr: 'results.b' } } } },
    ],
  },
  schema: { type: 'object', properties: {}, required: [] },
};

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'wmill-jobsadmin-'));
  cfg = join(tmp, 'cfg');
  srv = await startTestServer({ workers: 1 });
  const add = await real(tmp, ['workspace', 'add', 'admins', 'admins', srv.url, '--token', srv.token], cfg);
  expect(add.code, add.all).toBe(0);
  expect((await srv.api.post('folders/create', { name: 't' })).status).toBeLessThan(300);
  await srv.api.deploy({ path: 'f/t/rand', content: RAND, language: 'python3' });
  const f = await srv.api.post('flows/create', { path: 'f/t/three', ...FLOW });
  expect(f.status, f.text).toBe(201);
}, 180_000);

afterAll(async () => {
  await srv?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const cli = (args: string[], cwd = tmp) => real(cwd, args, cfg, { timeoutMs: 90_000 });

async function runDone(api: Api, route: string, args: Record<string, unknown> = {}) {
  const r = await api.post(route, args);
  expect(r.status, r.text).toBe(201);
  const done = await api.waitJob(r.text);
  expect(done.success, JSON.stringify(done)).toBe(true);
  return { id: r.text, result: done.result };
}

describe('job rerun / restart', () => {
  it('job rerun runs the same version with the same arguments and prints the new id', async () => {
    const first = await runDone(srv.api, 'jobs/run/p/f/t/rand', { x: 'Q' });
    expect(first.result).toMatch(/^Q-\d+$/);
    // A newer version is deployed since: the re-run still runs the job's own version.
    await srv.api.deploy({ path: 'f/t/rand', content: V2, language: 'python3', parent_hash: (await srv.api.get('scripts/get/p/f/t/rand')).json.hash });
    const r = await cli(['job', 'rerun', first.id]);
    expect(r.code, r.all).toBe(0);
    const newId = r.stdout.trim();
    expect(newId).toMatch(/^[0-9a-f-]{36}$/);
    expect(newId).not.toBe(first.id);
    const done = await srv.api.waitJob(newId);
    expect(done.success).toBe(true);
    expect(done.result).toMatch(/^Q-\d+$/);
    expect(done.result).not.toBe(first.result);
    const job = (await srv.api.get(`jobs_u/get/${newId}`)).json;
    expect(job.args).toEqual({ x: 'Q' });
  }, 120_000);

  it('job rerun of an unknown or invisible job fails, exit 1, naming it', async () => {
    const bobToken = await srv.api.addUser('bob');
    const bob = srv.api.as(bobToken);
    const mine = await runDone(srv.api, 'jobs/run/p/f/t/rand', { x: 'secret' });
    const r = await bob.post('jobs/run/batch_rerun_jobs', { job_ids: [mine.id], script_options_by_path: {}, flow_options_by_path: {} });
    expect(r.status).toBe(200);
    expect(r.text.trim()).toBe(`Error: Job ${mine.id} not found`);
    const missing = await cli(['job', 'rerun', '01a00000-0000-7000-8000-000000000000']);
    expect(missing.code).toBe(1);
    expect(missing.all).toContain('Job 01a00000-0000-7000-8000-000000000000 not found');
    // Nor can bob restart it or export anything.
    expect((await bob.post(`jobs/restart/f/${mine.id}`, { step_id: 'a' })).status).toBe(404);
    expect((await bob.get('jobs/completed/export')).status).toBe(403);
    expect((await bob.post('jobs/delete', [mine.id])).status).toBe(403);
  }, 120_000);

  it('job restart --step keeps the results of the steps before it and runs the rest again', async () => {
    const first = await runDone(srv.api, 'jobs/run/f/f/t/three');
    expect(first.result).toMatch(/^c-b-\d+$/);
    const atB = await cli(['job', 'restart', first.id, '--step', 'b']);
    expect(atB.code, atB.all).toBe(0);
    const idB = atB.stdout.trim();
    const doneB = await srv.api.waitJob(idB);
    expect(doneB.success, JSON.stringify(doneB)).toBe(true);
    expect(doneB.result).toBe(first.result); // step a was not run again
    // b and c did run again: new step jobs under the new flow job.
    const steps = (await srv.api.get(`jobs_u/get/${idB}`)).json.flow_status.modules as { id: string; job: string }[];
    const old = (await srv.api.get(`jobs_u/get/${first.id}`)).json.flow_status.modules as { id: string; job: string }[];
    expect(steps.find((s) => s.id === 'a')!.job).toBe(old.find((s) => s.id === 'a')!.job);
    expect(steps.find((s) => s.id === 'b')!.job).not.toBe(old.find((s) => s.id === 'b')!.job);
    // From the first step: everything again (a new random number).
    const atA = await cli(['job', 'restart', first.id, '--step', 'a']);
    expect(atA.code, atA.all).toBe(0);
    expect((await srv.api.waitJob(atA.stdout.trim())).result).not.toBe(first.result);
    // A step that does not exist: one line naming the steps there are.
    const bad = await cli(['job', 'restart', first.id, '--step', 'zz']);
    expect(bad.code).toBe(1);
    expect(bad.all).toContain("step 'zz' is not a top-level step of this flow (its steps: a, b, c)");
  }, 120_000);
});

describe('restart state', () => {
  const flow = {
    modules: [
      { id: 'a', value: { type: 'rawscript', language: 'bash', content: 'echo 1', input_transforms: {} } },
      { id: 'loop', value: { type: 'forloopflow', iterator: { type: 'javascript', expr: '[1,2,3]' }, modules: [], skip_failures: false } },
      { id: 'c', value: { type: 'rawscript', language: 'bash', content: 'echo 3', input_transforms: {} } },
    ],
  } as unknown as FlowValue;
  const done = { a: { job: '1' }, 'a#retry0': { job: '0' }, 'loop/0': { job: '2' }, 'loop/1': { job: '3' }, 'loop/2': { job: '4' }, 'loop/10': { job: '9' }, loop: { job: '5' }, c: { job: '6' } };
  it('keeps the steps before the restart step, and the iterations before n of a loop step', () => {
    expect(Object.keys(restartState(flow, { done }, 'loop').done)).toEqual(['a', 'a#retry0']);
    expect(Object.keys(restartState(flow, { done }, 'loop', 2).done)).toEqual(['a', 'a#retry0', 'loop/0', 'loop/1']);
    expect(Object.keys(restartState(flow, { done }, 'c').done)).toEqual(['a', 'a#retry0', 'loop/0', 'loop/1', 'loop/2', 'loop/10', 'loop']);
    expect(restartState(flow, { done }, 'a').done).toEqual({});
    expect(() => restartState(flow, { done }, 'c', 1)).toThrow("branch_or_iteration_n applies to a for-loop, while-loop or branch-all step; 'c' is a rawscript step");
  });
});

describe('jobs pull / push, queues, workers', () => {
  beforeAll(async () => {
    for (let i = 0; i < 4; i++) await runDone(srv.api, 'jobs/run/p/f/t/rand', { x: `p${i}` });
  }, 120_000);

  it('jobs pull writes every completed job of the workspace; jobs push imports them into another instance', async () => {
    const dir = join(tmp, 'pull');
    mkdirSync(dir);
    const expected = ((await srv.api.get('jobs/completed/list')).json as any[]).map((j) => j.id).sort();
    expect(expected.length).toBeGreaterThan(3);
    const r = await cli(['jobs', 'pull', '--skip-worker-check'], dir);
    expect(r.code, r.all).toBe(0);
    expect(r.all).toContain(`Successfully pulled ${expected.length} completed jobs`);
    const completed = JSON.parse(readFileSync(join(dir, 'completed_jobs.json'), 'utf8')) as any[];
    expect(completed.map((j) => j.id).sort()).toEqual(expected);
    const one = completed.find((j) => j.script_path === 'f/t/rand')!;
    expect(one).toMatchObject({ job_kind: 'script', success: true, workspace_id: 'admins' });
    expect(existsSync(join(dir, 'queued_jobs.json'))).toBe(true);

    // Another server takes them (job ids are unique per instance).
    const other = await startTestServer({ workers: 0 });
    try {
      const ocfg = join(tmp, 'cfg-other');
      const add = await real(dir, ['workspace', 'add', 'admins', 'admins', other.url, '--token', other.token], ocfg);
      expect(add.code, add.all).toBe(0);
      const push = await real(dir, ['jobs', 'push', '--skip-worker-check'], ocfg, { timeoutMs: 90_000 });
      expect(push.code, push.all).toBe(0);
      expect(push.all).toContain(`Imported ${expected.length} completed jobs`);
      const got = (await other.api.get(`jobs_u/completed/get/${one.id}`)).json;
      expect(got).toMatchObject({ id: one.id, success: true, result: one.result, script_path: 'f/t/rand' });
      // Twice: refused, nothing half-imported.
      const again = await real(dir, ['jobs', 'push', '--skip-worker-check'], ocfg, { timeoutMs: 90_000 });
      expect(again.all).toContain('Failed to push completed jobs: ApiError: Bad Request');
      const direct = await other.api.post('jobs/completed/import', completed);
      expect(direct.status).toBe(400);
      expect(direct.text).toBe(`job 0: job ${completed[0].id} already exists on this server`);
      expect(((await other.api.get('jobs/completed/list')).json as any[]).length).toBe(expected.length);
    } finally {
      await other.close();
    }
  }, 180_000);

  it('a queued job imported by a workspace admin runs as that admin, whoever the file names', async () => {
    const other = await startTestServer({ workers: 0 });
    try {
      const ws = new Api(other.api.base, other.token, 'admins');
      const carol = ws.as(await ws.addUser('carol', { is_admin: true }));
      const job = { id: '01a00000-0000-7000-8000-0000000000aa', script_path: 'u/carol/x', job_kind: 'preview', language: 'bash', raw_code: 'echo hi\n', args: {}, created_by: 'admin', permissioned_as: 'u/admin' };
      const r = await carol.post('jobs/queue/import', [job]);
      expect(r.status, r.text).toBe(200);
      const got = (await ws.get(`jobs_u/get/${job.id}`)).json;
      expect(got).toMatchObject({ created_by: 'carol', permissioned_as: 'u/carol' });
      const dep = await carol.post('jobs/queue/import', [{ ...job, id: '01a00000-0000-7000-8000-0000000000ab', job_kind: 'identity' }]);
      expect(dep.status).toBe(400);
    } finally {
      await other.close();
    }
  }, 120_000);

  it('queues shows the waiting jobs per tag and completion rates; workers lists this server', async () => {
    // Held in the queue (scheduled later): counted as "Later".
    const later = await srv.api.post('jobs/run/p/f/t/rand?scheduled_in_secs=3600', {});
    expect(later.status).toBe(201);
    const q = await cli(['queues']);
    expect(q.code, q.all).toBe(0);
    const row = q.all.split('\n').find((l) => /\bpython3\b/.test(l))!;
    expect(row, q.all).toBeDefined();
    // Running, Waiting, Later, Suspended, then the rates: some python3 jobs completed within 5 minutes.
    const cells = row.replace(/[│┃|]/g, ' ').trim().split(/\s+/);
    expect(cells.slice(0, 5)).toEqual(['python3', '0', '0', '1', '0']);
    expect(Number(cells[6])).toBeGreaterThan(0);
    const counts = (await srv.api.get('/api/jobs/completed/count_by_tag?horizon_secs=600')).json as { tag: string; count: number }[];
    expect(counts.find((c) => c.tag === 'python3')!.count).toBeGreaterThan(3);
    expect(typeof (await srv.api.get('/api/jobs/db_clock')).json).toBe('number');

    const w = await cli(['workers']);
    expect(w.code, w.all).toBe(0);
    expect(w.all).toContain('Worker Group: default (1 workers)');
    expect(w.all).toContain(srv.server.engine.worker);
    const list = (await srv.api.get('/api/workers/list?ping_since=60')).json as any[];
    expect(list.map((x) => x.worker)).toEqual([srv.server.engine.worker]);
    expect(list[0].jobs_executed).toBeGreaterThan(3);
    expect((await srv.api.post(`jobs_u/queue/cancel/${later.text}`, { reason: 'test' })).status).toBe(200);
  }, 120_000);
});
