/**
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY for every remote command (src/api/client.ts): the CLI, as a
 * child process, talks to a real `wmill serve` through a real proxy written here (CONNECT tunnels
 * and absolute-form forwarding, optional Basic proxy auth), over http and over TLS (a TLS front
 * with the self-signed fixture certificate, trusted through NODE_EXTRA_CA_CERTS). The proxy's own
 * log says which requests went through it. A proxy is third-party infrastructure, hence ours here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from './helpers/server.js';
import { BIN, REPO } from './helpers/workspace.js';
import { proxyFor } from '../src/api/client.js';

const CERT = join(REPO, 'test/fixtures/tls/localhost.crt');
const KEY = join(REPO, 'test/fixtures/tls/localhost.key');
const PROXY_USER = 'proxyuser';
const PROXY_PASS = 'pr0xy-s3cret-pass';

interface Seen {
  kind: 'connect' | 'forward';
  target: string;
  auth?: string;
}

let server: TestServer;
let httpUrl: string; // wmill serve, plain http
let tlsUrl: string; // the same server behind a TLS front
let tlsFront: TlsServer;
let proxy: Server;
let proxyUrl: string;
let requireAuth = false;
const seen: Seen[] = [];
const sockets = new Set<Socket>();
let configDir: string;

const basic = `Basic ${Buffer.from(`${PROXY_USER}:${PROXY_PASS}`).toString('base64')}`;

function listen(s: Server | TlsServer): Promise<number> {
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
}

beforeAll(async () => {
  server = await startTestServer({ workers: 0 });
  httpUrl = server.url;
  const serverPort = Number(new URL(httpUrl).port);

  tlsFront = createTlsServer({ key: readFileSync(KEY), cert: readFileSync(CERT) }, (s) => {
    const up = connect(serverPort, '127.0.0.1');
    s.pipe(up).pipe(s);
    s.on('error', () => up.destroy());
    up.on('error', () => s.destroy());
  });
  tlsUrl = `https://localhost:${await listen(tlsFront)}/`;

  // The proxy: CONNECT tunnels, and absolute-form requests forwarded (hop-by-hop headers dropped).
  proxy = createServer((req, res) => {
    seen.push({ kind: 'forward', target: req.url!, auth: req.headers['proxy-authorization'] });
    if (requireAuth && req.headers['proxy-authorization'] !== basic) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"' }).end();
      return;
    }
    const target = new URL(req.url!);
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const up = httpRequest(target, { method: req.method, headers }, (r) => {
      res.writeHead(r.statusCode!, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  proxy.on('connect', (req, client: Socket, head: Buffer) => {
    seen.push({ kind: 'connect', target: req.url!, auth: req.headers['proxy-authorization'] });
    if (requireAuth && req.headers['proxy-authorization'] !== basic) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n\r\n');
      return;
    }
    const [host, port] = req.url!.split(':');
    const up = connect(Number(port), host === 'localhost' ? '127.0.0.1' : host!, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      up.write(head);
      up.pipe(client).pipe(up);
    });
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
  });
  proxy.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  proxyUrl = `http://127.0.0.1:${await listen(proxy)}`;
  configDir = mkdtempSync(join(tmpdir(), 'wmill-proxy-cfg-'));
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => proxy?.close(r));
  await new Promise((r) => tlsFront?.close(r));
  await server?.close();
  rmSync(configDir, { recursive: true, force: true });
});

/** The CLI as a child process, with only the given proxy variables (none inherited). */
function run(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(https?|no)_proxy$/i.test(k)) base[k] = v;
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...base, NO_COLOR: '1', NODE_EXTRA_CA_CERTS: CERT, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr })));
}

const whoami = (url: string) => ['workspace', 'whoami', '--base-url', url, '--workspace', 'admins', '--token', server.token, '--json'];

// Each case starts the CLI one or more times: generous time on a loaded machine.
describe('HTTP(S)_PROXY and NO_PROXY', { timeout: 300_000 }, () => {
  it('without proxy variables: direct, the proxy sees nothing', async () => {
    seen.length = 0;
    const r = await run(whoami(httpUrl));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).user.email).toBe('admin@windmill.dev');
    expect(seen).toEqual([]);
  });

  it('HTTP_PROXY: an http:// server is reached through the proxy (forwarded, with the request body)', async () => {
    seen.length = 0;
    const r = await run(['workspace', 'add', 'viaproxy', 'admins', httpUrl, '--token', server.token, '--config-dir', configDir, '--json'], { HTTP_PROXY: proxyUrl });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, workspaceId: 'admins' });
    // POST /workspaces/exists (a JSON body) went through the proxy as an absolute-form request.
    expect(seen).toContainEqual({ kind: 'forward', target: `${httpUrl}api/workspaces/exists`, auth: undefined });
    expect(seen.every((s) => s.kind === 'forward' && s.target.startsWith(httpUrl))).toBe(true);
  });

  it('HTTPS_PROXY: an https:// server is reached through a CONNECT tunnel (TLS end to end)', async () => {
    seen.length = 0;
    const r = await run(whoami(tlsUrl), { HTTPS_PROXY: proxyUrl });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(JSON.parse(r.stdout).user.email).toBe('admin@windmill.dev');
    const port = new URL(tlsUrl).port;
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((s) => s.kind === 'connect' && s.target === `localhost:${port}`)).toBe(true);
  });

  it('lowercase https_proxy wins over HTTPS_PROXY (as curl reads them)', async () => {
    seen.length = 0;
    const r = await run(whoami(tlsUrl), { https_proxy: proxyUrl, HTTPS_PROXY: 'http://127.0.0.1:9' });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(seen.length).toBeGreaterThan(0);
  });

  it('NO_PROXY: a matching host (or host:port, or domain suffix, or *) goes direct; another port does not match', async () => {
    const port = new URL(tlsUrl).port;
    for (const noProxy of ['localhost', `localhost:${port}`, '.localhost,example.com', '*', 'example.com, localhost']) {
      seen.length = 0;
      const r = await run(whoami(tlsUrl), { HTTPS_PROXY: proxyUrl, NO_PROXY: noProxy });
      expect(r.code, `${noProxy}: ${r.stderr}` + r.stdout).toBe(0);
      expect(seen, noProxy).toEqual([]);
      expect(proxyFor(new URL(tlsUrl), { HTTPS_PROXY: proxyUrl, NO_PROXY: noProxy }), noProxy).toBeUndefined();
    }
    for (const noProxy of [`localhost:${Number(port) + 1}`, 'example.com', 'calhost']) {
      seen.length = 0;
      const r = await run(whoami(tlsUrl), { HTTPS_PROXY: proxyUrl, no_proxy: noProxy });
      expect(r.code, `${noProxy}: ${r.stderr}` + r.stdout).toBe(0);
      expect(seen.length, noProxy).toBeGreaterThan(0);
      expect(proxyFor(new URL(tlsUrl), { HTTPS_PROXY: proxyUrl, no_proxy: noProxy }), noProxy).toBe(proxyUrl);
    }
  });

  it('credentials in the proxy URL become Proxy-Authorization; a wrong one fails with exit 1 and never prints the password', async () => {
    requireAuth = true;
    try {
      seen.length = 0;
      const good = `http://${PROXY_USER}:${PROXY_PASS}@${new URL(proxyUrl).host}`;
      const ok = await run(whoami(tlsUrl), { HTTPS_PROXY: good });
      expect(ok.code, ok.stderr + ok.stdout).toBe(0);
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((s) => s.auth === basic)).toBe(true);
      const okHttp = await run(whoami(httpUrl), { HTTP_PROXY: good });
      expect(okHttp.code, okHttp.stderr + okHttp.stdout).toBe(0);

      const bad = `http://${PROXY_USER}:wrong-${PROXY_PASS}@${new URL(proxyUrl).host}`;
      for (const [url, env] of [[tlsUrl, { HTTPS_PROXY: bad }], [httpUrl, { HTTP_PROXY: bad }]] as const) {
        const r = await run([...whoami(url)], env);
        expect(r.code).toBe(1);
        const error = JSON.parse(r.stdout).error;
        expect(error.code).toBe('network');
        expect(error.message).toContain(`through the proxy ${proxyUrl}`);
        expect(error.message).toContain('407');
        expect(r.stdout + r.stderr).not.toContain(PROXY_PASS);
      }
    } finally {
      requireAuth = false;
    }
  });

  it('a proxy that is down: exit 1, one line naming the server and the proxy', async () => {
    const closed = createNetServer();
    const port = await new Promise<number>((resolve) => closed.listen(0, '127.0.0.1', () => resolve((closed.address() as AddressInfo).port)));
    await new Promise((r) => closed.close(r));
    const r = await run(['workspace', 'whoami', '--base-url', tlsUrl, '--workspace', 'admins', '--token', server.token], { HTTPS_PROXY: `http://u:p4ss@127.0.0.1:${port}` });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`could not connect to the server at ${tlsUrl} through the proxy http://127.0.0.1:${port}`);
    expect(r.stderr).not.toContain('p4ss');
  });

  it('HTTP_PROXY alone: an https:// server goes through it too (CONNECT)', async () => {
    seen.length = 0;
    const r = await run(whoami(tlsUrl), { HTTP_PROXY: proxyUrl });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((s) => s.kind === 'connect')).toBe(true);
    expect(proxyFor(new URL(tlsUrl), { HTTP_PROXY: proxyUrl })).toBe(proxyUrl);
    expect(proxyFor(new URL(tlsUrl), { https_proxy: '', HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: proxyUrl })).toBe(proxyUrl); // an empty lowercase name wins
  });

  it("a job's SDK reaches the runner's API directly, while the job's own requests use the proxy", async () => {
    const ws = mkdtempSync(join(tmpdir(), 'wmill-proxy-ws-'));
    try {
      mkdirSync(join(ws, 'f/t'), { recursive: true });
      writeFileSync(join(ws, 'wmill.yaml'), 'defaultTs: bun\n');
      writeFileSync(join(ws, 'f/t/greeting.variable.yaml'), "value: hello\nis_secret: false\ndescription: ''\n");
      // `localhost` for the job's own request: another name than the runner's API (127.0.0.1).
      const outside = `http://localhost:${new URL(httpUrl).port}/api/version`;
      writeFileSync(
        join(ws, 'f/t/both.py'),
        `import urllib.request\nimport wmill\n\ndef main():\n    with urllib.request.urlopen(${JSON.stringify(outside)}) as r:\n        version = r.read().decode()\n    return {"v": wmill.get_variable("f/t/greeting"), "version": version}\n`,
      );
      seen.length = 0;
      const r = await run(['script', 'preview', 'f/t/both.py', '-s'], { HTTP_PROXY: proxyUrl, NO_PROXY: 'example.com' }, ws);
      expect(r.code, r.stderr + r.stdout).toBe(0);
      expect(JSON.parse(r.stdout).v).toBe('hello');
      expect(seen).toEqual([{ kind: 'forward', target: outside, auth: undefined }]);
    } finally {
      rmSync(ws, { recursive: true, force: true });
    }
  });

  it('undici is loaded only when a proxy variable is set (start-up stays as it was)', async () => {
    // A module hook that reports every module file whose URL names undici.
    const hook = `data:text/javascript,${encodeURIComponent(
      `import { register } from 'node:module';
       register('data:text/javascript,' + encodeURIComponent('export async function load(u, c, next) { if (/undici/.test(u)) process._rawDebug("[loaded] " + u); return next(u, c); }'));`,
    )}`;
    const plain = await run(whoami(httpUrl), { NODE_OPTIONS: `--import=${hook}` });
    expect(plain.code, plain.stderr + plain.stdout).toBe(0);
    expect(plain.stderr).not.toContain('[loaded]');
    const viaProxy = await run(whoami(httpUrl), { NODE_OPTIONS: `--import=${hook}`, HTTP_PROXY: proxyUrl });
    expect(viaProxy.code, viaProxy.stderr + viaProxy.stdout).toBe(0);
    expect(viaProxy.stderr).toContain('[loaded]');
  });
});
