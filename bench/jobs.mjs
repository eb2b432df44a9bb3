#!/usr/bin/env node
// Job throughput and latency of `wmill serve`: trivial bash jobs submitted over HTTP.
//
//   node bench/jobs.mjs [--jobs N] [--latency M] [--concurrency C] [--json]
//
// Configurations: embedded PGlite (`wmill serve`, its in-process workers; on the first start of
// its data folder and after a restart, which differ: see below), and PostgreSQL with
// `wmill serve --workers 0` plus 1 or 2 `wmill worker --concurrency C` processes (C defaults to
// 2, the in-process default of `wmill serve`, so every worker process matches the embedded one).
// Throughput: N jobs (default 300) submitted with `POST jobs/run/p` (50 in flight), then the
// queue polled until it is empty; jobs/s = N / (first submit → queue empty). Latency: M
// (default 30) sequential `run_wait_result` calls, median and p95. Baseline, measured in the
// same run: the same script run N times with `bash -e file arg`, one after the other (raw
// process spawning), so ratio = configuration jobs/s / baseline jobs/s.
// The embedded server forks every job process from its own (large: PGlite's wasm heap, more
// still after initdb ran in-process on the first start) address space, hence the two rows.
// PostgreSQL: WMILL_TEST_PG_URL or DATABASE_URL, else a throwaway cluster (initdb/pg_ctl; as the
// `postgres` user when running as root). Run `npm run build` first (bin/wmill.mjs uses dist/).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, median } from './lib.mjs';
import { call, freshDatabase, killAll, serveReady, startChild, startPg, stopAll, stopChild } from './support/server.mjs';

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
const N = flag('jobs', 300);
const M = flag('latency', 30);
const C = flag('concurrency', 2);
const asJson = argv.includes('--json');
const IN_FLIGHT = 50;
const SCRIPT = 'n="$1"\necho "$n"\n';

if (!existsSync(join(REPO, 'dist/cli.mjs'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(2);
}

const tmp = mkdtempSync(join(tmpdir(), 'wmill-bench-jobs-'));

async function measure(base) {
  const d = await call(base, 'POST', 'scripts/create', { path: 'f/bench/echo', content: SCRIPT, language: 'bash', summary: '', description: '' });
  if (d.status !== 201) throw new Error(`deploy: ${d.status} ${d.text}`);
  const runWait = async (v) => {
    const r = await call(base, 'POST', 'jobs/run_wait_result/p/f/bench/echo', { n: v });
    if (r.status !== 200 || JSON.parse(r.text) !== v) throw new Error(`run_wait_result: ${r.status} ${r.text}`);
  };
  for (let i = 0; i < 5; i++) await runWait(`warm${i}`);

  // Throughput: submit N, wait until the queue is empty.
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(IN_FLIGHT, N) }, async () => {
      while (next < N) {
        const i = next++;
        const r = await call(base, 'POST', 'jobs/run/p/f/bench/echo', { n: `v${i}` });
        if (r.status !== 201) throw new Error(`run/p: ${r.status} ${r.text}`);
      }
    }),
  );
  const submitted = performance.now() - t0;
  for (;;) {
    const r = await call(base, 'GET', 'jobs/queue/count');
    if (JSON.parse(r.text).database_length === 0) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  const total = performance.now() - t0;
  const failed = await call(base, 'GET', 'jobs/completed/list?success=false&script_path_exact=f/bench/echo');
  if (JSON.parse(failed.text).length) throw new Error(`failed jobs: ${failed.text.slice(0, 500)}`);

  // Latency: sequential run_wait_result.
  const lat = [];
  for (let i = 0; i < M; i++) {
    const t = performance.now();
    await runWait(`l${i}`);
    lat.push(performance.now() - t);
  }
  lat.sort((a, b) => a - b);
  return {
    jobs_per_s: (N * 1000) / total,
    submit_per_s: (N * 1000) / submitted,
    latency_median_ms: median(lat),
    latency_p95_ms: lat[Math.min(lat.length - 1, Math.ceil(0.95 * lat.length) - 1)],
  };
}

async function runConfig(name, { pgServer, workers, restarted }) {
  const db = pgServer ? await freshDatabase(pgServer.url) : undefined;
  const env = db ? { DATABASE_URL: db.url, WMILL_WORKER_TIMEOUT_S: '30' } : {};
  const started = [];
  try {
    const args = ['serve', '--port', '0', '--json'];
    if (db) args.push('--workers', '0');
    else args.push('--data', join(tmp, `pglite-${name.replace(/\W+/g, '_')}`));
    const serveEnv = db ? { DATABASE_URL: db.url } : { DATABASE_URL: '' };
    if (restarted) await stopChild((await startChild(args, serveEnv, serveReady)).child); // creates the data folder
    const serve = await startChild(args, serveEnv, serveReady);
    started.push(serve.child);
    for (let i = 0; i < workers; i++) {
      const w = await startChild(['worker', '--concurrency', String(C), '--name', `bench-w${i + 1}`], env, (_o, e) => (e.includes('started') ? true : undefined));
      started.push(w.child);
    }
    return { config: name, ...(await measure(serve.value)) };
  } finally {
    for (const c of started.reverse()) await stopChild(c);
    if (db) await db.drop();
  }
}

function baseline() {
  const file = join(tmp, 'echo.sh');
  writeFileSync(file, SCRIPT);
  spawnSync('bash', ['-e', file, 'warm']);
  const times = [];
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    const r = spawnSync('bash', ['-e', file, `v${i}`], { encoding: 'utf8' });
    times.push(performance.now() - t);
    if (r.status !== 0 || r.stdout.trim() !== `v${i}`) throw new Error(`bash: ${r.status} ${r.stderr}`);
  }
  const total = performance.now() - t0;
  return { config: `baseline: bash -e file arg, sequential`, jobs_per_s: (N * 1000) / total, latency_median_ms: median(times), latency_p95_ms: times.sort((a, b) => a - b)[Math.ceil(0.95 * N) - 1] };
}

async function main() {
  const results = [];
  let pgServer;
  try {
    const base = baseline();
    results.push(base);
    // First start of a data folder (PGlite's initdb ran in the serve process) and a restart.
    results.push(await runConfig('embedded PGlite, first start (2 in-process)', { workers: 0 }));
    results.push(await runConfig('embedded PGlite, restarted (2 in-process)', { workers: 0, restarted: true }));
    pgServer = await startPg();
    results.push(await runConfig(`PostgreSQL: serve --workers 0 + 1 worker (c=${C})`, { pgServer, workers: 1 }));
    results.push(await runConfig(`PostgreSQL: serve --workers 0 + 2 workers (c=${C})`, { pgServer, workers: 2 }));
    for (const r of results) r.ratio = r.jobs_per_s / base.jobs_per_s;
  } finally {
    await stopAll();
    await pgServer?.stop().catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
  }
  if (asJson) {
    console.log(JSON.stringify({ node: process.version, jobs: N, latency_runs: M, results }, null, 2));
    return;
  }
  const f = (x, d = 1) => (x === undefined ? '-' : x.toFixed(d));
  console.log(`job throughput and latency, trivial bash jobs: ${N} jobs (${IN_FLIGHT} submits in flight), latency over ${M} sequential run_wait_result (node ${process.version})`);
  console.log('configuration                                     jobs/s  vs bash  submit/s   lat med ms  lat p95 ms');
  for (const r of results) {
    console.log(
      `${r.config.padEnd(48)} ${f(r.jobs_per_s).padStart(7)} ${(f(r.ratio, 2) + 'x').padStart(8)} ${f(r.submit_per_s, 0).padStart(9)} ${f(r.latency_median_ms).padStart(12)} ${f(r.latency_p95_ms).padStart(11)}`,
    );
  }
}

const onSignal = () => {
  killAll();
  process.exit(130);
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);
main().catch((e) => {
  console.error(e.stack ?? e.message);
  process.exitCode = 1;
});
