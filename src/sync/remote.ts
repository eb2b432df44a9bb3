/**
 * Read the remote side of a sync. Against our server: the hash manifest
 * (`wmill/sync_manifest`), bodies fetched only for the items that need them. Against a real
 * Windmill (no manifest: 404): the workspace tarball, converted to the same canonical items.
 */
import type { ApiClient } from '../api/client.js';
import { ApiError } from '../api/client.js';
import { languageOf } from '../workspace/languages.js';
import { readZip } from '../items/zip.js';
import {
  bodyHash, flowBody, folderBody, itemKey, resourceBody, resourceTypeBody, scheduleBody, scriptBody, variableBody, type ItemKind,
} from '../items/canonical.js';
import type { SyncOptions } from './filter.js';
import { triggerBody, triggerFile } from '../items/triggers.js';
import { appBody } from '../items/apps.js';

export interface RemoteItem {
  kind: ItemKind;
  path: string;
  hash: string;
  /** Scripts: deployed version hash; flows: version id. */
  version?: string;
  /** Scripts: the language (names the file a pull writes, which includes/excludes match). */
  language?: string;
  /** Variables: set for secrets. */
  is_secret?: boolean;
  body?: Record<string, unknown>;
}

export interface RemoteRead {
  /** Every item the server shows (callers keep those the sync filter admits: src/sync/filter.ts). */
  items: Map<string, RemoteItem>;
  source: 'manifest' | 'tarball';
  /** Fetch the bodies of `keys` (no request when they are already known). */
  bodies(keys: string[]): Promise<Map<string, Record<string, unknown>>>;
}

/**
 * The remote side. With `plainSecrets`, secret values come decrypted (as the files hold them),
 * otherwise as the workspace's ciphertext.
 */
export async function readRemote(client: ApiClient, o: SyncOptions): Promise<RemoteRead> {
  const toMap = (xs: RemoteItem[]) => new Map(xs.map((x) => [itemKey(x.kind, x.path), x]));
  const plain = o.plainSecrets && !o.skipSecrets && !o.skipVariables;
  try {
    const r = await client.json<{ items: RemoteItem[] }>('POST', client.ws('/wmill/sync_manifest'), { body: { bodies: false, ...(plain ? { plain_secrets: true } : {}) } });
    const items = toMap(r.items);
    return {
      items,
      source: 'manifest',
      async bodies(keys) {
        const out = new Map<string, Record<string, unknown>>();
        if (!keys.length) return out;
        const r2 = await client.json<{ items: RemoteItem[] }>('POST', client.ws('/wmill/sync_manifest'), { body: { bodies: keys, ...(plain ? { plain_secrets: true } : {}) } });
        for (const x of r2.items) if (x.body) out.set(itemKey(x.kind, x.path), x.body);
        return out;
      },
    };
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 404) throw e;
  }
  const zip = await client.call('GET', client.ws('/workspaces/tarball'), {
    raw: true,
    query: {
      archive_type: 'zip', plain_secret: plain, skip_variables: o.skipVariables, skip_resources: o.skipResources, skip_secrets: o.skipSecrets,
      include_schedules: o.includeSchedules, include_triggers: o.includeTriggers, include_users: false, include_groups: false, include_settings: false,
      include_key: false, default_ts: 'bun', skip_resource_types: o.skipResourceTypes, settings_version: 'v2',
    },
  });
  const items = toMap(fromTarball(readZip(zip.buffer!)));
  return {
    items,
    source: 'tarball',
    async bodies(keys) {
      return new Map(keys.filter((k) => items.get(k)?.body).map((k) => [k, items.get(k)!.body!]));
    },
  };
}

/** Items of a workspace archive (the layout of spec/wmill-cli.md §8.1). */
export function fromTarball(entries: { path: string; data: Buffer }[]): RemoteItem[] {
  const files = new Map(entries.map((e) => [e.path, e.data.toString('utf8')]));
  const out: RemoteItem[] = [];
  const push = (kind: ItemKind, path: string, body: Record<string, unknown>) =>
    out.push({ kind, path, hash: bodyHash(body), body, ...(kind === 'script' ? { language: String(body.language) } : {}), ...(kind === 'variable' && body.is_secret ? { is_secret: true } : {}) });
  const parse = (p: string) => JSON.parse(files.get(p)!) as Record<string, any>;
  for (const p of [...files.keys()].sort()) {
    const base = p.slice(p.lastIndexOf('/') + 1);
    const path = p.slice(0, p.indexOf('.'));
    if (p.endsWith('.script.json')) {
      const content = [...files.keys()].find((f) => f !== p && f.startsWith(`${path}.`) && !f.endsWith('.json') && !f.endsWith('.lock'));
      if (!content) continue;
      const lang = languageOf(content, 'bun');
      if (typeof lang !== 'string') continue;
      push('script', path, scriptBody({ ...parse(p), content: files.get(content), language: lang }));
    } else if (p.endsWith('.flow.json')) push('flow', path, flowBody(parse(p)));
    else if (p.endsWith('.raw_app.json')) push('raw_app', path, appBody('raw_app', parse(p)));
    else if (p.endsWith('.app.json')) push('app', path, appBody('app', parse(p)));
    else if (p.endsWith('.resource.json')) push('resource', path, resourceBody(parse(p)));
    else if (p.endsWith('.variable.json')) push('variable', path, variableBody(parse(p)));
    else if (p.endsWith('.schedule.json')) push('schedule', path, scheduleBody(parse(p)));
    else if (triggerFile(p)) push(`${triggerFile(p)!.kind}_trigger`, path, triggerBody(parse(p)));
    else if (base === 'folder.meta.json') {
      const name = p.split('/')[1]!;
      push('folder', name, folderBody(name, parse(p)));
    } else if (!p.includes('/') && p.endsWith('.resource-type.json')) push('resource-type', path, resourceTypeBody(parse(p)));
  }
  return out;
}
