#!/usr/bin/env node
// `wmill dev` save-to-result latency: a trivial TypeScript, Python and Bash script is saved
// with a new constant and the time until `wmill dev --json` prints the run with that constant
// is measured (file write → stdout line: the watcher, the run in the warm resident, the output).
// Baseline, measured in the same run and interleaved: one raw interpreter start running the same
// file (node --import tsx driver, python3 driver with the real interpreter, bash file).
// Goal (issue 18): a warm re-run faster than one raw interpreter start, for each language.
//
//   node bench/dev.mjs [--runs N] [--json] [--metadata]
//
// --metadata keeps the metadata refresh on (it runs after each result; the bench then waits for
// its "metadata" line, or 300 ms, before the next save). Run `npm run build` first.
import { spawn, spawnSync } from 'node:child_process';
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
const withMeta = argv.includes('--metadata');
if (!existsSync(join(REPO, 'dist/cli.mjs'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(2);
}

const ws = mkdtempSync(join(tmpdir(), 'wmill-bench-dev-'));
const put = (rel, text) => {
  mkdirSync(dirname(join(ws, rel)), { recursive: true });
  writeFileSync(join(ws, rel), text);
};
put('wmill.yaml', 'defaultTs: bun\nincludes:\n  - f/**\n');
const SRC = {
  typescript: { file: 'f/bench/triv_ts.ts', text: (n) => `export async function main(a: number = 41) {\n  return { a: a + 1, n: ${n} };\n}\n` },
  python: { file: 'f/bench/triv_py.py', text: (n) => `def main(a: int = 41):\n    return {"a": a + 1, "n": ${n}}\n` },
  bash: { file: 'f/bench/triv_sh.sh', text: (n) => `a="\${1:-41}"\necho "{\\"a\\": $a, \\"n\\": ${n}}" > result.json\n` },
};
for (const s of Object.values(SRC)) put(s.file, s.text(0));
const tsx = pathToFileURL(createRequire(join(REPO, 'package.json')).resolve('tsx')).href;
put('drivers/ts-driver.mts', `import { main } from '../f/bench/triv_ts.ts';\nconsole.log(JSON.stringify(await main(41)));\n`);
put('drivers/py-driver.py', "import importlib.util, json, sys\nspec = importlib.util.spec_from_file_location('t', sys.argv[1])\nm = importlib.util.module_from_spec(spec)\nspec.loader.exec_module(m)\nprint(json.dumps(m.main(41)))\n");
// The real interpreter behind a pyenv-style shim (what wmill runs, util/python.ts).
const realPython = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim() || 'python3';
const RAW = {
  typescript: [process.execPath, ['--import', tsx, 'drivers/ts-driver.mts'], 'node --import tsx driver.mts'],
  python: [realPython, ['drivers/py-driver.py', SRC.python.file], `${realPython} driver.py`],
  bash: ['bash', [SRC.bash.file], 'bash triv.sh'],
};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const rawTime = ([cmd, args]) => {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: ws, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
};

/** One `wmill dev <file> --json` session: save N times, time each save → its result line. */
async function session(lang) {
  const s = SRC[lang];
  const child = spawn(process.execPath, [BIN, 'dev', s.file, '--json', ...(withMeta ? [] : ['--no-metadata'])], { cwd: ws, stdio: ['ignore', 'pipe', 'pipe'], detached: false });
  let buf = '';
  let errBuf = '';
  const durations = [];
  const waiters = [];
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) !== -1) {
      const line = JSON.parse(buf.slice(0, i));
      buf = buf.slice(i + 1);
      const at = performance.now();
      for (const w of waiters.splice(0)) w(line, at);
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => (errBuf += d));
  const nextRun = (n) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${lang}: no result for save ${n} after 20 s:\n${errBuf}`)), 20_000);
      const want = (line, at) => {
        if (line.status === 'success' && line.result?.n === n) {
          clearTimeout(timer);
          durations.push(line.duration_ms);
          resolve(at);
        } else if (line.status !== 'success') reject(new Error(`${lang}: ${JSON.stringify(line.error)}`));
        else waiters.push(want);
      };
      waiters.push(want);
    });
  const lat = [];
  const raw = [];
  try {
    await nextRun(0); // the first run (cold: the resident starts)
    for (let n = 1; n <= runs + 2; n++) {
      // A short pause between saves, as between real edits (not needed for correctness: every
      // save with new content is seen, through the watcher's raw events).
      await new Promise((r) => setTimeout(r, 20));
      const done = nextRun(n);
      const t0 = performance.now();
      writeFileSync(join(ws, s.file), s.text(n));
      const at = await done;
      if (n > 2) lat.push(at - t0); // two warm-ups
      if (withMeta) await new Promise((r) => setTimeout(r, 300));
      raw.push(rawTime(RAW[lang]));
    }
  } finally {
    // Always stopped (a failed save must not leave wmill dev and its interpreters behind).
    const exited = new Promise((r) => child.once('exit', r));
    if (child.exitCode === null) child.kill('SIGINT');
    await exited;
  }
  return { lang, save_to_result_ms: +median(lat).toFixed(1), run_ms: +median(durations.slice(3)).toFixed(1), raw_start_ms: +median(raw).toFixed(1), raw: RAW[lang][2] };
}

const results = [];
try {
  for (const lang of ['typescript', 'python', 'bash']) results.push(await session(lang));
} finally {
  rmSync(ws, { recursive: true, force: true });
}
for (const r of results) r.ratio = +(r.save_to_result_ms / r.raw_start_ms).toFixed(2);
if (asJson) console.log(JSON.stringify({ node: process.version, runs, metadata: withMeta, results }, null, 2));
else {
  console.log(`wmill dev: save → result (median of ${runs} saves, warm resident${withMeta ? ', metadata refresh on' : ''}) vs one raw interpreter start`);
  console.log('language     save→result  (of which run)   raw start   ratio   raw baseline');
  for (const r of results) {
    console.log(`${r.lang.padEnd(12)} ${(r.save_to_result_ms + ' ms').padStart(11)} ${(r.run_ms + ' ms').padStart(14)} ${(r.raw_start_ms + ' ms').padStart(11)} ${(r.ratio + 'x').padStart(7)}   ${r.raw}`);
  }
}
