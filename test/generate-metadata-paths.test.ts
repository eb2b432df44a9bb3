/**
 * generate-metadata as a pre-commit hook calls it, and with the real windmill-cli's flags:
 * `--check <files...>` (any number of paths, each file standing for its item) looks only at
 * those items and their importers; --skip-scripts / --skip-flows; -i / -e; a flow in a `__flow`
 * folder is reported under its flow path; a folder without wmill.yaml warns.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeWorkspace, removeDir, wmill } from './helpers/workspace.js';

const dirs: string[] = [];
const ws = (files: Record<string, string>) => {
  const d = makeWorkspace(files, 'defaultTs: bun\nincludes:\n  - f/**\nnonDottedPaths: true\n');
  dirs.push(d);
  return d;
};
afterEach(() => {
  while (dirs.length) removeDir(dirs.pop()!);
});

const FILES: Record<string, string> = {
  'f/lib/helper.ts': 'export function helper(x: number) { return x * 2; }\nexport async function main(x: number) { return helper(x); }\n',
  'f/app/user.ts': 'import { helper } from "../lib/helper.ts";\nexport async function main(n: number) { return helper(n); }\n',
  'f/app/plain.ts': 'export async function main(s: string) { return s; }\n',
  'f/app/other.sh': 'echo "$1"\n',
  'f/app/etl__flow/flow.yaml': "summary: etl\ndescription: ''\nvalue:\n  modules:\n    - id: a\n      value:\n        type: rawscript\n        content: '!inline a.sh'\n        language: bash\n        input_transforms: {}\nschema:\n  type: object\n  properties: {}\n",
  'f/app/etl__flow/a.sh': 'echo a\n',
};

const staleFiles = (stdout: string) => [...stdout.matchAll(/^\s+~ (\S+) — (.*)$/gm)].map((m) => `${m[1]} (${m[2]})`).sort();

describe('generate-metadata --check <files...>', () => {
  it('looks only at the items of the given files and their importers; files that are no items are ignored', () => {
    const d = ws(FILES);
    expect(wmill(d, ['generate-metadata', '--yes', '--schema-only']).code).toBe(0);
    expect(wmill(d, ['generate-metadata', '--check']).code).toBe(0);
    appendFileSync(join(d, 'f/lib/helper.ts'), '// changed\n');
    appendFileSync(join(d, 'f/app/plain.ts'), '// changed\n');
    appendFileSync(join(d, 'f/app/etl__flow/a.sh'), '# changed\n');

    // A staged list that touches none of the stale items: nothing to report.
    const clean = wmill(d, ['generate-metadata', '--check', 'f/app/other.sh', 'f/app/other.script.yaml', 'wmill.yaml', 'README.md']);
    expect(clean.code, clean.stdout + clean.stderr).toBe(0);
    expect(clean.stdout).toContain('All metadata up-to-date');

    // Many files: the helper's metadata file stands for the helper (and brings its importer), the
    // flow's inline file for the flow; plain.ts is stale but not given, so not reported.
    const r = wmill(d, ['generate-metadata', '--check', 'f/lib/helper.script.yaml', 'f/app/etl__flow/a.sh', 'f/app/other.sh', 'wmill.yaml']);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(staleFiles(r.stdout)).toEqual(['f/app/etl__flow (content changed)', 'f/app/user.ts (depends on f/lib/helper)', 'f/lib/helper.ts (content changed)']);

    // --strict-folder-boundaries keeps to the given items (the importer is named as skipped).
    const strict = wmill(d, ['generate-metadata', '--check', '--strict-folder-boundaries', 'f/lib/helper.ts']);
    expect(strict.code).toBe(3);
    expect(staleFiles(strict.stdout)).toEqual(['f/lib/helper.ts (content changed)']);
    expect(strict.stderr).toMatch(/f\/app\/user\.ts depends on something inside "f\/lib\/helper"/);

    // JSON: the flow under its flow path (not the folder's), one key case.
    const j = JSON.parse(wmill(d, ['generate-metadata', '--check', '--json', 'f/app/etl__flow/flow.yaml']).stdout);
    expect(j.staleCount).toBe(1);
    expect(j.stale[0]).toMatchObject({ kind: 'flow', path: 'f/app/etl', file: 'f/app/etl__flow' });
    expect(JSON.stringify(j)).not.toMatch(/"[a-z]+_[a-z_]+":/);
  });

  it('--skip-scripts / --skip-flows leave those kinds; -i / -e replace the globs; --parallel is checked', () => {
    const d = ws(FILES);
    const kinds = (args: string[]) => {
      const r = wmill(d, ['generate-metadata', '--dry-run', '--json', ...args]);
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout).stale as { kind: string; file: string }[]).map((s) => s.file).sort();
    };
    expect(kinds([])).toEqual(['f/app/etl__flow', 'f/app/other.sh', 'f/app/plain.ts', 'f/app/user.ts', 'f/lib/helper.ts']);
    expect(kinds(['--skip-scripts'])).toEqual(['f/app/etl__flow']);
    expect(kinds(['--skip-flows', '--skip-apps'])).toEqual(['f/app/other.sh', 'f/app/plain.ts', 'f/app/user.ts', 'f/lib/helper.ts']);
    expect(kinds(['-i', 'f/lib/**'])).toEqual(['f/lib/helper.ts']);
    expect(kinds(['-e', 'f/app/**'])).toEqual(['f/lib/helper.ts']);
    const bad = wmill(d, ['generate-metadata', '--parallel', 'x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--parallel must be a positive integer');
    expect(wmill(d, ['generate-metadata', '--yes', '--schema-only', '--parallel', '2']).code).toBe(0);
  });

  it('a folder without wmill.yaml: a warning, not a silent "up to date"', () => {
    const d = mkdtempSync(join(tmpdir(), 'wmill-noyaml-'));
    dirs.push(d);
    writeFileSync(join(d, 'notes.txt'), 'x\n');
    const r = wmill(d, ['generate-metadata', '--check']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: no wmill\.yaml in .* the defaults apply .*run 'wmill init'/);
  });
});
