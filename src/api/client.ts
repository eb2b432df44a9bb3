import { WmillError } from '../errors.js';
import { normalizeRemote } from './url.js';

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

/** One HTTP exchange; redirects are followed (at most 5; a 303, or a 301/302 after a POST, becomes a GET). */
async function request(url: URL, method: string, headers: Record<string, string>, body: string | undefined, timeoutMs: number, hops = 0): Promise<RawResponse> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`unsupported protocol ${url.protocol}`);
  const { mod, agent } = await transport(url);
  const signal = AbortSignal.timeout(timeoutMs);
  const res = await new Promise<RawResponse>((resolve, reject) => {
    const h: Record<string, string | number> = { ...headers };
    if (body !== undefined) h['content-length'] = Buffer.byteLength(body);
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
    req.on('error', reject);
    req.end(body);
  });
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

  async call(method: string, path: string, opts: { query?: Query; body?: unknown; raw?: boolean; headers?: Record<string, string> } = {}): Promise<{ status: number; text: string; contentType: string; buffer?: Buffer }> {
    const url = new URL(`api${path}`, this.remote);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { 'user-agent': 'wmill', ...this.opts.headers, ...opts.headers };
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    let res: RawResponse;
    try {
      res = await request(url, method, headers, body, this.opts.timeoutMs ?? 60_000);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const t = this.opts.timeoutMs ?? 60_000;
      const why = err.name === 'TimeoutError' || err.name === 'AbortError' ? `no answer within ${t < 1000 ? `${t} ms` : `${t / 1000} s`}` : err.message;
      throw new WmillError('network', `Network error: could not connect to the server at ${this.remote} (${why})`);
    }
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
