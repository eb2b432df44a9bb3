/**
 * Which items take part in a sync: ONE rule for both sides, so that what the folder does not
 * cover is never deleted from the server by a push nor written into the folder by a pull
 * (spec/wmill-cli.md §8.4 and §4): the item's file must match `includes`, no `excludes`, and one
 * of `extraIncludes` when there are any (resource types, at the root, ignore the globs); its kind
 * must not be skipped (`skip*`, `includeSchedules`, `includeTriggers`); secret variables only without
 * `skipSecrets`; and never `state` or `cache` resources: they are what jobs write at run time
 * (`setState`), which Windmill leaves out of its exports too.
 *
 * A remote item is judged by the file it has (or would have) in the folder: the local
 * counterpart's file when there is one, else the name a pull gives it.
 */
import { makeFilter } from '../workspace/discover.js';
import type { WorkspaceConfig } from '../workspace/config.js';
import { extensionFor, type Language } from '../workspace/languages.js';
import { isTriggerItem, type ItemKind } from '../items/canonical.js';
import { appSuffix, appYamlName } from '../items/apps.js';

export interface SyncOptions {
  skipVariables: boolean;
  skipResources: boolean;
  skipResourceTypes: boolean;
  skipScripts: boolean;
  skipFlows: boolean;
  skipApps: boolean;
  skipFolders: boolean;
  skipSecrets: boolean;
  includeSchedules: boolean;
  /** Triggers of every kind (`<path>.<kind>_trigger.yaml`). */
  includeTriggers: boolean;
  /** Kinds this version does not sync yet; kept so that the options read as the reference's. */
  skipWorkspaceDependencies: boolean;
  includeUsers: boolean;
  includeGroups: boolean;
  includeSettings: boolean;
  includeKey: boolean;
  /** Secret values travel decrypted (files hold plaintext); otherwise as the workspace's ciphertext. */
  plainSecrets: boolean;
}

/** The options of `wmill.yaml` (top-level keys), with flags given on the command line winning. */
export function syncOptions(cfg: WorkspaceConfig, flags: Partial<SyncOptions> = {}): SyncOptions {
  const r = cfg.raw as Record<string, unknown>;
  const b = (k: keyof SyncOptions, d = false) => flags[k] ?? (typeof r[k] === 'boolean' ? (r[k] as boolean) : d);
  return {
    skipVariables: b('skipVariables'),
    skipResources: b('skipResources'),
    skipResourceTypes: b('skipResourceTypes'),
    skipScripts: b('skipScripts'),
    skipFlows: b('skipFlows'),
    skipApps: b('skipApps'),
    skipFolders: b('skipFolders'),
    skipSecrets: b('skipSecrets', true),
    includeSchedules: b('includeSchedules'),
    skipWorkspaceDependencies: b('skipWorkspaceDependencies'),
    includeTriggers: b('includeTriggers'),
    includeUsers: b('includeUsers'),
    includeGroups: b('includeGroups'),
    includeSettings: b('includeSettings'),
    includeKey: b('includeKey'),
    plainSecrets: b('plainSecrets'),
  };
}

/** Whether an item of `kind` takes part in this sync at all. */
export function kindIncluded(kind: ItemKind, o: SyncOptions): boolean {
  if (isTriggerItem(kind)) return o.includeTriggers;
  switch (kind) {
    case 'variable': return !o.skipVariables;
    case 'resource': return !o.skipResources;
    case 'resource-type': return !o.skipResourceTypes;
    case 'script': return !o.skipScripts;
    case 'flow': return !o.skipFlows;
    case 'app':
    case 'raw_app': return !o.skipApps;
    case 'folder': return !o.skipFolders;
    case 'schedule': return o.includeSchedules;
  }
}

/** Resource types written by jobs at run time, never synced. */
export const RUNTIME_RESOURCE_TYPES = new Set(['state', 'cache']);

export interface Candidate {
  kind: ItemKind;
  path: string;
  /** The root-relative file the item is (or would be) read from. */
  file: string;
  /** Variables: whether it is a secret (when known). */
  isSecret?: boolean;
  /** Resources: its resource type (when known). */
  resourceType?: string;
}

export type SyncFilter = (c: Candidate) => boolean;

export function syncFilter(cfg: Pick<WorkspaceConfig, 'includes' | 'excludes' | 'extraIncludes'>, o: SyncOptions): SyncFilter {
  const matches = makeFilter(cfg);
  return (c) => {
    if (!kindIncluded(c.kind, o)) return false;
    if (c.kind === 'variable' && c.isSecret && o.skipSecrets) return false;
    if (c.kind === 'resource' && c.resourceType !== undefined && RUNTIME_RESOURCE_TYPES.has(c.resourceType)) return false;
    if (c.kind === 'resource-type') return true;
    return matches(c.file);
  };
}

/** The file a pull writes for a remote item (the item's primary file: content, flow.yaml, or its YAML). */
export function fileFor(kind: ItemKind, path: string, cfg: Pick<WorkspaceConfig, 'defaultTs' | 'nonDottedPaths'>, language?: string): string {
  if (isTriggerItem(kind)) return `${path}.${kind}.yaml`;
  switch (kind) {
    case 'script': {
      const ext = language ? extensionFor(language as Language, cfg.defaultTs) : undefined;
      return ext ? `${path}${ext}` : `${path}.script.yaml`;
    }
    case 'flow': return `${path}${cfg.nonDottedPaths ? '__flow' : '.flow'}/flow.yaml`;
    case 'app':
    case 'raw_app': return `${path}${appSuffix(kind, cfg.nonDottedPaths)}/${appYamlName(kind)}`;
    case 'resource': return `${path}.resource.yaml`;
    case 'variable': return `${path}.variable.yaml`;
    case 'schedule': return `${path}.schedule.yaml`;
    case 'folder': return `f/${path}/folder.meta.yaml`;
    case 'resource-type': return `${path}.resource-type.yaml`;
  }
}
