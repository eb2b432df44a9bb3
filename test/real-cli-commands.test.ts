/**
 * Every command of the real windmill-cli 1.819.0 (the dev dependency, REAL_CLI) against
 * `wmill serve` on loopback. The manifest below lists each command of its help: the ones that
 * talk to a server carry an end-to-end case that runs the real CLI and asserts what it prints or
 * changes ('works'), or that a feature this server does not have is refused in one clear line
 * ('refused'); commands other branches are making work are 'pending' (skipped, naming the branch);
 * commands that only touch local files are 'local' (with the reason). A guard fails when a
 * command of the help (test/fixtures/real-cli-help.txt for the top level, the real CLI's own
 * `<command> --help` for the subcommands) is missing from the manifest, or the manifest names
 * one the help does not have. The run writes the table command → status to
 * test-artifacts/real-cli-commands.md.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startTestServer, type TestServer } from './helpers/server.js';
import { real, runNode, REAL_CLI, type Run } from './helpers/sync.js';
import { REPO } from './helpers/workspace.js';

type Status = 'works' | 'refused' | 'pending' | 'local';

interface T {
  srv: TestServer;
  /** The real CLI in the sync folder, with --base-url/--token/--workspace admins. */
  cli(args: string[], opts?: { cwd?: string; flags?: boolean; timeoutMs?: number; env?: Record<string, string>; onOutput?: (all: string, kill: () => void) => void }): Promise<Run>;
  dir: string;
  repo: string;
  cfg: string;
  state: Record<string, string>;
}

interface Entry {
  cmd: string;
  status: Status;
  /** pending: the branch making it work; local: why it does not talk to a server. */
  reason?: string;
  run?: (t: T) => Promise<void>;
}

const ok = (r: Run) => {
  if (r.code !== 0) throw new Error(`exit ${r.code ?? r.signal}:\n${r.all.slice(-3000)}`);
  return r;
};
/** A refusal: non-zero exit, the one line saying what is not available, no stack trace. */
const refused = (r: Run, what: RegExp = /not available on wmill serve/) => {
  expect(r.code, r.all).not.toBe(0);
  expect(r.all).toMatch(what);
  expect(r.all).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
};
const api = (t: T) => t.srv.api;
/** A fresh copy of test/fixtures/apps (a low-code app and a raw app, nonDottedPaths) under the test's folder. */
const appsCopy = (t: T, name: string) => {
  const d = join(t.dir, name);
  cpSync(join(REPO, 'test/fixtures/apps'), d, { recursive: true });
  return d;
};

const pending = (cmd: string, branch: string, what: string): Entry => ({ cmd, status: 'pending', reason: `pending-other-branch: ${branch} (${what})` });
const local = (cmd: string, reason: string): Entry => ({ cmd, status: 'local', reason });
const works = (cmd: string, run: (t: T) => Promise<void>): Entry => ({ cmd, status: 'works', run });
const refuses = (cmd: string, args: string[], what?: RegExp): Entry => ({
  cmd,
  status: 'refused',
  run: async (t) => refused(await t.cli(args), what),
});

const FLOW_YAML = `summary: demo flow
description: ''
value:
  modules:
    - id: a
      value:
        type: rawscript
        content: |
          export async function main(x: number) {
            return x + 1;
          }
        language: bun
        input_transforms:
          x:
            type: javascript
            expr: flow_input.x
schema:
  $schema: https://json-schema.org/draft/2020-12/schema
  type: object
  properties:
    x:
      type: number
  required: []
`;

export const MANIFEST: Entry[] = [
  // ---- workspace profiles and identity
  works('workspace add', async (t) => {
    const r = ok(await t.cli(['workspace', 'add', 'local', 'admins', t.srv.url, '--token', t.srv.token], { flags: false }));
    expect(r.all).toContain('Added workspace local for admins');
  }),
  local('workspace switch', 'selects a local profile (config dir)'),
  local('workspace remove', 'removes a local profile'),
  local('workspace list', 'lists local profiles'),
  local('workspace bind', 'writes wmill.yaml from the active profile'),
  local('workspace unbind', 'edits wmill.yaml'),
  works('workspace whoami', async (t) => {
    const r = ok(await t.cli(['workspace', 'whoami']));
    expect(r.all).toContain('"email": "admin@windmill.dev"');
  }),
  works('workspace list-remote', async (t) => {
    const r = ok(await t.cli(['workspace', 'list-remote']));
    expect(r.all).toMatch(/│\s+admins\s+│\s+Admins\s+│\s+admin\s+│/);
    expect(r.all).toContain('Logged in as: admin@windmill.dev');
  }),
  works('version', async (t) => {
    const r = ok(await t.cli(['version'], { cwd: t.repo, flags: false }));
    expect(r.all).toContain('CLI version: 1.819.0');
    expect(r.all).toMatch(/Backend Version: .*1\.819\.0/);
  }),

  // ---- forks (in a git repo whose wmill.yaml maps main → admins)
  works('workspace fork', async (t) => {
    const r = ok(await t.cli(['workspace', 'fork', 'My fork', 'myfork', '--yes'], { cwd: t.repo, flags: false }));
    expect(r.all).toContain('Created forked workspace wm-fork-myfork');
    const ws = await api(t).get('/api/workspaces/users');
    expect(ws.json.workspaces.find((w: any) => w.id === 'wm-fork-myfork')?.parent_workspace_id).toBe('admins');
    // The fork holds a copy of the parent's script.
    expect((await api(t).get('/api/w/wm-fork-myfork/scripts/get/p/f/demo/hello')).json.content).toContain('hello');
  }),
  works('workspace list-forks', async (t) => {
    const r = ok(await t.cli(['workspace', 'list-forks'], { cwd: t.repo, flags: false }));
    expect(r.all).toMatch(/│\s+wm-fork-myfork\s+│\s+My fork\s+│\s+admins\s+│\s+admin\s+│/);
  }),
  works('workspace merge', async (t) => {
    // Change the script in the fork, add a variable there, then merge back.
    const head = (await api(t).get('/api/w/wm-fork-myfork/scripts/get/p/f/demo/hello')).json;
    const created = await api(t).post('/api/w/wm-fork-myfork/scripts/create', { path: 'f/demo/hello', content: head.content.replace('hello ', 'hi '), language: 'bun', summary: '', description: '', parent_hash: head.hash });
    expect(created.status).toBe(201);
    expect((await api(t).post('/api/w/wm-fork-myfork/variables/create', { path: 'f/demo/forked', value: 'from fork', is_secret: false, description: '' })).status).toBe(201);
    execFileSync('git', ['checkout', '-q', '-b', 'wm-fork/main/myfork'], { cwd: t.repo });
    const r = ok(await t.cli(['workspace', 'merge', '--yes'], { cwd: t.repo, flags: false }));
    execFileSync('git', ['checkout', '-q', 'main'], { cwd: t.repo });
    expect(r.all).toMatch(/script\s+│\s+f\/demo\/hello\s+│\s+1\s+│\s+0/);
    expect(r.all).toContain('Successfully deployed 2 item(s) from wm-fork-myfork to admins');
    const merged = (await api(t).get('scripts/get/p/f/demo/hello')).json;
    expect(merged.content).toContain('hi ');
    // Lineage: the merged version's parent is the parent workspace's head (linear history).
    expect(merged.parent_hashes).toEqual([t.state.helloHash]);
    expect((await api(t).get('variables/get/f/demo/forked')).json.value).toBe('from fork');
    // Merged: nothing left to compare.
    const again = (await api(t).get('workspaces/compare/wm-fork-myfork')).json;
    expect(again.summary.total_diffs).toBe(0);
    // The lineage rules of compare: changed in the parent only = behind; on both sides = a conflict;
    // both sides holding the same again = no change to deploy.
    const setVar = (ws: string, value: string) => api(t).post(`/api/w/${ws}/variables/update/f/demo/forked`, { value });
    const diffOf = async () => (await api(t).get('workspaces/compare/wm-fork-myfork')).json.diffs.find((d: any) => d.path === 'f/demo/forked');
    expect((await setVar('admins', 'parent edit')).status).toBe(200);
    expect(await diffOf()).toMatchObject({ kind: 'variable', ahead: 0, behind: 1, has_changes: true });
    expect((await setVar('wm-fork-myfork', 'fork edit')).status).toBe(200);
    expect(await diffOf()).toMatchObject({ ahead: 1, behind: 1, has_changes: true });
    expect((await api(t).get('workspaces/compare/wm-fork-myfork')).json.summary.conflicts).toBe(1);
    expect((await setVar('wm-fork-myfork', 'parent edit')).status).toBe(200);
    expect(await diffOf()).toMatchObject({ ahead: 1, behind: 1, has_changes: false });
    // Not a fork of this workspace: refused.
    expect((await api(t).get('workspaces/compare/admins')).status).toBe(400);
  }),
  works('workspace delete-fork', async (t) => {
    // A member who is not an admin of the fork may not delete it.
    expect((await api(t).as(t.state.carolToken!).del('/api/workspaces/delete/wm-fork-myfork')).status).toBe(403);
    const r = ok(await t.cli(['workspace', 'delete-fork', 'myfork', '--yes'], { cwd: t.repo, flags: false }));
    expect(r.all).toContain("Forked workspace 'wm-fork-myfork' deleted successfully");
    expect((await api(t).get('/api/workspaces/users')).json.workspaces.map((w: any) => w.id)).not.toContain('wm-fork-myfork');
  }),
  refuses('workspace connect-slack', ['workspace', 'connect-slack', '--bot-token', 'xoxb-1', '--team-id', 'T1', '--team-name', 'n']),
  refuses('workspace disconnect-slack', ['workspace', 'disconnect-slack']),

  // ---- scripts
  works('script list', async (t) => {
    const r = ok(await t.cli(['script', 'list']));
    expect(r.all).toContain('f/demo/hello');
  }),
  works('script get', async (t) => {
    const r = ok(await t.cli(['script', 'get', 'f/demo/hello', '--json']));
    expect(JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))).path).toBe('f/demo/hello');
  }),
  works('script show', async (t) => {
    const r = ok(await t.cli(['script', 'show', 'f/demo/hello']));
    expect(r.all).toContain('export async function main');
  }),
  works('script push', async (t) => {
    const r = ok(await t.cli(['script', 'push', 'f/demo/double.ts']));
    expect(r.all).toContain('Script f/demo/double.ts pushed');
    expect((await api(t).get('scripts/get/p/f/demo/double')).json.content).toContain('n * 2');
  }),
  works('script run', async (t) => {
    const r = ok(await t.cli(['script', 'run', 'f/demo/double', '-d', '{"n":21}', '-s']));
    expect(r.stdout.trim()).toBe('42');
  }),
  works('script preview', async (t) => {
    const r = ok(await t.cli(['script', 'preview', 'f/demo/double.ts', '-d', '{"n":5}', '-s']));
    expect(r.stdout.trim()).toBe('10');
  }),
  works('script history', async (t) => {
    const r = ok(await t.cli(['script', 'history', 'f/demo/hello']));
    expect(r.all).toContain(t.state.helloHash!);
  }),
  works('script set-permissioned-as', async (t) => {
    const r = ok(await t.cli(['script', 'set-permissioned-as', 'f/demo/double', 'admin@windmill.dev']));
    expect(r.all).toContain('Updated permissioned_as for script f/demo/double to admin@windmill.dev');
  }),
  local('script new', 'writes a script template'),
  local('script bootstrap', 'writes a script template'),
  works('script generate-metadata', async (t) => {
    const r = ok(await t.cli(['script', 'generate-metadata', 'f/demo/double.ts', '--yes']));
    expect(r.all).toContain('Generating metadata for f/demo/double.ts');
    const meta = readFileSync(join(t.dir, 'f/demo/double.script.yaml'), 'utf8');
    expect(meta).toContain("lock: '!inline f/demo/double.script.lock'");
    expect(meta).toMatch(/properties:\n\s+n:\n\s+type: number/);
    expect(readFileSync(join(t.dir, 'f/demo/double.script.lock'), 'utf8')).toContain('//bun.lock');
  }),

  // ---- flows
  works('flow push', async (t) => {
    const r = ok(await t.cli(['flow', 'push', 'f/demo/inc.flow', 'f/demo/inc']));
    expect(r.all).toContain('Flow pushed');
    expect((await api(t).get('flows/get/f/demo/inc')).json.summary).toBe('demo flow');
  }),
  works('flow list', async (t) => expect(ok(await t.cli(['flow', 'list'])).all).toContain('f/demo/inc')),
  works('flow get', async (t) => expect(ok(await t.cli(['flow', 'get', 'f/demo/inc'])).all).toContain('demo flow')),
  works('flow run', async (t) => {
    const r = ok(await t.cli(['flow', 'run', 'f/demo/inc', '-d', '{"x":41}', '-s']));
    expect(r.stdout.trim()).toBe('42');
  }),
  works('flow preview', async (t) => {
    const r = ok(await t.cli(['flow', 'preview', 'f/demo/inc.flow', '-d', '{"x":1}', '-s']));
    expect(r.stdout.trim()).toBe('2');
  }),
  works('flow history', async (t) => {
    const r = ok(await t.cli(['flow', 'history', 'f/demo/inc']));
    const versions = (await api(t).get('flows/history/p/f/demo/inc')).json;
    t.state.flowVersion = String(versions[0].id);
    expect(r.all).toContain(t.state.flowVersion);
  }),
  works('flow show-version', async (t) => {
    const r = ok(await t.cli(['flow', 'show-version', 'f/demo/inc', t.state.flowVersion!]));
    expect(r.all).toContain('flow_input.x');
  }),
  works('flow set-permissioned-as', async (t) => {
    const r = ok(await t.cli(['flow', 'set-permissioned-as', 'f/demo/inc', 'admin@windmill.dev']));
    expect(r.all).toMatch(/f\/demo\/inc/);
  }),
  local('flow new', 'writes a flow template'),
  local('flow bootstrap', 'writes a flow template'),
  works('flow generate-locks', async (t) => {
    const r = ok(await t.cli(['flow', 'generate-locks', '--yes']));
    expect(r.all).toContain('Flow f/demo/inc lockfiles updated');
    // Its inline script goes to a file of its own next to flow.yaml.
    expect(readFileSync(join(t.dir, 'f/demo/inc.flow/flow.yaml'), 'utf8')).toContain("content: '!inline a.inline_script.ts'");
    expect(readFileSync(join(t.dir, 'f/demo/inc.flow/a.inline_script.ts'), 'utf8')).toContain('return x + 1;');
  }),

  // ---- resources, resource types, variables, folders, schedules
  works('resource-type push', async (t) => {
    ok(await t.cli(['resource-type', 'push', 'demo_rt.resource-type.yaml', 'demo_rt']));
    expect((await api(t).get('resources/type/get/demo_rt')).json.description).toBe('a demo type');
  }),
  works('resource-type list', async (t) => expect(ok(await t.cli(['resource-type', 'list'])).all).toContain('demo_rt')),
  works('resource-type get', async (t) => expect(ok(await t.cli(['resource-type', 'get', 'demo_rt'])).all).toContain('a demo type')),
  works('resource-type generate-namespace', async (t) => {
    ok(await t.cli(['resource-type', 'generate-namespace']));
    expect(readFileSync(join(t.dir, 'rt.d.ts'), 'utf8')).toContain('DemoRt');
  }),
  local('resource-type new', 'writes a resource type template'),
  works('resource push', async (t) => {
    ok(await t.cli(['resource', 'push', 'f/demo/res.resource.yaml', 'f/demo/res']));
    expect((await api(t).get('resources/get/f/demo/res')).json.value).toEqual({ host: 'example.org' });
  }),
  works('resource list', async (t) => expect(ok(await t.cli(['resource', 'list'])).all).toContain('f/demo/res')),
  works('resource get', async (t) => expect(ok(await t.cli(['resource', 'get', 'f/demo/res'])).all).toContain('example.org')),
  local('resource new', 'writes a resource template'),
  works('variable push', async (t) => {
    ok(await t.cli(['variable', 'push', 'f/demo/v.variable.yaml', 'f/demo/v']));
    expect((await api(t).get('variables/get/f/demo/v')).json.value).toBe('hello');
  }),
  works('variable add', async (t) => {
    ok(await t.cli(['variable', 'add', 'val2', 'f/demo/v2']));
    expect((await api(t).get('variables/get/f/demo/v2')).json.value).toBe('val2');
  }),
  works('variable list', async (t) => expect(ok(await t.cli(['variable', 'list'])).all).toContain('f/demo/v2')),
  works('variable get', async (t) => expect(ok(await t.cli(['variable', 'get', 'f/demo/v'])).all).toContain('hello')),
  local('variable new', 'writes a variable template'),
  works('folder push', async (t) => {
    ok(await t.cli(['folder', 'push', 'other']));
    expect((await api(t).get('folders/get/other')).json.summary).toBe('Other folder');
  }),
  works('folder list', async (t) => expect(ok(await t.cli(['folder', 'list'])).all).toContain('other')),
  works('folder get', async (t) => expect(ok(await t.cli(['folder', 'get', 'other'])).all).toContain('Other folder')),
  works('folder show-rules', async (t) => expect(ok(await t.cli(['folder', 'show-rules', 'demo'])).all).toContain("Folder 'demo' has no default_permissioned_as rules")),
  local('folder new', 'writes folder.meta.yaml'),
  local('folder add-missing', 'writes folder.meta.yaml files'),
  works('schedule push', async (t) => {
    ok(await t.cli(['schedule', 'push', 'f/demo/nightly.schedule.yaml', 'f/demo/nightly']));
    expect((await api(t).get('schedules/get/f/demo/nightly')).json.script_path).toBe('f/demo/double');
  }),
  works('schedule list', async (t) => expect(ok(await t.cli(['schedule', 'list'])).all).toContain('f/demo/nightly')),
  works('schedule get', async (t) => expect(ok(await t.cli(['schedule', 'get', 'f/demo/nightly'])).all).toContain('f/demo/double')),
  works('schedule enable', async (t) => {
    ok(await t.cli(['schedule', 'enable', 'f/demo/nightly']));
    expect((await api(t).get('schedules/get/f/demo/nightly')).json.enabled).toBe(true);
  }),
  works('schedule disable', async (t) => {
    ok(await t.cli(['schedule', 'disable', 'f/demo/nightly']));
    expect((await api(t).get('schedules/get/f/demo/nightly')).json.enabled).toBe(false);
  }),
  works('schedule set-permissioned-as', async (t) => {
    const r = ok(await t.cli(['schedule', 'set-permissioned-as', 'f/demo/nightly', 'admin@windmill.dev']));
    expect(r.all).toMatch(/f\/demo\/nightly/);
  }),
  local('schedule new', 'writes a schedule template'),

  // ---- users, groups, tokens
  works('user add', async (t) => {
    ok(await t.cli(['user', 'add', 'bob@example.com', 'pw-bob-123', '--name', 'Bob']));
    const all = (await api(t).get('/api/users/list_as_super_admin')).json;
    expect(all.find((u: any) => u.email === 'bob@example.com')?.name).toBe('Bob');
    // Only super admins create accounts.
    const carol = api(t).as(t.state.carolToken!);
    expect((await carol.post('/api/users/create', { email: 'x@example.com', password: 'p' })).status).toBe(403);
  }),
  works('user create-token', async (t) => {
    // With an email and password: the login of that user (a token that acts as bob).
    const r = ok(await t.cli(['user', 'create-token', '--email', 'bob@example.com', '--password', 'pw-bob-123']));
    const token = /Token: (\S+)/.exec(r.all)?.[1];
    expect(token).toBeTruthy();
    expect((await api(t).as(token!).get('/api/users/whoami')).json.email).toBe('bob@example.com');
    const wrong = await t.cli(['user', 'create-token', '--email', 'bob@example.com', '--password', 'nope']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.all).toContain('wrong email or password');
  }),
  works('user remove', async (t) => {
    ok(await t.cli(['user', 'remove', 'bob@example.com']));
    expect((await api(t).get('/api/users/list_as_super_admin')).json.map((u: any) => u.email)).not.toContain('bob@example.com');
  }),
  works('group create', async (t) => {
    ok(await t.cli(['group', 'create', 'devs', '--summary', 'the developers']));
    expect((await api(t).get('groups/get/devs')).json.summary).toBe('the developers');
    // Members who are not admins (of the workspace or the group) may not create or join groups.
    const carol = api(t).as(t.state.carolToken!);
    expect((await carol.post('groups/create', { name: 'mine' })).status).toBe(403);
    expect((await carol.post('groups/adduser/devs', { username: 'carol' })).status).toBe(403);
  }),
  works('group add-user', async (t) => {
    ok(await t.cli(['group', 'add-user', 'devs', 'carol']));
    expect((await api(t).get('groups/get/devs')).json.members).toEqual(['carol']);
    // The membership gives carol the group's items at once (the one access check reads it).
    const carol = api(t).as(t.state.carolToken!);
    expect((await carol.get('users/whoami')).json.groups).toContain('devs');
  }),
  works('group list', async (t) => expect(ok(await t.cli(['group', 'list'])).all).toMatch(/│\s+devs\s+│\s+the developers\s+│\s+1\s+│/)),
  works('group get', async (t) => {
    const r = ok(await t.cli(['group', 'get', 'devs']));
    expect(r.all).toContain('Members: carol');
  }),
  works('group remove-user', async (t) => {
    ok(await t.cli(['group', 'remove-user', 'devs', 'carol']));
    expect((await api(t).get('groups/get/devs')).json.members).toEqual([]);
  }),
  works('group delete', async (t) => {
    ok(await t.cli(['group', 'delete', 'devs']));
    expect((await api(t).get('groups/get/devs')).status).toBe(404);
  }),
  works('token create', async (t) => {
    const r = ok(await t.cli(['token', 'create', '--label', 'ci-token']));
    t.state.ciToken = r.stdout.trim().split('\n').pop()!;
    expect((await api(t).as(t.state.ciToken).get('/api/users/whoami')).status).toBe(200);
  }),
  works('token list', async (t) => {
    const r = ok(await t.cli(['token', 'list', '--json']));
    const list = JSON.parse(r.stdout.slice(r.stdout.indexOf('[')));
    const mine = list.find((x: any) => x.label === 'ci-token');
    expect(mine.token_prefix).toBe(t.state.ciToken!.slice(0, 10));
    expect(JSON.stringify(list)).not.toContain(t.state.ciToken);
  }),
  works('token delete', async (t) => {
    ok(await t.cli(['token', 'delete', t.state.ciToken!.slice(0, 10)]));
    expect((await api(t).as(t.state.ciToken!).get('/api/users/whoami')).status).toBe(401);
  }),

  // ---- sync with users, groups and settings (round trip)
  works('sync pull', async (t) => {
    await api(t).post('workspaces/edit_webhook', { webhook: 'https://example.org/hook' });
    const r = ok(await t.cli(['sync', 'pull', '--yes', '--include-users', '--include-groups', '--include-settings'], { cwd: t.state.syncDir }));
    expect(r.all).toContain('Writing user users/carol@example.com.user.yaml');
    const d = t.state.syncDir!;
    expect(readFileSync(join(d, 'users/carol@example.com.user.yaml'), 'utf8')).toBe('disabled: false\nrole: developer\nusername: carol\n');
    expect(readFileSync(join(d, 'settings.yaml'), 'utf8')).toBe('name: Admins\nwebhook: https://example.org/hook\n');
    expect(readFileSync(join(d, 'f/demo/hello.ts'), 'utf8')).toContain('hi ');
  }),
  works('sync push', async (t) => {
    const d = t.state.syncDir!;
    writeFileSync(join(d, 'users/dave@example.com.user.yaml'), 'disabled: false\nrole: operator\nusername: dave\n');
    mkdirSync(join(d, 'groups'), { recursive: true });
    writeFileSync(join(d, 'groups/ops.group.yaml'), 'summary: ops team\nadmins:\n  - u/carol\nmembers:\n  - u/dave\n');
    writeFileSync(join(d, 'settings.yaml'), 'name: Admins\nwebhook: https://example.org/hook2\nmute_critical_alerts: true\n');
    const flags = ['--include-users', '--include-groups', '--include-settings'];
    ok(await t.cli(['sync', 'push', '--yes', ...flags], { cwd: d }));
    const dave = (await api(t).get('users/get/dave')).json;
    expect([dave.email, dave.operator]).toEqual(['dave@example.com', true]);
    const ops = (await api(t).get('groups/get/ops')).json;
    expect([ops.summary, [...ops.members].sort(), ops.extra_perms]).toEqual(['ops team', ['carol', 'dave'], { 'u/carol': true }]);
    expect((await api(t).get('workspaces/get_settings')).json).toMatchObject({ webhook: 'https://example.org/hook2', mute_critical_alerts: true });
    // Round trip: pulling again changes nothing.
    const again = ok(await t.cli(['sync', 'pull', '--dry-run', ...flags], { cwd: d }));
    expect(again.all).toContain('0 changes to apply');
  }),

  // ---- workspace dependencies, admin views
  works('dependencies push', async (t) => {
    const r = ok(await t.cli(['dependencies', 'push', 'dependencies/package.json']));
    expect(r.all).toContain('Successfully pushed workspace default dependencies for bun');
    expect((await api(t).get('workspace_dependencies/get_latest/bun')).json.content).toContain('lodash');
    const again = ok(await t.cli(['dependencies', 'push', 'dependencies/package.json']));
    expect(again.all).toContain('are up-to-date, skipping push');
  }),
  works('audit list', async (t) => {
    const r = ok(await t.cli(['audit', 'list', '--json', '--operation', 'groups.', '--limit', '100']));
    const logs = JSON.parse(r.stdout.slice(r.stdout.indexOf('[')));
    const ops = logs.map((l: any) => l.operation);
    expect(ops).toEqual(expect.arrayContaining(['groups.create', 'groups.adduser', 'groups.removeuser', 'groups.delete']));
    expect(logs.every((l: any) => l.username === 'admin')).toBe(true);
    t.state.auditId = String(logs.find((l: any) => l.operation === 'groups.delete').id);
    // Not for non-admins.
    expect((await api(t).as(t.state.carolToken!).get('audit/list')).status).toBe(403);
  }),
  works('audit get', async (t) => {
    const r = ok(await t.cli(['audit', 'get', t.state.auditId!]));
    expect(r.all).toContain('Operation: groups.delete');
    expect(r.all).toContain('Action Kind: Delete');
  }),
  works('trash list', async (t) => {
    expect((await api(t).del('variables/delete/f/demo/v2')).status).toBe(200);
    const r = ok(await t.cli(['trash', 'list', '--json']));
    const items = JSON.parse(r.stdout.slice(r.stdout.indexOf('[')));
    const item = items.find((i: any) => i.item_path === 'f/demo/v2');
    expect([item.item_kind, item.deleted_by]).toEqual(['variable', 'admin']);
    t.state.trashId = String(item.id);
  }),
  works('trash get', async (t) => {
    const r = ok(await t.cli(['trash', 'get', t.state.trashId!]));
    expect(r.all).toContain('"path": "f/demo/v2"');
    expect(r.all).toContain('"is_secret": true');
    // A secret stays encrypted in the trash.
    expect(r.all).not.toContain('val2');
  }),
  works('trash restore', async (t) => {
    const r = ok(await t.cli(['trash', 'restore', t.state.trashId!]));
    expect(r.all).toContain('Restored variable f/demo/v2');
    expect((await api(t).get('variables/get/f/demo/v2')).json.value).toBe('val2');
  }),

  // ---- jobs
  works('job list', async (t) => expect(ok(await t.cli(['job', 'list'])).all).toMatch(/f\/demo\/double/)),
  works('job get', async (t) => expect(ok(await t.cli(['job', 'get', t.state.jobId!])).all).toContain(t.state.jobId!)),
  works('job result', async (t) => expect(ok(await t.cli(['job', 'result', t.state.jobId!])).stdout.trim()).toBe('14')),
  works('job logs', async (t) => expect(ok(await t.cli(['job', 'logs', t.state.jobId!])).all).toContain('doubling 7')),
  works('job cancel', async (t) => {
    const id = (await api(t).post('jobs/run/p/f/demo/sleepy', {})).text;
    ok(await t.cli(['job', 'cancel', id]));
    const done = await api(t).waitJob(id);
    expect(done.completed).toBe(true);
    expect((await api(t).get(`jobs_u/completed/get/${id}`)).json.canceled).toBe(true);
  }),
  works('job rerun', async (t) => {
    const r = ok(await t.cli(['job', 'rerun', t.state.jobId!]));
    const id = r.stdout.trim().split('\n').pop()!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(id).not.toBe(t.state.jobId);
    expect((await api(t).waitJob(id)).result).toBe(14);
  }),
  works('job restart', async (t) => {
    const first = (await api(t).post('jobs/run/f/f/demo/inc', { x: 9 })).text;
    expect((await api(t).waitJob(first)).result).toBe(10);
    const r = ok(await t.cli(['job', 'restart', first, '--step', 'a']));
    const id = r.stdout.trim().split('\n').pop()!;
    expect(id).not.toBe(first);
    expect((await api(t).waitJob(id)).result).toBe(10);
    const bad = await t.cli(['job', 'restart', first, '--step', 'zz']);
    expect(bad.code).not.toBe(0);
    expect(bad.all).toContain("step 'zz' is not a top-level step of this flow (its steps: a)");
  }),
  works('jobs pull', async (t) => {
    // The profile of `workspace add` (this command takes no --base-url).
    const file = join(t.dir, 'completed_jobs.json');
    const n = ((await api(t).get('jobs/completed/list')).json as unknown[]).length;
    const r = ok(await t.cli(['jobs', 'pull', '--skip-worker-check', '-c', file], { flags: false }));
    expect(r.all).toContain(`Successfully pulled ${n} completed jobs`);
    const jobs = JSON.parse(readFileSync(file, 'utf8')) as any[];
    expect(jobs.map((j) => j.id)).toContain(t.state.jobId);
  }),
  works('jobs push', async (t) => {
    // Into another server (job ids are unique per instance).
    const other = await startTestServer({ workers: 0 });
    try {
      const file = join(t.dir, 'completed_jobs.json');
      const ocfg = join(t.dir, '.config-other');
      ok(await real(t.dir, ['workspace', 'add', 'admins', 'admins', other.url, '--token', other.token], ocfg));
      const n = (JSON.parse(readFileSync(file, 'utf8')) as unknown[]).length;
      const r = ok(await real(t.dir, ['jobs', 'push', '--skip-worker-check', '-c', file], ocfg, { timeoutMs: 120_000 }));
      expect(r.all).toContain(`Imported ${n} completed jobs`);
      expect((await other.api.get(`jobs_u/completed/get/${t.state.jobId}`)).json).toMatchObject({ success: true, result: 14, script_path: 'f/demo/double' });
    } finally {
      await other.close();
    }
  }),
  works('workers', async (t) => {
    const r = ok(await t.cli(['workers']));
    expect(r.all).toContain('Worker Group: default (1 workers)');
    expect(r.all).toContain(t.srv.server.engine.worker);
  }),
  works('queues', async (t) => {
    const r = ok(await t.cli(['queues']));
    expect(r.all).toMatch(/Running\s+Waiting\s+Later\s+Suspended/);
    expect(r.all).toMatch(/^bun\s+0\s+0\s+0\s+0\s/m);
  }),
  works('worker-groups pull', async (t) => {
    // An instance profile (this command's --base-url is a flag of its own).
    ok(await t.cli(['instance', 'add', 'serve', t.srv.url, t.srv.token], { flags: false }));
    const r = ok(await t.cli(['worker-groups', 'pull', '--yes'], { flags: false }));
    expect(r.all).toContain('Configs written to instance_configs.yaml');
    expect(readFileSync(join(t.dir, 'instance_configs.yaml'), 'utf8')).toBe('- name: default\n  config: {}\n');
  }),
  works('worker-groups push', async (t) => {
    writeFileSync(join(t.dir, 'instance_configs.yaml'), '- name: default\n  config: {}\n- name: gpu\n  config:\n    worker_tags:\n      - gpu\n');
    const r = ok(await t.cli(['worker-groups', 'push', '--yes'], { flags: false }));
    expect(r.all).toContain('Configs pushed to instance');
    expect(r.all).not.toContain('Failed');
    expect((await api(t).get('/api/configs/list_worker_groups')).json).toEqual([{ name: 'default', config: {} }, { name: 'gpu', config: { worker_tags: ['gpu'] } }]);
    // Removed from the file: removed from the instance.
    writeFileSync(join(t.dir, 'instance_configs.yaml'), '- name: default\n  config: {}\n');
    expect(ok(await t.cli(['worker-groups', 'push', '--yes'], { flags: false })).all).not.toContain('Failed');
    expect((await api(t).get('/api/configs/list_worker_groups')).json).toEqual([{ name: 'default', config: {} }]);
    // Only super admins.
    expect((await api(t).as(t.state.carolToken!).post('/api/configs/update/worker__x', {})).status).toBe(403);
  }),
  works('generate-metadata', async (t) => {
    const d = appsCopy(t, 'gm');
    const r = ok(await t.cli(['generate-metadata', '--yes'], { cwd: d }));
    expect(r.all).toMatch(/Apps \(2\):/);
    expect(r.all).toContain('Done. Updated 2 item(s).');
    expect(readFileSync(join(d, 'wmill-lock.yaml'), 'utf8')).toContain('f/apps/dash__app+compute.ts');
    expect(ok(await t.cli(['generate-metadata', '--yes'], { cwd: d })).all).toContain('All metadata up-to-date');
  }),
  local('generate-metadata rehash', 'rehashes wmill-lock.yaml from local files ("without hitting the backend")'),

  // ---- instance
  local('instance add', 'stores an instance profile'),
  local('instance remove', 'removes an instance profile'),
  local('instance switch', 'selects an instance profile'),
  works('instance whoami', async (t) => expect(ok(await t.cli(['instance', 'whoami'])).all).toContain('"super_admin": true')),
  works('instance get-config', async (t) => {
    await api(t).post('/api/settings/global/retention_period_secs', { value: 86400 });
    const r = ok(await t.cli(['instance', 'get-config']));
    expect(r.stdout).toContain('retention_period_secs: 86400');
    expect(r.stdout).toContain('worker_configs: {}');
  }),
  works('instance pull', async (t) => {
    const r = ok(await t.cli(['instance', 'pull', '--yes', '--skip-configs']));
    expect(r.all).toContain('Users written to instance_users.yaml');
    expect(readFileSync(join(t.dir, 'instance_users.yaml'), 'utf8')).toContain('email: carol@example.com');
  }),
  works('instance push', async (t) => {
    writeFileSync(join(t.dir, 'instance_users.yaml'), readFileSync(join(t.dir, 'instance_users.yaml'), 'utf8') + '- email: erin@example.com\n  super_admin: false\n  name: Erin\n');
    ok(await t.cli(['instance', 'push', '--yes', '--skip-configs']));
    const all = (await api(t).get('/api/users/list_as_super_admin')).json;
    expect(all.find((u: any) => u.email === 'erin@example.com')?.name).toBe('Erin');
  }),
  { cmd: 'instance connect-slack', status: 'refused', run: async (t) => {
    ok(await t.cli(['instance', 'add', 'serve', t.srv.url, t.srv.token], { flags: false }));
    refused(await t.cli(['instance', 'connect-slack', '--bot-token', 'xoxb-1', '--team-id', 'T1', '--team-name', 'n'], { flags: false }), /Slack: not available on wmill serve/);
  } },

  // ---- git sync settings, protection rules
  works('gitsync-settings pull', async (t) => expect(ok(await t.cli(['gitsync-settings', 'pull', '--yes'])).all).toContain('No git-sync repositories configured')),
  works('gitsync-settings push', async (t) => expect(ok(await t.cli(['gitsync-settings', 'push', '--yes'])).all).toContain('No git-sync repositories configured in workspace')),
  works('gitsync-settings status', async (t) => expect(ok(await t.cli(['gitsync-settings', 'status'])).all).toContain('No git-sync repository is configured for this workspace on the backend')),
  { cmd: 'protection-rules pull', status: 'refused', run: async (t) => {
    refused(await t.cli(['protection-rules', 'pull', 'main'], { cwd: t.repo, flags: false }), /Protection rules: not available on wmill serve|protection rules: Not Implemented/); // the CLI prints only the status text here
  } },
  { cmd: 'protection-rules push', status: 'refused', run: async (t) => {
    writeFileSync(join(t.repo, 'protection-rules.yaml'), 'main: []\n');
    refused(await t.cli(['protection-rules', 'push', 'main', '--yes'], { cwd: t.repo, flags: false }), /Protection rules: not available on wmill serve|protection rules: Not Implemented/); // the CLI prints only the status text here
  } },

  // ---- offline and cloud-only
  refuses('hub pull', ['hub', 'pull'], /Windmill Hub is not reachable from wmill serve \(it runs offline\)/),
  refuses('docs', ['docs', 'schedules'], /Documentation search: not available on wmill serve/),
  refuses('datatable list', ['datatable', 'list'], /Data tables: not available on wmill serve/),
  refuses('datatable run', ['datatable', 'run', 'select 1'], /Data tables: not available on wmill serve/),
  refuses('datatable create', ['datatable', 'create'], /Data tables: not available on wmill serve/),
  refuses('datatable migrate', ['datatable', 'migrate', 'status'], /Data tables: not available on wmill serve|Unknown command/),
  local('datatable serve', 'a local Postgres-wire listener; the queries it forwards are refused as `datatable run` is'),
  local('datatable psql', 'launches psql against `datatable serve`'),
  refuses('ducklake list', ['ducklake', 'list'], /Ducklake: not available on wmill serve/),
  refuses('ducklake run', ['ducklake', 'run', 'select 1'], /Ducklake: not available on wmill serve/),
  refuses('pipeline list', ['pipeline', 'list'], /Pipelines \(assets\): not available on wmill serve/),
  refuses('pipeline show', ['pipeline', 'show', 'demo'], /Pipelines \(assets\): not available on wmill serve/),
  refuses('pipeline run', ['pipeline', 'run', 'demo'], /Pipelines \(assets\): not available on wmill serve/),
  refuses('pipeline docs', ['pipeline', 'docs', 'demo'], /Pipelines \(assets\): not available on wmill serve/),
  local('pipeline dev', 'a local live preview of an f/<folder> pipeline'),
  refuses('object-storage list', ['object-storage', 'list'], /Object storage \(S3\): not available on wmill serve/),
  refuses('object-storage files', ['object-storage', 'files'], /Object storage \(S3\): not available on wmill serve/),
  refuses('object-storage upload', ['object-storage', 'upload', 'wmill.yaml', 'k'], /Object storage \(S3\): not available on wmill serve/),
  refuses('object-storage download', ['object-storage', 'download', 'k'], /Object storage \(S3\): not available on wmill serve/),
  refuses('object-storage delete', ['object-storage', 'delete', 'k', '--yes'], /Object storage \(S3\): not available on wmill serve/),
  refuses('object-storage move', ['object-storage', 'move', 'a', 'b'], /Object storage \(S3\): not available on wmill serve/),
  refuses('object-storage info', ['object-storage', 'info', 'k'], /Object storage \(S3\): not available on wmill serve/),
  refuses('object-storage preview', ['object-storage', 'preview', 'k'], /Object storage \(S3\): not available on wmill serve/),

  // ---- other branches
  works('app push', async (t) => {
    const d = appsCopy(t, 'apps');
    expect((await api(t).post('folders/create', { name: 'apps', summary: '' })).status).toBeLessThan(300);
    const r = ok(await t.cli(['app', 'push', 'f/apps/dash__app', 'f/apps/dash'], { cwd: d }));
    expect(r.all).toContain('App pushed');
    const app = (await api(t).get('apps/get/p/f/apps/dash')).json;
    expect(app).toMatchObject({ path: 'f/apps/dash', summary: 'Dashboard' });
    expect(app.value.hiddenInlineScripts[0].inlineScript.content).toContain('x * 2');
  }),
  works('app list', async (t) => expect(ok(await t.cli(['app', 'list'])).all).toMatch(/│\s+f\/apps\/dash\s+│\s+Dashboard\s+│/)),
  works('app get', async (t) => expect(ok(await t.cli(['app', 'get', 'f/apps/dash'])).stdout).toMatch(/Path: f\/apps\/dash\nSummary: Dashboard\nCreated by: admin/)),
  works('app generate-agents', async (t) => {
    // The raw app's docs; its data tables are listed from the server, which has none (the CLI warns and goes on).
    const d = join(t.dir, 'apps');
    const r = ok(await t.cli(['app', 'generate-agents', 'f/apps/board__raw_app'], { cwd: d }));
    expect(r.all).toContain('Generated AGENTS.md, CLAUDE.md, and DATATABLES.md');
    expect(r.all).toContain('Found 0 datatable(s) with 0 table(s)');
    expect(existsSync(join(d, 'f/apps/board__raw_app/AGENTS.md'))).toBe(true);
  }),
  works('app set-permissioned-as', async (t) => {
    const r = ok(await t.cli(['app', 'set-permissioned-as', 'f/apps/dash', 'admin@windmill.dev']));
    expect(r.all).toContain('Updated permissioned_as for app f/apps/dash to admin@windmill.dev');
  }),
  works('app generate-locks', async (t) => {
    const d = appsCopy(t, 'agl');
    const r = ok(await t.cli(['app', 'generate-locks', '--yes'], { cwd: d }));
    expect(r.all).toContain('+ f/apps/board__raw_app');
    expect(r.all).toContain('+ f/apps/dash__app');
    const lock = readFileSync(join(d, 'wmill-lock.yaml'), 'utf8');
    expect(lock).toContain('f/apps/board__raw_app+__app_hash');
    expect(lock).toContain('f/apps/dash__app+__app_hash');
  }),
  works('app dev', async (t) => {
    // A long-running dev server: up once it has built the app against wmill serve; then stopped.
    const d = join(t.dir, 'apps');
    const r = await t.cli(['app', 'dev', 'f/apps/board__raw_app', '--no-open', '--port', '4610'], { cwd: d, onOutput: (all, kill) => /Dev server running at/.test(all) && /Build succeeded/.test(all) && kill() });
    expect(r.signal, r.all).toBe('SIGKILL');
    expect(r.all).toContain('Inferred schema for add');
    expect(r.all).toMatch(/Dev server running at http:\/\/localhost:\d+/);
  }),
  local('app lint', 'validates a raw app folder'),
  local('app bundle', 'bundles a raw app folder'),
  local('app new', 'writes a raw app template'),
  works('trigger push', async (t) => {
    ok(await t.cli(['trigger', 'push', 'f/demo/feed.websocket_trigger.yaml', 'f/demo/feed']));
    expect((await api(t).get('websocket_triggers/get/f/demo/feed')).json).toMatchObject({ url: 'wss://example.com/feed', enabled: false });
  }),
  works('trigger list', async (t) => {
    const r = ok(await t.cli(['trigger', 'list', '--json']));
    expect(JSON.parse(r.stdout.slice(r.stdout.indexOf('[')))).toEqual([{ path: 'f/demo/feed', kind: 'websocket' }]);
  }),
  works('trigger get', async (t) => {
    const r = ok(await t.cli(['trigger', 'get', 'f/demo/feed', '--kind', 'websocket', '--json']));
    expect(JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))).url).toBe('wss://example.com/feed');
  }),
  works('trigger set-permissioned-as', async (t) => {
    const r = ok(await t.cli(['trigger', 'set-permissioned-as', 'f/demo/feed', 'admin@windmill.dev', '--kind', 'websocket']));
    expect(r.all).toMatch(/f\/demo\/feed/);
  }),
  local('trigger new', 'writes a trigger template'),
  works('dev', async (t) => {
    // A long-running watcher: up once it listens and names the server's dev page; then stopped.
    const r = await t.cli(['dev', '--no-open'], { onOutput: (all, kill) => /Dev WebSocket listening/.test(all) && kill() });
    expect(r.signal, r.all).toBe('SIGKILL');
    expect(r.all).toContain('Started dev mode');
    expect(r.all).toContain(`${t.srv.url.replace(/\/$/, '')}/dev?workspace=admins`);
  }),

  // ---- local only
  local('init', 'writes wmill.yaml (--use-backend reads git-sync settings: see gitsync-settings pull)'),
  local('refresh prompts', 'writes AGENTS.wmill.md and skills'),
  local('refresh tsconfig', 'writes tsconfig.wmill.json'),
  local('lint', 'validates local YAML files'),
  local('config', 'prints the wmill.yaml options'),
  local('config migrate', 'rewrites wmill.yaml'),
  local('upgrade', 'npm, not the server'),
  local('completions bash', 'prints shell completions'),
  local('completions zsh', 'prints shell completions'),
  local('completions fish', 'prints shell completions'),
];

// ---------------------------------------------------------------------------------------------
// The commands of the help

const HELP = readFileSync(join(REPO, 'test/fixtures/real-cli-help.txt'), 'utf8');
// eslint-disable-next-line no-control-regex
const strip = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '');

/** Names in a help text's Commands: section (first word of each entry; aliases after a comma dropped). */
export function commandsOf(help: string): string[] {
  const at = help.indexOf('\nCommands:\n');
  if (at < 0) return [];
  const out: string[] = [];
  for (const line of help.slice(at + 11).split('\n')) {
    if (/^\S/.test(line)) break; // next section
    const m = /^ {2}([a-z][a-z0-9-]*)[ ,]/.exec(line);
    if (m) out.push(m[1]!);
  }
  return out;
}

function topLevel(): string[] {
  const first = HELP.split('================================================================\n$ wmill')[1] ?? '';
  return commandsOf(first);
}

async function helpCommands(): Promise<string[]> {
  const top = topLevel();
  const all: string[] = [];
  const queue = [...top];
  const work = async () => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      const r = await runNode([REAL_CLI, c, '--help'], REPO, { timeoutMs: 120_000 });
      const subs = commandsOf(strip(r.stdout + r.stderr));
      if (!subs.length) all.push(c);
      else for (const s of subs) all.push(`${c} ${s}`);
      // A group's own action (e.g. `group` = `group list`) is covered by its subcommands; these two
      // do something else of their own.
      if (subs.length && ['generate-metadata', 'config'].includes(c)) all.push(c);
    }
  };
  await Promise.all([work(), work()]);
  return all.sort();
}

// ---------------------------------------------------------------------------------------------

describe('the real windmill-cli against wmill serve: every command of its help', () => {
  const results = new Map<string, { status: Status | 'failed'; note: string }>();
  const t = {} as T;

  beforeAll(async () => {
    t.srv = await startTestServer();
    t.dir = mkdtempSync(join(tmpdir(), 'wmill-realcli-'));
    t.cfg = join(t.dir, '.config');
    t.repo = join(t.dir, 'repo');
    t.state = { syncDir: join(t.dir, 'sync') };
    const flags = () => ['--base-url', t.srv.url, '--token', t.srv.token, '--workspace', 'admins'];
    t.cli = (args, opts = {}) => real(opts.cwd ?? t.dir, [...args, ...(opts.flags === false ? [] : flags())], t.cfg, { timeoutMs: opts.timeoutMs ?? 180_000, env: opts.env, onOutput: opts.onOutput });

    const files: Record<string, string> = {
      'wmill.yaml': 'defaultTs: bun\nincludes:\n  - "**"\n',
      'f/demo/folder.meta.yaml': 'summary: Demo\ndisplay_name: demo\nowners: []\nextra_perms: {}\n',
      'f/demo/double.ts': 'export async function main(n: number = 1) {\n  console.log("doubling " + n);\n  return n * 2;\n}\n',
      'f/demo/inc.flow/flow.yaml': FLOW_YAML,
      'f/demo/v.variable.yaml': 'description: a var\nvalue: hello\nis_secret: false\n',
      'f/demo/res.resource.yaml': 'description: a resource\nresource_type: demo_rt\nvalue:\n  host: example.org\n',
      'f/demo/nightly.schedule.yaml': "schedule: '0 0 3 * * *'\ntimezone: UTC\nscript_path: f/demo/double\nis_flow: false\nargs:\n  n: 2\nenabled: false\n",
      'f/demo/feed.websocket_trigger.yaml': 'script_path: f/demo/double\nis_flow: false\nurl: wss://example.com/feed\nfilters: []\ncan_return_message: false\nenabled: false\n',
      'f/other/folder.meta.yaml': 'summary: Other folder\ndisplay_name: other\nowners: []\nextra_perms: {}\n',
      'demo_rt.resource-type.yaml': 'description: a demo type\nschema:\n  type: object\n  properties:\n    host:\n      type: string\n',
      'dependencies/package.json': '{\n  "dependencies": {\n    "lodash": "4.17.21"\n  }\n}\n',
    };
    for (const [rel, body] of Object.entries(files)) {
      mkdirSync(dirname(join(t.dir, rel)), { recursive: true });
      writeFileSync(join(t.dir, rel), body);
    }
    mkdirSync(t.state.syncDir!, { recursive: true });
    writeFileSync(join(t.state.syncDir!, 'wmill.yaml'), 'defaultTs: bun\nincludes:\n  - "**"\nincludeUsers: true\nincludeGroups: true\nincludeSettings: true\n');
    mkdirSync(t.repo, { recursive: true });
    writeFileSync(join(t.repo, 'wmill.yaml'), `defaultTs: bun\nworkspaces:\n  main:\n    baseUrl: ${t.srv.url}\n    workspaceId: admins\n`);
    const git = (...a: string[]) => execFileSync('git', a, { cwd: t.repo, stdio: 'ignore' });
    git('init', '-q', '-b', 'main');
    git('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-q', '--allow-empty', '-m', 'init');

    // What the cases read: a folder, a script with a version, a member, a job, a long job to cancel.
    const a = t.srv.api;
    expect((await a.post('folders/create', { name: 'demo', summary: 'Demo' })).status).toBeLessThan(300);
    t.state.helloHash = await a.deploy({ path: 'f/demo/hello', language: 'bun', content: 'export async function main(name: string = "x") {\n  return "hello " + name;\n}\n' });
    await a.deploy({ path: 'f/demo/sleepy', language: 'bun', content: 'export async function main() {\n  await new Promise((r) => setTimeout(r, 120000));\n}\n' });
    t.state.carolToken = await a.addUser('carol');
  }, 300_000);

  afterAll(async () => {
    await t.srv?.close();
    if (t.dir) rmSync(t.dir, { recursive: true, force: true });
    const rows = MANIFEST.map((e) => {
      const r = results.get(e.cmd);
      const status = r?.status ?? (e.status === 'pending' ? 'pending' : e.status === 'local' ? 'local' : 'not run');
      const shown = status === 'works' ? 'works' : status === 'refused' ? 'refused clearly' : status;
      return `| \`wmill ${e.cmd}\` | ${shown} | ${(r?.note ?? e.reason ?? '').replace(/\|/g, '\\|')} |`;
    });
    const count = (s: string) => MANIFEST.filter((e) => (results.get(e.cmd)?.status ?? e.status) === s).length;
    const server = MANIFEST.filter((e) => e.status !== 'local').length;
    const out = [
      '# The real windmill-cli 1.819.0 against wmill serve',
      '',
      `Server-talking commands: ${server}. Works: ${count('works')}; refused clearly: ${count('refused')}; pending (other branches): ${count('pending')}; failed: ${count('failed')}. Local-only commands: ${count('local')}.`,
      '',
      '| command | status | note |',
      '| --- | --- | --- |',
      ...rows,
      '',
    ].join('\n');
    mkdirSync(join(REPO, 'test-artifacts'), { recursive: true });
    writeFileSync(join(REPO, 'test-artifacts/real-cli-commands.md'), out);
  });

  it('the manifest lists every command of the real CLI help, and nothing else', async () => {
    const inHelp = await helpCommands();
    expect(inHelp.length).toBeGreaterThan(100);
    const listed = new Set(MANIFEST.map((e) => e.cmd));
    expect(inHelp.filter((c) => !listed.has(c)), 'commands of the help missing from the manifest').toEqual([]);
    const help = new Set(inHelp);
    expect([...listed].filter((c) => !help.has(c)), 'manifest entries the help does not have').toEqual([]);
    expect(MANIFEST.length).toBe(listed.size);
    // Every server-talking entry that is not pending has its case.
    expect(MANIFEST.filter((e) => (e.status === 'works' || e.status === 'refused') && !e.run).map((e) => e.cmd)).toEqual([]);
  }, 600_000);

  it('the guard reads the help (the check can fail)', () => {
    expect(topLevel()).toEqual(expect.arrayContaining(['app', 'group', 'audit', 'trash', 'queues', 'version']));
    expect(commandsOf('x\nCommands:\n\n  list   - l\n  get  <id>  - g\n\nEnvironment variables:\n  HEADERS  <h>  - h\n')).toEqual(['list', 'get']);
  });

  for (const e of MANIFEST) {
    if (e.status === 'local') continue;
    if (e.status === 'pending') {
      it.skip(`${e.cmd} (${e.reason})`, () => undefined);
      continue;
    }
    it(`wmill ${e.cmd}: ${e.status === 'works' ? 'works' : 'refused clearly'}`, async () => {
      if (e.cmd === 'job list') {
        // A finished job for the job commands.
        const id = (await t.srv.api.post('jobs/run/p/f/demo/double', { n: 7 })).text;
        await t.srv.api.waitJob(id);
        t.state.jobId = id;
      }
      try {
        await e.run!(t);
        results.set(e.cmd, { status: e.status, note: '' });
      } catch (err) {
        results.set(e.cmd, { status: 'failed', note: (err as Error).message.split('\n')[0]!.slice(0, 160) });
        throw err;
      }
    }, 300_000);
  }

  it('the artifacts folder is ignored by git', () => {
    expect(readFileSync(join(REPO, '.gitignore'), 'utf8')).toMatch(/^test-artifacts\/$/m);
    expect(existsSync(join(REPO, 'test'))).toBe(true);
  });
});
