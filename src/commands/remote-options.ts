/** The options every command that talks to a server takes, and the client they resolve to. */
import type { Command } from 'commander';
import type { ApiClient } from '../api/client.js';
import type { ResolveFlags } from '../workspace/profiles.js';
import { debug, err } from '../util/output.js';

export interface RemoteFlags extends ResolveFlags {
  json?: boolean;
}

/**
 * --workspace, --token, --base-url and --config-dir are global options (src/cli.ts: taken
 * anywhere on the line, seen by every action as its own); kept for the commands that call it.
 */
export function remoteOptions(cmd: Command): Command {
  return cmd;
}

export async function remoteClient(flags: RemoteFlags): Promise<ApiClient> {
  const { resolveTarget } = await import('../workspace/target.js');
  const t = await resolveTarget(flags);
  for (const w of t.warnings) err(`warning: ${w}`);
  if (t.ws.note) err(t.ws.note);
  debug(`workspace ${t.ws.workspaceId} on ${t.ws.remote} (from ${t.ws.source}${t.ws.entry ? `, wmill.yaml entry '${t.ws.entry}'` : ''})`);
  const { ApiClient } = await import('../api/client.js');
  return new ApiClient({ remote: t.ws.remote, token: t.ws.token, workspace: t.ws.workspaceId });
}
