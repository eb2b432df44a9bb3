/**
 * The web UI of `wmill serve` (README "Web UI"): server-rendered pages under `/`, `/login`,
 * `/w/{ws}/...`, and one client bundle (`/ui/app.js`, built by scripts/build.mjs from
 * src/server/ui/client/) for the editor, live logs and actions.
 *
 * Permissions: a page reads what it shows by calling the API's own route handlers in-process,
 * as the signed-in user (`Api.call`): the same access check (access.ts), the same 404s. Actions
 * in the browser call the JSON API (`/api/w/...`) with the `token` cookie the API accepts; the
 * cookie is HttpOnly and SameSite=Strict (no other site can make the browser send it).
 * Everything printed is escaped (html.ts); pages carry a Content-Security-Policy that allows
 * only this server's script and styles.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Principal } from '../auth.js';
import type { Env } from '../env.js';
import { badRequest, HttpError, readBody, requestToken, type Reply, type Router } from '../http.js';
import { queryReader } from '../../util/query.js';
import { UI_CSS } from './style.js';
import { layout, h, type Html } from './html.js';
import { routePage, type PageCtx } from './pages.js';

export interface UiDeps {
  router: Router<Env>;
  principalOf(token: string | undefined, ws: string | undefined): Promise<Principal | undefined>;
  envFor(p: Principal): Env;
  /** The server's public URL (cookies are Secure when it is https). */
  publicUrl(): string;
  /** The workspaces an account belongs to (all of them for a super admin). */
  workspacesOf(p: Principal): Promise<string[]>;
}

/** The API, called in-process as one user: the route handlers themselves, so the same checks. */
export class Api {
  constructor(
    private deps: UiDeps,
    readonly env: Env,
    readonly ws: string,
    private req: IncomingMessage,
  ) {}

  async reply(method: string, path: string, opts: { query?: Record<string, string | undefined>; body?: unknown } = {}): Promise<Reply> {
    const hit = this.deps.router.match(method, path);
    if (!hit) throw new HttpError(404, `Not found: ${path}`);
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) query.set(k, v);
    const body = async () => opts.body;
    return hit.h(
      {
        req: this.req,
        method,
        ws: this.ws,
        params: hit.params,
        query,
        q: queryReader(query, badRequest),
        body,
        async obj() {
          return (opts.body ?? {}) as Record<string, any>;
        },
      },
      this.env,
    );
  }

  /** The JSON (or text) of a GET. */
  async get<T = any>(path: string, query?: Record<string, string | undefined>): Promise<T> {
    const r = await this.reply('GET', path, { query });
    return (r.json !== undefined ? r.json : r.text) as T;
  }

  /** The same, undefined on 404 (an item that is not there or not the caller's to see; a route not served). */
  async maybe<T = any>(path: string, query?: Record<string, string | undefined>): Promise<T | undefined> {
    try {
      return await this.get<T>(path, query);
    } catch (e) {
      if (e instanceof HttpError && e.status === 404) return undefined;
      throw e;
    }
  }

  async post(path: string, body: unknown): Promise<Reply> {
    return this.reply('POST', path, { body });
  }

  /** Whether the API serves this route (routes other parts add later show up when present). */
  serves(method: string, path: string): boolean {
    return !!this.deps.router.match(method, path);
  }
}

const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'same-origin',
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

/** The client bundle: dist/ui/ of the package (next to the built CLI, or the repository's dist/ when run from src/). */
function bundleDir(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'dist', 'ui');
    if (existsSync(join(dir, 'ui', 'app.js')) && existsSync(join(dir, 'cli.mjs'))) return join(dir, 'ui');
    dir = dirname(dir);
  }
  return undefined;
}

interface Asset {
  body: Buffer;
  /** The body gzipped (sent when the browser accepts it), made on first use. */
  gz?: Buffer;
  type: string;
}

export function uiHandler(deps: UiDeps) {
  const assets = new Map<string, Asset>();
  assets.set('app.css', { body: Buffer.from(UI_CSS), type: 'text/css; charset=utf-8' });
  const dir = bundleDir();
  const js = dir && existsSync(join(dir, 'app.js')) ? readFileSync(join(dir, 'app.js')) : undefined;
  assets.set('app.js', {
    body: js ?? Buffer.from(`document.documentElement.dataset.noBundle = "1"; console.warn("wmill: the web UI bundle is missing (run npm run build)");`),
    type: 'text/javascript; charset=utf-8',
  });
  const version = createHash('sha256').update(assets.get('app.js')!.body).update(UI_CSS).digest('hex').slice(0, 12);

  const send = (res: ServerResponse, status: number, html: string, extra: Record<string, string> = {}) => {
    if (res.headersSent) return;
    res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', ...SECURITY_HEADERS, ...extra });
    res.end(html);
  };
  const redirect = (res: ServerResponse, to: string, extra: Record<string, string> = {}) => {
    res.writeHead(303, { Location: to, 'Cache-Control': 'no-store', ...extra });
    res.end();
  };
  const errorPage = (status: number, title: string, message: string, ws?: string, p?: Principal) =>
    layout({ title, asset: version, ws, user: p }, h`<h1>${title}</h1><p class="error" role="alert">${message}</p>${ws ? h`<p><a href="/w/${ws}/">Back to the workspace</a></p>` : ''}`);

  const loginPage = (message?: string, next?: string) =>
    layout(
      { title: 'Sign in', asset: version },
      h`<section class="login"><h1>Sign in</h1>
<p class="muted">Paste an API token (<code>wmill token create</code>, or the admin token <code>wmill serve</code> printed at its first start).</p>
${message ? h`<p class="error" role="alert">${message}</p>` : ''}
<form method="post" action="/login">
<input type="hidden" name="next" value="${next ?? ''}">
<label for="token">Token</label>
<input type="password" id="token" name="token" autocomplete="current-password" required autofocus>
<button type="submit" class="primary" id="signin">Sign in</button>
</form></section>`,
    );

  /** Handle a request outside /api/; false when it is not the UI's. */
  return async function handleUi(req: IncomingMessage, res: ServerResponse, path: string, url: URL): Promise<boolean> {
    const method = req.method ?? 'GET';
    const asset = /^\/ui\/(app\.(?:js|css))$/.exec(path);
    if (asset && (method === 'GET' || method === 'HEAD')) {
      const a = assets.get(asset[1]!)!;
      const etag = `"${version}"`;
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { ETag: etag });
        res.end();
        return true;
      }
      // Compressed on first use (not at start-up: most servers never serve a page).
      const gz = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
      if (gz) a.gz ??= gzipSync(a.body, { level: 9 });
      const body = gz ? a.gz! : a.body;
      res.writeHead(200, {
        'Content-Type': a.type,
        'Content-Length': body.length,
        ...(gz ? { 'Content-Encoding': 'gzip' } : {}),
        Vary: 'Accept-Encoding',
        ETag: etag,
        'Cache-Control': url.searchParams.get('v') === version ? 'public, max-age=31536000, immutable' : 'no-cache',
        'X-Content-Type-Options': 'nosniff',
      });
      res.end(method === 'HEAD' ? undefined : body);
      return true;
    }
    if (path === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return true;
    }
    if (path === '/login') {
      if (method === 'GET') {
        send(res, 200, loginPage(undefined, safeNext(url.searchParams.get('next'))));
        return true;
      }
      if (method !== 'POST') return false;
      const form = new URLSearchParams((await readBody(req, 64 * 1024)).toString('utf8'));
      const token = (form.get('token') ?? '').trim();
      const next = safeNext(form.get('next'));
      const p = token ? await deps.principalOf(token, undefined) : undefined;
      if (!p || token.startsWith('wjt_')) {
        send(res, 401, loginPage('This token is not valid (or it expired).', next));
        return true;
      }
      const wss = await deps.workspacesOf(p);
      const to = next ?? (wss.length ? `/w/${encodeURIComponent(wss[0]!)}/` : '/');
      const secure = deps.publicUrl().startsWith('https:') || req.headers['x-forwarded-proto'] === 'https';
      redirect(res, to, { 'Set-Cookie': `token=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}` });
      return true;
    }
    if (path === '/logout' && method === 'POST') {
      req.resume();
      redirect(res, '/login', { 'Set-Cookie': 'token=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0' });
      return true;
    }
    const token = cookieToken(req);
    if (path === '/' && (method === 'GET' || method === 'HEAD')) {
      const p = token ? await deps.principalOf(token, undefined) : undefined;
      if (!p) return redirect(res, '/login'), true;
      const wss = await deps.workspacesOf(p);
      if (!wss.length) return send(res, 200, errorPage(200, 'No workspace', `${p.email} is not a member of any workspace.`)), true;
      redirect(res, `/w/${encodeURIComponent(wss[0]!)}/`);
      return true;
    }
    const m = /^\/w\/([^/]+)(\/.*)?$/.exec(path);
    if (!m) return false;
    const ws = m[1]!;
    const rest = (m[2] ?? '/').slice(1);
    const p = token && !token.startsWith('wjt_') ? await deps.principalOf(token, ws) : undefined;
    if (!p) {
      if (method === 'GET') {
        const known = token ? await deps.principalOf(token, undefined) : undefined;
        if (known) return send(res, 404, errorPage(404, 'Not found', `${known.email} is not a member of workspace ${ws} (or it does not exist).`)), true;
        redirect(res, `/login?next=${encodeURIComponent(url.pathname + url.search)}`);
      } else {
        req.resume();
        send(res, 401, errorPage(401, 'Signed out', 'Sign in again.'));
      }
      return true;
    }
    const api = new Api(deps, deps.envFor(p), ws, req);
    const ctx: PageCtx = { req, method, ws, rest, query: url.searchParams, p, api, asset: version, path: url.pathname };
    try {
      const out = await routePage(ctx);
      if (!out) {
        req.resume();
        send(res, 404, errorPage(404, 'Not found', `No page at ${url.pathname}`, ws, p));
      } else if ('redirect' in out) redirect(res, out.redirect);
      else if ('fragment' in out) send(res, 200, out.fragment.s);
      else if ('json' in out) {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
        res.end(JSON.stringify(out.json));
      }
      else send(res, out.status ?? 200, layout({ title: out.title, ws, user: p, asset: version, script: out.script, nav: out.nav, workspaces: await deps.workspacesOf(p) }, out.body));
    } catch (e) {
      if (e instanceof HttpError) {
        req.resume();
        send(res, e.status, errorPage(e.status, e.status === 404 ? 'Not found' : e.status === 403 ? 'Not allowed' : 'Error', e.message, ws, p));
        return true;
      }
      throw e;
    }
    return true;
  };
}

/** The token of the `token` cookie only (pages never take one from the query or a header). */
function cookieToken(req: IncomingMessage): string | undefined {
  if (!req.headers.cookie) return undefined;
  return requestToken({ headers: { cookie: req.headers.cookie } } as IncomingMessage, new URLSearchParams());
}

/** A same-site path to go back to after signing in (never another origin). */
function safeNext(next: string | null): string | undefined {
  // Browsers drop tabs and newlines from URLs ("/\t/evil" is "//evil"): no control characters either.
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.includes('\\') || /[\x00-\x1f\x7f]/.test(next)) return undefined;
  return next;
}

export type { Html };
