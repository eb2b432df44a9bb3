import { describe, expect, it, afterEach } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { makeWorkspace, removeDir, wmill } from './helpers/workspace.js';

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) removeDir(dirs.pop()!);
});

describe('wmill init', () => {
  it('writes wmill.yaml and an empty v2 lock file; a second run is a no-op (exit 0, files unchanged)', () => {
    const d = mkdtempSync(join(tmpdir(), 'wmill-init-'));
    dirs.push(d);
    const r = wmill(d, ['init']);
    expect(r.code, r.stderr).toBe(0);
    expect(parse(readFileSync(join(d, 'wmill.yaml'), 'utf8'))).toMatchObject({ defaultTs: 'bun', includes: ['f/**'] });
    expect(readFileSync(join(d, 'wmill-lock.yaml'), 'utf8')).toBe('version: v2\nlocks: {}\n');
    writeFileSync(join(d, 'wmill.yaml'), 'defaultTs: deno\n');
    const again = wmill(d, ['init']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('already a workspace; nothing changed');
    expect(readFileSync(join(d, 'wmill.yaml'), 'utf8')).toBe('defaultTs: deno\n');
    const json = wmill(d, ['init', '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ ok: true, created: [] });
  });
});

describe('wmill script new', () => {
  it('creates a template and metadata that generate-metadata then fills in', () => {
    const d = makeWorkspace();
    dirs.push(d);
    const r = wmill(d, ['script', 'new', 'f/tools/hello', 'python', '--summary', 'Say hello']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(d, 'f/tools/hello.py'))).toBe(true);
    const meta = parse(readFileSync(join(d, 'f/tools/hello.script.yaml'), 'utf8'));
    expect(meta).toMatchObject({ summary: 'Say hello', description: '', lock: '', kind: 'script' });
    expect(meta.schema.properties).toEqual({});
    expect(wmill(d, ['generate-metadata', '--yes', '--schema-only']).code).toBe(0);
    const filled = parse(readFileSync(join(d, 'f/tools/hello.script.yaml'), 'utf8'));
    expect(filled.summary).toBe('Say hello');
    expect(Object.keys(filled.schema.properties).sort()).toEqual(['name', 'times']);
  });

  it('uses the reference extensions per language and never overwrites', () => {
    const d = makeWorkspace();
    dirs.push(d);
    const cases: [string, string][] = [
      ['bun', 'f/t/a.ts'],
      ['deno', 'f/t/b.deno.ts'],
      ['nativets', 'f/t/c.fetch.ts'],
      ['bash', 'f/t/d.sh'],
      ['postgresql', 'f/t/e.pg.sql'],
      ['mysql', 'f/t/f.my.sql'],
      ['go', 'f/t/g.go'],
    ];
    for (const [lang, file] of cases) {
      const path = file.slice(0, file.indexOf('.'));
      const r = wmill(d, ['script', 'bootstrap', path, lang, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).created).toEqual([file, `${path}.script.yaml`]);
    }
    const dup = wmill(d, ['script', 'new', 'f/t/a', 'bun']);
    expect(dup.code).toBe(2);
    expect(dup.stderr).toContain('already exists');
    const bad = wmill(d, ['script', 'new', 'f/t/z', 'cobol']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown language 'cobol'");
  });
});
