#!/usr/bin/env node
// What the job sandbox (bwrap, src/runner/executors/sandbox.ts) costs per job on `wmill serve`.
//
//   node bench/sandbox.mjs [--jobs M] [--json]
//
// Two embedded servers in the same run, WMILL_SANDBOX=none (the baseline) and WMILL_SANDBOX=bwrap,
// each running M (default 30) sequential `run_wait_result` calls of a trivial deployed script per
// language (bash; Python and TypeScript, whose interpreters are prewarmed, so the sandbox's start
// overlaps the wait for the job). Rows: median and p95 latency per language and mode, ratio
// bwrap / none of the medians, and the difference in ms. The servers are measured alternately
// (one job on each in turn) so that a machine's load hits both alike. Needs bwrap; run
// `npm run build` first (bin/wmill.mjs uses dist/).
import { median } from './lib.mjs';
import { call, serveReady, startChild, stopAll, stopChild } from './support/server.mjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const argv = process.argv.slice(2);
const i = argv.indexOf('--jobs');
const M = i >= 0 ? Number(argv[i + 1]) : 30;
if (!Number.isInteger(M) || M < 1) {
  console.error('--jobs must be a positive integer');
  process.exit(2);
}
const asJson = argv.includes('--json');

const SCRIPTS = {
  bash: { language: 'bash', content: 'n="$1"\necho "$n"\n' },
  python3: { language: 'python3', content: 'def main(n: str):\n    return n\n' },
  typescript: { language: 'bun', content: 'export async function main(n: string) {\n  return n;\n}\n' },
};

const tmp = mkdtempSync(join(tmpdir(), 'wmill-bench-sandbox-'));

async function start(mode) {
  const args = ['serve', '--port', '0', '--json', '--data', join(tmp, mode)];
  const s = await startChild(args, { DATABASE_URL: '', WMILL_SANDBOX: mode }, (out) => {
    const url = serveReady(out);
    if (!url) return undefined;
    const got = JSON.parse(out.slice(out.indexOf('{'))).sandbox;
    if (got !== mode) throw new Error(`asked for sandbox ${mode}, serve runs ${got}`);
    return url;
  });
  for (const [name, s2] of Object.entries(SCRIPTS)) {
    const d = await call(s.value, 'POST', 'scripts/create', { path: `f/bench/${name}`, ...s2, summary: '', description: '' });
    if (d.status !== 201) throw new Error(`deploy: ${d.status} ${d.text}`);
  }
  return s;
}

async function once(base, name, v) {
  const t = performance.now();
  const r = await call(base, 'POST', `jobs/run_wait_result/p/f/bench/${name}`, { n: v });
  const ms = performance.now() - t;
  if (r.status !== 200 || JSON.parse(r.text) !== v) throw new Error(`${name}: ${r.status} ${r.text}`);
  return ms;
}

async function main() {
  const servers = { none: await start('none'), bwrap: await start('bwrap') };
  const rows = [];
  try {
    for (const name of Object.keys(SCRIPTS)) {
      const times = { none: [], bwrap: [] };
      for (const mode of ['none', 'bwrap']) for (let k = 0; k < 3; k++) await once(servers[mode].value, name, `warm${k}`);
      for (let k = 0; k < M; k++) for (const mode of ['none', 'bwrap']) times[mode].push(await once(servers[mode].value, name, `v${k}`));
      const stat = (xs) => {
        const s = [...xs].sort((a, b) => a - b);
        return { median_ms: median(s), p95_ms: s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)] };
      };
      const none = stat(times.none);
      const bwrap = stat(times.bwrap);
      rows.push({ language: name, none, bwrap, ratio: bwrap.median_ms / none.median_ms, extra_ms: bwrap.median_ms - none.median_ms });
    }
  } finally {
    for (const s of Object.values(servers)) await stopChild(s.child);
    rmSync(tmp, { recursive: true, force: true });
  }
  if (asJson) {
    console.log(JSON.stringify({ jobs: M, rows }));
    return;
  }
  console.log(`job latency on wmill serve (embedded), ${M} sequential run_wait_result per language and mode`);
  console.log('language     none median / p95      bwrap median / p95     ratio   extra');
  for (const r of rows) {
    console.log(
      `${r.language.padEnd(12)} ${`${r.none.median_ms.toFixed(1)} / ${r.none.p95_ms.toFixed(1)} ms`.padEnd(22)} ${`${r.bwrap.median_ms.toFixed(1)} / ${r.bwrap.p95_ms.toFixed(1)} ms`.padEnd(22)} ${`${r.ratio.toFixed(2)}x`.padEnd(7)} ${r.extra_ms >= 0 ? '+' : ''}${r.extra_ms.toFixed(1)} ms`,
    );
  }
}

main().catch(async (e) => {
  console.error(e.message);
  await stopAll();
  rmSync(tmp, { recursive: true, force: true });
  process.exit(1);
});
