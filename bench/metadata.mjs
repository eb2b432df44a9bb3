// bench/metadata: generate-metadata on 1,000 generated scripts (mixed languages), first run and
// no-op run, each as a ratio to `node -e 0` measured in the same run; the no-op at 250 vs 1,000
// shows it grows linearly. Also `wmill --version` against `node -e 0` (target: within 1.5x).
// Then (issue 21) the real windmill-cli (dev dependency) against a loopback stand-in server that
// answers at once, side by side with ours on the same generated scripts, first runs with
// --schema-only (the real CLI asks a server for locks; ours resolves them locally), as paired runs:
// the ratio real/ours for 200 and 1,000 scripts (goal >= 10x), and our no-op growth from 1,000
// to 5,000 scripts (linear: <= 5.5x).
// Usage: npm run build && node bench/metadata.mjs [--sizes 250,1000] [--pairs 3] [--no-real]
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, cpSync, readdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, REPO, fmt, median, medianOf, ratio, timeCmd } from './lib.mjs';

const sizesArg = process.argv.indexOf('--sizes');
const SIZES = sizesArg > 0 ? process.argv[sizesArg + 1].split(',').map(Number) : [250, 1000];

function script(i) {
  switch (i % 8) {
    case 0: case 1: case 2:
      return [`s${i}.py`, `from typing import Optional\n\ndef main(name: str, count: int = ${i}, ratio: float = 0.5, flag: bool = False, tag: Optional[str] = None):\n    return {"name": name, "count": count}\n`];
    case 3: case 4:
      return [`s${i}.ts`, `type Mode = "a" | "b";\nexport async function main(name: string, count = ${i}, mode: Mode = "a", tags: string[] = [], opts?: { x: number }) {\n  return { name, count, mode, tags, opts };\n}\n`];
    case 5:
      return [`s${i}.sh`, `name="$1"\ncount="\${2:-${i}}"\necho "$name $count"\n`];
    case 6:
      return [`s${i}.pg.sql`, `-- $1 id = ${i}\n-- $2 label\nSELECT $1::int AS id, $2::text AS label;\n`];
    default:
      return [`s${i}.deno.ts`, `export async function main(a: number, b: number = ${i}, when?: Date) {\n  return a + b;\n}\n`];
  }
}

function makeWorkspace(n) {
  const dir = mkdtempSync(join(tmpdir(), `wmill-bench-meta-${n}-`));
  writeFileSync(join(dir, 'wmill.yaml'), 'defaultTs: bun\nincludes:\n  - f/**\n');
  for (let i = 0; i < n; i++) {
    const folder = join(dir, 'f', `group${i % 20}`);
    mkdirSync(folder, { recursive: true });
    const [name, content] = script(i);
    writeFileSync(join(folder, name), content);
  }
  return dir;
}

const nodeBase = medianOf(7, () => timeCmd(process.execPath, ['-e', '0']).ms);
const version = medianOf(7, () => timeCmd(process.execPath, [BIN, '--version']).ms);
console.log(`node -e 0                       ${fmt(nodeBase)}  (baseline)`);
console.log(`wmill --version                 ${fmt(version)}  ${ratio(version, nodeBase)} of node -e 0 (target <= 1.5x)`);

const noop = {};
for (const n of SIZES) {
  const dir = makeWorkspace(n);
  try {
    const first = timeCmd(process.execPath, [BIN, 'generate-metadata', '--yes', '--schema-only'], { cwd: dir }).ms;
    const nop = medianOf(5, () => timeCmd(process.execPath, [BIN, 'generate-metadata', '--yes', '--schema-only'], { cwd: dir }).ms);
    const check = medianOf(5, () => timeCmd(process.execPath, [BIN, 'generate-metadata', '--check'], { cwd: dir }).ms);
    noop[n] = nop;
    console.log(`${String(n).padStart(5)} scripts: first run  ${fmt(first).padStart(10)}  ${ratio(first, nodeBase)} of node -e 0`);
    console.log(`${String(n).padStart(5)} scripts: no-op run  ${fmt(nop).padStart(10)}  ${ratio(nop, nodeBase)} of node -e 0`);
    console.log(`${String(n).padStart(5)} scripts: --check    ${fmt(check).padStart(10)}  ${ratio(check, nodeBase)} of node -e 0`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
if (SIZES.length >= 2) {
  const [a, b] = [SIZES[0], SIZES[SIZES.length - 1]];
  const growth = (noop[b] - nodeBase) / (noop[a] - nodeBase);
  console.log(`no-op growth ${a} -> ${b} scripts (node start-up subtracted): ${growth.toFixed(2)}x for ${(b / a).toFixed(1)}x the scripts (linear = ${(b / a).toFixed(1)}x or less)`);
}

// ---- against the real windmill-cli -------------------------------------------------------------
if (!process.argv.includes('--no-real')) {
  const pairsArg = process.argv.indexOf('--pairs');
  const PAIRS = pairsArg > 0 ? Number(process.argv[pairsArg + 1]) : 3;
  const REAL = join(REPO, 'node_modules/windmill-cli/esm/main.js');
  // the stand-in: whoami, version, and the "which scripts changed" question (answered: all)
  const standin = spawn(process.execPath, ['-e', `
    const http = require('node:http');
    const s = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url.includes('/version')) { res.setHeader('content-type', 'text/plain'); return res.end('v1.819.0'); }
        res.setHeader('content-type', 'application/json');
        if (req.url.includes('whoami')) return res.end(JSON.stringify({ email: 'admin@x', username: 'admin', is_admin: true, is_super_admin: true }));
        res.end('[]');
      });
    });
    s.listen(0, '127.0.0.1', () => console.log(s.address().port));
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((res) => standin.stdout.once('data', (d) => res(Number(String(d).trim()))));
  const home = mkdtempSync(join(tmpdir(), 'wmill-bench-home-'));
  const fresh = (src) => {
    const d = mkdtempSync(join(tmpdir(), 'wmill-bench-run-'));
    cpSync(src, d, { recursive: true });
    return d;
  };
  try {
    console.log(`\nreal windmill-cli vs ours, first run (--schema-only), ${PAIRS} paired runs, median of each:`);
    for (const n of [200, 1000]) {
      const src = makeWorkspace(n);
      const real = [];
      const ours = [];
      for (let i = 0; i < PAIRS; i++) {
        const a = fresh(src);
        const b = fresh(src);
        real.push(timeCmd(process.execPath, [REAL, 'generate-metadata', '--yes', '--schema-only', '--base-url', `http://127.0.0.1:${port}`, '--workspace', 'bench', '--token', 'x'], { cwd: a, env: { HOME: home } }).ms);
        ours.push(timeCmd(process.execPath, [BIN, 'generate-metadata', '--yes', '--schema-only'], { cwd: b }).ms);
        const written = readdirSync(join(b, 'f', 'group0')).filter((f) => f.endsWith('.script.yaml')).length;
        if (written === 0) throw new Error('ours wrote no metadata');
        rmSync(a, { recursive: true, force: true });
        rmSync(b, { recursive: true, force: true });
      }
      rmSync(src, { recursive: true, force: true });
      const r = median(real);
      const o = median(ours);
      console.log(`${String(n).padStart(5)} scripts: real ${fmt(r).padStart(11)}  ours ${fmt(o).padStart(10)}  ours is ${ratio(r, o)} faster (goal >= 10x)`);
    }
    // no-op growth, 1,000 -> 5,000
    const grow = {};
    for (const n of [1000, 5000]) {
      const dir = makeWorkspace(n);
      timeCmd(process.execPath, [BIN, 'generate-metadata', '--yes', '--schema-only'], { cwd: dir });
      grow[n] = medianOf(5, () => timeCmd(process.execPath, [BIN, 'generate-metadata', '--yes', '--schema-only'], { cwd: dir }).ms);
      rmSync(dir, { recursive: true, force: true });
      console.log(`${String(n).padStart(5)} scripts: no-op ${fmt(grow[n]).padStart(10)}`);
    }
    console.log(`no-op growth 1000 -> 5000 scripts: ${(grow[5000] / grow[1000]).toFixed(2)}x for 5x the scripts (goal <= 5.5x)`);
  } finally {
    standin.kill();
    rmSync(home, { recursive: true, force: true });
  }
}
