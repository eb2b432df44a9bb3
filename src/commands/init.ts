import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../util/fs.js';
import { out, printJson } from '../util/output.js';
import { renderLockFile } from '../metadata/lockfile.js';

export const DEFAULT_WMILL_YAML = `# wmill workspace configuration (compatible with windmill-cli's wmill.yaml)
defaultTs: bun
includes:
  - f/**
excludes: []
skipSecrets: true
nonDottedPaths: true
`;

/** Make `dir` a workspace. Idempotent: an existing wmill.yaml is kept as it is (a missing lock file is still created). */
export function initWorkspace(dir: string): string[] {
  const created: string[] = [];
  const yamlPath = join(dir, 'wmill.yaml');
  if (!existsSync(yamlPath)) {
    writeFileAtomic(yamlPath, DEFAULT_WMILL_YAML);
    created.push('wmill.yaml');
  }
  const lockPath = join(dir, 'wmill-lock.yaml');
  if (!existsSync(lockPath)) {
    writeFileAtomic(lockPath, renderLockFile(new Map()));
    created.push('wmill-lock.yaml');
  }
  return created;
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('Make the current folder a workspace: wmill.yaml and wmill-lock.yaml')
    .option('--json', 'print the result as JSON')
    .action((opts: { json?: boolean }) => {
      const created = initWorkspace(resolve(process.cwd()));
      if (opts.json) printJson({ ok: true, created });
      else if (!created.length) out('wmill.yaml already exists: this folder is already a workspace; nothing changed');
      else for (const f of created) out(`Created ${f}`);
    });
}
