/**
 * The HTTP envelope of `wmill serve` (spec/windmill-server.md §1): a tiny router over
 * node:http with Windmill's conventions: `/api` prefix, catch-all item paths, text/plain
 * bodies for ids/hashes, JSON otherwise, errors as a text body with a 4xx status (never a 500
 * for bad input), and a body size limit.
 *
 * The router stays hand-written (measured against find-my-way 9.10, the table of the 111 routes
 * we serve): matching takes 0.6 µs here on average and 1.1 µs for a path no route takes (every
 * pattern tried), against 0.35 µs with find-my-way; a request to `wmill serve` takes 800-1400 µs
 * (keep-alive, one at a time, PGlite), so the router is under 0.1% of it either way, and
 * importing find-my-way costs 29 ms. The routes are regular expressions because Windmill's item
 * paths are catch-alls (`scripts/get/p/(.+)`). The rest of this file (body limits, text/plain
 * replies, the token's three places, item path checks) is Windmill's envelope, not routing.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { queryReader, type QueryReader } from '../util/query.js';
import { MAX_DEPTH, valueDepth } from '../util/data-file.js';

export class HttpError extends Error {
  constructor(
    public status: number,
    message: string,
  ) {
    super(message);
  }
}

export const badRequest = (m: string) => new HttpError(400, m);
export const notFound = (m: string) => new HttpError(404, m);
export const forbidden = (m: string) => new HttpError(403, m);

export type Reply =
  | { status?: number; json: unknown; text?: undefined; bytes?: undefined }
  | { status?: number; text: string; json?: undefined; bytes?: undefined }
  | { status?: number; bytes: Buffer; contentType: string; json?: undefined; text?: undefined; filename?: string; headers?: Record<string, string> };

export const text = (t: string, status = 200): Reply => ({ status, text: t });
export const json = (v: unknown, status = 200): Reply => ({ status, json: v });

export const MAX_BODY = 16 * 1024 * 1024;

export async function readBody(req: IncomingMessage, limit = MAX_BODY): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    req.resume();
    throw new HttpError(413, `request body too large (${declared} bytes; the limit is ${limit})`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw new HttpError(413, `request body too large (the limit is ${limit} bytes)`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The JSON body, or undefined when empty; 400 on malformed JSON. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const buf = await readBody(req);
  const s = buf.toString('utf8');
  if (!s.trim()) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(s);
  } catch (e) {
    throw badRequest(`request body is not valid JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  // Deeper values overflow the stack of whoever walks them later (a 500): refused here.
  if (valueDepth(v, MAX_DEPTH) > MAX_DEPTH) throw badRequest(`request body: nested more than ${MAX_DEPTH} levels deep`);
  return v;
}

export function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent) return;
  const status = reply.status ?? 200;
  if (reply.bytes !== undefined) {
    res.writeHead(status, {
      'Content-Type': reply.contentType,
      'Content-Length': reply.bytes.length,
      ...(reply.filename ? { 'Content-Disposition': `attachment; filename="${reply.filename}"` } : {}),
      ...reply.headers,
    });
    res.end(reply.bytes);
  } else if (reply.text !== undefined) {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(reply.text);
  } else {
    const body = JSON.stringify(reply.json === undefined ? null : reply.json);
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(body);
  }
}

/** Token from `Authorization: Bearer`, the `token` cookie, or `?token=`. */
export function requestToken(req: IncomingMessage, query: URLSearchParams): string | undefined {
  const h = req.headers.authorization;
  if (h && /^Bearer\s+/i.test(h)) return h.replace(/^Bearer\s+/i, '').trim() || undefined;
  const cookie = req.headers.cookie;
  if (cookie) {
    for (const part of cookie.split(';')) {
      const [k, ...v] = part.trim().split('=');
      if (k === 'token' && v.length) {
        try {
          return decodeURIComponent(v.join('='));
        } catch {
          return v.join('=');
        }
      }
    }
  }
  return query.get('token') ?? undefined;
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;

/**
 * Check a Windmill item path (`u/<user>/...`, `f/<folder>/...`, `g/<group>/...`): at least
 * three segments of letters, digits, `_` and `-`. Rejects `..`, empty segments, dots, and
 * anything else that could escape a folder when the path becomes a file name.
 */
export function checkItemPath(path: unknown, what = 'path'): string {
  if (typeof path !== 'string' || !path) throw badRequest(`${what} is required`);
  const segs = path.split('/');
  if (segs.includes('..') || segs.includes('.')) throw badRequest(`invalid ${what} "${path}": ".." and "." segments are not allowed`);
  if (!['u', 'f', 'g'].includes(segs[0]!) || segs.length < 3 || !segs.slice(1).every((s) => SEGMENT.test(s))) {
    throw badRequest(`invalid ${what} "${path}": expected u/<user>/<name>, f/<folder>/<name> or g/<group>/<name> with letters, digits, _ and -`);
  }
  if (path.length > 255) throw badRequest(`invalid ${what}: longer than 255 characters`);
  return path;
}

export function checkName(name: unknown, what: string): string {
  if (typeof name !== 'string' || !SEGMENT.test(name) || name.length > 100) {
    throw badRequest(`invalid ${what} ${JSON.stringify(name)}: use letters, digits, _ and -`);
  }
  return name;
}

export interface Ctx {
  req: IncomingMessage;
  method: string;
  /** Workspace id for `/api/w/{ws}/...` routes. */
  ws: string;
  /** The regex groups of the route. */
  params: string[];
  query: URLSearchParams;
  /** The query's values, parsed (a malformed value is a 400 naming the parameter: src/util/query.ts). */
  q: QueryReader;
  body(): Promise<unknown>;
  /** A JSON object body (400 when it is something else). */
  obj(): Promise<Record<string, any>>;
}

export type Handler<P> = (c: Ctx, p: P) => Promise<Reply>;

export class Router<P> {
  private routes: { method: string; re: RegExp; h: Handler<P> }[] = [];

  on(method: string, pattern: string, h: Handler<P>): void {
    this.routes.push({ method, re: new RegExp(`^${pattern}$`), h });
  }

  get = (p: string, h: Handler<P>) => this.on('GET', p, h);
  post = (p: string, h: Handler<P>) => this.on('POST', p, h);
  del = (p: string, h: Handler<P>) => this.on('DELETE', p, h);

  match(method: string, path: string): { h: Handler<P>; params: string[] } | undefined {
    for (const r of this.routes) {
      if (r.method !== method && !(r.method === 'GET' && method === 'HEAD')) continue;
      const m = r.re.exec(path);
      if (m) return { h: r.h, params: m.slice(1).map((x) => x ?? '') };
    }
    return undefined;
  }

  /** Whether some route matches the path with another method (for 405 vs 404). */
  knows(path: string): boolean {
    return this.routes.some((r) => r.re.test(path));
  }
}

export function makeCtx(req: IncomingMessage, ws: string, params: string[], query: URLSearchParams): Ctx {
  let cached: Promise<unknown> | undefined;
  const body = () => (cached ??= readJson(req));
  return {
    req,
    method: req.method ?? 'GET',
    ws,
    params,
    query,
    q: queryReader(query, badRequest),
    body,
    async obj() {
      const b = await body();
      if (b === undefined) return {};
      if (!b || typeof b !== 'object' || Array.isArray(b)) throw badRequest('request body must be a JSON object');
      return b as Record<string, any>;
    },
  };
}

/** A boolean query parameter (`true`/`1`, `false`/`0`; anything else is a 400). */
export const boolParam = (q: URLSearchParams, k: string, dflt = false): boolean => queryReader(q, badRequest).bool(k, dflt);
