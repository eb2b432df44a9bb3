import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { cpSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';
import { CONFORMANCE, REPO, makeWorkspace, removeDir, wmill } from './helpers/workspace.js';

// The public half of the schema-inference corpus, checked with the corpus's own checker.
describe('schema conformance corpus (public half)', () => {
  let ws: string;
  beforeAll(() => {
    ws = makeWorkspace({ 'wmill-lock.yaml': 'version: v2\nlocks: {}\n' });
    mkdirSync(join(ws, 'f/conf'), { recursive: true });
    for (const f of readdirSync(join(CONFORMANCE, 'cases'))) cpSync(join(CONFORMANCE, 'cases', f), join(ws, 'f/conf', f));
    const r = wmill(ws, ['generate-metadata', '--schema-only', '--yes']);
    expect(r.stderr).not.toMatch(/error:/);
    expect(r.code).toBe(0);
  });
  afterAll(() => removeDir(ws));

  const checker = (extra: string[]) =>
    spawnSync(process.execPath, [join(CONFORMANCE, 'compare-schemas.mjs'), join(ws, 'f/conf'), ...extra], { cwd: REPO, encoding: 'utf8' });

  it('every schema matches field by field', () => {
    const r = checker(['--json']);
    const report = JSON.parse(r.stdout);
    const failing = report.report.filter((c: any) => !c.ok);
    expect(failing, JSON.stringify(failing, null, 1)).toEqual([]);
    expect(r.status).toBe(0);
  });

  it('every metadata file is byte-identical (--text)', () => {
    const r = checker(['--text']);
    expect(r.stdout + r.stderr).toMatch(/\b\d+ passed, 0 failed/);
    expect(r.status).toBe(0);
  });

  it('recorded hashes equal the reference wmill-lock.yaml', () => {
    const expected = parse(readFileSync(join(CONFORMANCE, 'expected/_wmill-lock.yaml'), 'utf8')).locks;
    const ours = parse(readFileSync(join(ws, 'wmill-lock.yaml'), 'utf8')).locks;
    expect(ours).toEqual(expected);
  });

  it('a second run changes nothing', () => {
    const before = snapshot(ws);
    const r = wmill(ws, ['generate-metadata', '--schema-only', '--yes']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/All metadata up-to-date/);
    expect(snapshot(ws)).toEqual(before);
    const check = wmill(ws, ['generate-metadata', '--check']);
    expect(check.code).toBe(0);
  });
});

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const d of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) walk(r);
      else out[r] = readFileSync(join(dir, r), 'utf8');
    }
  };
  walk('');
  return out;
}
void writeFileSync;
