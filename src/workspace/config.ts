import { join, resolve } from 'node:path';
import { z } from 'zod';
import { configFrom, findSyncRoot } from './config-fast.js';
import { WmillError } from '../errors.js';
import { readText } from '../util/fs.js';
import { parseYamlStrict } from '../util/yaml.js';

const globList = z.array(z.string());

/** `wmill.yaml`, validated at the boundary. Unknown keys are kept (newer reference versions add keys). */
export const WmillYamlSchema = z
  .object({
    defaultTs: z.enum(['bun', 'deno']).optional(),
    includes: globList.optional(),
    excludes: globList.optional(),
    extraIncludes: globList.optional(),
    skipVariables: z.boolean().optional(),
    skipResources: z.boolean().optional(),
    skipResourceTypes: z.boolean().optional(),
    skipScripts: z.boolean().optional(),
    skipFlows: z.boolean().optional(),
    skipApps: z.boolean().optional(),
    skipFolders: z.boolean().optional(),
    skipWorkspaceDependencies: z.boolean().optional(),
    skipSecrets: z.boolean().optional(),
    includeSchedules: z.boolean().optional(),
    includeTriggers: z.boolean().optional(),
    includeUsers: z.boolean().optional(),
    includeGroups: z.boolean().optional(),
    includeSettings: z.boolean().optional(),
    includeKey: z.boolean().optional(),
    parallel: z.number().int().positive().optional(),
    locksRequired: z.boolean().optional(),
    lint: z.boolean().optional(),
    dedupeLockfiles: z.boolean().optional(),
    plainSecrets: z.boolean().optional(),
    nonDottedPaths: z.boolean().optional(),
    message: z.string().optional(),
    syncBehavior: z.string().optional(),
    codebases: z.array(z.record(z.string(), z.unknown())).optional(),
    workspaces: z.record(z.string(), z.unknown()).optional(),
    overrides: z.record(z.string(), z.unknown()).optional(),
    // Local lock resolution (not read by the reference CLI, which ignores unknown keys).
    python: z
      .object({
        indexUrl: z.string().optional(),
        extraIndexUrls: z.array(z.string()).optional(),
        findLinks: z.array(z.string()).optional(),
        noIndex: z.boolean().optional(),
      })
      .loose()
      .optional(),
    npm: z.object({ registry: z.string().optional() }).loose().optional(),
  })
  .loose();

export type WmillYaml = z.infer<typeof WmillYamlSchema>;

export interface WorkspaceConfig {
  /** Absolute path of the sync root (the folder holding wmill.yaml, or the start folder when none). */
  root: string;
  /** Absolute path of wmill.yaml, or null when the folder has none (defaults apply). */
  file: string | null;
  defaultTs: 'bun' | 'deno';
  includes: string[];
  excludes: string[];
  extraIncludes: string[];
  nonDottedPaths: boolean;
  raw: WmillYaml;
}

// Shared with the zod-free start-up path (config-fast.ts, used by `script preview`).
export { findSyncRoot };

function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.length ? issue.path.map(String).join('.') : '(top level)';
  return `${field}: ${issue.message}`;
}

/** Parse and validate a wmill.yaml text. Throws a usage error (exit 2) naming the field. */
export function parseWmillYaml(text: string, file: string): WmillYaml {
  const parsed = parseYamlStrict(text);
  if ('error' in parsed) {
    throw new WmillError('usage', `${file}${parsed.line ? `:${parsed.line}` : ''}: invalid YAML: ${parsed.error}`);
  }
  const value = parsed.value ?? {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new WmillError('usage', `${file}: must be a mapping of options (found ${Array.isArray(value) ? 'a list' : typeof value})`);
  }
  const res = WmillYamlSchema.safeParse(value);
  if (!res.success) {
    const first = res.error.issues[0]!;
    throw new WmillError('usage', `${file}: field ${describeIssue(first)}; fix or remove it`, {
      field: first.path.map(String).join('.'),
    });
  }
  const overrides = res.data.overrides;
  if (overrides && Object.keys(overrides).length > 0) {
    throw new WmillError('usage', `${file}: field overrides: top-level overrides are not supported; move them under workspaces.<name>.overrides`, {
      field: 'overrides',
    });
  }
  return res.data;
}

export function loadConfig(start: string): WorkspaceConfig {
  const root = findSyncRoot(start);
  const dir = root ?? resolve(start);
  const file = root ? join(root, 'wmill.yaml') : null;
  const raw = file ? parseWmillYaml(readText(file), file) : {};
  return configFrom(dir, file, raw);
}
