/**
 * `wmill script run|history|redeploy`: the deployed side of a script, on the workspace's server.
 * Argument parsing and rendering only; the logic is in src/api/run-script.ts and
 * src/sync/versions.ts. Logs and progress go to stderr, results to stdout.
 */
import type { Command } from 'commander';
import { WmillError } from '../errors.js';
import { color, err, out, printJson } from '../util/output.js';
import { remoteClient, remoteOptions, type RemoteFlags } from './remote-options.js';

/** Colour decisions for stdout (the helpers default to stderr). */
const STDOUT = process.stdout as unknown as typeof process.stderr;

interface RunFlags extends RemoteFlags {
  data?: string;
  silent?: boolean;
  wait: boolean;
  timeout?: string;
  tag?: string;
}

type JobError = { name?: string; message?: string; stack?: string } | undefined;

export function registerScriptRemote(script: Command): void {
  remoteOptions(
    script
      .command('run')
      .argument('<path>', 'Windmill path of the deployed script, e.g. f/folder/name')
      .option('-d, --data <json>', "arguments as a JSON object, '@file' to read them from a file, or '@-' from stdin")
      .option('-s, --silent', 'print only the result, as compact JSON (no live logs)')
      .option('--json', 'print {ok, job_id, success, result} as JSON on stdout')
      .option('--no-wait', 'submit the job, print its id and return')
      .option('--timeout <seconds>', 'cancel the job and fail when it runs longer than this')
      .option('--tag <tag>', 'worker tag to run the job with'),
  )
    .description('Run the deployed script on the server; logs on stderr, result as JSON on stdout (Ctrl-C cancels the job)')
    .action(async (path: string, opts: RunFlags) => {
      process.exitCode = await runCommand(path, opts);
    });

  remoteOptions(
    script
      .command('history')
      .argument('<path>', 'Windmill path of the script')
      .option('--json', 'print {ok, path, head, versions} as JSON'),
  )
    .description('List the deployed versions of a script, newest first (* marks the one that runs)')
    .action(async (path: string, opts: RemoteFlags) => {
      const client = await remoteClient(opts);
      const { history } = await import('../sync/versions.js');
      const h = await history(client, path);
      if (opts.json) return printJson({ ok: true, ...h });
      const date = (s: string) => s.replace('T', ' ').replace(/\.\d+Z$|Z$/, '');
      const who = Math.max(6, ...h.versions.map((v) => v.created_by.length));
      out(`  ${'hash'.padEnd(16)}  ${'deployed at'.padEnd(19)}  ${'author'.padEnd(who)}  message`);
      for (const v of h.versions) {
        const line = `${v.current ? '*' : ' '} ${v.hash}  ${date(v.created_at).padEnd(19)}  ${v.created_by.padEnd(who)}  ${v.message ?? '-'}`;
        out(v.current ? color.green(line, STDOUT) : line);
      }
      if (!h.head) err(`note: ${h.path} is archived: no version runs by path`);
    });

  remoteOptions(
    script
      .command('redeploy')
      .argument('<path>', 'Windmill path of the script')
      .requiredOption('--hash <hash>', "the version to deploy again (see 'wmill script history')")
      .option('--message <text>', 'deployment message (default: "Redeploy of version <hash>")')
      .option('--json', 'print the result as JSON'),
  )
    .description('Deploy an old version again, as a new version on top of the current one (history stays linear)')
    .action(async (path: string, opts: RemoteFlags & { hash: string; message?: string }) => {
      const client = await remoteClient(opts);
      const { redeploy } = await import('../sync/versions.js');
      const r = await redeploy(client, path, opts.hash, opts.message);
      if (opts.json) return printJson({ ok: true, ...r });
      if (!r.deployed) return out(`${r.from} is already the current version of ${r.path}; nothing deployed`);
      out(`Deployed ${r.hash} on ${r.path} (content of ${r.from}${r.parent ? `, on top of ${r.parent}` : ''})`);
    });
}

async function runCommand(path: string, opts: RunFlags): Promise<number> {
  let timeoutS: number | undefined;
  if (opts.timeout !== undefined) {
    timeoutS = Number(opts.timeout);
    if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw new WmillError('usage', `--timeout must be a positive number of seconds, got '${opts.timeout}'`);
  }
  const { readDataArg, readProcessStdin } = await import('../util/data-arg.js');
  const args = await readDataArg(opts.data, { cwd: process.cwd(), readStdin: readProcessStdin });
  const client = await remoteClient(opts);
  const { runDeployed } = await import('../api/run-script.js');

  let onInterrupt!: (s: NodeJS.Signals) => void;
  const interrupt = new Promise<NodeJS.Signals>((r) => (onInterrupt = r));
  let signals = 0;
  let jobId: string | null = null;
  const onSignal = (sig: NodeJS.Signals) => {
    if (++signals > 1) process.exit(sig === 'SIGTERM' ? 143 : 130);
    if (jobId) err(`\n${sig === 'SIGINT' ? '^C: ' : ''}canceling job ${jobId}… (again to quit at once)`);
    onInterrupt(sig);
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    const r = await runDeployed(client, {
      path,
      args,
      tag: opts.tag,
      wait: opts.wait !== false,
      timeoutS,
      interrupt,
      onLog: opts.silent ? undefined : (chunk) => process.stderr.write(chunk),
      onSubmitted: (id) => {
        jobId = id;
        if (!opts.silent && opts.wait !== false) err(color.dim(`job ${id} submitted for ${path}`));
      },
    });
    for (const w of r.warnings) if (!opts.silent) err(`warning: ${w}`);
    const emit = (v: unknown) => (opts.silent ? out(JSON.stringify(v)) : printJson(v));
    switch (r.kind) {
      case 'submitted':
        if (opts.json) emit({ ok: true, job_id: r.jobId });
        else out(r.jobId);
        return 0;
      case 'completed': {
        if (opts.json) emit({ ok: r.success, job_id: r.jobId, success: r.success, result: r.result });
        else if (r.success) opts.silent ? out(JSON.stringify(r.result)) : printJson(r.result);
        if (r.success) return 0;
        if (!opts.json) {
          if (r.job.canceled) {
            err(`error: job ${r.jobId} was canceled${r.job.canceled_by ? ` by ${r.job.canceled_by}` : ''}${r.job.canceled_reason ? `: ${r.job.canceled_reason}` : ''}`);
          } else {
            const e = (r.result as { error?: JobError } | null)?.error;
            const head = e ? `${e.name ?? 'Error'}: ${e.message ?? ''}` : JSON.stringify(r.result);
            err(`error: job ${r.jobId} failed: ${head}`);
            const stack = e?.stack?.trimEnd();
            if (stack && stack !== head) err(stack);
          }
        }
        return 1;
      }
      case 'interrupted': {
        const code = r.signal === 'SIGTERM' ? 143 : 130;
        const what = r.jobId ? (r.canceled ? `job ${r.jobId} canceled` : `job ${r.jobId} had already completed`) : 'no job was started';
        if (opts.json) emit({ ok: false, job_id: r.jobId, success: false, canceled: r.canceled, error: { code: 'interrupted', message: `interrupted (${r.signal}): ${what}` } });
        else err(`interrupted (${r.signal}): ${what}`);
        return code;
      }
      case 'timeout': {
        const message = `job ${r.jobId} ran longer than --timeout ${timeoutS}s and was canceled`;
        if (opts.json) emit({ ok: false, job_id: r.jobId, success: false, canceled: true, error: { code: 'timeout', message } });
        else err(`error: ${message}`);
        return 1;
      }
    }
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}
