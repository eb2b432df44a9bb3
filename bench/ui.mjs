#!/usr/bin/env node
// Web UI page load: the workspace home page of `wmill serve` with 1,000 scripts deployed, against
// a static file served by the same server (/ui/app.css, from memory), over the same keep-alive
// connection, one request at a time.
//
//   node bench/ui.mjs [--scripts N] [--runs R] [--json]
//
// Home = GET /w/admins/ with the `token` cookie (the page lists every script by folder: it reads
// them through the API's own handlers, as the user). Also shown: the API's `scripts/list` (the
// JSON the page is built from) and the script page of one script. Medians of R runs (default 40)
// after 5 warm-up requests; ratio = median page time / median static-file time.
// Run `npm run build` first (bin/wmill.mjs uses dist/).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, median } from './lib.mjs';
import { TOKEN, call, startServe, stopAll, killAll } from './support/server.mjs';

const argv = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  const n = i >= 0 ? Number(argv[i + 1]) : dflt;
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name} must be a positive integer`);
    process.exit(2);
  }
  return n;
};
const N = flag('scripts', 1000);
const R = flag('runs', 40);
const asJson = argv.includes('--json');

if (!existsSync(join(REPO, 'dist/cli.mjs')) || !existsSync(join(REPO, 'dist/ui/app.js'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(2);
}

process.on('SIGINT', () => {
  killAll();
  process.exit(130);
});

async function timed(url, headers = {}) {
  const t0 = process.hrtime.bigint();
  const res = await fetch(url, { headers });
  const body = await res.arrayBuffer();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
  return { ms, bytes: body.byteLength };
}

async function measure(url, headers) {
  for (let i = 0; i < 5; i++) await timed(url, headers);
  const xs = [];
  let bytes = 0;
  for (let i = 0; i < R; i++) {
    const r = await timed(url, headers);
    xs.push(r.ms);
    bytes = r.bytes;
  }
  return { median: median(xs), bytes };
}

const serve = await startServe({ workers: 1 });
try {
  const base = serve.url;
  // Deploy N scripts over 10 folders and the admin's user folder, 25 at a time.
  const paths = Array.from({ length: N }, (_, i) => (i % 11 === 10 ? `u/admin/script_${i}` : `f/folder_${i % 10}/script_${i}`));
  for (let i = 0; i < paths.length; i += 25) {
    await Promise.all(
      paths.slice(i, i + 25).map(async (path, k) => {
        const r = await call(base, 'POST', 'scripts/create', {
          path, summary: `Script number ${i + k}`, description: '', language: 'bash', content: `echo ${i + k}\n`,
          schema: { type: 'object', properties: { n: { type: 'integer' } }, required: [] }, deployment_message: 'bench',
        });
        if (r.status !== 201) throw new Error(`deploy ${path}: ${r.status} ${r.text}`);
      }),
    );
  }
  const cookie = { cookie: `token=${TOKEN}` };
  const stat = await measure(`${base}/ui/app.css`);
  const home = await measure(`${base}/w/admins/`, cookie);
  const list = await measure(`${base}/api/w/admins/scripts/list`, { authorization: `Bearer ${TOKEN}` });
  const script = await measure(`${base}/w/admins/script/${paths[0]}`, cookie);
  const rows = [
    { what: `home page, ${N} scripts`, ...home },
    { what: 'API scripts/list (the data of the page)', ...list },
    { what: 'script page', ...script },
    { what: 'static file (/ui/app.css)', ...stat },
  ];
  if (asJson) {
    console.log(JSON.stringify({ scripts: N, runs: R, rows: rows.map((r) => ({ ...r, ratio: r.median / stat.median })) }));
  } else {
    console.log(`wmill serve (PGlite), ${N} scripts, median of ${R} sequential requests (keep-alive)`);
    for (const r of rows) {
      console.log(`${r.what.padEnd(42)} ${r.median.toFixed(2).padStart(8)} ms  ${String(r.bytes).padStart(8)} bytes  ${(r.median / stat.median).toFixed(1).padStart(6)}x static`);
    }
  }
} finally {
  await serve.stop();
  await stopAll();
}
