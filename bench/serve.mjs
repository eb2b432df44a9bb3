// bench/serve: the embedded `wmill serve` (PGlite): time from spawn to the ready line, and peak
// memory, for a fresh data folder and for a restart on the same folder; against `node -e 0`
// measured in the same run. Peak RSS is the server process's high-water mark (VmHWM) after it
// answered its ready line and ran one job; the job's own processes are not counted.
// Goals (issue 21): fresh <= 2.5 s / <= 400 MB; restarted <= 1 s / <= 250 MB.
// Usage: npm run build && node bench/serve.mjs [--runs 3]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, median, medianOf, ratio, timeCmd } from './lib.mjs';
import { call, serveReady, startChild, stopChild } from './support/server.mjs';

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 3;

const hwmMb = (pid) => {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};

async function start(data) {
  const t0 = performance.now();
  const { child, value: url } = await startChild(['serve', '--port', '0', '--json', '--data', data, '--workers', '1'], {}, serveReady);
  const ready = performance.now() - t0;
  const r = await call(url, 'POST', 'jobs/run_wait_result/preview', { content: 'echo hi', language: 'bash' });
  if (r.status !== 200) throw new Error(`job failed: ${r.status} ${r.text}`);
  const rss = hwmMb(child.pid);
  await stopChild(child);
  return { ready, rss };
}

const nodeBase = medianOf(5, () => timeCmd(process.execPath, ['-e', '0']).ms);
console.log(`node -e 0                ${fmt(nodeBase)}  (baseline)`);
const fresh = [];
const again = [];
for (let i = 0; i < RUNS; i++) {
  const data = join(mkdtempSync(join(tmpdir(), 'wmill-bench-serve-')), 'data');
  try {
    fresh.push(await start(data));
    again.push(await start(data));
  } finally {
    rmSync(join(data, '..'), { recursive: true, force: true });
  }
}
for (const [name, xs, goal] of [
  ['fresh data folder', fresh, { ms: 2500, mb: 400 }],
  ['restarted         ', again, { ms: 1000, mb: 250 }],
]) {
  const ready = median(xs.map((x) => x.ready));
  const rss = median(xs.map((x) => x.rss));
  console.log(
    `${name}: ready ${fmt(ready).padStart(10)} (${ratio(ready, nodeBase)} of node -e 0; goal <= ${goal.ms} ms)  peak RSS ${rss.toFixed(0)} MB (goal <= ${goal.mb} MB)  [runs: ${xs.map((x) => `${x.ready.toFixed(0)} ms/${x.rss.toFixed(0)} MB`).join(', ')}]`,
  );
}
