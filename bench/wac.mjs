// Workflow-as-code overhead on `wmill serve`: per step() (the fast checkpoint path inside one
// round), per task (one child job + one parent round each, in the workflow's resident
// interpreter), and a 40-task sequential workflow end to end, cold (its first run) and warm,
// embedded (PGlite) and on PostgreSQL. Baseline in the same run: a plain job of the same language
// (one interpreter start), so the ratio says how many interpreter starts' worth a workflow costs.
//   node bench/wac.mjs [--steps 200] [--tasks 10] [--configs embedded,postgresql] [--langs python,ts]
import { median } from './lib.mjs';
import { call, freshDatabase, startPg, startServe } from './support/server.mjs';

const argv = process.argv.slice(2);
const flag = (name, d) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : d;
};
const STEPS = flag('steps', 200);
const TASKS = flag('tasks', 10);
const list = (name, d) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1].split(',') : d;
};
const CONFIGS = list('configs', ['embedded', 'postgresql']);
const LANG_LIST = list('langs', ['python', 'ts']);

const wf = (body, extra = '') => `import { workflow, task, step } from "windmill-client";
${extra}
export const main = workflow(async (n: number) => {
${body}
});
`;
const TASK = 'const inc = task(async function inc(x: number) { return x + 1; });';
const LANGS = {
  ts: {
    language: 'bun',
    plain: 'export async function main(n: number) { return n; }\n',
    // The body times its own steps: per step() as the workflow sees it (one round, no replay).
    steps: wf('  const t0 = performance.now();\n  let s = 0;\n  for (let i = 0; i < n; i++) s += await step("s", () => i);\n  return { s, ms: performance.now() - t0 };'),
    tasks: wf('  let x = 0;\n  for (let i = 0; i < n; i++) x = await inc(x);\n  return x;', TASK),
  },
  python: {
    language: 'python3',
    plain: 'def main(n: int):\n    return n\n',
    steps: 'import time\nfrom wmill import workflow, step\n\n@workflow\nasync def main(n: int):\n    t0 = time.perf_counter()\n    s = 0\n    for i in range(n):\n        s += await step("s", lambda: i)\n    return {"s": s, "ms": (time.perf_counter() - t0) * 1000}\n',
    tasks: 'from wmill import workflow, task\n\n@task\nasync def inc(x: int):\n    return x + 1\n\n@workflow\nasync def main(n: int):\n    x = 0\n    for i in range(n):\n        x = await inc(x)\n    return x\n',
  },
};

async function runOnce(url, path, n) {
  const t0 = performance.now();
  const r = await call(url, 'POST', `jobs/run_wait_result/p/${path}`, { n });
  const ms = performance.now() - t0;
  if (r.status !== 200) throw new Error(`${path}: ${r.status} ${r.text.slice(0, 300)}`);
  return { ms, result: r.json };
}

async function measure(url, lang) {
  const L = LANGS[lang];
  // `first` and `fresh` are the tasks script with a different comment: each one's first run is a
  // workflow deployed a moment ago. `first` runs before any workflow of this language ran on the
  // server (its interpreter starts cold); `fresh` after (a spare interpreter is waiting).
  const c = lang === 'ts' ? '//' : '#';
  const bodies = { ...L, first: `${L.tasks}\n${c} first copy\n`, fresh: `${L.tasks}\n${c} fresh copy\n` };
  for (const [k, content] of Object.entries(bodies)) {
    if (k === 'language') continue;
    const d = await call(url, 'POST', 'scripts/create', { path: `u/admin/${lang}_${k}`, content, language: L.language, summary: '', description: '' });
    if (d.status !== 201) throw new Error(`deploy ${k}: ${d.status} ${d.text}`);
  }
  const p = (k) => `u/admin/${lang}_${k}`;
  await runOnce(url, p('plain'), 1); // warm-up
  const plainRuns = [];
  for (let i = 0; i < 3; i++) plainRuns.push((await runOnce(url, p('plain'), 1)).ms);
  const plain = median(plainRuns);
  const cold = await runOnce(url, p('first'), 40);
  if (cold.result !== 40) throw new Error(`40 tasks: wrong result ${cold.result}`);
  // Warm: per step and per task as the difference between a long and a one-item run.
  await runOnce(url, p('steps'), 1);
  const steps1 = median([(await runOnce(url, p('steps'), 1)).ms, (await runOnce(url, p('steps'), 1)).ms, (await runOnce(url, p('steps'), 1)).ms]);
  // Three runs of the long loop: the first one also pays the resident's JIT warming up to it.
  const stepRuns = [];
  for (let i = 0; i < 3; i++) {
    const r = await runOnce(url, p('steps'), STEPS);
    if (r.result?.s !== (STEPS * (STEPS - 1)) / 2) throw new Error(`steps: wrong result ${JSON.stringify(r.result)}`);
    stepRuns.push(r);
  }
  const stepsN = stepRuns[0];
  await runOnce(url, p('tasks'), 1);
  const tasks1 = median([(await runOnce(url, p('tasks'), 1)).ms, (await runOnce(url, p('tasks'), 1)).ms, (await runOnce(url, p('tasks'), 1)).ms]);
  const tasks = await runOnce(url, p('tasks'), TASKS);
  if (tasks.result !== TASKS) throw new Error(`tasks: wrong result ${tasks.result}`);
  const t40 = await runOnce(url, p('tasks'), 40);
  if (t40.result !== 40) throw new Error(`40 tasks: wrong result ${t40.result}`);
  const fresh = await runOnce(url, p('fresh'), 40);
  if (fresh.result !== 40) throw new Error(`40 tasks: wrong result ${fresh.result}`);
  return {
    plain,
    perStep: median(stepRuns.map((r) => r.result.ms)) / STEPS,
    perStepFirst: stepsN.result.ms / STEPS,
    perStepJob: (median(stepRuns.map((r) => r.ms)) - steps1) / (STEPS - 1),
    perTask: (tasks.ms - tasks1) / (TASKS - 1),
    forty: t40.ms,
    fortyCold: cold.ms,
    fortyFresh: fresh.ms,
  };
}

const rows = [];
const pgServer = CONFIGS.includes('postgresql') ? await startPg() : { url: '', stop: async () => {} };
try {
  for (const cfg of CONFIGS) {
    const db = cfg === 'postgresql' ? await freshDatabase(pgServer.url) : undefined;
    const s = await startServe({ databaseUrl: db?.url, workers: 2 });
    try {
      for (const lang of LANG_LIST) rows.push({ cfg: `${cfg} ${lang}`, ...(await measure(s.url, lang)) });
    } finally {
      await s.stop();
    }
  }
} finally {
  await pgServer.stop();
}

const f = (x) => x.toFixed(1).padStart(9);
console.log(`workflow-as-code on wmill serve (Python; TypeScript on node+tsx; steps=${STEPS}, tasks=${TASKS})`);
console.log('baseline: one plain job of the same language (one interpreter start), measured in the same run');
console.log('per step(): as the workflow body measures it (median of 3 runs; "1st" = the first run), and (job) amortized over the whole job');
console.log('40 tasks: "first" = a new workflow\'s first run before any workflow of its language ran (interpreter starts cold);');
console.log('          "new" = a new workflow\'s first run on a server running workflows (spare interpreter); "again" = its later runs');
console.log('config              plain job ms   per step() ms     (1st)   (job) ms   per task ms   40 first ms    40 new ms  40 again ms   first / plain job');
for (const r of rows) {
  console.log(`${r.cfg.padEnd(18)} ${f(r.plain)}      ${f(r.perStep)} ${f(r.perStepFirst)}  ${f(r.perStepJob)}     ${f(r.perTask)}     ${f(r.fortyCold)}    ${f(r.fortyFresh)}    ${f(r.forty)}     ${(r.fortyCold / r.plain).toFixed(1)}x`);
}
console.log('goals: step() under 1 ms embedded; 40 sequential tasks under 1000 ms');
const verdict = (ms) => `${ms.toFixed(0)} ms ${ms < 1000 ? 'met' : 'NOT MET'}`;
for (const r of rows) {
  console.log(`  ${r.cfg}: per step ${r.perStep.toFixed(2)} ms ${r.perStep < 1 ? 'met' : 'NOT MET'}; 40 tasks: first ${verdict(r.fortyCold)}, new ${verdict(r.fortyFresh)}, again ${verdict(r.forty)}`);
}
