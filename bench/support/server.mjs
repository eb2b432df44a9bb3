// Shared by the server benches: a PostgreSQL to run against (WMILL_TEST_PG_URL / DATABASE_URL, or a
// throwaway cluster started here as the postgres user), fresh databases on it, `wmill serve` and
// `wmill worker` child processes, and a tiny API caller.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { BIN } from '../lib.mjs';

export const TOKEN = 'bench_admin_token_0123456789';
const children = new Set();
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export async function startPg() {
  const fromEnv = process.env.WMILL_TEST_PG_URL || process.env.DATABASE_URL;
  if (fromEnv) return { url: fromEnv, stop: async () => {} };
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'wmill-bench-pg-'));
  const data = join(dir, 'data');
  chmodSync(dir, 0o700);
  if (asRoot) {
    const id = (f) => Number(execFileSync('id', [f, 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, id('-u'), id('-g'));
  }
  const run = (cmd, args) => {
    const [c, a] = asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
    const r = spawnSync(c, a, { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stdout}\n${r.stderr}`);
  };
  const port = await freePort();
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  run('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '60', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable`,
    stop: async () => {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export async function freshDatabase(serverUrl) {
  const name = `wmill_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      await c.end();
    },
  };
}

/** Start `wmill <args>`; resolves when `ready(stdout, stderr)` returns a value. */
export function startChild(args, env, ready) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1', WMILL_ADMIN_TOKEN: TOKEN, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args[0]} did not start:\n${err}`)), 90_000);
    const check = () => {
      const v = ready(out, err);
      if (v !== undefined) {
        clearTimeout(timer);
        resolve({ child, value: v });
      }
    };
    child.stdout.on('data', (d) => ((out += d), check()));
    child.stderr.on('data', (d) => ((err += d), check()));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${args[0]} exited (${code ?? signal}) before it was ready:\n${err}`));
    });
  });
}

export const serveReady = (out) => {
  const at = out.indexOf('{');
  if (at < 0) return undefined;
  try {
    return JSON.parse(out.slice(at)).url.replace(/\/$/, '');
  } catch {
    return undefined;
  }
};

/** `wmill serve` on a temp PGlite folder, or on `databaseUrl`; returns {url, stop}. */
export async function startServe({ databaseUrl, workers = 2, args = [] } = {}) {
  const data = mkdtempSync(join(tmpdir(), 'wmill-bench-serve-'));
  const { child, value } = await startChild(['serve', '--port', '0', '--json', '--data', data, '--workers', String(workers), ...args], databaseUrl ? { DATABASE_URL: databaseUrl } : {}, serveReady);
  return {
    url: value,
    child,
    async stop() {
      await stopChild(child);
      rmSync(data, { recursive: true, force: true });
    },
  };
}

export async function startWorker(databaseUrl, concurrency = 2) {
  const { child } = await startChild(['worker', '--concurrency', String(concurrency)], { DATABASE_URL: databaseUrl }, (_o, e) => (e.includes('started') ? true : undefined));
  return { child, stop: () => stopChild(child) };
}

/** Stop every child this module started. */
export async function stopAll() {
  await Promise.all([...children].map(stopChild));
}

export function killAll() {
  for (const c of children) c.kill('SIGKILL');
}

export async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await done;
  clearTimeout(t);
}

export async function call(base, method, path, body) {
  const res = await fetch(`${base}/api/w/admins/${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}
