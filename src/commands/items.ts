/**
 * windmill-cli's item commands on the remote workspace: `<kind> list|get|push` for scripts,
 * flows, resources, resource types, variables, schedules, folders, groups, apps, triggers and
 * users, `job list|result|rerun`, `workspace list-remote`. Argument parsing and output only:
 * the routes are src/api/items.ts's table, a push is src/sync/push-one.ts.
 *
 * Output as windmill-cli's: a table (or `Label: value` lines for one item) on stdout; with
 * `--json`, what windmill-cli prints with it: the server's objects as they come (a list is a
 * JSON array), so `wmill script list --json | jq '.[].path'` works with either CLI.
 */
import type { Command } from 'commander';
import { WmillError } from '../errors.js';
import { err, out, printJson } from '../util/output.js';
import { remoteClient, type RemoteFlags } from './remote-options.js';
import type { ItemKind } from '../items/canonical.js';

type Flags = RemoteFlags & Record<string, unknown>;

/** Columns padded to their widest cell, two spaces apart. */
export function printTable(headers: string[], rows: string[][]): void {
  const all = [headers, ...rows.map((r) => r.map((c) => c.replace(/\s*\n\s*/g, ' ')))];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  for (const r of all) out(r.map((c, i) => (c ?? '').padEnd(widths[i]!)).join('  ').trimEnd());
}

async function api() {
  return import('../api/items.js');
}

async function listCommand(name: string, flags: Flags): Promise<void> {
  const { KINDS, listItems } = await api();
  const spec = KINDS[name]!;
  const client = await remoteClient(flags);
  const rows = await listItems(client, spec, flags);
  if (flags.json) return printJson(rows);
  if (name === 'resource-type' && flags.schema) {
    return printTable(['Workspace', 'Name', 'Schema'], rows.map((x) => [String(x.workspace_id ?? 'Global'), String(x.name), JSON.stringify(x.schema ?? null)]));
  }
  if (!rows.length) return err(`No ${spec.noun}s in workspace ${client.workspace}.`);
  printTable(spec.columns.map(([h]) => h), rows.map((x) => spec.columns.map(([, c]) => c(x))));
}

async function getCommand(name: string, id: string, flags: Flags): Promise<void> {
  const { KINDS, getItem } = await api();
  const spec = KINDS[name]!;
  const item = await getItem(await remoteClient(flags), spec, id);
  if (flags.json) return printJson(item);
  for (const [label, cell] of spec.details) out(`${label}: ${cell(item)}`);
  if (name === 'flow') printSteps(item.value?.modules);
}

/** A flow's steps as windmill-cli's `flow get` lists them (nested ones indented). */
function printSteps(modules: unknown): void {
  if (!Array.isArray(modules) || !modules.length) return;
  out('Steps:');
  const walk = (mods: any[], indent: string) => {
    for (const m of mods) {
      const type = m?.value?.type ?? 'unknown';
      const detail = m?.value?.language ?? m?.value?.path ?? '';
      out(`${indent}${m?.id}: ${type}${detail ? ` (${detail})` : ''}`);
      if (type === 'branchall' || type === 'branchone') {
        for (const b of m.value.branches ?? []) {
          out(`${indent}  Branch: ${b.summary || '(default)'}`);
          if (b.modules) walk(b.modules, `${indent}    `);
        }
        if (type === 'branchone' && m.value.default) {
          out(`${indent}  Default:`);
          walk(m.value.default, `${indent}    `);
        }
      } else if ((type === 'forloopflow' || type === 'whileloopflow') && m.value.modules) walk(m.value.modules, `${indent}  `);
    }
  };
  walk(modules, '  ');
}

async function pushCommand(kind: ItemKind | 'trigger', file: string, remotePath: string | undefined, flags: Flags): Promise<void> {
  if (remotePath !== undefined && kind !== 'resource-type' && !/^[ufg]\/[^/\s]+(\/[^/\s]+)*$/.test(remotePath)) {
    throw new WmillError('usage', `invalid remote path "${remotePath}": expected u/<user>/..., f/<folder>/... or g/<group>/...`);
  }
  const [{ loadConfig }, { findLocalItem, pushOne }] = await Promise.all([import('../workspace/config.js'), import('../sync/push-one.js')]);
  const item = findLocalItem(loadConfig(process.cwd()), kind, file);
  const client = await remoteClient(flags);
  const r = await pushOne(client, item, { remotePath, message: flags.message as string | undefined, plainSecrets: flags.plainSecrets as boolean | undefined });
  for (const n of r.notes) err(`note: ${n}`);
  if (flags.json) return printJson({ ok: true, kind: r.kind, path: r.path, op: r.op === 'add' ? 'created' : 'updated', files: r.files });
  out(`${r.op === 'add' ? 'Created' : 'Updated'} ${r.kind} ${r.path} (from ${r.files.join(', ')})`);
}

const JSON_OPT = 'Output as JSON (for piping to jq)';

/** `list` and `get` of a kind under `parent` (`get` named after its argument). */
function addListGet(parent: Command, name: string, arg = '<path>', opts: { defaultList?: boolean; listOptions?: (c: Command) => Command } = {}): void {
  const list = parent.command('list', opts.defaultList ? { isDefault: true } : {}).description(`list all ${name === 'resource-type' ? 'resource types' : `${name}s`}`).option('--json', JSON_OPT);
  (opts.listOptions ?? ((c) => c))(list).action((flags: Flags) => listCommand(name, flags));
  parent
    .command('get')
    .argument(arg)
    .description(`get a${/^[aeiou]/.test(name) ? 'n' : ''} ${name.replace('-', ' ')}'s details`)
    .option('--json', JSON_OPT)
    .action((id: string, flags: Flags) => getCommand(name, id, flags));
}

function addPush(parent: Command, kind: ItemKind | 'trigger', args: [string, string?], description: string, more: (c: Command) => Command = (c) => c): void {
  const c = parent.command('push').description(description).argument(args[0]);
  if (args[1]) c.argument(args[1]);
  more(c.option('--json', 'print {ok, kind, path, op, files} as JSON')).action(async (...a: unknown[]) => {
    const flags = a[args[1] ? 2 : 1] as Flags;
    await pushCommand(kind, a[0] as string, args[1] ? (a[1] as string) : undefined, flags);
  });
}

/** `script list|get|show|push` (added to the existing `script` command). */
export function registerScriptItems(script: Command): void {
  addListGet(script, 'script', '<path>', { listOptions: (c) => c.option('--show-archived', 'Show archived scripts instead of active ones') });
  script
    .command('show')
    .argument('<path>')
    .description("show a script's content (alias for get)")
    .option('--json', JSON_OPT)
    .action(async (path: string, flags: Flags) => {
      const { KINDS, getItem } = await api();
      const s = await getItem(await remoteClient(flags), KINDS.script!, path);
      if (flags.json) return printJson(s);
      out(String(s.path));
      if (s.description) out(String(s.description));
      out('');
      out(String(s.content ?? ''));
    });
  addPush(script, 'script', ['<path>'], 'push a local script spec. This overrides any remote versions. Use the script file (.ts, .js, .py, .sh)', (c) => c.option('--message <message>', 'Deployment message'));
}

/** `flow list|get|push` (added to the existing `flow` command). */
export function registerFlowItems(flow: Command): void {
  addListGet(flow, 'flow', '<path>', { listOptions: (c) => c.option('--show-archived', 'Enable archived flows in output') });
  addPush(flow, 'flow', ['<file_path>', '<remote_path>'], 'push a local flow spec. This overrides any remote versions.', (c) => c.option('--message <message>', 'Deployment message'));
}

/** The top-level item commands: resource, resource-type, variable, schedule, folder, group, app, trigger, user. */
export function registerItemCommands(program: Command): void {
  const resource = program.command('resource').description('resource related commands');
  addListGet(resource, 'resource', '<path>', { defaultList: true });
  addPush(resource, 'resource', ['<file_path>', '<remote_path>'], 'push a local resource spec. This overrides any remote versions.');

  const rt = program.command('resource-type').description('resource type related commands');
  addListGet(rt, 'resource-type', '<path>', { defaultList: true, listOptions: (c) => c.option('--schema', 'Show schema in the output') });
  addPush(rt, 'resource-type', ['<file_path>', '<name>'], 'push a local resource type spec. This overrides any remote versions.');

  const variable = program.command('variable').description('variable related commands');
  addListGet(variable, 'variable', '<path>', { defaultList: true });
  addPush(variable, 'variable', ['<file_path>', '<remote_path>'], 'Push a local variable spec. This overrides any remote versions.', (c) => c.option('--plain-secrets', 'Push secrets as plain text'));

  const schedule = program.command('schedule').description('schedule related commands');
  addListGet(schedule, 'schedule', '<path>', { defaultList: true });
  addPush(schedule, 'schedule', ['<file_path>', '<remote_path>'], 'push a local schedule spec. This overrides any remote versions.');

  const folder = program.command('folder').description('folder related commands');
  addListGet(folder, 'folder', '<name>', { defaultList: true });
  folder
    .command('push')
    .argument('<name>')
    .description('push a local folder to the remote by name. This overrides any remote versions.')
    .option('--json', 'print {ok, kind, path, op, files} as JSON')
    .action(async (name: string, flags: Flags) => {
      const n = name.replace(/^\/+/, '').replace(/^f\//, '').split('/')[0]!;
      const { loadConfig } = await import('../workspace/config.js');
      const { join } = await import('node:path');
      const cfg = loadConfig(process.cwd());
      const { existsSync } = await import('node:fs');
      const file = ['folder.meta.yaml', 'folder.meta.json'].map((f) => join(cfg.root, 'f', n, f)).find((f) => existsSync(f));
      if (!file) throw new WmillError('usage', `f/${n}/folder.meta.yaml: no such file (create it with a summary and owners, or pull the folder first)`);
      await pushCommand('folder', file, undefined, flags);
    });

  const group = program.command('group').description('Manage workspace groups');
  addListGet(group, 'group', '<name>', { defaultList: true });

  const app = program.command('app').description('app related commands');
  addListGet(app, 'app', '<path>', { defaultList: true });

  const trigger = program.command('trigger').description('trigger related commands');
  trigger
    .command('list', { isDefault: true })
    .description('list all triggers')
    .option('--json', JSON_OPT)
    .action(async (flags: Flags) => {
      const { listTriggers } = await api();
      const rows = await listTriggers(await remoteClient(flags));
      if (flags.json) return printJson(rows);
      if (!rows.length) return err('No triggers.');
      printTable(['Path', 'Kind'], rows.map((x) => [x.path, x.kind]));
    });
  addPush(trigger, 'trigger', ['<file_path>', '<remote_path>'], 'push a local trigger spec (<path>.<kind>_trigger.yaml). This overrides any remote versions.');
  trigger
    .command('get')
    .argument('<path>')
    .description("get a trigger's details")
    .option('--json', JSON_OPT)
    .option('--kind <kind>', 'Trigger kind (http, websocket, kafka, nats, postgres, mqtt, amqp, sqs, gcp, azure, email). Recommended for faster lookup')
    .action(async (path: string, flags: Flags) => {
      const { getTrigger } = await api();
      const r = await getTrigger(await remoteClient(flags), path, flags.kind as string | undefined);
      if ('kinds' in r) throw new WmillError('usage', `several triggers at ${path} (${r.kinds.join(', ')}); pass --kind <kind> to pick one`);
      if (flags.json) return printJson(r.trigger);
      out(`Path: ${r.trigger.path}`);
      out(`Kind: ${r.kind}`);
      out(`Script Path: ${r.trigger.script_path ?? ''}`);
      out(`Is Flow: ${r.trigger.is_flow ? 'true' : 'false'}`);
      out(`Enabled: ${r.trigger.enabled === false ? 'false' : 'true'}`);
    });

  const user = program.command('user').description('user related commands');
  user
    .command('list', { isDefault: true })
    .description('list all users')
    .option('--json', JSON_OPT)
    .action(async (flags: Flags) => {
      const { KINDS, listItems } = await api();
      const { ApiError } = await import('../api/client.js');
      const client = await remoteClient(flags);
      let rows: Record<string, any>[];
      try {
        rows = await listItems(client, KINDS.user!);
      } catch (e) {
        // Not a super admin, or a server without instance users: the workspace's members.
        if (!(e instanceof ApiError) || ![401, 403, 404].includes(e.status)) throw e;
        rows = (await client.json<Record<string, any>[]>('GET', client.ws('/users/list'))).map((m) => ({ ...m, name: m.name ?? m.username }));
      }
      if (flags.json) return printJson(rows);
      printTable(KINDS.user!.columns.map(([h]) => h), rows.map((x) => KINDS.user!.columns.map(([, c]) => c(x))));
    });
}

/** `workspace list-remote` (added to the existing `workspace` command). */
export function registerWorkspaceItems(ws: Command): void {
  ws.command('list-remote')
    .description('List workspaces on the remote server that you have access to')
    .option('--json', JSON_OPT)
    .action(async (flags: Flags) => {
      const { listUserWorkspaces } = await api();
      const client = await remoteClient(flags);
      const r = await listUserWorkspaces(client);
      if (flags.json) return printJson(r.workspaces);
      const forks = r.workspaces.some((x) => x.parent_workspace_id);
      printTable(
        ['id', 'name', 'username', ...(forks ? ['fork of'] : []), 'disabled'],
        r.workspaces.map((x) => [String(x.id), String(x.name ?? ''), String(x.username ?? ''), ...(forks ? [String(x.parent_workspace_id ?? '-')] : []), x.disabled ? 'true' : 'false']),
      );
      err(`Remote: ${client.remote}`);
      if (r.email) err(`Logged in as: ${r.email}`);
    });
}

/** `job list|result|rerun` (added to the existing `job` command). */
export function registerJobItems(job: Command): void {
  job
    .command('list')
    .description('List recent jobs')
    .option('--json', JSON_OPT)
    .option('--script-path <scriptPath>', 'Filter by exact script/flow path')
    .option('--created-by <createdBy>', 'Filter by creator username')
    .option('--running', 'Show only running jobs')
    .option('--failed', 'Show only failed jobs')
    .option('--success <success>', 'Filter by success status (true/false)')
    .option('--limit <limit>', 'Number of jobs to return (default 30, max 100)')
    .option('--job-kinds <jobKinds>', 'Filter by job kinds (default: script,flow,singlestepflow)')
    .option('--label <label>', 'Filter by job label')
    .option('--all', 'Include sub-jobs (flow steps). By default only top-level jobs are shown')
    .option('--parent <parent>', 'Filter by parent job ID (show sub-jobs of a specific flow)')
    .option('--is-flow-step', 'Show only flow step jobs')
    .action(async (flags: Flags) => {
      const limit = flags.limit === undefined ? 30 : Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new WmillError('usage', `--limit must be a positive whole number, got '${flags.limit}'`);
      if (flags.success !== undefined && flags.success !== 'true' && flags.success !== 'false') throw new WmillError('usage', `--success must be true or false, got '${flags.success}'`);
      const client = await remoteClient(flags);
      const sub = !!(flags.all || flags.parent);
      const rows = await client.json<Record<string, any>[]>('GET', client.ws('/jobs/list'), {
        query: {
          script_path_exact: flags.scriptPath as string | undefined,
          created_by: flags.createdBy as string | undefined,
          running: flags.running ? true : undefined,
          success: flags.failed ? false : flags.success === undefined ? undefined : flags.success === 'true',
          per_page: Math.min(limit, 100),
          job_kinds: (flags.jobKinds as string | undefined) ?? (sub ? 'script,flow,singlestepflow,flowscript,flowdependencies' : 'script,flow,singlestepflow'),
          label: flags.label as string | undefined,
          has_null_parent: sub ? undefined : true,
          parent_job: flags.parent as string | undefined,
          is_flow_step: flags.isFlowStep ? true : undefined,
        },
      });
      const jobs = rows.slice(0, Math.min(limit, 100));
      if (flags.json) return printJson(jobs);
      if (!jobs.length) return err('No jobs found.');
      printTable(
        ['ID', 'Status', 'Script/Flow', 'Created By', 'Duration', 'Created At'],
        jobs.map((j) => [
          String(j.id),
          jobStatus(j),
          String(j.script_path ?? (typeof j.raw_code === 'string' ? j.raw_code.slice(0, 30) : '-')),
          String(j.created_by ?? j.email ?? '-'),
          j.duration_ms != null ? `${j.duration_ms}ms` : j.running ? 'running' : '-',
          j.created_at ? String(j.created_at).replace('T', ' ').replace(/\.\d+Z$|Z$/, '') : '-',
        ]),
      );
      err(`Showing ${jobs.length} job(s). Use --limit to show more.`);
    });

  job
    .command('result')
    .argument('<id>')
    .description('Get the result of a completed job (machine-friendly)')
    .action(async (id: string, flags: Flags) => {
      const client = await remoteClient(flags);
      out(JSON.stringify(await client.json('GET', client.ws(`/jobs_u/completed/get_result/${checkJobId(id)}`))));
    });

  job
    .command('rerun')
    .argument('<id>')
    .description('Re-run a completed job with the same args. Prints the new job UUID on stdout.')
    .option('--json', 'print {ok, id, rerun_of} as JSON')
    .action(async (id: string, flags: Flags) => {
      const client = await remoteClient(flags);
      const j = await client.json<Record<string, any>>('GET', client.ws(`/jobs_u/get/${checkJobId(id)}`), { query: { no_logs: true } });
      if (j.type !== 'CompletedJob') throw new WmillError('usage', `job ${id} has not completed yet; only a completed job can be re-run`);
      const args = (j.args as Record<string, unknown> | null) ?? {};
      const enc = (p: string) => p.split('/').map(encodeURIComponent).join('/');
      let route: string;
      if (j.job_kind === 'flow' && j.script_path) route = `/jobs/run/f/${enc(j.script_path)}`;
      else if (j.job_kind === 'script' && j.script_hash) route = `/jobs/run/h/${encodeURIComponent(j.script_hash)}`;
      else if (j.job_kind === 'script' && j.script_path) route = `/jobs/run/p/${enc(j.script_path)}`;
      else throw new WmillError('usage', `job ${id} is a ${j.job_kind} job; only script and flow jobs can be re-run`);
      const newId = (await client.text('POST', client.ws(route), { body: args, query: { tag: j.tag ?? undefined } })).trim();
      if (flags.json) return printJson({ ok: true, id: newId, rerun_of: id });
      out(newId);
    });
}

function checkJobId(id: string): string {
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw new WmillError('usage', `"${id}" is not a job id (a UUID)`);
  return id;
}

function jobStatus(j: Record<string, any>): string {
  if (j.type === 'QueuedJob') return j.canceled ? 'canceled' : j.running ? 'running' : 'queued';
  return j.canceled ? 'canceled' : j.success ? 'success' : 'failure';
}
