/**
 * `wmill script preview`: the command in-process (preview()) and the built CLI end to end
 * (`node bin/wmill.mjs script preview ...`), with real child processes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { preview, type PreviewOptions } from '../src/commands/preview.js';
import { scriptSchema } from '../src/metadata/script-schema.js';
import { scriptHash } from '../src/metadata/hash.js';
import { WmillError } from '../src/errors.js';
import { BIN, REPO, makeWorkspace, removeDir, wmill } from './helpers/workspace.js';
import { alive, waitForLines } from './helpers/processes.js';

const FIXTURES = join(REPO, 'test/fixtures');

function workspace(extra: Record<string, string> = {}): string {
  const ws = makeWorkspace({
    'f/fx/greeting.variable.yaml': 'description: ""\nis_secret: false\nvalue: hi from a variable\n',
    'f/fx/svc.resource.yaml': 'resource_type: c_svc\nvalue:\n  user: alice\n  greeting: $var:f/fx/greeting\n',
    ...extra,
  });
  mkdirSync(join(ws, 'f/fx'), { recursive: true });
  for (const f of readdirSync(FIXTURES)) if (f.startsWith('preview_')) copyFileSync(join(FIXTURES, f), join(ws, 'f/fx', f));
  return ws;
}

function io(cwd: string, stdin = '') {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    io: {
      cwd,
      stdout: (s: string) => void (out.stdout += s),
      stderr: (s: string) => void (out.stderr += s),
      readStdin: async () => stdin,
    },
  };
}

async function usageError(p: Promise<unknown>): Promise<WmillError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(WmillError);
    expect((e as WmillError).exitCode).toBe(2);
    return e as WmillError;
  }
  throw new Error('expected a usage error');
}

describe('script preview (in-process)', () => {
  let ws: string;
  beforeAll(() => {
    ws = workspace();
  });
  afterAll(() => removeDir(ws));

  const run = async (file: string, opts: PreviewOptions, stdin = '') => {
    const t = io(ws, stdin);
    const code = await preview(file, opts, t.io);
    return { code, ...t.out };
  };

  it('TypeScript: result as pretty JSON on stdout, logs on stderr, defaults from the inferred schema', async () => {
    const r = await run('f/fx/preview_add.ts', { data: '{"a": 2}' });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ label: 'sum', total: 12, big: (2n ** 70n).toString() });
    expect(r.stdout).toContain('\n  "label"');
    expect(r.stderr).toContain('adding 2 and 10');
  });

  it('Python: -s prints compact JSON and no logs', async () => {
    const r = await run('f/fx/preview_greet.py', { data: '{"name": "bo", "times": 1}', silent: true });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('{"text":"hello bo","times":1,"year":null}\n');
    expect(r.stderr).toBe('');
  });

  it('Bash: arguments from -d @file', async () => {
    const f = join(ws, 'args.json');
    writeFileSync(f, '{"name": "zed", "count": 4, "data": "d"}');
    const r = await run('f/fx/preview_args.sh', { data: '@args.json' });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toBe('zed x 4');
  });

  it('arguments from stdin with -d @-, and --json wraps the result', async () => {
    const r = await run('f/fx/preview_json.sh', { data: '@-', json: true }, '{"n": 3}');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ ok: true, result: { n: 3, ok: true }, job: { status: 'success' } });
    expect(j.job.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
    expect(typeof j.job.duration_ms).toBe('number');
  });

  it('windmill-client in a workspace without node_modules reads a resource and a variable', async () => {
    expect(existsSync(join(ws, 'node_modules'))).toBe(false);
    const r = await run('f/fx/preview_sdk.ts', { data: '{"resPath": "f/fx/svc", "varPath": "f/fx/greeting"}' });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      resource: { user: 'alice', greeting: 'hi from a variable' },
      variable: 'hi from a variable',
    });
  });

  it('a wrong argument type is a usage error naming the argument, and nothing runs', async () => {
    const e = await usageError(run('f/fx/preview_add.ts', { data: '{"a": "nope"}' }));
    expect(e.message).toBe(`argument 'a' must be a number, got "nope" (a string)`);
    expect(e.meta.arg).toBe('a');
    const e2 = await usageError(run('f/fx/preview_greet.py', { data: '{"name": "x", "times": "nope"}' }));
    expect(e2.message).toContain("argument 'times' must be an integer");
  });

  it('a missing required argument, bad JSON, a non-object, an unknown file, a metadata file, an unsupported language', async () => {
    expect((await usageError(run('f/fx/preview_add.ts', {}))).message).toContain("missing required argument 'a'");
    expect((await usageError(run('f/fx/preview_add.ts', { data: '{a' }))).message).toMatch(/^invalid JSON in -d/);
    expect((await usageError(run('f/fx/preview_add.ts', { data: '[1]' }))).message).toContain('must be a JSON object');
    expect((await usageError(run('f/fx/nope.ts', {}))).message).toBe('file not found: f/fx/nope.ts');
    writeFileSync(join(ws, 'f/fx/x.script.yaml'), 'summary: ""\n');
    expect((await usageError(run('f/fx/x.script.yaml', {}))).message).toContain('is a metadata file');
    writeFileSync(join(ws, 'f/fx/prog.go'), 'package inner\nfunc main() (string, error) { return "", nil }\n');
    expect((await usageError(run('f/fx/prog.go', {}))).message).toMatch(/^cannot preview f\/fx\/prog\.go: go scripts (need go \(the Go toolchain\)|are not run by preview yet)/);
    expect((await usageError(run('f/fx/preview_add.ts', { data: '{"a":1}', timeout: 'soon' }))).message).toContain('--timeout');
  });

  it('runs no user code before the arguments are accepted (the prewarmed interpreter waits)', async () => {
    const marker = join(ws, 'f/fx/imported.marker');
    await usageError(run('f/fx/preview_sidefx.py', { data: '{"n": "bad"}' }));
    expect(existsSync(marker)).toBe(false);
    expect((await run('f/fx/preview_sidefx.py', { data: '{"n": 5}' })).stdout).toBe('5\n');
    expect(existsSync(marker)).toBe(true);
  });

  it('a failing script exits 1 with its error and stack on stderr', async () => {
    const r = await run('f/fx/preview_fail.ts', { data: '{"n": 7}' });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('about to fail');
    expect(r.stderr).toContain('error: the script failed: RangeError: value 7 is out of range');
    expect(r.stderr).toMatch(/at checkInput \(.*preview_fail\.ts:\d+:\d+\)/);
  });

  it('--timeout fails the job and kills its processes', async () => {
    const pidfile = join(tmpdir(), `wmill-pv-${process.pid}-${Date.now()}`);
    const p = run('f/fx/preview_sleep.sh', { data: JSON.stringify({ pidfile }), timeout: '1' });
    const pids = await waitForLines(pidfile, 2);
    const r = await p;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('TimeoutError: Job timed out after 1s');
    for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
  });
});

describe('script preview: schema from current metadata', () => {
  let ws: string;
  const code = 'export async function main(a: number) {\n  return a * 2;\n}\n';
  // A hand-made schema that differs from what inference gives (integer instead of number).
  const meta = [
    "summary: ''",
    "description: ''",
    "lock: ''",
    'kind: script',
    'schema:',
    '  $schema: https://json-schema.org/draft/2020-12/schema',
    '  type: object',
    '  properties:',
    '    a:',
    '      type: integer',
    "      description: ''",
    '      default: null',
    '  required:',
    '    - a',
    '',
  ].join('\n');

  // Stored schemas have their properties sorted by name, not in signature order.
  const subCode = 'export async function main(zeta: number, alpha: number) {\n  return zeta - alpha;\n}\n';
  const subMeta = meta
    .replace("    a:\n      type: integer\n      description: ''\n      default: null\n", "    alpha:\n      type: number\n      description: ''\n      default: null\n    zeta:\n      type: number\n      description: ''\n      default: null\n")
    .replace('    - a\n', '    - zeta\n    - alpha\n');

  beforeAll(() => {
    ws = makeWorkspace({
      'f/m/double.ts': code,
      'f/m/double.script.yaml': meta,
      'f/m/sub.ts': subCode,
      'f/m/sub.script.yaml': subMeta,
      'wmill-lock.yaml': `version: v2\nlocks:\n  f/m/double: ${scriptHash(code, meta)}\n  f/m/sub: ${scriptHash(subCode, subMeta)}\n`,
    });
  });

  it('calls main in signature order even though the stored schema lists properties by name', async () => {
    expect(subMeta).toContain('alpha:');
    const s = await scriptSchema({ root: ws, relFile: 'f/m/sub.ts', path: 'f/m/sub', language: 'bun', content: subCode });
    expect(s.source).toBe('metadata');
    expect(Object.keys(s.schema!.properties)).toEqual(['alpha', 'zeta']);
    const t = io(ws);
    expect(await preview('f/m/sub.ts', { data: '{"zeta": 10, "alpha": 1}' }, t.io)).toBe(0);
    expect(t.out.stdout).toBe('9\n');
  });
  afterAll(() => removeDir(ws));

  it('uses the .script.yaml schema when wmill-lock.yaml records these files (no inference)', async () => {
    const s = await scriptSchema({ root: ws, relFile: 'f/m/double.ts', path: 'f/m/double', language: 'bun', content: code });
    expect(s.source).toBe('metadata');
    const t = io(ws);
    const e = await usageError(preview('f/m/double.ts', { data: '{"a": 1.5}' }, t.io));
    expect(e.message).toContain("argument 'a' must be an integer");
    const ok = io(ws);
    expect(await preview('f/m/double.ts', { data: '{"a": 4}' }, ok.io)).toBe(0);
    expect(ok.out.stdout).toBe('8\n');
  });

  it('infers the schema again when the content changed since the lock was written', async () => {
    const changed = code.replace('a * 2', 'a * 3');
    const s = await scriptSchema({ root: ws, relFile: 'f/m/double.ts', path: 'f/m/double', language: 'bun', content: changed });
    expect(s.source).toBe('inferred');
    expect(s.schema?.properties?.a?.type).toBe('number');
  });
});

describe('script preview (built CLI, end to end)', () => {
  let ws: string;
  beforeAll(() => {
    const cli = join(REPO, 'dist/cli.mjs');
    if (!existsSync(cli) || !readFileSync(cli, 'utf8').includes('registerPreview')) {
      const b = spawnSync('npm', ['run', 'build'], { cwd: REPO, encoding: 'utf8' });
      if (b.status !== 0) throw new Error(`npm run build failed:\n${b.stdout}\n${b.stderr}`);
    }
    ws = workspace();
  });
  afterAll(() => removeDir(ws));

  it('runs a script: result on stdout, logs on stderr, exit 0', () => {
    const r = wmill(ws, ['script', 'preview', 'f/fx/preview_greet.py', '-d', '{"name": "cli"}']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ text: 'hello cli hello cli', times: 2, year: null });
    expect(r.stderr).toContain('greeting cli');
  });

  it("exit 2 naming x for -d '{\"x\":\"nope\"}' against an integer x", () => {
    writeFileSync(join(ws, 'f/fx/intx.py'), 'def main(x: int):\n    return x\n');
    const r = wmill(ws, ['script', 'preview', 'f/fx/intx.py', '-d', '{"x":"nope"}']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([`error: argument 'x' must be an integer, got "nope" (a string)`]);
    expect(r.stdout).toBe('');
  });

  it('exit 1 with the error message and a stack trace for a failing script', () => {
    const r = wmill(ws, ['script', 'preview', 'f/fx/preview_fail.py', '-d', '{"n": 1}']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: the script failed: ValueError: bad input 1');
    expect(r.stderr).toContain('Traceback (most recent call last)');
    expect(r.stderr).toMatch(/preview_fail\.py", line \d+, in check_input/);
  });

  it('--json on a usage error prints {ok: false, error} and exits 2', () => {
    const r = wmill(ws, ['script', 'preview', 'f/fx/missing.py', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'usage', message: 'file not found: f/fx/missing.py' } });
  });

  it('Ctrl-C (SIGINT) cancels the job and kills its whole process tree', async () => {
    const pidfile = join(tmpdir(), `wmill-cli-${process.pid}-${Date.now()}`);
    const child = spawn(process.execPath, [BIN, 'script', 'preview', 'f/fx/preview_sleep.sh', '-d', JSON.stringify({ pidfile })], {
      cwd: ws,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b) => (stderr += b));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    const pids = await waitForLines(pidfile, 2);
    for (const pid of pids) expect(alive(pid)).toBe(true);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toContain('started');
    expect(stderr).toContain('Job canceled: interrupted (SIGINT)');
    for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
  });
});
