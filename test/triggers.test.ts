/**
 * Triggers on `wmill serve`: HTTP routes served for real (`/api/r/<route>` runs the script or
 * flow as the trigger's owner: method, `:param` path parameters, query and body as arguments,
 * sync and async, authentication none / windmill / api_key / basic_http), the other kinds stored with their
 * listener reported as not running, and triggers carried by sync: the real windmill-cli pushes
 * and pulls them byte for byte, and so does ours, both ways.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Api, startTestServer, type TestServer } from './helpers/server.js';
import { ours as oursAt, real as realAt, tree } from './helpers/sync.js';

let srv: TestServer;
let tmp: string;

beforeAll(async () => {
  srv = await startTestServer();
  tmp = mkdtempSync(join(tmpdir(), 'wmill-triggers-'));
}, 120_000);

afterAll(async () => {
  await srv?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const ECHO = `def main(id: str = "", name: str = "nobody", q: str = "", body=None, raw_string=None):
    return {"id": id, "name": name, "q": q, "body": body, "raw": raw_string}
`;

/** A request to an HTTP route of the server under test (no token unless given). */
async function route(method: string, path: string, opts: { body?: unknown; headers?: Record<string, string> } = {}) {
  const res = await fetch(`${srv.url}api/r/${path}`, {
    method,
    headers: { ...(opts.body !== undefined && typeof opts.body !== 'string' ? { 'content-type': 'application/json' } : {}), ...opts.headers },
    body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, type: res.headers.get('content-type'), headers: res.headers };
}

/** The result of job `id`, once it has completed. */
async function resultOf(api: Api, id: string): Promise<unknown> {
  for (;;) {
    const r = await api.get(`jobs_u/completed/get_result_maybe/${id}`);
    expect(r.status, r.text).toBe(200);
    if (r.json.completed) return r.json.result;
    await new Promise((res) => setTimeout(res, 50));
  }
}

const http = (path: string, extra: Record<string, unknown>) => ({
  path,
  script_path: 'u/admin/echo',
  is_flow: false,
  http_method: 'post',
  request_type: 'sync',
  authentication_method: 'none',
  ...extra,
});

describe('HTTP routes', () => {
  let api: Api;
  beforeAll(async () => {
    api = srv.api;
    await api.deploy({ path: 'u/admin/echo', language: 'python3', content: ECHO });
  });

  it('a sync route answers with the result; path parameters, query and body are the arguments; the method must match', async () => {
    const c = await api.post('http_triggers/create', http('u/admin/users', { route_path: 'users/:id' }));
    expect(c.status, c.text).toBe(201);
    expect(c.text).toBe('u/admin/users');

    const r = await route('POST', 'users/42?q=hello', { body: { name: 'ann' } });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toEqual({ id: '42', name: 'ann', q: 'hello', body: null, raw: null });
    // A trailing slash is the same route; another method is not.
    expect((await route('POST', 'users/7/', { body: {} })).json.id).toBe('7');
    const g = await route('GET', 'users/42');
    expect(g.status).toBe(404);
    expect(g.text).toMatch(/no HTTP route GET \/users\/42/);
    // A static route wins over a parameter at the same place.
    expect((await api.post('http_triggers/create', http('u/admin/users_me', { route_path: 'users/me', script_path: 'u/admin/me' }))).status).toBe(201);
    await api.deploy({ path: 'u/admin/me', language: 'python3', content: 'def main():\n    return "me"\n' });
    expect((await route('POST', 'users/me')).json).toBe('me');

    // A workspaced route lives under the workspace's id.
    expect((await api.post('http_triggers/create', http('u/admin/scoped', { route_path: 'scoped/:id', workspaced_route: true }))).status).toBe(201);
    expect((await route('POST', 'admins/scoped/3')).json.id).toBe('3');
    expect((await route('POST', 'scoped/3')).status).toBe(404);
    // A long route (more segments than the keyed lookup takes) is found too.
    expect((await api.post('http_triggers/create', http('u/admin/deep', { route_path: 'a/b/c/d/e/f/g/h/:id' }))).status).toBe(201);
    expect((await route('POST', 'a/b/c/d/e/f/g/h/deep')).json.id).toBe('deep');
    // The same route twice is refused, naming it.
    const dup = await api.post('http_triggers/create', http('u/admin/users2', { route_path: 'users/:other' }));
    expect(dup.status).toBe(400);
    expect(dup.text).toMatch(/A route already exists with this path: POST users\/:other/);
    expect((await api.post('http_triggers/route_exists', { route_path: 'users/:x', http_method: 'post' })).json).toBe(true);
    expect((await api.post('http_triggers/route_exists', { route_path: 'users/:x', http_method: 'put' })).json).toBe(false);

    // wrap_body and raw_string, a non-object body, a text body.
    expect((await api.post('http_triggers/create', http('u/admin/wrapped', { route_path: 'wrapped', wrap_body: true, raw_string: true }))).status).toBe(201);
    const w = await route('POST', 'wrapped', { body: { name: 'ann' } });
    expect(w.json).toEqual({ id: '', name: 'nobody', q: '', body: { name: 'ann' }, raw: '{"name":"ann"}' });
    expect((await route('POST', 'users/1', { body: [1, 2] })).json.body).toEqual([1, 2]);
    expect((await route('POST', 'users/1', { body: 'plain words', headers: { 'content-type': 'text/plain' } })).json.raw).toBe('plain words');
    expect((await route('POST', 'users/1', { body: '{oops', headers: { 'content-type': 'application/json' } })).status).toBe(400);

    // The route's status and content type from the result.
    await api.deploy({ path: 'u/admin/teapot', language: 'python3', content: 'def main():\n    return {"windmill_status_code": 418, "windmill_content_type": "text/plain", "windmill_headers": {"X-Brew": "tea"}, "result": "short and stout"}\n' });
    expect((await api.post('http_triggers/create', http('u/admin/teapot', { route_path: 'teapot', http_method: 'get', script_path: 'u/admin/teapot' }))).status).toBe(201);
    const tp = await route('GET', 'teapot');
    expect([tp.status, tp.text, tp.type, tp.headers.get('x-brew')]).toEqual([418, 'short and stout', 'text/plain', 'tea']);
    // Browsers may call routes (CORS), and ask first.
    expect(tp.headers.get('access-control-allow-origin')).toBe('*');
    const pre = await route('OPTIONS', 'teapot');
    expect([pre.status, pre.headers.get('access-control-allow-headers')]).toEqual([200, 'content-type, authorization']);
  });

  it('an async route answers 201 with a job id whose result is the run', async () => {
    expect((await api.post('http_triggers/create', http('u/admin/later', { route_path: 'later/:id', request_type: 'async' }))).status).toBe(201);
    const r = await route('POST', 'later/9', { body: { name: 'bo' } });
    expect(r.status, r.text).toBe(201);
    expect(r.text).toMatch(/^[0-9a-f-]{36}$/);
    expect(await resultOf(api, r.text)).toEqual({ id: '9', name: 'bo', q: '', body: null, raw: null });
    // The job runs as the trigger's owner; an anonymous caller is named after the route.
    const job = await api.get(`jobs_u/get/${r.text}`);
    expect(job.json.permissioned_as).toBe('u/admin');
    expect(job.json.created_by).toBe('HTTP-u/admin/later');
    // is_async (the older field) means the same.
    expect((await api.post('http_triggers/create', http('u/admin/later2', { route_path: 'later2', request_type: undefined, is_async: true }))).status).toBe(201);
    const r2 = await route('POST', 'later2', { body: { id: 'x' } });
    expect(r2.status).toBe(201);
    expect(((await resultOf(api, r2.text)) as any).id).toBe('x');
  });

  it('a flow runs too', async () => {
    const f = await api.post('flows/create', {
      path: 'u/admin/twice',
      summary: '',
      description: '',
      value: { modules: [{ id: 'a', value: { type: 'rawscript', language: 'python3', content: 'def main(n: int):\n    return n * 2\n', input_transforms: { n: { type: 'javascript', expr: 'flow_input.n' } } } }] },
      schema: { type: 'object', properties: { n: { type: 'integer' } } },
    });
    expect(f.status, f.text).toBe(201);
    expect((await api.post('http_triggers/create', http('u/admin/twice', { route_path: 'twice', script_path: 'u/admin/twice', is_flow: true }))).status).toBe(201);
    const r = await route('POST', 'twice', { body: { n: 21 } });
    expect([r.status, r.json]).toEqual([200, 42]);
  });

  it('authentication: windmill needs a token of a member who may read the trigger; api_key needs the key', async () => {
    expect((await api.post('http_triggers/create', http('u/admin/secure', { route_path: 'secure', http_method: 'get', authentication_method: 'windmill' }))).status).toBe(201);
    const none = await route('GET', 'secure');
    expect(none.status).toBe(401);
    expect(none.text).toMatch(/Requires authentication/);
    expect((await route('GET', 'secure', { headers: { authorization: 'Bearer not-a-token' } })).status).toBe(401);
    // A member who cannot see u/admin/secure is refused; the admin is let through and named as the caller.
    const bob = await api.addUser('bob');
    expect((await route('GET', 'secure', { headers: { authorization: `Bearer ${bob}` } })).status).toBe(401);
    const ok = await route('GET', 'secure?name=adm', { headers: { authorization: `Bearer ${srv.token}` } });
    expect([ok.status, ok.json?.name]).toEqual([200, 'adm']);
    // A token in the query works too, and is not handed to the job as an argument.
    await api.deploy({ path: 'u/admin/args', language: 'python3', content: 'def main(**kwargs):\n    return sorted(kwargs)\n' });
    expect((await api.post('http_triggers/create', http('u/admin/args', { route_path: 'args', http_method: 'get', script_path: 'u/admin/args', authentication_method: 'windmill' }))).status).toBe(201);
    const viaQuery = await route('GET', `args?token=${srv.token}&a=1`);
    expect([viaQuery.status, viaQuery.json]).toEqual([200, ['a']]);

    // api_key: the header and secret from a resource (the secret from a secret variable).
    expect((await api.post('variables/create', { path: 'u/admin/hook_secret', value: 's3cret', is_secret: true, description: '' })).status).toBe(201);
    expect((await api.post('resources/create', { path: 'u/admin/hook_key', resource_type: 'api_key_auth', value: { api_key_header: 'X-Api-Key', api_key_secret: '$var:u/admin/hook_secret' } })).status).toBe(201);
    const mk = await api.post('http_triggers/create', http('u/admin/keyed', { route_path: 'keyed', authentication_method: 'api_key', authentication_resource_path: 'u/admin/hook_key' }));
    expect(mk.status, mk.text).toBe(201);
    expect((await route('POST', 'keyed', { body: {} })).status).toBe(401);
    expect((await route('POST', 'keyed', { body: {}, headers: { 'x-api-key': 'wrong' } })).status).toBe(401);
    const good = await route('POST', 'keyed', { body: { name: 'k' }, headers: { 'x-api-key': 's3cret' } });
    expect([good.status, good.json?.name]).toEqual([200, 'k']);
    // basic_http: user and password from a resource.
    expect((await api.post('resources/create', { path: 'u/admin/hook_basic', resource_type: 'basic_http_auth', value: { username: 'u1', password: 'pw' } })).status).toBe(201);
    expect((await api.post('http_triggers/create', http('u/admin/basic', { route_path: 'basic', authentication_method: 'basic_http', authentication_resource_path: 'u/admin/hook_basic' }))).status).toBe(201);
    const basic = (cred: string) => route('POST', 'basic', { body: {}, headers: { authorization: `Basic ${Buffer.from(cred).toString('base64')}` } });
    expect((await basic('u1:wrong')).status).toBe(401);
    expect((await basic('u1:pw')).status).toBe(200);
    // Without its resource the route cannot be created.
    expect((await api.post('http_triggers/create', http('u/admin/keyless', { route_path: 'keyless', authentication_method: 'api_key' }))).status).toBe(400);
  });

  it('who may create a route, and whom it runs as', async () => {
    // Routes share the server's namespace: only admins create them.
    const carol = new Api(srv.api.base, await api.addUser('carol'));
    const refused = await carol.post('http_triggers/create', http('u/carol/mine', { route_path: 'carols', script_path: 'u/carol/x' }));
    expect(refused.status).toBe(403);
    // A route must run as someone who may run its script.
    const asCarol = await api.post('http_triggers/create', http('u/admin/as_carol', { route_path: 'as-carol', preserve_permissioned_as: true, permissioned_as: 'u/carol' }));
    expect(asCarol.status).toBe(400);
    expect(asCarol.text).toMatch(/runs as u\/carol: script u\/admin\/echo not found, or carol may not run it/);
    // The owner's rights are checked on each request: carol may run f/team/hello through the folder's
    // extra_perms; once they are taken away, her route refuses to run it.
    expect((await api.post('folders/create', { name: 'team', extra_perms: { 'u/carol': false } })).status).toBe(200);
    await api.deploy({ path: 'f/team/hello', language: 'python3', content: 'def main():\n    return "hello"\n' });
    const mine = await api.post('http_triggers/create', http('f/team/hello', { route_path: 'team-hello', script_path: 'f/team/hello', preserve_permissioned_as: true, permissioned_as: 'u/carol', request_type: 'async' }));
    expect(mine.status, mine.text).toBe(201);
    const ran = await route('POST', 'team-hello');
    expect(ran.status, ran.text).toBe(201);
    expect(await resultOf(api, ran.text)).toBe('hello');
    expect((await api.get(`jobs_u/get/${ran.text}`)).json.permissioned_as).toBe('u/carol');
    expect((await api.post('folders/update/team', { extra_perms: {} })).status).toBe(200);
    const denied = await route('POST', 'team-hello');
    expect(denied.status).toBe(403);
    expect(denied.text).toMatch(/runs as u\/carol: script f\/team\/hello not found, or carol may not run it/);
    // A disabled route does not run.
    expect((await api.post('http_triggers/create', http('u/admin/off', { route_path: 'off', mode: 'disabled' }))).status).toBe(201);
    const off = await route('POST', 'off');
    expect(off.status).toBe(404);
    expect(off.text).toMatch(/u\/admin\/off is disabled/);
    // Bad input names the field.
    const bad = await api.post('http_triggers/create', http('u/admin/bad', { route_path: '/with/../dots', http_method: 'fetch' }));
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/route_path|http_method/);
  });
});

describe('other trigger kinds', () => {
  it('are stored, listed, read, updated and deleted; their listener says it does not run here', async () => {
    const api = srv.api;
    const k = { path: 'u/admin/orders', script_path: 'u/admin/echo', is_flow: false, kafka_resource_path: 'u/admin/kafka', group_id: 'wm', topics: ['orders'], filters: [], enabled: true };
    const c = await api.post('kafka_triggers/create', k);
    expect(c.status, c.text).toBe(201);
    const g = await api.get('kafka_triggers/get/u/admin/orders');
    expect(g.status).toBe(200);
    expect(g.json).toMatchObject({ ...k, workspace_id: 'admins', edited_by: 'admin', permissioned_as: 'u/admin' });
    expect(g.json.error).toMatch(/not supported by wmill serve/);
    expect((await api.get('kafka_triggers/list')).json.map((x: any) => x.path)).toEqual(['u/admin/orders']);
    expect((await api.get('kafka_triggers/exists/u/admin/orders')).json).toBe(true);
    expect((await api.get('nats_triggers/exists/u/admin/orders')).json).toBe(false);
    const u = await api.post('kafka_triggers/update/u/admin/orders', { ...k, topics: ['orders', 'refunds'] });
    expect(u.status, u.text).toBe(200);
    expect((await api.get('kafka_triggers/get/u/admin/orders')).json.topics).toEqual(['orders', 'refunds']);
    for (const kind of ['websocket', 'nats', 'postgres', 'mqtt', 'amqp', 'sqs', 'gcp', 'azure', 'email']) {
      const r = await api.post(`${kind}_triggers/create`, { path: `u/admin/${kind}_one`, script_path: 'u/admin/echo', is_flow: false, enabled: false });
      expect(r.status, `${kind}: ${r.text}`).toBe(201);
      expect((await api.get(`${kind}_triggers/get/u/admin/${kind}_one`)).json.error, kind).toMatch(/not supported by wmill serve/);
      expect((await api.get(`${kind}_triggers/list`)).status).toBe(200);
    }
    // Native triggers (registered with an external service) are refused clearly, not a 404.
    const native = await api.post('native_triggers/nextcloud/create', { script_path: 'u/admin/echo', is_flow: false, service_config: {} });
    expect(native.status).toBe(501);
    expect(native.text).toMatch(/native triggers \(nextcloud\) are not supported by wmill serve/);
    expect((await api.del('kafka_triggers/delete/u/admin/orders')).status).toBe(200);
    expect((await api.get('kafka_triggers/get/u/admin/orders')).status).toBe(404);
    expect((await api.del('kafka_triggers/delete/u/admin/orders')).status).toBe(404);
  });
});

// ----------------------------------------------------------------------------------------------
// Sync

const WMILL_YAML = 'defaultTs: bun\nincludes:\n  - f/**\nincludeTriggers: true\nnonDottedPaths: true\n';
const FOLDER = "summary: ''\ndisplay_name: hooks\nowners: []\nextra_perms: {}\n";
// As the real CLI writes them (its YAML options order the keys: summary first, then by name).
const HTTP_TRIGGER = `summary: Echo hook
authentication_method: none
http_method: post
is_async: false
is_flow: false
is_static_website: false
raw_string: false
request_type: sync
requires_auth: true
route_path: hooks/:id
script_path: u/admin/echo
workspaced_route: false
wrap_body: false
`;
const KAFKA_TRIGGER = `enabled: false
filters: []
group_id: wm
is_flow: false
kafka_resource_path: f/hooks/kafka
script_path: u/admin/echo
topics:
  - orders
  - refunds
`;

function folder(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmp, 'ws-'));
  writeFileSync(join(dir, 'wmill.yaml'), WMILL_YAML);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

const SOURCE = {
  'f/hooks/folder.meta.yaml': FOLDER,
  'f/hooks/echo.http_trigger.yaml': HTTP_TRIGGER,
  'f/hooks/orders.kafka_trigger.yaml': KAFKA_TRIGGER,
};

const triggerFiles = (t: Record<string, string>) => Object.fromEntries(Object.entries(t).filter(([k]) => k.endsWith('_trigger.yaml')));

async function newWorkspace(id: string): Promise<Api> {
  const r = await srv.api.req('POST', '/api/workspaces/create', { id, name: id });
  expect(r.status, r.text).toBe(201);
  return new Api(srv.api.base, srv.token, id);
}

const profiles = new Set<string>();
async function real(cwd: string, args: string[], ws: string) {
  const cfg = join(tmp, `cfg-${ws}`);
  if (!profiles.has(ws)) {
    const add = await realAt(cwd, ['workspace', 'add', ws, ws, srv.url, '--token', srv.token], cfg);
    expect(add.code, add.all).toBe(0);
    profiles.add(ws);
  }
  return realAt(cwd, args, cfg);
}
const ours = (cwd: string, args: string[], ws: string) => oursAt(cwd, args, { url: srv.url, token: srv.token, ws });

describe('triggers in sync', () => {
  it('the real windmill-cli pushes an HTTP and a kafka trigger and pulls them back byte for byte; the route serves', async () => {
    const api = await newWorkspace('t1');
    // Outside the synced folder (includes: f/**), so the push leaves it alone.
    await api.deploy({ path: 'u/admin/echo', language: 'python3', content: ECHO });
    const src = folder(SOURCE);
    const push = await real(src, ['sync', 'push', '--yes'], 't1');
    expect(push.code, push.all).toBe(0);
    expect((await api.get('http_triggers/get/f/hooks/echo')).json).toMatchObject({ route_path: 'hooks/:id', summary: 'Echo hook' });
    expect((await api.get('kafka_triggers/get/f/hooks/orders')).json.topics).toEqual(['orders', 'refunds']);
    // A second push has nothing to do.
    const again = await real(src, ['sync', 'push', '--yes', '--json-output', '--dry-run'], 't1');
    expect(again.code, again.all).toBe(0);
    expect(JSON.parse(again.stdout.slice(again.stdout.indexOf('{'))).total).toBe(0);

    const dst = folder();
    const pull = await real(dst, ['sync', 'pull', '--yes'], 't1');
    expect(pull.code, pull.all).toBe(0);
    expect(triggerFiles(tree(dst))).toEqual(triggerFiles(SOURCE));

    // The route pushed by the real CLI answers.
    const r = await route('POST', 'hooks/5', { body: { name: 'cli' } });
    expect([r.status, r.json?.id, r.json?.name]).toEqual([200, '5', 'cli']);

    // The real CLI's trigger commands.
    const list = await real(src, ['trigger', 'list', '--json'], 't1');
    expect(list.code, list.all).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([{ path: 'f/hooks/echo', kind: 'http' }, { path: 'f/hooks/orders', kind: 'kafka' }]);
    const get = await real(src, ['trigger', 'get', 'f/hooks/orders', '--kind', 'kafka', '--json'], 't1');
    expect(get.code, get.all).toBe(0);
    expect(JSON.parse(get.stdout).error).toMatch(/not supported by wmill serve/);

    // trigger push: one file, to a path of its own.
    writeFileSync(join(src, 'f/hooks/feed.websocket_trigger.yaml'), 'script_path: u/admin/echo\nis_flow: false\nurl: wss://example.com/feed\nfilters: []\ncan_return_message: false\nenabled: false\n');
    const one = await real(src, ['trigger', 'push', 'f/hooks/feed.websocket_trigger.yaml', 'f/hooks/feed'], 't1');
    expect(one.code, one.all).toBe(0);
    expect((await api.get('websocket_triggers/get/f/hooks/feed')).json).toMatchObject({ url: 'wss://example.com/feed', enabled: false });
    rmSync(join(src, 'f/hooks/feed.websocket_trigger.yaml'));

    // A deleted trigger file is deleted on the server.
    rmSync(join(src, 'f/hooks/orders.kafka_trigger.yaml'));
    const del = await real(src, ['sync', 'push', '--yes'], 't1');
    expect(del.code, del.all).toBe(0);
    expect((await api.get('kafka_triggers/exists/f/hooks/orders')).json).toBe(false);
  });

  it('our sync pushes and pulls them too: ours → real CLI and real CLI → ours, byte for byte; a route pushed by ours serves', async () => {
    const api = await newWorkspace('t2');
    await api.deploy({ path: 'u/admin/echo', language: 'python3', content: ECHO });
    const src = folder({ ...SOURCE, 'f/hooks/echo.http_trigger.yaml': HTTP_TRIGGER.replace('hooks/:id', 'hooks2/:id') });
    const push = await ours(src, ['sync', 'push', '--yes'], 't2');
    expect(push.code, push.all).toBe(0);
    expect(push.all).toMatch(/\+ http_trigger f\/hooks\/echo/);
    expect(push.all).toMatch(/\+ kafka_trigger f\/hooks\/orders/);
    const noop = await ours(src, ['sync', 'push', '--yes'], 't2');
    expect(noop.code, noop.all).toBe(0);
    expect(noop.all).toMatch(/nothing to do/);
    const r = await route('POST', 'hooks2/8', { body: { name: 'ours' } });
    expect([r.status, r.json?.id, r.json?.name]).toEqual([200, '8', 'ours']);

    // The real CLI pulls what ours pushed, and ours pulls the same bytes.
    const realPull = folder();
    const rp = await real(realPull, ['sync', 'pull', '--yes'], 't2');
    expect(rp.code, rp.all).toBe(0);
    const ourPull = folder();
    const op = await ours(ourPull, ['sync', 'pull', '--yes'], 't2');
    expect(op.code, op.all).toBe(0);
    expect(triggerFiles(tree(realPull))).toEqual(triggerFiles(tree(src)));
    expect(triggerFiles(tree(ourPull))).toEqual(triggerFiles(tree(src)));

    // The real CLI pushes into a new workspace; ours pulls it back unchanged, and plans nothing more.
    const api3 = await newWorkspace('t3');
    await api3.deploy({ path: 'u/admin/echo', language: 'python3', content: ECHO });
    const src3 = folder({ ...SOURCE, 'f/hooks/echo.http_trigger.yaml': HTTP_TRIGGER.replace('hooks/:id', 'hooks3/:id') });
    const p3 = await real(src3, ['sync', 'push', '--yes'], 't3');
    expect(p3.code, p3.all).toBe(0);
    const back = folder();
    const b3 = await ours(back, ['sync', 'pull', '--yes'], 't3');
    expect(b3.code, b3.all).toBe(0);
    expect(triggerFiles(tree(back))).toEqual(triggerFiles(tree(src3)));
    const again = await ours(src3, ['sync', 'push', '--yes', '--dry-run'], 't3');
    expect(again.code, again.all).toBe(0);
    expect(again.all).toMatch(/nothing to do/);

    // Without includeTriggers, triggers take no part (nothing deleted on either side).
    writeFileSync(join(back, 'wmill.yaml'), WMILL_YAML.replace('includeTriggers: true\n', ''));
    rmSync(join(back, 'f/hooks/orders.kafka_trigger.yaml'));
    const skip = await ours(back, ['sync', 'push', '--yes'], 't3');
    expect(skip.code, skip.all).toBe(0);
    expect((await api3.get('kafka_triggers/exists/f/hooks/orders')).json).toBe(true);
    // With it, the deletion goes through (ours asks for --delete beside --yes).
    writeFileSync(join(back, 'wmill.yaml'), WMILL_YAML);
    const del = await ours(back, ['sync', 'push', '--yes', '--delete'], 't3');
    expect(del.code, del.all).toBe(0);
    expect(del.all).toMatch(/- kafka_trigger f\/hooks\/orders/);
    expect((await api3.get('kafka_triggers/exists/f/hooks/orders')).json).toBe(false);
  });
});
