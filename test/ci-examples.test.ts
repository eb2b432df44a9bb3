/**
 * The CI examples (examples/ci/): checked for what a CI file must get right (actions pinned to
 * commits, the token only from a secret and only where it is used, dry run before push, one
 * deploy at a time), then run: each job's shell steps, exactly as written, in bash as the runner
 * would (`-eo pipefail`, the first failing step ends the job), with the workflow's environment
 * (secrets and variables filled in by the test), against a real `wmill serve`. `uses:` steps
 * (checkout, setup-node) are what the test provides: the workspace folder and this Node. The
 * package is this repository's (`npm pack`), installed once from its tarball; each job's own
 * `npm install -g "$WMILL_PACKAGE"` then installs that unpacked package (a folder: npm links it)
 * into a fresh prefix of the job's, which takes a second instead of unpacking it all again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parse } from 'yaml';
import { startTestServer, type TestServer } from './helpers/server.js';
import { BIN, REPO } from './helpers/workspace.js';
import { npmCached } from './helpers/clean-copy.js';

const GH = parse(readFileSync(join(REPO, 'examples/ci/github-actions.yml'), 'utf8'));
const GL = parse(readFileSync(join(REPO, 'examples/ci/gitlab-ci.yml'), 'utf8'));
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));

type Step = { name?: string; uses?: string; run?: string; env?: Record<string, string>; with?: Record<string, unknown>; if?: string };

describe('examples/ci/github-actions.yml', () => {
  const jobs = GH.jobs as Record<string, { steps: Step[]; env?: unknown; needs?: string; if?: string; concurrency?: { group: string; 'cancel-in-progress': boolean }; environment?: string }>;

  it('actions are pinned to full commit hashes (with the version in a comment); wmill and Node to exact versions', () => {
    const raw = readFileSync(join(REPO, 'examples/ci/github-actions.yml'), 'utf8');
    const uses = [...raw.matchAll(/uses:\s*(\S+)(.*)$/gm)];
    expect(uses.length).toBeGreaterThan(0);
    for (const [, ref, comment] of uses) {
      expect(ref, ref).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
      expect(comment, ref).toMatch(/#\s*v\d+\.\d+\.\d+/);
    }
    expect(GH.env.WMILL_PACKAGE).toBe(`wmill@${pkg.version}`);
    expect(GH.env.NODE_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
    expect(GH.permissions).toEqual({ contents: 'read' });
  });

  it('the token comes from the secret, only on the steps that talk to the server; no ${{ }} inside shell scripts', () => {
    expect(JSON.stringify(GH.env)).not.toContain('secrets.');
    for (const [id, job] of Object.entries(jobs)) {
      expect(JSON.stringify(job.env ?? {}), id).not.toContain('secrets.');
      for (const s of job.steps) {
        if (s.uses) expect(JSON.stringify(s), s.uses).not.toContain('secrets.');
        if (s.run) expect(s.run, s.name).not.toContain('${{');
        if (s.env?.WM_TOKEN) {
          expect(s.env.WM_TOKEN).toBe('${{ secrets.WINDMILL_TOKEN }}');
          expect(s.run).toMatch(/wmill sync push/);
        }
        if (s.run?.includes('wmill sync push')) expect(s.env?.WM_TOKEN, s.name).toBeDefined();
      }
    }
  });

  it('deploy: after the check, on pushes to main only, one at a time, dry run then push of that plan', () => {
    const deploy = jobs.deploy!;
    expect(deploy.needs).toBe('check');
    expect(deploy.if).toBe("github.event_name == 'push' && github.ref == 'refs/heads/main'");
    expect(deploy.concurrency).toEqual({ group: 'windmill-deploy', 'cancel-in-progress': false });
    const runs = deploy.steps.filter((s) => s.run).map((s) => s.run!);
    const dry = runs.findIndex((r) => /wmill sync push --dry-run --plan-out/.test(r));
    const push = runs.findIndex((r) => /wmill sync push --yes --plan /.test(r));
    expect(dry).toBeGreaterThan(-1);
    expect(push).toBeGreaterThan(dry);
  });
});

describe('examples/ci/gitlab-ci.yml', () => {
  it('pinned image and package, the token from a masked CI/CD variable, check (dry run, plan kept) then deploy (that plan), one at a time', () => {
    const raw = readFileSync(join(REPO, 'examples/ci/gitlab-ci.yml'), 'utf8');
    expect(GL.default.image).toMatch(/^node:\d+\.\d+\.\d+-bookworm$/);
    expect(GL.variables.WMILL_PACKAGE).toBe(`wmill@${pkg.version}`);
    expect(raw).not.toMatch(/WM_TOKEN:\s*\S/); // never a token value in the file
    expect(GL.default.before_script).toContain('export WM_TOKEN="$WINDMILL_TOKEN"');
    expect(GL.stages).toEqual(['check', 'deploy']);
    const check = GL['windmill-check'];
    const deploy = GL['windmill-deploy'];
    expect(check.script).toEqual(['wmill generate-metadata --check', 'wmill sync push --dry-run --plan-out wmill-plan.json']);
    expect(check.artifacts.paths).toEqual(['wmill-plan.json']);
    expect(deploy.needs).toEqual(['windmill-check']);
    expect(deploy.rules).toEqual([{ if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH' }]);
    expect(deploy.resource_group).toBeTruthy();
    expect(deploy.script.join('\n')).toMatch(/^wmill sync push --yes --plan wmill-plan\.json /);
  });
});

describe('the CI examples run against wmill serve', () => {
  let server: TestServer;
  let work: string;
  let installed: string; // the package, unpacked with its dependencies
  let jobs = 0;

  beforeAll(async () => {
    server = await startTestServer({ workers: 0 });
    work = mkdtempSync(join(tmpdir(), 'wmill-ci-'));
    // This repository's package, as built (dist/ is built before the tests run).
    expect(existsSync(join(REPO, 'dist/cli.mjs'))).toBe(true);
    const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: REPO, encoding: 'utf8' });
    expect(pack.status, pack.stderr).toBe(0);
    const prefix = join(work, 'npm-prefix');
    const install = npmCached(['install', '-g', join(work, `wmill-${pkg.version}.tgz`)], work, { ...process.env, npm_config_prefix: prefix });
    expect(install.status, install.stderr).toBe(0);
    installed = join(prefix, 'lib/node_modules/wmill');
  }, 300_000);

  afterAll(async () => {
    await server?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** A fresh checkout: the example workspace. */
  function checkout(name: string): string {
    const dir = join(work, name);
    cpSync(join(REPO, 'examples'), dir, { recursive: true, filter: (src) => !src.includes(`${join('examples', 'ci')}`) });
    return dir;
  }

  /** A job's runner: a global npm prefix of its own (empty: the job installs wmill). */
  function runner(): string {
    const prefix = join(work, `runner-${++jobs}`);
    mkdirSync(prefix);
    return prefix;
  }

  /** The environment a runner gives a step: the process's minus anything wmill reads, plus PATH to the npm prefix. */
  function baseEnv(extra: Record<string, string>, prefix: string): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(WM_|WMILL_|BASE_URL|BASE_INTERNAL_URL)/.test(k)) env[k] = v;
    env.PATH = `${join(prefix, 'bin')}${delimiter}${env.PATH}`;
    env.npm_config_prefix = prefix;
    env.npm_config_prefer_offline = 'true';
    env.npm_config_audit = 'false';
    env.npm_config_fund = 'false';
    env.HOME = join(work, 'home'); // no profile of the machine's user is used
    mkdirSync(env.HOME, { recursive: true });
    return { ...env, ...extra };
  }

  function bash(script: string, cwd: string, env: Record<string, string>): Promise<{ code: number; out: string }> {
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, out })));
  }

  /** `${{ secrets.X }}`, `${{ vars.X }}`, `${{ env.X }}` in an env block, from the given values. */
  function expr(v: unknown, ctx: { secrets: Record<string, string>; vars: Record<string, string>; env: Record<string, string> }): string {
    return String(v).replace(/\$\{\{\s*(secrets|vars|env)\.(\w+)\s*\}\}/g, (_, c: 'secrets' | 'vars' | 'env', k: string) => ctx[c][k] ?? '');
  }

  /** One GitHub job: its `run` steps in order; the first failure ends it. */
  async function githubJob(id: string, cwd: string, ctx: { secrets: Record<string, string>; vars: Record<string, string> }) {
    const job = GH.jobs[id] as { steps: Step[] };
    const prefix = runner();
    const runnerTemp = join(work, `runner-temp-${id}-${Math.random().toString(36).slice(2)}`);
    mkdirSync(runnerTemp);
    const wfEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries(GH.env as Record<string, unknown>)) wfEnv[k] = expr(v, { ...ctx, env: wfEnv });
    const log: { name: string; code: number; out: string }[] = [];
    for (const step of job.steps) {
      if (!step.run) continue;
      const stepEnv: Record<string, string> = { ...wfEnv, WMILL_PACKAGE: installed, RUNNER_TEMP: runnerTemp, GITHUB_SHA: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678' };
      for (const [k, v] of Object.entries(step.env ?? {})) stepEnv[k] = expr(v, { ...ctx, env: stepEnv });
      const r = await bash(step.run, cwd, baseEnv(stepEnv, prefix));
      log.push({ name: step.name ?? '', ...r });
      if (r.code !== 0) break;
    }
    return log;
  }

  /** One GitLab job: before_script then script, in one shell; variables expanded from the CI/CD variables given. */
  async function gitlabJob(id: string, cwd: string, ciVars: Record<string, string>) {
    const job = GL[id] as { script: string[] };
    const vars: Record<string, string> = { ...ciVars };
    for (const [k, v] of Object.entries(GL.variables as Record<string, string>)) vars[k] = String(v).replace(/\$\{?(\w+)\}?/g, (_, n: string) => vars[n] ?? '');
    vars.WMILL_PACKAGE = installed;
    return bash([...GL.default.before_script, ...job.script].join('\n'), cwd, baseEnv(vars, runner()));
  }

  const secrets = () => ({ WINDMILL_TOKEN: server.token });
  const vars = () => ({ WINDMILL_URL: server.url, WINDMILL_WORKSPACE: 'admins' });
  const remoteScript = (path: string) => server.api.get(`/api/w/admins/scripts/get/p/${path}`);
  const deployMessage = async (path: string) => (await server.api.get(`/api/w/admins/scripts/history/p/${path}`)).json[0].deployment_msg;

  it('GitHub: the check job passes on the example workspace and prints the plan; nothing is deployed', async () => {
    const dir = checkout('gh-check');
    const log = await githubJob('check', dir, { secrets: secrets(), vars: vars() });
    expect(log.map((s) => [s.name, s.code])).toEqual([
      ['Install wmill', 0],
      ['Metadata is current', 0],
      ['Plan (dry run)', 0],
    ]);
    expect(log[0]!.out).toContain(`wmill ${pkg.version} (compatible with windmill-cli`);
    expect(log[2]!.out).toMatch(/\+ script f\/examples\/greet/);
    expect((await remoteScript('f/examples/greet')).status).toBe(404);
  }, 300_000);

  it('GitHub: a pull request from a fork (no secret) still checks, and skips the plan', async () => {
    const dir = checkout('gh-fork');
    const log = await githubJob('check', dir, { secrets: {}, vars: vars() });
    expect(log.map((s) => s.code)).toEqual([0, 0, 0]);
    expect(log[2]!.out).toContain('::notice::no WINDMILL_TOKEN');
  }, 300_000);

  it('GitHub: stale metadata fails the check job at that step (exit 3); the plan step does not run', async () => {
    const dir = checkout('gh-stale');
    appendFileSync(join(dir, 'f/examples/disk_report.sh'), '# changed without regenerating metadata\n');
    const log = await githubJob('check', dir, { secrets: secrets(), vars: vars() });
    expect(log.map((s) => [s.name, s.code])).toEqual([
      ['Install wmill', 0],
      ['Metadata is current', 3],
    ]);
    expect(log[1]!.out).toContain('f/examples/disk_report.sh — content changed');
  }, 300_000);

  it('GitHub: the deploy job pushes what its dry run planned, with the commit in the deployment message', async () => {
    const dir = checkout('gh-deploy');
    const log = await githubJob('deploy', dir, { secrets: secrets(), vars: vars() });
    expect(log.map((s) => [s.name, s.code]), log.map((s) => s.out).join('\n')).toEqual([
      ['Install wmill', 0],
      ['Plan (dry run)', 0],
      ['Push the plan', 0],
    ]);
    expect(log[2]!.out).toMatch(/Done: (\d+) of \1 change\(s\) applied to admins/);
    const greet = await remoteScript('f/examples/greet');
    expect(greet.status).toBe(200);
    expect(await deployMessage('f/examples/greet')).toBe('deploy a1b2c3d4e5f6');
  }, 300_000);

  it('GitLab: check (dry run, plan kept) then deploy of that plan; a plan the workspace moved past is refused', async () => {
    const dir = checkout('gl');
    // A change since the GitHub deploy, its metadata regenerated as a developer would.
    appendFileSync(join(dir, 'f/examples/recent_rows.pg.sql'), '-- tuned\n');
    const gen = spawnSync(process.execPath, [BIN, 'generate-metadata', '--yes'], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(gen.status, gen.stderr).toBe(0);
    const ciVars = { WINDMILL_TOKEN: server.token, WINDMILL_URL: server.url, WINDMILL_WORKSPACE: 'admins', CI_COMMIT_SHORT_SHA: '0badc0de' };

    const check = await gitlabJob('windmill-check', dir, ciVars);
    expect(check.code, check.out).toBe(0);
    expect(check.out).toMatch(/~ script f\/examples\/recent_rows/);
    expect(existsSync(join(dir, 'wmill-plan.json'))).toBe(true);

    const deploy = await gitlabJob('windmill-deploy', dir, ciVars);
    expect(deploy.code, deploy.out).toBe(0);
    expect(deploy.out).toMatch(/Done: 1 of 1 change\(s\) applied to admins/);
    expect(await deployMessage('f/examples/recent_rows')).toBe('deploy 0badc0de');

    // The next change is planned; meanwhile someone deploys something else from their own
    // clone: the deploy job refuses the plan the workspace moved past, and applies nothing.
    const other = join(work, 'gl-other');
    cpSync(dir, other, { recursive: true });
    appendFileSync(join(dir, 'f/examples/recent_rows.pg.sql'), '-- tuned again\n');
    expect(spawnSync(process.execPath, [BIN, 'generate-metadata', '--yes'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } }).status).toBe(0);
    expect((await gitlabJob('windmill-check', dir, ciVars)).code).toBe(0);
    appendFileSync(join(other, 'f/examples/disk_report.sh'), '# elsewhere\n');
    expect(spawnSync(process.execPath, [BIN, 'generate-metadata', '--yes'], { cwd: other, env: { ...process.env, NO_COLOR: '1' } }).status).toBe(0);
    const elsewhere = await bash(`node ${JSON.stringify(BIN)} sync push --yes`, other, baseEnv({ BASE_URL: server.url, WM_WORKSPACE: 'admins', WM_TOKEN: server.token }, runner()));
    expect(elsewhere.code, elsewhere.out).toBe(0);
    const before = (await remoteScript('f/examples/recent_rows')).json.hash;
    const refused = await gitlabJob('windmill-deploy', dir, ciVars);
    expect(refused.code).not.toBe(0);
    expect(refused.out).toContain('changed since the plan was made');
    expect((await remoteScript('f/examples/recent_rows')).json.hash).toBe(before);
  }, 600_000);
});
