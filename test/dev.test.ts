/**
 * `wmill dev`: the built CLI watching a scratch workspace, with real resident interpreters.
 * Every wait is on an output line (or a file's content), never a fixed sleep.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, makeWorkspace, removeDir } from './helpers/workspace.js';
import { alive } from './helpers/processes.js';
import { until } from './helpers/server.js';

interface RunLine {
  path: string;
  file: string;
  status: string;
  duration_ms: number;
  result: any;
  error?: { name: string; message: string; file?: string; line?: number };
}

class Dev {
  readonly child: ChildProcess;
  readonly runs: RunLine[] = [];
  stdout = '';
  stderr = '';
  private readonly waiters = new Set<() => void>();
  readonly exited: Promise<number | null>;

  constructor(
    readonly ws: string,
    args: string[],
  ) {
    this.child = spawn(process.execPath, [BIN, 'dev', ...args], { cwd: ws, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8');
    this.child.stderr!.setEncoding('utf8');
    let pending = '';
    this.child.stdout!.on('data', (d: string) => {
      this.stdout += d;
      pending += d;
      let i;
      while ((i = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, i);
        pending = pending.slice(i + 1);
        try {
          const v = JSON.parse(line);
          if (v && typeof v === 'object' && 'status' in v) this.runs.push(v);
        } catch {
          /* text mode: a result line */
        }
      }
      this.notify();
    });
    this.child.stderr!.on('data', (d: string) => {
      this.stderr += d;
      this.notify();
    });
    this.exited = new Promise((r) => this.child.once('exit', (code) => (this.notify(), r(code))));
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolve once `pred` holds (checked on every output), fail after `ms` with what was seen. */
  until<T>(what: string, pred: () => T | undefined | false, ms = 120_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const v = pred();
        if (v) {
          clearTimeout(timer);
          this.waiters.delete(check);
          resolve(v);
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`));
      }, ms);
      this.waiters.add(check);
      check();
    });
  }

  /** The next run line after the `n` already seen that satisfies `pred`. */
  nextRun(pred: (r: RunLine) => boolean, from = this.runs.length): Promise<RunLine> {
    return this.until('a run line', () => this.runs.slice(from).find(pred));
  }

  ready(): Promise<unknown> {
    return this.until('the watcher', () => this.stderr.includes('[dev] watching'));
  }

  save(rel: string, text: string): void {
    writeFileSync(join(this.ws, rel), text);
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGINT');
    return this.exited;
  }
}

const open: Dev[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const d of open.splice(0)) await d.stop();
  for (const d of dirs.splice(0)) removeDir(d);
});

function start(files: Record<string, string>, args: string[]): Dev {
  const ws = makeWorkspace(files);
  dirs.push(ws);
  const d = new Dev(ws, args);
  open.push(d);
  return d;
}

const PY = (n: number, extra = '') => `import os\n\ndef main(x: int = 1${extra}):\n    return {"n": ${n}, "x": x, "pid": os.getpid()}\n`;

describe('wmill dev', () => {
  it('runs the target at start and again on every save, in the same warm interpreter', async () => {
    const d = start({ 'f/t/a.py': PY(1) }, ['f/t/a.py', '--json', '-d', '{"x": 5}', '--no-metadata']);
    const first = await d.nextRun((r) => r.status === 'success');
    expect(first).toMatchObject({ path: 'f/t/a', file: 'f/t/a.py', result: { n: 1, x: 5 } });
    d.save('f/t/a.py', PY(2));
    const second = await d.nextRun((r) => r.result?.n === 2);
    expect(second.status).toBe('success');
    expect(second.result.x).toBe(5);
    // Warm: the same process ran both.
    expect(second.result.pid).toBe(first.result.pid);
    // -d was saved as the path's arguments file, for later sessions.
    expect(JSON.parse(readFileSync(join(d.ws, '.wmill/args/f/t/a.json'), 'utf8'))).toEqual({ x: 5 });
  });

  it('a syntax error prints the error with its file and line; the fix prints a result', async () => {
    const d = start({ 'f/t/a.py': PY(1) }, ['f/t/a.py', '--no-metadata']);
    await d.until('the first result', () => d.stdout.includes('"n":1'));
    d.save('f/t/a.py', 'def main(x: int = 1):\n    return (\n\ndef other(:\n    pass\n');
    const line = await d.until('the error line', () => /^error: (f\/t\/a\.py:\d+): SyntaxError.*$/m.exec(d.stderr));
    expect(line![1]).toMatch(/^f\/t\/a\.py:[2-4]$/);
    d.save('f/t/a.py', PY(3));
    await d.until('the result after the fix', () => d.stdout.includes('"n":3'));
  });

  it('a TypeScript error points at its file and line (--json)', async () => {
    const d = start({ 'f/t/b.ts': 'export async function main() {\n  return { n: 1 };\n}\n' }, ['f/t/b.ts', '--json', '--no-metadata']);
    await d.nextRun((r) => r.result?.n === 1);
    d.save('f/t/b.ts', 'export async function main() {\n  const x = 1;\n  throw new Error("boom " + x);\n}\n');
    const failed = await d.nextRun((r) => r.status === 'failure');
    expect(failed.error).toMatchObject({ name: 'Error', message: 'boom 1', file: 'f/t/b.ts', line: 3 });
    expect(failed.result).toBeNull();
  });

  it('a change in an imported module re-runs its importer (TypeScript and Python), with the new module', async () => {
    const d = start(
      {
        'f/lib/k.ts': 'export const k = 1;\n',
        'f/t/b.ts': "import { k } from '../lib/k.ts';\nexport async function main() {\n  return { k, pid: process.pid };\n}\n",
      },
      ['f/t/b.ts', '--json', '--no-metadata'],
    );
    const first = await d.nextRun((r) => r.result?.k === 1);
    d.save('f/lib/k.ts', 'export const k = 2;\n');
    const again = await d.nextRun((r) => r.result?.k === 2);
    expect(again.path).toBe('f/t/b');
    expect(again.result.pid).toBe(first.result.pid);

    const p = start(
      {
        'f/lib/helper.py': 'K = 10\n',
        'f/t/a.py': 'from f.lib.helper import K\n\ndef main():\n    return {"k": K}\n',
      },
      ['f/t/a.py', '--json', '--no-metadata'],
    );
    await p.nextRun((r) => r.result?.k === 10);
    p.save('f/lib/helper.py', 'K = 20\n');
    const py = await p.nextRun((r) => r.result?.k === 20);
    expect(py.path).toBe('f/t/a');
  });

  it('adding a parameter updates .script.yaml', async () => {
    const d = start({ 'f/t/a.py': PY(1) }, ['f/t/a.py', '--json']);
    await d.nextRun((r) => r.result?.n === 1);
    d.save('f/t/a.py', PY(2, ', flavour: str = "plain"'));
    await d.nextRun((r) => r.result?.n === 2);
    await d.until('the metadata line', () => d.stderr.includes('[dev] metadata: f/t/a.script.yaml updated'));
    const yaml = readFileSync(join(d.ws, 'f/t/a.script.yaml'), 'utf8');
    expect(yaml).toMatch(/flavour:\n\s+type: string/);
    expect(yaml).toContain('default: plain');
  });

  it('killing the resident interpreter: the next save starts a new one', async () => {
    const d = start({ 'f/t/a.py': PY(1) }, ['f/t/a.py', '--json', '--no-metadata']);
    const first = await d.nextRun((r) => r.result?.n === 1);
    const pid = first.result.pid as number;
    process.kill(pid, 'SIGKILL');
    await until('the resident gone', async () => !alive(pid), 30_000);
    d.save('f/t/a.py', PY(2));
    const next = await d.nextRun((r) => r.result?.n === 2);
    expect(next.status).toBe('success');
    expect(next.result.pid).not.toBe(pid);
  });

  it('follows the script saved last (no path); Ctrl-C leaves no process behind', async () => {
    const d = start(
      {
        'f/t/a.py': PY(0),
        'f/t/b.ts': 'export async function main() {\n  return { n: 0 };\n}\n',
        'f/t/c.sh': 'echo "{\\"n\\": 0}" > result.json\n',
      },
      ['--json', '--no-metadata'],
    );
    await d.ready();
    d.save('f/t/a.py', PY(1));
    const py = await d.nextRun((r) => r.path === 'f/t/a' && r.result?.n === 1);
    d.save('f/t/b.ts', 'export async function main() {\n  return { n: 1, pid: process.pid };\n}\n');
    const ts = await d.nextRun((r) => r.path === 'f/t/b' && r.result?.n === 1);
    d.save('f/t/c.sh', 'x="${1:-0}"\necho "{\\"n\\": 1, \\"pid\\": $$}" > result.json\n');
    const sh = await d.nextRun((r) => r.path === 'f/t/c' && r.result?.n === 1);
    const pids = [py.result.pid, ts.result.pid, sh.result.pid] as number[];
    expect(new Set(pids).size).toBe(3);
    for (const p of pids) expect(alive(p)).toBe(true);
    expect(await d.stop()).toBe(0);
    for (const p of pids) expect(alive(p), `pid ${p} outlived wmill dev`).toBe(false);
  });

  it('a change of requirements.txt restarts the resident: the re-run has a new interpreter', async () => {
    const d = start({ 'f/t/a.py': PY(1) }, ['f/t/a.py', '--json', '--no-metadata']);
    const first = await d.nextRun((r) => r.result?.n === 1);
    d.save('requirements.txt', '# none\n');
    await d.until('the restart line', () => d.stderr.includes('[dev] requirements.txt changed: restarting the resident interpreters'));
    const next = await d.nextRun((r) => r.status === 'success', d.runs.indexOf(first) + 1);
    expect(next.result.pid).not.toBe(first.result.pid);
    await until('the old resident gone', async () => !alive(first.result.pid), 30_000);
  });

  it('--open serves a page; its arguments form re-runs the target with them', async () => {
    const d = start({ 'f/t/a.py': PY(1) }, ['f/t/a.py', '--json', '--open', '--no-metadata']);
    const url = (await d.until('the page line', () => /\[dev\] page: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(d.stderr)))![1]!;
    await d.nextRun((r) => r.result?.n === 1);
    const page = await fetch(url);
    expect(await page.text()).toContain('<title>wmill dev</title>');
    const bad = await fetch(`${url}args`, { method: 'POST', body: '[1]' });
    expect(bad.status).toBe(400);
    const ok = await fetch(`${url}args`, { method: 'POST', body: '{"x": 42}' });
    expect(ok.status).toBe(204);
    const run = await d.nextRun((r) => r.result?.x === 42);
    expect(run.result.n).toBe(1);
  });

  it('--includes: without a path, only matching files become the target', async () => {
    const d = start({ 'f/a/x.py': PY(0), 'f/b/y.py': PY(0) }, ['--json', '--no-metadata', '--includes', 'f/b/**']);
    await d.ready();
    d.save('f/a/x.py', PY(1));
    d.save('f/b/y.py', PY(2));
    const run = await d.nextRun((r) => r.status === 'success');
    expect(run.path).toBe('f/b/y');
    d.save('f/a/x.py', PY(3));
    d.save('f/b/y.py', PY(4));
    await d.nextRun((r) => r.result?.n === 4);
    expect(d.runs.map((r) => r.path)).toEqual(['f/b/y', 'f/b/y']);
  });

  it('a bad target is one clear line and exit 2', async () => {
    const d = start({ 'f/t/a.py': PY(1) }, ['f/t/nope.py']);
    expect(await d.exited).toBe(2);
    expect(d.stderr).toMatch(/f\/t\/nope\.py: no script file, flow folder or Windmill path/);
  });
});
