// bench/sync: `sync push` of a generated workspace (bash + python scripts) with our CLI and with
// the real windmill-cli 1.819.0, each against its own fresh `wmill serve` (embedded PGlite), so
// both start from an empty workspace. Cases: first push, no-op push (nothing changed), push
// after changing one script. Each command is timed end to end (spawn to exit); no-op and
// one-change are the median of --runs runs, interleaved ours/real. After each CLI's first push,
// the other CLI's `sync push --dry-run` against that server must find nothing to do.
// Goals (from the issue): first push >= 5x faster than the real CLI; our no-op push < 0.3 s.
// Usage: npm run build && node bench/sync.mjs [--sizes 200,1000] [--runs N]
// BENCH_KEEP=1 keeps the temporary folders (workspaces, server data, server logs).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, REPO, fmt, median, medianOf, timeCmd as timeOnce } from './lib.mjs';

const argv = process.argv.slice(2);
const argOf = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const SIZES = (argOf('--sizes') ?? '200,1000').split(',').map(Number);
const RUNS = Number(argOf('--runs')) || 3;
const TOKEN = 'bench-admin-token';
const WS = 'admins';
const REAL = createRequire(join(REPO, 'package.json')).resolve('windmill-cli/esm/main.js');

if (!existsSync(join(REPO, 'dist/cli.mjs'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(2);
}

// Another engineer may rebuild dist/ while the bench runs (chunk names change): a command that
// fails to load a module is retried after a pause rather than failing the bench.
const MISSING = /ERR_MODULE_NOT_FOUND|Cannot find module|dist\/ is missing/;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function timeCmd(cmd, args, opts = {}) {
  for (let attempt = 1; ; attempt++) {
    const r = timeOnce(cmd, args, { ...opts, allowFail: true });
    if (r.status === 0 || opts.allowFail) return r;
    if (attempt < 4 && MISSING.test(r.stderr ?? '')) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2000);
      continue;
    }
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${(r.stderr ?? '').slice(0, 800)}`);
  }
}

const scratch = mkdtempSync(join(tmpdir(), 'wmill-bench-sync-'));
const servers = new Set();
const warnings = [];
const warn = (msg) => {
  warnings.push(msg);
  console.log(`WARNING: ${msg}`);
};

// ---------- workspace ----------
function script(i) {
  if (i % 2 === 0) return [`s${i}.sh`, `name="$1"\ncount="\${2:-${i}}"\necho "hello $name $count"\n`];
  return [`p${i}.py`, `def main(name: str, count: int = ${i}, flag: bool = False):\n    return {"name": name, "count": count, "flag": flag}\n`];
}

function makeWorkspace(n) {
  const dir = join(scratch, `ws-${n}`);
  mkdirSync(join(dir, 'f/bench'), { recursive: true });
  writeFileSync(join(dir, 'wmill.yaml'), 'defaultTs: bun\nincludes:\n  - f/**\nskipSecrets: true\nnonDottedPaths: true\n');
  writeFileSync(join(dir, 'f/bench/folder.meta.yaml'), 'summary: Benchmark scripts\ndisplay_name: bench\nextra_perms: {}\nowners: []\n');
  for (let i = 0; i < n; i++) {
    const [name, content] = script(i);
    writeFileSync(join(dir, 'f/bench', name), content);
  }
  const r = timeCmd(process.execPath, [BIN, 'generate-metadata', '--yes', '--json'], { cwd: dir });
  const j = JSON.parse(r.stdout);
  if (!j.ok || j.updated.length !== n) throw new Error(`generate-metadata: ${j.updated.length} of ${n} updated, failed: ${JSON.stringify(j.failed).slice(0, 300)}`);
  if (j.lockStats.resolutions !== 0) warn(`generate-metadata resolved ${j.lockStats.resolutions} lock(s) (expected none: no third-party imports)`);
  return { dir, genMs: r.ms };
}

// ---------- servers ----------
// stdout/stderr go to files, not pipes: the bench blocks in spawnSync while timing, and a full
// pipe would stall the server.
function spawnServer(label, attempt) {
  const data = join(scratch, `data-${label}-${attempt}`);
  const logOut = join(scratch, `server-${label}-${attempt}.out`);
  const logErr = join(scratch, `server-${label}-${attempt}.err`);
  const fo = openSync(logOut, 'w');
  const fe = openSync(logErr, 'w');
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data', data, '--json'], {
    cwd: scratch,
    stdio: ['ignore', fo, fe],
    env: { ...process.env, WMILL_ADMIN_TOKEN: TOKEN, NO_COLOR: '1' },
  });
  closeSync(fo);
  closeSync(fe);
  const srv = { label, child, exited: false, logOut, logErr };
  child.on('exit', (code, signal) => Object.assign(srv, { exited: true, code, signal }));
  servers.add(srv);
  return srv;
}

/** A fresh server (empty workspace), resolved with its url once it is ready; retried if it dies while starting. */
async function startServer(label) {
  for (let attempt = 1; ; attempt++) {
    const srv = spawnServer(label, attempt);
    const t0 = Date.now();
    while (!srv.exited && !srv.url) {
      if (Date.now() - t0 > 90_000) throw new Error(`server ${label} not ready after 90 s`);
      // The ready line is JSON (possibly pretty-printed): the first parsable object with a url.
      const text = readFileSync(srv.logOut, 'utf8');
      const start = text.indexOf('{');
      for (let end = text.indexOf('}', start); start >= 0 && end >= 0; end = text.indexOf('}', end + 1)) {
        try {
          const j = JSON.parse(text.slice(start, end + 1));
          if (j.url) srv.url = j.url;
          break;
        } catch {}
      }
      if (!srv.url) await sleep(100);
    }
    if (srv.url) return srv;
    servers.delete(srv);
    const why = `server ${label} exited while starting (code ${srv.code}, signal ${srv.signal}): ${readFileSync(srv.logErr, 'utf8').slice(-800)}`;
    if (attempt >= 3) throw new Error(why);
    console.log(`${why.split('\n')[0]}; retrying`);
    await sleep(2000);
  }
}

async function stopServer(srv) {
  if (!servers.delete(srv) || srv.exited) return;
  const gone = new Promise((r) => srv.child.once('exit', r));
  srv.child.kill('SIGTERM');
  const t = setTimeout(() => srv.exited || srv.child.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(t);
}
process.on('exit', () => {
  for (const s of servers) if (!s.exited) s.child.kill('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

// ---------- the two CLIs ----------
const ours = (srv, dir, extra = []) =>
  timeCmd(process.execPath, [BIN, 'sync', 'push', ...extra, '--base-url', srv.url, '--token', TOKEN, '--workspace', WS], { cwd: dir });
function realCli(cfgDir) {
  return (dir, extra = []) => timeCmd(process.execPath, [REAL, 'sync', 'push', ...extra], { cwd: dir, env: { WMILL_CONFIG_DIR: cfgDir, NO_COLOR: '1', FORCE_COLOR: '0' } });
}
const strip = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');
const workMs = (r) => Number(/applied to \S+ \((\d+) ms\)/.exec(r.stderr)?.[1] ?? NaN);
const ourChanges = (r) => (/nothing to do/.test(r.stderr) ? 0 : Number(/(\d+) change\(s\)/.exec(r.stderr + r.stdout)?.[1] ?? NaN));
const realChanges = (r) => Number(/(\d+) changes to apply/.exec(strip(r.stdout + r.stderr))?.[1] ?? NaN);

// The edited script alternates between two bodies, so each run has exactly one changed script.
function editOne(dir, k) {
  const f = join(dir, 'f/bench/s0.sh');
  const base = readFileSync(f, 'utf8').replace(/\n# rev [ab]\n$/, '\n');
  writeFileSync(f, `${base}# rev ${k % 2 ? 'b' : 'a'}\n`);
}

// ---------- run ----------
let failed = false;
const rows = [];
const diag = [];
const load0 = loadavg().map((x) => x.toFixed(2)).join(' ');
try {
  const nodeBase = medianOf(5, () => timeCmd(process.execPath, ['-e', '0']).ms);
  const helpBase = medianOf(5, () => timeCmd(process.execPath, [BIN, 'sync', 'push', '--help']).ms);
  for (const n of SIZES) {
    const starting = Promise.all([startServer(`ours-${n}`), startServer(`real-${n}`)]);
    starting.catch(() => {}); // awaited below
    const { dir, genMs } = makeWorkspace(n);
    const [srvOurs, srvReal] = await starting;
    console.log(`${n} items: workspace generated (generate-metadata ${fmt(genMs)}), servers ready`);
    const cfgDir = join(scratch, `cfg-${n}`);
    mkdirSync(cfgDir, { recursive: true });
    timeCmd(process.execPath, [REAL, 'workspace', 'add', 'bench', WS, srvReal.url, '--token', TOKEN], { cwd: dir, env: { WMILL_CONFIG_DIR: cfgDir } });
    const real = realCli(cfgDir);
    // the real CLI against our server: a profile of its own for the cross-check dry-run
    const cfgCross = join(scratch, `cfg-cross-${n}`);
    mkdirSync(cfgCross, { recursive: true });
    timeCmd(process.execPath, [REAL, 'workspace', 'add', 'bench', WS, srvOurs.url, '--token', TOKEN], { cwd: dir, env: { WMILL_CONFIG_DIR: cfgCross } });
    const realOnOurs = realCli(cfgCross);

    // first push
    const o1 = ours(srvOurs, dir, ['--yes']);
    if (ourChanges(o1) !== n + 1) warn(`${n}: our first push planned ${ourChanges(o1)} change(s), expected ${n + 1}`);
    const x1 = realOnOurs(dir, ['--dry-run']);
    if (realChanges(x1) !== 0) warn(`${n}: after our first push, the real CLI's dry-run plans ${realChanges(x1)} change(s) (expected 0 changes to apply)`);
    const r1 = real(dir, ['--yes']);
    const x2 = ours(srvReal, dir, ['--dry-run']);
    if (!/nothing to do/.test(x2.stderr)) warn(`${n}: after the real first push, our dry-run is not empty:\n${(x2.stdout + x2.stderr).split('\n').slice(0, 8).join('\n')}`);
    rows.push({ n, case: 'first push', ours: o1.ms, real: r1.ms });
    diag.push({ n, case: 'first push', total: o1.ms, work: workMs(o1) });

    // no-op: one warm-up each, then interleaved runs
    ours(srvOurs, dir, ['--yes']);
    real(dir, ['--yes']);
    const nOurs = [];
    const nReal = [];
    for (let i = 0; i < RUNS; i++) {
      const a = ours(srvOurs, dir, ['--yes']);
      if (ourChanges(a) !== 0) warn(`${n}: our no-op push planned ${ourChanges(a)} change(s)`);
      nOurs.push(a.ms);
      const b = real(dir, ['--yes']);
      if (realChanges(b) !== 0) warn(`${n}: real no-op push planned ${realChanges(b)} change(s)`);
      nReal.push(b.ms);
    }
    rows.push({ n, case: 'no-op push', ours: median(nOurs), real: median(nReal) });

    // one changed script
    const cOurs = [];
    const cReal = [];
    const cWork = [];
    for (let i = 0; i < RUNS; i++) {
      editOne(dir, i);
      const a = ours(srvOurs, dir, ['--yes']);
      if (ourChanges(a) !== 1) warn(`${n}: our one-change push planned ${ourChanges(a)} change(s)`);
      cOurs.push(a.ms);
      cWork.push(workMs(a));
      const b = real(dir, ['--yes']);
      if (realChanges(b) !== 1) warn(`${n}: real one-change push planned ${realChanges(b)} change(s)`);
      cReal.push(b.ms);
    }
    rows.push({ n, case: 'one change', ours: median(cOurs), real: median(cReal) });
    diag.push({ n, case: 'one change', total: median(cOurs), work: median(cWork) });

    await Promise.all([stopServer(srvOurs), stopServer(srvReal)]);
  }

  console.log(`\nsync push, end to end (spawn to exit); no-op and one change: median of ${RUNS} runs`);
  console.log(`node ${process.version}, ${cpus().length} cores, load average at start ${load0}, at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log('case          items    ours ms    real ms   real/ours');
  for (const r of rows) {
    console.log(`${r.case.padEnd(12)} ${String(r.n).padStart(6)} ${r.ours.toFixed(1).padStart(10)} ${r.real.toFixed(1).padStart(10)} ${((r.real / r.ours).toFixed(2) + 'x').padStart(11)}`);
  }
  console.log('\ngoals');
  for (const r of rows) {
    if (r.case === 'first push') {
      const met = r.real / r.ours >= 5;
      console.log(`first push >= 5x faster than real, ${String(r.n).padStart(5)} items: ${(r.real / r.ours).toFixed(2)}x  ${met ? 'met' : 'NOT MET'}`);
    }
  }
  for (const r of rows) {
    if (r.case === 'no-op push') {
      const met = r.ours < 300;
      console.log(`no-op push < 300 ms (ours),         ${String(r.n).padStart(5)} items: ${fmt(r.ours)}  ${met ? 'met' : 'NOT MET'}`);
    }
  }
  console.log(`\nwhere our time goes: node -e 0 ${fmt(nodeBase)}, wmill sync push --help ${fmt(helpBase)} (start-up + CLI load)`);
  for (const d of diag) {
    console.log(`  ${d.case.padEnd(11)} ${String(d.n).padStart(5)} items: total ${fmt(d.total)}, plan+apply (reported ms) ${fmt(d.work)}, rest ${fmt(d.total - d.work)}`);
  }
  if (warnings.length) {
    console.log(`\n${warnings.length} warning(s) (see above)`);
    process.exitCode = 1;
  }
} catch (e) {
  // Say what the servers were doing: a failed push is often a server that died.
  for (const s of servers) {
    console.error(`server ${s.label} (${s.url ?? 'not ready'}): ${s.exited ? `exited (code ${s.code}, signal ${s.signal})` : 'running'}; stderr tail:\n${readFileSync(s.logErr, 'utf8').slice(-1500)}`);
  }
  failed = true;
  throw e;
} finally {
  await Promise.all([...servers].map(stopServer));
  if (process.env.BENCH_KEEP || failed) console.error(`kept ${scratch}`);
  else rmSync(scratch, { recursive: true, force: true });
}
