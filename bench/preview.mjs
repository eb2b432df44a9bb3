#!/usr/bin/env node
// Preview overhead benchmark: `wmill script preview` on trivial TypeScript, Python and Bash
// scripts against the raw interpreter running the same file and calling main with the same
// arguments (node + tsx with a driver module, python3 with a driver, bash with positional args).
//
//   node bench/preview.mjs [--runs N] [--json]
//
// Each command runs 2 warm-up times then N times (default 15), one after the other; the
// median wall time is reported with the ratio wmill / raw, and `node -e 0` (Node's own start-up,
// which bounds how close wmill can get to an interpreter that starts in a few ms, like bash).
// The metadata of the scripts is generated first, so preview takes its fast path (schema from
// .script.yaml, no parser); the `ts edited` case is a script written after that (the edit →
// preview loop: the schema is inferred from the code).
// Run `npm run build` first (the bench uses bin/wmill.mjs, i.e. dist/). BENCH_KEEP=1 keeps the
// temporary workspace; WMILL_DEBUG_TIMING=1 on a preview prints where wmill's own time goes.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(REPO, 'bin/wmill.mjs');
const argv = process.argv.slice(2);
const runs = Number(argv[argv.indexOf('--runs') + 1]) || 15;
const asJson = argv.includes('--json');

if (!existsSync(join(REPO, 'dist/cli.mjs'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(2);
}

const ws = mkdtempSync(join(tmpdir(), 'wmill-bench-'));
const put = (rel, text) => {
  mkdirSync(dirname(join(ws, rel)), { recursive: true });
  writeFileSync(join(ws, rel), text);
};
put('wmill.yaml', 'defaultTs: bun\nincludes:\n  - f/**\n');
put('f/bench/triv_ts.ts', 'export async function main(a: number, b: string) {\n  return { a: a + 1, b };\n}\n');
put('f/bench/triv_py.py', 'def main(a: int, b: str):\n    return {"a": a + 1, "b": b}\n');
put('f/bench/triv_sh.sh', 'a="$1"\nb="$2"\necho "$a $b"\n');
const ARGS = { a: 41, b: 'x' };

// Raw baselines: the same files, main called with the same arguments, the result printed as JSON.
const tsx = pathToFileURL(createRequire(join(REPO, 'package.json')).resolve('tsx')).href;
put('drivers/ts-driver.mts', `import { main } from '../f/bench/triv_ts.ts';\nconsole.log(JSON.stringify(await main(${ARGS.a}, ${JSON.stringify(ARGS.b)})));\n`);
put(
  'drivers/py-driver.py',
  [
    'import importlib.util, json, sys',
    "spec = importlib.util.spec_from_file_location('triv', sys.argv[1])",
    'm = importlib.util.module_from_spec(spec)',
    'spec.loader.exec_module(m)',
    `print(json.dumps(m.main(a=${ARGS.a}, b=${JSON.stringify(ARGS.b)})))`,
    '',
  ].join('\n'),
);

const gen = spawnSync(process.execPath, [BIN, 'generate-metadata', '--yes'], { cwd: ws, encoding: 'utf8' });
if (gen.status !== 0) {
  console.error(`generate-metadata failed:\n${gen.stdout}\n${gen.stderr}`);
  process.exit(1);
}

const data = JSON.stringify(ARGS);

// The edit → preview loop: a script changed since generate-metadata (its schema is inferred now).
put('f/bench/edited_ts.ts', 'export async function main(a: number, b: string) {\n  return { a: a + 1, b };\n}\n');
put('drivers/ts-edited-driver.mts', `import { main } from '../f/bench/edited_ts.ts';\nconsole.log(JSON.stringify(await main(${ARGS.a}, ${JSON.stringify(ARGS.b)})));\n`);

// The bench measures the everyday path: metadata current, schema read from .script.yaml.
for (const f of ['f/bench/triv_ts.ts', 'f/bench/triv_py.py', 'f/bench/triv_sh.sh']) {
  const r = spawnSync(process.execPath, [BIN, 'script', 'preview', f, '-d', data], { cwd: ws, encoding: 'utf8', env: { ...process.env, WMILL_DEBUG_TIMING: '1' } });
  if (!r.stderr.includes('[timing] schema (metadata)')) {
    console.error(`${f}: preview did not take the metadata fast path:\n${r.stderr}`);
    process.exit(1);
  }
}
const realPython = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim() || 'python3';
const cases = [
  {
    name: 'typescript',
    wmill: [process.execPath, [BIN, 'script', 'preview', 'f/bench/triv_ts.ts', '-d', data]],
    raw: [process.execPath, ['--import', tsx, 'drivers/ts-driver.mts']],
    rawLabel: 'node --import tsx driver.mts',
  },
  {
    name: 'ts edited',
    wmill: [process.execPath, [BIN, 'script', 'preview', 'f/bench/edited_ts.ts', '-d', data]],
    raw: [process.execPath, ['--import', tsx, 'drivers/ts-edited-driver.mts']],
    rawLabel: 'node --import tsx driver.mts (metadata not current: schema inferred)',
  },
  {
    name: 'python',
    wmill: [process.execPath, [BIN, 'script', 'preview', 'f/bench/triv_py.py', '-d', data]],
    // The real interpreter (behind a pyenv-style shim, as wmill resolves it: util/python.ts).
    raw: [realPython, ['drivers/py-driver.py', 'f/bench/triv_py.py']],
    rawLabel: `${realPython} driver.py`,
  },
  {
    name: 'bash',
    wmill: [process.execPath, [BIN, 'script', 'preview', 'f/bench/triv_sh.sh', '-d', data]],
    raw: ['bash', ['f/bench/triv_sh.sh', String(ARGS.a), ARGS.b]],
    rawLabel: 'bash triv.sh 41 x',
  },
];

function time([cmd, args]) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: ws, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return { ms, out: r.stdout.trim() };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const results = [];
// `node -e 0`, timed along with every case: the floor of any `wmill` command (Node's own start-up).
const nodeStart = [];
const NODE = [process.execPath, ['-e', '0']];
try {
  for (const c of cases) {
    const first = { wmill: time(c.wmill), raw: time(c.raw) };
    time(c.wmill);
    time(c.raw);
    const w = [];
    const r = [];
    // Interleaved so that machine noise hits both sides alike.
    for (let i = 0; i < runs; i++) {
      w.push(time(c.wmill).ms);
      r.push(time(c.raw).ms);
      nodeStart.push(time(NODE).ms);
    }
    const wm = median(w);
    const rm = median(r);
    results.push({ case: c.name, raw: c.rawLabel, runs, wmill_ms: +wm.toFixed(1), raw_ms: +rm.toFixed(1), ratio: +(wm / rm).toFixed(2), overhead_ms: +(wm - rm).toFixed(1), sample: { wmill: first.wmill.out, raw: first.raw.out } });
  }
} finally {
  if (!process.env.BENCH_KEEP) rmSync(ws, { recursive: true, force: true });
  else console.error(`kept ${ws}`);
}

if (asJson) {
  console.log(JSON.stringify({ node: process.version, node_start_ms: +median(nodeStart).toFixed(1), results }, null, 2));
} else {
  console.log(`preview overhead, median of ${runs} runs (node ${process.version})`);
  console.log('case        wmill ms   raw ms   ratio   overhead   raw baseline');
  for (const x of results) {
    console.log(
      `${x.case.padEnd(11)} ${String(x.wmill_ms).padStart(8)} ${String(x.raw_ms).padStart(8)} ${(x.ratio + 'x').padStart(7)} ${(x.overhead_ms + ' ms').padStart(10)}   ${x.raw}`,
    );
  }
  console.log(`node -e 0: ${median(nodeStart).toFixed(1)} ms (Node's own start-up, the floor of any wmill command)`);
}
