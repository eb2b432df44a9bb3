/**
 * `wmill script run|history|redeploy` and `wmill draft ...` against a real `wmill serve`
 * (in-process, one per file), with the CLI as a child process. The CLI is spawned
 * asynchronously: a synchronous spawn would block the server living in this process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from './helpers/server.js';
import { BIN, makeWorkspace, removeDir, type RunResult } from './helpers/workspace.js';

let srv: TestServer;
let cfgDir: string;
let alice: string;
let bob: string;
const dirs: string[] = [];

beforeAll(async () => {
  srv = await startTestServer();
  cfgDir = mkdtempSync(join(tmpdir(), 'wmill-run-cfg-'));
  [alice, bob] = await Promise.all([srv.api.addUser('alice', { is_admin: true }), srv.api.addUser('bob', { is_admin: true })]);
  await Promise.all([
    srv.api.deploy({ path: 'f/run/greet', language: 'bash', content: 'name="$1"\necho "greeting $name"\necho "{\\"greeting\\": \\"hi $name\\"}" > ./result.json\n' }),
    srv.api.deploy({ path: 'f/run/fail', language: 'bash', content: 'echo "about to fail"\nexit 3\n' }),
    srv.api.deploy({ path: 'f/run/slow', language: 'bash', content: 'echo "sleeping"\nsleep 30\necho "woke up"\n' }),
  ]);
}, 120_000);

afterAll(async () => {
  await srv?.close();
  for (const d of [cfgDir, ...dirs]) if (d) removeDir(d);
});

/** Run the built CLI against the test server as the user of `token`. */
function cli(cwd: string, args: string[], opts: { token?: string; onStderr?: (all: string, kill: (s: NodeJS.Signals) => void) => void } = {}): Promise<RunResult> {
  const child = spawn(process.execPath, [BIN, ...args, '--base-url', srv.url, '--token', opts.token ?? srv.token, '--workspace', 'admins'], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', WMILL_CONFIG_DIR: cfgDir, WM_BASE_URL: '', WM_TOKEN: '', WM_WORKSPACE: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => {
    stderr += d;
    opts.onStderr?.(stderr, (s) => child.kill(s));
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`wmill ${args.join(' ')} did not finish: ${stderr}`));
    }, 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
    });
  });
}

function workspace(files: Record<string, string> = {}): string {
  const d = makeWorkspace(files);
  dirs.push(d);
  return d;
}

const here = () => {
  const d = mkdtempSync(join(tmpdir(), 'wmill-run-'));
  dirs.push(d);
  return d;
};

describe('wmill script run', () => {
  it('runs the deployed script with -d: logs on stderr, the result on stdout, exit 0', async () => {
    const dir = here();
    writeFileSync(join(dir, 'args.json'), '{"name":"Cy"}');
    const [r, s, j] = await Promise.all([
      cli(here(), ['script', 'run', 'f/run/greet', '-d', '{"name":"Ada"}']),
      cli(here(), ['script', 'run', 'f/run/greet', '-d', '{"name":"Bo"}', '-s']),
      cli(dir, ['script', 'run', 'f/run/greet', '-d', '@args.json', '--json']),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ greeting: 'hi Ada' });
    expect(r.stderr).toContain('greeting Ada');

    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toBe('{"greeting":"hi Bo"}\n');
    expect(s.stderr).not.toContain('greeting Bo');

    expect(j.code, j.stderr).toBe(0);
    const out = JSON.parse(j.stdout);
    expect(out).toMatchObject({ ok: true, success: true, result: { greeting: 'hi Cy' } });
    expect(out.job_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('a failing script exits 1 with its error', async () => {
    const [r, j] = await Promise.all([cli(here(), ['script', 'run', 'f/run/fail']), cli(here(), ['script', 'run', 'f/run/fail', '--json'])]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: job [0-9a-f-]+ failed: .*exited with code 3/);
    expect(r.stdout).toBe('');
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: false, success: false, result: { error: { message: expect.stringContaining('code 3') } } });
  });

  it('an unknown path and bad -d are bad input (exit 2) with a clear message', async () => {
    const [r, j, bad, arr] = await Promise.all([
      cli(here(), ['script', 'run', 'f/run/nope']),
      cli(here(), ['script', 'run', 'f/run/nope', '--json']),
      cli(here(), ['script', 'run', 'f/run/greet', '-d', '{name: Ada}']),
      cli(here(), ['script', 'run', 'f/run/greet', '-d', '[1]']),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("script 'f/run/nope' not found in workspace admins");
    expect(j.code).toBe(2);
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: false, error: { code: 'usage' } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('invalid JSON in -d');
    expect(arr.code).toBe(2);
    expect(arr.stderr).toContain('must be a JSON object');
  });

  it('Ctrl-C cancels the remote job and exits 130; --timeout cancels and exits 1', async () => {
    let sent = false;
    const r = await cli(here(), ['script', 'run', 'f/run/slow'], {
      onStderr: (all, kill) => {
        if (!sent && all.includes('sleeping')) {
          sent = true;
          kill('SIGINT');
        }
      },
    });
    expect(r.code, r.stderr).toBe(130);
    const id = /job ([0-9a-f-]{36}) submitted/.exec(r.stderr)![1]!;
    // The cancel was requested; the job ends once its process group is gone (later, on a loaded machine).
    await srv.api.waitJob(id, 120_000);
    const job = await srv.api.get(`jobs_u/get/${id}`);
    expect(job.json).toMatchObject({ type: 'CompletedJob', success: false, canceled: true });
    expect(job.json.canceled_reason).toContain('interrupted (SIGINT)');

    const t = await cli(here(), ['script', 'run', 'f/run/slow', '--timeout', '0.5']);
    expect(t.code).toBe(1);
    expect(t.stderr).toMatch(/ran longer than --timeout 0.5s and was canceled/);
  });
});

describe('wmill script history / redeploy', () => {
  const path = 'f/run/versioned';
  it('history lists versions newest first; redeploy of the first hash runs the old code on top of the head', async () => {
    const h1 = await srv.api.deploy({ path, language: 'bash', content: 'echo "old"\n', deployment_message: 'first' });
    const h2 = await srv.api.deploy({ path, language: 'bash', content: 'echo "new"\n', parent_hash: h1, deployment_message: 'second' });

    const [h, text] = await Promise.all([cli(here(), ['script', 'history', path, '--json']), cli(here(), ['script', 'history', path])]);
    expect(h.code, h.stderr).toBe(0);
    const hist = JSON.parse(h.stdout);
    expect(hist.head).toBe(h2);
    expect(hist.versions.map((v: any) => [v.hash, v.message, v.current])).toEqual([
      [h2, 'second', true],
      [h1, 'first', false],
    ]);
    expect(text.stdout.split('\n')[1]).toMatch(new RegExp(`^\\* ${h2} .* admin +second$`));

    const re = await cli(here(), ['script', 'redeploy', path, '--hash', h1, '--json']);
    expect(re.code, re.stderr).toBe(0);
    const r = JSON.parse(re.stdout);
    expect(r).toMatchObject({ ok: true, from: h1, parent: h2, deployed: true });
    expect(r.hash).toMatch(/^[0-9a-f]{16}$/);

    const run = await cli(here(), ['script', 'run', path, '-s']);
    expect(run.stdout.trim()).toBe('"old"');
    const after = JSON.parse((await cli(here(), ['script', 'history', path, '--json'])).stdout);
    expect(after.versions.map((v: any) => v.hash)).toEqual([r.hash, h2, h1]);
    expect(after.versions[0]).toMatchObject({ current: true, message: `Redeploy of version ${h1}` });
    expect((await srv.api.get(`scripts/get/h/${r.hash}`)).json.parent_hashes).toEqual([h2, h1]);

    const missing = await cli(here(), ['script', 'redeploy', path, '--hash', '0123456789abcdef']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no version 0123456789abcdef');
  });
});

describe('wmill draft', () => {
  const path = 'f/drafts/shared';
  const file = 'f/drafts/shared.sh';
  let base: string;

  it("two users' drafts of the same path do not overwrite each other", async () => {
    base = await srv.api.deploy({ path, language: 'bash', content: 'echo "deployed"\n', deployment_message: 'base' });
    const a = workspace({ [file]: 'echo "alice"\n', 'f/drafts/shared.script.yaml': 'summary: from alice\ndescription: ""\nlock: ""\nkind: script\n' });
    const b = workspace({ [file]: 'echo "bob"\n' });
    const pa = await cli(a, ['draft', 'push', file, '--json'], { token: alice });
    expect(pa.code, pa.stderr).toBe(0);
    expect(JSON.parse(pa.stdout)).toMatchObject({ ok: true, path, parent_hash: base, replaced: false });
    const pb = await cli(b, ['draft', 'push', file], { token: bob });
    expect(pb.code, pb.stderr).toBe(0);
    expect(pb.stdout).toContain(`Saved your draft of ${path}`);

    const [saR, sb, allR, diffR] = await Promise.all([
      cli(a, ['draft', 'show', path, '--json'], { token: alice }),
      cli(b, ['draft', 'show', path], { token: bob }),
      cli(a, ['draft', 'list', '--all', '--json'], { token: alice }),
      cli(a, ['draft', 'diff', path, '--json'], { token: alice }),
    ]);
    const sa = JSON.parse(saR.stdout);
    expect(sa.value).toMatchObject({ path, content: 'echo "alice"\n', summary: 'from alice', language: 'bash', parent_hash: base });
    expect(sb.stdout).toBe('echo "bob"\n');

    const all = JSON.parse(allR.stdout);
    expect(all.drafts.filter((d: any) => d.path === path).map((d: any) => [d.username, d.mine]).sort()).toEqual([
      ['alice', true],
      ['bob', false],
    ]);
    const diff = JSON.parse(diffR.stdout);
    expect(diff).toMatchObject({ deployed_version: base, draft_base: base, deployed_changed_since_draft: false });
    expect(diff.changed_fields).toEqual(expect.arrayContaining(['content', 'summary']));
    // the deployed version is untouched
    expect((await srv.api.get(`scripts/get/p/${path}`)).json.hash).toBe(base);
  });

  it('a save with a stale last_sync is refused (exit 1, suggests --force); --force overrides', async () => {
    const a1 = workspace({ [file]: 'echo "alice"\n' });
    const a2 = workspace({ [file]: 'echo "alice from another copy"\n' });
    // a copy that never synced this draft, over a different saved draft: refused too
    const fresh = await cli(a2, ['draft', 'push', file], { token: alice });
    expect(fresh.code).toBe(1);
    expect(fresh.stderr).toContain('--force');
    expect((await cli(a1, ['draft', 'push', file, '--force'], { token: alice })).code).toBe(0);
    expect((await cli(a2, ['draft', 'push', file, '--force'], { token: alice })).code).toBe(0);
    // a1's remembered timestamp is now older than the saved draft
    const stale = await cli(a1, ['draft', 'push', file], { token: alice });
    expect(stale.code).toBe(1);
    expect(stale.stderr.trim().split('\n')).toHaveLength(1);
    expect(stale.stderr).toMatch(/saved elsewhere at .*after this copy last synced it.*--force/);
    const explicit = await cli(a1, ['draft', 'push', file, '--last-sync', '2000-01-01T00:00:00Z'], { token: alice });
    expect(explicit.code).toBe(1);
    const own = async () => (await srv.api.as(alice).get(`drafts/get_own/script/${path}`)).json.value;
    expect((await own()).content).toBe('echo "alice from another copy"\n');
    const forced = await cli(a1, ['draft', 'push', file, '--force'], { token: alice });
    expect(forced.code, forced.stderr).toBe(0);
    expect((await own()).content).toBe('echo "alice"\n');
    // and the next plain save from a1 goes through (its timestamp was remembered)
    expect((await cli(a1, ['draft', 'push', file], { token: alice })).code).toBe(0);
    // the draft keeps the version it started from
    expect((await own()).parent_hash).toBe(base);
  });

  it('deploying a draft after someone else deployed fails with the lineage error; --auto-parent deploys on top', async () => {
    const bobDir = here();
    const dep = await cli(bobDir, ['draft', 'deploy', path, '--message', 'bob ships', '--json'], { token: bob });
    expect(dep.code, dep.stderr).toBe(0);
    const bobHash = JSON.parse(dep.stdout).hash;
    expect(JSON.parse(dep.stdout)).toMatchObject({ parent_hash: base });
    // bob's draft is gone, alice's is kept
    expect((await cli(bobDir, ['draft', 'show', path], { token: bob })).code).toBe(2);

    const d = here();
    const diff = await cli(d, ['draft', 'diff', path], { token: alice });
    expect(diff.code, diff.stderr).toBe(0);
    expect(diff.stderr).toContain(`was deployed since your draft started (draft based on ${base}, deployed now ${bobHash})`);
    expect(diff.stdout).toContain('-echo "bob"');
    expect(diff.stdout).toContain('+echo "alice"');

    const stale = await cli(d, ['draft', 'deploy', path], { token: alice });
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('someone deployed it since your draft started');
    expect(stale.stderr).toContain('lineage must be linear');
    expect(stale.stderr).toContain(`wmill draft diff ${path}`);
    expect(stale.stderr).toContain('--auto-parent');
    expect((await srv.api.get(`scripts/get/p/${path}`)).json.hash).toBe(bobHash);

    const ok = await cli(d, ['draft', 'deploy', path, '--auto-parent', '--message', 'alice ships'], { token: alice });
    expect(ok.code, ok.stderr).toBe(0);
    const head = (await srv.api.get(`scripts/get/p/${path}`)).json;
    expect(head.parent_hashes[0]).toBe(bobHash);
    expect((await cli(d, ['script', 'run', path, '-s'])).stdout.trim()).toBe('"alice"');
    expect((await srv.api.get(`scripts/history/p/${path}`)).json.map((v: any) => v.deployment_msg)).toEqual(['alice ships', 'bob ships', 'base']);
    expect((await srv.api.as(alice).get('drafts/list')).json).toEqual([]);
  });
});
