/**
 * The HTTP client every remote command uses (src/api/client.ts, on node:http): JSON and raw
 * bodies, errors mapped to codes without the token, redirects (credentials kept to the same
 * origin), timeouts and refused connections as network errors. Real servers on loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiClient, ApiError } from '../src/api/client.js';
import { WmillError } from '../src/errors.js';

const TOKEN = 'secret_token_123456';
let a: Server;
let b: Server;
let aUrl: string;
let bUrl: string;
const seen: { server: string; method: string; url: string; auth?: string; body: string }[] = [];

function listen(name: string, handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<[Server, string]> {
  const s = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen.push({ server: name, method: req.method!, url: req.url!, auth: req.headers.authorization, body });
      handler(req, res, body);
    });
  });
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve([s, `http://127.0.0.1:${(s.address() as AddressInfo).port}/`])));
}

beforeAll(async () => {
  [b, bUrl] = await listen('b', (req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ at: 'b', url: req.url }));
  });
  [a, aUrl] = await listen('a', (req, res, body) => {
    const u = req.url!;
    if (u.startsWith('/api/echo')) {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method, body: body ? JSON.parse(body) : null, q: new URL(u, 'http://x').searchParams.get('q') }));
    } else if (u === '/api/raw') {
      res.end(Buffer.from([0, 1, 2, 255]));
    } else if (u === '/api/denied') {
      res.statusCode = 401;
      res.end(`bad token ${TOKEN}`);
    } else if (u === '/api/moved') {
      res.statusCode = 307;
      res.setHeader('location', '/api/echo');
      res.end();
    } else if (u === '/api/see-other') {
      res.statusCode = 303;
      res.setHeader('location', '/api/echo');
      res.end();
    } else if (u === '/api/elsewhere') {
      res.statusCode = 302;
      res.setHeader('location', `${bUrl}api/landed`);
      res.end();
    } else if (u === '/api/slow') {
      setTimeout(() => res.end('late'), 3000);
    } else {
      res.statusCode = 404;
      res.end('no such route');
    }
  });
});

afterAll(() => {
  a.closeAllConnections();
  b.closeAllConnections();
  a.close();
  b.close();
});

describe('ApiClient', () => {
  it('sends JSON with the token and query, reads JSON and raw bodies', async () => {
    const c = new ApiClient({ remote: aUrl, token: TOKEN });
    expect(await c.json('POST', '/echo', { body: { x: [1, 'é'] }, query: { q: 'a b' } })).toEqual({ method: 'POST', body: { x: [1, 'é'] }, q: 'a b' });
    expect(seen.at(-1)!.auth).toBe(`Bearer ${TOKEN}`);
    const raw = await c.call('GET', '/raw', { raw: true });
    expect([...raw.buffer!]).toEqual([0, 1, 2, 255]);
  });

  it('maps error statuses to codes and never shows the token', async () => {
    const c = new ApiClient({ remote: aUrl, token: TOKEN });
    const denied = await c.json('GET', '/denied').catch((e) => e);
    expect(denied).toBeInstanceOf(ApiError);
    expect(denied.code).toBe('auth');
    expect(denied.message).toContain('401');
    expect(denied.message).not.toContain(TOKEN);
    const missing = await c.json('GET', '/nope').catch((e) => e);
    expect(missing.code).toBe('not_found');
  });

  it('follows redirects: 307 keeps the method and body, 303 becomes a GET; the token stays on its origin', async () => {
    const c = new ApiClient({ remote: aUrl, token: TOKEN });
    expect(await c.json('POST', '/moved', { body: { k: 1 } })).toEqual({ method: 'POST', body: { k: 1 }, q: null });
    expect(await c.json('POST', '/see-other', { body: { k: 1 } })).toEqual({ method: 'GET', body: null, q: null });
    expect(await c.json('GET', '/elsewhere')).toEqual({ at: 'b', url: '/api/landed' });
    const atB = seen.filter((s) => s.server === 'b').at(-1)!;
    expect(atB.auth).toBeUndefined();
  });

  it('a refused connection and a timeout are network errors naming the server', async () => {
    const refused = await new ApiClient({ remote: 'http://127.0.0.1:1/', token: TOKEN }).json('GET', '/x').catch((e) => e);
    expect(refused).toBeInstanceOf(WmillError);
    expect(refused.code).toBe('network');
    expect(refused.message).toMatch(/could not connect to the server at http:\/\/127\.0\.0\.1:1\/ \(.*ECONNREFUSED/);
    const slow = await new ApiClient({ remote: aUrl, token: TOKEN, timeoutMs: 300 }).json('GET', '/slow').catch((e) => e);
    expect(slow.code).toBe('network');
    expect(slow.message).toContain('no answer within');
    expect(slow.message).not.toContain(TOKEN);
  });
});

describe('a kept-alive connection the server closes as a request goes out on it', () => {
  // A server that answers the first request of each connection (keep-alive) and drops the
  // connection, answering nothing, when a second request arrives on it: what a client sees when
  // the server's idle timeout closes the connection just as the request goes out.
  const requests: { conn: number; method: string }[] = [];
  let srv: import('node:net').Server;
  let url: string;
  beforeAll(async () => {
    const net = await import('node:net');
    let conns = 0;
    srv = net.createServer((sock) => {
      const conn = ++conns;
      let n = 0;
      let buf = '';
      sock.on('data', (d) => {
        buf += d;
        while (buf.includes('\r\n\r\n')) {
          const head = buf.slice(0, buf.indexOf('\r\n\r\n'));
          const len = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
          if (buf.length < head.length + 4 + len) return;
          buf = buf.slice(head.length + 4 + len);
          requests.push({ conn, method: head.split(' ')[0]! });
          if (++n > 1) {
            sock.resetAndDestroy();
            return;
          }
          sock.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4\r\nConnection: keep-alive\r\n\r\n"ok"');
        }
      });
      sock.on('error', () => undefined);
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((r) => srv.close(() => r())));

  it('an idempotent request is sent once more, on a new connection; a POST already written is not', async () => {
    const c = new ApiClient({ remote: url, token: TOKEN });
    expect(await c.json('GET', '/version')).toBe('ok');
    // Same connection, dropped under the request: sent again on a new one, once.
    expect(await c.json('GET', '/version')).toBe('ok');
    expect(requests).toEqual([
      { conn: 1, method: 'GET' },
      { conn: 1, method: 'GET' },
      { conn: 2, method: 'GET' },
    ]);
    // A POST that reached the server on a dropped connection may have been acted on: not resent.
    const err = await c.json('POST', '/w/x/jobs/run/p/f/a/b', { body: { a: 1 } }).catch((e) => e);
    expect(err).toBeInstanceOf(WmillError);
    expect((err as WmillError).message).toMatch(/Network error/);
    expect(requests.slice(3)).toEqual([{ conn: 2, method: 'POST' }]);
  });
});
