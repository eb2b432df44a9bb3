/**
 * `wmill serve` on its embedded database: the real windmill-cli end to end, the version model,
 * drafts, permissions, secrets, schedules, and bad input (4xx, never 500, nothing half-written).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { startTestServer, type TestServer } from './helpers/server.js';
import { REPO } from './helpers/workspace.js';

const REAL_CLI = join(REPO, 'node_modules/windmill-cli/esm/main.js');

let srv: TestServer;
let tmp: string;

beforeAll(async () => {
  srv = await startTestServer();
  tmp = mkdtempSync(join(tmpdir(), 'wmill-serve-e2e-'));
}, 120_000);

afterAll(async () => {
  await srv?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** The real CLI as a child process (async: the server under test runs in this process). */
async function real(cwd: string, args: string[]) {
  const child = spawn(process.execPath, [REAL_CLI, ...args], {
    cwd,
    env: { ...process.env, WMILL_CONFIG_DIR: join(tmp, 'cfg'), NO_COLOR: '1', FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const code = await new Promise<number | null>((r) => child.once('close', (c) => r(c)));
  clearTimeout(timer);
  // eslint-disable-next-line no-control-regex
  const strip = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '');
  return { code, stdout: strip(stdout), stderr: strip(stderr), all: strip(stdout) + strip(stderr) };
}

function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = readFileSync(p, 'utf8');
    }
  };
  walk(dir);
  return out;
}

describe('the real windmill-cli against wmill serve', () => {
  it('workspace add, sync push, no-op dry run, sync pull (same files), script run, script preview', async () => {
    const ws = join(tmp, 'ws');
    // The workspace only: examples/ci/ holds CI files, which no pull brings back.
    cpSync(join(REPO, 'examples'), ws, { recursive: true, filter: (src) => !src.startsWith(join(REPO, 'examples/ci')) });
    rmSync(join(ws, 'wmill-lock.yaml'), { force: true });
    cpSync(join(REPO, 'examples/wmill-lock.yaml'), join(ws, 'wmill-lock.yaml'));

    const add = await real(ws, ['workspace', 'add', 'local', 'admins', srv.url, '--token', srv.token]);
    expect(add.code, add.all).toBe(0);

    const push = await real(ws, ['sync', 'push', '--yes']);
    expect(push.code, push.all).toBe(0);
    expect(push.all).toMatch(/Done! All \d+ changes pushed/);

    const noop = await real(ws, ['sync', 'push', '--dry-run']);
    expect(noop.code, noop.all).toBe(0);
    expect(noop.all).toContain('0 changes to apply');

    const pulled = join(tmp, 'pulled');
    mkdirSync(pulled);
    cpSync(join(ws, 'wmill.yaml'), join(pulled, 'wmill.yaml'));
    const pull = await real(pulled, ['sync', 'pull', '--yes']);
    expect(pull.code, pull.all).toBe(0);
    expect(tree(pulled)).toEqual(tree(ws));

    const run = await real(ws, ['script', 'run', 'f/examples/greet', '-d', JSON.stringify({ name: 'Ada', times: 2 })]);
    expect(run.code, run.all).toBe(0);
    expect(run.all).toContain('Hello Ada!');

    // A TypeScript script importing a sibling runs with the sibling's deployed code.
    const stats = await real(ws, ['script', 'run', 'f/examples/word_stats', '-d', JSON.stringify({ text: 'b a b' })]);
    expect(stats.code, stats.all).toBe(0);
    expect(stats.all).toMatch(/"distinct": 2/);

    const prev = await real(ws, ['script', 'preview', 'f/examples/disk_report.sh', '-d', JSON.stringify({ dir: ws })]);
    expect(prev.code, prev.all).toBe(0);
    expect(prev.all).toContain('Preview completed');

    // A local edit is seen by the real CLI's diff, pushed as a new version on top of the old one.
    writeFileSync(join(ws, 'f/examples/disk_report.sh'), readFileSync(join(ws, 'f/examples/disk_report.sh'), 'utf8') + '# edited\n');
    const push2 = await real(ws, ['sync', 'push', '--yes', '--message', 'edit disk report']);
    expect(push2.code, push2.all).toBe(0);
    const hist = await srv.api.get('scripts/history/p/f/examples/disk_report');
    expect(hist.json.map((h: any) => h.deployment_msg ?? null)).toEqual(['edit disk report', null]);

    // A failing preview exits 1.
    const badFile = join(ws, 'f/examples/boom.sh');
    writeFileSync(badFile, 'echo "about to fail"\nexit 3\n');
    const fail = await real(ws, ['script', 'preview', 'f/examples/boom.sh']);
    expect(fail.code).toBe(1);
  }, 240_000);
});

describe('version model', () => {
  const path = 'u/admin/versioned';
  it('two deploys give two hashes; run by old hash runs old code; history in order', async () => {
    const api = srv.api;
    const h1 = await api.deploy({ path, content: 'echo "v1"\n', language: 'bash', deployment_message: 'first' });
    const h2 = await api.deploy({ path, content: 'echo "v2"\n', language: 'bash', parent_hash: h1, deployment_message: 'second' });
    expect(h1).toMatch(/^[0-9a-f]{16}$/);
    expect(h2).toMatch(/^[0-9a-f]{16}$/);
    expect(h2).not.toBe(h1);
    expect((await api.runWait(path)).result).toBe('v2');
    const byHash = await api.post(`jobs/run_wait_result/h/${h1}`, {});
    expect(byHash.json).toBe('v1');
    const hist = await api.get(`scripts/history/p/${path}`);
    expect(hist.json.map((x: any) => [x.script_hash, x.deployment_msg])).toEqual([
      [h2, 'second'],
      [h1, 'first'],
    ]);
    const head = await api.get(`scripts/get/p/${path}`);
    expect(head.json.hash).toBe(h2);
    expect(head.json.parent_hashes).toEqual([h1]);
    expect((await api.get(`scripts/get/h/${h1}`)).json.archived).toBe(true);

    // A stale parent gets the lineage error, and nothing is written.
    const stale = await api.post('scripts/create', { path, content: 'echo "v3"\n', language: 'bash', summary: '', description: '', parent_hash: h1 });
    expect(stale.status).toBe(400);
    expect(stale.text).toBe(`A script with hash ${h2} with same parent_hash has been found. However, the lineage must be linear: no 2 scripts can have the same parent`);
    expect((await api.get(`scripts/history/p/${path}`)).json).toHaveLength(2);

    // auto_parent re-parents onto the head.
    const h3 = await api.deploy({ path, content: 'echo "v3"\n', language: 'bash', parent_hash: h1, auto_parent: true });
    expect((await api.get(`scripts/get/p/${path}`)).json.parent_hashes).toEqual([h2, h1]);

    // No parent while a head exists: path conflict. Missing parent: its own error.
    const conflict = await api.post('scripts/create', { path, content: 'x', language: 'bash', summary: '', description: '' });
    expect(conflict.text).toBe(`Path conflict for ${path} with non-archived hash ${h3}`);
    const missing = await api.post('scripts/create', { path, content: 'x', language: 'bash', summary: '', description: '', parent_hash: '00000000000000ff' });
    expect(missing.text).toBe('The parent hash does not seem to exist');

    // skip_if_noop: the same content again is not a new version.
    const same = await api.post('scripts/create?skip_if_noop=true', { path, content: 'echo "v3"\n', language: 'bash', summary: '', description: '', parent_hash: h3, auto_parent: true });
    expect(same.status).toBe(201);
    expect(same.text).toBe(h3);

    // Redeploy an old version: its content as a new child of the head; history stays linear.
    const old = (await api.get(`scripts/get/h/${h1}`)).json;
    const h4 = await api.deploy({ path, content: old.content, language: old.language, parent_hash: h3, deployment_message: `redeploy ${h1}` });
    expect((await api.runWait(path)).result).toBe('v1');
    expect((await api.get(`scripts/history/p/${path}`)).json.map((x: any) => x.script_hash)).toEqual([h4, h3, h2, h1]);

    // Restore as fork: the old version under a new path starts its own lineage.
    const fork = await api.deploy({ path: 'u/admin/versioned_fork', content: old.content, language: 'bash' });
    expect((await api.get('scripts/get/p/u/admin/versioned_fork')).json.parent_hashes).toEqual([]);
    expect(fork).not.toBe(h1);
  });

  it('archive keeps versions runnable by hash; delete by path removes them', async () => {
    const api = srv.api;
    const p = 'u/admin/archived_one';
    const h = await api.deploy({ path: p, content: 'echo "kept"\n', language: 'bash' });
    expect((await api.post(`scripts/archive/p/${p}`)).status).toBe(200);
    const byPath = await api.post(`jobs/run/p/${p}`, {});
    expect(byPath.status).toBe(404);
    expect(byPath.text).toBe(`Script '${p}' not found`);
    expect((await api.post(`jobs/run_wait_result/h/${h}`, {})).json).toBe('kept');
    expect((await api.get(`scripts/get/p/${p}`)).json.archived).toBe(true);
    // A new lineage at an archived path is allowed.
    const h2 = await api.deploy({ path: p, content: 'echo "again"\n', language: 'bash' });
    expect(h2).not.toBe(h);
    expect((await api.post(`scripts/delete/p/${p}`)).status).toBe(200);
    expect((await api.get(`scripts/get/h/${h}`)).status).toBe(404);
  });

  it('concurrent deploys on the same parent: exactly one wins', async () => {
    const api = srv.api;
    const p = 'u/admin/raced';
    const h0 = await api.deploy({ path: p, content: 'echo 0\n', language: 'bash' });
    const tries = await Promise.all(
      [1, 2, 3, 4].map((i) => api.post('scripts/create', { path: p, content: `echo ${i}\n`, language: 'bash', summary: '', description: '', parent_hash: h0 })),
    );
    expect(tries.filter((t) => t.status === 201)).toHaveLength(1);
    expect(tries.filter((t) => t.status === 400).every((t) => /lineage must be linear|Path conflict/.test(t.text))).toBe(true);
    expect((await api.get(`scripts/history/p/${p}`)).json).toHaveLength(2);
  });
});

describe('drafts', () => {
  it('are per user, refuse a save over a newer save, and detect a deploy since the draft started', async () => {
    const api = srv.api;
    const p = 'f/team/drafted';
    expect((await api.post('folders/create', { name: 'team', owners: [], extra_perms: { 'g/all': true } })).status).toBe(200);
    const alice = api.as(await api.addUser('alice'));
    const bob = api.as(await api.addUser('bob'));
    const h1 = await api.deploy({ path: p, content: 'echo base\n', language: 'bash' });

    const a1 = await alice.post(`drafts/update/script/${p}`, { value: { path: p, content: 'echo alice\n', language: 'bash', parent_hash: h1 } });
    expect(a1.json.status).toBe('saved');
    const b1 = await bob.post(`drafts/update/script/${p}`, { value: { path: p, content: 'echo bob\n', language: 'bash', parent_hash: h1 } });
    expect(b1.json.status).toBe('saved');
    expect((await alice.get(`drafts/get_own/script/${p}`)).json.value.content).toBe('echo alice\n');
    expect((await bob.get(`drafts/get_own/script/${p}`)).json.value.content).toBe('echo bob\n');

    // Alice saves from a second device (last_sync = her first save), then the first device saves with the same stale last_sync.
    const a2 = await alice.post(`drafts/update/script/${p}`, { value: { path: p, content: 'echo alice 2\n', language: 'bash', parent_hash: h1 }, last_sync: a1.json.current_timestamp });
    expect(a2.json.status).toBe('saved');
    const stale = await alice.post(`drafts/update/script/${p}`, { value: { path: p, content: 'echo alice old\n', language: 'bash', parent_hash: h1 }, last_sync: a1.json.current_timestamp });
    expect(stale.json).toEqual({ status: 'conflict', current_timestamp: a2.json.current_timestamp, path: p });
    expect((await alice.get(`drafts/get_own/script/${p}`)).json.value.content).toBe('echo alice 2\n');
    const forced = await alice.post(`drafts/update/script/${p}`, { value: { path: p, content: 'echo alice forced\n', language: 'bash', parent_hash: h1 }, last_sync: a1.json.current_timestamp, force: true });
    expect(forced.json.status).toBe('saved');

    // Bob deploys; Alice's draft now sits on a stale base.
    const h2 = await bob.deploy({ path: p, content: 'echo bob\n', language: 'bash', parent_hash: h1 });
    const diff = await alice.get(`drafts/diff/script/${p}`);
    expect(diff.json).toMatchObject({ deployed_version: h2, draft_base: h1, deployed_changed_since_draft: true });
    expect(diff.json.changed_fields).toContain('content');
    const deploy = await alice.post('scripts/create', { ...(await alice.get(`drafts/get_own/script/${p}`)).json.value, summary: '', description: '' });
    expect(deploy.status).toBe(400);
    expect(deploy.text).toContain('lineage must be linear');

    // Bob's deploy consumed his own draft; Alice's draft is still there.
    expect((await bob.get(`drafts/get_own/script/${p}`)).json).toBeNull();
    const list = await api.get('drafts/list?all_users=true');
    expect(list.json.filter((d: any) => d.path === p).map((d: any) => d.username)).toEqual(['alice']);
  });
});

describe('permissions', () => {
  it('u/<user> is private, f/ folders follow owners and extra_perms, operators cannot write', async () => {
    const api = srv.api;
    const carol = api.as(await api.addUser('carol'));
    const dave = api.as(await api.addUser('dave'));
    const op = api.as(await api.addUser('oscar', { operator: true }));
    await carol.deploy({ path: 'u/carol/mine', content: 'echo carol\n', language: 'bash' });
    expect((await dave.get('scripts/get/p/u/carol/mine')).status).toBe(404);
    expect((await dave.post('jobs/run/p/u/carol/mine', {})).status).toBe(404);
    expect((await dave.post('scripts/create', { path: 'u/carol/evil', content: 'x', language: 'bash', summary: '', description: '' })).status).toBe(403);
    expect((await carol.runWait('u/carol/mine')).result).toBe('carol');

    await api.post('folders/create', { name: 'ops', owners: ['u/carol'], extra_perms: { 'u/dave': false } });
    await carol.deploy({ path: 'f/ops/task', content: 'echo ops\n', language: 'bash' });
    expect((await dave.get('scripts/get/p/f/ops/task')).status).toBe(200);
    expect((await dave.post('scripts/create', { path: 'f/ops/task2', content: 'x', language: 'bash', summary: '', description: '' })).status).toBe(403);
    expect((await op.post('scripts/create', { path: 'u/oscar/x', content: 'x', language: 'bash', summary: '', description: '' })).status).toBe(403);

    // No token, a bad token, another workspace.
    const anon = await fetch(`${srv.url}api/w/admins/scripts/list`);
    expect(anon.status).toBe(401);
    expect((await api.as('nope').get('scripts/list')).status).toBe(401);
    expect((await new (api.constructor as any)(api.base, (await api.addUser('erin')), 'otherws').get('scripts/list')).status).toBe(403);
  });
});

describe('resources, variables, secrets, webhooks, schedules', () => {
  it('encrypts secrets at rest, deterministically, and never returns plaintext unless asked', async () => {
    const api = srv.api;
    expect((await api.post('variables/create', { path: 'u/admin/pw', value: 's3cr3t-value', is_secret: true, description: '' })).status).toBe(201);
    const rows = await srv.server.db.query(`SELECT value FROM variable WHERE path = 'u/admin/pw'`);
    expect(rows[0]!.value).not.toContain('s3cr3t');
    const enc = await api.get('variables/get/u/admin/pw?decrypt_secret=false&include_encrypted=true');
    expect(enc.json.value).toBe(rows[0]!.value);
    expect((await api.get('variables/get/u/admin/pw?decrypt_secret=false')).json.value).toBeUndefined();
    expect((await api.get('variables/get_value/u/admin/pw')).json).toBe('s3cr3t-value');
    // Pushing the ciphertext back (already_encrypted) stores it unchanged: a pull → push round trip is a no-op.
    expect((await api.post('variables/update/u/admin/pw?already_encrypted=true', { value: enc.json.value })).status).toBe(200);
    expect((await srv.server.db.query(`SELECT value FROM variable WHERE path = 'u/admin/pw'`))[0]!.value).toBe(rows[0]!.value);
    const notCipher = await api.post('variables/update/u/admin/pw?already_encrypted=true', { value: 'plain text' });
    expect(notCipher.status).toBe(400);
    expect(notCipher.text).not.toContain('s3cr3t');
  });

  it('jobs read interpolated resources; a webhook runs with ?token=', async () => {
    const api = srv.api;
    await api.post('variables/create', { path: 'u/admin/host', value: 'db.internal', is_secret: false, description: '' });
    await api.post('resources/create', { path: 'u/admin/conn', resource_type: 'thing', value: { host: '$var:u/admin/host', port: 5 } });
    await api.deploy({
      path: 'u/admin/reads',
      language: 'python3',
      content: 'import wmill\n\ndef main():\n    return wmill.get_resource("u/admin/conn")\n',
    });
    expect((await api.runWait('u/admin/reads')).result).toEqual({ host: 'db.internal', port: 5 });
    const hook = await fetch(`${srv.url}api/w/admins/jobs/run_wait_result/p/u/admin/reads?token=${srv.token}`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(hook.status).toBe(200);
    expect(await hook.json()).toEqual({ host: 'db.internal', port: 5 });
  });

  it('a schedule always has its next tick queued, and runs', async () => {
    const api = srv.api;
    await api.deploy({ path: 'u/admin/ticker', content: 'echo tick\n', language: 'bash' });
    const c = await api.post('schedules/create', { path: 'u/admin/every_sec', schedule: '* * * * * *', timezone: 'UTC', script_path: 'u/admin/ticker', is_flow: false, args: {} });
    expect(c.status).toBe(201);
    const done = async () => (await srv.server.db.query(`SELECT count(*)::int AS n FROM job WHERE schedule_path = 'u/admin/every_sec' AND status = 'success'`))[0]!.n;
    for (let i = 0; i < 100 && (await done()) < 2; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await done()).toBeGreaterThanOrEqual(2);
    const queued = await srv.server.db.query(`SELECT count(*)::int AS n FROM job WHERE schedule_path = 'u/admin/every_sec' AND status = 'queued'`);
    expect(queued[0]!.n).toBe(1);
    await api.post('schedules/setenabled/u/admin/every_sec', { enabled: false });
    const after = await srv.server.db.query(`SELECT count(*)::int AS n FROM job WHERE schedule_path = 'u/admin/every_sec' AND status = 'queued'`);
    expect(after[0]!.n).toBe(0);
    const bad = await api.post('schedules/create', { path: 'u/admin/bad', schedule: '0 61 * * * *', script_path: 'u/admin/ticker', is_flow: false, args: {} });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('minute 61');
  });
});

describe('bad input', () => {
  it('malformed JSON, unknown paths, .. in paths and oversized bodies get 4xx with a message, and write nothing', async () => {
    const api = srv.api;
    const before = (await srv.server.db.query(`SELECT count(*)::int AS n FROM script`))[0]!.n;
    const cases: [string, string, unknown][] = [
      ['POST', 'scripts/create', '{"path": "u/admin/x", "content": '],
      ['POST', 'scripts/create', { path: 'u/admin/../etc', content: 'x', language: 'bash' }],
      ['POST', 'scripts/create', { path: 'f/a/..', content: 'x', language: 'bash' }],
      ['POST', 'scripts/create', { path: 'u/admin/x', content: 42, language: 'bash' }],
      ['POST', 'scripts/create', { path: 'u/admin/x', content: 'x', language: 'bash', parent_hash: 'zz' }],
      ['POST', 'scripts/create', []],
      ['GET', 'scripts/get/p/u/admin/does_not_exist', undefined],
      ['POST', 'jobs/run/p/u/admin/does_not_exist', {}],
      ['POST', 'jobs/run/p/u/admin/versioned', '[1,2]'],
      ['GET', 'jobs_u/completed/get_result_maybe/not-a-uuid', undefined],
      ['GET', 'jobs_u/completed/get_result_maybe/01234567-89ab-7def-8123-456789abcdef', undefined],
      ['POST', 'variables/create', { path: 'nope', value: 'x' }],
      ['POST', 'resources/create', { path: 'u/admin/r', value: {} }],
      ['POST', 'jobs/run/preview', { content: 'x', language: 'cobol' }],
      ['GET', 'scripts/get/h/xyz', undefined],
      ['GET', 'no/such/route', undefined],
    ];
    for (const [method, path, body] of cases) {
      const r = await api.req(method, path, body);
      expect(r.status, `${method} ${path} → ${r.status} ${r.text}`).toBeGreaterThanOrEqual(400);
      expect(r.status, `${method} ${path} → ${r.text}`).toBeLessThan(500);
      expect(r.text.length, `${method} ${path}`).toBeGreaterThan(5);
    }
    const big = await api.req('POST', 'scripts/create', JSON.stringify({ path: 'u/admin/big', content: 'x'.repeat(17 * 1024 * 1024), language: 'bash' }));
    expect(big.status).toBe(413);
    expect((await srv.server.db.query(`SELECT count(*)::int AS n FROM script`))[0]!.n).toBe(before);
  });
});
