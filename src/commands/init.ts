import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { WmillError } from '../errors.js';
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

export function initWorkspace(dir: string): string[] {
  const created: string[] = [];
  const yamlPath = join(dir, 'wmill.yaml');
  if (existsSync(yamlPath)) throw new WmillError('usage', `${yamlPath} already exists; this folder is already a workspace`);
  writeFileAtomic(yamlPath, DEFAULT_WMILL_YAML);
  created.push('wmill.yaml');
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
      else for (const f of created) out(`Created ${f}`);
    });
}
