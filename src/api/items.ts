/**
 * The remote item kinds of windmill-cli's item commands (`script list`, `resource get`, ...):
 * one table of kind → API routes (list, get) and what a table row and a detail view show,
 * as windmill-cli 1.819 shows them, and the two calls they need: a paged list and a get.
 * Plain data in and out; rendering is the command's (src/commands/items.ts).
 */
import { ApiError, type ApiClient } from './client.js';
import { WmillError } from '../errors.js';

type Row = Record<string, any>;
type Cell = (x: Row) => string;

export interface KindSpec {
  /** The command name (`resource-type`). */
  name: string;
  /** What one is called in messages. */
  noun: string;
  /** Workspace route listing them; `null`: not workspace-scoped (see `global`). */
  list: string;
  /** The route is under /api, not /api/w/{ws}. */
  global?: boolean;
  /** page/per_page are taken (1-based pages). */
  paged: boolean;
  /** Query sent with every list call. */
  listQuery?: (flags: Record<string, unknown>) => Record<string, string | number | boolean | undefined>;
  /** Route of one item (the id encoded per segment). */
  get?: (id: string) => string;
  getQuery?: Record<string, string | number | boolean>;
  /** The list answer's rows (some answers wrap them). */
  rows?: (answer: any) => Row[];
  /** A row's identity, to notice a server that ignores paging. */
  key: Cell;
  columns: [string, Cell][];
  details: [string, Cell][];
}

const enc = (p: string) => p.replace(/^\/+/, '').split('/').map(encodeURIComponent).join('/');
const s = (v: unknown) => (v === undefined || v === null ? '' : String(v));
const dash = (v: unknown) => (v === undefined || v === null ? '-' : String(v));
const bool = (v: unknown) => (v ? 'true' : 'false');
const pretty = (v: unknown) => JSON.stringify(v ?? null, null, 2);

export const KINDS: Record<string, KindSpec> = {
  script: {
    name: 'script',
    noun: 'script',
    list: '/scripts/list',
    paged: true,
    listQuery: (f) => ({ show_archived: !!f.showArchived, include_draft_only: true, include_without_main: false }),
    get: (p) => `/scripts/get/p/${enc(p)}`,
    key: (x) => s(x.hash ?? x.path),
    columns: [['path', (x) => s(x.path)], ['summary', (x) => s(x.summary)], ['language', (x) => s(x.language)], ['created by', (x) => s(x.created_by)]],
    details: [
      ['Path', (x) => s(x.path)],
      ['Summary', (x) => s(x.summary)],
      ['Description', (x) => s(x.description)],
      ['Language', (x) => s(x.language)],
      ['Kind', (x) => s(x.kind ?? 'script')],
      ['Created by', (x) => s(x.created_by)],
      ['Created at', (x) => s(x.created_at)],
    ],
  },
  flow: {
    name: 'flow',
    noun: 'flow',
    list: '/flows/list',
    paged: true,
    listQuery: (f) => ({ show_archived: !!f.showArchived, include_draft_only: false }),
    get: (p) => `/flows/get/${enc(p)}`,
    key: (x) => s(x.path),
    columns: [['path', (x) => s(x.path)], ['summary', (x) => s(x.summary)], ['edited by', (x) => s(x.edited_by)]],
    details: [
      ['Path', (x) => s(x.path)],
      ['Summary', (x) => s(x.summary)],
      ['Description', (x) => s(x.description)],
      ['Edited by', (x) => s(x.edited_by)],
      ['Edited at', (x) => s(x.edited_at)],
    ],
  },
  resource: {
    name: 'resource',
    noun: 'resource',
    list: '/resources/list',
    paged: true,
    get: (p) => `/resources/get/${enc(p)}`,
    key: (x) => s(x.path),
    columns: [['Path', (x) => s(x.path)], ['Resource Type', (x) => s(x.resource_type)]],
    details: [
      ['Path', (x) => s(x.path)],
      ['Resource Type', (x) => s(x.resource_type)],
      ['Description', (x) => s(x.description)],
      ['Value', (x) => pretty(x.value)],
    ],
  },
  'resource-type': {
    name: 'resource-type',
    noun: 'resource type',
    list: '/resources/type/list',
    paged: false,
    get: (n) => `/resources/type/get/${enc(n)}`,
    key: (x) => s(x.name),
    columns: [['Workspace', (x) => s(x.workspace_id ?? 'Global')], ['Name', (x) => s(x.name)]],
    details: [
      ['Name', (x) => s(x.name)],
      ['Description', (x) => s(x.description)],
      ['Workspace', (x) => s(x.workspace_id ?? 'Global')],
      ['Schema', (x) => pretty(x.schema)],
    ],
  },
  variable: {
    name: 'variable',
    noun: 'variable',
    list: '/variables/list',
    paged: false,
    get: (p) => `/variables/get/${enc(p)}`,
    // Never a secret's value in our output (windmill-cli's get would decrypt it).
    getQuery: { decrypt_secret: false },
    key: (x) => s(x.path),
    columns: [['Path', (x) => s(x.path)], ['Is Secret', (x) => bool(x.is_secret)], ['Account', (x) => dash(x.account)], ['Value', (x) => (x.is_secret ? '-' : dash(x.value))]],
    details: [
      ['Path', (x) => s(x.path)],
      ['Value', (x) => (x.is_secret ? '-' : dash(x.value))],
      ['Is Secret', (x) => bool(x.is_secret)],
      ['Description', (x) => s(x.description)],
      ['Account', (x) => dash(x.account)],
    ],
  },
  schedule: {
    name: 'schedule',
    noun: 'schedule',
    list: '/schedules/list',
    paged: false,
    get: (p) => `/schedules/get/${enc(p)}`,
    key: (x) => s(x.path),
    columns: [['Path', (x) => s(x.path)], ['Schedule', (x) => s(x.schedule)]],
    details: [
      ['Path', (x) => s(x.path)],
      ['Schedule', (x) => s(x.schedule)],
      ['Timezone', (x) => s(x.timezone)],
      ['Script Path', (x) => s(x.script_path)],
      ['Is Flow', (x) => bool(x.is_flow)],
      ['Enabled', (x) => bool(x.enabled)],
    ],
  },
  folder: {
    name: 'folder',
    noun: 'folder',
    list: '/folders/list',
    paged: false,
    get: (n) => `/folders/get/${enc(n.replace(/^f\//, ''))}`,
    key: (x) => s(x.name),
    columns: [['Name', (x) => s(x.name)], ['Owners', (x) => (Array.isArray(x.owners) ? x.owners.join(',') : '-')], ['Extra Perms', (x) => JSON.stringify(x.extra_perms ?? {})]],
    details: [
      ['Name', (x) => s(x.name)],
      ['Summary', (x) => s(x.summary)],
      ['Owners', (x) => (Array.isArray(x.owners) ? x.owners.join(', ') : '-')],
      ['Extra Perms', (x) => JSON.stringify(x.extra_perms ?? {})],
    ],
  },
  group: {
    name: 'group',
    noun: 'group',
    list: '/groups/list',
    paged: false,
    get: (n) => `/groups/get/${enc(n)}`,
    key: (x) => s(x.name),
    columns: [['Name', (x) => s(x.name)], ['Summary', (x) => dash(x.summary)], ['Members', (x) => String(Array.isArray(x.members) ? x.members.length : 0)]],
    details: [
      ['Name', (x) => s(x.name)],
      ['Summary', (x) => dash(x.summary)],
      ['Members', (x) => (Array.isArray(x.members) && x.members.length ? x.members.join(', ') : '(none)')],
    ],
  },
  app: {
    name: 'app',
    noun: 'app',
    list: '/apps/list',
    paged: true,
    listQuery: () => ({ include_draft_only: false }),
    get: (p) => `/apps/get/p/${enc(p)}`,
    key: (x) => s(x.path),
    columns: [['path', (x) => s(x.path)], ['summary', (x) => s(x.summary)]],
    details: [['Path', (x) => s(x.path)], ['Summary', (x) => s(x.summary)], ['Created by', (x) => s(x.created_by)]],
  },
  user: {
    name: 'user',
    noun: 'user',
    // Instance users (windmill-cli's `user list`); a server without it: the workspace's members.
    list: '/users/list_as_super_admin',
    global: true,
    paged: true,
    key: (x) => s(x.email),
    columns: [['email', (x) => s(x.email)], ['name', (x) => dash(x.name)], ['company', (x) => dash(x.company)], ['verified', (x) => bool(x.verified)], ['super admin', (x) => bool(x.super_admin)]],
    details: [],
  },
  job: {
    name: 'job',
    noun: 'job',
    list: '/jobs/list',
    paged: false,
    get: (id) => `/jobs_u/get/${encodeURIComponent(id)}`,
    key: (x) => s(x.id),
    columns: [],
    details: [],
  },
};

/** The trigger kinds windmill-cli lists (each its own `<kind>_triggers/list` route). */
export const TRIGGER_KINDS = ['http', 'websocket', 'kafka', 'nats', 'postgres', 'mqtt', 'amqp', 'sqs', 'gcp', 'azure', 'email'] as const;

export const PER_PAGE = 100;

function route(client: ApiClient, spec: KindSpec, path: string): string {
  return spec.global ? path : client.ws(path);
}

/**
 * Every item of a kind, page by page (page/per_page, 1-based) until a short page. A server that
 * ignores paging answers the same page again: a page bringing nothing new ends the walk.
 */
export async function listItems(client: ApiClient, spec: KindSpec, flags: Record<string, unknown> = {}): Promise<Row[]> {
  const q = spec.listQuery?.(flags) ?? {};
  const rowsOf = (a: unknown) => (spec.rows ? spec.rows(a) : Array.isArray(a) ? (a as Row[]) : []);
  if (!spec.paged) return rowsOf(await client.json('GET', route(client, spec, spec.list), { query: q }));
  const all: Row[] = [];
  const seen = new Set<string>();
  for (let page = 1; ; page++) {
    const rows = rowsOf(await client.json('GET', route(client, spec, spec.list), { query: { ...q, page, per_page: PER_PAGE } }));
    const fresh = rows.filter((r) => !seen.has(spec.key(r)));
    for (const r of fresh) {
      seen.add(spec.key(r));
      all.push(r);
    }
    if (rows.length < PER_PAGE || fresh.length === 0) return all;
  }
}

/** One item; a 404 is a `not_found` error naming it. */
export async function getItem(client: ApiClient, spec: KindSpec, id: string): Promise<Row> {
  if (!spec.get) throw new WmillError('usage', `${spec.noun}s have no get`);
  try {
    return await client.json<Row>('GET', route(client, spec, spec.get(id)), { query: spec.getQuery });
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) throw new WmillError('not_found', `${spec.noun} ${id} not found in workspace ${client.workspace} (see 'wmill ${spec.name} list')`, { status: 404 });
    throw e;
  }
}

/** Whether the item exists (a get that does not 404). */
export async function itemExists(client: ApiClient, spec: KindSpec, id: string): Promise<boolean> {
  try {
    await client.call('GET', route(client, spec, spec.get!(id)), { query: spec.getQuery });
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return false;
    throw e;
  }
}

/** Every trigger of every kind as {path, kind}; a kind the server does not have counts as none. */
export async function listTriggers(client: ApiClient): Promise<{ path: string; kind: string }[]> {
  const lists = await Promise.all(
    TRIGGER_KINDS.map(async (kind) => {
      try {
        const rows = await client.json<Row[]>('GET', client.ws(`/${kind}_triggers/list`));
        return (Array.isArray(rows) ? rows : []).map((x) => ({ path: String(x.path), kind }));
      } catch (e) {
        if (e instanceof ApiError && e.status !== 401 && e.status !== 403) return [];
        throw e;
      }
    }),
  );
  return lists.flat();
}

/** The trigger at `path`: of `kind`, or of the only kind that has one there. */
export async function getTrigger(client: ApiClient, path: string, kind?: string): Promise<{ kind: string; trigger: Row } | { kinds: string[] }> {
  if (kind && !(TRIGGER_KINDS as readonly string[]).includes(kind)) throw new WmillError('usage', `invalid trigger kind: ${kind}. Valid kinds: ${TRIGGER_KINDS.join(', ')}`);
  const found: { kind: string; trigger: Row }[] = [];
  for (const k of kind ? [kind] : TRIGGER_KINDS) {
    try {
      found.push({ kind: k, trigger: await client.json<Row>('GET', client.ws(`/${k}_triggers/get/${enc(path)}`)) });
    } catch (e) {
      if (!(e instanceof ApiError) || e.status === 401 || e.status === 403) throw e;
    }
  }
  if (!found.length) throw new WmillError('not_found', `no trigger found at path ${path}${kind ? ` (kind ${kind})` : ''}`);
  return found.length === 1 ? found[0]! : { kinds: found.map((f) => f.kind) };
}

/** The workspaces the caller may use on the server (`GET /api/workspaces/users`). */
export async function listUserWorkspaces(client: ApiClient): Promise<{ email?: string; workspaces: Row[] }> {
  const a = await client.json<any>('GET', '/workspaces/users');
  // Windmill answers {email, workspaces}; an older `wmill serve` a bare list.
  if (Array.isArray(a)) return { workspaces: a };
  return { email: a?.email, workspaces: Array.isArray(a?.workspaces) ? a.workspaces : [] };
}
