/**
 * A drop-in `wmill`: scripts written for the real windmill-cli run unchanged with ours, against
 * `wmill serve` (a child process): CI scripts (test/fixtures/ci-real-cli/), global options
 * anywhere on the line, the sync flags with the reference's meanings, wmill.yaml `workspaces:`
 * entries picked by git branch (simple-git) with their overrides, and a pull that never
 * overwrites uncommitted work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Api, ADMIN_TOKEN, spawnServe } from './helpers/server.js';
import { runNode, type Run } from './helpers/sync.js';
import { BIN, FIXTURES } from './helpers/workspace.js';

let serve: Awaited<ReturnType<typeof spawnServe>>;
let url: string;
let tmp: string;
let shim: string;

/** The environment of a CI job: ours on PATH as `wmill`, no WM_* / WMILL_* of this machine. */
function ciEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(WM_|WMILL_|BASE_URL|BASE_INTERNAL_URL|HEADERS$|CI$)/.test(k)) env[k] = v;
  return { ...env, PATH: `${shim}${delimiter}${env.PATH}`, NO_COLOR: '1', HOME: join(tmp, 'home'), ...extra };
}

function bash(script: string, cwd: string, env: Record<string, string>): Promise<Run> {
  const child = spawn('bash', [script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
  return new Promise((resolve) =>
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, all: stdout + stderr });
    }),
  );
}

const git = (cwd: string, ...args: string[]) => {
  const r = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'init.defaultBranch=main', ...args], { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

/** A git repository holding a workspace folder. */
function repo(files: Record<string, string>, wmillYaml: string): string {
  const dir = mkdtempSync(join(tmp, 'repo-'));
  writeFileSync(join(dir, 'wmill.yaml'), wmillYaml);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  git(dir, 'init', '-q');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'init');
  return dir;
}

const META = (summary: string) =>
  `summary: ${summary}\ndescription: ''\nlock: ''\nkind: script\nschema:\n  $schema: https://json-schema.org/draft/2020-12/schema\n  type: object\n  properties: {}\n  required: []\n`;

async function newWorkspace(id: string): Promise<Api> {
  const admin = new Api(url, ADMIN_TOKEN);
  const r = await admin.req('POST', '/api/workspaces/create', { id, name: id });
  expect(r.status, r.text).toBe(201);
  return new Api(url, ADMIN_TOKEN, id);
}

/** Our wmill with its profiles in `cfg` (and the given environment, nothing of this machine's WM_*). */
const wmill = (cwd: string, args: string[], cfg: string, env: Record<string, string> = {}) =>
  runNode([BIN, ...args], cwd, { env: { WMILL_CONFIG_DIR: cfg, WM_TOKEN: '', WM_WORKSPACE: '', BASE_URL: '', BASE_INTERNAL_URL: '', WM_BASE_URL: '', CI: '', ...env } });

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'wmill-dropin-'));
  shim = join(tmp, 'bin');
  mkdirSync(shim);
  writeFileSync(join(shim, 'wmill'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  chmodSync(join(shim, 'wmill'), 0o755);
  serve = await spawnServe(['--data', join(tmp, 'server')]);
  url = serve.url.endsWith('/') ? serve.url : `${serve.url}/`;
}, 300_000);

afterAll(async () => {
  await serve?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('a CI script written for the real windmill-cli, unchanged', () => {
  const scripts = join(FIXTURES, 'ci-real-cli');
  const WMILL_YAML = 'defaultTs: bun\nincludes:\n  - f/**\nskipSecrets: true\nnonDottedPaths: true\n';
  const FILES = {
    'f/ci/folder.meta.yaml': 'summary: CI\ndisplay_name: ci\nextra_perms: {}\nowners: []\n',
    'f/ci/hello.sh': 'name="${1:-world}"\necho "hello $name"\n',
    'f/ci/nightly.schedule.yaml': 'summary: nightly\nargs: {}\nenabled: false\nis_flow: false\nschedule: 0 0 3 * * *\nscript_path: f/ci/hello\ntimezone: UTC\n',
    'f/ci/greeting.variable.yaml': 'description: not deployed by CI (--skip-variables)\nvalue: hi\nis_secret: false\n',
  };

  it('deploy (workspace add with the token from the environment, sync push --yes --fail-conflicts --skip-variables --include-schedules --message), then the scheduled sync pull', async () => {
    const api = await newWorkspace('ci1');
    const dir = repo(FILES, WMILL_YAML);
    const env = ciEnv({ WINDMILL_URL: url, WINDMILL_WORKSPACE: 'ci1', WINDMILL_TOKEN: ADMIN_TOKEN, WMILL_CONFIG_DIR: join(tmp, 'cfg-ci1'), CI_COMMIT_SHORT_SHA: 'abc1234' });

    const deploy = await bash(join(scripts, 'deploy.sh'), dir, env);
    expect(deploy.code, deploy.all).toBe(0);
    expect(deploy.all).not.toContain(ADMIN_TOKEN);
    const s = await api.req('GET', 'scripts/get/p/f/ci/hello');
    expect(s.status, s.text).toBe(200);
    expect(s.json.content).toBe(FILES['f/ci/hello.sh']);
    expect((await api.req('GET', 'scripts/history/p/f/ci/hello')).json[0].deployment_msg).toBe('deploy abc1234');
    expect((await api.req('GET', 'schedules/get/f/ci/nightly')).status).toBe(200);
    expect((await api.req('GET', 'variables/get/f/ci/greeting')).status).toBe(404);
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'metadata');

    // Someone edits the script in Windmill (here: another clone pushing); the scheduled job brings it back.
    const other = mkdtempSync(join(tmp, 'other-'));
    cpSync(dir, other, { recursive: true, filter: (p) => !p.includes('/.wmill') });
    writeFileSync(join(other, 'f/ci/hello.sh'), 'name="${1:-world}"\necho "hello, $name!"\n');
    const edit = await wmill(other, ['--base-url', url, '--token', ADMIN_TOKEN, '--workspace', 'ci1', 'sync', 'push', '--yes', '--skip-variables', '--include-schedules'], join(tmp, 'cfg-other'));
    expect(edit.code, edit.all).toBe(0);

    const back = await bash(join(scripts, 'sync-back.sh'), dir, env);
    expect(back.code, back.all).toBe(0);
    expect(back.stdout).toContain('committed the changes made in Windmill');
    expect(readFileSync(join(dir, 'f/ci/hello.sh'), 'utf8')).toContain('hello, $name!');
    expect(git(dir, 'log', '--format=%s', '-1').trim()).toBe('Sync from Windmill');
    expect(git(dir, 'status', '--porcelain')).toBe('');
    // The variable the CI skips is still in git, untouched.
    expect(readFileSync(join(dir, 'f/ci/greeting.variable.yaml'), 'utf8')).toBe(FILES['f/ci/greeting.variable.yaml']);

    const again = await bash(join(scripts, 'sync-back.sh'), dir, env);
    expect(again.code, again.all).toBe(0);
    expect(again.stdout).toContain('nothing to sync');
  }, 300_000);

  it('--fail-conflicts: an item edited both in Windmill and in git since the last sync refuses the deploy, naming it; nothing is pushed', async () => {
    const api = await newWorkspace('ci2');
    const dir = repo(FILES, WMILL_YAML);
    const env = ciEnv({ WINDMILL_URL: url, WINDMILL_WORKSPACE: 'ci2', WINDMILL_TOKEN: ADMIN_TOKEN, WMILL_CONFIG_DIR: join(tmp, 'cfg-ci2'), CI_COMMIT_SHORT_SHA: 'def5678' });
    expect((await bash(join(scripts, 'deploy.sh'), dir, env)).code).toBe(0);
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'metadata');

    const other = mkdtempSync(join(tmp, 'other-'));
    cpSync(dir, other, { recursive: true, filter: (p) => !p.includes('/.wmill') });
    writeFileSync(join(other, 'f/ci/hello.sh'), 'echo "edited in windmill"\n');
    expect((await wmill(other, ['sync', 'push', '--yes', '--skip-variables', '--base-url', url, '--token', ADMIN_TOKEN, '--workspace', 'ci2'], join(tmp, 'cfg-other'))).code).toBe(0);

    writeFileSync(join(dir, 'f/ci/hello.sh'), 'echo "edited in git"\n');
    git(dir, 'commit', '-qam', 'edit');
    const deploy = await bash(join(scripts, 'deploy.sh'), dir, env);
    expect(deploy.code, deploy.all).toBe(1);
    expect(deploy.stderr).toMatch(/--fail-conflicts: 1 item\(s\) changed both locally and on ci2 .*script f\/ci\/hello/);
    expect((await api.req('GET', 'scripts/get/p/f/ci/hello')).json.content).toBe('echo "edited in windmill"\n');
  }, 300_000);
});

describe('global options and the environment', () => {
  it('global options anywhere on the line: before the command, between, after', async () => {
    await newWorkspace('g1');
    const dir = repo({ 'f/g/a.sh': 'echo a\n', 'f/g/a.script.yaml': META('a') }, 'defaultTs: bun\nincludes:\n  - f/**\n');
    const cfg = join(tmp, 'cfg-g1');
    for (const args of [
      ['--workspace', 'g1', '--token', ADMIN_TOKEN, '--base-url', url, 'sync', 'push', '--dry-run', '--json-output'],
      ['sync', '--base-url', url, 'push', '--workspace', 'g1', '--dry-run', '--token', ADMIN_TOKEN, '--json-output'],
      ['sync', 'push', '--dry-run', '--json-output', '--base-url', url, '--token', ADMIN_TOKEN, '--workspace', 'g1'],
    ]) {
      const r = await wmill(dir, args, cfg);
      expect(r.code, `${args.join(' ')}\n${r.all}`).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(j.plan.workspace).toBe('g1');
      expect(j.plan.changes.map((c: { path: string }) => c.path)).toEqual(['f/g/a']);
    }
  }, 120_000);

  it('WM_WORKSPACE + WM_TOKEN + BASE_URL are used after the active profile, as the reference does; --token replaces a profile\'s token', async () => {
    await newWorkspace('e1');
    await newWorkspace('e2');
    const dir = repo({ 'f/e/a.sh': 'echo a\n', 'f/e/a.script.yaml': META('a') }, 'defaultTs: bun\nincludes:\n  - f/**\n');
    const cfg = join(tmp, 'cfg-e');
    const envOnly = await wmill(dir, ['sync', 'push', '--dry-run', '--json-output'], cfg, { WM_WORKSPACE: 'e1', WM_TOKEN: ADMIN_TOKEN, BASE_URL: url });
    expect(envOnly.code, envOnly.all).toBe(0);
    expect(JSON.parse(envOnly.stdout).plan.workspace).toBe('e1');
    // A profile (active) wins over the environment.
    const add = await wmill(dir, ['workspace', 'add', 'p2', 'e2', url, '--token', 'wrong-token-0000'], cfg, { WM_TOKEN: ADMIN_TOKEN });
    expect(add.code, add.all).not.toBe(0); // the wrong token cannot check the workspace exists
    const add2 = await wmill(dir, ['workspace', 'add', 'p2', 'e2', url, '--token', ADMIN_TOKEN], cfg);
    expect(add2.code, add2.all).toBe(0);
    const withProfile = await wmill(dir, ['sync', 'push', '--dry-run', '--json-output'], cfg, { WM_WORKSPACE: 'e1', WM_TOKEN: ADMIN_TOKEN, BASE_URL: url });
    expect(JSON.parse(withProfile.stdout).plan.workspace).toBe('e2');
    const badToken = await wmill(dir, ['--token', 'not-a-token-000', 'sync', 'push', '--dry-run'], cfg);
    expect(badToken.code, badToken.all).toBe(4);
  }, 120_000);

  it('--quiet drops progress and information lines, keeps warnings; --debug shows the requests (never the token)', async () => {
    await newWorkspace('q1');
    const dir = repo({ 'f/q/a.sh': 'echo a\n' }, 'defaultTs: bun\nincludes:\n  - f/**\n');
    const cfg = join(tmp, 'cfg-q');
    const base = ['--base-url', url, '--token', ADMIN_TOKEN, '--workspace', 'q1', 'sync', 'push', '--dry-run'];
    const normal = await wmill(dir, base, cfg);
    expect(normal.stderr).toMatch(/warning: f\/q\/a.sh: no metadata file/);
    expect(normal.stderr).toMatch(/1 to add/);
    const quiet = await wmill(dir, [...base, '--quiet'], cfg);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toMatch(/warning: f\/q\/a.sh: no metadata file/);
    expect(quiet.stderr).not.toMatch(/to add/);
    const dbg = await wmill(dir, ['--debug', ...base], cfg);
    expect(dbg.stderr).toMatch(/\[debug\] POST \/api\/w\/q1\/wmill\/sync_manifest → 200/);
    expect(dbg.all).not.toContain(ADMIN_TOKEN);
  }, 120_000);

  it('HEADERS adds headers to every request; a malformed one is a usage error that does not echo the value', async () => {
    const dir = repo({}, 'defaultTs: bun\n');
    const bad = await wmill(dir, ['--base-url', url, '--token', ADMIN_TOKEN, '--workspace', 'q1', 'sync', 'push', '--dry-run'], join(tmp, 'cfg-h'), { HEADERS: 'x-ok: 1, secretvalue42' });
    expect(bad.code, bad.all).toBe(2);
    expect(bad.stderr).toMatch(/HEADERS: entry 2 is not a 'name: value' pair/);
    expect(bad.all).not.toContain('secretvalue42');
  }, 60_000);
});

describe('wmill.yaml workspaces entries and git', () => {
  const entriesYaml = (extra = '') =>
    `defaultTs: bun\nincludes:\n  - f/**\nworkspaces:\n  staging:\n    baseUrl: URL\n    workspaceId: b-staging\n    gitBranch: develop\n    overrides:\n      skipScripts: true\n  prod:\n    baseUrl: URL\n    workspaceId: b-prod\n    gitBranch: main\n    promotionOverrides:\n      skipFolders: true\n${extra}`;

  it('the current branch picks its entry (gitBranch); --workspace <entry> selects one; overrides and promotionOverrides apply to sync', async () => {
    await newWorkspace('b-staging');
    await newWorkspace('b-prod');
    const files = { 'f/b/folder.meta.yaml': 'summary: b\ndisplay_name: b\nextra_perms: {}\nowners: []\n', 'f/b/a.sh': 'echo a\n', 'f/b/a.script.yaml': META('a') };
    const dir = repo(files, entriesYaml().replaceAll('URL', url));
    const cfg = join(tmp, 'cfg-b');
    const env = { WM_TOKEN: ADMIN_TOKEN };
    const plan = async (args: string[]) => {
      const r = await wmill(dir, ['sync', 'push', '--dry-run', '--json-output', ...args], cfg, env);
      expect(r.code, r.all).toBe(0);
      const p = JSON.parse(r.stdout).plan;
      return { ws: p.workspace as string, kinds: [...new Set(p.changes.map((c: { kind: string }) => c.kind))].sort(), stderr: r.stderr };
    };
    // On main: prod, no overrides.
    const main = await plan([]);
    expect(main.ws).toBe('b-prod');
    expect(main.kinds).toEqual(['folder', 'script']);
    expect(main.stderr).toMatch(/Using workspace 'prod' \(matched git branch 'main'\) → b-prod/);
    // On develop: staging and its overrides (skipScripts).
    git(dir, 'checkout', '-qb', 'develop');
    const dev = await plan([]);
    expect(dev.ws).toBe('b-staging');
    expect(dev.kinds).toEqual(['folder']);
    expect(dev.stderr).toMatch(/Applied overrides of workspace 'staging'/);
    // A fork branch maps to the branch it forked.
    git(dir, 'checkout', '-qb', 'wm-fork/develop/f1');
    expect((await plan([])).ws).toBe('b-staging');
    git(dir, 'checkout', '-q', 'develop');
    // --workspace <entry> wins over the branch; --promotion <branch> applies that entry's promotionOverrides.
    expect((await plan(['--workspace', 'prod'])).ws).toBe('b-prod');
    const promo = await plan(['--workspace', 'prod', '--promotion', 'main']);
    expect(promo.kinds).toEqual(['script']);
    expect(promo.stderr).toMatch(/Applied promotionOverrides of workspace 'prod'/);
    // A branch with no entry: a warning (unless --skip-branch-validation), then the usual order.
    git(dir, 'checkout', '-qb', 'feature-x');
    const r = await wmill(dir, ['sync', 'push', '--dry-run', '--base-url', url, '--workspace', 'b-prod'], cfg, env);
    expect(r.code, r.all).toBe(0);
    const noEntry = await wmill(dir, ['sync', 'push', '--dry-run'], cfg, { ...env, WM_WORKSPACE: 'b-prod', BASE_URL: url });
    expect(noEntry.stderr).toMatch(/warning: the current git branch 'feature-x' matches no workspaces entry/);
    const skipped = await wmill(dir, ['sync', 'push', '--dry-run', '--skip-branch-validation'], cfg, { ...env, WM_WORKSPACE: 'b-prod', BASE_URL: url });
    expect(skipped.stderr).not.toMatch(/matches no workspaces entry/);
    // An unknown --workspace is refused with suggestions.
    const typo = await wmill(dir, ['sync', 'push', '--dry-run', '--workspace', 'prdo'], cfg, env);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/did you mean 'prod'/);
  }, 180_000);

  it('the deprecated gitBranches alias works, with its warning', async () => {
    const dir = repo({ 'f/b/a.sh': 'echo a\n', 'f/b/a.script.yaml': META('a') }, `defaultTs: bun\ngitBranches:\n  main:\n    baseUrl: ${url}\n    workspaceId: b-prod\n`);
    const r = await wmill(dir, ['sync', 'push', '--dry-run', '--json-output'], join(tmp, 'cfg-gb'), { WM_TOKEN: ADMIN_TOKEN });
    expect(r.code, r.all).toBe(0);
    expect(JSON.parse(r.stdout).plan.workspace).toBe('b-prod');
    expect(r.stderr).toMatch(/warning: 'gitBranches' in wmill.yaml is deprecated. Use 'workspaces' instead/);
  }, 60_000);

  it('sync pull refuses to overwrite files with uncommitted changes, naming them; --force overwrites; committed files are updated', async () => {
    const api = await newWorkspace('d1');
    const files = { 'f/d/a.sh': 'echo a\n', 'f/d/a.script.yaml': META('a'), 'f/d/b.sh': 'echo b\n', 'f/d/b.script.yaml': META('b') };
    const dir = repo(files, 'defaultTs: bun\nincludes:\n  - f/**\n');
    const cfg = join(tmp, 'cfg-d');
    const flags = ['--base-url', url, '--token', ADMIN_TOKEN, '--workspace', 'd1'];
    expect((await wmill(dir, ['sync', 'push', '--yes', ...flags], cfg)).code).toBe(0);
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '--allow-empty', '-m', 'pushed');
    // Remote edits to both scripts (another clone).
    const other = mkdtempSync(join(tmp, 'other-'));
    cpSync(dir, other, { recursive: true, filter: (p) => !p.includes('/.git') && !p.includes('/.wmill') });
    writeFileSync(join(other, 'f/d/a.sh'), 'echo remote a\n');
    writeFileSync(join(other, 'f/d/b.sh'), 'echo remote b\n');
    expect((await wmill(other, ['sync', 'push', '--yes', ...flags], cfg)).code).toBe(0);
    // Local, uncommitted edit of a only.
    writeFileSync(join(dir, 'f/d/a.sh'), 'echo my work in progress\n');
    const pull = await wmill(dir, ['sync', 'pull', '--yes', ...flags], cfg);
    expect(pull.code, pull.all).toBe(2);
    expect(pull.stderr).toMatch(/refused: the pull would overwrite 1 file\(s\) with uncommitted changes: f\/d\/a\.sh; commit or stash them, or pass --force/);
    expect(readFileSync(join(dir, 'f/d/a.sh'), 'utf8')).toBe('echo my work in progress\n');
    expect(readFileSync(join(dir, 'f/d/b.sh'), 'utf8')).toBe('echo b\n'); // nothing half-written
    const forced = await wmill(dir, ['sync', 'pull', '--yes', '--force', ...flags], cfg);
    expect(forced.code, forced.all).toBe(0);
    expect(readFileSync(join(dir, 'f/d/a.sh'), 'utf8')).toBe('echo remote a\n');
    expect(readFileSync(join(dir, 'f/d/b.sh'), 'utf8')).toBe('echo remote b\n');
    expect((await api.req('GET', 'scripts/get/p/f/d/a')).json.content).toBe('echo remote a\n');
  }, 180_000);
});

describe('sync flags with the reference CLI\'s meanings', () => {
  it('--skip-* and --include-* narrow both sides; -i/-e/--extra-includes replace the globs; --json writes JSON files; --show-diffs hides secrets', async () => {
    await newWorkspace('f1');
    const files = {
      'f/k/folder.meta.yaml': 'summary: k\ndisplay_name: k\nextra_perms: {}\nowners: []\n',
      'f/k/a.sh': 'echo a\n',
      'f/k/a.script.yaml': META('a'),
      'f/k/keep.sh': 'echo keep\n',
      'f/k/keep.script.yaml': META('keep'),
      'f/k/v.variable.yaml': 'description: v\nvalue: one\nis_secret: false\n',
      'f/k/s.schedule.yaml': 'summary: s\nargs: {}\nenabled: false\nis_flow: false\nschedule: 0 0 3 * * *\nscript_path: f/k/a\ntimezone: UTC\n',
    };
    const dir = repo(files, 'defaultTs: bun\nincludes:\n  - f/**\n');
    const cfg = join(tmp, 'cfg-f');
    const flags = ['--base-url', url, '--token', ADMIN_TOKEN, '--workspace', 'f1'];
    const paths = async (args: string[]) => {
      const r = await wmill(dir, ['sync', 'push', '--dry-run', '--json-output', ...args, ...flags], cfg);
      expect(r.code, r.all).toBe(0);
      return JSON.parse(r.stdout).plan.changes.map((c: { kind: string; path: string }) => `${c.kind}:${c.path}`).sort();
    };
    expect(await paths([])).toEqual(['folder:k', 'script:f/k/a', 'script:f/k/keep', 'variable:f/k/v']);
    expect(await paths(['--include-schedules', '--skip-variables'])).toEqual(['folder:k', 'schedule:f/k/s', 'script:f/k/a', 'script:f/k/keep']);
    expect(await paths(['--skip-scripts', '--skip-folders'])).toEqual(['variable:f/k/v']);
    expect(await paths(['-i', 'f/k/keep*,f/k/folder*'])).toEqual(['folder:k', 'script:f/k/keep']);
    expect(await paths(['-e', 'f/k/keep*'])).toEqual(['folder:k', 'script:f/k/a', 'variable:f/k/v']);
    expect(await paths(['--extra-includes', '**/*.sh'])).toEqual(['script:f/k/a', 'script:f/k/keep']);
    const warn = await wmill(dir, ['sync', 'push', '--dry-run', '--include-users', ...flags], cfg);
    expect(warn.stderr).toMatch(/warning: --include-users: users are not synced by this version of wmill/);
    const bad = await wmill(dir, ['sync', 'push', '--dry-run', '--parallel', '0', ...flags], cfg);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--parallel must be a positive integer/);

    const push = await wmill(dir, ['sync', 'push', '--yes', '--parallel', '2', '--message', 'm1', ...flags], cfg);
    expect(push.code, push.all).toBe(0);
    // --show-diffs: the content diff of each update; a secret's value never.
    writeFileSync(join(dir, 'f/k/a.sh'), 'echo changed\n');
    const diff = await wmill(dir, ['sync', 'push', '--dry-run', '--show-diffs', ...flags], cfg);
    expect(diff.code, diff.all).toBe(0);
    expect(diff.stdout).toMatch(/^--- script f\/k\/a \(remote\)$/m);
    expect(diff.stdout).toMatch(/^- {2}echo a$/m);
    expect(diff.stdout).toMatch(/^\+ {2}echo changed$/m);

    // pull --json: new metadata files as JSON.
    const fresh = mkdtempSync(join(tmp, 'json-'));
    writeFileSync(join(fresh, 'wmill.yaml'), 'defaultTs: bun\nincludes:\n  - f/**\n');
    const pulled = await wmill(fresh, ['sync', 'pull', '--yes', '--json', ...flags], cfg);
    expect(pulled.code, pulled.all).toBe(0);
    expect(JSON.parse(readFileSync(join(fresh, 'f/k/a.script.json'), 'utf8')).summary).toBe('a');
    expect(JSON.parse(readFileSync(join(fresh, 'f/k/v.variable.json'), 'utf8')).value).toBe('one');
    expect(existsSync(join(fresh, 'f/k/a.script.yaml'))).toBe(false);
    // And a push from that folder finds nothing to do.
    const noop = await wmill(fresh, ['sync', 'push', '--dry-run', '--json-output', ...flags], cfg);
    expect(JSON.parse(noop.stdout).plan.changes).toEqual([]);
  }, 240_000);

  it('--lint and --locks-required refuse a push with bad files or missing locks; --auto-metadata regenerates stale metadata first', async () => {
    await newWorkspace('l1');
    const dir = repo({ 'f/l/a.sh': 'echo a\n', 'f/l/a.script.yaml': META('a'), 'f/l/bad.sql': 'select 1\n' }, 'defaultTs: bun\nincludes:\n  - f/**\n');
    const cfg = join(tmp, 'cfg-l');
    const flags = ['--base-url', url, '--token', ADMIN_TOKEN, '--workspace', 'l1'];
    const lint = await wmill(dir, ['sync', 'push', '--yes', '--lint', ...flags], cfg);
    expect(lint.code, lint.all).toBe(2);
    expect(lint.stderr).toMatch(/--lint: 1 problem\(s\) in the files/);
    rmSync(join(dir, 'f/l/bad.sql'));
    writeFileSync(join(dir, 'f/l/uses_npm.ts'), "import lodash from 'lodash';\nexport function main() { return lodash.VERSION; }\n");
    writeFileSync(join(dir, 'f/l/uses_npm.script.yaml'), META('npm'));
    writeFileSync(join(dir, 'f/l/plain.ts'), 'export function main() { return 1; }\n');
    writeFileSync(join(dir, 'f/l/plain.script.yaml'), META('plain'));
    const locks = await wmill(dir, ['sync', 'push', '--yes', '--locks-required', ...flags], cfg);
    expect(locks.code, locks.all).toBe(2);
    expect(locks.stderr).toMatch(/--locks-required: 1 script\(s\) need a lock and have none: f\/l\/uses_npm\.ts;/);
    rmSync(join(dir, 'f/l/uses_npm.ts'));
    rmSync(join(dir, 'f/l/uses_npm.script.yaml'));
    // --auto-metadata: a script whose arguments changed gets its schema before the push.
    writeFileSync(join(dir, 'f/l/plain.ts'), 'export function main(n: number) { return n; }\n');
    const auto = await wmill(dir, ['sync', 'push', '--yes', '--auto-metadata', ...flags], cfg);
    expect(auto.code, auto.all).toBe(0);
    expect(readFileSync(join(dir, 'f/l/plain.script.yaml'), 'utf8')).toMatch(/n:\n\s+type: number/);
  }, 240_000);

  it('--plan with --keep-deleted: a message that says what is wrong', async () => {
    await newWorkspace('pk');
    const dir = repo({ 'f/p/a.sh': 'echo a\n', 'f/p/a.script.yaml': META('a'), 'f/p/b.sh': 'echo b\n', 'f/p/b.script.yaml': META('b') }, 'defaultTs: bun\nincludes:\n  - f/**\n');
    const cfg = join(tmp, 'cfg-pk');
    const flags = ['--base-url', url, '--token', ADMIN_TOKEN, '--workspace', 'pk'];
    expect((await wmill(dir, ['sync', 'push', '--yes', ...flags], cfg)).code).toBe(0);
    rmSync(join(dir, 'f/p/b.sh'));
    rmSync(join(dir, 'f/p/b.script.yaml'));
    writeFileSync(join(dir, 'f/p/a.sh'), 'echo a2\n');
    const planFile = join(dir, '..', 'pk-plan.json');
    expect((await wmill(dir, ['sync', 'push', '--dry-run', '--plan-out', planFile, ...flags], cfg)).code).toBe(0);
    const r = await wmill(dir, ['sync', 'push', '--yes', '--plan', planFile, '--keep-deleted', ...flags], cfg);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the plan deletes 1 item\(s\) and --keep-deleted forbids deletions/);
    const keptPlan = join(dir, '..', 'pk-plan2.json');
    expect((await wmill(dir, ['sync', 'push', '--dry-run', '--keep-deleted', '--plan-out', keptPlan, ...flags], cfg)).code).toBe(0);
    const r2 = await wmill(dir, ['sync', 'push', '--yes', '--delete', '--plan', keptPlan, ...flags], cfg);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/the plan was made with --keep-deleted .*pass --keep-deleted to apply it/);
    const ok = await wmill(dir, ['sync', 'push', '--yes', '--plan', keptPlan, '--keep-deleted', ...flags], cfg);
    expect(ok.code, ok.all).toBe(0);
  }, 180_000);
});

describe('item commands (read side), as the real CLI names them', () => {
  it('script|flow|resource|resource-type|variable|schedule|folder list and get, text and --json; a secret value is never printed', async () => {
    const api = await newWorkspace('it1');
    const files = {
      'f/it/folder.meta.yaml': 'summary: items\ndisplay_name: it\nextra_perms: {}\nowners: []\n',
      'f/it/a.sh': 'echo a\n',
      'f/it/a.script.yaml': META('the a script'),
      'f/it/db.resource.yaml': 'description: a db\nresource_type: thing\nvalue:\n  host: h\n',
      'thing.resource-type.yaml': 'description: a thing\nschema:\n  type: object\n  properties:\n    host:\n      type: string\n',
      'f/it/v.variable.yaml': 'description: plain\nvalue: visible\nis_secret: false\n',
      'f/it/s.schedule.yaml': 'summary: s\nargs: {}\nenabled: false\nis_flow: false\nschedule: 0 0 3 * * *\nscript_path: f/it/a\ntimezone: UTC\n',
    };
    const dir = repo(files, 'defaultTs: bun\nincludes:\n  - f/**\nincludeSchedules: true\n');
    const cfg = join(tmp, 'cfg-it');
    const flags = ['--base-url', url, '--token', ADMIN_TOKEN, '--workspace', 'it1'];
    const push = await wmill(dir, ['sync', 'push', '--yes', ...flags], cfg);
    expect(push.code, push.all).toBe(0);
    const secret = await api.req('POST', 'variables/create', { path: 'f/it/secret', value: 'topsecretvalue77', is_secret: true, description: 's' });
    expect(secret.status, secret.text).toBe(201);

    const json = async (args: string[]) => {
      const r = await wmill(dir, [...args, '--json', ...flags], cfg);
      expect(r.code, `${args.join(' ')}: ${r.all}`).toBe(0);
      expect(r.all).not.toContain('topsecretvalue77');
      return JSON.parse(r.stdout);
    };
    expect((await json(['script', 'list'])).map((s: { path: string }) => s.path)).toEqual(['f/it/a']);
    expect((await json(['script', 'get', 'f/it/a'])).summary).toBe('the a script');
    expect((await json(['script', 'show', 'f/it/a'])).content).toBe('echo a\n');
    expect((await json(['resource', 'list'])).map((x: { path: string }) => x.path)).toEqual(['f/it/db']);
    expect((await json(['resource', 'get', 'f/it/db'])).value).toEqual({ host: 'h' });
    // As the real CLI's --json: the server's objects, the schema included.
    expect((await json(['resource-type', 'list'])).find((t: { name: string }) => t.name === 'thing')).toHaveProperty('schema');
    expect((await json(['resource-type', 'list', '--schema'])).find((t: { name: string }) => t.name === 'thing').schema.properties.host.type).toBe('string');
    const vars = await json(['variable', 'list']);
    expect(vars.map((v: { path: string }) => v.path).sort()).toEqual(['f/it/secret', 'f/it/v']);
    expect(vars.find((v: { path: string }) => v.path === 'f/it/v').value).toBe('visible');
    await json(['variable', 'get', 'f/it/secret']);
    expect((await json(['schedule', 'get', 'f/it/s'])).schedule).toBe('0 0 3 * * *');
    expect((await json(['folder', 'list'])).map((f: { name: string }) => f.name)).toContain('it');
    expect((await json(['folder', 'get', 'it'])).summary).toBe('items');
    expect(await json(['flow', 'list'])).toEqual([]);

    const text = await wmill(dir, ['script', 'list', ...flags], cfg);
    expect(text.stdout).toMatch(/^path\s+summary\s+language\s+created by$/m);
    expect(text.stdout).toMatch(/^f\/it\/a\s+the a script\s+bash\s+/m);
    const getText = await wmill(dir, ['variable', 'get', 'f/it/secret', ...flags], cfg);
    expect(getText.code, getText.all).toBe(0);
    expect(getText.all).not.toContain('topsecretvalue77');
    const missing = await wmill(dir, ['script', 'get', 'f/it/nope', ...flags], cfg);
    expect(missing.code).toBe(1);
  }, 180_000);
});

describe('workspace list-remote, add --create', () => {
  it('add --create --create-workspace-name creates it under that name; list-remote lists what the token can access', async () => {
    const dir = repo({}, 'defaultTs: bun\n');
    const cfg = join(tmp, 'cfg-lr');
    const add = await wmill(dir, ['workspace', 'add', 'made', 'made-ws', url, '--token', ADMIN_TOKEN, '--create', '--create-workspace-name', 'Made here'], cfg);
    expect(add.code, add.all).toBe(0);
    const list = await wmill(dir, ['workspace', 'list-remote', '--json'], cfg);
    expect(list.code, list.all).toBe(0);
    expect(JSON.parse(list.stdout)).toContainEqual(expect.objectContaining({ id: 'made-ws', name: 'Made here' }));
    const text = await wmill(dir, ['workspace', 'list-remote'], cfg);
    expect(text.stdout).toMatch(/^made-ws\s+Made here\s+admin\s+false$/m);
    expect(text.all).not.toContain(ADMIN_TOKEN);
  }, 60_000);
});
