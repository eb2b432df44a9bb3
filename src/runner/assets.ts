/**
 * Small JavaScript files that run inside TypeScript job processes: the wrapper that calls `main`,
 * and the Node resolve hook that lets `import 'windmill-client'` work in a workspace without
 * node_modules. They are kept here as text (not as files beside the code) so they work the same
 * from src/ (tests, tsx) and from the esbuild bundle in dist/, which ships no loose files; they
 * are written once to a content-addressed cache folder and reused (one stat per job afterwards).
 *
 * Wrapper protocol (shared with python/wmill/_runner.py):
 *   argv: <result.json>
 *   stdin: {"script": "<file>", "args": {...}, "argNames": ["a", "b"] | null, "root": "<dir>" | null,
 *           "env": {"WM_TOKEN": "...", ...}}; the wrapper sets `env` in its own environment before
 *           importing the script. Reading the job from stdin lets the runner start the
 *           interpreter before the job is known (prewarm) without running any user code early.
 *   result.json: main's return value as JSON, or {"error": {name, message, stack, extra?}} (exit 1).
 *   stdout/stderr of the process are the job's logs.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/fs.js';

const TS_WRAPPER = `// wmill: TypeScript job wrapper (generated; see src/runner/assets.ts)
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [resultPath] = process.argv.slice(2);
const SKIP = new Set(['line', 'name', 'stack', 'column', 'message', 'sourceURL', 'originalLine', 'originalColumn']);

function toJson(v) {
  const s = JSON.stringify(v === undefined ? null : v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
  return s === undefined ? 'null' : s;
}

/** File URLs and paths without the queries module reloading adds (wmill_gen, tsx's own). */
const clean = (t) => typeof t === 'string' ? t.replace(/(%3F|\\?)tsx-[\\w-]+=[^\\s?&):]*|[?&](?:tsx-[\\w-]+|wmill_gen)=[^\\s?&):]*/g, '') : t;

function serializeError(e) {
  if (e instanceof Error) {
    // Frames of this wrapper are noise in the user's stack trace.
    const stack = typeof e.stack === 'string' ? clean(e.stack.split('\\n').filter((l) => !l.includes('/ts-wrapper.mjs')).join('\\n')) : undefined;
    const out = { name: e.name || 'Error', message: clean(e.message), stack };
    const extra = {};
    for (const k of Object.keys(e)) if (!SKIP.has(k)) extra[k] = e[k];
    if (Object.keys(extra).length) out.extra = extra;
    return out;
  }
  if (e && typeof e === 'object') return { name: 'Error', message: toJson(e) };
  return { name: 'Error', message: String(e) };
}

/** Parameter names of main from its source, for calls by position (\`(a, b = 1, {c}) => ...\`). */
function paramNames(fn) {
  const src = Function.prototype.toString.call(fn);
  const open = src.indexOf('(');
  const arrow = src.indexOf('=>');
  if (arrow !== -1 && (open === -1 || arrow < open)) {
    const head = src.slice(0, arrow).replace(/^async\\s+/, '').trim();
    return /^[A-Za-z_$][\\w$]*$/.test(head) ? [head] : [];
  }
  if (open === -1) return [];
  const parts = [];
  let depth = 0, cur = '', quote = null;
  for (let j = open + 1; j < src.length; j++) {
    const c = src[j];
    if (quote) {
      cur += c;
      if (c === '\\\\') { cur += src[++j] ?? ''; continue; }
      if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'" || c === '\`') { quote = c; cur += c; continue; }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      if (depth === 0) { parts.push(cur); break; }
      depth--;
    } else if (c === ',' && depth === 0) { parts.push(cur); cur = ''; continue; }
    cur += c;
  }
  if (parts.length && parts[parts.length - 1].trim() === '') parts.pop();
  return parts.map((p) => {
    const m = /^\\s*(?:\\.\\.\\.)?\\s*([A-Za-z_$][\\w$]*)/.exec(p);
    return m ? m[1] : null;
  });
}

/**
 * One round of a workflow-as-code v2 script with the npm windmill-client's own WorkflowCtx
 * (spec/windmill-server.md §6.6): replay from the checkpoint, and report what to do next as one
 * output {type: complete|dispatch|sleep|approval|inline_checkpoint, ..., keys}. \`keys\` lists
 * every step key allocated this round, in order, for the runner's divergence check.
 */
let wacKeys = null;
let wacExecuting = null;
// Imported once: with resolve hooks registered, every import() goes through them (another thread).
let wmClient;
const windmillClient = async () => (wmClient ??= await import('windmill-client'));
async function runWorkflowRound(mod, args, checkpoint, argNames) {
  const wm = await windmillClient();
  wacExecuting = checkpoint._executing_key ?? null;
  const candidates = [mod.default, mod.main, ...Object.values(mod)];
  const fn = candidates.find((f) => typeof f === 'function' && f._is_workflow);
  if (!fn) throw new Error('no workflow found: export the function wrapped in workflow(...) (e.g. export const main = workflow(async (...) => ...))');
  const ctx = new wm.WorkflowCtx(checkpoint);
  const keys = (wacKeys = []);
  const alloc = ctx._allocKey.bind(ctx);
  ctx._allocKey = (name) => {
    const k = alloc(name);
    keys.push(k);
    return k;
  };
  wm.setWorkflowCtx(ctx);
  const fromSuspend = (info) => {
    switch (info.mode) {
      case 'step_complete': return { type: 'complete', result: info.result ?? null };
      case 'sequential': case 'parallel': return { type: 'dispatch', mode: info.mode, steps: info.steps };
      case 'sleep': return { type: 'sleep', key: info.key, seconds: info.seconds };
      case 'approval': return { type: 'approval', key: info.key, timeout: info.timeout, form: info.form ?? null, self_approval_disabled: !!info.self_approval_disabled, description: info.description ?? null };
      case 'inline_checkpoint': return { type: 'inline_checkpoint', key: info.key, result: info.result ?? null, started_at: info.started_at, duration_ms: info.duration_ms };
      default: throw new Error('unknown workflow suspend mode ' + info.mode);
    }
  };
  let output;
  try {
    const names = Array.isArray(argNames) ? argNames : paramNames(fn);
    const result = await fn(...names.map((n) => (n == null ? undefined : args[n])));
    const failure = ctx._takePendingStepFailure && ctx._takePendingStepFailure();
    if (failure) throw failure.error;
    const swallowed = ctx._takePendingSuspend && ctx._takePendingSuspend();
    if (swallowed) output = fromSuspend(swallowed.dispatchInfo);
    else {
      const pending = ctx._flushPending();
      if (pending.length) output = { type: 'dispatch', mode: pending.length > 1 ? 'parallel' : 'sequential', steps: pending };
      else output = { type: 'complete', result };
    }
  } catch (e) {
    if (e && e.name === 'StepSuspend' && e.dispatchInfo) output = fromSuspend(e.dispatchInfo);
    else throw e;
  } finally {
    if (ctx._warnUnobservedTaskFailures) ctx._warnUnobservedTaskFailures();
  }
  return { ...output, keys };
}

/** Run one job (or one workflow round) in this process: {code, out} with out the result JSON. */
const loaded = new Map();
let generation = 0;
async function runJob(input) {
  wacKeys = null;
  wacExecuting = null;
  try {
    for (const [k, v] of Object.entries(input.env || {})) {
      if (v === null) delete process.env[k];
      else process.env[k] = v;
    }
    // \`reload\` (wmill dev, a resident): a generation number; a new one imports the script and
    // the workspace modules it imports afresh (the resolve hook carries it to relative imports),
    // while packages stay loaded.
    if (input.reload && input.reload !== generation) {
      generation = input.reload;
      loaded.clear();
    }
    const url = pathToFileURL(input.script).href + (input.reload ? '?wmill_gen=' + input.reload : '');
    let mod = loaded.get(url);
    if (!mod) loaded.set(url, (mod = await import(url)));
    const args = input.args || {};
    if (input.wac) {
      // A resident process serves many rounds: the client must use this round's token.
      if (RESIDENT) (await windmillClient()).setClient();
      return { code: 0, out: toJson({ __wac: await runWorkflowRound(mod, args, input.wac.checkpoint || {}, input.argNames) }) };
    }
    const main = typeof mod.main === 'function' ? mod.main : mod.default && typeof mod.default.main === 'function' ? mod.default.main : undefined;
    if (typeof main !== 'function') throw new Error('main function is missing: the script must export a function named main');
    const names = Array.isArray(input.argNames) ? input.argNames : paramNames(main);
    const result = await main(...names.map((n) => (n == null ? undefined : args[n])));
    return { code: 0, out: toJson(result) };
  } catch (e) {
    return { code: 1, out: toJson(wacKeys ? { error: serializeError(e), __wac_keys: wacKeys } : { error: serializeError(e) }) };
  }
}

/** The body waits on a promise that never settles (the event loop emptied): say why. */
function stuckOutcome() {
  const reached = (wacKeys ?? []).join(', ') || 'none';
  const message = wacExecuting
    ? "replay diverged: re-running the workflow never reached step '" + wacExecuting + "' (steps reached: " + reached + ")"
    : "the workflow stopped without finishing: it awaits a promise that never settles (steps reached: " + reached + ")";
  return { code: 1, out: toJson({ error: { name: 'ReplayDivergence', message }, __wac_keys: wacKeys }) };
}

// Resident mode (WMILL_RESIDENT=<nonce>, src/runner/executors/resident.ts): one job per stdin line,
// each answered on stdout by "\\x1e<nonce> R <code> <json>\\n" after the job's own output, and by
// "\\x1e<nonce>\\n" on stderr; the process lives until stdin closes. A workflow's step() checkpoint
// goes to the runner on the same pipes instead of over HTTP: "\\x1e<nonce> S <n> <body>\\n" on
// stdout, answered by the stdin line {"__reply": n, "status": ..., "body": ...}.
// stdin is unref'd while a job runs (unless a checkpoint awaits its answer), so a body stuck on a
// promise that never settles empties the event loop: beforeExit answers for it and the process
// goes back to waiting.
const RESIDENT = process.env.WMILL_RESIDENT;
if (RESIDENT) {
  delete process.env.WMILL_RESIDENT;
  // Loaded while the first job is on its way (a spare loads it before any script is known).
  windmillClient().catch(() => {});
  // The runner died (SIGKILL): stop, as its job processes do, rather than finish work nobody awaits.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.kill(-process.pid, 'SIGKILL');
  }, 500).unref();
  const queue = [];
  let pending = '';
  let current = null;
  const waiting = new Map();
  let seq = 0;
  const holdStdin = () => {
    if (current && waiting.size === 0) process.stdin.unref();
    else process.stdin.ref();
  };
  // The job's stdout goes out in batches (at the latest on the next turn of the event loop, and
  // before any marker): a step() whose SDK logs two lines costs one write, not three.
  const rawWrite = process.stdout.write.bind(process.stdout);
  let outBuf = '';
  let outQueued = false;
  const flushOut = () => {
    outQueued = false;
    if (!outBuf) return;
    const b = outBuf;
    outBuf = '';
    rawWrite(b);
  };
  process.stdout.write = function (chunk, encoding, cb) {
    const done = typeof encoding === 'function' ? encoding : cb;
    if (typeof chunk !== 'string') {
      flushOut();
      return rawWrite(chunk, encoding, cb);
    }
    outBuf += chunk;
    if (!outQueued) {
      outQueued = true;
      setImmediate(flushOut);
    }
    if (typeof done === 'function') process.nextTick(done);
    return true;
  };
  process.on('exit', flushOut); // a job calling process.exit() keeps its last lines
  const marker = (text) => {
    flushOut();
    rawWrite(text);
  };
  const reply = (r) => {
    marker('\\x1e' + RESIDENT + ' R ' + r.code + ' ' + r.out + '\\n');
    process.stderr.write('\\x1e' + RESIDENT + '\\n');
  };
  const CHECKPOINT = /\\/api\\/w\\/[^/]+\\/jobs\\/wac\\/inline_checkpoint\\/([^/?#]+)$/;
  const netFetch = globalThis.fetch;
  globalThis.fetch = function (input, init) {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input && input.url;
    const m = current && typeof url === 'string' && (init?.method ?? 'GET').toUpperCase() === 'POST' ? CHECKPOINT.exec(url) : null;
    if (!m || m[1] !== process.env.WM_JOB_ID || typeof init?.body !== 'string') return netFetch.apply(this, arguments);
    return new Promise((resolve, reject) => {
      const id = ++seq;
      const signal = init.signal;
      const onAbort = () => {
        waiting.delete(id);
        holdStdin();
        reject(signal.reason ?? new Error('aborted'));
      };
      waiting.set(id, (msg) => {
        signal?.removeEventListener?.('abort', onAbort);
        // What the SDK reads of the answer (ok, status, the content type, json()); a full Response costs more than the round trip.
        const status = msg.status ?? 200;
        const body = msg.body ?? null;
        resolve({
          ok: status >= 200 && status < 300,
          status,
          headers: { get: (k) => (String(k).toLowerCase() === 'content-type' ? 'application/json' : null) },
          json: async () => body,
          text: async () => JSON.stringify(body),
        });
      });
      signal?.addEventListener?.('abort', onAbort, { once: true });
      holdStdin();
      // One line: a body with raw newlines (pretty-printed JSON) is re-encoded.
      const body = init.body.includes('\\n') ? JSON.stringify(JSON.parse(init.body)) : init.body;
      marker('\\x1e' + RESIDENT + ' S ' + id + ' ' + body + '\\n');
    });
  };
  const next = () => {
    if (current || !queue.length) return;
    const round = (current = { line: queue.shift() });
    holdStdin();
    let input;
    try {
      input = JSON.parse(round.line);
    } catch (e) {
      input = null;
    }
    const p = input ? runJob(input) : Promise.resolve({ code: 1, out: toJson({ error: { name: 'Error', message: 'bad job input' } }) });
    p.then((r) => finish(round, r));
  };
  const finish = (round, r) => {
    if (current !== round) return;
    current = null;
    waiting.clear();
    reply(r);
    holdStdin();
    next();
  };
  process.on('beforeExit', () => {
    if (current) finish(current, stuckOutcome());
  });
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d) => {
    pending += d;
    let i;
    while ((i = pending.indexOf('\\n')) !== -1) {
      const line = pending.slice(0, i);
      pending = pending.slice(i + 1);
      if (!line.trim()) continue;
      if (line.startsWith('{"__reply":')) {
        let msg;
        try {
          msg = JSON.parse(line);
        } catch {
          continue;
        }
        const w = waiting.get(msg.__reply);
        waiting.delete(msg.__reply);
        holdStdin();
        if (w) w(msg);
      } else queue.push(line);
    }
    next();
  });
  process.stdin.on('end', () => process.exit(0));
} else {
  let out;
  // A workflow body left waiting on a promise that never settles (a replay that never reaches the
  // step a child round must execute): the event loop empties without a result; say why.
  process.on('beforeExit', () => {
    if (out !== undefined) return;
    const r = stuckOutcome();
    writeFileSync(resultPath, r.out);
    process.exit(1);
  });
  let r;
  try {
    const chunks = [];
    for await (const c of process.stdin) chunks.push(c);
    r = await runJob(JSON.parse(Buffer.concat(chunks).toString('utf8')));
  } catch (e) {
    r = { code: 1, out: toJson({ error: serializeError(e) }) };
  }
  out = r.out;
  writeFileSync(resultPath, out);
  process.exit(r.code);
}
`;

const NODE_HOOK = `// wmill: Node resolve hook for TypeScript jobs (generated; see src/runner/assets.ts)
let fallbackParent;
export function initialize(data) {
  fallbackParent = data && data.fallbackParent;
}
const isBare = (s) => !/^(\\.{0,2}\\/|[A-Za-z][A-Za-z0-9+.-]*:|#)/.test(s);
// wmill dev: a module imported as file.ts?wmill_gen=N imports the workspace's modules with the
// same N, so that a new generation re-imports them all (packages under node_modules stay loaded).
const GEN = /[?&]wmill_gen=(\\d+)/;
export async function resolve(specifier, context, next) {
  const r = await resolveBase(specifier, context, next);
  const m = context.parentURL && GEN.exec(context.parentURL);
  if (m && r.url.startsWith('file:') && !r.url.includes('/node_modules/') && !GEN.test(r.url)) {
    return { ...r, url: r.url + (r.url.includes('?') ? '&' : '?') + 'wmill_gen=' + m[1] };
  }
  return r;
}
async function resolveBase(specifier, context, next) {
  let r;
  try {
    r = await next(specifier, context);
  } catch (e) {
    // A bare specifier the workspace cannot resolve (no node_modules): try wmill's own
    // dependencies, so \`import ... from 'windmill-client'\` works in any workspace folder.
    if (!fallbackParent || !isBare(specifier)) throw e;
    try {
      r = await next(specifier, { ...context, parentURL: fallbackParent });
    } catch {
      throw e;
    }
  }
  // TypeScript sources outside node_modules are ES modules, as bun treats them
  // (top-level await, import/export) whatever the nearest package.json says.
  if (r.url.startsWith('file:') && /\\.(ts|mts|tsx)(\\?|$)/.test(r.url) && !r.url.includes('/node_modules/')) {
    return { ...r, format: 'module' };
  }
  return r;
}
// Workflow-as-code: \`const x = task(async ...\` becomes \`const x = task("x", async ...\`, so an
// arrow-function task gets a stable name (its step keys x, x_2, ...; its cache identity), as
// Windmill rewrites workflow scripts before running them.
const TASK_DECL = /\\b(const|let|var)(\\s+)([A-Za-z_$][\\w$]*)(\\s*=\\s*)task\\((?=\\s*async\\b)/g;
export async function load(url, context, next) {
  const r = await next(url, context);
  if (!url.startsWith('file:') || url.includes('/node_modules/') || r.format !== 'module' || r.source == null) return r;
  const src = typeof r.source === 'string' ? r.source : Buffer.from(r.source).toString('utf8');
  if (!src.includes('task(') || !src.includes('windmill-client')) return r;
  const out = src.replace(TASK_DECL, (_m, kw, sp, name, eq) => kw + sp + name + eq + 'task(' + JSON.stringify(name) + ', ');
  return out === src ? r : { ...r, source: out };
}
`;

const NODE_REGISTER = `// wmill: registers the resolve hook (generated; see src/runner/assets.ts)
import { register } from 'node:module';
register('./node-hook.mjs', import.meta.url, { data: { fallbackParent: process.env.WMILL_RESOLVE_FALLBACK } });
`;

const BUN_PRELOAD = `// wmill: bun preload for TypeScript jobs (generated; see src/runner/assets.ts)
const dir = process.env.WMILL_RESOLVE_FALLBACK_DIR;
if (dir && typeof Bun !== 'undefined') {
  Bun.plugin({
    name: 'wmill-resolve-fallback',
    setup(build) {
      build.onResolve({ filter: /^windmill-client(\\/.*)?$/ }, (args) => {
        const from = args.importer ? args.importer.replace(/\\/[^/]*$/, '') : process.cwd();
        try {
          return { path: Bun.resolveSync(args.path, from) };
        } catch {
          return { path: Bun.resolveSync(args.path, dir) };
        }
      });
    },
  });
}
`;

const SPAWNER = `// wmill: job process spawner (generated; see src/runner/assets.ts and executors/spawner.ts)
// Started by \`wmill serve\` / \`wmill worker\` before the database loads: forking from this small
// process costs a few ms, forking from the server (hundreds of MB of PGlite memory) tens of ms.
import { spawn } from 'node:child_process';
const procs = new Map();
const send = (m) => { try { process.send(m); } catch {} };
process.on('message', (m) => {
  if (m.t === 'spawn') {
    let c;
    try {
      c = spawn(m.cmd, m.args, { cwd: m.cwd, env: m.env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (e) {
      send({ t: 'error', id: m.id, code: e.code, message: e.message });
      return;
    }
    procs.set(m.id, c);
    let open = 2;
    let exited = null;
    let done = false;
    const fin = () => {
      if (done || open > 0 || !exited) return;
      done = true;
      procs.delete(m.id);
      send({ t: 'exit', id: m.id, code: exited.code, signal: exited.signal });
    };
    c.on('error', (e) => {
      if (c.pid === undefined || e.code === 'ENOENT' || e.code === 'EACCES') {
        done = true;
        procs.delete(m.id);
        send({ t: 'error', id: m.id, code: e.code, message: e.message });
      }
    });
    if (c.pid !== undefined) send({ t: 'spawned', id: m.id, pid: c.pid });
    for (const s of ['stdout', 'stderr']) {
      c[s].on('data', (b) => send({ t: 'out', id: m.id, s, b }));
      c[s].on('close', () => { open--; fin(); });
    }
    c.stdin.on('error', () => {});
    c.on('exit', (code, signal) => {
      exited = { code, signal };
      try { process.kill(-c.pid, 'SIGKILL'); } catch {}
      if (open > 0) setTimeout(() => { c.stdout.destroy(); c.stderr.destroy(); open = 0; fin(); }, 1000).unref();
      fin();
    });
  } else if (m.t === 'stdin') {
    const c = procs.get(m.id);
    if (c && !c.stdin.destroyed) c.stdin.end(m.data);
  } else if (m.t === 'write') {
    const c = procs.get(m.id);
    if (c && !c.stdin.destroyed) c.stdin.write(m.data);
  }
});
process.on('disconnect', () => {
  for (const c of procs.values()) { try { process.kill(-c.pid, 'SIGKILL'); } catch {} }
  process.exit(0);
});
`;

const BASH_RESIDENT = `# wmill: Bash resident (generated; see src/runner/assets.ts and executors/bash.ts)
# One job per record on stdin, NUL-separated fields: the number of environment pairs, the pairs
# (name, value), the number of arguments, the arguments, the script. Each job runs in a subshell
# forked BEFORE its job arrives (it reads the job itself), so a job costs no fork or exec on its
# way: in ./job (emptied by the runner before each job), stdin from /dev/null, as
# \`bash -e script args...\` would run it (set -e, the positional arguments). Its EXIT trap
# answers "\\x1e<nonce> R <status> null" on stdout and "\\x1e<nonce>" on stderr, then exits 199;
# any other status (the script replaced the trap) is answered by the loop. Ends when stdin closes.
__wm_nonce=$WMILL_RESIDENT
unset WMILL_RESIDENT
__wm_base=$PWD
while :; do
  (
    IFS= read -r -d '' __wm_n || exit 198
    __wm_env=()
    for ((__wm_i = 0; __wm_i < __wm_n * 2; __wm_i++)); do IFS= read -r -d '' __wm_x; __wm_env+=("$__wm_x"); done
    IFS= read -r -d '' __wm_n
    __wm_args=()
    for ((__wm_i = 0; __wm_i < __wm_n; __wm_i++)); do IFS= read -r -d '' __wm_x; __wm_args+=("$__wm_x"); done
    IFS= read -r -d '' __wm_s
    exec </dev/null
    cd "$__wm_base/job" || exit 1
    for ((__wm_i = 0; __wm_i < \${#__wm_env[@]}; __wm_i += 2)); do export "\${__wm_env[__wm_i]}=\${__wm_env[__wm_i+1]}"; done
    set -- "\${__wm_args[@]}"
    trap '__wm_c=$?; printf "\\036%s R %d null\\n" "$__wm_nonce" "$__wm_c"; printf "\\036%s\\n" "$__wm_nonce" >&2; exit 199' EXIT
    unset __wm_base __wm_n __wm_env __wm_x __wm_args __wm_i
    set -e
    . "$__wm_s"
  )
  __wm_c=$?
  ((__wm_c == 198)) && break
  if ((__wm_c != 199)); then
    printf '\\036%s R %d null\\n' "$__wm_nonce" "$__wm_c"
    printf '\\036%s\\n' "$__wm_nonce" >&2
  fi
done
`;

export const ASSETS: Record<string, string> = {
  'bash-resident.sh': BASH_RESIDENT,
  'spawner.mjs': SPAWNER,
  'ts-wrapper.mjs': TS_WRAPPER,
  'node-hook.mjs': NODE_HOOK,
  'node-register.mjs': NODE_REGISTER,
  'bun-preload.mjs': BUN_PRELOAD,
};

let materialized: string | undefined;

function cacheBase(): string[] {
  const xdg = process.env.XDG_CACHE_HOME;
  const bases = [];
  if (process.env.WMILL_CACHE_DIR) bases.push(process.env.WMILL_CACHE_DIR);
  bases.push(join(xdg && xdg.startsWith('/') ? xdg : join(homedir(), '.cache'), 'wmill'));
  bases.push(join(tmpdir(), `wmill-${process.getuid?.() ?? 'u'}`));
  return bases;
}

/** Folder holding the assets (written on first use); stable for a given wmill version of these files. */
export function assetDir(): string {
  if (materialized) return materialized;
  const h = createHash('sha256');
  for (const [k, v] of Object.entries(ASSETS)) h.update(k).update('\0').update(v).update('\0');
  const name = `runner-${h.digest('hex').slice(0, 16)}`;
  let lastErr: unknown;
  for (const base of cacheBase()) {
    const dir = join(base, name);
    if (existsSync(join(dir, '.complete'))) return (materialized = dir);
    try {
      mkdirSync(dir, { recursive: true });
      for (const [file, text] of Object.entries(ASSETS)) writeFileAtomic(join(dir, file), text);
      writeFileSync(join(dir, '.complete'), '');
      return (materialized = dir);
    } catch (e) {
      lastErr = e;
    }
  }
  throw new Error(`cannot write the runner's helper files to a cache folder: ${(lastErr as Error)?.message}`);
}
