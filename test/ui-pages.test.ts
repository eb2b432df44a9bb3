/**
 * The web UI's pages over plain HTTP (no browser): sign-in and its cookie, redirects, what is
 * escaped, the security headers, permissions (the same 404s as the API), the client bundle's
 * caching, and the line diff the history pages use.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO } from './helpers/workspace.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { diffLines } from '../src/server/ui/html.js';

describe('web UI pages', () => {
  let srv: TestServer;
  let base: string;
  let bobToken: string;
  const EVIL = `<img src=x onerror="alert(1)"> & "quotes" </script>`;

  beforeAll(async () => {
    srv = await startTestServer({ workers: 1 });
    base = srv.url.replace(/\/$/, '');
    await srv.api.deploy({ path: 'f/x/evil', language: 'bash', content: `echo '${EVIL}'\n`, summary: EVIL, description: EVIL, deployment_message: EVIL, schema: { type: 'object', properties: { [`a"b`]: { type: 'string', description: EVIL, default: EVIL } }, required: [] } });
    await srv.api.deploy({ path: 'u/admin/private', language: 'bash', content: 'echo private\n' });
    bobToken = await srv.api.addUser('bob');
  });
  afterAll(async () => {
    await srv?.close();
  });

  const page = (path: string, token?: string, init: RequestInit = {}) =>
    fetch(`${base}${path}`, { redirect: 'manual', ...init, headers: { ...(token ? { cookie: `token=${encodeURIComponent(token)}` } : {}), ...(init.headers ?? {}) } });

  it('signs in: the token goes into an HttpOnly, SameSite=Strict cookie; bad tokens and job tokens are refused; next= stays on this site', async () => {
    const form = (token: string, next = '') => page('/login', undefined, { method: 'POST', body: new URLSearchParams({ token, next }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const ok = await form(srv.token, '/w/admins/jobs');
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/w/admins/jobs');
    const cookie = ok.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^token=/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).not.toContain('Secure'); // plain http on loopback: a Secure cookie would never come back
    const behindTls = await page('/login', undefined, { method: 'POST', body: new URLSearchParams({ token: srv.token }), headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-proto': 'https' } });
    expect(behindTls.headers.get('set-cookie')).toContain('; Secure');
    expect((await form(srv.token, '//evil.example/x')).headers.get('location')).toBe('/w/admins/');
    expect((await form(srv.token, 'https://evil.example/')).headers.get('location')).toBe('/w/admins/');
    expect((await form(srv.token, '/\t/evil.example/')).headers.get('location')).toBe('/w/admins/');
    expect((await form(srv.token, '/\\evil.example/')).headers.get('location')).toBe('/w/admins/');
    const bad = await form('nope');
    expect(bad.status).toBe(401);
    expect(bad.headers.get('set-cookie')).toBeNull();
    const jobToken = await form('wjt_00000000-0000-0000-0000-000000000000_' + '0'.repeat(40));
    expect(jobToken.status).toBe(401);
    // signed out: pages redirect to the sign-in page, with the way back
    const anon = await page('/w/admins/script/f/x/evil');
    expect(anon.status).toBe(303);
    expect(anon.headers.get('location')).toBe('/login?next=%2Fw%2Fadmins%2Fscript%2Ff%2Fx%2Fevil');
    // a token in the query or a header does not sign pages in (only the cookie does)
    expect((await page(`/w/admins/?token=${srv.token}`)).status).toBe(303);
    expect((await page('/w/admins/', undefined, { headers: { authorization: `Bearer ${srv.token}` } })).status).toBe(303);
    const out = await page('/logout', srv.token, { method: 'POST' });
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0');
  });

  it('escapes everything it prints, and sends a CSP that allows only its own script', async () => {
    for (const path of ['/w/admins/', '/w/admins/script/f/x/evil', '/w/admins/?q=%3Cscript%3E']) {
      const r = await page(path, srv.token);
      expect(r.status, path).toBe(200);
      const html = await r.text();
      expect(html).not.toContain('<img src=x');
      expect(html).not.toContain('"quotes" </script>');
      expect(r.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(r.headers.get('x-frame-options')).toBe('DENY');
      if (path.includes('evil')) {
        expect(html).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &quot;quotes&quot; &lt;/script&gt;');
        // the page data for the client cannot close its element
        const data = /<script type="application\/json" id="page-data">(.*?)<\/script>/s.exec(html)![1]!;
        expect(JSON.parse(data).path).toBe('f/x/evil');
      }
    }
  });

  it('honours the same permissions as the API: what bob may not read is not found, whatever the page', async () => {
    for (const path of ['/w/admins/script/u/admin/private', '/w/admins/edit/u/admin/private', '/w/admins/script-diff/u/admin/private?a=draft&b=draft', '/w/admins/script/f/x/evil']) {
      const r = await page(path, bobToken);
      expect(r.status, path).toBe(404);
      expect(await r.text()).not.toContain('echo private');
    }
    const home = await (await page('/w/admins/', bobToken)).text();
    expect(home).not.toContain('u/admin/private');
    expect(home).not.toContain('f/x/evil');
    // pages of the job list
    expect((await page('/w/admins/jobs?page=2&status=success', srv.token)).status).toBe(200);
    expect((await page('/w/admins/jobs?status=nope', srv.token)).status).toBe(400);
    // a workspace bob is not a member of
    const other = await page('/w/elsewhere/', bobToken);
    expect(other.status).toBe(404);
    // the admin sees both
    const all = await (await page('/w/admins/', srv.token)).text();
    expect(all).toContain('u/admin/private');
  });

  it('serves the client bundle with a version for caching, gzipped when accepted; the CLI bundle does not contain it', async () => {
    const html = await (await page('/w/admins/', srv.token)).text();
    const src = /<script type="module" src="([^"]+)"/.exec(html)![1]!;
    expect(src).toMatch(/^\/ui\/app\.js\?v=[0-9a-f]{12}$/);
    const r = await fetch(`${base}${src}`, { headers: { 'accept-encoding': 'identity' } });
    expect(r.headers.get('cache-control')).toContain('immutable');
    const js = await r.text();
    expect(js.length).toBeGreaterThan(1000);
    expect(js).not.toContain('the web UI bundle is missing');
    const etag = r.headers.get('etag')!;
    expect((await fetch(`${base}${src}`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    const gz = await new Promise<{ enc: string | undefined; body: Buffer }>((resolve, reject) => {
      // fetch decompresses on its own: read the raw bytes with node:http
      import('node:http').then(({ get }) =>
        get(`${base}${src}`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve({ enc: res.headers['content-encoding'], body: Buffer.concat(chunks) }));
        }).on('error', reject),
      );
    });
    expect(gz.enc).toBe('gzip');
    expect(gunzipSync(gz.body).toString('utf8')).toBe(js);

    // What `wmill <command>` loads at start-up (dist/cli.mjs and its static imports) holds no UI
    // code: the pages come with `serve`'s dynamic import, the bundle is only read by a server.
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const src = readFileSync(file, 'utf8');
      expect(src, file).not.toContain('Schedules &amp; triggers');
      expect(src, file).not.toContain('the web UI bundle is missing');
      for (const m of src.matchAll(/(?:^|\n)\s*(?:import\s*(?:[^'"]*?from\s*)?|export\s*[^'"]*?from\s*)["'](\.\/[^"']+)["']/g)) visit(join(dirname(file), m[1]!));
    };
    for (const entry of ['cli.mjs', 'preview.mjs']) if (existsSync(join(REPO, 'dist', entry))) visit(join(REPO, 'dist', entry));
    expect(seen.size).toBeGreaterThan(1);
  });

  it('the line diff keeps unchanged lines and marks removed and added ones', () => {
    const ops = diffLines('a\nb\nc\nd', 'a\nB\nc\nd\ne');
    expect(ops.map((o) => `${o.op}${o.line}`)).toEqual([' a', '-b', '+B', ' c', ' d', '+e']);
    expect(diffLines('same', 'same').every((o) => o.op === ' ')).toBe(true);
    expect(diffLines('', 'x').filter((o) => o.op !== ' ').map((o) => o.op + o.line)).toEqual(['-', '+x']);
  });
});
