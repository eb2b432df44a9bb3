/**
 * `wmill dev [path]`: watch the workspace; on each save, re-run the target in a warm resident
 * interpreter and print the result (src/runner/dev.ts does the work). Logs go to stderr; the
 * result goes to stdout (JSON; with --json one line per run: path, status, duration_ms,
 * result, error). Runs until Ctrl-C (exit 0 once every interpreter is gone).
 *
 * The real CLI's `wmill dev` is a live-reload bridge to Windmill's web editor; its flags are
 * accepted where they mean something here: --path (the target), --no-open, --proxy-port (the
 * port of the local page that --open serves). See README "wmill dev".
 */
import type { Command } from 'commander';
import { WmillError } from '../errors.js';
import { readDataArg } from '../util/data-arg.js';

interface DevFlags {
  path?: string;
  data?: string;
  json?: boolean;
  open?: boolean;
  proxyPort?: string;
  metadata?: boolean;
  includes?: string[];
}

export function registerDev(program: Command): void {
  program
    .command('dev')
    .argument('[path]', 'script file, flow folder or Windmill path to re-run on every save (default: the script saved last)')
    .option('--path <path>', 'the same as the [path] argument (the real CLI spells it this way)')
    .option('-d, --data <json>', "arguments as a JSON object, or '@file'; saved as .wmill/args/<path>.json for later sessions")
    .option('--json', 'one JSON line per run on stdout: {path, file, status, duration_ms, result, error?}')
    .option('--open', 'serve a local page showing each run live (its URL goes to stderr)')
    .option('--no-open', 'no local page (the default)')
    .option('--proxy-port <port>', 'port of the local page (default: any free port)')
    .option('--no-metadata', 'do not refresh .script.yaml / locks after runs')
    .option('--includes <pattern...>', 'without a path: only files matching these globs (or under these folders) become the target')
    .description('Watch the workspace and re-run a script, flow or workflow on every save, in a warm interpreter')
    .action(async (pathArg: string | undefined, flags: DevFlags) => {
      process.exitCode = await dev(pathArg ?? flags.path, flags);
    });
}

const usage = (m: string) => new WmillError('usage', m);

async function dev(target: string | undefined, flags: DevFlags): Promise<number> {
  let port: number | undefined;
  if (flags.proxyPort !== undefined) {
    port = Number(flags.proxyPort);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw usage(`--proxy-port must be a port number (0-65535), got '${flags.proxyPort}'`);
  }
  const data = flags.data === undefined ? undefined : await readDataArg(flags.data, { cwd: process.cwd(), readStdin: async () => '' });
  const [{ loadConfig }, { DevSession }] = await Promise.all([import('../workspace/config.js'), import('../runner/dev.js')]);
  const cfg = loadConfig(process.cwd());
  const stdout = (s: string) => process.stdout.write(s);
  const stderr = (s: string) => process.stderr.write(s);
  let page: import('../runner/dev-page.js').DevPage | undefined;
  let session: InstanceType<typeof DevSession>;
  try {
    session = new DevSession(
      { cfg, ...(target !== undefined ? { target } : {}), ...(data ? { data } : {}), metadata: flags.metadata !== false, ...(flags.includes ? { includes: flags.includes } : {}) },
      {
        onStart: (t, trigger) => {
          if (!flags.json) stderr(`[dev] ${t.path}: running (${trigger === 'start' ? 'start' : `${trigger} changed`})\n`);
          page?.start(t, trigger);
        },
        onLog: (chunk) => {
          stderr(chunk);
          page?.log(chunk);
        },
        onInfo: (line) => stderr(`[dev] ${line}\n`),
        onRun: (r) => {
          page?.run(r);
          if (flags.json) {
            const { trigger: _t, args: _a, ...line } = r;
            stdout(`${JSON.stringify(line)}\n`);
            return;
          }
          stderr(`[dev] ${r.path}: ${r.status} in ${r.duration_ms} ms\n`);
          if (r.status === 'success') stdout(`${JSON.stringify(r.result)}\n`);
          else if (r.error) {
            const where = r.error.file ? `${r.error.file}${r.error.line ? `:${r.error.line}` : ''}: ` : '';
            stderr(`error: ${where}${r.error.name}: ${r.error.message}\n`);
            const stack = r.error.stack?.trimEnd();
            if (stack && !stack.endsWith(r.error.message)) stderr(`${stack}\n`);
          }
        },
      },
    );
  } catch (e) {
    if ((e as { code?: string }).code === 'usage') throw usage((e as Error).message);
    throw e;
  }
  if (flags.open) {
    const { serveDevPage } = await import('../runner/dev-page.js');
    page = await serveDevPage({ root: cfg.root, ...(port !== undefined ? { port } : {}), target: () => session.current });
    stderr(`[dev] page: ${page.url}\n`);
  }
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    await session.start();
    const t = session.current;
    stderr(`[dev] watching ${cfg.root}${t ? ` (${t.path})` : '; save a script to run it'}; Ctrl-C to stop\n`);
    await stopped;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await session.close();
    await page?.close();
  }
  return 0;
}
