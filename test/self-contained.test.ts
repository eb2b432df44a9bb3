/**
 * The suite runs in a clone with nothing beside it: no test reads the team's shared folder (the
 * sibling folder of the repository). Data a test needs lives in test/fixtures/ (with a note on
 * where it came from, test/fixtures/README.md).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFORMANCE, FIXTURES, REPO } from './helpers/workspace.js';

// Spelled in pieces so this file does not flag itself.
const SHARED = 'sh' + 'ared';
/** A path out of the repository into the shared folder: `../` + it, `'..', ` + its name, `/work/` + it. */
const OUTSIDE = [
  new RegExp(String.raw`\.\.[\\/]+${SHARED}\b`),
  new RegExp(String.raw`['"\x60]\.\.['"\x60]\s*,\s*['"\x60]${SHARED}\b`),
  new RegExp(String.raw`/work/${SHARED}\b`),
];

/** Every file under `dir` (no node_modules, no dot folders). */
function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) files(p, out);
    else out.push(p);
  }
  return out;
}

function referencesShared(text: string): string | undefined {
  for (const line of text.split('\n')) if (OUTSIDE.some((re) => re.test(line))) return line.trim();
  return undefined;
}

describe('the test suite is self-contained', () => {
  it('recognises a reference to the shared folder (the check can fail)', () => {
    for (const bad of [
      `const c = resolve(repoRoot, '../${SHARED}/conformance/schema');`,
      `join(REPO, '..', '${SHARED}', 'spec')`,
      `readFileSync('/work/${SHARED}/spec/wmill-cli.md')`,
      `path.resolve(root, '..\\\\${SHARED}')`,
    ]) {
      expect(referencesShared(bad), bad).toBeDefined();
    }
    for (const ok of [`join(FIXTURES, 'conformance/schema')`, `'f/drafts/${SHARED}.sh'`, `// a ${SHARED} set of locks`]) {
      expect(referencesShared(ok), ok).toBeUndefined();
    }
  });

  it('no test, helper, fixture or test configuration points at the shared folder', () => {
    const scanned = [...files(join(REPO, 'test')), join(REPO, 'vitest.config.ts'), join(REPO, 'package.json'), join(REPO, '.ci/run')];
    expect(scanned.length).toBeGreaterThan(100);
    const offenders: string[] = [];
    for (const f of scanned) {
      const hit = referencesShared(readFileSync(f, 'utf8'));
      if (hit) offenders.push(`${relative(REPO, f)}: ${hit}`);
    }
    expect(offenders).toEqual([]);
  });

  it('the data the tests read is in the repository', () => {
    expect(relative(REPO, FIXTURES)).toBe('test/fixtures');
    expect(relative(REPO, CONFORMANCE).startsWith('test/fixtures/')).toBe(true);
    const cases = readdirSync(join(CONFORMANCE, 'cases'));
    const expected = new Set(readdirSync(join(CONFORMANCE, 'expected')));
    expect(cases.length).toBeGreaterThan(40);
    // Each case has its reference output (the upd_* metadata files are inputs, not cases).
    for (const c of cases.filter((f) => !/\.script\.(ya?ml|json)$/.test(f))) expect(expected, c).toContain(`${c.slice(0, c.indexOf('.'))}.json`);
    expect(statSync(join(CONFORMANCE, 'compare-schemas.mjs')).isFile()).toBe(true);
    expect(readFileSync(join(FIXTURES, 'README.md'), 'utf8')).toMatch(/conformance\/schema/);
  });
});
