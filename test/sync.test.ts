/**
 * Our `sync push` / `sync pull` against `wmill serve`: round trip, agreement with the real
 * windmill-cli in both directions, deletions, --check, saved plans, interrupted pushes, and
 * the tarball fallback (what we read from a real Windmill) giving the same hashes as the
 * manifest.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { startTestServer, type TestServer } from './helpers/server.js';
import { BIN, REPO } from './helpers/workspace.js';
import { readZip } from '../src/items/zip.js';
import { fromTarball } from '../src/sync/remote.js';

const REAL_CLI = join(REPO, 'node_modules/windmill-cli/esm/main.js');

let srv: TestServer;
let tmp: string;

beforeAll(async () => {
  srv = await startTestServer();
  tmp = mkdtempSync(join(tmpdir(), 'wmill-sync-test-'));
}, 120_000);

afterAll(async () => {
  await srv?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  all: string;
}

function runProc(args: string[], cwd: string, env: Record<string, string> = {}, onStderr?: (s: string, kill: () => void) => void): Promise<Run> {
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => {
    stderr += d;
    onStderr?.(stderr, () => child.kill('SIGKILL'));
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      // eslint-disable-next-line no-control-regex
      const strip = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '');
      resolve({ code, stdout: strip(stdout), stderr: strip(stderr), all: strip(stdout) + strip(stderr) });
    }),
  );
}

const ours = (cwd: string, args: string[], ws = 'admins', onStderr?: (s: string, kill: () => void) => void) =>
  runProc([BIN, ...args, '--base-url', srv.url, '--token', srv.token, '--workspace', ws], cwd, {}, onStderr);
const real = (cwd: string, args: string[]) => runProc([REAL_CLI, ...args], cwd, { WMILL_CONFIG_DIR: join(tmp, 'cfg') });

function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      if (name === '.wmill') continue; // our local sync cache
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = readFileSync(p, 'utf8');
    }
  };
  walk(dir);
  return out;
}

async function newWorkspace(id: string): Promise<void> {
  const r = await srv.api.req('POST', '/api/workspaces/create', { id, name: id });
  expect(r.status, r.text).toBe(201);
}

describe('sync push / pull', () => {
  it('push examples, pull into an empty folder: identical files; the real CLI agrees both ways', async () => {
    await newWorkspace('s1');
    const ws = join(tmp, 'ex');
    // The workspace only: examples/ci/ holds CI files, which no pull brings back.
    cpSync(join(REPO, 'examples'), ws, { recursive: true, filter: (src) => !src.startsWith(join(REPO, 'examples/ci')) });
    const push = await ours(ws, ['sync', 'push', '--yes'], 's1');
    expect(push.code, push.all).toBe(0);
    expect(push.stderr).toMatch(/Done: (\d+) of \1 change\(s\) applied/);

    const again = await ours(ws, ['sync', 'push', '--dry-run', '--json-output'], 's1');
    expect(again.code, again.all).toBe(0);
    expect(JSON.parse(again.stdout).plan.changes).toEqual([]);

    const pulled = join(tmp, 'pulled');
    mkdirSync(pulled);
    cpSync(join(ws, 'wmill.yaml'), join(pulled, 'wmill.yaml'));
    const pull = await ours(pulled, ['sync', 'pull', '--yes'], 's1');
    expect(pull.code, pull.all).toBe(0);
    expect(tree(pulled)).toEqual(tree(ws));

    // The real CLI sees nothing to do after our push...
    expect((await real(ws, ['workspace', 'add', 's1', 's1', srv.url, '--token', srv.token])).code).toBe(0);
    const realDry = await real(ws, ['sync', 'push', '--dry-run']);
    expect(realDry.code, realDry.all).toBe(0);
    expect(realDry.all).toContain('0 changes to apply');

    // ...and we see nothing to do after the real CLI pushes edits.
    writeFileSync(join(ws, 'f/examples/disk_report.sh'), `${readFileSync(join(ws, 'f/examples/disk_report.sh'), 'utf8')}# edited by the real CLI\n`);
    writeFileSync(join(ws, 'f/examples/greet.script.yaml'), readFileSync(join(ws, 'f/examples/greet.script.yaml'), 'utf8').replace('Greet someone', 'Greet anyone'));
    const realPush = await real(ws, ['sync', 'push', '--yes']);
    expect(realPush.code, realPush.all).toBe(0);
    const ourDry = await ours(ws, ['sync', 'push', '--dry-run', '--json-output'], 's1');
    expect(JSON.parse(ourDry.stdout).plan.changes).toEqual([]);

    // Our pull of the real CLI's edits into the earlier copy brings exactly those two files.
    const pull2 = await ours(pulled, ['sync', 'pull', '--yes', '--json-output'], 's1');
    expect(pull2.code, pull2.all).toBe(0);
    expect(JSON.parse(pull2.stdout).plan.changes.map((c: any) => `${c.op} ${c.kind} ${c.path}`)).toEqual(['update script f/examples/disk_report', 'update script f/examples/greet']);
    expect(tree(pulled)['f/examples/disk_report.sh']).toContain('# edited by the real CLI');
    const check = await runProc([BIN, 'generate-metadata', '--check'], pulled);
    expect(check.code, check.all).toBe(0);
  }, 240_000);

  it('deletions: each listed, refused off a terminal without --delete, applied with it; --keep-deleted never deletes', async () => {
    await newWorkspace('s2');
    const ws = join(tmp, 'del');
    cpSync(join(REPO, 'examples'), ws, { recursive: true });
    expect((await ours(ws, ['sync', 'push', '--yes'], 's2')).code).toBe(0);
    rmSync(join(ws, 'f/examples/disk_report.sh'));
    rmSync(join(ws, 'f/examples/disk_report.script.yaml'));
    rmSync(join(ws, 'f/examples/greeting_prefix.variable.yaml'));

    const refused = await ours(ws, ['sync', 'push', '--yes'], 's2');
    expect(refused.code).toBe(2);
    expect(refused.stdout).toContain('- script f/examples/disk_report');
    expect(refused.stdout).toContain('- variable f/examples/greeting_prefix');
    expect(refused.stderr).toContain('2 deletion(s) planned');
    expect((await srv.api.as(srv.token).req('GET', '/api/w/s2/scripts/get/p/f/examples/disk_report')).json.archived).toBe(false);

    const kept = await ours(ws, ['sync', 'push', '--yes', '--keep-deleted', '--json-output'], 's2');
    expect(kept.code, kept.all).toBe(0);
    expect(JSON.parse(kept.stdout).plan.changes).toEqual([]);

    const check = await ours(ws, ['sync', 'push', '--check'], 's2');
    expect(check.code).toBe(3);

    const applied = await ours(ws, ['sync', 'push', '--yes', '--delete', '--message', 'cleanup'], 's2');
    expect(applied.code, applied.all).toBe(0);
    const s = await srv.api.req('GET', '/api/w/s2/scripts/get/p/f/examples/disk_report');
    expect(s.json.archived).toBe(true);
    expect((await srv.api.req('GET', '/api/w/s2/variables/get/f/examples/greeting_prefix')).status).toBe(404);
    expect((await ours(ws, ['sync', 'push', '--check'], 's2')).code).toBe(0);
  }, 120_000);

  it('a saved plan is applied as shown, and refused when the remote changed since', async () => {
    await newWorkspace('s3');
    const ws = join(tmp, 'plan');
    cpSync(join(REPO, 'examples'), ws, { recursive: true });
    const planFile = join(tmp, 'plan.json');
    const dry = await ours(ws, ['sync', 'push', '--dry-run', '--plan-out', planFile, '--json-output'], 's3');
    expect(dry.code, dry.all).toBe(0);
    const shown = JSON.parse(dry.stdout).plan;
    expect(JSON.parse(readFileSync(planFile, 'utf8'))).toEqual(shown);
    const apply = await ours(ws, ['sync', 'push', '--yes', '--plan', planFile, '--json-output'], 's3');
    expect(apply.code, apply.all).toBe(0);
    expect(JSON.parse(apply.stdout).plan.changes).toEqual(shown.changes);
    expect(JSON.parse(apply.stdout).applied).toBe(shown.changes.length);

    // Plan an edit, then someone else deploys: the saved plan is refused.
    writeFileSync(join(ws, 'f/examples/disk_report.sh'), `${readFileSync(join(ws, 'f/examples/disk_report.sh'), 'utf8')}# mine\n`);
    expect((await ours(ws, ['sync', 'push', '--dry-run', '--plan-out', planFile], 's3')).code).toBe(0);
    const head = (await srv.api.req('GET', '/api/w/s3/scripts/get/p/f/examples/greet')).json;
    const other = await srv.api.req('POST', '/api/w/s3/scripts/create', { ...head, content: `${head.content}# theirs\n`, parent_hash: head.hash });
    expect(other.status, other.text).toBe(201);
    const stale = await ours(ws, ['sync', 'push', '--yes', '--plan', planFile], 's3');
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('the remote workspace changed since the plan was made');
    expect((await srv.api.req('GET', '/api/w/s3/scripts/get/p/f/examples/disk_report')).json.content).not.toContain('# mine');
  }, 120_000);

  it('a push killed midway and re-run leaves the server equal to the folder', async () => {
    await newWorkspace('s4');
    const ws = join(tmp, 'many');
    mkdirSync(join(ws, 'f/many'), { recursive: true });
    writeFileSync(join(ws, 'wmill.yaml'), 'defaultTs: bun\nincludes:\n  - f/**\nnonDottedPaths: true\n');
    writeFileSync(join(ws, 'f/many/folder.meta.yaml'), 'summary: many\ndisplay_name: many\nextra_perms: {}\nowners: []\n');
    for (let i = 0; i < 150; i++) {
      writeFileSync(join(ws, `f/many/s${i}.sh`), `n="$1"\necho "script ${i} $n"\n`);
      writeFileSync(join(ws, `f/many/s${i}.script.yaml`), `summary: script ${i}\ndescription: ''\nlock: ''\nkind: script\nschema:\n  $schema: https://json-schema.org/draft/2020-12/schema\n  type: object\n  properties: {}\n  required: []\n`);
    }
    let killedAfter = 0;
    const first = await ours(ws, ['sync', 'push', '--yes', '--one-by-one', '--concurrency', '2'], 's4', (s, kill) => {
      const n = (s.match(/^pushed /gm) ?? []).length;
      if (n >= 20 && !killedAfter) {
        killedAfter = n;
        kill();
      }
    });
    expect(first.code).toBeNull(); // killed
    expect(killedAfter).toBeGreaterThanOrEqual(20);
    const mid = await ours(ws, ['sync', 'push', '--dry-run', '--json-output'], 's4');
    const remaining = JSON.parse(mid.stdout).plan.changes.length;
    expect(remaining).toBeGreaterThan(0);
    expect(remaining).toBeLessThan(151);
    const rerun = await ours(ws, ['sync', 'push', '--yes'], 's4');
    expect(rerun.code, rerun.all).toBe(0);
    const after = await ours(ws, ['sync', 'push', '--check'], 's4');
    expect(after.code, after.all).toBe(0);
    const pulled = join(tmp, 'many-pulled');
    mkdirSync(pulled);
    cpSync(join(ws, 'wmill.yaml'), join(pulled, 'wmill.yaml'));
    expect((await ours(pulled, ['sync', 'pull', '--yes'], 's4')).code).toBe(0);
    const a = tree(ws);
    const b = tree(pulled);
    delete b['wmill-lock.yaml'];
    expect(b).toEqual(a);
  }, 180_000);

  it('a push to wmill serve is one transaction: a bad change refuses the whole push, nothing applied', async () => {
    await newWorkspace('s5');
    const ws = join(tmp, 'atomic');
    cpSync(join(REPO, 'examples'), ws, { recursive: true });
    writeFileSync(join(ws, 'f/examples/greet_daily.schedule.yaml'), readFileSync(join(ws, 'f/examples/greet_daily.schedule.yaml'), 'utf8').replace('0 0 8 * * *', '0 61 8 * * *'));
    const bad = await ours(ws, ['sync', 'push', '--yes', '--json-output'], 's5');
    expect(bad.code).toBe(1);
    expect(bad.stdout + bad.stderr).toMatch(/push refused, nothing was applied: change \d+ \(add schedule f\/examples\/greet_daily\): invalid schedule: .*minute 61/);
    const manifest = (await srv.api.req('POST', '/api/w/s5/wmill/sync_manifest', {})).json.items;
    expect(manifest).toEqual([]);
  }, 120_000);

  it('the tarball (what a real Windmill serves) gives the same item hashes as our manifest', async () => {
    const zip = await fetch(`${srv.url}api/w/s1/workspaces/tarball?archive_type=zip&skip_secrets=true&include_schedules=true`, { headers: { authorization: `Bearer ${srv.token}` } });
    expect(zip.status).toBe(200);
    const fromZip = fromTarball(readZip(Buffer.from(await zip.arrayBuffer())));
    const manifest = (await srv.api.req('POST', '/api/w/s1/wmill/sync_manifest', { bodies: false })).json.items;
    const key = (x: any) => `${x.kind}:${x.path}=${x.hash}`;
    expect(fromZip.map(key).sort()).toEqual(manifest.map(key).sort());
  });
});
