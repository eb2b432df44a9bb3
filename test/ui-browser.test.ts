/**
 * The web UI of `wmill serve` in headless Chromium (Debian's /usr/bin/chromium driven by
 * playwright-core): sign in, find a script, run it from its form, history and diffs, redeploy,
 * the draft editor (autosave, reload, a second browser context and the conflict warning, deploy
 * with a message), approving a suspended flow from its job page, and what a non-admin sees.
 * Needs the client bundle: `npm run build` first (dist/ui/app.js). Screenshots go to
 * test-artifacts/ui-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestServer, type TestServer } from './helpers/server.js';
import { REPO } from './helpers/workspace.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(REPO, 'test-artifacts');
const BUNDLE = join(REPO, 'dist', 'ui', 'app.js');

const GREET = `def main(name: str = "world", times: int = 2, color: str = "blue"):
    print(f"greeting {name} {times} times")
    return {"greeting": ("hello " + name + " ") * times, "color": color}
`;
const GREET_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  properties: {
    name: { type: 'string', default: 'world', description: 'who to greet' },
    times: { type: 'integer', default: 2 },
    color: { type: 'string', enum: ['red', 'blue'], default: 'blue' },
    db: { type: 'object', format: 'resource-postgresql', description: 'a database' },
  },
  required: ['name'],
};

describe.skipIf(!existsSync(CHROMIUM))('web UI in headless Chromium (skipped without /usr/bin/chromium: apt-get install -y chromium)', () => {
  let srv: TestServer;
  let browser: Browser;
  let base: string;
  let bobToken: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run npm run build first`);
    srv = await startTestServer();
    base = srv.url.replace(/\/$/, '');
    const api = srv.api;
    await api.deploy({ path: 'f/demo/greet', language: 'python3', content: GREET, schema: GREET_SCHEMA, summary: 'Greet someone', deployment_message: 'first greeting' });
    await api.deploy({ path: 'f/demo/rows', language: 'python3', content: 'def main():\n    return [{"id": 1, "name": "ada"}, {"id": 2, "name": "grace"}]\n', summary: 'Rows', deployment_message: 'rows' });
    await api.deploy({ path: 'u/admin/secret_thing', language: 'bash', content: 'echo secret\n', summary: 'admin only' });
    expect((await api.post('resources/type/create', { name: 'postgresql', schema: {} })).status).toBeLessThan(300);
    expect((await api.post('resources/create', { path: 'f/demo/main_db', resource_type: 'postgresql', value: { host: 'db' } })).status).toBe(201);
    bobToken = await api.addUser('bob');
    await api.as(bobToken).deploy({ path: 'u/bob/mine', language: 'bash', content: 'echo mine\n', summary: 'bob script' });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await srv?.close();
  });

  async function signedIn(token = srv.token): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    await page.goto(`${base}/`);
    expect(page.url()).toContain('/login');
    await page.fill('#token', token);
    await page.click('#signin');
    await page.waitForURL(/\/w\/admins\/$/);
    return page;
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `ui-${name}.png`), fullPage: true });
  const ready = (page: Page) => page.waitForFunction(() => document.documentElement.dataset.ready === '1');
  const editorText = (page: Page) => page.evaluate(() => (window as any).wmillEditor.state.doc.toString() as string);

  it('signs in with a token (bad token refused), shows the workspace by folder, searches, signs out', async () => {
    const context = await browser.newContext();
    contexts.push(context);
    const anon = await context.newPage();
    await anon.goto(`${base}/w/admins/`);
    expect(anon.url()).toContain('/login?next=');
    await anon.fill('#token', 'not-a-token');
    await anon.click('#signin');
    expect(await anon.textContent('[role=alert]')).toContain('not valid');
    await shot(anon, 'login');

    const page = await signedIn();
    expect(await page.textContent('#whoami')).toContain('admin');
    const cookie = (await page.context().cookies()).find((c) => c.name === 'token')!;
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe('Strict');
    expect(await page.locator('section[data-folder="f/demo"] tr.item').count()).toBe(2);
    expect(await page.locator('section[data-folder="u/admin"]').count()).toBe(1);
    // the search box filters as you type, and works as a plain GET too
    await ready(page);
    await page.fill('#search', 'greet');
    await page.waitForFunction(() => document.querySelectorAll('tr.item:not(.hidden)').length === 1);
    expect(await page.locator('tr.item:not(.hidden) a').textContent()).toBe('f/demo/greet');
    await page.goto(`${base}/w/admins/?q=rows`);
    expect(await page.locator('tr.item').count()).toBe(1);
    await page.goto(`${base}/w/admins/`);
    await shot(page, 'home');
    await page.click('#signout');
    await page.waitForURL(/\/login$/);
    await page.goto(`${base}/w/admins/`);
    expect(page.url()).toContain('/login');
  });

  it('finds a script, runs it from the generated form and reads the result; arrays of objects as a table', async () => {
    const page = await signedIn();
    await page.fill('#search', 'greet');
    await page.click('text=f/demo/greet');
    await page.waitForURL(/\/script\/f\/demo\/greet$/);
    await ready(page);
    // one input per argument, with its type, default, enum and description; a resource picker
    expect(await page.inputValue('#arg-name')).toBe('world');
    expect(await page.inputValue('#arg-times')).toBe('2');
    expect(await page.locator('#arg-color option').allTextContents()).toEqual(['', 'red', 'blue']);
    expect(await page.inputValue('#arg-color')).toBe('blue');
    expect(await page.textContent('[data-arg="name"] .help')).toBe('who to greet');
    expect(await page.locator('#arg-db option').allTextContents()).toContain('f/demo/main_db');
    // the code is highlighted by CodeMirror (read-only)
    await page.waitForSelector('#code .cm-content');
    expect(await page.locator('#code .cm-content').getAttribute('contenteditable')).toBe('false');
    await page.fill('#arg-name', 'Ada <b>');
    await page.fill('#arg-times', '3');
    await page.selectOption('#arg-color', 'red');
    await page.click('#run-submit');
    await page.waitForSelector('#run-output .joblive[data-final="1"]', { timeout: 120_000 });
    expect(await page.textContent('#run-output #job-status')).toBe('success');
    const result = JSON.parse((await page.textContent('#run-output #result'))!);
    expect(result).toEqual({ greeting: 'hello Ada <b> hello Ada <b> hello Ada <b> ', color: 'red' });
    expect(await page.textContent('#run-output #logs')).toContain('greeting Ada <b> 3 times');
    // escaped: no element came out of the argument
    expect(await page.locator('#run-output b').count()).toBe(0);
    await shot(page, 'script');

    await page.goto(`${base}/w/admins/script/f/demo/rows`);
    await ready(page);
    await page.click('#run-submit');
    await page.waitForSelector('#run-output #result-table', { timeout: 120_000 });
    expect(await page.locator('#result-table th').allTextContents()).toEqual(['id', 'name']);
    expect(await page.locator('#result-table tbody tr').count()).toBe(2);
  });

  it('shows the history with messages and authors, the diff of two versions, and redeploys an old version', async () => {
    const v1 = (await srv.api.get('scripts/get/p/f/demo/greet')).json.hash;
    const v2 = await srv.api.deploy({ path: 'f/demo/greet', language: 'python3', content: GREET.replace('hello ', 'hi '), schema: GREET_SCHEMA, summary: 'Greet someone', parent_hash: v1, deployment_message: 'say hi instead' });
    const page = await signedIn();
    await page.goto(`${base}/w/admins/script/f/demo/greet`);
    await ready(page);
    const rows = page.locator('table.history tbody tr');
    expect(await rows.count()).toBe(2);
    expect(await rows.nth(0).locator('.msg').textContent()).toBe('say hi instead');
    expect(await rows.nth(1).locator('.msg').textContent()).toBe('first greeting');
    expect(await rows.nth(0).textContent()).toContain('admin');
    await shot(page, 'history');
    // diff v1 → v2 (the defaults: A = previous, B = current)
    await page.click('#diff');
    await page.waitForURL(/script-diff/);
    expect(page.url()).toContain(`a=${v1}`);
    expect(page.url()).toContain(`b=${v2}`);
    expect(await page.locator('table.diff tr.del').first().textContent()).toContain('"hello "');
    expect(await page.locator('table.diff tr.add').first().textContent()).toContain('"hi "');
    await shot(page, 'diff');
    // redeploy v1: a new head with v1's content, history stays linear
    await page.goto(`${base}/w/admins/script/f/demo/greet`);
    await ready(page);
    await page.click(`tr[data-hash="${v1}"] button.redeploy`);
    await page.waitForFunction(() => document.querySelectorAll('table.history tbody tr').length === 3);
    expect(await page.locator('table.history tbody tr').nth(0).locator('.msg').textContent()).toContain(`Redeploy of version ${v1}`);
    const head = (await srv.api.get('scripts/get/p/f/demo/greet')).json;
    expect(head.content).toBe(GREET);
    expect(head.parent_hashes[0]).toBe(v2);
  });

  it("restores an old version as a fork at a new path (no parent), and reads another user's draft as JSON", async () => {
    const v1 = (await srv.api.get('scripts/history/p/f/demo/greet')).json.at(-1).script_hash;
    const page = await signedIn();
    await page.goto(`${base}/w/admins/script/f/demo/greet`);
    await page.click(`tr[data-hash="${v1}"] a.fork`);
    await page.waitForURL(/\/new\?from=/);
    await ready(page);
    expect(await editorText(page)).toBe(GREET);
    // a new argument in the code: the deployed schema has it (inferred as generate-metadata would)
    await page.evaluate(() => {
      const v = (window as any).wmillEditor;
      const doc: string = v.state.doc.toString();
      const at = doc.indexOf('color: str = "blue"') + 'color: str = "blue"'.length;
      v.dispatch({ changes: { from: at, insert: ', loud: bool = False' } });
    });
    await page.fill('#new-path', 'f/demo/greet_fork');
    await page.fill('#deploy-message', 'forked from the first greeting');
    await page.click('#deploy');
    await page.waitForURL(/\/script\/f\/demo\/greet_fork$/);
    const fork = (await srv.api.get('scripts/get/p/f/demo/greet_fork')).json;
    expect(fork.content).toBe(GREET.replace('color: str = "blue"', 'color: str = "blue", loud: bool = False'));
    expect(fork.parent_hashes).toEqual([]);
    expect(fork.schema.properties.loud).toMatchObject({ type: 'boolean', default: false });
    // what the previous schema said by hand is kept (generate-metadata's merge rules: the code decides types)
    expect(fork.schema.properties.name.description).toBe('who to greet');
    expect(Object.keys(fork.schema.properties)).toEqual(['name', 'times', 'color', 'loud']);
    expect(await page.locator('#arg-loud[type=checkbox]').count()).toBe(1);
    expect(await page.locator('table.history tbody tr .msg').allTextContents()).toEqual(['forked from the first greeting']);

    // bob's draft of his own script: the admin can read it, as JSON
    const bob = srv.api.as(bobToken);
    expect((await bob.post('drafts/update/script/u/bob/mine', { value: { path: 'u/bob/mine', content: 'echo draft of bob\n', language: 'bash' } })).json.status).toBe('saved');
    await page.goto(`${base}/w/admins/script/u/bob/mine`);
    await page.click("text=read (JSON)");
    await page.waitForURL(/\/draft\/bob\/script\/u\/bob\/mine$/);
    expect(JSON.parse((await page.textContent('#draft-json'))!).content).toBe('echo draft of bob\n');
  });

  it('creates a new script from the home page (bash, with its argument inferred)', async () => {
    const page = await signedIn();
    await page.click('text=New script');
    await page.waitForURL(/\/new$/);
    await ready(page);
    await page.fill('#new-path', 'u/admin/hello_new');
    await page.selectOption('#new-language', 'bash');
    await page.click('#editor .cm-content');
    await page.keyboard.type('who="$1"\necho "hello $who"\n');
    await page.fill('#summary', 'made in the browser');
    await page.fill('#deploy-message', 'first version');
    await page.click('#deploy');
    await page.waitForURL(/\/script\/u\/admin\/hello_new$/);
    await ready(page);
    expect(await page.locator('#arg-who').count()).toBe(1);
    await page.fill('#arg-who', 'there');
    await page.click('#run-submit');
    await page.waitForSelector('#run-output .joblive[data-final="1"]', { timeout: 120_000 });
    expect(await page.textContent('#run-output #logs')).toContain('hello there');
  });

  it('edits a draft: autosave, reload keeps it; a second context saves the same draft and the first is warned; deploy with a message', async () => {
    await srv.api.deploy({ path: 'f/demo/edit_me', language: 'python3', content: 'def main():\n    return 1\n', summary: 'to edit', deployment_message: 'v1' });
    const a = await signedIn();
    await a.goto(`${base}/w/admins/script/f/demo/edit_me`);
    await a.click('#edit');
    await a.waitForURL(/\/edit\/f\/demo\/edit_me$/);
    await ready(a);
    await a.click('#editor .cm-content');
    await a.keyboard.press('Control+End');
    await a.keyboard.type('# edited in A\n');
    await a.waitForFunction(() => /draft saved/.test(document.querySelector('#save-state')!.textContent!), undefined, { timeout: 30_000 });
    const own = (await srv.api.get('drafts/get_own/script/f/demo/edit_me')).json;
    expect(own.value.content).toContain('# edited in A');
    expect(own.value.parent_hash).toBe((await srv.api.get('scripts/get/p/f/demo/edit_me')).json.hash);
    await a.reload();
    await ready(a);
    expect(await editorText(a)).toContain('# edited in A');
    expect(await a.textContent('#save-state')).toContain('draft saved');
    await shot(a, 'editor');

    // another browser (same user) edits the same draft
    const b = await signedIn();
    await b.goto(`${base}/w/admins/edit/f/demo/edit_me`);
    await ready(b);
    expect(await editorText(b)).toContain('# edited in A');
    await b.click('#editor .cm-content');
    await b.keyboard.press('Control+End');
    await b.keyboard.type('# edited in B\n');
    await b.waitForFunction(() => /draft saved/.test(document.querySelector('#save-state')!.textContent!), undefined, { timeout: 30_000 });

    // the first one is told, and can see the diff, then keep its own
    await a.waitForSelector('#conflict:not([hidden])', { timeout: 30_000 });
    expect(await a.textContent('#conflict-text')).toContain('saved elsewhere');
    await a.click('#see-diff');
    await a.waitForSelector('#merge .cm-mergeView');
    await shot(a, 'conflict');
    await a.click('#take-theirs');
    expect(await editorText(a)).toContain('# edited in B');
    expect(await a.isHidden('#conflict')).toBe(true);

    // deploy from the draft with a message
    await a.fill('#deploy-message', 'edited in the browser');
    await a.click('#deploy');
    await a.waitForURL(/\/script\/f\/demo\/edit_me$/);
    expect(await a.locator('table.history tbody tr').nth(0).locator('.msg').textContent()).toBe('edited in the browser');
    const head = (await srv.api.get('scripts/get/p/f/demo/edit_me')).json;
    expect(head.content).toContain('# edited in B');
    expect((await srv.api.get('drafts/get_own/script/f/demo/edit_me')).json).toBeNull();
  });

  it('warns when someone deployed since the draft started, and a stale deploy is refused', async () => {
    const h1 = await srv.api.deploy({ path: 'f/demo/race', language: 'python3', content: 'def main():\n    return "v1"\n', deployment_message: 'v1' });
    const page = await signedIn();
    await page.goto(`${base}/w/admins/edit/f/demo/race`);
    await ready(page);
    await page.click('#editor .cm-content');
    await page.keyboard.press('Control+End');
    await page.keyboard.type('# mine\n');
    await page.waitForFunction(() => /draft saved/.test(document.querySelector('#save-state')!.textContent!), undefined, { timeout: 30_000 });
    await srv.api.deploy({ path: 'f/demo/race', language: 'python3', content: 'def main():\n    return "v2"\n', parent_hash: h1, deployment_message: 'v2 by someone' });
    await page.waitForSelector('#conflict:not([hidden])', { timeout: 30_000 });
    expect(await page.textContent('#conflict-text')).toContain('deployed a new version');
    // deploying on the stale base is refused by the server
    await page.fill('#deploy-message', 'stale');
    await page.click('#deploy');
    await page.waitForSelector('#deploy-error:not([hidden])');
    expect(await page.textContent('#deploy-error')).toContain('Someone deployed since');
    // keep mine: rebased on the new head, then the deploy goes through
    await page.click('#keep-mine');
    await page.waitForFunction(() => /draft saved/.test(document.querySelector('#save-state')!.textContent!), undefined, { timeout: 30_000 });
    await page.click('#deploy');
    await page.waitForURL(/\/script\/f\/demo\/race$/);
    const head = (await srv.api.get('scripts/get/p/f/demo/race')).json;
    expect(head.content).toContain('# mine');
    expect(head.content).toContain('v1');
  });

  it("approves a suspended flow from its job page, with the steps' statuses and logs", async () => {
    const flow = {
      modules: [
        { id: 'ask', value: { type: 'rawscript', language: 'bash', content: 'echo asking for approval\n', input_transforms: {} }, suspend: { required_events: 1, timeout: 600 } },
        {
          id: 'pick',
          value: {
            type: 'branchone',
            branches: [{ summary: 'big', expr: 'flow_input.n > 10', modules: [{ id: 'big', value: { type: 'identity' } }] }],
            default: [{ id: 'small', value: { type: 'identity' } }],
          },
        },
        { id: 'each', value: { type: 'forloopflow', iterator: { type: 'javascript', expr: '[1, 2]' }, modules: [{ id: 'inner', value: { type: 'rawscript', language: 'bash', content: 'echo iteration\n', input_transforms: {} } }] } },
      ],
      failure_module: { id: 'failure', value: { type: 'rawscript', language: 'bash', content: 'echo failed\n', input_transforms: {} } },
    };
    const schema = { type: 'object', properties: { n: { type: 'integer', default: 3 } }, required: [] };
    expect((await srv.api.post('flows/create', { path: 'f/demo/approve_me', summary: 'Needs approval', value: flow, schema, deployment_message: 'flow v1' })).status).toBe(201);
    const page = await signedIn();
    await page.goto(`${base}/w/admins/flow/f/demo/approve_me`);
    await ready(page);
    for (const id of ['ask', 'pick', 'big', 'small', 'each', 'inner', 'failure']) expect(await page.locator(`.flowgraph [data-module="${id}"]`).count()).toBe(1);
    await shot(page, 'flow');
    await page.click('#run-submit');
    await page.waitForSelector('#run-output .approval-form button[value="approve"]', { timeout: 120_000 });
    const jobId = await page.getAttribute('#run-output .joblive', 'data-job');
    await page.goto(`${base}/w/admins/job/${jobId}`);
    await page.waitForSelector('.approval-form button[value="approve"]');
    expect(await page.textContent('[data-step-status="ask"]')).toBe('WaitingForEvents');
    await shot(page, 'job-approval');
    await page.click('.approval-form button[value="approve"]');
    await page.waitForSelector('.joblive[data-final="1"]', { timeout: 120_000 });
    expect(await page.textContent('#job-status')).toBe('success');
    expect(await page.textContent('[data-step-status="pick"]')).toBe('Success');
    expect(await page.textContent('.steplog[data-step="ask"] pre')).toContain('asking for approval');
    await shot(page, 'job-flow');
    const j = await srv.api.waitJob(jobId!);
    expect(j.success).toBe(true);

    // flow history: a second version, the diff of the two, and a redeploy of the first
    const v2flow = { ...flow, modules: flow.modules.filter((m) => m.id !== 'each') };
    expect((await srv.api.post('flows/update/f/demo/approve_me', { path: 'f/demo/approve_me', summary: 'Needs approval', value: v2flow, schema, deployment_message: 'no loop' })).status).toBeLessThan(300);
    await page.goto(`${base}/w/admins/flow/f/demo/approve_me`);
    await ready(page);
    expect(await page.locator('#history tbody tr .msg').allTextContents()).toEqual(['no loop', 'flow v1']);
    expect(await page.locator('.flowgraph [data-module="each"]').count()).toBe(0);
    await page.click('#diff');
    await page.waitForURL(/flow-diff/);
    expect((await page.locator('table.diff tr.del').allTextContents()).join('\n')).toContain('forloopflow');
    await page.goBack();
    await ready(page);
    await page.locator('#history tbody tr').nth(1).locator('button.redeploy-flow').click();
    await page.waitForFunction(() => document.querySelectorAll('#history tbody tr').length === 3);
    expect(await page.locator('#history tbody tr .msg').first().textContent()).toMatch(/^Redeploy of version \d+$/);
    expect(await page.locator('.flowgraph [data-module="each"]').count()).toBe(1);
  });

  it('lists jobs with filters, and schedules with their next runs and a switch', async () => {
    expect((await srv.api.post('schedules/create', { path: 'f/demo/every_hour', schedule: '0 0 * * * *', timezone: 'UTC', script_path: 'f/demo/rows', is_flow: false, args: {}, enabled: true })).status).toBe(201);
    expect((await srv.api.runWait('f/demo/rows')).status).toBe(200);
    const steps = { modules: [{ id: 'one', value: { type: 'rawscript', language: 'bash', content: 'echo one\n', input_transforms: {} } }] };
    expect((await srv.api.post('flows/create', { path: 'f/demo/one_step', summary: '', value: steps, schema: { type: 'object', properties: {} } })).status).toBe(201);
    expect((await srv.api.post('jobs/run_wait_result/f/f/demo/one_step', {})).status).toBe(200);
    const page = await signedIn();
    await page.goto(`${base}/w/admins/jobs?path=f/demo/rows&status=success`);
    const rows = page.locator('tr.job');
    expect(await rows.count()).toBeGreaterThan(0);
    for (const t of await rows.locator('td:nth-child(2)').allTextContents()) expect(t).toBe('f/demo/rows');
    // a flow's steps are listed only when asked for
    await page.goto(`${base}/w/admins/jobs`);
    const kinds = await page.locator('tr.job td:nth-child(3)').allTextContents();
    expect(kinds).not.toContain('flowscript');
    await page.goto(`${base}/w/admins/jobs?steps=on`);
    expect(await page.locator('tr.job td:nth-child(3)').allTextContents()).toContain('flowscript');
    await page.goto(`${base}/w/admins/jobs?user=bob`);
    expect(await page.locator('tr.job').count()).toBe(0);
    await page.goto(`${base}/w/admins/jobs`);
    await shot(page, 'jobs');
    await page.goto(`${base}/w/admins/schedules`);
    await ready(page);
    const row = page.locator('tr[data-path="f/demo/every_hour"]');
    expect(await row.locator('.next div').count()).toBe(3);
    expect(await row.locator('.next div').first().textContent()).toMatch(/:00:00Z$/);
    await row.locator('input.toggle-schedule').uncheck();
    await page.waitForFunction(() => document.querySelector('tr[data-path="f/demo/every_hour"] .next')!.textContent!.includes('disabled'));
    expect((await srv.api.get('schedules/get/f/demo/every_hour')).json.enabled).toBe(false);

    // triggers: listed with what they run (an HTTP route with its method and URL)
    expect((await srv.api.post('http_triggers/create', { path: 'f/demo/rows_route', script_path: 'f/demo/rows', is_flow: false, http_method: 'get', request_type: 'sync', authentication_method: 'none', route_path: 'demo/rows' })).status).toBe(201);
    await page.goto(`${base}/w/admins/schedules`);
    const trig = page.locator('table.triggers tr', { hasText: 'f/demo/rows_route' });
    expect(await trig.textContent()).toContain('GET /api/r/demo/rows');
    expect(await trig.textContent()).toContain('script f/demo/rows');
    await shot(page, 'schedules');
    await page.goto(`${base}/w/admins/?q=rows_route`);
    expect(await page.locator('tr.item .tag').allTextContents()).toEqual(['http trigger']);
  });

  it('cancels a running job from its page, and switches workspaces', async () => {
    await srv.api.deploy({ path: 'f/demo/slow', language: 'bash', content: 'echo started\nsleep 300\n', deployment_message: 'slow' });
    const id = (await srv.api.post('jobs/run/p/f/demo/slow', {})).text;
    const page = await signedIn();
    await page.goto(`${base}/w/admins/job/${id}`);
    await page.waitForFunction(() => /started/.test(document.querySelector('#logs')?.textContent ?? ''), undefined, { timeout: 120_000 });
    await page.click('#cancel-job');
    await page.waitForSelector('.joblive[data-final="1"]', { timeout: 120_000 });
    expect(await page.textContent('#job-status')).toBe('canceled');

    expect((await srv.api.req('POST', '/api/workspaces/create', { id: 'other', name: 'Other' })).status).toBe(201);
    await page.goto(`${base}/w/admins/`);
    await page.click('.wsswitch summary');
    await page.click('.wsmenu a:has-text("other")');
    await page.waitForURL(/\/w\/other\/$/);
    expect(await page.textContent('h1')).toBe('Workspace other');
  });

  it("a non-admin does not see another user's u/ scripts (home, search, direct link) and cannot edit what is not theirs", async () => {
    const page = await signedIn(bobToken);
    expect(await page.textContent('#whoami')).toBe('bob');
    const paths = await page.locator('tr.item td.path').allTextContents();
    expect(paths).toContain('u/bob/mine');
    expect(paths).not.toContain('u/admin/secret_thing');
    // the same list as the API gives bob
    const listed = (await srv.api.as(bobToken).get('scripts/list')).json.map((s: any) => s.path).sort();
    expect(paths.filter((p) => listed.includes(p)).sort()).toEqual(listed);
    await page.goto(`${base}/w/admins/?q=secret`);
    expect(await page.locator('tr.item').count()).toBe(0);
    const r = await page.goto(`${base}/w/admins/script/u/admin/secret_thing`);
    expect(r!.status()).toBe(404);
    expect(await page.textContent('body')).not.toContain('echo secret');
    expect((await page.goto(`${base}/w/admins/edit/u/admin/secret_thing`))!.status()).toBe(404);
    expect((await page.goto(`${base}/w/admins/script-diff/u/admin/secret_thing?a=draft&b=draft`))!.status()).toBe(404);
    // f/demo has no folder row granting bob anything: not his either
    expect((await page.goto(`${base}/w/admins/script/f/demo/greet`))!.status()).toBe(404);
    // jobs of admin's scripts are not listed for bob
    await page.goto(`${base}/w/admins/jobs`);
    expect(await page.locator('tr.job td:nth-child(2)').allTextContents()).not.toContain('f/demo/greet');
  });
});
