#!/usr/bin/env node
// HTTP routes on `wmill serve` (src/server/triggers.ts): what a request to /api/r/<route> costs
// over the same job run through the API, and whether the number of routes matters.
//
//   node bench/http-routes.mjs [--runs N] [--routes K] [--json]
//
// One `wmill serve` (PGlite, 2 in-process workers) and a bash script (`echo "$1"`). Sequential
// requests, one warm-up round each, the median of N (default 30) reported:
//   baseline   POST /api/w/admins/jobs/run_wait_result/p/f/bench/echo   (token, args in the body)
//   route      POST /api/r/bench/:n (sync, no auth; the path parameter is the argument)
//   async      POST /api/r/later/:n (answers with the job id; the job is not waited for)
//   route+K    the sync route again after K (default 1000) other POST routes were created
// The ratios are against the baseline of the same run (the job dominates; the route adds its
// lookup, which reads the routes of the method on each request).
// Run `npm run build` first (bin/wmill.mjs uses dist/). Progress goes to stderr.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, median } from './lib.mjs';
import { call, killAll, startServe } from './support/server.mjs';

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const at = argv.indexOf(name);
  const v = at >= 0 ? Number(argv[at + 1]) : dflt;
  if (!Number.isInteger(v) || v < 1) {
    console.error(`${name} must be a positive integer`);
    process.exit(2);
  }
  return v;
};
const RUNS = opt('--runs', 30);
const ROUTES = opt('--routes', 1000);
const JSON_OUT = argv.includes('--json');

if (!existsSync(join(REPO, 'dist/cli.mjs'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(2);
}
process.on('SIGINT', () => {
  killAll();
  process.exit(130);
});

const serve = await startServe();
const base = serve.url;
try {
  const must = async (what, p, status = [200, 201]) => {
    const r = await p;
    if (!status.includes(r.status)) throw new Error(`${what}: ${r.status} ${r.text}`);
    return r;
  };
  await must('deploy', call(base, 'POST', 'scripts/create', { path: 'f/bench/echo', content: 'n="$1"\necho "$n"\n', language: 'bash', summary: '', description: '' }));
  const trigger = (path, route, extra = {}) =>
    must(`trigger ${path}`, call(base, 'POST', 'http_triggers/create', { path, script_path: 'f/bench/echo', is_flow: false, route_path: route, http_method: 'post', request_type: 'sync', authentication_method: 'none', ...extra }));
  await trigger('f/bench/route', 'bench/:n');
  await trigger('f/bench/later', 'later/:n', { request_type: 'async' });

  const post = async (url, headers, body) => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    return { status: res.status, text: await res.text() };
  };
  const cases = {
    baseline: async (v) => {
      const r = await post(`${base}/api/w/admins/jobs/run_wait_result/p/f/bench/echo`, { authorization: `Bearer bench_admin_token_0123456789` }, { n: v });
      if (r.status !== 200 || JSON.parse(r.text) !== v) throw new Error(`baseline: ${r.status} ${r.text}`);
    },
    route: async (v) => {
      const r = await post(`${base}/api/r/bench/${v}`, {}, {});
      if (r.status !== 200 || JSON.parse(r.text) !== v) throw new Error(`route: ${r.status} ${r.text}`);
    },
    async: async (v) => {
      const r = await post(`${base}/api/r/later/${v}`, {}, {});
      if (r.status !== 201) throw new Error(`async: ${r.status} ${r.text}`);
    },
  };
  const measure = async (name, fn) => {
    for (let i = 0; i < 3; i++) await fn(`w${i}`);
    const ms = [];
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      await fn(`v${i}`);
      ms.push(performance.now() - t);
    }
    console.error(`${name}: done`);
    return median(ms);
  };
  const out = {};
  out.baseline = await measure('baseline', cases.baseline);
  out.route = await measure('route', cases.route);
  out.async = await measure('async', cases.async);
  for (let i = 0; i < ROUTES; i++) await trigger(`f/bench/extra_${i}`, `extra/${i}/:n`);
  console.error(`${ROUTES} more routes created`);
  out[`route+${ROUTES}`] = await measure(`route+${ROUTES}`, cases.route);
  out.baseline_again = await measure('baseline again', cases.baseline);

  if (JSON_OUT) console.log(JSON.stringify({ runs: RUNS, routes: ROUTES, median_ms: out }));
  else {
    const b = (out.baseline + out.baseline_again) / 2;
    console.log(`median of ${RUNS} sequential requests (bash echo job), ratio to run_wait_result of the same run`);
    for (const [k, v] of Object.entries(out)) console.log(`${k.padEnd(16)} ${v.toFixed(1).padStart(7)} ms  ${(v / b).toFixed(2)}x`);
  }
} finally {
  await serve.stop();
}
