/**
 * `wmill config`: the reference table of `wmill.yaml` keys (spec/wmill-cli.md §4), with which of
 * them this version reads; `--json` for tools. `wmill config migrate`: rewrite the deprecated
 * `gitBranches` / `environments` / `git_branches` section as `workspaces` (comments kept).
 */
import type { Command } from 'commander';
import { WmillError } from '../errors.js';
import { out, printJson } from '../util/output.js';

export interface ConfigKey {
  key: string;
  type: string;
  default: string;
  description: string;
  /** 'both': read by windmill-cli and by us; 'wmill': ours only; 'windmill-cli': accepted, not used by this version. */
  readBy: 'both' | 'wmill' | 'windmill-cli';
}

export const CONFIG_KEYS: ConfigKey[] = [
  { key: 'defaultTs', type: 'bun | deno', default: 'bun', description: 'runtime of .ts scripts', readBy: 'both' },
  { key: 'includes', type: 'glob[]', default: '["f/**"]', description: 'files that take part (globs on sync-root-relative paths)', readBy: 'both' },
  { key: 'excludes', type: 'glob[]', default: '[]', description: 'files left out (any match)', readBy: 'both' },
  { key: 'extraIncludes', type: 'glob[]', default: '[]', description: 'when set, a file must also match one of these', readBy: 'both' },
  { key: 'skipVariables', type: 'boolean', default: 'false', description: 'leave variables out of sync (secrets too)', readBy: 'both' },
  { key: 'skipSecrets', type: 'boolean', default: 'true', description: 'leave secret variables out of sync', readBy: 'both' },
  { key: 'skipResources', type: 'boolean', default: 'false', description: 'leave resources out of sync', readBy: 'both' },
  { key: 'skipResourceTypes', type: 'boolean', default: 'false', description: 'leave resource types out of sync', readBy: 'both' },
  { key: 'skipScripts', type: 'boolean', default: 'false', description: 'leave scripts out of sync', readBy: 'both' },
  { key: 'skipFlows', type: 'boolean', default: 'false', description: 'leave flows out of sync', readBy: 'both' },
  { key: 'skipApps', type: 'boolean', default: 'false', description: 'leave apps out of sync (apps are not synced by this version)', readBy: 'both' },
  { key: 'skipFolders', type: 'boolean', default: 'false', description: 'leave folders out of sync', readBy: 'both' },
  { key: 'skipWorkspaceDependencies', type: 'boolean', default: 'false', description: 'leave workspace dependencies out of sync (not synced by this version)', readBy: 'both' },
  { key: 'includeSchedules', type: 'boolean', default: 'false', description: 'sync schedules', readBy: 'both' },
  { key: 'includeTriggers', type: 'boolean', default: 'false', description: 'sync triggers', readBy: 'both' },
  { key: 'includeUsers', type: 'boolean', default: 'false', description: 'sync users (not synced by this version: warns)', readBy: 'windmill-cli' },
  { key: 'includeGroups', type: 'boolean', default: 'false', description: 'sync groups (not synced by this version: warns)', readBy: 'windmill-cli' },
  { key: 'includeSettings', type: 'boolean', default: 'false', description: 'sync workspace settings (not synced by this version: warns)', readBy: 'windmill-cli' },
  { key: 'includeKey', type: 'boolean', default: 'false', description: 'sync the workspace encryption key (not synced by this version: warns)', readBy: 'windmill-cli' },
  { key: 'plainSecrets', type: 'boolean', default: 'false', description: 'secret values in files are plaintext', readBy: 'both' },
  { key: 'parallel', type: 'integer', default: '8 (push), 4 (lock resolution)', description: 'changes applied at once by sync push', readBy: 'both' },
  { key: 'message', type: 'string', default: '', description: 'deployment message of sync push', readBy: 'both' },
  { key: 'lint', type: 'boolean', default: 'false', description: 'sync push refuses files it cannot read (as --lint)', readBy: 'both' },
  { key: 'locksRequired', type: 'boolean', default: 'false', description: 'sync push refuses scripts that need a lock and have none', readBy: 'both' },
  { key: 'autoMetadata', type: 'boolean', default: 'false', description: 'sync push regenerates stale metadata first (as --auto-metadata)', readBy: 'wmill' },
  { key: 'nonDottedPaths', type: 'boolean', default: 'false (init writes true)', description: 'flow folders named <name>__flow instead of <name>.flow', readBy: 'both' },
  { key: 'dedupeLockfiles', type: 'boolean', default: 'false', description: 'shared locks under locks/ (read as written by windmill-cli)', readBy: 'windmill-cli' },
  { key: 'syncBehavior', type: 'string', default: 'v1', description: 'the sync behaviour version windmill-cli checks', readBy: 'windmill-cli' },
  { key: 'codebases', type: 'object[]', default: '[]', description: 'esbuild bundling of bun scripts (windmill-cli)', readBy: 'windmill-cli' },
  { key: 'workspaces.<name>.baseUrl', type: 'url', default: '', description: 'the server of this workspace entry', readBy: 'both' },
  { key: 'workspaces.<name>.workspaceId', type: 'string', default: '<name>', description: 'the workspace id on that server', readBy: 'both' },
  { key: 'workspaces.<name>.gitBranch', type: 'string', default: '<name>', description: 'the git branch that selects this entry', readBy: 'both' },
  { key: 'workspaces.<name>.overrides', type: 'object', default: '{}', description: 'options (keys above) for this workspace', readBy: 'both' },
  { key: 'workspaces.<name>.promotionOverrides', type: 'object', default: '{}', description: 'options applied with --promotion <its branch>', readBy: 'both' },
  { key: 'workspaces.<name>.specificItems', type: 'object', default: '', description: 'workspace-specific files (windmill-cli)', readBy: 'windmill-cli' },
  { key: 'gitBranches', type: 'object', default: '', description: 'deprecated name of workspaces (warns; wmill config migrate)', readBy: 'both' },
  { key: 'python.indexUrl', type: 'url', default: 'pip default', description: 'package index for local Python lock resolution', readBy: 'wmill' },
  { key: 'python.extraIndexUrls', type: 'url[]', default: '[]', description: 'extra package indexes', readBy: 'wmill' },
  { key: 'python.findLinks', type: 'path[]', default: '[]', description: 'local wheel folders', readBy: 'wmill' },
  { key: 'python.noIndex', type: 'boolean', default: 'false', description: 'resolve from findLinks only', readBy: 'wmill' },
  { key: 'npm.registry', type: 'url', default: 'npm default', description: 'registry for local TypeScript lock resolution', readBy: 'wmill' },
];

export function registerConfig(program: Command): void {
  const config = program
    .command('config')
    .description('Show every wmill.yaml option: type, default, meaning, and whether this version reads it')
    .option('--json', 'print the table as JSON')
    .action((opts: { json?: boolean }) => {
      if (opts.json) return printJson({ ok: true, keys: CONFIG_KEYS });
      const width = (f: (k: ConfigKey) => string) => Math.max(...CONFIG_KEYS.map((k) => f(k).length)) + 2;
      const [wk, wt, wd] = [width((k) => k.key), width((k) => k.type), width((k) => k.default)];
      const row = (a: string, b: string, c: string, d: string) => `${a.padEnd(wk)}${b.padEnd(wt)}${c.padEnd(wd)}${d}`;
      out(row('key', 'type', 'default', 'meaning'));
      for (const k of CONFIG_KEYS) out(row(k.key, k.type, k.default, `${k.description}${k.readBy === 'windmill-cli' ? ' [windmill-cli only]' : k.readBy === 'wmill' ? ' [wmill only]' : ''}`));
    });
  config
    .command('migrate')
    .description('Rewrite the deprecated gitBranches / environments / git_branches section of wmill.yaml as workspaces (comments kept)')
    .action(async () => {
      const [{ findSyncRoot }, { readFileSync }, { join }, yamlModule, { writeFileAtomic }] = await Promise.all([
        import('../workspace/config-fast.js'),
        import('node:fs'),
        import('node:path'),
        import('yaml'),
        import('../util/fs.js'),
      ]);
      // A CommonJS package: bundled, its exports may be on `default`.
      const { parseDocument } = ((yamlModule as unknown as { default?: typeof yamlModule }).default ?? yamlModule);
      const root = findSyncRoot(process.cwd());
      if (!root) throw new WmillError('usage', "no wmill.yaml here or above; run 'wmill init' first");
      const file = join(root, 'wmill.yaml');
      const doc = parseDocument(readFileSync(file, 'utf8'));
      if (doc.errors.length) throw new WmillError('usage', `${file}: invalid YAML: ${doc.errors[0]!.message}`);
      const legacy = ['gitBranches', 'environments', 'git_branches'].find((k) => doc.has(k));
      if (!legacy) return out('wmill.yaml already uses workspaces; nothing changed');
      if (doc.has('workspaces')) throw new WmillError('usage', `${file}: has both workspaces and ${legacy}; merge ${legacy} into workspaces by hand, then remove it`);
      const map = doc.contents as import('yaml').YAMLMap;
      const pair = map.items.find((p) => String((p.key as { value?: unknown })?.value ?? p.key) === legacy)!;
      (pair.key as { value: string }).value = 'workspaces';
      writeFileAtomic(file, doc.toString());
      out(`Renamed ${legacy} to workspaces in ${file}`);
    });
}
