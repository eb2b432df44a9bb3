import { Command, CommanderError } from 'commander';
import { WmillError, EXIT } from './errors.js';
import { err, printJson, setVerbosity } from './util/output.js';

declare const __WMILL_VERSION__: string;
declare const __WMILL_COMPAT_CLI__: string;
const VERSION = typeof __WMILL_VERSION__ === 'string' ? __WMILL_VERSION__ : '0.0.0-dev';
/** As bin/wmill.mjs prints it (which answers a plain `--version` before loading this). */
const VERSION_LINE = `wmill ${VERSION} (compatible with windmill-cli ${typeof __WMILL_COMPAT_CLI__ === 'string' ? __WMILL_COMPAT_CLI__ : 'unknown'})`;

type Register = (program: Command) => void;

/**
 * The commands, in help order. Each module is loaded only when the program is built for it, so
 * that a command's start-up does not pay for the others (keep new commands in this list, not as
 * static imports).
 */
const COMMANDS: [string[], () => Promise<Register>][] = [
  [['init'], async () => (await import('./commands/init.js')).registerInit],
  [['script'], async () => (await import('./commands/script.js')).registerScript],
  [['draft'], async () => (await import('./commands/draft.js')).registerDraft],
  [['generate-metadata'], async () => (await import('./commands/generate-metadata.js')).registerGenerateMetadata],
  [['workspace', 'profile'], async () => (await import('./commands/workspace.js')).registerWorkspace],
  [['serve', 'worker'], async () => (await import('./commands/serve.js')).registerServe],
  [['sync'], async () => (await import('./commands/sync.js')).registerSync],
  [['flow'], async () => (await import('./commands/flow.js')).registerFlow],
  [['resource', 'resource-type', 'variable', 'schedule', 'folder', 'group', 'app', 'trigger', 'user'], async () => (await import('./commands/items.js')).registerItemCommands],
  [['dev'], async () => (await import('./commands/dev.js')).registerDev],
  [['job'], async () => (await import('./commands/job.js')).registerJob],
  [['token'], async () => (await import('./commands/token.js')).registerToken],
  [['help'], async () => (await import('./commands/help.js')).registerHelp],
  [['config'], async () => (await import('./commands/config.js')).registerConfig],
  [['completions'], async () => (await import('./commands/completions.js')).registerCompletions(() => buildProgram([]))],
];

/** Options taken anywhere on the line (`wmill --workspace prod sync push` = `wmill sync push --workspace prod`), as the real CLI's. */
export const GLOBAL_OPTION_KEYS = ['workspace', 'token', 'baseUrl', 'configDir', 'debug', 'verbose', 'quiet', 'showDiffs'] as const;

function addGlobalOptions(program: Command, argv: string[]): void {
  const json = argv.includes('--json-output') || (argv.includes('--json') && !argv.slice(2).includes('sync'));
  program
    .option('--workspace <workspace>', 'the workspace: a wmill.yaml workspaces entry or a profile name (with --base-url: the workspace id)')
    .option('--token <token>', 'API token; overrides any stored token')
    .option('--base-url <baseUrl>', 'server URL; needs --workspace and --token, no stored profile is used')
    .option('--config-dir <configDir>', 'where profiles are stored (overrides WMILL_CONFIG_DIR and ~/.config)')
    .option('--debug', 'debug logs on stderr (requests, resolution, stack traces)')
    .option('--verbose', 'same as --debug')
    .option('--quiet', 'no progress or information lines on stderr (warnings and errors still)')
    .option('--show-diffs', 'sync: show the content diff of each change (may show sensitive values)')
    .configureHelp({ showGlobalOptions: true })
    // Usage errors under --json are printed as JSON by main(), not as text here.
    .configureOutput(json ? { outputError: () => undefined, writeErr: () => undefined } : {})
    .hook('preAction', (_root, action) => {
      // The global options, given before or after the subcommand, are seen by the action as its own.
      const g = program.opts();
      for (const k of GLOBAL_OPTION_KEYS) if (g[k] !== undefined && action.getOptionValue(k) === undefined) action.setOptionValue(k, g[k]);
      if (g.debug || g.verbose) {
        process.env.WMILL_DEBUG = '1';
        setVerbosity('debug');
      } else if (g.quiet) setVerbosity('quiet');
    });
}

/** The program for `argv` (all commands, or only `script preview` when that is what runs). */
export async function buildProgram(argv: string[] = []): Promise<Command> {
  const program = new Command();
  program
    .name('wmill')
    .description('Windmill-style workspaces as files: metadata, locks, preview, sync, and a runner')
    .version(VERSION_LINE, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  addGlobalOptions(program, argv);
  if (argv[2] === 'script' && argv[3] === 'preview') {
    // The hot path: `script preview` alone, defined as registerScript defines it, so that
    // neither the other commands nor their dependencies (zod, yaml, minimatch) are loaded.
    const { registerPreview } = await import('./commands/preview.js');
    registerPreview(program.command('script').description('Work with scripts'));
    return program;
  }
  // A known command loads only its own module (e.g. `sync push` does not load the parsers);
  // anything else (no command, --help, a typo) gets every command, for help and suggestions.
  const one = COMMANDS.find(([names]) => names.includes(argv[2] ?? '') && argv[2] !== 'help');
  const chosen = one ? [one] : COMMANDS;
  for (const register of await Promise.all(chosen.map(([, load]) => load()))) register(program);
  return program;
}

/** Run the CLI; returns the exit code. Errors are rendered once, here. */
export async function main(argv: string[]): Promise<number> {
  // `wmill ... | head`: a reader that stops early is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  const program = await buildProgram(argv);
  // `sync push|pull --json` means JSON files (the reference CLI's meaning); its report is --json-output.
  const wantsJson = argv.includes('--json-output') || (argv.includes('--json') && !argv.slice(2).includes('sync'));
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.ok;
      if (wantsJson) printJson({ ok: false, error: { code: 'usage', message: e.message.replace(/^error: /, ''), reason: e.code.replace(/^commander\./, '') } });
      return EXIT.usage;
    }
    if (e instanceof WmillError) {
      if (wantsJson) printJson({ ok: false, error: { code: e.code, message: e.message, ...e.meta } });
      else err(`error: ${e.message}`);
      return e.exitCode;
    }
    const msg = e instanceof Error ? e.message : String(e);
    if (wantsJson) printJson({ ok: false, error: { code: 'failure', message: msg } });
    else err(`error: ${msg}`);
    if (process.env.WMILL_DEBUG && e instanceof Error) err(e.stack ?? '');
    return EXIT.failure;
  }
}
