/**
 * Flows: every module kind and control feature on the example flows, in preview (our CLI,
 * offline) and on `wmill serve` (our CLI's flow run, the API, the real windmill-cli), plus
 * approvals resumed over HTTP, failure modules, runaway expressions and bad definitions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

function run(args: string[], cwd: string, opts: { env?: Record<string, string>; onStderr?: (all: string) => void } = {}): Promise<Run> {
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => {
    stderr += d;
    opts.onStderr?.(stderr);
  });
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

const preview = (folder: string, data: unknown, extra: string[] = [], onStderr?: (s: string) => void) =>
  run([BIN, 'flow', 'preview', folder, '-d', JSON.stringify(data), ...extra], ws, { onStderr });
const remote = ['--base-url', '', '--token', '', '--workspace', 'admins'];

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'wmill-flows-'));
  // Jobs on serve run sandboxed: the test's folder, where they leave what the test reads, is
  // shown to them, writable (as root without capabilities).
  Object.assign(process.env, { WMILL_SANDBOX_RW: tmp, WMILL_SANDBOX_UID: '0' });
  srv = await startTestServer();
  remote[1] = srv.url;
  remote[3] = srv.token;
  ws = join(tmp, 'ws');
  cpSync(join(REPO, 'examples'), ws, { recursive: true });
  const push = await run([BIN, 'sync', 'push', '--yes', ...remote], ws);
  expect(push.code, push.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await srv?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const CONTROL = { squares: [1, 4, 9], ticks: 3, size: 'many', sides: ['left', 'right'] };

describe('flow preview (offline)', () => {
  it('runs for-loop (parallel), while-loop, branch-one, branch-all, identity and rawscripts', async () => {
    const r = await preview('f/examples/control__flow', { n: 3 });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(CONTROL);
    for (const id of ['numbers', 'squares', 'countdown', 'pick', 'both', 'same', 'report']) expect(r.stderr).toContain(`====== ${id}`);
    const few = await preview('f/examples/control__flow', { n: 2 }, ['-s']);
    expect(JSON.parse(few.stdout)).toMatchObject({ squares: [1, 4], size: 'few' });
  });

  it('retries a flaky step, stops early, and runs the failure module', async () => {
    const ok = await preview('f/examples/retry__flow', { marker: join(tmp, 'm1') });
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toBe('last step ran');
    expect(ok.stderr).toMatch(/'flaky' failed \(attempt 1 of 3\): retrying/);
    const stopped = await preview('f/examples/retry__flow', { marker: join(tmp, 'm2'), stop_early: true }, ['-s']);
    expect(JSON.parse(stopped.stdout)).toBe('guard ok');
    const failed = await preview('f/examples/retry__flow', { marker: join(tmp, 'm3'), fail: true }, ['--json']);
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stdout)).toMatchObject({ ok: false, result: 'handled failure of guard' });
  });

  it('waits for an approval: resumed over HTTP with a payload, or approved with --approve, or rejected', async () => {
    let asked = false;
    const waiting = preview('f/examples/approval__flow', { what: 'ship' }, [], (s) => {
      const m = /approve: curl -X POST '([^']+)'/.exec(s);
      if (m && !asked) {
        asked = true;
        void fetch(m[1]!, { method: 'POST', body: JSON.stringify({ note: 'go' }), headers: { 'content-type': 'application/json' } });
      }
    });
    const r = await waiting;
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ done: 'ship', approval: { note: 'go' }, approvers: ['anonymous'] });

    const auto = await preview('f/examples/approval__flow', {}, ['--approve', '-s']);
    expect(JSON.parse(auto.stdout)).toMatchObject({ done: 'deploy', approvers: ['wmill flow preview --approve'] });

    let rejected = false;
    const no = await preview('f/examples/approval__flow', {}, [], (s) => {
      const m = /reject: {2}curl -X POST '([^']+)'/.exec(s);
      if (m && !rejected) {
        rejected = true;
        void fetch(m[1]!, { method: 'POST' });
      }
    });
    expect(no.code).toBe(1);
    expect(no.stdout).toContain('was disapproved');
  });

  it('stops a runaway expression, and rejects bad definitions naming the module', async () => {
    const dir = join(ws, 'f/examples/bad__flow');
    mkdirSync(dir, { recursive: true });
    const flow = (modules: string) => `summary: bad\ndescription: ''\nvalue:\n  modules:\n${modules}schema: {}\n`;
    writeFileSync(
      join(dir, 'flow.yaml'),
      flow(`    - id: spin\n      value:\n        type: rawscript\n        language: bash\n        content: echo hi\n        input_transforms:\n          x:\n            type: javascript\n            expr: '(() => { while (true) {} })()'\n`),
    );
    const spin = await preview('f/examples/bad__flow', {});
    expect(spin.code).toBe(1);
    expect(spin.stdout).toMatch(/module 'spin' input 'x': expression .* did not finish within 1000 ms/);

    writeFileSync(join(dir, 'flow.yaml'), flow(`    - id: mystery\n      value:\n        type: teleport\n`));
    const unknown = await preview('f/examples/bad__flow', {});
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("module 'mystery' has unknown type 'teleport'");

    writeFileSync(join(dir, 'flow.yaml'), flow(`    - id: gone\n      value:\n        type: rawscript\n        language: bash\n        content: '!inline gone.sh'\n`));
    const missing = await preview('f/examples/bad__flow', {});
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('gone.sh');
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);
});

describe('flows on wmill serve', () => {
  it('runs a deployed flow through the API and through our flow run, with per-step progress', async () => {
    const r = await srv.api.post('jobs/run_wait_result/f/f/examples/control', { n: 3 });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toEqual(CONTROL);
    const cli = await run([BIN, 'flow', 'run', 'f/examples/control', '-d', '{"n":2}', ...remote], ws);
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ size: 'few' });
    expect(cli.stderr).toContain('numbers');
  });

  it('a suspended flow holds no worker and resumes over HTTP', async () => {
    const id = (await srv.api.post('jobs/run/f/f/examples/approval', { what: 'release' })).text;
    let urls: any;
    for (let i = 0; i < 200 && !urls; i++) {
      const j = (await srv.api.get(`jobs_u/get/${id}`)).json;
      urls = j.flow_status?.modules?.[0]?.resume_urls;
      if (!urls) await new Promise((res) => setTimeout(res, 50));
    }
    expect(urls?.resume).toMatch(/\/jobs_u\/resume\//);
    // While it waits, both worker slots are free: plain jobs run.
    await srv.api.deploy({ path: 'u/admin/quick', content: 'echo quick\n', language: 'bash' });
    const [a, b] = await Promise.all([srv.api.runWait('u/admin/quick'), srv.api.runWait('u/admin/quick')]);
    expect([a.result, b.result]).toEqual(['quick', 'quick']);
    const forged = await fetch(urls.resume.replace(/[0-9a-f]{8}$/, '00000000'), { method: 'POST' });
    expect(forged.status).toBe(400);
    const ok = await fetch(urls.resume, { method: 'POST', body: '{"by":"http"}', headers: { 'content-type': 'application/json' } });
    expect(ok.status).toBe(201);
    const again = await fetch(urls.resume, { method: 'POST' });
    expect(await again.text()).toMatch(/^job [0-9a-f-]+ was already resumed at step 'ask' \(another resume came first\)$/);
    const done = await srv.api.waitJob(id);
    expect(done.success).toBe(true);
    expect(done.result).toMatchObject({ done: 'release', approval: { by: 'http' } });
  });

  it('runs deployed scripts and sub-flows as steps, and the failure module on the server', async () => {
    const value = {
      modules: [
        { id: 'hello', value: { type: 'script', path: 'f/examples/greet', input_transforms: { name: { type: 'static', value: 'Flow' } } } },
        { id: 'sub', value: { type: 'flow', path: 'f/examples/control', input_transforms: { n: { type: 'javascript', expr: '1' } } } },
        { id: 'both', value: { type: 'rawscript', language: 'python3', content: 'def main(a, b):\n    return [a["count"], b["size"]]\n', input_transforms: { a: { type: 'javascript', expr: 'results.hello' }, b: { type: 'javascript', expr: 'results.sub' } } } },
      ],
    };
    const c = await srv.api.post('flows/create', { path: 'f/examples/composed', summary: 'composed', value });
    expect(c.status, c.text).toBe(201);
    const r = await srv.api.post('jobs/run_wait_result/f/f/examples/composed', {});
    expect(r.status, r.text).toBe(200);
    expect(r.json).toEqual([1, 'few']);
    const failed = await srv.api.post('jobs/run_wait_result/f/f/examples/retry', { marker: join(tmp, 'srv-m'), fail: true });
    expect(failed.status).toBe(422);
    expect(failed.json).toBe('handled failure of guard');
  });

  it('the real windmill-cli pushes a flow and flow run returns its result', async () => {
    const cfg = join(tmp, 'realcfg');
    const env = { WMILL_CONFIG_DIR: cfg };
    expect((await run([REAL_CLI, 'workspace', 'add', 'l', 'admins', srv.url, '--token', srv.token], ws, { env })).code).toBe(0);
    const push = await run([REAL_CLI, 'sync', 'push', '--yes'], ws, { env });
    expect(push.code, push.stdout + push.stderr).toBe(0);
    const r = await run([REAL_CLI, 'flow', 'run', 'f/examples/control', '-d', '{"n":3}'], ws, { env });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toContain('Flow ran to completion');
    expect(r.stdout).toContain('"size": "many"');
  }, 120_000);
});
