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
    // Node's own fetch (keep-alive by default): no HTTP library to load at start-up.
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(this.opts.timeoutMs ?? 60_000) });
    } catch (e) {
      const cause = (e as { cause?: Error }).cause?.message;
      throw new WmillError('network', `Network error: could not connect to the server at ${this.remote} (${cause ?? (e as Error).message})`);
    }
    const contentType = res.headers.get('content-type') ?? '';
    if (opts.raw) {
      const buffer = Buffer.from(await res.arrayBuffer());
      if (res.status >= 400) throw this.error(res.status, method, path, buffer.toString('utf8'));
      return { status: res.status, text: '', contentType, buffer };
    }
    const text = await res.text();
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
