/**
 * Apps on `wmill serve`: a low-code app and a raw app (test/fixtures/apps) pushed by the real
 * windmill-cli or by ours come back byte for byte from either tool's pull; versions and history;
 * a public app's secret URL serves it without a token and stops when it is unpublished; a raw
 * app's page runs sandboxed; and the one access check keeps a user's app from another user.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Api, startTestServer, type TestServer } from './helpers/server.js';
import { ours as oursAt, real as realAt, tree } from './helpers/sync.js';
import { existsSync } from 'node:fs';
import { REPO } from './helpers/workspace.js';

let srv: TestServer;
let tmp: string;

beforeAll(async () => {
  srv = await startTestServer({ workers: 0 });
  tmp = mkdtempSync(join(tmpdir(), 'wmill-apps-'));
}, 120_000);

afterAll(async () => {
  await srv?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const FIXTURE = join(REPO, 'test/fixtures/apps');
const RAW = 'f/apps/board__raw_app';
const LOW = 'f/apps/dash__app';

const ours = (cwd: string, args: string[], ws: string) => oursAt(cwd, args, { url: srv.url, token: srv.token, ws });
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

async function newWorkspace(id: string): Promise<Api> {
  const r = await srv.api.req('POST', '/api/workspaces/create', { id, name: id });
  expect(r.status, r.text).toBe(201);
  return new Api(srv.api.base, srv.token, id);
}

/** The fixture in a folder of its own; the raw app gets an (empty) node_modules so the real CLI's bundler installs nothing. */
function source(): string {
  const dir = mkdtempSync(join(tmp, 'src-'));
  cpSync(FIXTURE, dir, { recursive: true });
  rmSync(join(dir, 'README.md'));
  mkdirSync(join(dir, RAW, 'node_modules'));
  return dir;
}

function emptyFolder(): string {
  const dir = mkdtempSync(join(tmp, 'dst-'));
  cpSync(join(FIXTURE, 'wmill.yaml'), join(dir, 'wmill.yaml'));
  return dir;
}

/** The workspace content of a folder (f/), without node_modules. */
const content = (dir: string) => tree(join(dir, 'f'), { skip: (rel) => rel.split('/').includes('node_modules') });

/** GET without any credential. */
const anonymous = (path: string) => fetch(`${srv.api.base.replace(/\/$/, '')}${path}`);

describe('apps round trips', () => {
  it('the real CLI: an app and a raw app survive push → pull byte for byte; our pull gives the same files and our push finds nothing to do', async () => {
    const api = await newWorkspace('realrt');
    const src = source();
    const push = await real(src, ['sync', 'push', '--yes'], 'realrt');
    expect(push.code, push.all).toBe(0);
    const expected = content(src);
    expect(Object.keys(expected)).toEqual(expect.arrayContaining([`apps/board__raw_app/backend/add.lock`, 'apps/board__raw_app/index.tsx', 'apps/dash__app/compute.ts', 'apps/dash__app/compute.lock']));

    const dst = emptyFolder();
    const pull = await real(dst, ['sync', 'pull', '--yes'], 'realrt');
    expect(pull.code, pull.all).toBe(0);
    expect(content(dst)).toEqual(expected);

    const mine = emptyFolder();
    const ourPull = await ours(mine, ['sync', 'pull', '--yes'], 'realrt');
    expect(ourPull.code, ourPull.all).toBe(0);
    expect(content(mine)).toEqual(expected);
    const again = await ours(src, ['sync', 'push', '--yes'], 'realrt');
    expect(again.code, again.all).toBe(0);
    expect(again.all).toContain('nothing to do');

    // What the server holds: the raw app with the CLI's bundle, the low-code app public.
    const board = await api.get('apps/get/p/f/apps/board');
    expect(board.status, board.text).toBe(200);
    expect(board.json).toMatchObject({ path: 'f/apps/board', summary: 'Board', raw_app: true, execution_mode: 'publisher' });
    expect(Object.keys(board.json.value.runnables).sort()).toEqual(['add', 'greet', 'shout']);
    expect(board.json.value.runnables.add.inlineScript.language).toBe('bun');
    const list = await api.get('apps/list');
    expect(list.json.map((a: any) => [a.path, a.raw_app, a.execution_mode]).sort()).toEqual([['f/apps/board', true, 'publisher'], ['f/apps/dash', false, 'anonymous']]);
    // The real CLI's app commands read the same shapes.
    const appList = await real(src, ['app', 'list', '--json'], 'realrt');
    expect(appList.code, appList.all).toBe(0);
    expect(JSON.parse(appList.stdout.trim().split('\n').pop()!).map((a: any) => a.path).sort()).toEqual(['f/apps/board', 'f/apps/dash']);
    const appGet = await real(src, ['app', 'get', 'f/apps/dash'], 'realrt');
    expect(appGet.code, appGet.all).toBe(0);
    expect(appGet.stdout).toMatch(/Path: f\/apps\/dash[\s\S]*Summary: Dashboard[\s\S]*Created by: admin/);
    // Its page frames the app (sandboxed) and relays its backend calls; the app document has the bundle.
    const host = await api.get('apps/page/f/apps/board');
    expect(host.status, host.text).toBe(200);
    expect(host.text).toContain('<iframe id="app" title="Board" sandbox="allow-scripts');
    expect(host.text).toContain('src="board/-/"');
    const page = await api.get('apps/page/f/apps/board/-/');
    expect(page.status, page.text).toBe(200);
    expect(page.text).toContain('textContent="Board"');
    expect(page.text).toContain('#title{color:#639}');

    // Our push of a backend change keeps the bundle (the frontend files did not change); a
    // frontend change drops it (it would be stale), and the app says what to do.
    writeFileSync(join(src, RAW, 'backend/shout.py'), 'def main(s: str):\n    return s.lower()\n');
    expect((await ours(src, ['sync', 'push', '--yes'], 'realrt')).code).toBe(0);
    expect((await api.get('apps/page/f/apps/board/-/')).text).toContain('textContent="Board"');
    writeFileSync(join(src, RAW, 'index.css'), '#title { color: red; }\n');
    expect((await ours(src, ['sync', 'push', '--yes'], 'realrt')).code).toBe(0);
    const stale = await api.get('apps/page/f/apps/board/-/');
    expect(stale.status).toBe(404);
    expect(stale.text).toContain('no bundle and no index.html');
    expect((await api.get('apps/history/p/f/apps/board')).json).toHaveLength(3);
  }, 300_000);

  it('ours: an app and a raw app survive push → pull byte for byte; a second push is a no-op and the real CLI pulls the same files', async () => {
    await newWorkspace('oursrt');
    const src = source();
    const push = await ours(src, ['sync', 'push', '--yes'], 'oursrt');
    expect(push.code, push.all).toBe(0);
    expect(push.all).toMatch(/\+ raw_app f\/apps\/board[\s\S]*\+ app f\/apps\/dash/);
    const expected = content(src);

    const dst = emptyFolder();
    const pull = await ours(dst, ['sync', 'pull', '--yes'], 'oursrt');
    expect(pull.code, pull.all).toBe(0);
    expect(content(dst)).toEqual(expected);
    const noop = await ours(dst, ['sync', 'push', '--yes'], 'oursrt');
    expect(noop.all).toContain('nothing to do');

    const theirs = emptyFolder();
    const realPull = await real(theirs, ['sync', 'pull', '--yes'], 'oursrt');
    expect(realPull.code, realPull.all).toBe(0);
    expect(content(theirs)).toEqual(expected);

    // An edit to a backend runnable and a removed frontend file travel; the pull deletes the file.
    writeFileSync(join(src, RAW, 'backend/shout.py'), 'def main(s: str):\n    return s.upper() + "!"\n');
    rmSync(join(src, RAW, 'index.css'));
    writeFileSync(join(src, RAW, 'index.tsx'), readFileSync(join(src, RAW, 'index.tsx'), 'utf8').replace("import './index.css';\n", ''));
    expect(readFileSync(join(src, RAW, 'index.tsx'), 'utf8')).not.toContain('index.css');
    const edit = await ours(src, ['sync', 'push', '--yes'], 'oursrt');
    expect(edit.code, edit.all).toBe(0);
    expect(edit.all).toContain('~ raw_app f/apps/board');
    const pull2 = await ours(dst, ['sync', 'pull', '--yes'], 'oursrt');
    expect(pull2.code, pull2.all).toBe(0);
    expect(content(dst)).toEqual(content(src));

    // Change by change (as against a real Windmill): apps/create and the multipart create_raw.
    await newWorkspace('oneby');
    const one = await ours(src, ['sync', 'push', '--yes', '--one-by-one'], 'oneby');
    expect(one.code, one.all).toBe(0);
    const oneDst = emptyFolder();
    expect((await ours(oneDst, ['sync', 'pull', '--yes'], 'oneby')).code).toBe(0);
    expect(content(oneDst)).toEqual(content(src));

    // A broken app file stops the push before anything is applied, naming the file.
    writeFileSync(join(src, LOW, 'app.yaml'), 'summary: [unclosed\n');
    const bad = await ours(src, ['sync', 'push', '--yes'], 'oursrt');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${LOW}/app.yaml`);
    writeFileSync(join(src, LOW, 'app.yaml'), readFileSync(join(FIXTURE, LOW, 'app.yaml'), 'utf8').replace('!inline compute.ts', '!inline missing.ts'));
    const missing = await ours(src, ['sync', 'push', '--yes'], 'oursrt');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`${LOW}/missing.ts, which does not exist`);
  }, 300_000);

  it('a raw app without a bundle is served from its own index.html and files', async () => {
    const api = await newWorkspace('site');
    const files = { '/index.html': '<!doctype html><html><head><title>t</title></head><body><script src="app.js"></script></body></html>', '/app.js': 'document.title = "site";\n' };
    const form = new FormData();
    form.append('app', JSON.stringify({ path: 'f/x/site', summary: 'Site', value: { files, runnables: {} }, policy: { execution_mode: 'anonymous' } }));
    const created = await fetch(`${srv.api.base.replace(/\/$/, '')}/api/w/site/apps/create_raw`, { method: 'POST', headers: { authorization: `Bearer ${srv.token}` }, body: form });
    expect(created.status, await created.text()).toBe(201);
    const page = await api.get('apps/page/f/x/site/-/');
    expect(page.status).toBe(200);
    expect(page.text).toBe(files['/index.html']);
    const js = await api.get('apps/page/f/x/site/-/app.js');
    expect(js.text).toBe(files['/app.js']);
    const secret = (await api.get('apps/secret_of/f/x/site')).text;
    const pub = await anonymous(`/api/w/site/apps_u/page/${secret}/app.js`);
    expect(pub.headers.get('content-type')).toContain('text/javascript');
    expect(await pub.text()).toBe(files['/app.js']);
    expect((await api.get('apps/page/f/x/site/-/nope.js')).status).toBe(404);
  }, 120_000);
});

describe('versions, public apps, access', () => {
  it('every deploy is a version: history, a version by id, the latest version', async () => {
    const api = await newWorkspace('hist');
    const value = { grid: [], hiddenInlineScripts: [] };
    expect((await api.post('apps/create', { path: 'f/x/a', summary: 'one', value, policy: { execution_mode: 'publisher' } })).status).toBe(201);
    const upd = await api.post('apps/update/f/x/a', { summary: 'two', value: { ...value, fullscreen: true }, deployment_message: 'second' });
    expect(upd.status, upd.text).toBe(200);
    const hist = await api.get('apps/history/p/f/x/a');
    expect(hist.json).toHaveLength(2);
    expect(hist.json[0].deployment_msg).toBe('second');
    const first = await api.get(`apps/get/v/${hist.json[1].version}`);
    expect(first.json.value).toEqual(value);
    const latest = await api.get('apps/get_latest_version/f/x/a');
    expect(latest.json.version).toBe(hist.json[0].version);
    const app = await api.get('apps/get/p/f/x/a');
    expect(app.json).toMatchObject({ summary: 'two', versions: [hist.json[1].version, hist.json[0].version], value: { fullscreen: true } });
    expect((await api.post('apps/create', { path: 'f/x/a', value })).status).toBe(400);
    expect((await api.get('apps/exists/f/x/a')).json).toBe(true);
    expect((await api.req('DELETE', 'apps/delete/f/x/a')).status).toBe(200);
    expect((await api.get('apps/exists/f/x/a')).json).toBe(false);
    expect((await api.get('apps/get/p/f/x/a')).status).toBe(404);
  }, 120_000);

  it('a public app URL serves without a token, and stops when the app is unpublished or deleted', async () => {
    const api = await newWorkspace('pub');
    const src = source();
    expect((await real(src, ['sync', 'push', '--yes'], 'pub')).code).toBe(0);
    const dashSecret = (await api.get('apps/secret_of/f/apps/dash')).text;
    const boardSecret = (await api.get('apps/secret_of/f/apps/board')).text;
    expect(dashSecret).toMatch(/^[0-9a-f]{32}$/);

    // The low-code app is public (app.yaml says public: true): its JSON, without a token.
    const pub = await anonymous(`/api/w/pub/apps_u/public_app/${dashSecret}`);
    expect(pub.status).toBe(200);
    const body = (await pub.json()) as any;
    expect(body).toMatchObject({ path: 'f/apps/dash', summary: 'Dashboard', policy: { execution_mode: 'anonymous' } });
    expect(JSON.stringify(body)).not.toContain('on_behalf_of');
    expect((await anonymous(`/api/w/pub/apps_u/page/${dashSecret}`)).status).toBe(501);

    // The raw app is not public: no page without a token, until raw_app.yaml says public: true.
    expect((await anonymous(`/api/w/pub/apps_u/page/${boardSecret}`)).status).toBe(403);
    writeFileSync(join(src, RAW, 'raw_app.yaml'), 'summary: Board\npublic: true\n');
    const publish = await real(src, ['sync', 'push', '--yes'], 'pub');
    expect(publish.code, publish.all).toBe(0);
    const host = await anonymous(`/api/w/pub/apps_u/page/${boardSecret}`);
    expect(host.status).toBe(200);
    expect(await host.text()).toContain(`src="${boardSecret}/"`);
    const page = await anonymous(`/api/w/pub/apps_u/page/${boardSecret}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toMatch(/^sandbox /);
    const html = await page.text();
    expect(html).toContain('<div id="root"></div>');
    expect(html).toContain('textContent="Board"');
    const file = await anonymous(`/api/w/pub/apps_u/page/${boardSecret}/package.json`);
    expect(file.status).toBe(200);
    expect(await file.text()).toBe(readFileSync(join(src, RAW, 'package.json'), 'utf8'));

    // Unpublished (public: true removed, pushed with our CLI): the URL stops; a reader still gets it with a token.
    writeFileSync(join(src, LOW, 'app.yaml'), readFileSync(join(src, LOW, 'app.yaml'), 'utf8').replace('public: true\n', ''));
    const unpublish = await ours(src, ['sync', 'push', '--yes'], 'pub');
    expect(unpublish.code, unpublish.all).toBe(0);
    expect(unpublish.all).toContain('~ app f/apps/dash');
    expect((await anonymous(`/api/w/pub/apps_u/public_app/${dashSecret}`)).status).toBe(403);
    expect((await api.get(`apps_u/public_app/${dashSecret}`)).status).toBe(200);
    expect((await api.get('apps/get/p/f/apps/dash')).json.execution_mode).toBe('publisher');

    // Deleted (folder removed, pushed): 404.
    rmSync(join(src, RAW), { recursive: true });
    const del = await ours(src, ['sync', 'push', '--yes', '--delete'], 'pub');
    expect(del.code, del.all).toBe(0);
    expect((await anonymous(`/api/w/pub/apps_u/page/${boardSecret}`)).status).toBe(404);
    expect((await anonymous(`/api/w/pub/apps_u/public_app/not-a-secret`)).status).toBe(404);
  }, 300_000);

  it("access: a non-admin cannot read, list, publish or change another user's u/ app", async () => {
    const api = await newWorkspace('acl');
    const bob = api.as(await api.addUser('bob'));
    const alice = api.as(await api.addUser('alice'));
    const value = { grid: [], hiddenInlineScripts: [] };
    expect((await bob.post('apps/create', { path: 'u/bob/private', summary: 'mine', value })).status).toBe(201);
    expect((await bob.get('apps/get/p/u/bob/private')).status).toBe(200);

    expect((await alice.get('apps/get/p/u/bob/private')).status).toBe(404);
    expect((await alice.get('apps/exists/u/bob/private')).json).toBe(false);
    expect((await alice.get('apps/list')).json).toEqual([]);
    expect((await alice.get('apps/secret_of/u/bob/private')).status).toBe(404);
    expect((await alice.get('apps/history/p/u/bob/private')).status).toBe(404);
    expect((await alice.post('apps/update/u/bob/private', { summary: 'hijacked' })).status).toBe(403);
    expect((await alice.req('DELETE', 'apps/delete/u/bob/private')).status).toBe(403);
    expect((await alice.post('apps/create', { path: 'u/bob/other', value })).status).toBe(403);
    // Nor through the archive the CLIs pull.
    const zip = await alice.req('GET', 'workspaces/tarball?archive_type=zip');
    expect(zip.status).toBe(200);
    expect(zip.text).not.toContain('u/bob/private');
    // Its secret URL needs a public app; bob's is not, and alice's token does not make it readable.
    const secret = (await bob.get('apps/secret_of/u/bob/private')).text;
    expect((await alice.get(`apps_u/public_app/${secret}`)).status).toBe(403);
    expect((await bob.get('apps/get/p/u/bob/private')).json.summary).toBe('mine');
  }, 120_000);
});

describe('raw app backends', () => {
  let live: TestServer;
  beforeAll(async () => {
    live = await startTestServer({ workers: 1 });
  }, 120_000);
  afterAll(async () => {
    await live?.close();
  });

  it("the page's backend calls run the deployed runnables as the publisher, static fields winning, public or not", async () => {
    const api = live.api;
    expect((await api.post('folders/create', { name: 'x' })).status).toBeLessThan(300);
    await api.deploy({ path: 'f/x/greet', language: 'python3', content: 'def main(name: str):\n    return f"hello {name}"\n' });
    const runnables = {
      shout: { type: 'inline', inlineScript: { language: 'python3', content: 'def main(s: str):\n    return s.upper()\n' } },
      mul: { type: 'inline', fields: { a: { type: 'static', value: 6 } }, inlineScript: { language: 'python3', content: 'def main(a: int, b: int):\n    return a * b\n' } },
      greet: { type: 'path', runType: 'script', path: 'f/x/greet' },
    };
    const create = (path: string, mode: string) =>
      api.req('POST', 'apps/create_raw', { app: { path, summary: path, value: { files: { '/index.html': '<p>hi</p>' }, runnables }, policy: { execution_mode: mode } } });
    expect((await create('f/x/pub', 'anonymous')).status).toBe(201);
    expect((await create('f/x/priv', 'publisher')).status).toBe(201);
    expect((await create('f/x/mine', 'viewer')).status).toBe(201);
    const secret = async (p: string) => (await api.get(`apps/secret_of/${p}`)).text;
    const run = async (s: string, id: string, args: unknown, token?: string) => {
      const r = await fetch(`${live.api.base.replace(/\/$/, '')}/api/w/admins/apps_u/run/${s}/${id}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(args),
      });
      return { status: r.status, text: await r.clone().text(), json: (await r.json().catch(() => undefined)) as any };
    };
    const pub = await secret('f/x/pub');
    expect((await run(pub, 'shout', { s: 'hi' })).json).toMatchObject({ success: true, result: 'HI' });
    expect((await run(pub, 'mul', { a: 100, b: 7 })).json).toMatchObject({ success: true, result: 42 });
    expect((await run(pub, 'greet', { name: 'ada' })).json).toMatchObject({ success: true, result: 'hello ada' });
    expect((await run(pub, 'nope', {})).status).toBe(404);
    // Not public: nothing without a login; a reader may use it.
    const priv = await secret('f/x/priv');
    expect((await run(priv, 'shout', { s: 'x' })).status).toBe(403);
    expect((await run(priv, 'shout', { s: 'x' }, live.token)).json).toMatchObject({ success: true, result: 'X' });
    // Runs as its viewer: a login is needed even to a reader of its secret.
    expect((await run(await secret('f/x/mine'), 'shout', { s: 'x' })).status).toBe(403);
    // The host page of the public app points its bridge at this route.
    const host = await fetch(`${live.api.base.replace(/\/$/, '')}/api/w/admins/apps_u/page/${pub}`);
    expect(await host.text()).toContain(`const runUrl = "../run/${pub}/"`);
  }, 180_000);
});

const CHROMIUM = '/usr/bin/chromium';

describe('a raw app in a browser', () => {
  let live: TestServer;
  beforeAll(async () => {
    live = await startTestServer({ workers: 1 });
  }, 120_000);
  afterAll(async () => {
    await live?.close();
  });

  it('headless Chromium: the public page of a raw app the real CLI pushed shows it, and its backend call comes back', async (ctx) => {
    if (!existsSync(CHROMIUM)) return ctx.skip(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) to run the browser test`);
    const src = source();
    writeFileSync(join(src, RAW, 'raw_app.yaml'), 'summary: Board\npublic: true\n');
    const cfg = join(tmp, 'cfg-live');
    expect((await realAt(src, ['workspace', 'add', 'admins', 'admins', live.url, '--token', live.token], cfg)).code).toBe(0);
    const push = await realAt(src, ['sync', 'push', '--yes'], cfg);
    expect(push.code, push.all).toBe(0);
    const secret = (await live.api.get('apps/secret_of/f/apps/board')).text;
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`${live.url.replace(/\/$/, '')}/api/w/admins/apps_u/page/${secret}`);
      const frame = page.frameLocator('#app');
      expect(await frame.locator('#title').textContent()).toBe('Board');
      await frame.locator('#shout').waitFor({ timeout: 90_000 });
      expect(await frame.locator('#shout').textContent()).toBe('FROM THE BACKEND');
      // The app runs in an opaque origin: it cannot reach the API with the page's origin.
      expect(await page.frames()[1]!.evaluate(() => window.origin)).toBe('null');
    } finally {
      await browser.close();
    }
  }, 240_000);
});
