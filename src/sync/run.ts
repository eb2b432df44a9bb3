/**
 * A sync in steps the command composes: read both sides, make the plan, and (for push)
 * settle secret variables whose local value is plaintext by comparing with the decrypted
 * remote value, so a folder with plaintext secrets does not re-push them every time.
 */
import type { ApiClient } from '../api/client.js';
import { looksEncrypted } from '../runner/secrets.js';
import type { WorkspaceConfig } from '../workspace/config.js';
import { bodyHash, itemKey, variableBody } from './canonical.js';
import { readLocal, saveSyncCache, syncOptions, type LocalItem } from './local.js';
import { makePlan, type Plan } from './plan.js';
import { readRemote, type RemoteRead } from './remote.js';

export interface Prepared {
  plan: Plan;
  local: Map<string, LocalItem>;
  remote: RemoteRead;
  warnings: string[];
}

export async function prepareSync(
  cfg: WorkspaceConfig,
  client: ApiClient,
  opts: { direction: 'push' | 'pull'; keepDeleted?: boolean; workspace: string },
): Promise<Prepared> {
  const o = syncOptions(cfg);
  // The manifest request goes out first; the server works on it while we read the folder.
  const remoteP = readRemote(client, o);
  remoteP.catch(() => undefined);
  const { items, warnings, cacheStale } = readLocal(cfg, o);
  if (cacheStale) saveSyncCache(cfg.root, items);
  const remote = await remoteP;
  const localSides = new Map([...items].map(([k, v]) => [k, { kind: v.kind, path: v.path, hash: v.hash }]));
  for (const [k, v] of items) {
    const r = remote.items.get(k);
    if (v.kind !== 'variable' || !v.body.is_secret || !r || looksEncrypted(String(v.body.value))) continue;
    const cur = await client.json<Record<string, unknown>>('GET', client.ws(`/variables/get/${v.path}`), { query: { decrypt_secret: true } });
    if (bodyHash(variableBody(cur)) === bodyHash(v.body)) localSides.set(k, { ...localSides.get(k)!, hash: r.hash });
  }
  const plan = makePlan(localSides, remote.items, { direction: opts.direction, keepDeleted: opts.keepDeleted, workspace: opts.workspace, remoteUrl: client.remote });
  return { plan, local: items, remote, warnings };
}

export { itemKey };
