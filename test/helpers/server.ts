/**
 * `wmill serve` for tests: in-process (startServer on a temp PGlite folder, or on a fresh
 * PostgreSQL database) or as a real child process (`wmill serve --json`), plus a tiny HTTP
 * client that returns status and body without throwing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startServer, type RunningServer } from '../../src/server/app.js';
import { startPg, type PgServer } from './pg.js';
import { BIN } from './workspace.js';

export const ADMIN_TOKEN = 'test_admin_token_0123456789';

export interface TestServer {
  url: string;
  token: string;
  server: RunningServer;
  api: Api;
  close(): Promise<void>;
}

export async function startTestServer(opts: { databaseUrl?: string; workers?: number; staleAfterMs?: number; tags?: string[]; dataDir?: string } = {}): Promise<TestServer> {
  const own = !opts.databaseUrl && !opts.dataDir;
  const dataDir = opts.databaseUrl ? undefined : (opts.dataDir ?? mkdtempSync(join(tmpdir(), 'wmill-serve-test-')));
  const server = await startServer({ log: process.env.WMILL_LOG_REQUESTS ? (l) => console.error(l) : undefined, port: 0, dataDir, databaseUrl: opts.databaseUrl, adminToken: ADMIN_TOKEN, workers: opts.workers ?? 2, staleAfterMs: opts.staleAfterMs, tags: opts.tags });
  return {
    url: `${server.url}/`,
    token: ADMIN_TOKEN,
    server,
    api: new Api(server.url, ADMIN_TOKEN),
    async close() {
      await server.close();
      if (dataDir && own) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A PostgreSQL database of its own (created on the test server, dropped by drop()). */
export async function freshDatabase(): Promise<{ url: string; pg: PgServer; drop(): Promise<void> }> {
  const pg = await startPg();
  const name = `wmill_t_${randomBytes(5).toString('hex')}`;
  const { default: pgmod } = await import('pg');
  const admin = new pgmod.Client({ connectionString: pg.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(pg.url);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    pg,
    async drop() {
      const c = new pgmod.Client({ connectionString: pg.url });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      await c.end();
      await pg.stop();
    },
  };
}

export interface Reply {
  status: number;
  text: string;
  json: any;
}

export class Api {
  constructor(
    readonly base: string,
    readonly token: string,
    readonly ws = 'admins',
  ) {}

  as(token: string): Api {
    return new Api(this.base, token, this.ws);
  }

  async req(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    const url = path.startsWith('/api/') ? `${this.base.replace(/\/$/, '')}${path}` : `${this.base.replace(/\/$/, '')}/api/w/${this.ws}/${path}`;
    const send = () =>
      fetch(url, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
    let res: Response;
    for (let attempt = 1; ; attempt++) {
      try {
        res = await send();
        break;
      } catch (e) {
        // A kept-alive connection the server closed for idleness just as this request went out on
        // it (the two idle timers race; on a loaded machine ours fires late): the server read
        // nothing, so sending again is safe. A server that is gone refuses the retry.
        const code = (e as { cause?: { code?: string } }).cause?.code;
        if (attempt < 3 && (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET')) continue;
        throw e;
      }
    }
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, text, json };
  }

  get = (p: string) => this.req('GET', p);
  post = (p: string, b?: unknown) => this.req('POST', p, b ?? {});
  del = (p: string) => this.req('DELETE', p);

  /** Deploy a script; returns the new hash (throws on non-201). */
  async deploy(body: Record<string, unknown>): Promise<string> {
    const r = await this.post('scripts/create', { summary: '', description: '', ...body });
    if (r.status !== 201) throw new Error(`deploy ${body.path}: ${r.status} ${r.text}`);
    return r.text;
  }

  /** Run by path and wait: the job's result and success. */
  async runWait(path: string, args: Record<string, unknown> = {}): Promise<{ status: number; result: any }> {
    const r = await this.post(`jobs/run_wait_result/p/${path}`, args);
    return { status: r.status, result: r.json };
  }

  /** Add a user to the workspace and return a token for them. */
  async addUser(username: string, opts: { is_admin?: boolean; operator?: boolean; groups?: string[] } = {}): Promise<string> {
    const email = `${username}@example.com`;
    const a = await this.post('workspaces/add_user', { email, username, ...opts });
    if (a.status !== 201) throw new Error(`add_user: ${a.status} ${a.text}`);
    const t = await this.req('POST', '/api/users/tokens/impersonate', { impersonate_email: email, label: 'test' });
    if (t.status !== 201) throw new Error(`impersonate: ${t.status} ${t.text}`);
    return t.text;
  }

  async waitJob(id: string, timeoutMs = 60_000): Promise<any> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const r = await this.get(`jobs_u/completed/get_result_maybe/${id}`);
      if (r.json?.completed) return r.json;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`job ${id} did not complete`);
  }
}

/**
 * Longest a `wmill serve`/`wmill worker` child may take to be ready. Generous: on a loaded machine
 * (several test suites at once) opening the embedded database alone can take a minute; the bound
 * only ends a start that is stuck.
 */
const START_TIMEOUT_MS = 300_000;

/** `wmill serve` as a child process; resolves once it printed its JSON ready line. */
export async function spawnServe(args: string[], env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string; ready: Record<string, unknown>; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--json', ...args], {
    env: { ...process.env, WMILL_ADMIN_TOKEN: ADMIN_TOKEN, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  let info: Record<string, unknown> = {};
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL'); // not ready: nobody else holds it to stop it
      reject(new Error(`wmill serve did not start: ${stderr}`));
    }, START_TIMEOUT_MS);
    child.stdout!.on('data', (d) => {
      buf += d;
      // One JSON object (on one line or pretty-printed over several): parse once it is whole.
      const at = buf.indexOf('{');
      if (at < 0) return;
      let ready: { url?: string } | undefined;
      try {
        ready = JSON.parse(buf.slice(at));
      } catch {
        return;
      }
      clearTimeout(timer);
      info = ready as Record<string, unknown>;
      resolve(ready!.url!);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`wmill serve exited (${code}): ${stderr}`));
    });
  });
  return {
    child,
    url,
    ready: info,
    async stop() {
      if (child.exitCode !== null || child.signalCode) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await done;
    },
  };
}

/** `wmill worker` as a child process on `databaseUrl`; resolves once it says it started. */
export async function spawnWorker(
  name: string,
  databaseUrl: string,
  env: Record<string, string> = {},
  args: string[] = [],
): Promise<{ name: string; child: ChildProcess; stderr(): string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [BIN, 'worker', '--name', name, ...args], {
    env: { ...process.env, DATABASE_URL: databaseUrl, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stdout!.resume();
  child.stderr!.on('data', (d) => (err += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL'); // not ready: nobody else holds it to stop it
      reject(new Error(`worker ${name} did not start: ${err}`));
    }, START_TIMEOUT_MS);
    const check = () => {
      if (!err.includes(`wmill worker ${name} started`)) return;
      clearTimeout(timer);
      child.stderr!.off('data', check);
      resolve();
    };
    child.stderr!.on('data', check);
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`worker ${name} exited (${code ?? sig}): ${err}`));
    });
  });
  return {
    name,
    child,
    stderr: () => err,
    async stop() {
      if (child.exitCode !== null || child.signalCode) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await done;
      clearTimeout(t);
    },
  };
}

/** Poll `fn` until it returns a truthy value (or throw after `timeoutMs`, naming `what`). */
export async function until<T>(what: string, fn: () => Promise<T | undefined | false | null>, timeoutMs: number, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
