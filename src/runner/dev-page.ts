/**
 * `wmill dev --open`: a small page on loopback showing each run live (target, arguments form,
 * logs, result or error). The page listens on /events (server-sent events: `start`, `log`,
 * `run`); the form posts the arguments to /args, which writes the target's arguments file
 * (.wmill/args/<path>.json), and the watcher re-runs the target as for any save.
 * Deliberately small: the server's web UI is a separate piece.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileAtomic } from '../util/fs.js';
import { argsFileOf, type DevRun, type DevTarget } from './dev.js';

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>wmill dev</title>
<style>body{font:14px system-ui,sans-serif;margin:1.5em;max-width:60em}pre{background:#f4f4f4;padding:.6em;white-space:pre-wrap;max-height:24em;overflow:auto}
.success{color:#170}.failure,.canceled{color:#b00}textarea{width:100%;font:13px monospace}</style></head><body>
<h1>wmill dev <small id="target"></small></h1>
<form id="f"><label>Arguments (JSON)<br><textarea id="args" rows="4">{}</textarea></label><br><button>Save and run</button> <span id="msg"></span></form>
<h2>Run <span id="status"></span></h2><h3>Logs</h3><pre id="logs"></pre><h3>Result</h3><pre id="result"></pre>
<script>
const $ = (id) => document.getElementById(id);
const es = new EventSource('events');
es.addEventListener('start', (e) => { const d = JSON.parse(e.data); $('target').textContent = d.path; $('status').textContent = 'running (' + d.trigger + ')'; $('status').className = ''; $('logs').textContent = ''; });
es.addEventListener('log', (e) => { $('logs').textContent += JSON.parse(e.data); });
es.addEventListener('run', (e) => { const r = JSON.parse(e.data); $('target').textContent = r.path; $('status').textContent = r.status + ', ' + r.duration_ms + ' ms'; $('status').className = r.status;
  $('args').value = JSON.stringify(r.args, null, 2);
  $('result').textContent = r.error ? (r.error.file ? r.error.file + ':' + r.error.line + ': ' : '') + r.error.name + ': ' + r.error.message + '\\n' + (r.error.stack || '') : JSON.stringify(r.result, null, 2); });
$('f').onsubmit = async (ev) => { ev.preventDefault(); const r = await fetch('args', { method: 'POST', body: $('args').value }); $('msg').textContent = r.ok ? '' : await r.text(); };
</script></body></html>`;

export interface DevPage {
  url: string;
  start(t: DevTarget, trigger: string): void;
  log(chunk: string): void;
  run(r: DevRun): void;
  close(): Promise<void>;
}

export async function serveDevPage(opts: { root: string; port?: number; target: () => DevTarget | undefined }): Promise<DevPage> {
  const clients = new Set<ServerResponse>();
  let last: DevRun | undefined;
  const send = (event: string, data: unknown) => {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const c of clients) c.write(frame);
  };
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
    } else if (req.method === 'GET' && path === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.write(': wmill dev\n\n');
      clients.add(res);
      if (last) res.write(`event: run\ndata: ${JSON.stringify(last)}\n\n`);
      req.on('close', () => clients.delete(res));
    } else if (req.method === 'POST' && path === '/args') {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => {
        body += c;
        if (body.length > 1 << 20) req.destroy();
      });
      req.on('end', () => {
        const t = opts.target();
        let v: unknown;
        try {
          v = JSON.parse(body);
        } catch (e) {
          res.writeHead(400).end(`invalid JSON: ${(e as Error).message}`);
          return;
        }
        if (!t) return void res.writeHead(409).end('no target yet: save a script first');
        if (!v || typeof v !== 'object' || Array.isArray(v)) return void res.writeHead(400).end('the arguments must be a JSON object');
        writeFileAtomic(argsFileOf(opts.root, t.path), `${JSON.stringify(v, null, 2)}\n`);
        res.writeHead(204).end();
      });
    } else res.writeHead(404).end('not found');
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, '127.0.0.1', () => ok());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    start: (t, trigger) => send('start', { ...t, trigger }),
    log: (chunk) => send('log', chunk),
    run: (r) => {
      last = r;
      send('run', r);
    },
    close: () =>
      new Promise<void>((r) => {
        for (const c of clients) c.end();
        server.close(() => r());
        server.closeAllConnections?.();
      }),
  };
}
