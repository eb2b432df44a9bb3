import type { Command } from 'commander';
import { out } from '../util/output.js';
import { WmillError } from '../errors.js';

export const EXIT_CODES_TEXT = `Exit codes (every command):
  0  success
  1  failure: a script or job failed, a network or server error, a file could not be processed
  2  usage: bad arguments or input, invalid wmill.yaml, or a decision that needs a flag off a TTY
  3  drift: --check found stale metadata or a non-empty plan
  4  authentication or permission refused`;

/** `wmill help [command...]` and `wmill help exit-codes`. */
export function registerHelp(program: Command): void {
  program.helpCommand(false);
  program
    .command('help')
    .argument('[topic...]', 'a command (e.g. "generate-metadata") or "exit-codes"')
    .description('Show help for a command, or "wmill help exit-codes"')
    .action((topic: string[]) => {
      if (topic.length === 1 && topic[0] === 'exit-codes') return out(EXIT_CODES_TEXT);
      let cmd: Command = program;
      for (const t of topic) {
        const next = cmd.commands.find((c) => c.name() === t || c.aliases().includes(t));
        if (!next) throw new WmillError('usage', `no help topic '${topic.join(' ')}'; run 'wmill --help' for the list of commands`);
        cmd = next;
      }
      out(cmd.helpInformation().trimEnd());
    });
}
