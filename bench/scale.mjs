#!/usr/bin/env node
// bench/scale: the scale-out path (issue 21), Windmill's own scaling method: N jobs that each
// sleep 100 ms are created before any worker runs, then `wmill worker` processes with S worker
// slots in all (S = 1, 2, 4, 8, 16) drain the queue; jobs/s against the ideal S x 10/s (a slot runs
// at most ten 100 ms jobs a second). Windmill publishes 19.9 jobs/s at 2 workers and 99.6 at 10.
//
//   node bench/scale.mjs [--jobs N] [--slots 1,2,4,8,16] [--per-worker K]
//
// N defaults to 10,000 (the published method; the 1-slot row alone then takes ~17 minutes: pass
// a smaller N to try it). Slots are spread over worker processes of at most K slots each
// (default 4: `wmill worker --concurrency 4`). PostgreSQL: WMILL_TEST_PG_URL or DATABASE_URL, else
// a throwaway cluster. The jobs are inserted through `wmill serve --workers 0` (the API server of
// deploy/compose.yaml) with POST jobs/run/preview, 64 requests in flight; the rate is measured from
// the first job's start to the last job's end (database clock); the time from the workers' start
// is printed beside it. The claim cost per job is the workers' CPU time
// (user + sys, from /proc) divided by the jobs they ran, minus what the jobs' own processes took
// (they are children, counted apart), so the curve past one machine can be estimated.
// Run `npm run build` first.
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { call, freshDatabase, serveReady, startChild, startPg, stopAll, stopChild } from './support/server.mjs';


const argv = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const N = Number(arg('jobs', '10000'));
const SLOTS = arg('slots', '1,2,4,8,16').split(',').map(Number);
const PER_WORKER = Number(arg('per-worker', '4'));
const CLK = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in ticks of 1/100 s on Linux

/** utime + stime of a process itself, in ms (its children are not counted). */
function cpuMs(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return ((Number(rest[11]) + Number(rest[12])) * 1000) / CLK;
  } catch {
    return NaN;
  }
}

const pgServer = await startPg();
const rows = [];
try {
  for (const slots of SLOTS) {
    const db = await freshDatabase(pgServer.url);
    const api = await startChild(['serve', '--port', '0', '--json', '--workers', '0'], { DATABASE_URL: db.url }, serveReady);
    const base = api.value;
    try {
      // 1. bulk-create the jobs, no worker running
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: 64 }, async () => {
          while (next < N) {
            next++;
            const r = await call(base, 'POST', 'jobs/run/preview', { content: 'sleep 0.1', language: 'bash' });
            if (r.status !== 201) throw new Error(`create: ${r.status} ${r.text}`);
          }
        }),
      );
      const createMs = performance.now() - t0;
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      const queued = async () => Number((await client.query("SELECT count(*) AS n FROM job WHERE status IN ('queued', 'running')")).rows[0].n);
      if ((await queued()) !== N) throw new Error('jobs missing before the workers started');
      // 2. the workers drain the queue
      const workers = [];
      const t1 = performance.now();
      for (let left = slots; left > 0; left -= PER_WORKER) {
        const c = Math.min(PER_WORKER, left);
        workers.push(
          startChild(['worker', '--concurrency', String(c)], { DATABASE_URL: db.url }, (_o, e) => (e.includes('started') ? true : undefined)).then((w) => w.child),
        );
      }
      const children = await Promise.all(workers);
      while ((await queued()) > 0) await new Promise((r) => setTimeout(r, 200));
      const wall = performance.now() - t1;
      // the rate from the first job's start to the last job's end, on the database clock
      // (worker start-up is not the queue's cost; it is printed apart)
      const span = (await client.query('SELECT extract(epoch FROM max(completed_at) - min(started_at)) * 1000 AS ms FROM job')).rows[0];
      const ms = Number(span.ms);
      const cpu = children.reduce((a, c) => a + cpuMs(c.pid), 0);
      const failed = Number((await client.query("SELECT count(*) AS n FROM job WHERE status <> 'success'")).rows[0].n);
      await client.end();
      for (const c of children) await stopChild(c);
      const rate = (N * 1000) / ms;
      const ideal = slots * 10;
      rows.push({ slots, rate, ideal, cpuPerJob: cpu / N, createMs, failed });
      console.log(
        `${String(slots).padStart(2)} slots (${children.length} worker process${children.length > 1 ? 'es' : ''}): ${rate.toFixed(1).padStart(6)} jobs/s, ideal ${ideal}/s, ${((rate / ideal) * 100).toFixed(1)}% of ideal; workers' own CPU ${(cpu / N).toFixed(2)} ms/job; from worker start ${(wall / 1000).toFixed(1)} s; ${N} jobs created in ${(createMs / 1000).toFixed(1)} s${failed ? `; ${failed} NOT successful` : ''}`,
      );
    } finally {
      await stopChild(api.child);
      await db.drop();
    }
  }
} finally {
  await stopAll();
  await pgServer.stop();
}
const worst = rows.reduce((a, r) => Math.min(a, r.rate / r.ideal), Infinity);
console.log(`worst row: ${(worst * 100).toFixed(1)}% of ideal (goal: within 10%, i.e. >= 90%)`);
