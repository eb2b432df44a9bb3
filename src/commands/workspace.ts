import type { Command } from 'commander';
import { WmillError } from '../errors.js';
import { out, printJson } from '../util/output.js';
import {
  activeProfileName,
  addProfile,
  configDir,
  readProfiles,
  removeProfile,
  setActiveProfile,
} from '../workspace/profiles.js';
import { registerWorkspaceItems } from './items.js';

interface GlobalFlags {
  configDir?: string;
  json?: boolean;
}

/** `wmill workspace add|switch|list|remove|whoami`: profiles stored as the reference stores them. */
export function registerWorkspace(program: Command): void {
  const ws = program.command('workspace').alias('profile').description('Manage workspace profiles (server URL, workspace id, token)');

  ws.command('add')
    .argument('<name>', 'profile name')
    .argument('[workspace_id]', 'workspace id on the server (default: the name)')
    .argument('[remote]', 'server URL, e.g. http://127.0.0.1:8000/ (default: WM_BASE_URL)')
    .option('-c, --create', 'create the workspace when it does not exist')
    .option('--create-workspace-name <workspace_name>', 'with --create: the new workspace\'s name (default: its id)')
    .option('--create-username <username>', 'with --create: your username in it (a Windmill server may use it; wmill serve uses the token\'s user)', 'admin')
    .option('--force', 'replace a profile with the same name or target')
    .option('--json', 'print the result as JSON')
    .description('Add a profile and make it active (checks the workspace exists)')
    .action(async (name: string, workspaceId: string | undefined, remote: string | undefined, opts: GlobalFlags & { token?: string; create?: boolean; force?: boolean; createWorkspaceName?: string; createUsername?: string }) => {
      const token = opts.token ?? process.env.WM_TOKEN;
      const url = remote ?? process.env.WM_BASE_URL;
      if (!token) throw new WmillError('usage', 'no token: pass --token <token> (or set WM_TOKEN); tokens are never asked for off a terminal');
      if (!url) throw new WmillError('usage', 'no server URL: pass it as the third argument (or set WM_BASE_URL)');
      const id = workspaceId ?? name;
      const { ApiClient } = await import('../api/client.js');
      const client = new ApiClient({ remote: url, token });
      const exists = await client.json<boolean>('POST', '/workspaces/exists', { body: { id } });
      if (exists !== true) {
        if (!opts.create) {
          let known: string[] = [];
          try {
            known = (await client.json<{ id: string }[]>('GET', '/workspaces/list')).map((w) => w.id);
          } catch {
            /* listing is best effort */
          }
          throw new WmillError('failure', `workspace '${id}' does not exist on ${client.remote}${known.length ? ` (you can access: ${known.join(', ')})` : ''}; pass --create to create it`);
        }
        await client.call('POST', '/workspaces/create', { body: { id, name: opts.createWorkspaceName ?? id, username: opts.createUsername } });
      }
      const dir = configDir(opts.configDir);
      addProfile({ name, remote: client.remote, workspaceId: id, token }, { force: opts.force }, dir);
      if (opts.json) printJson({ ok: true, name, remote: client.remote, workspaceId: id, active: true });
      else out(`Added workspace ${name} for ${id} on ${client.remote}`);
    });

  ws.command('switch')
    .argument('<name>', 'profile name')
    .description('Make a profile the active one')
    .action((name: string, opts: GlobalFlags) => {
      const dir = configDir(opts.configDir);
      if (!readProfiles(dir).some((p) => p.name === name)) throw new WmillError('usage', `no profile named '${name}'; see 'wmill workspace list'`);
      setActiveProfile(name, dir);
      out(`Switched to ${name}`);
    });

  ws.command('list')
    .option('--json', 'print the profiles as JSON (tokens are never printed)')
    .description('List profiles')
    .action((opts: GlobalFlags) => {
      const dir = configDir(opts.configDir);
      const active = activeProfileName(dir);
      const rows = readProfiles(dir).map((p) => ({ name: p.name, remote: p.remote, workspaceId: p.workspaceId, active: p.name === active }));
      if (opts.json) return printJson({ ok: true, profiles: rows, active });
      if (!rows.length) return out("No profiles; add one with 'wmill workspace add <name> <workspace_id> <url> --token <token>'");
      const w = Math.max(4, ...rows.map((r) => r.name.length));
      const u = Math.max(6, ...rows.map((r) => r.remote.length));
      out(`${'name'.padEnd(w)}  ${'remote'.padEnd(u)}  workspace`);
      for (const r of rows) out(`${r.name.padEnd(w)}  ${r.remote.padEnd(u)}  ${r.workspaceId}${r.active ? '  (active)' : ''}`);
    });

  ws.command('remove')
    .argument('<name>', 'profile name')
    .description('Remove a profile')
    .action((name: string, opts: GlobalFlags) => {
      removeProfile(name, configDir(opts.configDir));
      out(`Removed ${name}`);
    });

  registerWorkspaceItems(ws);

  ws.command('whoami')
    .option('--json', 'print as JSON')
    .description('Show the user of the active profile')
    .action(async (opts: GlobalFlags & { workspace?: string; baseUrl?: string; token?: string }) => {
      const { resolveTarget } = await import('../workspace/target.js');
      const w = (await resolveTarget(opts)).ws;
      const { ApiClient } = await import('../api/client.js');
      const client = new ApiClient({ remote: w.remote, token: w.token, workspace: w.workspaceId });
      const me = await client.json<Record<string, unknown>>('GET', client.ws('/users/whoami'));
      if (opts.json) printJson({ ok: true, profile: w.name, remote: w.remote, workspace: w.workspaceId, user: me });
      else out(`${me.email ?? me.username} (${me.username ?? ''}${me.is_admin ? ', admin' : ''}) on ${w.workspaceId} at ${w.remote}`);
    });
}
