/**
 * Item commands of the real windmill-cli, read side: `script|flow|resource|resource-type|variable|
 * schedule|folder list` and `... get <path>` (`script show` = get), against the workspace the
 * global options resolve to. Text: a table (list) or the item as YAML (get); `--json`: the
 * server's objects. A secret variable's value is never asked for (decrypt_secret=false).
 */
import type { Command } from 'commander';
import { out, printJson } from '../util/output.js';
import { remoteClient, type RemoteFlags } from './remote-options.js';

interface Kind {
  name: string;
  description: string;
  list: string;
  get: (path: string) => string;
  getQuery?: Record<string, string | boolean>;
  /** Columns of the list table. */
  columns: string[];
  archived?: boolean;
  listFlags?: (cmd: Command) => Command;
}

const enc = (p: string) => p.split('/').map(encodeURIComponent).join('/');

export const KINDS: Kind[] = [
  { name: 'script', description: 'scripts', list: 'scripts/list', get: (p) => `scripts/get/p/${enc(p)}`, columns: ['path', 'summary', 'language', 'hash'], archived: true },
  { name: 'flow', description: 'flows', list: 'flows/list', get: (p) => `flows/get/${enc(p)}`, columns: ['path', 'summary', 'edited_by'], archived: true },
  { name: 'resource', description: 'resources', list: 'resources/list', get: (p) => `resources/get/${enc(p)}`, columns: ['path', 'resource_type', 'description'] },
  { name: 'resource-type', description: 'resource types', list: 'resources/type/list', get: (p) => `resources/type/get/${enc(p)}`, columns: ['name', 'description'] },
  { name: 'variable', description: 'variables (secret values are never shown)', list: 'variables/list', get: (p) => `variables/get/${enc(p)}`, getQuery: { decrypt_secret: false }, columns: ['path', 'is_secret', 'description'] },
  { name: 'schedule', description: 'schedules', list: 'schedules/list', get: (p) => `schedules/get/${enc(p)}`, columns: ['path', 'schedule', 'timezone', 'enabled', 'script_path'] },
  { name: 'folder', description: 'folders', list: 'folders/list', get: (p) => `folders/get/${enc(p.replace(/^f\//, ''))}`, columns: ['name', 'summary', 'owners'] },
];

/** A secret variable's value as the list shows it (never the value). */
function redact(kind: string, x: Record<string, unknown>): Record<string, unknown> {
  return kind === 'variable' && x.is_secret ? { ...x, value: undefined } : x;
}

function table(rows: Record<string, unknown>[], columns: string[]): string[] {
  const cell = (v: unknown) => (v === undefined || v === null ? '' : Array.isArray(v) ? v.join(',') : typeof v === 'object' ? JSON.stringify(v) : String(v)).replace(/\s+/g, ' ');
  const cells = rows.map((r) => columns.map((c) => cell(r[c])));
  const w = columns.map((c, i) => Math.min(60, Math.max(c.length, ...cells.map((r) => r[i]!.length))));
  const line = (vals: string[]) => vals.map((v, i) => (v.length > w[i]! ? `${v.slice(0, w[i]! - 1)}…` : v.padEnd(w[i]!))).join('  ').trimEnd();
  return [line(columns), ...cells.map(line)];
}

function addKind(parent: Command, k: Kind): void {
  const list = parent
    .command('list')
    .description(`List the workspace's ${k.description}`)
    .option('--json', 'print the list as JSON');
  if (k.name === 'resource-type') list.option('--schema', 'with each type\'s JSON schema');
  if (k.archived) list.option('--show-archived', 'archived ones instead of the active ones');
  list.action(async (opts: RemoteFlags & { json?: boolean; schema?: boolean; showArchived?: boolean }) => {
    const c = await remoteClient(opts);
    const rows = (await c.json<Record<string, unknown>[]>('GET', c.ws(`/${k.list}`), { query: { show_archived: opts.showArchived || undefined } })).map((x) => redact(k.name, x));
    if (opts.json) return printJson(opts.schema || k.name !== 'resource-type' ? rows : rows.map(({ schema: _s, ...r }) => r));
    for (const l of table(rows, k.columns)) out(l);
    if (opts.schema) for (const r of rows) out(`\n${String(r.name)}:\n${JSON.stringify(r.schema ?? {}, null, 2)}`);
  });
  const get = (name: string, description: string) =>
    parent
      .command(name)
      .argument('<path>', k.name === 'resource-type' ? 'the resource type name' : k.name === 'folder' ? 'the folder name' : 'the item path, e.g. f/folder/name')
      .description(description)
      .option('--json', 'print it as JSON')
      .action(async (path: string, opts: RemoteFlags & { json?: boolean }) => {
        const c = await remoteClient(opts);
        const item = redact(k.name, await c.json<Record<string, unknown>>('GET', c.ws(`/${k.get(path)}`), { query: k.getQuery }));
        if (opts.json) return printJson(item);
        const { toYaml } = await import('../util/yaml.js');
        out(toYaml(item).trimEnd());
      });
  get('get', `Show one of the workspace's ${k.description}`);
  if (k.name === 'script') get('show', 'Show a script (alias for get)');
}

/** Add list/get to `script` or `flow` (registered by their modules), or register the other kinds' commands. */
export function registerItems(names: string[]): (program: Command) => void {
  return (program) => {
    for (const k of KINDS.filter((x) => names.includes(x.name))) {
      const parent = program.commands.find((c) => c.name() === k.name) ?? program.command(k.name).description(`Work with ${k.description} on the server`);
      if (parent.commands.some((c) => c.name() === 'list')) continue;
      addKind(parent, k);
    }
  };
}
