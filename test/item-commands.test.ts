/**
 * windmill-cli's item commands on our `wmill` against `wmill serve` (in process, on loopback):
 * `<kind> list|get|push`, `script show`, `job list|result|rerun`, `workspace list-remote`,
 * `group`, `user`, `trigger`, `app`: a table by default, `--json` as windmill-cli prints it (the
 * server's objects; compared with the real CLI's for a few kinds), one-line errors with our exit
 * codes, and a pushed item equal to what `sync push` deploys (a sync afterwards has nothing to do).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Api, startTestServer, until, type TestServer } from './helpers/server.js';
import { ours as oursAt, real as realAt } from './helpers/sync.js';

let srv: TestServer;
let tmp: string;
let dir: string;
let api: Api;
const WS = 'items';

const SH_META = (summary: string) =>
  `summary: ${summary}\ndescription: says hello\nlock: ''\nkind: script\nschema:\n  $schema: https://json-schema.org/draft/2020-12/schema\n  type: object\n  properties:\n    name:\n      type: string\n      description: ''\n      default: world\n      originalType: string\n  required: []\n`;

const FILES: Record<string, string> = {
  'wmill.yaml': 'defaultTs: bun\nincludes:\n  - f/**\nskipSecrets: false\nincludeSchedules: true\nincludeTriggers: true\nnonDottedPaths: true\n',
  'f/items/folder.meta.yaml': 'summary: Items for the tests\ndisplay_name: items\nextra_perms: {}\nowners: []\n',
  'f/items/hello.sh': 'name="${1:-world}"\necho "hello $name"\n',
  'f/items/hello.script.yaml': SH_META('Say hello'),
  'f/items/greet__flow/flow.yaml':
    "summary: Greet\ndescription: ''\nvalue:\n  modules:\n    - id: a\n      summary: step a\n      value:\n        type: rawscript\n        language: bash\n        content: '!inline a.sh'\n        input_transforms: {}\nschema:\n  $schema: https://json-schema.org/draft/2020-12/schema\n  type: object\n  properties: {}\n  required: []\n",
  'f/items/greet__flow/a.sh': 'echo flow\n',
  'c_thing.resource-type.yaml': "description: A thing\nschema:\n  type: object\n  properties:\n    host:\n      type: string\n  required: []\n",
  'f/items/thing.resource.yaml': "description: A thing resource\nresource_type: c_thing\nvalue:\n  host: example.org\n",
  'f/items/plain.variable.yaml': "description: A plain one\nvalue: visible-value\nis_secret: false\n",
  'f/items/secret.variable.yaml': "description: A secret one\nvalue: hunter2-secret\nis_secret: true\n",
  'f/items/feed.websocket_trigger.yaml': 'script_path: f/items/hello\nis_flow: false\nurl: wss://example.com/feed\nfilters: []\ncan_return_message: false\nenabled: false\n',
  'f/items/daily.schedule.yaml': "summary: Daily\nargs:\n  name: team\nenabled: false\nis_flow: false\nschedule: 0 0 8 * * *\nscript_path: f/items/hello\ntimezone: UTC\n",
};

beforeAll(async () => {
  srv = await startTestServer({ workers: 1 });
  tmp = mkdtempSync(join(tmpdir(), 'wmill-items-'));
  dir = join(tmp, 'ws');
  for (const [rel, text] of Object.entries(FILES)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  const r = await srv.api.req('POST', '/api/workspaces/create', { id: WS, name: 'Items' });
  expect(r.status, r.text).toBe(201);
  api = new Api(srv.api.base, srv.token, WS);
}, 120_000);

afterAll(async () => {
  await srv?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const ours = (args: string[], cwd = dir) => oursAt(cwd, args, { url: srv.url, token: srv.token, ws: WS });
let realCfg: string | undefined;
async function real(args: string[]) {
  const cfg = join(tmp, 'real-cfg');
  if (!realCfg) {
    const add = await realAt(dir, ['workspace', 'add', WS, WS, srv.url, '--token', srv.token], cfg);
    expect(add.code, add.all).toBe(0);
    realCfg = cfg;
  }
  return realAt(dir, args, cfg);
}
const json = (s: string) => JSON.parse(s);

describe('push creates or updates one item, as sync push would deploy it', () => {
  it('folder, resource type, resource, variables, script, flow, schedule: created, then a sync push has nothing left to do', async () => {
    const steps: [string[], RegExp][] = [
      [['folder', 'push', 'items'], /^Created folder items \(from f\/items\/folder\.meta\.yaml\)$/m],
      [['resource-type', 'push', 'c_thing.resource-type.yaml', 'c_thing'], /^Created resource-type c_thing/m],
      [['resource', 'push', 'f/items/thing.resource.yaml', 'f/items/thing'], /^Created resource f\/items\/thing/m],
      [['variable', 'push', 'f/items/plain.variable.yaml', 'f/items/plain'], /^Created variable f\/items\/plain/m],
      [['variable', 'push', 'f/items/secret.variable.yaml', 'f/items/secret'], /^Created variable f\/items\/secret/m],
      [['script', 'push', 'f/items/hello.sh', '--message', 'first'], /^Created script f\/items\/hello \(from f\/items\/hello\.sh, f\/items\/hello\.script\.yaml\)$/m],
      [['flow', 'push', 'f/items/greet__flow', 'f/items/greet'], /^Created flow f\/items\/greet/m],
      [['schedule', 'push', 'f/items/daily.schedule.yaml', 'f/items/daily'], /^Created schedule f\/items\/daily/m],
      [['trigger', 'push', 'f/items/feed.websocket_trigger.yaml', 'f/items/feed'], /^Created websocket_trigger f\/items\/feed/m],
    ];
    for (const [args, expected] of steps) {
      const r = await ours(args);
      expect(r.code, `${args.join(' ')}: ${r.all}`).toBe(0);
      expect(r.stdout).toMatch(expected);
    }
    // The plaintext secret went to the server to be encrypted (with a note), never echoed.
    const s = await ours(['variable', 'get', 'f/items/secret', '--json']);
    expect(s.all).not.toContain('hunter2');
    expect(json(s.stdout)).toMatchObject({ path: 'f/items/secret', is_secret: true });
    const v = await api.req('GET', `/api/w/${WS}/variables/get_value/f/items/secret`);
    expect(json(v.text)).toBe('hunter2-secret');
    // Everything pushed one by one is what sync push deploys: its plan is empty.
    const plan = await ours(['sync', 'push', '--dry-run', '--json-output', '--plain-secrets']);
    expect(plan.code, plan.all).toBe(0);
    const changes = json(plan.stdout).changes ?? json(plan.stdout).plan?.changes;
    expect(changes, plan.stdout).toEqual([]);
    const hist = await api.req('GET', `/api/w/${WS}/scripts/history/p/f/items/hello`);
    expect(json(hist.text).map((h: { deployment_msg: string }) => h.deployment_msg)).toEqual(['first']);
  }, 180_000);

  it('a second push updates: the new content is deployed under the given remote path', async () => {
    writeFileSync(join(dir, 'f/items/hello.sh'), 'name="${1:-world}"\necho "hi $name"\n');
    const r = await ours(['script', 'push', 'f/items/hello.sh', '--message', 'second']);
    expect(r.code, r.all).toBe(0);
    expect(r.stdout).toMatch(/^Updated script f\/items\/hello/m);
    const got = json((await api.req('GET', `/api/w/${WS}/scripts/get/p/f/items/hello`)).text);
    expect(got.content).toContain('echo "hi $name"');
    const res = await ours(['resource', 'push', 'f/items/thing.resource.yaml', 'f/items/thing_copy', '--json']);
    expect(res.code, res.all).toBe(0);
    expect(json(res.stdout)).toMatchObject({ ok: true, kind: 'resource', path: 'f/items/thing_copy', op: 'created' });
    expect(json((await api.req('GET', `/api/w/${WS}/resources/get/f/items/thing_copy`)).text).value).toEqual({ host: 'example.org' });
  }, 120_000);

  it('bad input: a metadata file, a missing file, a bad remote path: one line, exit 2, nothing pushed', async () => {
    const meta = await ours(['script', 'push', 'f/items/hello.script.yaml']);
    expect(meta.code).toBe(2);
    expect(meta.stderr.trim().split('\n')).toHaveLength(1);
    expect(meta.stderr).toMatch(/not a script of this workspace folder; give a script content file/);
    const missing = await ours(['resource', 'push', 'f/items/nope.resource.yaml', 'f/items/nope']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: f\/items\/nope\.resource\.yaml: no such file or folder$/m);
    const bad = await ours(['resource', 'push', 'f/items/thing.resource.yaml', 'nowhere']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/invalid remote path "nowhere"/);
    expect((await api.req('GET', `/api/w/${WS}/resources/exists/nowhere`)).text).not.toBe('true');
  }, 60_000);
});

describe('list and get', () => {
  it('script list|get|show: a table, details, the content', async () => {
    const list = await ours(['script', 'list']);
    expect(list.code, list.all).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^path\s+summary\s+language\s+created by$/);
    expect(list.stdout).toMatch(/^f\/items\/hello\s+Say hello\s+bash\s+admin/m);
    const get = await ours(['script', 'get', 'f/items/hello']);
    expect(get.stdout).toContain('Path: f/items/hello\nSummary: Say hello\nDescription: says hello\nLanguage: bash\nKind: script\n');
    const show = await ours(['script', 'show', 'f/items/hello']);
    expect(show.stdout).toBe('f/items/hello\nsays hello\n\nname="${1:-world}"\necho "hi $name"\n\n');
  }, 60_000);

  it('flow list|get (steps listed), history and show-version', async () => {
    const list = await ours(['flow', 'list']);
    expect(list.stdout).toMatch(/^f\/items\/greet\s+Greet\s+admin/m);
    const get = await ours(['flow', 'get', 'f/items/greet']);
    expect(get.stdout).toContain('Path: f/items/greet\nSummary: Greet\n');
    expect(get.stdout).toContain('Steps:\n  a: rawscript (bash)\n');
    const hist = await ours(['flow', 'history', 'f/items/greet', '--json']);
    expect(hist.code, hist.all).toBe(0);
  }, 60_000);

  it('resource, resource-type (--schema), variable, schedule, folder: tables and details', async () => {
    const cases: [string[], RegExp][] = [
      [['resource', 'list'], /^Path\s+Resource Type\n(.*\n)*f\/items\/thing\s+c_thing$/m],
      [['resource', 'get', 'f/items/thing'], /^Path: f\/items\/thing\nResource Type: c_thing\nDescription: A thing resource\nValue: \{\n  "host": "example.org"\n\}$/m],
      [['resource-type', 'list'], /^Workspace\s+Name\n(.*\n)*items\s+c_thing$/m],
      [['resource-type', 'list', '--schema'], /^items\s+c_thing\s+\{"type":"object"/m],
      [['resource-type', 'get', 'c_thing'], /^Name: c_thing\nDescription: A thing\nWorkspace: items\n/m],
      [['variable', 'list'], /^Path\s+Is Secret\s+Account\s+Value\n(.*\n)*f\/items\/plain\s+false\s+-\s+visible-value$/m],
      [['variable', 'get', 'f/items/plain'], /^Path: f\/items\/plain\nValue: visible-value\nIs Secret: false\n/m],
      [['schedule', 'list'], /^Path\s+Schedule\n(.*\n)*f\/items\/daily\s+0 0 8 \* \* \*$/m],
      [['schedule', 'get', 'f/items/daily'], /^Path: f\/items\/daily\nSchedule: 0 0 8 \* \* \*\nTimezone: UTC\nScript Path: f\/items\/hello\nIs Flow: false\nEnabled: false$/m],
      [['folder', 'list'], /^Name\s+Owners\s+Extra Perms\n(.*\n)*items\s+/m],
      [['folder', 'get', 'items'], /^Name: items\nSummary: Items for the tests\n/m],
      [['resource'], /^f\/items\/thing\s+c_thing$/m],
    ];
    for (const [args, expected] of cases) {
      const r = await ours(args);
      expect(r.code, `${args.join(' ')}: ${r.all}`).toBe(0);
      expect(r.stdout, args.join(' ')).toMatch(expected);
    }
    const secret = await ours(['variable', 'list', '--json']);
    expect(secret.stdout).not.toContain('hunter2');
  }, 120_000);

  it('group list|get, user list, workspace list-remote', async () => {
    const groups = await ours(['group', 'list']);
    expect(groups.code, groups.all).toBe(0);
    expect(groups.stdout).toMatch(/^Name\s+Summary\s+Members\n(.*\n)*all\s+.*\s1$/m);
    const all = await ours(['group', 'get', 'all', '--json']);
    expect(json(all.stdout)).toMatchObject({ name: 'all', members: ['admin'] });
    const users = await ours(['user', 'list', '--json']);
    expect(users.code, users.all).toBe(0);
    expect(json(users.stdout).map((u: { email: string }) => u.email)).toContain('admin@windmill.dev');
    const remote = await ours(['workspace', 'list-remote']);
    expect(remote.code, remote.all).toBe(0);
    expect(remote.stdout).toMatch(/^id\s+name\s+username\s+disabled\n(.*\n)*items\s+Items\s+admin\s+false$/m);
    expect(remote.stderr).toContain(`Remote: ${srv.url}`);
  }, 60_000);

  it('trigger list|get; a missing trigger or item: one line, exit 1; --json errors are JSON', async () => {
    const t = await ours(['trigger', 'list', '--json']);
    expect(t.code, t.all).toBe(0);
    expect(json(t.stdout)).toEqual([{ path: 'f/items/feed', kind: 'websocket' }]);
    expect((await ours(['trigger', 'list'])).stdout).toMatch(/^Path\s+Kind\nf\/items\/feed\s+websocket$/m);
    const tr = await ours(['trigger', 'get', 'f/items/feed']);
    expect(tr.stdout).toBe('Path: f/items/feed\nKind: websocket\nScript Path: f/items/hello\nIs Flow: false\nEnabled: false\n');
    const tj = await ours(['trigger', 'get', 'f/items/feed', '--kind', 'websocket', '--json']);
    expect(json(tj.stdout)).toMatchObject({ path: 'f/items/feed', url: 'wss://example.com/feed' });
    const tg = await ours(['trigger', 'get', 'f/items/nope']);
    expect(tg.code).toBe(1);
    expect(tg.stderr).toBe('error: no trigger found at path f/items/nope\n');
    const missing = await ours(['resource', 'get', 'f/items/nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`error: resource f/items/nope not found in workspace ${WS} (see 'wmill resource list')\n`);
    const mj = await ours(['resource', 'get', 'f/items/nope', '--json']);
    expect(mj.code).toBe(1);
    expect(json(mj.stdout)).toMatchObject({ ok: false, error: { code: 'not_found' } });
    // wmill serve has apps: an empty list here
    const apps = await ours(['app', 'list', '--json']);
    expect(apps.code, apps.all).toBe(0);
    expect(json(apps.stdout)).toEqual([]);
  }, 60_000);

  it('paging: more items than a page are all listed, once', async () => {
    for (let i = 0; i < 105; i++) {
      const r = await api.req('POST', `/api/w/${WS}/variables/create`, { path: `f/items/v${String(i).padStart(3, '0')}`, value: String(i), is_secret: false, description: '' });
      expect(r.status, r.text).toBe(201);
    }
    const list = await ours(['resource', 'list', '--json']);
    expect(json(list.stdout).length).toBe(2);
    const vars = await ours(['variable', 'list', '--json']);
    expect(json(vars.stdout).filter((v: { path: string }) => /^f\/items\/v\d{3}$/.test(v.path))).toHaveLength(105);
    // scripts/list is paged: 105 more scripts, each listed once.
    for (let i = 0; i < 105; i++) {
      const r = await api.req('POST', `/api/w/${WS}/scripts/create`, { path: `f/items/s${String(i).padStart(3, '0')}`, content: 'echo x', language: 'bash', summary: '', description: '', schema: { type: 'object', properties: {}, required: [] } });
      expect(r.status, r.text).toBe(201);
    }
    const scripts = json((await ours(['script', 'list', '--json'])).stdout) as { path: string }[];
    expect(scripts.length).toBe(106);
    expect(new Set(scripts.map((s) => s.path)).size).toBe(106);
  }, 180_000);
});

describe('jobs', () => {
  it('job list, result, rerun: the new job runs with the same args', async () => {
    const run = await ours(['script', 'run', 'f/items/hello', '-d', '{"name":"jobs"}', '--json']);
    expect(run.code, run.all).toBe(0);
    const id = json(run.stdout).job_id as string;
    const list = await ours(['job', 'list', '--json', '--script-path', 'f/items/hello']);
    expect(list.code, list.all).toBe(0);
    expect(json(list.stdout).map((j: { id: string }) => j.id)).toContain(id);
    const table = await ours(['job', 'list', '--script-path', 'f/items/hello']);
    expect(table.stdout).toMatch(new RegExp(`^${id}\\s+success\\s+f/items/hello\\s+admin`, 'm'));
    const result = await ours(['job', 'result', id]);
    expect(result.code, result.all).toBe(0);
    expect(result.stdout).toBe('"hi jobs"\n');
    const rerun = await ours(['job', 'rerun', id]);
    expect(rerun.code, rerun.all).toBe(0);
    const newId = rerun.stdout.trim();
    expect(newId).toMatch(/^[0-9a-f-]{36}$/);
    expect(newId).not.toBe(id);
    const done = await until('the re-run to complete', async () => {
      const r = await api.req('GET', `/api/w/${WS}/jobs_u/completed/get_result_maybe/${newId}`);
      const b = r.status === 200 ? json(r.text) : undefined;
      return b?.completed ? b : undefined;
    }, 60_000);
    expect(done.result).toBe('hi jobs');
    // A flow job re-runs as a flow.
    const flow = await ours(['flow', 'run', 'f/items/greet', '--json']);
    expect(flow.code, flow.all).toBe(0);
    const flowId = json(flow.stdout).job.id as string;
    const again = await ours(['job', 'rerun', flowId, '--json']);
    expect(again.code, again.all).toBe(0);
    const re = json(again.stdout) as { ok: boolean; id: string; rerun_of: string };
    expect(re).toMatchObject({ ok: true, rerun_of: flowId });
    const flowDone = await until('the flow re-run to complete', async () => {
      const r = await api.req('GET', `/api/w/${WS}/jobs_u/get/${re.id}`);
      const b = r.status === 200 ? json(r.text) : undefined;
      return b?.type === 'CompletedJob' ? b : undefined;
    }, 60_000);
    expect([flowDone.job_kind, flowDone.script_path, flowDone.success, flowDone.result]).toEqual(['flow', 'f/items/greet', true, 'flow']);
    const bad = await ours(['job', 'result', 'not-a-job']);
    expect(bad.code).toBe(2);
  }, 120_000);
});

describe('the same --json as the real windmill-cli', () => {
  it('script, resource, variable, schedule, folder list --json: the same items', async () => {
    for (const kind of ['script', 'resource', 'variable', 'schedule', 'folder', 'resource-type', 'trigger']) {
      const a = await ours([kind, 'list', '--json']);
      const b = await real([kind, 'list', '--json']);
      expect(a.code, a.all).toBe(0);
      expect(b.code, b.all).toBe(0);
      const key = (x: Record<string, unknown>) => `${String(x.path ?? x.name)} ${String(x.kind ?? '')}`;
      const sort = (xs: Record<string, unknown>[]) => [...xs].sort((p, q) => key(p).localeCompare(key(q)));
      // The real CLI pages from 0 with 10 a page (Windmill's page 0 is page 1): duplicates dropped.
      const theirs = [...new Map((json(b.stdout) as Record<string, unknown>[]).map((x) => [key(x), x])).values()];
      expect(sort(json(a.stdout)), kind).toEqual(sort(theirs));
    }
    const ga = await ours(['resource', 'get', 'f/items/thing', '--json']);
    const gb = await real(['resource', 'get', 'f/items/thing', '--json']);
    expect(json(ga.stdout)).toEqual(json(gb.stdout));
  }, 180_000);
});
