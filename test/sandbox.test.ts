/**
 * The job sandbox of `wmill serve` (src/runner/executors/sandbox.ts): a colleague with an account
 * runs a job that goes looking. On a real `wmill serve` child process (embedded PGlite, its data
 * folder holding a sentinel file), a non-admin user's jobs try to read the data folder, another
 * job's folder, a file the server can read outside what jobs are given (world-readable, so only
 * the namespace stops it), the server's /proc entry and environment; to write outside their own
 * folder; to get a file back through a result.json symlink. Python, TypeScript and workflows
 * (resident interpreters, spares) still work and still reach the API on loopback.
 *
 * Needs bubblewrap (.ci/run installs it); skipped, saying so, without it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ADMIN_TOKEN, Api, spawnServe } from './helpers/server.js';
import { BIN, REPO } from './helpers/workspace.js';

const BWRAP = spawnSync('bwrap', ['--ro-bind', '/', '/', 'true']).status === 0;
if (!BWRAP) console.warn('test/sandbox.test.ts skipped: bwrap (bubblewrap) is not installed or cannot run here');
const ROOT = process.getuid?.() === 0;

const rand = () => randomBytes(10).toString('hex');
const ENV_SECRET = `env-secret-${rand()}`;
const DATA_SECRET = `data-secret-${rand()}`;
const OUTSIDE_SECRET = `outside-secret-${rand()}`;
const ROOT_SECRET = `root-secret-${rand()}`;
const JOB_SECRET = `job-secret-${rand()}`;

async function preview(api: Api, language: string, content: string) {
  const r = await api.post('jobs/run_wait_result/preview', { language, content, args: {} });
  return { status: r.status, result: r.json, text: r.text };
}

/** A bash job's report: every attempt's output, whatever happens (the job itself succeeds). */
const report = (lines: string[]) => `${lines.map((l) => `{ ${l} ; } >> report.txt 2>&1 || echo "DENIED: ${l.replace(/["$`\\]/g, '')}" >> report.txt`).join('\n')}
base64 -w0 report.txt
`;
const decode = (r: { result: unknown }) => Buffer.from(String(r.result), 'base64').toString('utf8');

describe.skipIf(!BWRAP)('wmill serve: a job sees only what its owner may see (bwrap sandbox)', () => {
  let tmp: string;
  let dataDir: string;
  let outside: string;
  let rootFile: string | undefined;
  let serve: Awaited<ReturnType<typeof spawnServe>>;
  let stderr = '';
  let admin: Api;
  let alice: Api;
  let ready: { sandbox?: string } = {};

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'wmill-sandbox-test-'));
    dataDir = join(tmp, 'data');
    // Readable by anyone on the host: only the sandbox keeps a job out.
    outside = mkdtempSync(join(tmpdir(), 'wmill-sandbox-outside-'));
    chmodSync(outside, 0o755);
    writeFileSync(join(outside, 'secret.txt'), OUTSIDE_SECRET, { mode: 0o644 });
    // The same, as a JSON document (what a result.json link would hand back as the result).
    writeFileSync(join(outside, 'secret.json'), JSON.stringify(OUTSIDE_SECRET), { mode: 0o644 });
    if (ROOT) {
      rootFile = `/root/.wmill-sandbox-test-${rand()}`;
      writeFileSync(rootFile, ROOT_SECRET, { mode: 0o600 });
    }
    serve = await spawnServe(['--data', dataDir], { WMILL_SENTINEL_SECRET: ENV_SECRET });
    serve.child.stderr!.on('data', (d) => (stderr += d));
    writeFileSync(join(dataDir, 'sentinel.txt'), DATA_SECRET, { mode: 0o644 });
    admin = new Api(serve.url, ADMIN_TOKEN);
    alice = admin.as(await admin.addUser('alice'));
    ready = serve.ready;
  }, 180_000);

  afterAll(async () => {
    await serve?.stop();
    rmSync(tmp, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
    if (rootFile) rmSync(rootFile, { force: true });
  });

  it('serve says it runs jobs in bwrap', () => {
    expect(ready.sandbox, JSON.stringify(ready)).toBe('bwrap');
  });

  it("a non-admin's bash job reads neither the data folder, nor files outside its own, nor the server's process", async () => {
    const r = await preview(
      alice,
      'bash',
      report([
        `cat ${join(dataDir, 'sentinel.txt')}`,
        `ls -la ${dataDir}`,
        `cat ${join(outside, 'secret.txt')}`,
        ...(rootFile ? [`cat ${rootFile}`, 'ls -la /root'] : []),
        `cat /proc/${serve.child.pid}/environ`,
        "cat /proc/*/environ | tr '\\0' '\\n'",
        `echo "LS:$(ls -A ${tmpdir()} | tr '\\n' ' ')"`,
        'echo "uid=$(id -u) home=$HOME pwd=$PWD"',
      ]),
    );
    expect(r.status, r.text).toBe(200);
    const out = decode(r);
    for (const secret of [DATA_SECRET, OUTSIDE_SECRET, ROOT_SECRET, ENV_SECRET]) expect(out, out).not.toContain(secret);
    // Not there at all (not merely unreadable): the data folder, the test's folder, the server's pid.
    expect(out).toMatch(new RegExp(`DENIED: cat ${join(dataDir, 'sentinel.txt')}`));
    expect(out).toMatch(new RegExp(`DENIED: ls -la ${dataDir}`));
    expect(out).toMatch(new RegExp(`DENIED: cat /proc/${serve.child.pid}/environ`));
    // The host's temp folder, as the job sees it: its own folder only.
    const ls = /LS:(.*)/.exec(out)?.[1] ?? '';
    // only its own folder, and (read-only, by design) the folder holding wmill's own files when
    // the package itself lives under the temporary directory (a clone in /tmp, as CI may make)
    const pkgTop = relative(tmpdir(), REPO).split(sep)[0];
    const seen = ls.trim().split(/\s+/).filter((n) => !(pkgTop && !pkgTop.startsWith('..') && n === pkgTop));
    expect(seen.join(' '), out).toMatch(/^wmill-job-\w+$/);
    // Its own folder is its home and working directory; as root's server, it runs as nobody.
    const who = /uid=(\d+) home=(\S+) pwd=(\S+)/.exec(out);
    expect(who, out).not.toBeNull();
    expect(who![2]).toBe(who![3]);
    if (ROOT) expect(who![1]).toBe('65534');
  }, 120_000);

  it("a job cannot read another job's folder while that job runs", async () => {
    const other = await admin.post('jobs/run/preview', {
      language: 'bash',
      content: `echo ${JOB_SECRET} > secret.txt\necho "DIR=$PWD"\nfor i in $(seq 1 1200); do [ -e stop ] && break; sleep 0.1; done\necho done\n`,
      args: {},
    });
    expect(other.status, other.text).toBe(201);
    const id = other.text;
    let dir: string | undefined;
    for (let i = 0; i < 1200 && !dir; i++) {
      dir = /DIR=(\S+)/.exec((await admin.get(`jobs_u/get_logs/${id}`)).text)?.[1];
      if (!dir) await new Promise((res) => setTimeout(res, 50));
    }
    expect(dir, 'the other job printed its folder').toBeDefined();
    try {
      const r = await preview(alice, 'bash', report([`cat ${dir}/secret.txt`, `ls ${dir}`, `cat ${dirnameOf(dir!)}/wmill-job-*/secret.txt`]));
      expect(r.status, r.text).toBe(200);
      const out = decode(r);
      expect(out, out).not.toContain(JOB_SECRET);
      expect(out).toContain(`DENIED: cat ${dir}/secret.txt`);
    } finally {
      writeFileSync(join(dir!, 'stop'), '');
      await admin.waitJob(id);
    }
  }, 120_000);

  it('a job writes nowhere but its own folder and its private /tmp', async () => {
    const name = `wmill-sandbox-escape-${rand()}`;
    const targets = [join(outside, name), join(dataDir, name), join(tmpdir(), name), `/usr/${name}`, `/etc/${name}`, ...(ROOT ? [`/root/${name}`] : [])];
    const r = await preview(alice, 'bash', report([...targets.map((t) => `echo x > ${t}`), `echo mine > /tmp/${name}`, `cat /tmp/${name}`]));
    expect(r.status, r.text).toBe(200);
    const out = decode(r);
    for (const t of targets) {
      expect(existsSync(t), `${t} was written from a job`).toBe(false);
      // Refused, except under /tmp: the job's own /tmp takes it, and the host's never sees it.
      if (!t.startsWith('/tmp/')) expect(out).toContain(`DENIED: echo x > ${t}`);
    }
    // Its /tmp works, and is its own: nothing of it reaches the host's.
    expect(out).toContain('mine');
    expect(existsSync(join('/tmp', name))).toBe(false);
  }, 120_000);

  it('a result.json symlink does not hand the job a file only the server can read', async () => {
    const r = await preview(alice, 'bash', `ln -s ${join(outside, 'secret.json')} result.json\nln -s ${join(dataDir, 'sentinel.txt')} result.out\necho last\n`);
    expect(JSON.stringify(r.result)).not.toContain(OUTSIDE_SECRET);
    expect(JSON.stringify(r.result)).not.toContain(DATA_SECRET);
  }, 120_000);

  it('Python and TypeScript jobs still run, import their clients and reach the API', async () => {
    const v = await alice.post('variables/create', { path: 'u/alice/v', value: 'hello-from-api', is_secret: false, description: '' });
    expect(v.status, v.text).toBe(201);
    const py = await preview(alice, 'python3', `import os, wmill\n\ndef main():\n    return {"v": wmill.get_variable("u/alice/v"), "uid": os.getuid(), "home": os.environ["HOME"], "cwd": os.getcwd()}\n`);
    expect(py.status, py.text).toBe(200);
    expect(py.result.v).toBe('hello-from-api');
    expect(py.result.home).toBe(py.result.cwd);
    if (ROOT) expect(py.result.uid).toBe(65534);
    const ts = await preview(
      alice,
      'bun',
      `import * as wmill from "windmill-client";\nexport async function main() {\n  return { v: await wmill.getVariable("u/alice/v"), uid: process.getuid?.(), home: process.env.HOME, cwd: process.cwd() };\n}\n`,
    );
    expect(ts.status, ts.text).toBe(200);
    expect(ts.result.v).toBe('hello-from-api');
    expect(ts.result.home).toBe(ts.result.cwd);
    if (ROOT) expect(ts.result.uid).toBe(65534);
  }, 120_000);

  it('workflows run their rounds and tasks in sandboxed residents', async () => {
    const wac = `import { workflow, task, step } from "windmill-client";
import { readFileSync } from "node:fs";
const peek = task(async function peek(path: string) {
  try { return readFileSync(path, "utf8"); } catch (e) { return "denied:" + (e as Error).message; }
});
export const main = workflow(async () => {
  const a = await step("a", () => 20);
  const b = await peek(${JSON.stringify(join(dataDir, 'sentinel.txt'))});
  return { sum: a + 22, b, uid: process.getuid?.() };
});
`;
    const r = await preview(alice, 'bun', wac);
    expect(r.status, r.text).toBe(200);
    expect(r.result.sum).toBe(42);
    expect(r.result.b).toMatch(/^denied:/);
    if (ROOT) expect(r.result.uid).toBe(65534);
    const py = `from wmill import workflow, task


@task
async def peek(path):
    try:
        return open(path).read()
    except Exception as e:
        return "denied:" + type(e).__name__


@workflow
async def main():
    return {"b": await peek(${JSON.stringify(join(dataDir, 'sentinel.txt'))})}
`;
    const p = await preview(alice, 'python3', py);
    expect(p.status, p.text).toBe(200);
    expect(p.result.b).toMatch(/^denied:/);
  }, 180_000);
});

function dirnameOf(p: string): string {
  return p.replace(/\/[^/]+\/?$/, '');
}

describe.skipIf(!BWRAP)('WMILL_SANDBOX', () => {
  const run = (env: Record<string, string>) => {
    const tmp = mkdtempSync(join(tmpdir(), 'wmill-sandbox-mode-'));
    mkdirSync(join(tmp, 'x'));
    try {
      return spawnSync(process.execPath, [BIN, 'serve', '--port', '0', '--data', join(tmp, 'data')], {
        env: { ...process.env, WMILL_ADMIN_TOKEN: ADMIN_TOKEN, NO_COLOR: '1', ...env },
        encoding: 'utf8',
        timeout: 60_000,
      });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  };

  it('bwrap asked for and not available: serve refuses to start (exit 2), naming the fix', () => {
    const r = run({ WMILL_SANDBOX: 'bwrap', WMILL_BWRAP: '/nonexistent/bwrap' });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/WMILL_SANDBOX=bwrap but the job sandbox cannot start: bwrap is not installed.*bubblewrap.*WMILL_SANDBOX=none/);
  });

  it('an unknown mode is a usage error', () => {
    const r = run({ WMILL_SANDBOX: 'chroot' });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain('WMILL_SANDBOX must be bwrap, none or auto (got "chroot")');
  });
});
