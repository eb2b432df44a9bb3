/**
 * The deployment kit: Dockerfile (+ .dockerignore), deploy/compose.yaml, deploy/systemd/. There
 * is no Docker engine or systemd here, so each file is checked for its structure and then its
 * commands are run as the container or the unit would run them:
 * - Dockerfile: its instructions parsed; the build stage's copies made into a folder (a stand-in
 *   for the image's /src, node_modules standing in for `npm ci`) and its `npm pack` run there;
 *   the runtime stage's `npm install -g` of that tarball into a temp prefix; then its ENTRYPOINT
 *   + CMD started (the port mapped to a free one) until its own HEALTHCHECK passes.
 * - compose.yaml: a schema check (services, pinned images, environment, health checks,
 *   depends_on conditions), then the server and both workers started with their commands and
 *   environment (a test PostgreSQL database for the `postgres` service, `server` resolving to
 *   localhost), in depends_on order, and jobs run on the workers only.
 * - systemd: `systemd-analyze verify` and `security --offline` where systemd-analyze exists,
 *   else a parse; the unit's ExecStart run as an unprivileged user in a state folder of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { minimatch } from 'minimatch';
import { parse } from 'yaml';
import { z } from 'zod';
import { BIN, REPO } from './helpers/workspace.js';
import { freshDatabase } from './helpers/server.js';
import { npmCached } from './helpers/clean-copy.js';

const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'wmill-deploy-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------
// Small tools: processes, ports, waiting on conditions.

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

interface Proc {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

function start(cmd: string, args: string[], opts: { env: NodeJS.ProcessEnv; cwd?: string; uid?: number; gid?: number }): Proc {
  const child = spawn(cmd, args, { env: opts.env, cwd: opts.cwd, uid: opts.uid, gid: opts.gid, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    out: () => out,
    exited,
    async stop() {
      if (child.exitCode === null && !child.signalCode) child.kill('SIGTERM');
      return exited;
    },
  };
}

function runAsync(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number | null> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { env, stdio: 'ignore' });
    c.once('exit', (code) => resolve(code));
    c.once('error', () => resolve(-1));
  });
}

/** Poll `check` until it returns a value; fail with `what` (and the processes' output) if it never does. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, procs: Proc[] = [], limitMs = 120_000): Promise<T> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    const v = await check();
    if (v) return v;
    const dead = procs.find((p) => p.child.exitCode !== null);
    if (dead) throw new Error(`${what}: a process exited (${dead.child.exitCode}):\n${dead.out()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what}: not reached\n${procs.map((p) => p.out()).join('\n---\n')}`);
}

/** The flags (`--x`) a command line uses, all listed in `wmill <command> --help`. */
function expectKnownFlags(args: string[]): void {
  const command = args[0]!;
  const help = spawnSync(process.execPath, [BIN, command, '--help'], { encoding: 'utf8' }).stdout;
  for (const flag of args.filter((a) => a.startsWith('--'))) expect(help, `wmill ${command} ${flag}`).toMatch(new RegExp(`(^|[ ,])${flag}\\b`, 'm'));
}

// ---------------------------------------------------------------------------------------------
// Dockerfile

interface Instruction {
  line: number;
  op: string;
  args: string;
  /** The JSON (exec) form, when the arguments are one. */
  json?: string[];
}

/** Dockerfile instructions: comments and parser directives dropped, `\` continuations joined. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let buf = '';
  let first = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (!buf && (line.trim() === '' || line.trimStart().startsWith('#'))) return;
    if (buf && line.trimStart().startsWith('#')) return; // comments inside a continued instruction
    if (!buf) first = i + 1;
    if (line.endsWith('\\')) {
      buf += `${line.slice(0, -1)} `;
      return;
    }
    buf += line;
    const m = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(buf);
    if (!m) throw new Error(`Dockerfile:${first}: not an instruction: ${buf}`);
    const ins: Instruction = { line: first, op: m[1]!.toUpperCase(), args: m[2]!.trim() };
    const jsonPart = ins.op === 'HEALTHCHECK' ? ins.args.replace(/^(--\S+\s+)*CMD\s+/, '') : ins.args;
    if (jsonPart.startsWith('[')) ins.json = z.array(z.string()).parse(JSON.parse(jsonPart));
    out.push(ins);
    buf = '';
  });
  return out;
}

/** Whether .dockerignore leaves `path` (relative, of a file) in the build context: the last matching pattern wins. */
function inContext(path: string, ignore: string[]): boolean {
  let included = true;
  for (const raw of ignore) {
    const neg = raw.startsWith('!');
    const pat = (neg ? raw.slice(1) : raw).replace(/\/$/, '');
    const parts = path.split('/');
    const hit = parts.some((_, i) => minimatch(parts.slice(0, i + 1).join('/'), pat, { dot: true }));
    if (hit) included = neg;
  }
  return included;
}

describe('Dockerfile', () => {
  const text = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
  const ins = parseDockerfile(text);
  const ignore = readFileSync(join(REPO, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const args = Object.fromEntries(ins.filter((i) => i.op === 'ARG' && i.args.includes('=')).map((i) => i.args.split('=') as [string, string]));
  const stages: Instruction[][] = [];
  for (const i of ins) {
    if (i.op === 'FROM') stages.push([]);
    stages[stages.length - 1]?.push(i);
  }
  const final = stages[stages.length - 1]!;
  const one = (op: string) => final.filter((i) => i.op === op);

  it('parses; base images pinned to an exact Node version the package supports; two stages', () => {
    expect(ins[0]!.op).toBe('ARG');
    expect(args.NODE_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
    const [maj, min] = args.NODE_VERSION!.split('.').map(Number) as [number, number];
    const [emaj, emin] = (/>=(\d+)\.(\d+)/.exec(pkg.engines.node) ?? []).slice(1).map(Number) as [number, number];
    expect(maj > emaj || (maj === emaj && min >= emin), `${args.NODE_VERSION} vs engines ${pkg.engines.node}`).toBe(true);
    expect(stages).toHaveLength(2);
    for (const s of stages) expect(s[0]!.args).toMatch(/^node:\$\{NODE_VERSION\}-bookworm-slim\b/);
    expect(text).not.toMatch(/:latest\b/);
  });

  it('copies only files that exist and that .dockerignore keeps in the context; the context leaves out node_modules, dist and tests', () => {
    const copies = ins.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'));
    expect(copies.length).toBeGreaterThan(0);
    for (const c of copies) {
      const parts = c.args.split(/\s+/);
      for (const src of parts.slice(0, -1)) {
        expect(existsSync(join(REPO, src)), `Dockerfile:${c.line}: ${src}`).toBe(true);
        const file = statSync(join(REPO, src)).isDirectory() ? `${src}/x.ts` : src;
        expect(inContext(file, ignore), `Dockerfile:${c.line}: ${src} is excluded by .dockerignore`).toBe(true);
      }
    }
    for (const f of ['node_modules/x/index.js', 'dist/cli.mjs', 'test/x.test.ts', '.git/HEAD', '.wmill-server/pg', 'python/wmill/__pycache__/x.pyc']) {
      expect(inContext(f, ignore), f).toBe(false);
    }
  });

  it('runs as an unprivileged user under tini; exposes the port its command and health check use', () => {
    const user = one('USER');
    expect(user).toHaveLength(1);
    expect(user[0]!.args).not.toMatch(/^(root|0)(:|$)/);
    const run = final.filter((i) => i.op === 'RUN').map((i) => i.args).join('\n');
    expect(run).toMatch(/useradd --system .*\bwmill\b/);
    expect(run).toMatch(/apt-get install -y --no-install-recommends python3 tini/);
    expect(final.findIndex((i) => i.op === 'USER')).toBeLessThan(final.findIndex((i) => i.op === 'CMD'));
    const entry = one('ENTRYPOINT')[0]!.json!;
    expect(entry).toEqual(['/usr/bin/tini', '--', 'wmill']);
    const cmd = one('CMD')[0]!.json!;
    expect(cmd[0]).toBe('serve');
    expectKnownFlags(cmd);
    const port = cmd[cmd.indexOf('--port') + 1];
    expect(one('EXPOSE')[0]!.args).toBe(port);
    expect(one('HEALTHCHECK')[0]!.json!.join(' ')).toContain(`http://127.0.0.1:${port}/api/version`);
    expect(cmd).toContain('0.0.0.0'); // reachable from outside the container
  });

  it('builds and runs: the build stage packs from what it copied, the runtime stage installs that tarball, and its command serves until its health check passes', async () => {
    const [build] = stages;
    // The build stage's /src: what its COPY lines bring, node_modules standing in for `npm ci`.
    const src = join(work, 'image-src');
    const imageTmp = join(work, 'image-tmp');
    mkdirSync(src);
    mkdirSync(imageTmp);
    for (const c of build!.filter((i) => i.op === 'COPY')) {
      const parts = c.args.split(/\s+/);
      const dest = parts[parts.length - 1]!.replace(/^\.\/?/, '');
      for (const s of parts.slice(0, -1)) cpSync(join(REPO, s), join(src, dest && dest !== '' ? dest : s), { recursive: true });
    }
    expect(build!.some((i) => i.op === 'RUN' && i.args === 'npm ci --no-audit --no-fund')).toBe(true);
    symlinkSync(join(REPO, 'node_modules'), join(src, 'node_modules'));
    const pack = build!.find((i) => i.op === 'RUN' && i.args.includes('npm pack'))!;
    const packRun = spawnSync('sh', ['-c', pack.args.replaceAll('/tmp', imageTmp)], { cwd: src, encoding: 'utf8' });
    expect(packRun.status, packRun.stderr).toBe(0);
    const tarball = join(imageTmp, 'wmill.tgz');
    expect(existsSync(tarball)).toBe(true);

    // The runtime stage's install, into a prefix of its own.
    const prefix = join(work, 'image-prefix');
    const install = final.find((i) => i.op === 'RUN' && i.args.startsWith('npm install -g'))!;
    const npmArgs = install.args.split('&&')[0]!.trim().split(/\s+/).slice(1).map((a) => a.replace('/tmp', imageTmp));
    const env = { ...process.env, npm_config_prefix: prefix, PATH: `${join(prefix, 'bin')}${delimiter}${process.env.PATH}` };
    const inst = npmCached(npmArgs, work, env);
    expect(inst.status, inst.stderr).toBe(0);

    // ENTRYPOINT + CMD (tini left out: it only execs the rest), port and data folder mapped.
    const cmd = one('CMD')[0]!.json!;
    const port = String(await freePort());
    // /data as the image makes it (its `mkdir`, with its mode; the volume starts as a copy of it).
    const data = join(work, 'image-data');
    const mkdir = /mkdir (?:-m \d+ )?\/data\b/.exec(final.filter((i) => i.op === 'RUN').map((i) => i.args).join('\n'));
    expect(mkdir).not.toBeNull();
    expect(spawnSync('sh', ['-c', mkdir![0].replace('/data', data)]).status).toBe(0);
    const argv = cmd.map((a) => (a === '8000' ? port : a === '/data' ? data : a));
    const wmill = join(prefix, 'bin', 'wmill');
    const health = one('HEALTHCHECK')[0]!.json!.map((a) => a.replace(':8000/', `:${port}/`));
    const proc = start(wmill, argv, { env: { ...env, WMILL_ADMIN_TOKEN: 'image_test_token_012345678' } });
    try {
      await waitFor('the image health check passes', async () => (await runAsync(health[0]!, health.slice(1))) === 0, [proc]);
      const me = await fetch(`http://127.0.0.1:${port}/api/users/whoami`, { headers: { authorization: 'Bearer image_test_token_012345678' } });
      expect(me.status).toBe(200);
    } finally {
      expect(await proc.stop()).toBe(0); // SIGTERM (what tini forwards on `docker stop`): a clean exit
    }
    expect(await runAsync(health[0]!, health.slice(1))).not.toBe(0);
  }, 300_000);
});

// ---------------------------------------------------------------------------------------------
// compose.yaml

const Env = z.record(z.string(), z.string());
const Healthcheck = z.union([
  z.object({ disable: z.literal(true) }).strict(),
  z
    .object({
      test: z.array(z.string()).min(2).refine((t) => t[0] === 'CMD' || t[0] === 'CMD-SHELL', 'test starts with CMD or CMD-SHELL'),
      interval: z.string().regex(/^\d+s$/),
      timeout: z.string().regex(/^\d+s$/),
      retries: z.number().int().positive(),
      start_period: z.string().regex(/^\d+s$/).optional(),
    })
    .strict(),
]);
const Service = z
  .object({
    image: z.string().regex(/^[\w./-]+:[\w.-]+$/, 'an image with a tag').refine((i) => !i.endsWith(':latest'), 'a pinned tag, not latest'),
    build: z.object({ context: z.string() }).strict().optional(),
    restart: z.enum(['unless-stopped', 'always', 'on-failure']),
    command: z.array(z.string()).optional(),
    environment: Env,
    volumes: z.array(z.string()).optional(),
    ports: z.array(z.string().regex(/^(127\.0\.0\.1:)?\d+:\d+$/)).optional(),
    depends_on: z.record(z.string(), z.object({ condition: z.enum(['service_healthy', 'service_started']) }).strict()).optional(),
    healthcheck: Healthcheck,
  })
  .strict();
const Compose = z
  .object({
    name: z.string(),
    services: z.record(z.string(), Service),
    volumes: z.record(z.string(), z.null()).optional(),
  })
  .catchall(z.unknown())
  .refine((c) => Object.keys(c).every((k) => ['name', 'services', 'volumes'].includes(k) || k.startsWith('x-')), 'only name, services, volumes and x- extensions at the top level');

/** Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR:?error} (an error when unset or empty). */
function interpolate(value: string, vars: Record<string, string | undefined>): string {
  return value.replace(/\$\{(\w+)(?:(:-|:\?)([^}]*))?\}/g, (_, name: string, op: string | undefined, arg: string | undefined) => {
    const v = vars[name];
    if (op === ':?' && !v) throw new Error(`required variable ${name} is missing a value: ${arg}`);
    if (op === ':-' && !v) return arg ?? '';
    return v ?? '';
  });
}

describe('deploy/compose.yaml', () => {
  const raw = readFileSync(join(REPO, 'deploy/compose.yaml'), 'utf8');
  const compose = Compose.parse(parse(raw, { merge: true }));
  const s = compose.services;
  const dockerfileHealth = parseDockerfile(readFileSync(join(REPO, 'Dockerfile'), 'utf8')).find((i) => i.op === 'HEALTHCHECK')!.json!;
  const vars = { POSTGRES_PASSWORD: 'pw_for_tests', WMILL_ADMIN_TOKEN: 'compose_test_token_0123456789' };

  it('services: PostgreSQL, a server and two workers of the wmill image this repository builds', () => {
    expect(Object.keys(s).sort()).toEqual(['postgres', 'server', 'worker-1', 'worker-2']);
    expect(s.postgres!.image).toMatch(/^postgres:\d+\.\d+/);
    for (const n of ['server', 'worker-1', 'worker-2']) {
      expect(s[n]!.image, n).toBe(`wmill:${pkg.version}`);
      expect(s[n]!.build?.context, n).toBe('..'); // deploy/.. : the Dockerfile at the repository root
    }
    expect(existsSync(join(REPO, 'deploy', s.server!.build!.context, 'Dockerfile'))).toBe(true);
  });

  it('commands: the server is API-only, each worker named; every flag is one wmill has', () => {
    const server = s.server!.command!;
    expect(server.slice(0, 1)).toEqual(['serve']);
    expect(server[server.indexOf('--workers') + 1]).toBe('0');
    expect(server[server.indexOf('--host') + 1]).toBe('0.0.0.0');
    expectKnownFlags(server);
    const names = ['worker-1', 'worker-2'].map((n) => {
      const cmd = s[n]!.command!;
      expect(cmd[0]).toBe('worker');
      expectKnownFlags(cmd);
      return cmd[cmd.indexOf('--name') + 1];
    });
    expect(names).toEqual(['worker-1', 'worker-2']);
  });

  it('environment: secrets only from variables that must be set; one database for all; workers reach the server by its service name', () => {
    expect(() => interpolate(s.server!.environment.WMILL_ADMIN_TOKEN!, {})).toThrow(/WMILL_ADMIN_TOKEN/);
    expect(() => interpolate(s.postgres!.environment.POSTGRES_PASSWORD!, {})).toThrow(/POSTGRES_PASSWORD/);
    const pg = s.postgres!.environment;
    const dbUrl = interpolate(s.server!.environment.DATABASE_URL!, vars);
    const u = new URL(dbUrl);
    expect([u.hostname, u.port, u.username, decodeURIComponent(u.password), u.pathname]).toEqual(['postgres', '5432', pg.POSTGRES_USER, vars.POSTGRES_PASSWORD, `/${pg.POSTGRES_DB}`]);
    const serverPort = s.server!.command![s.server!.command!.indexOf('--port') + 1];
    for (const n of ['worker-1', 'worker-2']) {
      expect(interpolate(s[n]!.environment.DATABASE_URL!, vars), n).toBe(dbUrl);
      expect(s[n]!.environment.BASE_INTERNAL_URL, n).toBe(`http://server:${serverPort}`);
    }
    expect(s.server!.ports).toEqual([`127.0.0.1:${serverPort}:${serverPort}`]);
    // No secret written in the file itself.
    expect(raw).not.toMatch(/^\s*\w*(PASSWORD|TOKEN):\s*[^$\s]/m);
  });

  it('start order: each depends_on waits for a health check that exists; the server check is the image one', () => {
    for (const [name, svc] of Object.entries(s)) {
      for (const [dep, { condition }] of Object.entries(svc.depends_on ?? {})) {
        expect(s[dep], `${name} depends on ${dep}`).toBeDefined();
        if (condition === 'service_healthy') expect('test' in s[dep]!.healthcheck, `${name} waits for ${dep} to be healthy`).toBe(true);
      }
    }
    expect(s.server!.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    for (const n of ['worker-1', 'worker-2']) expect(s[n]!.depends_on).toEqual({ server: { condition: 'service_healthy' } });
    expect((s.server!.healthcheck as { test: string[] }).test.slice(1)).toEqual(dockerfileHealth);
    expect((s.postgres!.healthcheck as { test: string[] }).test).toContain('pg_isready');
  });

  describe('running the services', () => {
    let db: Awaited<ReturnType<typeof freshDatabase>>;
    const procs: Proc[] = [];
    let port: number;

    beforeAll(async () => {
      db = await freshDatabase();
      port = await freePort();
    }, 180_000);

    afterAll(async () => {
      for (const p of procs.reverse()) await p.stop();
      await db?.drop();
    });

    /** A service's command and environment as compose would give them, mapped onto this machine. */
    function service(name: string): { args: string[]; env: NodeJS.ProcessEnv } {
      const map = (v: string) => v.replace('http://server:8000', `http://localhost:${port}`).replace(':8000/', `:${port}/`);
      const args = s[name]!.command!.map((a) => (a === '8000' ? String(port) : map(interpolate(a, vars))));
      const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
      for (const k of Object.keys(env)) if (/^(WM_|WMILL_|BASE_URL|BASE_INTERNAL_URL|DATABASE_URL)/.test(k)) delete env[k];
      for (const [k, v] of Object.entries(s[name]!.environment)) env[k] = map(interpolate(v, vars));
      // The `postgres` service is this test's database.
      expect(env.DATABASE_URL).toMatch(/@postgres:5432\//);
      env.DATABASE_URL = db.url;
      return { args, env };
    }

    it('the server becomes healthy, then the workers start and run every job; jobs reach the API at BASE_INTERNAL_URL', async () => {
      const srv = service('server');
      const server = start(process.execPath, [BIN, ...srv.args], { env: srv.env });
      procs.push(server);
      const health = (s.server!.healthcheck as { test: string[] }).test.slice(1).map((a) => a.replace(':8000/', `:${port}/`));
      await waitFor('the server health check passes', async () => (await runAsync(health[0]!, health.slice(1))) === 0, [server]);

      for (const name of ['worker-1', 'worker-2']) {
        const w = service(name);
        const p = start(process.execPath, [BIN, ...w.args], { env: w.env });
        procs.push(p);
        await waitFor(`${name} starts`, async () => p.out().includes(`wmill worker ${name} started`), [p]);
      }

      const api = (path: string, body?: unknown) =>
        fetch(`http://127.0.0.1:${port}/api/w/admins/${path}`, {
          method: body === undefined ? 'GET' : 'POST',
          headers: { authorization: `Bearer ${vars.WMILL_ADMIN_TOKEN}`, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      expect((await api('variables/create', { path: 'f/t/greeting', value: 'hello', is_secret: false, description: '' })).status).toBe(201);
      const content = "import * as wmill from 'windmill-client';\nexport async function main(i: number) {\n  return { i, base: process.env.BASE_INTERNAL_URL, v: await wmill.getVariable('f/t/greeting') };\n}\n";
      expect((await api('scripts/create', { path: 'f/t/where', summary: '', description: '', content, language: 'bun', schema: {} })).status).toBe(201);
      const results = await Promise.all(
        [1, 2, 3, 4, 5, 6].map(async (i) => {
          const r = await api('jobs/run_wait_result/p/f/t/where', { i });
          return { status: r.status, body: await r.json() };
        }),
      );
      for (const [n, r] of results.entries()) {
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        expect(r.body).toEqual({ i: n + 1, base: `http://localhost:${port}`, v: 'hello' });
      }
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        const { rows } = await client.query(`SELECT DISTINCT worker FROM job WHERE path = 'f/t/where'`);
        const ran = rows.map((r) => r.worker as string);
        expect(ran.length).toBeGreaterThan(0);
        for (const w of ran) expect(['worker-1', 'worker-2']).toContain(w);
      } finally {
        await client.end();
      }
    }, 300_000);
  });
});

// ---------------------------------------------------------------------------------------------
// systemd

/** A unit file's settings: section → key → values (a key may repeat). */
function parseUnit(text: string): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {};
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const sec = /^\[(\w+)\]$/.exec(line);
    if (sec) {
      section = sec[1]!;
      out[section] ??= {};
      continue;
    }
    const kv = /^(\w+)=(.*)$/.exec(line);
    if (!kv || !section) throw new Error(`not a unit file line: ${line}`);
    (out[section]![kv[1]!] ??= []).push(kv[2]!);
  }
  return out;
}

describe('deploy/systemd', () => {
  const dir = join(REPO, 'deploy/systemd');
  const units = { 'wmill.service': 'wmill.service', 'wmill-worker@.service': 'wmill-worker@1.service' };
  const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;
  if (!hasAnalyze) console.warn('test/deploy.test.ts: systemd-analyze is not installed: the units are parsed, not verified by systemd');

  /** A copy of the unit whose ExecStart runs this repository's CLI (systemd checks the binary exists). */
  function localCopy(file: string, as: string): string {
    const d = mkdtempSync(join(work, 'unit-'));
    writeFileSync(join(d, as), readFileSync(join(dir, file), 'utf8').replaceAll('/usr/local/bin/wmill', BIN));
    return join(d, as);
  }

  it.each(Object.keys(units))('%s: a dedicated user, sandboxed, stopped cleanly, restarted on failure', (file) => {
    const u = parseUnit(readFileSync(join(dir, file), 'utf8'));
    const svc = u.Service!;
    const one = (k: string) => svc[k]?.[svc[k]!.length - 1];
    expect(one('User')).toBe('wmill');
    expect(one('Group')).toBe('wmill');
    expect(svc.DynamicUser).toBeUndefined();
    for (const [k, v] of Object.entries({
      NoNewPrivileges: 'yes',
      ProtectSystem: 'strict',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      PrivateDevices: 'yes',
      ProtectKernelTunables: 'yes',
      ProtectKernelModules: 'yes',
      ProtectControlGroups: 'yes',
      RestrictSUIDSGID: 'yes',
      LockPersonality: 'yes',
      CapabilityBoundingSet: '',
      AmbientCapabilities: '',
      UMask: '0077',
      StateDirectory: 'wmill',
      KillMode: 'mixed',
      Restart: 'on-failure',
    })) {
      expect(one(k), `${file}: ${k}`).toBe(v);
    }
    expect(svc.MemoryDenyWriteExecute, 'Node needs W+X memory for its JIT').toBeUndefined();
    expect(svc.SystemCallFilter).toContain('@system-service');
    expect(one('EnvironmentFile')).toBe('-/etc/wmill/wmill.env');
    const exec = one('ExecStart')!.split(/\s+/);
    expect(exec[0]).toBe('/usr/local/bin/wmill');
    expectKnownFlags(exec.slice(1).map((a) => a.replace(/%\w/g, 'x')));
    expect(u.Install!.WantedBy).toEqual(['multi-user.target']);
    // The state folder is the user's home, as the sysusers entry declares it.
    const sysusers = readFileSync(join(dir, 'wmill.sysusers.conf'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(sysusers).toHaveLength(1);
    const [type, name, , , home] = sysusers[0]!.match(/"[^"]*"|\S+/g)!;
    expect([type, name, home]).toEqual(['u', 'wmill', `/var/lib/${one('StateDirectory')}`]);
    expect(one('WorkingDirectory')).toBe(home);
  });

  it.skipIf(!hasAnalyze).each(Object.entries(units))('%s: systemd-analyze verify finds nothing; security --offline rates it OK', (file, as) => {
    const copy = localCopy(file, as);
    const v = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
    expect(v.status, v.stderr).toBe(0);
    expect(v.stderr.split('\n').filter((l) => l.includes(copy) || /Unknown|Failed|ignoring/.test(l))).toEqual([]);
    const sec = spawnSync('systemd-analyze', ['security', '--offline=true', copy], { encoding: 'utf8' });
    const m = /Overall exposure level for \S+: ([\d.]+) (\w+)/.exec(sec.stdout);
    expect(m, sec.stdout + sec.stderr).not.toBeNull();
    expect(Number(m![1]), sec.stdout).toBeLessThanOrEqual(2.0);
    expect(m![2]).toBe('OK');
  });

  it('its ExecStart serves as an unprivileged user from its own state folder, and stops on SIGTERM', async () => {
    const u = parseUnit(readFileSync(join(dir, 'wmill.service'), 'utf8')).Service!;
    const state = join(work, 'var-lib-wmill');
    const cache = join(work, 'var-cache-wmill');
    mkdirSync(state, { mode: 0o700 });
    mkdirSync(cache, { mode: 0o700 });
    const asRoot = process.getuid?.() === 0;
    const nobody = asRoot ? { uid: Number(spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout), gid: Number(spawnSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).stdout) } : undefined;
    if (nobody) {
      chownSync(state, nobody.uid, nobody.gid);
      chownSync(cache, nobody.uid, nobody.gid);
      chmodSync(work, 0o755); // the temp folder holding them: traversable by that user
    }
    const port = String(await freePort());
    const map = (v: string) => v.replaceAll('/var/lib/wmill', state).replaceAll('/var/cache/wmill', cache).replace('/usr/local/bin/wmill', BIN).replace(/--port \d+/, `--port ${port}`);
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, LANG: 'C.UTF-8', WMILL_ADMIN_TOKEN: 'unit_test_token_0123456789' };
    for (const line of u.Environment ?? []) for (const kv of line.split(/\s+/)) env[kv.split('=')[0]!] = map(kv.slice(kv.indexOf('=') + 1));
    const exec = map(u.ExecStart![0]!).split(/\s+/);
    const proc = start(process.execPath, exec, { env, cwd: map(u.WorkingDirectory![0]!), ...nobody });
    try {
      await waitFor('the unit\'s server answers', async () => (await fetch(`http://127.0.0.1:${port}/api/version`).catch(() => undefined))?.ok, [proc]);
      expect(existsSync(join(state, 'data'))).toBe(true); // its data where the unit says, nothing elsewhere
    } finally {
      expect(await proc.stop(), proc.out()).toBe(0);
    }
  }, 300_000);
});
