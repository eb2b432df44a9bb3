/**
 * Issue 13 (server half): a `wmill serve` no job or user can escape. Each test is an attack a
 * non-admin user (alice) tries against another user's (bob's) items on a real `wmill serve`
 * child process on loopback, embedded PGlite and PostgreSQL:
 * - jobs see none of the server's environment (bash, Python, TypeScript, workflow rounds and
 *   tasks in resident interpreters), and a job token dies with its job and mints nothing;
 * - every indirect way to reach a path (flow steps, schedules, workflow tasks, relative imports,
 *   `$var:`/`$res:` references, the in-job routes, webhooks, run by hash) is checked;
 * - job reads, signatures and resume URLs follow the job's visibility;
 * - tokens: list, revoke (401 at once), never in a log line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { ADMIN_TOKEN, Api, freshDatabase, spawnServe } from './helpers/server.js';
import { BIN, REPO } from './helpers/workspace.js';

const REAL_CLI = join(REPO, 'node_modules/windmill-cli/esm/main.js');
const SENTINEL = `sentinel-${randomBytes(12).toString('hex')}`;
const BOB_SECRET = 'bob-secret-value-7f3a';
const BOB_VAR = 'bob-variable-plaintext-91c2';

interface Srv {
  url: string;
  admin: Api;
  alice: Api;
  aliceToken: string;
  bob: Api;
  carol: Api;
  stderr: () => string;
  stop(): Promise<void>;
}

async function start(backend: 'pglite' | 'postgresql'): Promise<Srv & { databaseUrl?: string }> {
  const tmp = mkdtempSync(join(tmpdir(), 'wmill-trust-'));
  const db = backend === 'postgresql' ? await freshDatabase() : undefined;
  const env: Record<string, string> = { WMILL_SENTINEL_SECRET: SENTINEL, PGPASSWORD: SENTINEL, WMILL_LOG_REQUESTS: '1' };
  if (db) env.DATABASE_URL = db.url;
  const s = await spawnServe(db ? [] : ['--data', join(tmp, 'data')], env);
  let stderr = '';
  s.child.stderr!.on('data', (d) => (stderr += d));
  const admin = new Api(s.url, ADMIN_TOKEN);
  const aliceToken = await admin.addUser('alice');
  const bobToken = await admin.addUser('bob');
  const carolToken = await admin.addUser('carol');
  return {
    url: s.url,
    admin,
    alice: admin.as(aliceToken),
    aliceToken,
    bob: admin.as(bobToken),
    carol: admin.as(carolToken),
    stderr: () => stderr,
    databaseUrl: db?.url,
    async stop() {
      await s.stop();
      await db?.drop();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `f` until it returns something truthy (bounded by a generous deadline, never a timed assertion). */
async function until<T>(what: string, f: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await sleep(100);
  }
}

/** Run a preview as `api`'s user and wait for it: status and result. */
async function preview(api: Api, language: string, content: string, args: Record<string, unknown> = {}) {
  const r = await api.post('jobs/run_wait_result/preview', { language, content, args });
  return { status: r.status, result: r.json, text: r.text };
}

/** Everything a job could show of the server's environment. */
function leaks(text: string, extra: string[] = []): string[] {
  return [SENTINEL, ADMIN_TOKEN, 'WMILL_SENTINEL_SECRET', 'WMILL_ADMIN_TOKEN', 'DATABASE_URL', 'WMILL_LOG_REQUESTS', ...extra].filter((s) => text.includes(s));
}

const ENV_BASH = `out="$(env; echo '--- parent ---'; cat /proc/$PPID/environ 2>/dev/null | tr '\\0' '\\n')"
echo "$out" | base64 -w0
`;
const ENV_PY = `import os, json\n\ndef main():\n    return json.dumps(dict(os.environ))\n`;
const ENV_TS = `export async function main() {\n  return JSON.stringify(process.env);\n}\n`;
const ENV_WAC = `import { workflow, task, step } from "windmill-client";
const envTask = task(async function envTask() {
  return JSON.stringify(process.env);
});
export const main = workflow(async () => {
  const inRound = await step("env", () => JSON.stringify(process.env));
  const inTask = await envTask();
  return { inRound, inTask };
});
`;
const ENV_PY_WAC = `import os, json
from wmill import workflow, task


@task
async def env_task():
    return json.dumps(dict(os.environ))


@workflow
async def main():
    return {"task": await env_task()}
`;

async function envChecks(s: Srv, extra: string[]) {
  const bash = await preview(s.alice, 'bash', ENV_BASH);
  expect(bash.status, bash.text).toBe(200);
  const bashEnv = Buffer.from(String(bash.result), 'base64').toString('utf8');
  expect(bashEnv).toContain('WM_WORKSPACE=admins');
  expect(bashEnv).toMatch(/^PATH=/m);
  expect(leaks(bashEnv, extra)).toEqual([]);

  const py = await preview(s.alice, 'python3', ENV_PY);
  expect(py.status, py.text).toBe(200);
  expect(JSON.parse(py.result).WM_JOB_PATH).toBe('u/alice/preview');
  expect(leaks(py.result, extra)).toEqual([]);

  const ts = await preview(s.alice, 'bun', ENV_TS);
  expect(ts.status, ts.text).toBe(200);
  expect(JSON.parse(ts.result).WM_PERMISSIONED_AS).toBe('u/alice');
  expect(leaks(ts.result, extra)).toEqual([]);

  const wac = await preview(s.alice, 'bun', ENV_WAC);
  expect(wac.status, wac.text).toBe(200);
  expect(JSON.parse(wac.result.inTask).WM_TOKEN).toMatch(/^wjt_/);
  expect(leaks(JSON.stringify(wac.result), extra)).toEqual([]);

  const pyWac = await preview(s.alice, 'python3', ENV_PY_WAC);
  expect(pyWac.status, pyWac.text).toBe(200);
  expect(JSON.parse(pyWac.result.task).WM_USERNAME).toBe('alice');
  expect(leaks(JSON.stringify(pyWac.result), extra)).toEqual([]);
}

/** A Python job that calls the API with its own token and reports what it got. */
const PY_CALLS = (calls: Record<string, [string, string, unknown?]>) => `import os, json, urllib.request, urllib.error

def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(os.environ["BASE_INTERNAL_URL"] + path, method=method, data=data,
        headers={"Authorization": "Bearer " + os.environ["WM_TOKEN"], "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req) as r:
            return [r.status, r.read().decode()]
    except urllib.error.HTTPError as e:
        return [e.code, e.read().decode()]

def main():
    ws = os.environ["WM_WORKSPACE"]
    print("my token is " + os.environ["WM_TOKEN"])
    out = {"token": os.environ["WM_TOKEN"]}
${Object.entries(calls)
  .map(([k, [m, p, b]]) => `    out[${JSON.stringify(k)}] = call(${JSON.stringify(m)}, ${JSON.stringify(p)}.replace("{ws}", ws)${b !== undefined ? `, json.loads(${JSON.stringify(JSON.stringify(b))})` : ''})`)
  .join('\n')}
    return out
`;

describe.each(['pglite', 'postgresql'] as const)('wmill serve on %s: what a job gets', (backend) => {
  let s: Srv & { databaseUrl?: string };
  beforeAll(async () => {
    s = await start(backend);
    await s.bob.post('resources/create', { path: 'u/bob/secret_res', resource_type: 'any', value: { password: BOB_SECRET } });
  }, 180_000);
  afterAll(async () => s?.stop());

  it('a non-admin job sees none of the server environment (bash, python, typescript, workflow rounds and tasks)', async () => {
    const extra = s.databaseUrl ? [s.databaseUrl, new URL(s.databaseUrl).password].filter(Boolean) : [];
    await envChecks(s, extra);
  }, 240_000);

  it("a PostgreSQL job given no password sends none (not the server's PGPASSWORD or .pgpass)", async () => {
    // A database server of the job's choosing that asks for the password in clear (PostgreSQL's
    // AuthenticationCleartextPassword), records it and hangs up.
    let sent: string | undefined;
    const fake = createServer((sock) => {
      let buf = Buffer.alloc(0);
      let started = false;
      sock.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        if (!started && buf.length >= 4 && buf.length >= buf.readInt32BE(0)) {
          started = true;
          buf = buf.subarray(buf.readInt32BE(0));
          sock.write(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3]));
        }
        if (started && buf.length >= 5 && buf[0] === 0x70 && buf.length >= 1 + buf.readInt32BE(1)) {
          sent = buf.subarray(5, buf.readInt32BE(1)).toString('utf8').replace(/\0$/, '');
          sock.destroy();
        }
      });
      sock.on('error', () => undefined);
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    try {
      const port = (fake.address() as AddressInfo).port;
      const r = await preview(s.alice, 'postgresql', 'SELECT 1', { database: { host: '127.0.0.1', port, user: 'someone', dbname: 'db', sslmode: 'disable' } });
      expect(r.status).toBe(422);
      expect(sent).toBe('');
    } finally {
      fake.close();
    }
  });

  it('a job token carries its owner rights only, mints no token, and dies with its job', async () => {
    const r = await preview(
      s.alice,
      'python3',
      PY_CALLS({
        whoami: ['GET', '/api/w/{ws}/users/whoami'],
        mint: ['POST', '/api/users/tokens/create', { label: 'from a job' }],
        res: ['GET', '/api/w/{ws}/resources/get_value/u/bob/secret_res'],
        resi: ['GET', '/api/w/{ws}/resources/get_value_interpolated/u/bob/secret_res'],
      }),
    );
    expect(r.status, r.text).toBe(200);
    expect(JSON.parse(r.result.whoami[1]).username).toBe('alice');
    expect(r.result.mint[0], r.result.mint[1]).toBe(403);
    expect(r.result.res[0]).toBe(404);
    expect(r.result.resi[0]).toBe(404);
    expect(JSON.stringify(r.result)).not.toContain(BOB_SECRET);
    // The job is over: its token is refused, at once.
    const after = await new Api(s.url, r.result.token).get('users/whoami');
    expect(after.status).toBe(401);
    // The job's own token never reaches its logs.
    const jobs = await s.alice.get('jobs/list?job_kinds=preview&per_page=5');
    const logs = await s.alice.get(`jobs_u/get_logs/${jobs.json[0].id}`);
    expect(logs.text).toContain('my token is');
    expect(logs.text).not.toContain(r.result.token);
  }, 120_000);
});

describe('wmill serve: no path is reached around its permissions', () => {
  let s: Srv;
  let bobHash: string;
  beforeAll(async () => {
    s = await start('pglite');
    const { admin, bob } = s;
    bobHash = await bob.deploy({ path: 'u/bob/secret_script', language: 'bash', content: `echo ${BOB_SECRET}\n` });
    await bob.deploy({ path: 'u/bob/secret_ts', language: 'bun', content: `export function main() {\n  return "${BOB_SECRET}";\n}\n` });
    await bob.deploy({ path: 'u/bob/secret_py', language: 'python3', content: `def main():\n    return "${BOB_SECRET}"\n` });
    expect((await bob.post('flows/create', { path: 'u/bob/secret_flow', summary: '', value: { modules: [{ id: 'a', value: { type: 'script', path: 'u/bob/secret_script', input_transforms: {} } }] } })).status).toBe(201);
    expect((await bob.post('variables/create', { path: 'u/bob/secret_var', value: BOB_VAR, is_secret: true, description: '' })).status).toBe(201);
    expect((await bob.post('resources/create', { path: 'u/bob/secret_res', resource_type: 'any', value: { password: BOB_SECRET } })).status).toBe(201);
    // A folder bob owns; alice may read it (for now), carol not at all.
    expect((await admin.post('folders/create', { name: 'team', owners: ['u/bob'], extra_perms: { 'u/alice': false } })).status).toBeLessThan(300);
    await bob.deploy({ path: 'f/team/tick', language: 'bash', content: 'echo tick\n' });
  }, 180_000);
  afterAll(async () => s?.stop());

  const failedWith = (r: { status: number; result: any; text: string }, path: string) => {
    expect(r.status, r.text).not.toBe(200);
    expect(r.text).toContain(path);
    expect(r.text).not.toContain(BOB_SECRET);
  };

  it('a flow preview step of type script or flow cannot run what its user cannot read', async () => {
    const steps = [
      { type: 'script', path: 'u/bob/secret_script' },
      { type: 'flow', path: 'u/bob/secret_flow' },
      // Bob's version by hash, under a path alice owns: the version's own path decides.
      { type: 'script', path: 'u/alice/anything', hash: bobHash },
    ];
    for (const { path, ...step } of steps) {
      const id = (await s.alice.post('jobs/run/preview_flow', { value: { modules: [{ id: 'x', value: { ...step, path, input_transforms: {} } }] }, args: {} })).text;
      const done = await s.alice.waitJob(id);
      expect(done.success, JSON.stringify(done.result)).toBe(false);
      expect(JSON.stringify(done.result)).toContain(path);
      expect(JSON.stringify(done.result)).not.toContain(BOB_SECRET);
    }
  });

  it('a deployed flow runs its steps with the rights of whoever runs it', async () => {
    const value = { modules: [{ id: 'x', value: { type: 'script', path: 'u/bob/secret_script', input_transforms: {} } }] };
    expect((await s.alice.post('flows/create', { path: 'u/alice/wrapper', summary: '', value })).status).toBe(201);
    const r = await s.alice.post('jobs/run_wait_result/f/u/alice/wrapper', {});
    failedWith({ status: r.status, result: r.json, text: r.text }, 'u/bob/secret_script');
    // The same flow run by an admin reaches bob's script.
    expect((await s.admin.post('jobs/run_wait_result/f/u/alice/wrapper', {})).json).toBe(BOB_SECRET);
  });

  it('a workflow task (taskScript) cannot run what its user cannot read', async () => {
    const wf = `import { workflow, taskScript } from "windmill-client";
const secret = taskScript("u/bob/secret_script");
export const main = workflow(async () => {
  try {
    return { got: await secret({}) };
  } catch (e) {
    return { error: String((e as Error)?.message ?? e) };
  }
});
`;
    const r = await preview(s.alice, 'bun', wf);
    expect(r.status, r.text).toBe(200);
    expect(r.result.got).toBeUndefined();
    expect(r.result.error).toContain('u/bob/secret_script');
  });

  it("a preview at another user's workflow path neither poisons nor reads its cached task results", async () => {
    const wf = (value: string) => `import { workflow, task } from "windmill-client";
const secret = task(async function secret(x: number) {
  return ${value};
}, { cache_ttl: 600 });
export const main = workflow(async () => await secret(1));
`;
    await s.bob.deploy({ path: 'u/bob/wf_cache', language: 'bun', content: wf('"bob:" + x') });
    // alice previews her own code under bob's path: same workflow path, task name and arguments.
    const poison = await s.alice.post('jobs/run_wait_result/preview', { language: 'bun', path: 'u/bob/wf_cache', content: wf('"poisoned"') });
    expect(poison.json, poison.text).toBe('poisoned');
    const bobs = await s.bob.post('jobs/run_wait_result/p/u/bob/wf_cache', {});
    expect(bobs.json, bobs.text).toBe('bob:1');
    const peek = await s.carol.post('jobs/run_wait_result/preview', { language: 'bun', path: 'u/bob/wf_cache', content: wf('"carol ran it"') });
    expect(peek.json, peek.text).toBe('carol ran it');
  });

  it('relative imports, $var: and $res: references resolve with the job owner rights only', async () => {
    // From u/alice/preview, ../bob/secret_ts is u/bob/secret_ts.
    const imp = await preview(s.alice, 'bun', `import { main as theirs } from "../bob/secret_ts";\nexport async function main() {\n  return theirs();\n}\n`);
    failedWith(imp, 'bob/secret_ts');
    const pyImp = await preview(s.alice, 'python3', 'from u.bob.secret_py import main as theirs\n\ndef main():\n    return theirs()\n');
    failedWith(pyImp, 'u.bob');
    const v = await preview(s.alice, 'bash', 'x="$1"\necho "got $x"\n', { x: '$var:u/bob/secret_var' });
    failedWith(v, 'u/bob/secret_var');
    expect(v.text).not.toContain(BOB_VAR);
    // A resource of alice's that points at bob's variable.
    expect((await s.alice.post('resources/create', { path: 'u/alice/wrap', resource_type: 'any', value: { inner: '$var:u/bob/secret_var' } })).status).toBe(201);
    const res = await preview(s.alice, 'python3', 'def main(r):\n    return r\n', { r: '$res:u/alice/wrap' });
    failedWith(res, 'u/bob/secret_var');
    expect(res.text).not.toContain(BOB_VAR);
    const direct = await s.alice.get('resources/get_value_interpolated/u/alice/wrap');
    expect(direct.status).toBe(404);
    expect(direct.text).toContain('u/bob/secret_var');
    expect(direct.text).not.toContain(BOB_VAR);
  });

  it('the in-job resource routes check the caller (user or job token)', async () => {
    for (const p of ['resources/get_value/u/bob/secret_res', 'resources/get_value_interpolated/u/bob/secret_res']) {
      const r = await s.alice.get(p);
      expect(r.status, `${p}: ${r.text}`).toBe(404);
      expect(r.text).not.toContain(BOB_SECRET);
    }
    const w = await s.alice.post('resources/update_value/u/bob/secret_res', { value: { password: 'owned' } });
    expect(w.status).toBeGreaterThanOrEqual(403);
    expect((await s.bob.get('resources/get_value/u/bob/secret_res')).json).toEqual({ password: BOB_SECRET });
    // A flow preview's inline step calls the API with its own token.
    const id = (await s.alice.post('jobs/run/preview_flow', {
      value: { modules: [{ id: 'a', value: { type: 'rawscript', language: 'python3', content: PY_CALLS({ res: ['GET', '/api/w/{ws}/resources/get_value/u/bob/secret_res'], var: ['GET', '/api/w/{ws}/variables/get_value/u/bob/secret_var'] }), input_transforms: {} } }] },
      args: {},
    })).text;
    const done = await s.alice.waitJob(id);
    expect(done.success, JSON.stringify(done.result)).toBe(true);
    expect(done.result.res[0]).toBe(404);
    expect(done.result.var[0]).toBe(404);
  });

  it('webhooks and runs by path or hash refuse a path the caller cannot read', async () => {
    const get = await fetch(`${s.url}api/w/admins/jobs/run_wait_result/p/u/bob/secret_script?token=${s.aliceToken}`);
    expect(get.status).toBe(404);
    expect(await get.text()).toContain('u/bob/secret_script');
    for (const [m, p] of [
      ['POST', 'jobs/run_wait_result/p/u/bob/secret_script'],
      ['POST', 'jobs/run/p/u/bob/secret_script'],
      ['POST', `jobs/run/h/${bobHash}`],
      ['POST', `jobs/run_wait_result/h/${bobHash}`],
      ['GET', `jobs/run_wait_result/h/${bobHash}`],
      ['POST', 'jobs/run/f/u/bob/secret_flow'],
      ['GET', `scripts/get/h/${bobHash}`],
      ['GET', `scripts/deployment_status/h/${bobHash}`],
    ] as const) {
      const r = await s.alice.req(m, p, m === 'POST' ? {} : undefined);
      expect(r.status, `${m} ${p}: ${r.text}`).toBe(404);
      expect(r.text).not.toContain(BOB_SECRET);
    }
  });

  it('path tricks in route parameters end at the same check', async () => {
    for (const p of [
      'scripts/get/p/u/alice/../bob/secret_script',
      'scripts/get/p/u/alice/%2e%2e/bob/secret_script',
      'scripts/get/p/f/team/../../u/bob/secret_script',
      'scripts/get/p/u%2Fbob%2Fsecret_script',
      'scripts/get/p/u/bob//secret_script',
      'scripts/raw/p/u/bob/secret_script.sh',
      'resources/get/u/bob/secret_res',
      'variables/get/u/bob/secret_var',
      'flows/get/u/bob/secret_flow',
    ]) {
      const r = await s.alice.get(p);
      expect([400, 404], `${p}: ${r.status} ${r.text}`).toContain(r.status);
      expect(r.text).not.toContain(BOB_SECRET);
      expect(r.text).not.toContain(BOB_VAR);
    }
    const diff = await s.alice.post('scripts/raw_temp/diff', { scripts: { 'u/bob/secret_script': 'x' } });
    expect(diff.json).toEqual(['u/bob/secret_script']);
  });

  it('schedules run as their owner: refused at create time, failing with the path when rights are lost', async () => {
    const bad = await s.alice.post('schedules/create', { path: 'u/alice/steal', schedule: '0 0 * * * *', script_path: 'u/bob/secret_script', args: {} });
    expect(bad.status, bad.text).toBeGreaterThanOrEqual(400);
    expect(bad.text).toContain('u/bob/secret_script');
    expect((await s.admin.get('schedules/exists/u/alice/steal')).json).toBe(false);

    const ok = await s.alice.post('schedules/create', { path: 'u/alice/tick', schedule: '* * * * * *', script_path: 'f/team/tick', args: {} });
    expect(ok.status, ok.text).toBe(201);
    const moved = await s.alice.post('schedules/update/u/alice/tick', { script_path: 'u/bob/secret_script' });
    expect(moved.status, moved.text).toBeGreaterThanOrEqual(400);
    expect(moved.text).toContain('u/bob/secret_script');
    const jobsOfTick = async () => ((await s.admin.get('jobs/completed/list?script_path_exact=f/team/tick&per_page=100')).json as any[]) ?? [];
    await until('a successful tick', async () => (await jobsOfTick()).find((j) => j.success));
    // bob takes alice's read access away; the next tick fails and says why.
    expect((await s.bob.post('folders/update/team', { extra_perms: {} })).status).toBe(200);
    const failed = await until('a failed tick', async () => (await jobsOfTick()).find((j) => !j.success));
    expect(JSON.stringify(failed.result)).toContain('f/team/tick');
    expect((await s.alice.post('schedules/setenabled/u/alice/tick', { enabled: false })).status).toBe(200);
    // Bob's schedules are not listed to alice.
    expect((await s.bob.post('schedules/create', { path: 'u/bob/nightly', schedule: '0 0 3 * * *', script_path: 'u/bob/secret_script', args: { key: BOB_SECRET }, enabled: false })).status).toBe(201);
    const list = await s.alice.get('schedules/list');
    expect(list.text).not.toContain('u/bob/nightly');
    expect(list.text).not.toContain(BOB_SECRET);
  }, 120_000);

  it('job reads, signatures and resume URLs follow the job visibility; a signed link still works without login', async () => {
    const flow = { modules: [{ id: 'ask', value: { type: 'rawscript', language: 'bash', content: `echo asking ${BOB_SECRET}\n`, input_transforms: {} }, suspend: { required_events: 1, timeout: 3600 } }] };
    const id = (await s.bob.post('jobs/run/preview_flow', { value: flow, args: { note: BOB_SECRET } })).text;
    await until('the flow to wait for its approval', async () => (await s.bob.get(`jobs_u/get/${id}`)).json?.flow_status?.modules?.[0]?.type === 'WaitingForEvents');
    for (const [m, p] of [
      ['GET', `jobs_u/get/${id}`],
      ['GET', `jobs_u/get_logs/${id}`],
      ['GET', `jobs_u/getupdate/${id}`],
      ['GET', `jobs_u/completed/get_result_maybe/${id}`],
      ['GET', `jobs_u/completed/get_result/${id}`],
      ['GET', `jobs_u/completed/get/${id}`],
      ['GET', `jobs/job_signature/${id}/1`],
      ['GET', `jobs/resume_urls/${id}/1`],
      ['GET', `jobs/wac_approval_urls/${id}/go`],
      ['POST', `jobs/flow/resume/${id}`],
      ['POST', `jobs_u/queue/cancel/${id}`],
    ] as const) {
      const r = await s.alice.req(m, p, m === 'POST' ? {} : undefined);
      expect(r.status, `${m} ${p}: ${r.text}`).toBe(404);
      expect(r.text).not.toContain(BOB_SECRET);
      expect(r.text).not.toContain('jobs_u/resume');
    }
    const list = await s.alice.get('jobs/list');
    expect(list.json.map((j: any) => j.id)).not.toContain(id);
    // (None of bob's jobs so far is on a path alice may read.)
    expect(list.json.filter((j: any) => j.created_by === 'bob')).toEqual([]);
    // Admins see it; bob gets a signature and hands the link to someone without an account.
    expect((await s.admin.get(`jobs_u/get/${id}`)).status).toBe(200);
    const sig = await s.bob.get(`jobs/job_signature/${id}/7`);
    expect(sig.status, sig.text).toBe(200);
    const link = await fetch(`${s.url}api/w/admins/jobs_u/resume/${id}/7/${sig.text}`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(link.status).toBe(201);
    const done = await s.bob.waitJob(id);
    expect(done.success, JSON.stringify(done.result)).toBe(true);
  });

  it('a folder reader sees the jobs of the folder; others do not', async () => {
    expect((await s.bob.post('folders/update/team', { extra_perms: { 'u/carol': false } })).status).toBe(200);
    const r = await s.bob.post('jobs/run_wait_result/p/f/team/tick', {});
    expect(r.json).toBe('tick');
    const mine = (await s.bob.get('jobs/list?script_path_exact=f/team/tick&per_page=1')).json[0];
    expect((await s.carol.get(`jobs_u/get/${mine.id}`)).status).toBe(200);
    expect((await s.carol.get('jobs/list?script_path_exact=f/team/tick')).json.map((j: any) => j.id)).toContain(mine.id);
    expect((await s.alice.get(`jobs_u/get/${mine.id}`)).status).toBe(404);
  });

  it("another user's draft is out of reach where the path is", async () => {
    expect((await s.bob.post('drafts/update/script/u/bob/secret_script', { value: { content: `echo draft ${BOB_SECRET}` } })).status).toBe(200);
    const r = await s.alice.get('drafts/get/script/u/bob/secret_script?username=bob');
    expect(r.status).toBe(404);
    expect(r.text).not.toContain(BOB_SECRET);
  });
});

describe('wmill serve: tokens', () => {
  let s: Srv;
  let tmp: string;
  beforeAll(async () => {
    s = await start('pglite');
    tmp = mkdtempSync(join(tmpdir(), 'wmill-trust-tokens-'));
  }, 180_000);
  afterAll(async () => {
    await s?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const run = (args: string[], env: Record<string, string> = {}) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, args, { cwd: tmp, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', WMILL_CONFIG_DIR: join(tmp, 'cfg'), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.once('close', (code) => resolve({ code, stdout, stderr }));
    });

  it('list shows prefix, label and dates of your own tokens, never a token; delete revokes at once', async () => {
    const t = (await s.alice.req('POST', '/api/users/tokens/create', { label: 'ci', expiration: '2099-01-01T00:00:00Z' })).text;
    expect(t.length).toBeGreaterThan(20);
    const list = await s.alice.req('GET', '/api/users/tokens/list');
    expect(list.status, list.text).toBe(200);
    expect(list.text).not.toContain(t);
    expect(list.text).not.toContain(s.aliceToken);
    const ci = list.json.find((x: any) => x.label === 'ci');
    expect(ci).toMatchObject({ label: 'ci', expiration: '2099-01-01T00:00:00.000Z' });
    expect(t.startsWith(ci.token_prefix)).toBe(true);
    expect(ci.token_prefix.length).toBeLessThan(t.length / 2);
    expect(typeof ci.created_at).toBe('string');
    // bob's list has none of alice's tokens, and he cannot revoke them.
    const bobList = await s.bob.req('GET', '/api/users/tokens/list');
    expect(bobList.json.map((x: any) => x.token_prefix)).not.toContain(ci.token_prefix);
    expect((await s.bob.req('DELETE', `/api/users/tokens/delete/${ci.token_prefix}`)).status).toBe(404);
    expect((await s.alice.as(t).get('users/whoami')).status).toBe(200);
    const del = await s.alice.req('DELETE', `/api/users/tokens/delete/${ci.token_prefix}`);
    expect(del.status, del.text).toBe(200);
    expect((await s.alice.as(t).get('users/whoami')).status).toBe(401);
    expect((await s.alice.get('users/whoami')).status).toBe(200);
  });

  it('the real windmill-cli token list and delete work against wmill serve', async () => {
    const t = (await s.alice.req('POST', '/api/users/tokens/create', { label: 'real-cli' })).text;
    expect((await run([REAL_CLI, 'workspace', 'add', 'a', 'admins', s.url, '--token', s.aliceToken])).code).toBe(0);
    const list = await run([REAL_CLI, 'token', 'list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    const rows = JSON.parse(list.stdout.slice(list.stdout.indexOf('[')));
    const row = rows.find((x: any) => x.label === 'real-cli');
    expect(row?.token_prefix).toBeTruthy();
    expect(list.stdout).not.toContain(t);
    const del = await run([REAL_CLI, 'token', 'delete', row.token_prefix]);
    expect(del.code, del.stdout + del.stderr).toBe(0);
    expect((await s.alice.as(t).get('users/whoami')).status).toBe(401);
  });

  it('wmill token list|delete', async () => {
    const t = (await s.alice.req('POST', '/api/users/tokens/create', { label: 'ours' })).text;
    const remote = ['--base-url', s.url, '--token', s.aliceToken, '--workspace', 'admins'];
    const list = await run([BIN, 'token', 'list', '--json', ...remote]);
    expect(list.code, list.stderr).toBe(0);
    const out = JSON.parse(list.stdout);
    expect(out.ok).toBe(true);
    const row = out.tokens.find((x: any) => x.label === 'ours');
    expect(row.token_prefix).toBeTruthy();
    expect(list.stdout + list.stderr).not.toContain(t);
    expect(list.stdout + list.stderr).not.toContain(s.aliceToken);
    const text = await run([BIN, 'token', 'list', ...remote]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(row.token_prefix);
    expect(text.stdout).toContain('ours');
    const del = await run([BIN, 'token', 'delete', row.token_prefix, '--json', ...remote]);
    expect(del.code, del.stderr).toBe(0);
    expect(JSON.parse(del.stdout)).toMatchObject({ ok: true, deleted: row.token_prefix });
    expect((await s.alice.as(t).get('users/whoami')).status).toBe(401);
    const again = await run([BIN, 'token', 'delete', row.token_prefix, ...remote]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(row.token_prefix);
    const bad = await run([BIN, 'token', 'delete', 'x y', ...remote]);
    expect(bad.code).toBe(2);
  });

  it('a token never reaches the server log, also in the query string of a failing request', async () => {
    const tok = s.aliceToken;
    // A folder alice owns, given an owner list that is not a list.
    expect((await s.alice.post('folders/create', { name: 'mine' })).status).toBeLessThan(300);
    const bad = await fetch(`${s.url}api/w/admins/folders/update/mine?token=${tok}`, { method: 'POST', body: '{"owners": 5}', headers: { 'content-type': 'application/json' } });
    for (const q of [`token=${tok}`, `a=1&token=${tok}&token=${tok}`, `%74oken=${tok}`, `TOKEN=${tok}`]) {
      await fetch(`${s.url}api/w/admins/scripts/get/p/f/mine/x?${q}`);
    }
    await fetch(`${s.url}api/w/admins/jobs_u/resume/00000000-0000-0000-0000-000000000000/1/${'ab'.repeat(32)}?token=${tok}`, { method: 'POST' });
    await until('the request log lines', async () => s.stderr().includes('jobs_u/resume'));
    expect(s.stderr()).toContain('scripts/get/p/f/mine/x');
    expect(s.stderr()).not.toContain(tok);
    expect(s.stderr()).not.toContain('ab'.repeat(32));
    // (Bad input, never a 500.)
    expect(bad.status).toBe(400);
  });
});
