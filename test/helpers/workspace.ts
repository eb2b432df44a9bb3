import { mkdtempSync, mkdirSync, writeFileSync, cpSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Data the tests read (copied into the repository: see test/fixtures/README.md). */
export const FIXTURES = join(REPO, 'test/fixtures');
/** The public half of the schema-inference corpus, with its reference outputs and checker. */
export const CONFORMANCE = join(FIXTURES, 'conformance/schema');
export const BIN = join(REPO, 'bin/wmill.mjs');

/** A scratch workspace folder with wmill.yaml; files given as {relPath: content}. */
export function makeWorkspace(files: Record<string, string> = {}, wmillYaml = 'defaultTs: bun\nincludes:\n  - f/**\n'): string {
  const dir = mkdtempSync(join(tmpdir(), 'wmill-ws-'));
  writeFileSync(join(dir, 'wmill.yaml'), wmillYaml);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
  return dir;
}

export function copyExamples(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wmill-ex-'));
  cpSync(join(REPO, 'examples'), dir, { recursive: true });
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the built CLI in `cwd`. */
export function wmill(cwd: string, args: string[], opts: { input?: string; env?: Record<string, string> } = {}): RunResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    input: opts.input ?? '',
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
