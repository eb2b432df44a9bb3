/**
 * Sync never loses, corrupts or half-applies (issue 14, items 1-6), against `wmill serve`:
 * includes/excludes filter the remote side too; a push larger than one request is still all or
 * nothing and its messages say what was applied; a push holding a secret does not hang a fresh
 * embedded server; secrets honour plainSecrets and are never sent as ciphertext when they are not;
 * locks keep their bytes (trailing newline); state and cache resources are not synced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Api, freshDatabase, startTestServer, type TestServer } from './helpers/server.js';
import { ours as oursAt, real as realAt, tree } from './helpers/sync.js';
import { readZip } from '../src/items/zip.js';
import { encryptSecret } from '../src/items/secrets.js';
import { openPglite } from '../src/server/db/db.js';

process.env.WMILL_TX_GUARD = '1';

let srv: TestServer;
let tmp: string;

beforeAll(async () => {
  srv = await startTestServer();
  tmp = mkdtempSync(join(tmpdir(), 'wmill-sync-trust-'));
}, 120_000);

afterAll(async () => {
  await srv?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const target = (ws: string, s: TestServer = srv) => ({ url: s.url, token: s.token, ws });
const ours = (cwd: string, args: string[], ws: string, opts: Parameters<typeof oursAt>[3] = {}) => oursAt(cwd, args, target(ws), opts);
const real = (cwd: string, args: string[]) => realAt(cwd, args, join(tmp, 'cfg'));
const apiFor = (ws: string, s: TestServer = srv) => new Api(s.api.base, s.token, ws);

async function newWorkspace(id: string, s: TestServer = srv): Promise<Api> {
  const r = await s.api.req('POST', '/api/workspaces/create', { id, name: id });
  expect(r.status, r.text).toBe(201);
  return apiFor(id, s);
}

const SCHEMA = `schema:\n  $schema: https://json-schema.org/draft/2020-12/schema\n  type: object\n  properties: {}\n  required: []\n`;
const bashMeta = (summary = '') => `summary: '${summary}'\ndescription: ''\nlock: ''\nkind: script\n${SCHEMA}`;

function folder(files: Record<string, string>, wmillYaml: string): string {
  const dir = mkdtempSync(join(tmp, 'ws-'));
  writeFileSync(join(dir, 'wmill.yaml'), wmillYaml);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

const deployBash = (api: Api, path: string, content: string) => api.deploy({ path, content, language: 'bash', schema: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: {}, required: [] } });

describe('1. includes/excludes apply to the remote side', () => {
  it('push --delete leaves remote items outside includes (or excluded) alone, and pull does not bring them', async () => {
    const api = await newWorkspace('t1');
    for (const name of ['mine', 'other']) expect((await api.post('folders/create', { name })).status).toBeLessThan(300);
    await deployBash(api, 'f/mine/a', 'echo a\n');
    await deployBash(api, 'f/mine/skip_me', 'echo skip\n');
    await deployBash(api, 'f/other/theirs', 'echo theirs\n');
    await deployBash(api, 'u/admin/private', 'echo private\n');
    expect((await api.post('resources/create', { path: 'f/other/db', resource_type: 'any', value: { a: 1 } })).status).toBe(201);

    const yaml = 'defaultTs: bun\nincludes:\n  - f/mine/**\nexcludes:\n  - f/mine/skip_*\n';
    const mineMeta = "summary: ''\ndisplay_name: mine\nextra_perms: {}\nowners: []\n";
    const ws = folder({ 'f/mine/folder.meta.yaml': mineMeta, 'f/mine/a.sh': 'echo a\n', 'f/mine/a.script.yaml': bashMeta(), 'f/mine/new.sh': 'echo new\n', 'f/mine/new.script.yaml': bashMeta() }, yaml);
    const push = await ours(ws, ['sync', 'push', '--yes', '--delete', '--json-output'], 't1');
    expect(push.code, push.all).toBe(0);
    const changes = JSON.parse(push.stdout).plan.changes.map((c: any) => `${c.op} ${c.kind} ${c.path}`);
    expect(changes).toEqual(['add script f/mine/new']);
    for (const p of ['f/other/theirs', 'u/admin/private', 'f/mine/skip_me']) expect((await api.get(`scripts/get/p/${p}`)).json.archived, p).toBe(false);
    expect((await api.get('resources/get/f/other/db')).status).toBe(200);
    expect((await api.get('folders/get/other')).status).toBe(200);

    const pulled = folder({}, yaml);
    const pull = await ours(pulled, ['sync', 'pull', '--yes', '--json-output'], 't1');
    expect(pull.code, pull.all).toBe(0);
    const files = Object.keys(tree(pulled)).filter((f) => f !== 'wmill.yaml' && f !== 'wmill-lock.yaml');
    expect(files.sort()).toEqual(['f/mine/a.script.yaml', 'f/mine/a.sh', 'f/mine/folder.meta.yaml', 'f/mine/new.script.yaml', 'f/mine/new.sh']);

    // extraIncludes is an extra AND filter on both sides too.
    const narrow = folder({ 'f/mine/folder.meta.yaml': mineMeta, 'f/mine/a.sh': 'echo a\n', 'f/mine/a.script.yaml': bashMeta() }, 'defaultTs: bun\nincludes:\n  - f/**\nextraIncludes:\n  - f/mine/a*\n');
    const dry = await ours(narrow, ['sync', 'push', '--dry-run', '--json-output'], 't1');
    expect(dry.code, dry.all).toBe(0);
    expect(JSON.parse(dry.stdout).plan.changes).toEqual([]);
  }, 120_000);
});

describe('2. a push larger than one request', () => {
  // One script bigger than the server's request limit (16 MB).
  const huge = `echo huge\n# ${'x'.repeat(17 * 1024 * 1024)}\n`;

  async function seed(id: string): Promise<Api> {
    const api = await newWorkspace(id);
    expect((await api.post('folders/create', { name: 'big' })).status).toBeLessThan(300);
    await deployBash(api, 'f/big/upd', 'echo old\n');
    await deployBash(api, 'f/big/old', 'echo gone\n');
    return api;
  }
  const files = (extra: Record<string, string> = {}) => ({
    'f/big/folder.meta.yaml': "summary: ''\ndisplay_name: big\nextra_perms: {}\nowners: []\n",
    'f/big/huge.sh': huge,
    'f/big/huge.script.yaml': bashMeta(),
    'f/big/upd.sh': 'echo new\n',
    'f/big/upd.script.yaml': bashMeta(),
    ...extra,
  });
  const yaml = 'defaultTs: bun\nincludes:\n  - f/big/**\nincludeSchedules: true\n';

  it('is applied whole to wmill serve (one transaction over several requests)', async () => {
    const api = await seed('t2a');
    const ws = folder(files(), yaml);
    const push = await ours(ws, ['sync', 'push', '--yes', '--delete'], 't2a');
    expect(push.code, push.all).toBe(0);
    expect(push.stderr).toMatch(/Done: 3 of 3 change\(s\) applied/);
    expect((await api.get('scripts/get/p/f/big/huge')).json.content).toBe(huge);
    expect((await api.get('scripts/get/p/f/big/upd')).json.content).toBe('echo new\n');
    expect((await api.get('scripts/get/p/f/big/old')).json.archived).toBe(true);
    const check = await ours(ws, ['sync', 'push', '--check'], 't2a');
    expect(check.code, check.all).toBe(0);
  }, 180_000);

  it('with a bad change applies nothing, and says so', async () => {
    const api = await seed('t2b');
    const bad = 'schedule: 0 61 8 * * *\ntimezone: UTC\nscript_path: f/big/upd\nis_flow: false\nargs: {}\nenabled: true\n';
    const ws = folder(files({ 'f/big/tick.schedule.yaml': bad }), yaml);
    const push = await ours(ws, ['sync', 'push', '--yes', '--delete'], 't2b');
    expect(push.code, push.all).toBe(1);
    expect(push.stderr).toMatch(/nothing was applied.*schedule f\/big\/tick/);
    expect(push.stderr).not.toMatch(/^pushed /m);
    expect((await api.get('scripts/get/p/f/big/upd')).json.content).toBe('echo old\n');
    expect((await api.get('scripts/get/p/f/big/old')).json.archived).toBe(false);
    expect((await api.get('scripts/get/p/f/big/huge')).status).toBe(404);
  }, 180_000);

  it('change by change: says so before applying, and on failure lists what was applied and what was not', async () => {
    const api = await seed('t2c');
    const ws = folder(files(), yaml);
    const push = await ours(ws, ['sync', 'push', '--yes', '--delete', '--one-by-one', '--json-output'], 't2c');
    expect(push.code, push.all).toBe(1);
    const notice = push.stderr.search(/change by change/);
    expect(notice).toBeGreaterThanOrEqual(0);
    expect(notice).toBeLessThan(push.stderr.search(/^pushed /m));
    const out = JSON.parse(push.stdout);
    expect(out.ok).toBe(false);
    const show = (cs: any[]) => cs.map((c) => `${c.op} ${c.kind} ${c.path}`);
    expect(show(out.error.applied)).toEqual(['update script f/big/upd']);
    expect(show(out.error.failed.map((f: any) => f.change))).toEqual(['add script f/big/huge']);
    expect(show(out.error.notApplied)).toEqual(['add script f/big/huge', 'delete script f/big/old']);
    expect(out.error.message).toMatch(/1 of 3 change\(s\) applied \(update script f\/big\/upd\).*not applied: add script f\/big\/huge, delete script f\/big\/old/);
    // What it says matches the server: the update is there, the deletion was not made.
    expect((await api.get('scripts/get/p/f/big/upd')).json.content).toBe('echo new\n');
    expect((await api.get('scripts/get/p/f/big/old')).json.archived).toBe(false);
  }, 180_000);
});

/**
 * A server without our extension, as a real Windmill is: a proxy in front of ours that answers
 * 404 to `/api/w/{ws}/wmill/...` and passes everything else through.
 */
async function withoutExtension<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const http = await import('node:http');
  const upstream = new URL(srv.url);
  const proxy = http.createServer((req, res) => {
    if (/^\/api\/w\/[^/]+\/wmill\//.test(req.url ?? '')) {
      req.resume();
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
      return;
    }
    const up = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  try {
    return await fn(`http://127.0.0.1:${(proxy.address() as { port: number }).port}/`);
  } finally {
    proxy.closeAllConnections();
    await new Promise((r) => proxy.close(r));
  }
}

describe('1, 2, 4. against a server without our extension (the archive, change by change)', () => {
  it('filters the remote side, says it applies change by change, stops at a failure and lists what was and was not applied', async () => {
    const api = await newWorkspace('t7');
    for (const name of ['mine', 'other']) expect((await api.post('folders/create', { name })).status).toBeLessThan(300);
    await deployBash(api, 'f/mine/old', 'echo old\n');
    await deployBash(api, 'f/other/theirs', 'echo theirs\n');
    await deployBash(api, 'u/admin/private', 'echo private\n');
    expect((await api.post('variables/create', { path: 'f/mine/token', value: 'hunter2', is_secret: true, description: '' })).status).toBe(201);
    const yaml = 'defaultTs: bun\nincludes:\n  - f/mine/**\nskipSecrets: false\nplainSecrets: true\n';
    await withoutExtension(async (url) => {
      const via = { url, token: srv.token, ws: 't7' };
      // Pull through the archive: only f/mine, the secret in plaintext.
      const pulled = folder({}, yaml);
      const pull = await oursAt(pulled, ['sync', 'pull', '--yes'], via);
      expect(pull.code, pull.all).toBe(0);
      expect(Object.keys(tree(pulled)).filter((f) => f.startsWith('f/') || f.startsWith('u/')).sort()).toEqual(
        ['f/mine/folder.meta.yaml', 'f/mine/old.script.yaml', 'f/mine/old.sh', 'f/mine/token.variable.yaml'],
      );
      expect(readFileSync(join(pulled, 'f/mine/token.variable.yaml'), 'utf8')).toContain('value: hunter2\n');

      // A push: an oversized script fails (413), the other change of its kind is applied, the deletion is not attempted.
      const ws = folder(
        {
          'f/mine/folder.meta.yaml': "summary: ''\ndisplay_name: mine\nextra_perms: {}\nowners: []\n",
          'f/mine/token.variable.yaml': "description: ''\nvalue: hunter3\nis_secret: true\n",
          'f/mine/new.sh': 'echo new\n',
          'f/mine/new.script.yaml': bashMeta(),
          'f/mine/huge.sh': `echo huge\n# ${'x'.repeat(17 * 1024 * 1024)}\n`,
          'f/mine/huge.script.yaml': bashMeta(),
        },
        yaml,
      );
      const push = await oursAt(ws, ['sync', 'push', '--yes', '--delete', '--json-output'], via);
      expect(push.code, push.all).toBe(1);
      expect(push.stderr).toMatch(/^applying 4 change\(s\) change by change \(this server has no all-or-nothing push\)/m);
      const out = JSON.parse(push.stdout);
      const show = (cs: any[]) => cs.map((c) => `${c.op} ${c.kind} ${c.path}`);
      expect(show(out.error.applied)).toEqual(['update variable f/mine/token', 'add script f/mine/new']);
      expect(show(out.error.notApplied)).toEqual(['add script f/mine/huge', 'delete script f/mine/old']);
      expect((await api.get('variables/get/f/mine/token?decrypt_secret=true')).json.value).toBe('hunter3');
      expect((await api.get('scripts/get/p/f/mine/new')).status).toBe(200);
      expect((await api.get('scripts/get/p/f/mine/old')).json.archived).toBe(false);
      for (const p of ['f/other/theirs', 'u/admin/private']) expect((await api.get(`scripts/get/p/${p}`)).json.archived, p).toBe(false);
    });
  }, 180_000);
});

describe('2. staged pushes on the server', () => {
  const plan = (path: string) => JSON.stringify({ changes: [{ op: 'add', kind: 'script', path, body: { content: 'echo hi\n', language: 'bash', summary: '', description: '', kind: 'script', lock: '', schema: null } }] });
  const sha = async (s: string) => (await import('node:crypto')).createHash('sha256').update(s).digest('hex');
  const uuid = () => crypto.randomUUID();

  it('parts stay invisible until the commit; a commit that does not match what was staged applies nothing', async () => {
    const api = await newWorkspace('t2d');
    const id = uuid();
    const text = plan('f/st/a');
    expect((await api.post('wmill/sync_push', { id })).status).toBe(201);
    expect((await api.post('wmill/sync_push', { id })).status).toBe(409);
    for (const [i, part] of [text.slice(0, 40), text.slice(40)].entries()) {
      const r = await api.req('POST', `wmill/sync_push/${id}/part/${i}`, part, { 'content-type': 'text/plain' });
      expect(r.status, r.text).toBe(200);
    }
    expect((await api.get('scripts/get/p/f/st/a')).status).toBe(404);
    const wrong = await api.post(`wmill/sync_push/${id}/commit`, { parts: 2, bytes: text.length, sha256: await sha(text + ' ') });
    expect(wrong.status).toBe(400);
    expect(wrong.text).toMatch(/not what was announced.*nothing was applied/);
    expect((await api.post(`wmill/sync_push/${id}/commit`, { parts: 3, bytes: text.length, sha256: await sha(text) })).status).toBe(400);
    expect((await api.get('scripts/get/p/f/st/a')).status).toBe(404);
    const ok = await api.post(`wmill/sync_push/${id}/commit`, { parts: 2, bytes: text.length, sha256: await sha(text) });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.json).toEqual({ applied: 1 });
    expect((await api.get('scripts/get/p/f/st/a')).json.content).toBe('echo hi\n');
    // A commit answered twice (a retry) applies once; settling says it was committed.
    expect((await api.post(`wmill/sync_push/${id}/commit`, { parts: 2, bytes: text.length, sha256: await sha(text) })).json).toEqual({ applied: 1, already: true });
    expect((await api.post(`wmill/sync_push/${id}/settle`, {})).json).toEqual({ state: 'committed', applied: 1 });
    expect((await api.get('scripts/history/p/f/st/a')).json).toHaveLength(1);
    // Bad input: unknown push, bad id, another user's push.
    expect((await api.req('POST', `wmill/sync_push/${uuid()}/part/0`, 'x', { 'content-type': 'text/plain' })).status).toBe(404);
    expect((await api.post('wmill/sync_push', { id: 'not-a-uuid' })).status).toBe(400);
    const other = api.as(await api.addUser('bob'));
    expect((await other.post(`wmill/sync_push/${id}/settle`, {})).status).toBe(404);
  });

  it('a push whose client goes away before the commit is rolled back, and settling says so (PostgreSQL)', async () => {
    const db = await freshDatabase();
    const pgSrv = await startTestServer({ databaseUrl: db.url, workers: 0 });
    const { default: pg } = await import('pg');
    const watcher = new pg.Client({ connectionString: db.url });
    try {
      await watcher.connect();
      const api = await newWorkspace('t2f', pgSrv);
      const id = uuid();
      const changes = Array.from({ length: 3000 }, (_, i) => JSON.parse(plan(`f/gone/s${i}`)).changes[0]);
      const body = JSON.stringify({ id, changes });
      const net = await import('node:net');
      const u = new URL(pgSrv.url);
      const sock = net.connect(Number(u.port), u.hostname);
      await new Promise<void>((resolve, reject) => {
        sock.once('connect', resolve);
        sock.once('error', reject);
      });
      sock.on('error', () => undefined);
      sock.write(`POST /api/w/t2f/wmill/sync_apply HTTP/1.1\r\nHost: ${u.host}\r\nAuthorization: Bearer ${pgSrv.token}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      // Wait until the push's transaction is applying (it is writing scripts), then the client dies.
      const applying = async () =>
        (
          await watcher.query(`SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'script' AND l.mode = 'RowExclusiveLock' AND l.pid <> pg_backend_pid()`)
        ).rowCount! > 0;
      for (let i = 0; !(await applying()); i++) {
        expect(i, 'the push transaction never started').toBeLessThan(3000);
        await new Promise((r) => setTimeout(r, 20));
      }
      sock.destroy();
      // Settling waits for that transaction: it saw the client gone and rolled back.
      expect((await api.post(`wmill/sync_push/${id}/settle`, {})).json).toEqual({ state: 'abandoned' });
      const items = (await api.post('wmill/sync_manifest', {})).json.items;
      expect(items.filter((i: any) => i.path.startsWith('f/gone/'))).toEqual([]);
    } finally {
      await watcher.end().catch(() => undefined);
      await pgSrv.close();
      await db.drop();
    }
  }, 180_000);

  it('a settled push is never applied afterwards, and one left uncommitted expires', async () => {
    const api = await newWorkspace('t2e');
    const id = uuid();
    const text = plan('f/st/b');
    expect((await api.post('wmill/sync_push', { id })).status).toBe(201);
    expect((await api.req('POST', `wmill/sync_push/${id}/part/0`, text, { 'content-type': 'text/plain' })).status).toBe(200);
    expect((await api.post(`wmill/sync_push/${id}/settle`, {})).json).toEqual({ state: 'abandoned' });
    const late = await api.post(`wmill/sync_push/${id}/commit`, { parts: 1, bytes: text.length, sha256: await sha(text) });
    expect(late.status).toBe(409);
    expect((await api.get('scripts/get/p/f/st/b')).status).toBe(404);
    // The one-request path: an id settled first is refused; one applied answers a retry without applying again.
    const id2 = uuid();
    expect((await api.post(`wmill/sync_push/${id2}/settle`, {})).json).toEqual({ state: 'abandoned' });
    expect((await api.post('wmill/sync_apply', { id: id2, ...JSON.parse(text) })).status).toBe(409);
    const id3 = uuid();
    expect((await api.post('wmill/sync_apply', { id: id3, ...JSON.parse(plan('f/st/c')) })).json).toEqual({ applied: 1 });
    expect((await api.post('wmill/sync_apply', { id: id3, ...JSON.parse(plan('f/st/c')) })).json).toEqual({ applied: 1, already: true });
    expect((await api.get('scripts/history/p/f/st/c')).json).toHaveLength(1);

    // Expiry: an upload untouched for longer than the limit is dropped with its parts.
    const id4 = uuid();
    expect((await api.post('wmill/sync_push', { id: id4 })).status).toBe(201);
    expect((await api.req('POST', `wmill/sync_push/${id4}/part/0`, text, { 'content-type': 'text/plain' })).status).toBe(200);
    await srv.server.db.query(`UPDATE sync_push SET touched_at = now() - interval '2 hours' WHERE id = $1`, [id4]);
    expect((await api.post('wmill/sync_push', { id: uuid() })).status).toBe(201);
    expect(await srv.server.db.query(`SELECT 1 FROM sync_push_part WHERE push_id = $1`, [id4])).toEqual([]);
    expect((await api.post(`wmill/sync_push/${id4}/commit`, { parts: 1, bytes: text.length, sha256: await sha(text) })).status).toBe(404);
  });
});

describe('3. a push holding a secret on a fresh embedded server', () => {
  it('PGlite (tests): a statement beside an open transaction, from inside it, fails at once instead of waiting forever', async () => {
    const db = await openPglite(undefined);
    try {
      await db.query('CREATE TABLE t (x int)');
      const err = await db.tx(async (q) => {
        await q.query('INSERT INTO t VALUES (1)');
        return db.query('SELECT 1').then(() => undefined, (e: Error) => e.message);
      });
      expect(err).toMatch(/beside the open transaction.*SELECT 1/);
      // After the transaction, the same statement runs.
      expect(await db.query('SELECT count(*)::int AS n FROM t')).toEqual([{ n: 1 }]);
    } finally {
      await db.close();
    }
  });

  it('completes (the workspace key is read on the transaction, not beside it), and the server keeps answering', async () => {
    const fresh = await startTestServer();
    try {
      const api = await newWorkspace('t3', fresh);
      const ws = folder({ 'f/s/token.variable.yaml': "description: ''\nvalue: hunter2\nis_secret: true\n" }, 'defaultTs: bun\nincludes:\n  - f/**\nskipSecrets: false\nplainSecrets: true\n');
      const push = await oursAt(ws, ['sync', 'push', '--yes'], target('t3', fresh), { timeoutMs: 60_000 });
      expect(push.signal, `push hung: ${push.all}`).toBeNull();
      expect(push.code, push.all).toBe(0);
      const v = await api.req('GET', 'variables/get/f/s/token?decrypt_secret=true');
      expect(v.status, v.text).toBe(200);
      expect(v.json.value).toBe('hunter2');
    } finally {
      await fresh.close();
    }
  }, 120_000);
});

describe('3. the same trap elsewhere: variables/update of a secret after a restart (cold key cache)', () => {
  it('answers instead of waiting on itself', async () => {
    const data = mkdtempSync(join(tmp, 'data-'));
    let s = await startTestServer({ dataDir: data, workers: 0 });
    try {
      const api = await newWorkspace('t3b', s);
      expect((await api.post('variables/create', { path: 'f/s/k', value: 'one', is_secret: true, description: '' })).status).toBe(201);
      expect((await api.post('variables/create', { path: 'f/s/p', value: 'plain', is_secret: false, description: '' })).status).toBe(201);
      await s.close();
      s = await startTestServer({ dataDir: data, workers: 0 });
      const api2 = apiFor('t3b', s);
      const upd = await api2.post('variables/update/f/s/k', { value: 'two' });
      expect(upd.status, upd.text).toBe(200);
      expect((await api2.get('variables/get/f/s/k?decrypt_secret=true')).json.value).toBe('two');
      await s.close();
      // Turning a plain variable into a secret encrypts its value inside the update's transaction too.
      s = await startTestServer({ dataDir: data, workers: 0 });
      const api3 = apiFor('t3b', s);
      const up2 = await api3.post('variables/update/f/s/p', { is_secret: true });
      expect(up2.status, up2.text).toBe(200);
      expect((await api3.get('variables/get/f/s/p?decrypt_secret=true')).json.value).toBe('plain');
    } finally {
      await s.close();
    }
  }, 180_000);
});

describe('4. secrets across tools', () => {
  it('plainSecrets: pull writes the plaintext, the real CLI pushes it back unchanged, and our push sends plaintext to encrypt', async () => {
    const api = await newWorkspace('t4a');
    expect((await api.post('variables/create', { path: 'f/s/token', value: 'hunter2', is_secret: true, description: '' })).status).toBe(201);
    const ws = folder({}, 'defaultTs: bun\nincludes:\n  - f/**\nskipSecrets: false\nplainSecrets: true\n');
    const pull = await ours(ws, ['sync', 'pull', '--yes'], 't4a');
    expect(pull.code, pull.all).toBe(0);
    expect(readFileSync(join(ws, 'f/s/token.variable.yaml'), 'utf8')).toBe("description: ''\nvalue: hunter2\nis_secret: true\n");
    expect((await ours(ws, ['sync', 'push', '--check'], 't4a')).code).toBe(0);

    expect((await real(ws, ['workspace', 'add', 't4a', 't4a', srv.url, '--token', srv.token])).code).toBe(0);
    const realPush = await real(ws, ['sync', 'push', '--yes']);
    expect(realPush.code, realPush.all).toBe(0);
    expect((await api.get('variables/get/f/s/token?decrypt_secret=true')).json.value).toBe('hunter2');

    writeFileSync(join(ws, 'f/s/token.variable.yaml'), "description: ''\nvalue: hunter3\nis_secret: true\n");
    const push = await ours(ws, ['sync', 'push', '--yes'], 't4a');
    expect(push.code, push.all).toBe(0);
    expect((await api.get('variables/get/f/s/token?decrypt_secret=true')).json.value).toBe('hunter3');

    // --plain-secrets does the same without plainSecrets in wmill.yaml.
    const ws2 = folder({}, 'defaultTs: bun\nincludes:\n  - f/**\nskipSecrets: false\n');
    const pull2 = await ours(ws2, ['sync', 'pull', '--yes', '--plain-secrets'], 't4a');
    expect(pull2.code, pull2.all).toBe(0);
    expect(readFileSync(join(ws2, 'f/s/token.variable.yaml'), 'utf8')).toContain('value: hunter3\n');
  }, 120_000);

  it('encrypted mode: a plaintext secret file is refused before anything is applied, naming the file and the fix', async () => {
    const api = await newWorkspace('t4b');
    const ws = folder(
      { 'f/s/token.variable.yaml': "description: ''\nvalue: hunter2\nis_secret: true\n", 'f/s/a.sh': 'echo a\n', 'f/s/a.script.yaml': bashMeta() },
      'defaultTs: bun\nincludes:\n  - f/**\nskipSecrets: false\n',
    );
    const push = await ours(ws, ['sync', 'push', '--yes'], 't4b');
    expect(push.code, push.all).toBe(2);
    expect(push.stderr).toMatch(/f\/s\/token\.variable\.yaml.*not ciphertext.*plainSecrets/);
    expect(push.stderr).not.toContain('hunter2');
    expect((await api.get('scripts/get/p/f/s/a')).status).toBe(404);
    expect((await api.get('variables/get/f/s/token')).status).toBe(404);
  }, 120_000);

  it("encrypted mode: another workspace's ciphertext is refused, never stored as the value", async () => {
    const api = await newWorkspace('t4c');
    const foreign = encryptSecret('some-other-workspace-key', 'hunter2');
    const ws = folder({ 'f/s/token.variable.yaml': `description: ''\nvalue: ${foreign}\nis_secret: true\n`, 'f/s/a.sh': 'echo a\n', 'f/s/a.script.yaml': bashMeta() }, 'defaultTs: bun\nincludes:\n  - f/**\nskipSecrets: false\n');
    const push = await ours(ws, ['sync', 'push', '--yes'], 't4c');
    expect(push.code, push.all).toBe(1);
    expect(push.stderr).toMatch(/nothing was applied.*f\/s\/token.*not ciphertext of this workspace/);
    expect((await api.get('variables/get/f/s/token')).status).toBe(404);
    expect((await api.get('scripts/get/p/f/s/a')).status).toBe(404);
  }, 120_000);
});

describe('5. locks keep their bytes', () => {
  it('a lock with a trailing newline is stored, pulled and seen by the real CLI unchanged', async () => {
    const api = await newWorkspace('t5');
    const yaml = 'defaultTs: bun\nincludes:\n  - f/**\n';
    const lock = 'requests==2.31.0\ncertifi==2024.2.2\n';
    const meta = `summary: ''\ndescription: ''\nlock: '!inline f/l/py.script.lock'\nkind: script\n${SCHEMA}`;
    const ws = folder({ 'f/l/py.py': 'def main():\n    return 1\n', 'f/l/py.script.yaml': meta, 'f/l/py.script.lock': lock }, yaml);
    const push = await ours(ws, ['sync', 'push', '--yes'], 't5');
    expect(push.code, push.all).toBe(0);
    expect((await api.get('scripts/get/p/f/l/py')).json.lock).toBe(lock);

    const pulled = folder({}, yaml);
    expect((await ours(pulled, ['sync', 'pull', '--yes'], 't5')).code).toBe(0);
    expect(readFileSync(join(pulled, 'f/l/py.script.lock'), 'utf8')).toBe(lock);

    expect((await real(ws, ['workspace', 'add', 't5', 't5', srv.url, '--token', srv.token])).code).toBe(0);
    const realPull = await real(ws, ['sync', 'pull', '--dry-run']);
    expect(realPull.code, realPull.all).toBe(0);
    expect(realPull.all).toContain('0 changes to apply');
    expect((await ours(ws, ['sync', 'push', '--check'], 't5')).code).toBe(0);
  }, 120_000);
});

describe('6. state and cache resources are not synced', () => {
  it('setState from a job neither lands in the archive nor the manifest, is not pulled, and a push never deletes it', async () => {
    const api = await newWorkspace('t6');
    const yaml = 'defaultTs: bun\nincludes:\n  - f/**\n';
    const content = "import * as wmill from 'windmill-client';\nexport async function main() {\n  await wmill.setState({ n: 1 });\n  return 'ok';\n}\n";
    const meta = `summary: ''\ndescription: ''\nlock: ''\nkind: script\n${SCHEMA}`;
    const ws = folder({ 'f/st/counter.ts': content, 'f/st/counter.script.yaml': meta }, yaml);
    expect((await ours(ws, ['sync', 'push', '--yes'], 't6')).code).toBe(0);
    const run = await api.runWait('f/st/counter');
    expect(run.status, JSON.stringify(run.result)).toBe(200);
    const state = await api.get('resources/get/f/st/counter/user');
    expect(state.status, state.text).toBe(200);
    expect(state.json.resource_type).toBe('state');
    expect((await api.post('resources/create', { path: 'f/st/memo', resource_type: 'cache', value: { k: 1 } })).status).toBe(201);

    const zip = await fetch(`${srv.url}api/w/t6/workspaces/tarball?archive_type=zip`, { headers: { authorization: `Bearer ${srv.token}` } });
    const names = readZip(Buffer.from(await zip.arrayBuffer())).map((e) => e.path);
    expect(names.filter((n) => n.includes('.resource.'))).toEqual([]);
    const manifest = (await api.post('wmill/sync_manifest', {})).json.items;
    expect(manifest.filter((i: any) => i.kind === 'resource')).toEqual([]);

    const push = await ours(ws, ['sync', 'push', '--yes', '--delete', '--json-output'], 't6');
    expect(push.code, push.all).toBe(0);
    expect(JSON.parse(push.stdout).plan.changes).toEqual([]);
    const pulled = folder({}, yaml);
    expect((await ours(pulled, ['sync', 'pull', '--yes'], 't6')).code).toBe(0);
    expect(Object.keys(tree(pulled)).filter((f) => f.includes('.resource.'))).toEqual([]);
    // A state file pulled by an older version is not pushed over the live state either.
    mkdirSync(join(ws, 'f/st/counter'), { recursive: true });
    writeFileSync(join(ws, 'f/st/counter/user.resource.yaml'), "resource_type: state\nvalue:\n  n: 0\n");
    const again = await ours(ws, ['sync', 'push', '--dry-run', '--json-output'], 't6');
    expect(JSON.parse(again.stdout).plan.changes).toEqual([]);
    expect((await api.get('resources/get/f/st/counter/user')).json.value).toEqual({ n: 1 });
    expect((await api.get('resources/get/f/st/memo')).status).toBe(200);
  }, 180_000);
});
