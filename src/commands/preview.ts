/**
 * `wmill script preview <file>`: run a local script file once, offline, in the embedded runner
 * (the engine `wmill serve` also uses, with an in-memory store and a loopback API for the SDK).
 *
 * Output contract: the script's logs stream live to stderr; the result goes to stdout as JSON
 * (pretty, `-s` compact, `--json` wrapped as {ok, result, job}). Exit 0 on success, 1 when the
 * script fails or times out (its error and stack on stderr), 2 for bad input (unknown file,
 * unsupported language, bad JSON, an argument of the wrong type), 130/143 when interrupted by
 * SIGINT/SIGTERM (the job's whole process tree is killed first).
 *
 * Everything heavy is imported inside the action, so registering the command costs nothing.
 */
import type { Command } from 'commander';
import { WmillError } from '../errors.js';
import { readDataArg } from '../util/data-arg.js';

export interface PreviewOptions {
  data?: string;
  silent?: boolean;
  json?: boolean;
  timeout?: string;
  /** Workflows: sleeps end at once. */
  fastSleep?: boolean;
  /** Workflows: approvals are granted at once instead of waiting for their URL. */
  approve?: boolean;
}

export interface PreviewIO {
  cwd: string;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  readStdin: () => Promise<string>;
  /** Install handlers that call `cancel(signal)` on SIGINT/SIGTERM; returns an uninstaller. */
  onSignal?: (cancel: (signal: NodeJS.Signals) => void) => () => void;
}

export function registerPreview(script: Command): void {
  script
    .command('preview')
    .argument('<file>', 'the script file to run (e.g. f/folder/name.ts)')
    .option('-d, --data <json>', "arguments as a JSON object, '@file' to read them from a file, or '@-' from stdin")
    .option('-s, --silent', 'print only the result, as compact JSON (no live logs)')
    .option('--json', 'print {ok, result, job: {id, status, duration_ms}} as JSON on stdout')
    .option('--timeout <seconds>', 'kill the job and fail when it runs longer than this')
    .option('--fast-sleep', 'workflows: do not wait out sleep() calls')
    .option('--approve', 'workflows: grant waitForApproval() at once instead of printing its URLs and waiting')
    .description('Run a local script file in the embedded runner, offline; logs on stderr, result as JSON on stdout')
    .action(async (file: string, opts: PreviewOptions) => {
      process.exitCode = await preview(file, opts, {
        cwd: process.cwd(),
        stdout: (s) => process.stdout.write(s),
        stderr: (s) => process.stderr.write(s),
        readStdin,
        onSignal: (cancel) => {
          const onInt = () => cancel('SIGINT');
          const onTerm = () => cancel('SIGTERM');
          process.on('SIGINT', onInt);
          process.on('SIGTERM', onTerm);
          return () => {
            process.off('SIGINT', onInt);
            process.off('SIGTERM', onTerm);
          };
        },
      });
    });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const usage = (message: string, meta: Record<string, unknown> = {}) => new WmillError('usage', message, meta);

/** `-d` parsing lives in src/util/data-arg.ts (shared with `script run`). */
const readData = readDataArg;

/** The whole command, testable in-process. Returns the exit code. Throws WmillError for usage errors (exit 2). */
export async function preview(file: string, opts: PreviewOptions, io: PreviewIO): Promise<number> {
  // WMILL_DEBUG_TIMING=1 prints where wmill's own time goes (ms since process start), for bench/preview.mjs.
  const mark = process.env.WMILL_DEBUG_TIMING ? (l: string) => io.stderr(`[timing] ${l} ${performance.now().toFixed(1)}ms\n`) : () => {};
  mark('preview start');
  const [{ resolve, relative, dirname, basename, sep }, { statSync }] = await Promise.all([import('node:path'), import('node:fs')]);

  let timeoutS: number | undefined;
  if (opts.timeout !== undefined) {
    timeoutS = Number(opts.timeout);
    if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw usage(`--timeout must be a positive number of seconds, got '${opts.timeout}'`);
  }

  const abs = resolve(io.cwd, file);
  let st;
  try {
    st = statSync(abs);
  } catch {
    throw usage(`file not found: ${file}`, { file });
  }
  if (!st.isFile()) throw usage(`${file} is not a file; pass a script file such as f/folder/name.ts`, { file });
  if (/\.(script|flow|app|resource|variable|schedule)\.(ya?ml|json)$/.test(abs) || /\.script\.lock$/.test(abs)) {
    throw usage(`${file} is a metadata file; preview the script file next to it instead`, { file });
  }

  // Everything the usual path needs, in one go; none of it loads zod or the yaml package
  // (they come only when wmill.yaml or the metadata is outside what the quick readers take).
  const [{ languageOf, remotePathOf }, { previewBlocker }, { Engine }, { MemoryStore }, { loadConfigFast }, { WorkspaceFiles }] =
    await Promise.all([
      import('../workspace/languages.js'),
      import('../runner/executors/index.js'),
      import('../runner/engine.js'),
      import('../runner/store.js'),
      import('../workspace/config-fast.js'),
      import('../runner/workspace-files.js'),
    ]);
  mark('modules loaded');
  // Start the interpreter now, from the file extension alone, so that its start-up overlaps
  // wmill's own work below (config, schema, argument checks). It runs no user code until the
  // job is sent; if anything below fails, close() kills it. (Run from bin/wmill.mjs, it was
  // started even before this code loaded, src/preview/early.ts: the executor adopts that one.)
  const store = new MemoryStore();
  const resumeKey = (await import('node:crypto')).randomBytes(32).toString('hex');
  const engine: InstanceType<typeof Engine> = new Engine({
    store,
    config: { tsRuntime: 'node' },
    // A local preview is the user's own process: it keeps their environment (a server's jobs do not).
    inheritEnv: true,
    resumeKey,
    sleepScale: opts.fastSleep ? 0 : 1,
    // Workflow approvals: URLs on the loopback API, printed (or granted with --approve).
    approvalUrls: async (job, key) => {
      const { stepApprovalUrlsFor } = await import('../runner/flow/resume.js');
      return stepApprovalUrlsFor((await engine.apiServer()).baseUrl, job.workspace, resumeKey, job.id, key);
    },
    onApproval: (job, key, urls) => {
      if (opts.approve) {
        void import('../runner/wac/rounds.js').then(async ({ approvalResumeId }) => {
          await store.addResume(job.id, { resumeId: approvalResumeId(key), approved: true, payload: null, approver: 'wmill script preview --approve' });
          await store.wake(job.id);
          engine.poke();
        });
        io.stderr(`approval '${key}': granted (--approve)\n`);
      } else if (urls) {
        io.stderr(`approval '${key}' is needed; the workflow waits:\n  approve: curl -X POST '${urls.resume}'\n  reject:  curl -X POST '${urls.cancel}'\n${urls.approvalPage ? `  page:    ${urls.approvalPage}\n` : ''}  (or re-run with --approve)\n`);
      }
    },
  });
  const guess = languageOf(basename(abs), 'bun');
  if (guess === 'bun' || guess === 'nativets' || guess === 'python3') engine.prewarm(guess);
  let interrupted: NodeJS.Signals | undefined;
  let jobId: string | undefined;
  const uninstall = io.onSignal?.((sig) => {
    interrupted ??= sig;
    if (jobId) void engine.cancel(jobId, engine.user, `interrupted (${sig})`);
    else void engine.discardPrewarms();
  });
  const interruptedCode = () => (interrupted === 'SIGTERM' ? 143 : 130);
  try {
    engine.apiServer().catch(() => undefined); // started early; a failure surfaces when the job needs it
    // A simple, valid wmill.yaml is read without zod; anything else goes through loadConfig,
    // which validates it and reports errors.
    const cfg = loadConfigFast(dirname(abs)) ?? (await import('../workspace/config.js')).loadConfig(dirname(abs));
    const rel = relative(cfg.root, abs);
    const inside = rel !== '' && !rel.startsWith('..') && !rel.startsWith(sep) && /^[ufg]\//.test(rel.split(sep).join('/'));
    const relFile = inside ? rel.split(sep).join('/') : null;
    const language = languageOf(relFile ?? basename(abs), cfg.defaultTs);
    if (typeof language !== 'string') throw usage(language.error, { file });
    // wmill.yaml `runtime: bun` runs TypeScript (bun) scripts with bun when it is on PATH;
    // anything else (or no key) uses Node + tsx.
    if ((cfg.raw as Record<string, unknown>).runtime === 'bun') {
      await engine.discardPrewarms();
      engine.config.tsRuntime = 'bun';
    }
    const blocked = previewBlocker(language, engine.config);
    if (blocked) throw usage(`cannot preview ${file}: ${blocked}`, { file, language });
    store.fallback = new WorkspaceFiles(cfg.root);
    // Workflows: taskScript / taskFlow targets are the workspace's files (the flows they start
    // run here too), loaded on first use.
    let local: Promise<import('../runner/wac/local-tasks.js').LocalTasks> | undefined;
    const localTasks = () => (local ??= import('../runner/wac/local-tasks.js').then((m) => new m.LocalTasks(cfg)));
    engine.setWacHosting({ resolveTask: async (job, step) => (await localTasks()).resolveTask(job, step) });
    let flows: Promise<import('../runner/engine.js').JobHandler> | undefined;
    engine.setHandler('flow', async (job, ctx) => {
      flows ??= Promise.all([import('../runner/flow/handler.js'), import('../runner/flow/resume.js'), localTasks()]).then(([{ flowHandler }, { resumeUrlsFor }, tasks]) =>
        flowHandler(engine, {
          resolveScript: (_job, p) => tasks.flowScript(p),
          resolveFlow: (_job, p) => tasks.flow(p),
          resumeUrls: async (j) => resumeUrlsFor((await engine.apiServer()).baseUrl, j.workspace, resumeKey, j.id),
          onSuspend: (j, urls, step) => {
            if (opts.approve) {
              void store.addResume(j.id, { resumeId: Math.floor(Math.random() * 2 ** 31), approved: true, payload: null, approver: 'wmill script preview --approve' });
              io.stderr(`flow ${j.path}: step '${step}' approved (--approve)\n`);
            } else if (urls) {
              io.stderr(`flow ${j.path}: step '${step}' is waiting for approval:\n  approve: curl -X POST '${urls.resume}'\n  reject:  curl -X POST '${urls.cancel}'\n`);
            }
          },
          childLog: opts.silent ? undefined : (_j, chunk) => io.stderr(chunk),
        }),
      );
      return (await flows)(job, ctx);
    });
    const path = relFile
      ? /__mod\/script\.[^/]+$/.test(relFile)
        ? relFile.slice(0, relFile.indexOf('__mod/'))
        : remotePathOf(relFile)
      : `u/local/${basename(abs).replace(/\..*$/, '') || 'script'}`;

    const input = await readData(opts.data, io);
    const { readText } = await import('../util/fs.js');
    const content = readText(abs);

    const [{ scriptSchema, argOrder }, { checkArgs }] = await Promise.all([import('../metadata/script-schema.js'), import('../items/args.js')]);
    mark('config loaded');
    const sch = await scriptSchema({ root: cfg.root, relFile, path, language, content });
    mark(`schema (${sch.source})`);
    const checked = checkArgs(sch.schema, input, { scalarsAsStrings: language === 'bash' });
    if (checked.errors.length > 0) {
      const first = checked.errors[0]!;
      const more = checked.errors.length > 1 ? ` (and ${checked.errors.length - 1} more: ${checked.errors.slice(1).map((e) => e.name).join(', ')})` : '';
      throw usage(`${first.message}${more}`, { arg: first.name, errors: checked.errors });
    }
    if (checked.unknown.length > 0 && sch.schema && !opts.json) {
      const known = Object.keys(sch.schema.properties ?? {});
      io.stderr(`warning: ${checked.unknown.map((u) => `'${u}'`).join(', ')} ${checked.unknown.length > 1 ? 'are not arguments' : 'is not an argument'} of ${relFile ?? file}${known.length ? ` (arguments: ${known.join(', ')})` : ''}\n`);
    }
    const argNames = argOrder(sch);

    if (interrupted) {
      io.stderr(`interrupted (${interrupted}) before the job started\n`);
      return interruptedCode();
    }
    const id = (jobId = await engine.submit({
      workspace: 'local',
      kind: 'preview',
      path,
      language,
      content,
      file: abs,
      root: cfg.root,
      args: checked.args,
      argNames: language === 'postgresql' ? undefined : argNames,
      timeoutS,
    }, { onLog: opts.silent ? undefined : (chunk) => io.stderr(chunk) }));
    mark('job submitted');
    if (interrupted) void engine.cancel(id, engine.user, `interrupted (${interrupted})`);
    // A workflow may wait on a timer or an approval with nothing else keeping the process alive.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    const job = await engine.wait(id).finally(() => clearInterval(keepAlive));
    mark('job done');
    const summary = { id: job.id, status: job.status, duration_ms: job.duration_ms ?? 0 };
    const ok = job.status === 'success';
    if (opts.json) {
      io.stdout(JSON.stringify({ ok, result: job.result ?? null, job: summary }, null, 2) + '\n');
    } else if (ok) {
      io.stdout((opts.silent ? JSON.stringify(job.result ?? null) : JSON.stringify(job.result ?? null, null, 2)) + '\n');
    }
    if (ok) return 0;
    const e = (job.result as { error?: { name?: string; message?: string; stack?: string } } | null)?.error;
    if (job.status === 'canceled') {
      io.stderr(`${e?.message ?? 'Job canceled'}\n`);
      return interruptedCode();
    }
    if (!opts.json) {
      const head = `${e?.name ?? 'Error'}: ${e?.message ?? JSON.stringify(job.result)}`;
      io.stderr(`error: the script failed: ${head}\n`);
      const stack = e?.stack?.trimEnd();
      if (stack && stack !== head) io.stderr(`${stack}\n`);
    }
    return 1;
  } finally {
    uninstall?.();
    await engine.close();
  }
}
