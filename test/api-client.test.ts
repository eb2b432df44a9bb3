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
