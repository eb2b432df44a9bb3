/** `wmill token list|delete`: the caller's API tokens on the server (prefixes only, never a token). */
import type { Command } from 'commander';
import { checkTokenPrefix, deleteToken, listTokens } from '../api/tokens.js';
import { out, printJson } from '../util/output.js';
import { remoteClient, remoteOptions, type RemoteFlags } from './remote-options.js';

export function registerToken(program: Command): void {
  const token = program.command('token').description('Your API tokens on the server: list them, revoke one');

  remoteOptions(token.command('list').option('--json', 'print the tokens as JSON').description('List your tokens (prefix, label, created, expiration)')).action(
    async (flags: RemoteFlags) => {
      const tokens = await listTokens(await remoteClient(flags));
      if (flags.json) return printJson({ ok: true, tokens });
      if (!tokens.length) return out('No tokens.');
      const rows = [['PREFIX', 'LABEL', 'CREATED', 'EXPIRES'], ...tokens.map((t) => [t.token_prefix, t.label ?? '-', t.created_at ?? '-', t.expiration ?? 'never'])];
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      for (const r of rows) out(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
    },
  );

  remoteOptions(
    token
      .command('delete')
      .argument('<token_prefix>', 'the prefix `wmill token list` shows')
      .option('--json', 'print the outcome as JSON')
      .description('Revoke one of your tokens (refused at once by the server)'),
  ).action(async (prefix: string, flags: RemoteFlags) => {
    checkTokenPrefix(prefix);
    await deleteToken(await remoteClient(flags), prefix);
    if (flags.json) printJson({ ok: true, deleted: prefix });
    else out(`Deleted the token with prefix ${prefix}`);
  });
}
