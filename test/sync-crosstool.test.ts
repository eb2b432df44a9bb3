/**
 * Round trips between our sync and the real windmill-cli (node_modules/windmill-cli) through
 * `wmill serve`, for scripts with locks (trailing newlines kept), flows with inline scripts and
 * locks, resources, variables, schedules and secrets (plainSecrets and encrypted): what one tool
 * pushes, the other pulls into byte-identical files (wmill-lock.yaml included), both ways.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Api, startTestServer, type TestServer } from './helpers/server.js';
import { ours as oursAt, real as realAt, runNode, tree } from './helpers/sync.js';
import { BIN, REPO } from './helpers/workspace.js';

process.env.WMILL_TX_GUARD = '1';

let srv: TestServer;
let tmp: string;

beforeAll(async () => {
  srv = await startTestServer({ workers: 0 });
  tmp = mkdtempSync(join(tmpdir(), 'wmill-crosstool-'));
}, 120_000);

afterAll(async () => {
  await srv?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const ours = (cwd: string, args: string[], ws: string) => oursAt(cwd, args, { url: srv.url, token: srv.token, ws });
const profiles = new Set<string>();
/** The real CLI, with a profile of its own for workspace `ws` (one config folder per workspace). */
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

function emptyFolder(wmillYaml: string): string {
  const dir = mkdtempSync(join(tmp, 'ws-'));
  writeFileSync(join(dir, 'wmill.yaml'), wmillYaml);
  return dir;
}

const PY_LOCK = 'requests==2.31.0\ncertifi==2024.2.2\n';
const BUN_LOCK = '{"dependencies": {}}\n//bun.lock\n{\n  "lockfileVersion": 1\n}\n';
const FLOW_LOCK = 'pandas==2.2.0\n';

/** The example workspace, plus locks (with trailing newlines) on scripts and a flow step, and a schedule. */
function source(wmillYaml: string, extra: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmp, 'src-'));
  cpSync(join(REPO, 'examples'), dir, { recursive: true });
  rmSync(join(dir, 'wmill-lock.yaml'));
  writeFileSync(join(dir, 'wmill.yaml'), wmillYaml);
  const ex = (rel: string) => join(dir, 'f/examples', rel);
  const withLock = (meta: string, lockFile: string, lock: string) => {
    writeFileSync(ex(meta), readFileSync(ex(meta), 'utf8').replace("lock: ''", `lock: '!inline f/examples/${lockFile}'`));
    writeFileSync(ex(lockFile), lock);
  };
  withLock('greet.script.yaml', 'greet.script.lock', PY_LOCK);
  withLock('word_stats.script.yaml', 'word_stats.script.lock', BUN_LOCK);
  const flow = ex('etl__flow/flow.yaml');
  writeFileSync(flow, readFileSync(flow, 'utf8').replace("        language: python3\n", "        language: python3\n        lock: '!inline extract.lock'\n"));
  writeFileSync(ex('etl__flow/extract.lock'), FLOW_LOCK);
  for (const [rel, text] of Object.entries(extra)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

describe('round trips with the real windmill-cli', () => {
  it('plainSecrets: ours pushes, the real CLI pulls the same files; the real CLI pushes, ours pulls the same files', async () => {
    const yaml = 'defaultTs: bun\nincludes:\n  - f/**\nskipSecrets: false\nplainSecrets: true\nincludeSchedules: true\nnonDottedPaths: true\n';
    const src = source(yaml, { 'f/examples/api_key.variable.yaml': "description: ''\nvalue: hunter2\nis_secret: true\n" });

    // The canonical folder: what both tools pull after our push of the hand-written one.
    await newWorkspace('x1');
    const first = await ours(src, ['sync', 'push', '--yes'], 'x1');
    expect(first.code, first.all).toBe(0);
    const canon = emptyFolder(yaml);
    const ourPull = await ours(canon, ['sync', 'pull', '--yes'], 'x1');
    expect(ourPull.code, ourPull.all).toBe(0);
    const realCanon = emptyFolder(yaml);
    const realPull = await real(realCanon, ['sync', 'pull', '--yes'], 'x1');
    expect(realPull.code, realPull.all).toBe(0);
    expect(tree(realCanon)).toEqual(tree(canon));
    // Locks keep their bytes, secrets their plaintext.
    const c = tree(canon);
    expect(c['f/examples/greet.script.lock']).toBe(PY_LOCK);
    expect(c['f/examples/word_stats.script.lock']).toBe(BUN_LOCK);
    expect(c['f/examples/etl__flow/extract.lock']).toBe(FLOW_LOCK);
    expect(c['f/examples/api_key.variable.yaml']).toBe("description: ''\nvalue: hunter2\nis_secret: true\n");
    expect(Object.keys(c)).toContain('f/examples/greet_daily.schedule.yaml');
    expect(Object.keys(c)).toContain('wmill-lock.yaml');

    // Ours → real.
    const api2 = await newWorkspace('x2');
    const push2 = await ours(canon, ['sync', 'push', '--yes'], 'x2');
    expect(push2.code, push2.all).toBe(0);
    const r2 = emptyFolder(yaml);
    const pull2 = await real(r2, ['sync', 'pull', '--yes'], 'x2');
    expect(pull2.code, pull2.all).toBe(0);
    expect(tree(r2)).toEqual(tree(canon));
    expect((await api2.get('variables/get/f/examples/api_key?decrypt_secret=true')).json.value).toBe('hunter2');

    // Real → ours.
    const api3 = await newWorkspace('x3');
    const push3 = await real(canon, ['sync', 'push', '--yes'], 'x3');
    expect(push3.code, push3.all).toBe(0);
    const o3 = emptyFolder(yaml);
    const pull3 = await ours(o3, ['sync', 'pull', '--yes'], 'x3');
    expect(pull3.code, pull3.all).toBe(0);
    expect(tree(o3)).toEqual(tree(canon));
    expect((await api3.get('variables/get/f/examples/api_key?decrypt_secret=true')).json.value).toBe('hunter2');

    // And each sees nothing left to do after the other.
    expect((await ours(canon, ['sync', 'push', '--check'], 'x3')).code).toBe(0);
    const realDry = await real(canon, ['sync', 'push', '--dry-run'], 'x2');
    expect(realDry.all).toContain('0 changes to apply');
  }, 300_000);

  it('encrypted secrets: both tools write the same ciphertext, and pushing it back leaves the value as it was', async () => {
    const yaml = 'defaultTs: bun\nincludes:\n  - f/**\nskipSecrets: false\nincludeSchedules: true\nnonDottedPaths: true\n';
    const api = await newWorkspace('e1');
    expect((await api.post('variables/create', { path: 'f/examples/api_key', value: 'hunter2', is_secret: true, description: 'the key' })).status).toBe(201);
    const src = source(yaml);
    const push = await ours(src, ['sync', 'push', '--yes', '--keep-deleted'], 'e1');
    expect(push.code, push.all).toBe(0);

    const canon = emptyFolder(yaml);
    expect((await ours(canon, ['sync', 'pull', '--yes'], 'e1')).code).toBe(0);
    const ct = tree(canon)['f/examples/api_key.variable.yaml']!;
    expect(ct).toMatch(/^description: the key\nvalue: [A-Za-z0-9+/]+=*\nis_secret: true\n$/);
    expect(ct).not.toContain('hunter2');
    const realCanon = emptyFolder(yaml);
    const realPull = await real(realCanon, ['sync', 'pull', '--yes'], 'e1');
    expect(realPull.code, realPull.all).toBe(0);
    expect(tree(realCanon)).toEqual(tree(canon));

    // Ours → real: an edit pushed by us (the ciphertext goes back as it is), pulled by the real CLI.
    writeFileSync(join(canon, 'f/examples/disk_report.sh'), `${readFileSync(join(canon, 'f/examples/disk_report.sh'), 'utf8')}# ours\n`);
    expect((await runNode([BIN, 'generate-metadata', 'rehash'], canon)).code).toBe(0);
    const p1 = await ours(canon, ['sync', 'push', '--yes'], 'e1');
    expect(p1.code, p1.all).toBe(0);
    expect(p1.stdout).not.toContain('variable f/examples/api_key');
    const r1 = emptyFolder(yaml);
    expect((await real(r1, ['sync', 'pull', '--yes'], 'e1')).code).toBe(0);
    expect(tree(r1)).toEqual(tree(canon));

    // Real → ours.
    writeFileSync(join(r1, 'f/examples/disk_report.sh'), `${readFileSync(join(r1, 'f/examples/disk_report.sh'), 'utf8')}# real\n`);
    expect((await runNode([BIN, 'generate-metadata', 'rehash'], r1)).code).toBe(0);
    const p2 = await real(r1, ['sync', 'push', '--yes'], 'e1');
    expect(p2.code, p2.all).toBe(0);
    const o2 = emptyFolder(yaml);
    expect((await ours(o2, ['sync', 'pull', '--yes'], 'e1')).code).toBe(0);
    expect(tree(o2)).toEqual(tree(r1));
    expect((await api.get('variables/get/f/examples/api_key?decrypt_secret=true')).json.value).toBe('hunter2');
  }, 300_000);
});
