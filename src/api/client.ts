import { WmillError } from '../errors.js';
import { normalizeRemote } from '../util/url.js';

export { normalizeRemote };

/**
 * The one HTTP client for talking to a Windmill-compatible server (ours or a real one):
 * auth, JSON/text bodies, and errors mapped to our exit codes in one place. Tokens never
 * appear in error messages.
 */
export interface ClientOptions {
  /** Server root with a trailing slash, e.g. http://127.0.0.1:8000/ */
  remote: string;
  token?: string;
  workspace?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/**
 * HEADERS='h1: v1, h2: v2': headers added to every request, as the reference CLI reads them
 * (e.g. for an authenticating proxy in front of the server). A malformed entry is a usage error.
 */
export function envHeaders(v = process.env.HEADERS): Record<string, string> {
  if (!v) return {};
  const out: Record<string, string> = {};
  for (const [n, part] of v.split(',').entries()) {
    if (!part.trim()) continue;
    const i = part.indexOf(':');
    const name = i > 0 ? part.slice(0, i).trim() : '';
    if (!name || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new WmillError('usage', `HEADERS: entry ${n + 1} is not a 'name: value' pair (values are not shown); write HEADERS='h1: v1, h2: v2'`);
    out[name.toLowerCase()] = part.slice(i + 1).trim();
  }
  return out;
}

export class ApiError extends WmillError {
  constructor(public status: number, message: string, public body: string) {
    super(status === 401 || status === 403 ? 'auth' : status === 404 ? 'not_found' : status === 409 ? 'conflict' : 'failure', message, { status });
  }
}

type Query = Record<string, string | number | boolean | undefined>;

interface RawResponse {
  status: number;
  headers: Record<string, string | undefined>;
  body: Buffer;
}

// node:http(s) with keep-alive agents rather than fetch: Node loads its fetch implementation
// (undici) on first use, ~20 ms of every command's start-up.
type Transport = { mod: typeof import('node:http') | typeof import('node:https'); agent: import('node:http').Agent };
let transports: Promise<{ http: Transport; https: Transport }> | undefined;
async function transport(url: URL): Promise<Transport> {
  transports ??= Promise.all([import('node:http'), import('node:https')]).then(([http, https]) => ({
    http: { mod: http, agent: new http.Agent({ keepAlive: true }) },
    https: { mod: https, agent: new https.Agent({ keepAlive: true }) },
  }));
  const t = await transports;
  return url.protocol === 'https:' ? t.https : t.http;
}

// Proxies: HTTPS_PROXY / HTTP_PROXY / NO_PROXY (and the lowercase names, which win, as curl
// reads them). Only when one of them is set is undici loaded (bundled in its own chunk), and then
// every request goes through its EnvHttpProxyAgent: CONNECT tunnels for https:// targets, plain
// forwarding for http:// ones (proxyTunnel: false, as curl and npm do), NO_PROXY host[:port]
// and domain-suffix entries, `*`, and credentials in the proxy URL (Proxy-Authorization).
const PROXY_VARS = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY', 'no_proxy', 'NO_PROXY'] as const;
type Undici = typeof import('undici');
let proxied: { key: string; undici: Undici; agent: import('undici').Dispatcher } | undefined;

/** The proxy variables' values when a proxy is set (the key of the agent made for them), else undefined. */
function proxyKey(): string | undefined {
  const values = PROXY_VARS.map((k) => process.env[k] ?? '');
  return values.slice(0, 4).some(Boolean) ? values.join('\n') : undefined;
}

/**
 * The proxy a request to `url` goes through (credentials left out), or undefined when it goes
 * direct: EnvHttpProxyAgent's rules, for error messages (test/proxy.test.ts holds the two together).
 */
export function proxyFor(url: URL, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const https = url.protocol === 'https:';
  const httpProxy = env.http_proxy ?? env.HTTP_PROXY;
  const proxy = https ? (env.https_proxy ?? env.HTTPS_PROXY) || httpProxy : httpProxy;
  if (!proxy) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = Number(url.port) || (https ? 443 : 80);
  for (const entry of (env.no_proxy ?? env.NO_PROXY ?? '').split(/[,\s]/).filter(Boolean)) {
    if (entry === '*') return undefined;
    const m = /^(.+):(\d+)$/.exec(entry);
    const h = (m ? m[1]! : entry).replace(/^\*?\./, '').replace(/^\[|\]$/g, '').toLowerCase();
    if (m && Number(m[2]) !== port) continue;
    if (host === h || host.endsWith(`.${h}`)) return undefined;
  }
  try {
    const p = new URL(proxy);
    return `${p.protocol}//${p.host}`;
  } catch {
    return proxy.replace(/\/\/[^@/]*@/, '//');
  }
}

async function proxyAgent(key: string): Promise<NonNullable<typeof proxied>> {
  if (proxied?.key === key) return proxied;
  // A CommonJS package: bundled, its exports are on `default`.
  const m = (await import('undici')) as Undici & { default?: Undici };
  const undici = m.default ?? m;
  void proxied?.agent.close();
  return (proxied = { key, undici, agent: new undici.EnvHttpProxyAgent({ proxyTunnel: false }) });
}

async function exchangeViaProxy(key: string, url: URL, method: string, headers: Record<string, string>, body: string | undefined, signal: AbortSignal): Promise<RawResponse> {
  const { undici, agent } = await proxyAgent(key);
  const r = await undici.request(url, { method: method as import('undici').Dispatcher.HttpMethod, headers, body, signal, dispatcher: agent });
  const hs: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(r.headers)) hs[k] = Array.isArray(v) ? v.join(', ') : v;
  return { status: r.statusCode, headers: hs, body: Buffer.from(await r.body.arrayBuffer()) };
}

/** One HTTP exchange; redirects are followed (at most 5; a 303, or a 301/302 after a POST, becomes a GET). */
async function request(url: URL, method: string, headers: Record<string, string>, body: string | undefined, timeoutMs: number, hops = 0): Promise<RawResponse> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`unsupported protocol ${url.protocol}`);
  const signal = AbortSignal.timeout(timeoutMs);
  const key = proxyKey();
  let res: RawResponse;
  try {
    res = key !== undefined ? await exchangeViaProxy(key, url, method, headers, body, signal) : await exchangeDirect(url, method, headers, body, signal);
  } catch (e) {
    // A timeout is the signal firing (undici also names other failures, e.g. a proxy's 407, AbortError).
    if (signal.aborted) throw Object.assign(new Error('timeout'), { name: 'TimeoutError' });
    throw e;
  }
  const loc = res.headers.location;
  if (loc && [301, 302, 303, 307, 308].includes(res.status) && hops < 5) {
    const next = new URL(loc, url);
    const asGet = res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST');
    const nh = { ...headers };
    // Credentials go to the same origin only.
    if (next.origin !== url.origin) delete nh.authorization;
    if (asGet) delete nh['content-type'];
    return request(next, asGet ? 'GET' : method, nh, asGet ? undefined : body, timeoutMs, hops + 1);
  }
  return res;
}

/** Methods a server must treat as idempotent (RFC 9110 §9.2.2): sending one twice is harmless. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/**
 * One exchange on node:http(s). A kept-alive connection the server closed (its idle timeout) just
 * as this request went out on it fails with ECONNRESET/EPIPE on a reused socket: the request is
 * sent once more, on a new connection, when that is safe: an idempotent method, or nothing of the
 * request was written to the dead connection. Never more than once, never for a fresh connection.
 */
async function exchangeDirect(url: URL, method: string, headers: Record<string, string>, body: string | undefined, signal: AbortSignal): Promise<RawResponse> {
  try {
    return await exchangeOnce(url, method, headers, body, signal);
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { reusedSocket?: boolean; bytesSent?: number };
    const closedUnderUs = err.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE') && !signal.aborted;
    if (closedUnderUs && (IDEMPOTENT.has(method.toUpperCase()) || err.bytesSent === 0)) return exchangeOnce(url, method, headers, body, signal);
    throw e;
  }
}

function exchangeOnce(url: URL, method: string, headers: Record<string, string>, body: string | undefined, signal: AbortSignal): Promise<RawResponse> {
  return transport(url).then(({ mod, agent }) => new Promise<RawResponse>((resolve, reject) => {
    const h: Record<string, string | number> = { ...headers };
    if (body !== undefined) h['content-length'] = Buffer.byteLength(body);
    let written0 = 0;
    const req = mod.request(url, { method, headers: h, agent, signal }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => {
        const hs: Record<string, string | undefined> = {};
        for (const [k, v] of Object.entries(r.headers)) hs[k] = Array.isArray(v) ? v.join(', ') : v;
        resolve({ status: r.statusCode ?? 0, headers: hs, body: Buffer.concat(chunks) });
      });
      r.on('error', reject);
    });
    // What this request wrote on its connection (a reused one has its earlier requests' bytes).
    req.once('socket', (sock) => (written0 = sock.bytesWritten));
    req.on('error', (e) => {
      const sent = req.socket ? req.socket.bytesWritten - written0 : 0;
      reject(Object.assign(e, { reusedSocket: req.reusedSocket, bytesSent: sent }));
    });
    req.end(body);
  }));
}

export class ApiClient {
  readonly remote: string;
  constructor(private opts: ClientOptions) {
    this.remote = normalizeRemote(opts.remote);
  }

  get workspace(): string {
    if (!this.opts.workspace) throw new WmillError('usage', 'no workspace selected; pass --workspace or run `wmill workspace add`');
    return this.opts.workspace;
  }

  /** `/w/{ws}` + path */
  ws(path: string): string {
    return `/w/${encodeURIComponent(this.workspace)}${path}`;
  }

  async call(
    method: string,
    path: string,
    opts: { query?: Query; body?: unknown; raw?: boolean; headers?: Record<string, string>; timeoutMs?: number } = {},
  ): Promise<{ status: number; text: string; contentType: string; buffer?: Buffer }> {
    const url = new URL(`api${path}`, this.remote);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { 'user-agent': 'wmill', ...envHeaders(), ...this.opts.headers, ...opts.headers };
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    const t0 = process.env.WMILL_DEBUG === '1' ? Date.now() : 0;
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    let res: RawResponse;
    const t = opts.timeoutMs ?? this.opts.timeoutMs ?? 60_000;
    try {
      res = await request(url, method, headers, body, t);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const why = err.name === 'TimeoutError' ? `no answer within ${t < 1000 ? `${t} ms` : `${t / 1000} s`}` : err.message;
      const proxy = proxyFor(url);
      throw new WmillError('network', `Network error: could not connect to the server at ${this.remote}${proxy ? ` through the proxy ${proxy}` : ''} (${why})`);
    }
    if (t0) process.stderr.write(`[debug] ${method} ${url.pathname}${url.search} → ${res.status} (${Date.now() - t0} ms)\n`);
    const contentType = res.headers['content-type'] ?? '';
    if (opts.raw) {
      if (res.status >= 400) throw this.error(res.status, method, path, res.body.toString('utf8'));
      return { status: res.status, text: '', contentType, buffer: res.body };
    }
    const text = res.body.toString('utf8');
    if (res.status >= 400) throw this.error(res.status, method, path, text);
    return { status: res.status, text, contentType };
  }

  private error(status: number, method: string, path: string, text: string): ApiError {
    const safe = this.opts.token ? text.split(this.opts.token).join('***') : text;
    const short = safe.length > 300 ? `${safe.slice(0, 300)}…` : safe;
    const hint = status === 401 ? ' (check the token: `wmill workspace whoami`)' : '';
    return new ApiError(status, `${method} ${path}: server answered ${status}: ${short.replace(/\s+/g, ' ').trim()}${hint}`, safe);
  }

  async json<T = any>(method: string, path: string, opts: { query?: Query; body?: unknown } = {}): Promise<T> {
    const r = await this.call(method, path, opts);
    if (r.text === '') return undefined as T;
    try {
      return JSON.parse(r.text) as T;
    } catch {
      return r.text as T;
    }
  }

  async text(method: string, path: string, opts: { query?: Query; body?: unknown } = {}): Promise<string> {
    const r = await this.call(method, path, opts);
    if (r.contentType.includes('application/json')) {
      try {
        const v = JSON.parse(r.text);
        if (typeof v === 'string') return v;
      } catch {
        /* fall through */
      }
    }
    return r.text;
  }
}
