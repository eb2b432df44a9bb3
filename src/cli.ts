import { Command, CommanderError } from 'commander';
import { WmillError, EXIT } from './errors.js';
import { err, printJson } from './util/output.js';
import { registerGenerateMetadata } from './commands/generate-metadata.js';
import { registerInit } from './commands/init.js';
import { registerScript } from './commands/script.js';
import { registerHelp } from './commands/help.js';
import { registerWorkspace } from './commands/workspace.js';

declare const __WMILL_VERSION__: string;
const VERSION = typeof __WMILL_VERSION__ === 'string' ? __WMILL_VERSION__ : '0.0.0-dev';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('wmill')
    .description('Windmill-style workspaces as files: metadata, locks, preview, sync, and a runner')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerInit(program);
  registerScript(program);
  registerGenerateMetadata(program);
  registerWorkspace(program);
  registerHelp(program);
  return program;
}

/** Run the CLI; returns the exit code. Errors are rendered once, here. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const wantsJson = argv.includes('--json');
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.ok;
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
