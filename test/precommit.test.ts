/**
 * The pre-commit hooks (.pre-commit-hooks.yaml), run by the real `pre-commit` (Debian's package;
 * .ci/run installs it) as a user would: a workspace repository whose .pre-commit-config.yaml
 * points at a clean clone of this repository, `pre-commit install`, then `git commit`. pre-commit
 * installs wmill itself (language: node: npm install, npm pack with our prepack build, npm
 * install -g of the tarball). Skipped, saying so, where pre-commit is not installed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { BIN, REPO } from './helpers/workspace.js';
import { cleanCopy } from './helpers/clean-copy.js';

const hasPreCommit = spawnSync('pre-commit', ['--version'], { encoding: 'utf8' }).status === 0;
if (!hasPreCommit) console.warn('test/precommit.test.ts: skipped: `pre-commit` is not installed (apt-get install -y pre-commit; .ci/run installs it)');

const GIT_ENV = { GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 'test@example.com', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 'test@example.com' };

describe('the hook manifest', () => {
  it('.pre-commit-hooks.yaml: node hooks running `wmill generate-metadata --check`, staged item files or the whole workspace', () => {
    const hooks = parse(readFileSync(join(REPO, '.pre-commit-hooks.yaml'), 'utf8')) as Record<string, unknown>[];
    const byId = Object.fromEntries(hooks.map((h) => [h.id, h]));
    expect(Object.keys(byId).sort()).toEqual(['wmill-metadata', 'wmill-metadata-all']);
    for (const h of hooks) {
      expect(h).toMatchObject({ language: 'node', entry: 'wmill generate-metadata --check', require_serial: true });
      expect(typeof h.name).toBe('string');
    }
    // The per-file hook gets the staged files under f/ and u/ (anywhere in the repository).
    const files = new RegExp(byId['wmill-metadata']!.files as string);
    for (const f of ['f/a/b.ts', 'u/me/x.py', 'ws/f/a/b.flow/flow.yaml']) expect(files.test(f), f).toBe(true);
    for (const f of ['README.md', 'src/f.ts', 'wmill-lock.yaml', 'gif/x']) expect(files.test(f), f).toBe(false);
    expect(byId['wmill-metadata']!.pass_filenames).toBeUndefined(); // pre-commit's default: true
    expect(byId['wmill-metadata-all']!.pass_filenames).toBe(false);
    const all = new RegExp(byId['wmill-metadata-all']!.files as string);
    for (const f of ['f/a/b.ts', 'wmill-lock.yaml', 'wmill.yaml', 'dependencies/package.json']) expect(all.test(f), f).toBe(true);
  });
});

// Each commit runs wmill twice (both hooks): generous time on a loaded machine.
describe.skipIf(!hasPreCommit)('pre-commit runs the hooks', { timeout: 300_000 }, () => {
  let hookRepo: string;
  let ws: string;
  let home: string;
  let env: NodeJS.ProcessEnv;

  const git = (args: string[], cwd = ws) => spawnSync('git', args, { cwd, encoding: 'utf8', env, timeout: 600_000 });
  const commit = (msg: string) => {
    const r = git(['commit', '-m', msg]);
    return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
  };

  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'wmill-pc-home-'));
    env = { ...process.env, ...GIT_ENV, NO_COLOR: '1', PRE_COMMIT_HOME: join(home, 'pre-commit'), PRE_COMMIT_COLOR: 'never', npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false' };
    // The hook repository: this repository as a fresh clone has it, committed.
    hookRepo = cleanCopy('wmill-pc-hooks-');
    for (const args of [['init', '-q'], ['add', '-A'], ['commit', '-q', '-m', 'wmill']]) expect(git(args, hookRepo).status).toBe(0);
    const rev = git(['rev-parse', 'HEAD'], hookRepo).stdout.trim();
    // A workspace repository using it.
    ws = mkdtempSync(join(tmpdir(), 'wmill-pc-ws-'));
    cpSync(join(REPO, 'examples'), ws, { recursive: true });
    writeFileSync(
      join(ws, '.pre-commit-config.yaml'),
      `repos:\n  - repo: ${hookRepo}\n    rev: ${rev}\n    hooks:\n      - id: wmill-metadata\n      - id: wmill-metadata-all\n`,
    );
    for (const args of [['init', '-q'], ['add', '-A'], ['commit', '-q', '-m', 'workspace']]) expect(git(args).status).toBe(0);
    const install = spawnSync('pre-commit', ['install'], { cwd: ws, encoding: 'utf8', env });
    expect(install.status, install.stderr).toBe(0);
    // Install the hook environment now (wmill from the hook repository), so a failure says so.
    const envs = spawnSync('pre-commit', ['install-hooks'], { cwd: ws, encoding: 'utf8', env, timeout: 600_000 });
    expect(envs.status, `${envs.stdout}${envs.stderr}${readLog(join(home, 'pre-commit/pre-commit.log'))}`).toBe(0);
  }, 900_000);

  afterAll(() => {
    for (const d of [hookRepo, ws, home]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('a commit staging a script whose metadata is stale is refused (exit 3 from the hook), naming the script', () => {
    appendFileSync(join(ws, 'f/examples/disk_report.sh'), '# a comment: the content changed\n');
    expect(git(['add', 'f/examples/disk_report.sh']).status).toBe(0);
    const r = commit('stale');
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/wmill metadata is current\.+Failed/);
    expect(r.out).toContain('exit code: 3');
    expect(r.out).toContain('f/examples/disk_report.sh — content changed');
    expect(git(['log', '--oneline']).stdout.trim().split('\n')).toHaveLength(1);
  });

  it('after `wmill generate-metadata`, the same commit goes through', () => {
    const gen = spawnSync(process.execPath, [BIN, 'generate-metadata', '--yes'], { cwd: ws, encoding: 'utf8', env });
    expect(gen.status, gen.stderr).toBe(0);
    expect(git(['add', '-A']).status).toBe(0);
    const r = commit('fresh');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/wmill metadata is current\.+Passed/);
    expect(r.out).toMatch(/wmill metadata is current \(whole workspace\)\.+Passed/);
  });

  it('a commit touching no item skips both hooks', () => {
    writeFileSync(join(ws, 'NOTES.md'), 'notes\n');
    expect(git(['add', 'NOTES.md']).status).toBe(0);
    const r = commit('notes');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/wmill metadata is current\.+\(no files to check\)Skipped/);
  });

  it('the per-file hook looks at the staged files; the whole-workspace hook also catches a stale item committed earlier', () => {
    // Someone committed a stale script with --no-verify.
    appendFileSync(join(ws, 'f/examples/disk_report.sh'), '# changed again\n');
    expect(git(['add', '-A']).status).toBe(0);
    expect(git(['commit', '-q', '--no-verify', '-m', 'bypass']).status).toBe(0);
    // Now a fresh change to another script, its own metadata regenerated.
    appendFileSync(join(ws, 'f/examples/recent_rows.pg.sql'), '-- a comment\n');
    const gen = spawnSync(process.execPath, [BIN, 'generate-metadata', 'f/examples/recent_rows.pg.sql', '--yes'], { cwd: ws, encoding: 'utf8', env });
    expect(gen.status, gen.stderr).toBe(0);
    expect(git(['add', '-A']).status).toBe(0);
    const r = commit('other');
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/wmill metadata is current\.+Passed/);
    expect(r.out).toMatch(/wmill metadata is current \(whole workspace\)\.+Failed/);
    expect(r.out).toContain('f/examples/disk_report.sh — content changed');
  });
});

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
