/**
 * Nothing outside the sync root is read (issue 13, item 4): `!inline` references that climb out
 * with `..`, absolute paths, and symlinks (of a file, or of a folder on the way) whose real
 * target is outside are refused with exit 2 and one line naming the file and the reference,
 * before anything is applied; the outside file's content appears nowhere. Checked on
 * `sync push` (against a real `wmill serve` in this process), `draft push`,
 * `generate-metadata` and `flow preview`, and on the resolver itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startTestServer, type TestServer } from './helpers/server.js';
import { BIN } from './helpers/workspace.js';
import { resolveInRoot } from '../src/util/safe-read.js';
import { WmillError } from '../src/errors.js';

const SECRET = 'TOPSECRET-4b1d-outside-the-root';

let srv: TestServer;
let tmp: string;
let outside: string;

beforeAll(async () => {
  srv = await startTestServer({ workers: 0 });
  tmp = mkdtempSync(join(tmpdir(), 'wmill-root-'));
  outside = join(tmp, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.txt'), `${SECRET}\n`);
  writeFileSync(join(outside, 'evil.ts'), `export async function main() { return "${SECRET}" }\n`);
}, 120_000);

afterAll(async () => {
  await srv?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function run(cwd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

let n = 0;
/** A workspace folder under tmp (beside `outside/`) with a harmless script, plus `files`. */
function workspace(files: Record<string, string>, links: Record<string, string> = {}): string {
  const dir = join(tmp, `ws${++n}`);
  mkdirSync(dir);
  const all = { 'wmill.yaml': 'defaultTs: bun\nincludes:\n  - f/**\n', 'f/a/ok.sh': 'echo ok\n', ...files };
  for (const [rel, text] of Object.entries(all)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  for (const [rel, target] of Object.entries(links)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    symlinkSync(target, join(dir, rel));
  }
  return dir;
}

async function newWorkspace(): Promise<string> {
  const id = `root${n}x${Math.floor(Math.random() * 1e6)}`;
  const r = await srv.api.req('POST', '/api/workspaces/create', { id, name: id });
  expect(r.status, r.text).toBe(201);
  return id;
}

const remote = (ws: string) => ['--base-url', srv.url, '--token', srv.token, '--workspace', ws];

/** Exit 2, one error line naming `file` and `ref`, the secret nowhere. */
function expectRefused(r: { code: number | null; stdout: string; stderr: string }, file: string, ref: string, why: RegExp): void {
  const text = r.stdout + r.stderr;
  expect(r.code, text).toBe(2);
  expect(text).not.toContain(SECRET);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
  expect(errors, text).toHaveLength(1);
  expect(errors[0]).toContain(file);
  expect(errors[0]).toContain(ref);
  expect(errors[0]).toMatch(why);
  expect(errors[0]).not.toMatch(/does not exist/);
}

async function nothingOnServer(ws: string): Promise<void> {
  for (const what of ['scripts/list', 'resources/list', 'flows/list', 'variables/list']) {
    const r = await srv.api.req('GET', `/api/w/${ws}/${what}`);
    expect(r.status, r.text).toBe(200);
    expect(r.json, `${what} on ${ws}`).toEqual([]);
  }
}

describe('sync push reads nothing outside the sync root', () => {
  const cases: { name: string; files: Record<string, string>; links?: (dir: string) => Record<string, string>; file: string; ref: string; why: RegExp }[] = [
    {
      name: "a resource's !inline climbing out with ..",
      files: { 'f/a/cert.resource.yaml': "resource_type: any\nvalue:\n  pem: '!inline ../../../etc/passwd'\n" },
      file: 'f/a/cert.resource.yaml',
      ref: '!inline ../../../etc/passwd',
      why: /outside the sync root/,
    },
    {
      name: "a resource's !inline of a sibling folder of the root",
      files: { 'f/a/cert.resource.yaml': "resource_type: any\nvalue:\n  pem: '!inline ../outside/secret.txt'\n" },
      file: 'f/a/cert.resource.yaml',
      ref: '!inline ../outside/secret.txt',
      why: /outside the sync root/,
    },
    {
      name: "a script's lock: '!inline ../..'",
      files: { 'f/a/s.sh': 'echo s\n', 'f/a/s.script.yaml': "summary: ''\ndescription: ''\nlock: '!inline ../..'\nkind: script\nschema: {}\n" },
      file: 'f/a/s.script.yaml',
      ref: '!inline ../..',
      why: /outside the sync root/,
    },
    {
      name: "a flow step's content climbing out of the flow folder",
      files: {
        'f/a/fl__flow/flow.yaml': "summary: x\nvalue:\n  modules:\n    - id: a\n      value:\n        type: rawscript\n        language: bun\n        content: '!inline ../../../../outside/evil.ts'\n        input_transforms: {}\nschema: {}\n",
      },
      file: 'f/a/fl__flow/flow.yaml',
      ref: '!inline ../../../../outside/evil.ts',
      why: /outside the sync root/,
    },
    {
      name: 'an absolute !inline path (was: "which does not exist")',
      files: {},
      // Written below with the real absolute path of the secret.
      file: 'f/a/abs.resource.yaml',
      ref: '!inline /',
      why: /absolute path/,
    },
    {
      name: 'a symlinked script pointing outside',
      files: {},
      links: (dir) => ({ 'f/a/link.ts': join(dir, '..', 'outside', 'evil.ts') }),
      file: 'f/a/link.ts',
      ref: 'f/a/link.ts',
      why: /symlink to .*outside the sync root/,
    },
    {
      name: 'an !inline through a symlinked folder pointing outside',
      files: { 'f/a/r.resource.yaml': "resource_type: any\nvalue:\n  pem: '!inline f/a/shared/secret.txt'\n" },
      links: (dir) => ({ 'f/a/shared': join(dir, '..', 'outside') }),
      file: 'f/a/r.resource.yaml',
      ref: '!inline f/a/shared/secret.txt',
      why: /symlink to .*outside the sync root/,
    },
    {
      name: 'an !inline naming a folder',
      files: { 'f/a/r.resource.yaml': "resource_type: any\nvalue:\n  pem: '!inline f/a'\n" },
      file: 'f/a/r.resource.yaml',
      ref: '!inline f/a',
      why: /a folder, not a regular file/,
    },
  ];
  for (const c of cases) {
    it(`refuses ${c.name}; nothing is pushed`, async () => {
      const files = { ...c.files };
      if (c.file === 'f/a/abs.resource.yaml') files[c.file] = `resource_type: any\nvalue:\n  pem: '!inline ${join(outside, 'secret.txt')}'\n`;
      const dir = workspace(files);
      for (const [rel, target] of Object.entries(c.links?.(dir) ?? {})) symlinkSync(target, join(dir, rel));
      const ws = await newWorkspace();
      const r = await run(dir, ['sync', 'push', '--yes', ...remote(ws)]);
      expectRefused(r, c.file, c.ref, c.why);
      await nothingOnServer(ws);
    }, 120_000);
  }

  it('a symlink that stays inside the root is followed, and pushed', async () => {
    const dir = workspace({ 'f/a/real.txt': 'inside\n', 'f/a/r.resource.yaml': "resource_type: any\nvalue:\n  pem: '!inline f/a/alias.txt'\n" }, { 'f/a/alias.txt': 'real.txt' });
    const ws = await newWorkspace();
    const r = await run(dir, ['sync', 'push', '--yes', ...remote(ws)]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const res = await srv.api.req('GET', `/api/w/${ws}/resources/get/f/a/r`);
    expect(res.json?.value).toEqual({ pem: 'inside\n' });
  }, 120_000);
});

describe('sync pull writes nothing through a symlink out of the root', () => {
  /** A workspace on the server with scripts f/a/fine and f/out/s, and a local folder where f/out links out. */
  async function setup(link: (dir: string, target: string) => void) {
    const ws = await newWorkspace();
    for (const [path, content] of [['f/a/fine', 'echo fine\n'], ['f/out/s', 'echo pulled\n']]) {
      const r = await srv.api.req('POST', `/api/w/${ws}/scripts/create`, { path, content, language: 'bash', summary: '', description: '' });
      expect(r.status, r.text).toBe(201);
    }
    const dir = join(tmp, `pull${++n}`);
    mkdirSync(join(dir, 'f'), { recursive: true });
    writeFileSync(join(dir, 'wmill.yaml'), 'defaultTs: bun\nincludes:\n  - f/**\n');
    const target = mkdtempSync(join(tmp, 'pull-target-'));
    link(dir, target);
    return { ws, dir, target };
  }

  it('a linked folder leading outside: refused (exit 2, naming the file and the link), nothing written anywhere', async () => {
    const { ws, dir, target } = await setup((dir, target) => symlinkSync(target, join(dir, 'f/out')));
    const r = await run(dir, ['sync', 'pull', '--yes', ...remote(ws)]);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(errors, r.stderr).toHaveLength(1);
    expect(errors[0]).toContain('f/out/s.sh');
    expect(errors[0]).toMatch(/symlink f\/out to .*outside the sync root/);
    expect(readdirSync(target)).toEqual([]);
    // Nothing half-written: not even the item that was fine.
    expect(existsSync(join(dir, 'f/a'))).toBe(false);
  }, 120_000);

  it('a linked file leading outside (dangling or not): refused, the outside untouched', async () => {
    const { ws, dir, target } = await setup((dir, target) => {
      mkdirSync(join(dir, 'f/out'));
      symlinkSync(join(target, 's.script.yaml'), join(dir, 'f/out/s.script.yaml'));
    });
    const r = await run(dir, ['sync', 'pull', '--yes', ...remote(ws)]);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(/error: f\/out\/s\.script\.yaml: would be written through the symlink f\/out\/s\.script\.yaml/);
    expect(readdirSync(target)).toEqual([]);
  }, 120_000);

  it('a link that stays inside the root is written through', async () => {
    const { ws, dir } = await setup((dir) => {
      mkdirSync(join(dir, 'f/real'));
      symlinkSync('real', join(dir, 'f/out'));
    });
    const r = await run(dir, ['sync', 'pull', '--yes', ...remote(ws)]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(readFileSync(join(dir, 'f/real/s.sh'), 'utf8')).toBe('echo pulled\n');
  }, 120_000);
});

describe('the other commands that follow file references', () => {
  it('draft push refuses a lock !inline outside the root, and a symlinked script', async () => {
    const dir = workspace({ 'f/a/s.sh': 'echo s\n', 'f/a/s.script.yaml': "summary: ''\nlock: '!inline ../outside/secret.txt'\n" }, { 'f/a/l.ts': join(outside, 'evil.ts') });
    const ws = await newWorkspace();
    expectRefused(await run(dir, ['draft', 'push', 'f/a/s.sh', ...remote(ws)]), 'f/a/s.script.yaml', '!inline ../outside/secret.txt', /outside the sync root/);
    expectRefused(await run(dir, ['draft', 'push', 'f/a/l.ts', ...remote(ws)]), 'f/a/l.ts', 'f/a/l.ts', /symlink/);
    const drafts = await srv.api.req('GET', `/api/w/${ws}/drafts/list?all_users=true`);
    expect(drafts.status, drafts.text).toBe(200);
    expect(drafts.json).toEqual([]);
  }, 120_000);

  it('generate-metadata refuses a symlinked script and writes nothing', async () => {
    const dir = workspace({}, { 'f/a/l.ts': join(outside, 'evil.ts') });
    expectRefused(await run(dir, ['generate-metadata', '--yes']), 'f/a/l.ts', 'f/a/l.ts', /symlink/);
    expect(existsSync(join(dir, 'wmill-lock.yaml'))).toBe(false);
    expect(existsSync(join(dir, 'f/a/ok.script.yaml'))).toBe(false);
  }, 120_000);

  it('flow preview refuses a step whose content climbs out', async () => {
    const dir = workspace({
      'f/a/fl__flow/flow.yaml': "summary: x\nvalue:\n  modules:\n    - id: a\n      value:\n        type: rawscript\n        language: bun\n        content: '!inline ../../../../outside/evil.ts'\n        input_transforms: {}\nschema: {}\n",
    });
    expectRefused(await run(dir, ['flow', 'preview', 'f/a/fl__flow']), 'f/a/fl__flow/flow.yaml', '!inline ../../../../outside/evil.ts', /outside the sync root/);
  }, 120_000);

  it('sync push --plan with a malformed plan file: exit 2, the file and the line', async () => {
    const dir = workspace({});
    const ws = await newWorkspace();
    writeFileSync(join(dir, 'plan.json'), '{\n  "version": 1,\n  "changes": [1,, 2]\n}\n');
    const r = await run(dir, ['sync', 'push', '--yes', '--plan', 'plan.json', ...remote(ws)]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('error:'))).toEqual([expect.stringContaining('plan.json:3: ')]);
    await nothingOnServer(ws);
  }, 120_000);
});

describe('resolveInRoot', () => {
  const refusal = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(WmillError);
      expect((e as WmillError).exitCode).toBe(2);
      return (e as Error).message;
    }
    throw new Error('not refused');
  };

  it('refuses escapes, absolute paths, outside links and non-files; allows what stays inside', () => {
    const root = workspace({ 'f/a/x.txt': 'x\n', 'f/b/y.txt': 'y\n' }, { 'f/a/in.txt': '../b/y.txt', 'f/a/out': join(outside, 'secret.txt'), 'f/a/dangling': join(tmp, 'nope') });
    const site = { from: 'f/a/r.resource.yaml', ref: '!inline ref' };
    expect(resolveInRoot(root, 'f/a', 'x.txt', site)).toBe(join(root, 'f/a/x.txt'));
    expect(resolveInRoot(root, 'f/a', '../b/y.txt', site)).toBe(join(root, 'f/b/y.txt'));
    expect(resolveInRoot(root, 'f/a', './in.txt', site)).toBe(join(root, 'f/a/in.txt'));
    expect(resolveInRoot(root, '', 'f/a/missing.txt', site)).toBe(join(root, 'f/a/missing.txt'));
    expect(resolveInRoot(root, '', 'f/a/dangling', site)).toBe(join(root, 'f/a/dangling'));
    expect(refusal(() => resolveInRoot(root, 'f/a', '../../../x', site))).toMatch(/^f\/a\/r\.resource\.yaml: '!inline ref' points outside the sync root \(to \.\.\/x\)/);
    expect(refusal(() => resolveInRoot(root, 'f', 'a/../../..', site))).toMatch(/outside the sync root/);
    expect(refusal(() => resolveInRoot(root, '', '/etc/passwd', site))).toMatch(/absolute path/);
    expect(refusal(() => resolveInRoot(root, '', 'C:\\Windows\\win.ini', site))).toMatch(/absolute path/);
    expect(refusal(() => resolveInRoot(root, 'f/a', 'out', site))).toMatch(/symlink to .*secret\.txt, outside the sync root/);
    expect(refusal(() => resolveInRoot(root, '', 'f/a/out'))).toMatch(/^f\/a\/out: is a symlink/);
    expect(refusal(() => resolveInRoot(root, '', 'f', site))).toMatch(/a folder, not a regular file/);
    expect(refusal(() => resolveInRoot(root, '', 'f/a/x\0.txt', site))).toMatch(/NUL/);
    const fifo = join(root, 'f/a/pipe');
    if (spawnSync('mkfifo', [fifo]).status === 0) expect(refusal(() => resolveInRoot(root, '', 'f/a/pipe', site))).toMatch(/special file/);
    // The root itself reached through a symlink: its real path is what counts.
    const linkedRoot = join(tmp, `linked-root-${n}`);
    symlinkSync(root, linkedRoot);
    expect(resolveInRoot(linkedRoot, 'f/a', 'x.txt', site)).toBe(join(linkedRoot, 'f/a/x.txt'));
    expect(readFileSync(resolveInRoot(linkedRoot, 'f/a', 'in.txt', site), 'utf8')).toBe('y\n');
  });
});
