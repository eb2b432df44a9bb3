/** The options every command that talks to a server takes, and the client they resolve to. */
import type { Command } from 'commander';
import type { ApiClient } from '../api/client.js';
import { resolveWorkspace, type ResolveFlags } from '../workspace/profiles.js';

export interface RemoteFlags extends ResolveFlags {
  json?: boolean;
}

export function remoteOptions(cmd: Command): Command {
  return cmd
    .option('--workspace <name>', 'profile (or, with --base-url, workspace id) to use')
    .option('--base-url <url>', 'server URL (with --workspace and --token)')
    .option('--token <token>', 'API token (or WM_TOKEN)')
    .option('--config-dir <dir>', 'where profiles are stored');
}

export async function remoteClient(flags: RemoteFlags): Promise<ApiClient> {
  const w = resolveWorkspace(flags);
  const { ApiClient } = await import('../api/client.js');
  return new ApiClient({ remote: w.remote, token: w.token, workspace: w.workspaceId });
}
