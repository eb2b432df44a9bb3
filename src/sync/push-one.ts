/**
 * Push ONE local item (windmill-cli's `script push <file>`, `flow push <folder> <path>`,
 * `resource|variable|schedule push <file> <path>`, `resource-type push <file> <name>`,
 * `folder push <name>`): the item is read exactly as `sync push` reads it (src/sync/local.ts),
 * then created or updated on the server by the same change `sync push` would apply
 * (src/sync/apply.ts), so a pushed item equals what `sync push` deploys. The folder's
 * includes/excludes do not apply: the item is named explicitly.
 */
import { relative, resolve, sep } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import type { ApiClient } from '../api/client.js';
import { ApiError } from '../api/client.js';
import { WmillError } from '../errors.js';
import { bodyHash, type ItemKind } from '../items/canonical.js';
import { looksEncrypted } from '../items/secrets.js';
import type { WorkspaceConfig } from '../workspace/config.js';
import { pushChange } from './apply.js';
import { readLocal, syncOptions, type LocalItem } from './local.js';

export interface PushOneResult {
  kind: ItemKind;
  path: string;
  op: 'add' | 'update' | 'unchanged';
  files: string[];
  notes: string[];
}

const enc = (p: string) => p.split('/').map(encodeURIComponent).join('/');

/** The local item made of `file` (a file of it, or for a flow its folder). */
/** `kind` 'trigger': a trigger of any kind (`<path>.<kind>_trigger.yaml`). */
export function findLocalItem(cfg: WorkspaceConfig, kind: ItemKind | 'trigger', file: string): LocalItem {
  const abs = resolve(file);
  if (!existsSync(abs)) throw new WmillError('usage', `${file}: no such file or folder`);
  const rel = relative(cfg.root, abs).split(sep).join('/');
  if (rel.startsWith('..')) throw new WmillError('usage', `${file} is outside the workspace folder ${cfg.root} (the folder holding wmill.yaml)`);
  const isDir = statSync(abs).isDirectory();
  // Every kind, every file: the item is named on the command line.
  const all = { ...cfg, includes: ['**'], excludes: [], extraIncludes: [] };
  const o = { ...syncOptions(all), includeSchedules: true, includeTriggers: true, skipSecrets: false, skipVariables: false, skipResources: false, skipResourceTypes: false, skipScripts: false, skipFlows: false, skipFolders: false };
  const { items } = readLocal(all, o, { cache: false });
  for (const it of items.values()) {
    if (it.kind !== kind && !(kind === 'trigger' && String(it.kind).endsWith('_trigger'))) continue;
    // A file names its item's main file (a script's content, not its .script.yaml).
    if (isDir ? it.files.some((f) => f.startsWith(`${rel}/`)) : it.files[0] === rel) return it;
  }
  const what = kind === 'script' ? 'a script content file (.ts, .py, .sh, ...; not its .script.yaml)' : kind === 'flow' ? 'a flow folder (<name>__flow or <name>.flow) or its flow.yaml' : kind === 'trigger' ? 'a <path>.<kind>_trigger.yaml file' : `a .${kind}.yaml file`;
  throw new WmillError('usage', `${file} is not a ${kind} of this workspace folder; give ${what}`);
}

/** Create or update the item on the server; `remotePath` (when given) replaces its path. */
export async function pushOne(
  client: ApiClient,
  item: LocalItem,
  opts: { remotePath?: string; message?: string; plainSecrets?: boolean } = {},
): Promise<PushOneResult> {
  const path = opts.remotePath?.replace(/^\/+/, '') ?? item.path;
  const notes: string[] = [];
  const w = (p: string) => client.ws(p);
  let exists: boolean;
  try {
    switch (item.kind) {
      case 'script': {
        const head = await client.json<{ hash: string; archived?: boolean }>('GET', w(`/scripts/get/p/${enc(path)}`));
        exists = !!head;
        break;
      }
      case 'flow': await client.call('GET', w(`/flows/get/${enc(path)}`)); exists = true; break;
      case 'resource': await client.call('GET', w(`/resources/get/${enc(path)}`)); exists = true; break;
      case 'variable': await client.call('GET', w(`/variables/get/${enc(path)}`), { query: { decrypt_secret: false } }); exists = true; break;
      case 'schedule': await client.call('GET', w(`/schedules/get/${enc(path)}`)); exists = true; break;
      case 'folder': await client.call('GET', w(`/folders/get/${enc(path)}`)); exists = true; break;
      case 'resource-type': await client.call('GET', w(`/resources/type/get/${enc(path)}`)); exists = true; break;
      default: {
        // A trigger kind, `<kind>_trigger`: its `<kind>_triggers/get` route.
        const k = String(item.kind);
        if (!k.endsWith('_trigger')) throw new WmillError('failure', `cannot push a ${k}`);
        await client.call('GET', w(`/${k.slice(0, -'_trigger'.length)}_triggers/get/${enc(path)}`));
        exists = true;
      }
    }
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 404) throw e;
    exists = false;
  }
  let plainSecrets = opts.plainSecrets ?? false;
  if (item.kind === 'variable' && item.body.is_secret && opts.plainSecrets === undefined) {
    const v = String(item.body.value ?? '');
    if (!looksEncrypted(v)) {
      notes.push('the secret value is not in encrypted form; pushing it as plaintext, to be encrypted by the server (pass --plain-secrets to silence)');
      plainSecrets = true;
    }
  }
  await pushChange(client, { op: exists! ? 'update' : 'add', kind: item.kind, path, hash: bodyHash(item.body) }, item, { message: opts.message, plainSecrets });
  return { kind: item.kind, path, op: exists! ? 'update' : 'add', files: item.files, notes };
}
