/**
 * A sync in steps the command composes: read both sides, keep on each side only what the sync
 * covers (one filter, src/sync/filter.ts), and make the plan. Secret values are compared as the
 * files hold them: plaintext with `plainSecrets` (the remote is read decrypted), otherwise the
 * workspace's ciphertext, and a push refuses a secret file whose value is not ciphertext rather
 * than send it as if it were (the reference's own trap, windmill PR #8932).
 */
import type { ApiClient } from '../api/client.js';
import { WmillError } from '../errors.js';
import { looksEncrypted } from '../items/secrets.js';
import type { WorkspaceConfig } from '../workspace/config.js';
import { itemKey } from '../items/canonical.js';
import { fileFor, syncFilter, syncOptions, type SyncOptions } from './filter.js';
import { readLocal, saveSyncCache, type LocalItem } from './local.js';
import { makePlan, type Plan } from './plan.js';
import { readRemote, type RemoteItem, type RemoteRead } from './remote.js';

export interface Prepared {
  plan: Plan;
  local: Map<string, LocalItem>;
  remote: RemoteRead;
  options: SyncOptions;
  warnings: string[];
}

export async function prepareSync(
  cfg: WorkspaceConfig,
  client: ApiClient,
  opts: { direction: 'push' | 'pull'; keepDeleted?: boolean; workspace: string; flags?: Partial<SyncOptions> },
): Promise<Prepared> {
  const o = syncOptions(cfg, opts.flags);
  // The manifest request goes out first; the server works on it while we read the folder.
  const remoteP = readRemote(client, o);
  remoteP.catch(() => undefined);
  const { items, warnings, cacheStale } = readLocal(cfg, o);
  if (cacheStale) saveSyncCache(cfg.root, items);
  const all = await remoteP;

  // The local side was read through the same filter; a remote item is judged by its file here.
  const inSync = syncFilter(cfg, o);
  const kept = new Map<string, RemoteItem>();
  for (const [k, x] of all.items) {
    const file = items.get(k)?.files[0] ?? fileFor(x.kind, x.path, cfg, x.language);
    const resourceType = x.kind === 'resource' && x.body ? String(x.body.resource_type) : undefined;
    if (inSync({ kind: x.kind, path: x.path, file, isSecret: !!(x.is_secret ?? x.body?.is_secret), resourceType })) kept.set(k, x);
  }
  const remote: RemoteRead = { ...all, items: kept };

  if (opts.direction === 'push' && !o.plainSecrets) {
    for (const v of items.values()) {
      // Ciphertext, or a reference to an external secret store (which the server resolves).
      const value = String(v.body.value);
      if (v.kind !== 'variable' || !v.body.is_secret || looksEncrypted(value) || /^\$(vault|aws_sm|azure_kv):/.test(value)) continue;
      throw new WmillError(
        'usage',
        `${v.files[0]}: the value of secret variable ${v.path} is not ciphertext, and plainSecrets is off (secret files then hold this workspace's ciphertext, as 'sync pull' writes them); set plainSecrets: true in wmill.yaml or pass --plain-secrets to push plaintext secrets`,
        { file: v.files[0], path: v.path },
      );
    }
  }

  const localSides = new Map([...items].map(([k, v]) => [k, { kind: v.kind, path: v.path, hash: v.hash }]));
  const plan = makePlan(localSides, remote.items, { direction: opts.direction, keepDeleted: opts.keepDeleted, workspace: opts.workspace, remoteUrl: client.remote });
  return { plan, local: items, remote, options: o, warnings };
}

export { itemKey };
