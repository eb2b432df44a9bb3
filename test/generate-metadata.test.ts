import { describe, expect, it, afterEach } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { parse } from 'yaml';
import { BIN, makeWorkspace, removeDir, wmill } from './helpers/workspace.js';

const dirs: string[] = [];
const ws = (files: Record<string, string>, yaml?: string) => {
  const d = makeWorkspace(files, yaml);
  dirs.push(d);
  return d;
};
afterEach(() => {
  while (dirs.length) removeDir(dirs.pop()!);
});

const lockOf = (dir: string) => parse(readFileSync(join(dir, 'wmill-lock.yaml'), 'utf8')).locks as Record<string, string>;

const LIB = {
  'f/lib/helper.ts': 'export function helper(x: number) { return x * 2; }\nexport async function main(x: number) { return helper(x); }\n',
  'f/other/user.ts': 'import { helper } from "../lib/helper.ts";\nexport async function main(n: number) { return helper(n); }\n',
  'f/other/plain.ts': 'export async function main(s: string) { return s; }\n',
  'f/lib/util.py': 'def util(x):\n    return x\n\ndef main(x: int):\n    return x\n',
  'f/other/uses_util.py': 'from f.lib.util import util\n\ndef main(y: int = 1):\n    return util(y)\n',
};

describe('generate-metadata', () => {
  it('creates metadata and hashes, then a second run changes nothing', () => {
    const d = ws(LIB);
    const r = wmill(d, ['generate-metadata', '--yes', '--schema-only']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Found 5 item\(s\) with stale metadata/);
    const meta = parse(readFileSync(join(d, 'f/other/user.script.yaml'), 'utf8'));
    expect(meta.schema.properties.n.type).toBe('number');
    expect(meta.schema.required).toEqual(['n']);
    expect(Object.keys(lockOf(d)).sort()).toEqual(['f/lib/helper', 'f/lib/util', 'f/other/plain', 'f/other/user', 'f/other/uses_util']);
    const again = wmill(d, ['generate-metadata', '--yes', '--schema-only']);
    expect(again.stdout).toMatch(/All metadata up-to-date/);
  });

  it('marks importers of a changed script stale, with reasons, in TypeScript and Python', () => {
    const d = ws(LIB);
    expect(wmill(d, ['generate-metadata', '--yes', '--schema-only']).code).toBe(0);
    appendFileSync(join(d, 'f/lib/helper.ts'), '// changed\n');
    appendFileSync(join(d, 'f/lib/util.py'), '# changed\n');
    const r = wmill(d, ['generate-metadata', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('~ f/lib/helper.ts — content changed');
    expect(r.stdout).toContain('~ f/other/user.ts — depends on f/lib/helper');
    expect(r.stdout).toContain('~ f/lib/util.py — content changed');
    expect(r.stdout).toContain('~ f/other/uses_util.py — depends on f/lib/util');
    expect(r.stdout).not.toContain('plain.ts');
    const json = JSON.parse(wmill(d, ['generate-metadata', '--dry-run', '--json']).stdout);
    expect(json.stale.map((s: any) => s.path).sort()).toEqual(['f/lib/helper', 'f/lib/util', 'f/other/user', 'f/other/uses_util']);
  });

  it('--check exits 3 when stale and writes nothing; 0 when clean', () => {
    const d = ws(LIB);
    const r = wmill(d, ['generate-metadata', '--check']);
    expect(r.code).toBe(3);
    expect(existsSync(join(d, 'f/lib/helper.script.yaml'))).toBe(false);
    expect(existsSync(join(d, 'wmill-lock.yaml'))).toBe(false);
    wmill(d, ['generate-metadata', '--yes']);
    expect(wmill(d, ['generate-metadata', '--check']).code).toBe(0);
  });

  it('scopes to a folder, including importers outside it unless --strict-folder-boundaries', () => {
    const d = ws(LIB);
    wmill(d, ['generate-metadata', '--yes']);
    appendFileSync(join(d, 'f/lib/helper.ts'), '// changed\n');
    appendFileSync(join(d, 'f/other/plain.ts'), '// changed too\n');
    const scoped = JSON.parse(wmill(d, ['generate-metadata', 'f/lib', '--dry-run', '--json']).stdout);
    expect(scoped.stale.map((s: any) => s.path).sort()).toEqual(['f/lib/helper', 'f/other/user']);
    const strict = wmill(d, ['generate-metadata', 'f/lib', '--yes', '--strict-folder-boundaries']);
    expect(strict.code).toBe(0);
    expect(strict.stderr).toContain('Warning: f/other/user.ts depends on something inside "f/lib" but is outside it');
    const after = JSON.parse(wmill(d, ['generate-metadata', '--dry-run', '--json']).stdout);
    // the promise the reference makes: the skipped importer is no longer detected; plain.ts still is
    expect(after.stale.map((s: any) => s.path)).toEqual(['f/other/plain']);
  });

  it('merges hand edits: UI keys survive, vanished arguments go, other keys stay', () => {
    const d = ws({
      'f/a/x.py': 'def main(name: str, n: int = 2):\n    return name\n',
      'f/a/x.script.yaml':
        "summary: Mine\ndescription: ''\nlock: ''\nkind: script\ntag: gpu\nschema:\n  $schema: https://json-schema.org/draft/2020-12/schema\n  type: object\n  properties:\n    name:\n      type: string\n      description: Who\n      title: Name\n    old:\n      type: string\n      description: gone\n  required: [name, old]\n",
    });
    expect(wmill(d, ['generate-metadata', '--yes']).code).toBe(0);
    const m = parse(readFileSync(join(d, 'f/a/x.script.yaml'), 'utf8'));
    expect(m.summary).toBe('Mine');
    expect(m.tag).toBe('gpu');
    expect(m.schema.properties.name).toMatchObject({ type: 'string', description: 'Who', title: 'Name' });
    expect(m.schema.properties.old).toBeUndefined();
    expect(m.schema.properties.n).toMatchObject({ type: 'integer', default: 2 });
    expect(m.schema.required).toEqual(['name']);
  });

  it('a syntax error gives file:line, the other scripts are still processed, exit 1', () => {
    const d = ws({
      'f/a/bad.py': 'def main(x: int:\n    return x\n',
      'f/a/bad_ts.ts': 'export async function main(x: number {\n  return x;\n}\n',
      'f/a/good.py': 'def main(x: int):\n    return x\n',
    });
    const r = wmill(d, ['generate-metadata', '--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^f\/a\/bad\.py:1: .+$/m);
    expect(r.stderr).toMatch(/^f\/a\/bad_ts\.ts:1: .+$/m);
    expect(existsSync(join(d, 'f/a/good.script.yaml'))).toBe(true);
    expect(existsSync(join(d, 'f/a/bad.script.yaml'))).toBe(false);
    expect(Object.keys(lockOf(d))).toEqual(['f/a/good']);
  });

  it('a malformed wmill.yaml exits 2 naming the field', () => {
    const d = ws({ 'f/a/x.sh': 'x="$1"\n' }, 'defaultTs: python\nincludes:\n  - f/**\n');
    const r = wmill(d, ['generate-metadata', '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('defaultTs');
    const d2 = ws({}, 'includes: f/**\n');
    const r2 = wmill(d2, ['generate-metadata', '--json']);
    expect(r2.code).toBe(2);
    expect(JSON.parse(r2.stdout).error.field).toBe('includes');
  });

  it('writes bash and SQL metadata with an empty lock and no lock file', () => {
    const d = ws({ 'f/a/x.sh': 'name="$1"\necho $name\n', 'f/a/q.pg.sql': '-- $1 id\nSELECT $1::int;\n' });
    expect(wmill(d, ['generate-metadata', '--yes']).code).toBe(0);
    expect(parse(readFileSync(join(d, 'f/a/x.script.yaml'), 'utf8')).lock).toBe('');
    expect(existsSync(join(d, 'f/a/x.script.lock'))).toBe(false);
    expect(existsSync(join(d, 'f/a/q.script.lock'))).toBe(false);
    const q = parse(readFileSync(join(d, 'f/a/q.script.yaml'), 'utf8'));
    expect(Object.keys(q.schema.properties).sort()).toEqual(['database', 'id']);
    expect(q.schema.required).toEqual(['database', 'id']);
  });

  it('detects a changed flow inline script and records flow hashes', () => {
    const d = ws({
      'f/a/etl__flow/flow.yaml': "summary: x\nvalue:\n  modules: []\n",
      'f/a/etl__flow/step.py': 'def main():\n    return 1\n',
    });
    expect(wmill(d, ['generate-metadata', '--yes']).code).toBe(0);
    expect(lockOf(d)['f/a/etl__flow+__flow_hash']).toMatch(/^[0-9a-f]{64}$/);
    expect(wmill(d, ['generate-metadata', '--check']).code).toBe(0);
    appendFileSync(join(d, 'f/a/etl__flow/step.py'), '# edit\n');
    const r = wmill(d, ['generate-metadata', '--dry-run']);
    expect(r.stdout).toContain('Flows (1):');
    expect(r.stdout).toContain('~ f/a/etl__flow — content changed');
  });

  it('rehash records hashes from disk without touching metadata', () => {
    const d = ws({ 'f/a/x.sh': 'name="$1"\n' });
    wmill(d, ['generate-metadata', '--yes']);
    writeFileSync(join(d, 'f/a/x.sh'), 'name="$1"\necho hi\n');
    const meta = readFileSync(join(d, 'f/a/x.script.yaml'), 'utf8');
    const r = wmill(d, ['generate-metadata', 'rehash']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Rehashed 1 script(s)');
    expect(readFileSync(join(d, 'f/a/x.script.yaml'), 'utf8')).toBe(meta);
    expect(wmill(d, ['generate-metadata', '--check']).code).toBe(0);
  });

  it('an interrupted run leaves no half-written file and the next run finishes the job', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 1500; i++) files[`f/g${i % 10}/s${i}.sh`] = `a="$1"\nb="\${2:-${i}}"\n`;
    const d = ws(files);
    // --verbose: a line per item off a terminal (otherwise only the summary), to interrupt it mid-way.
    const child = spawn(process.execPath, [BIN, 'generate-metadata', '--yes', '--verbose'], { cwd: d, env: { ...process.env, NO_COLOR: '1' } });
    let stderr = '';
    let sent = false;
    child.stdout.resume();
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', (b) => {
        stderr += b;
        if (!sent && /\[2\d\d\/1500\]/.test(stderr)) {
          sent = true;
          child.kill('SIGINT');
        }
      });
      child.on('exit', (c) => resolve(c));
    });
    expect(code).toBe(130);
    const all: string[] = [];
    const walk = (rel: string) => {
      for (const e of readdirSync(join(d, rel), { withFileTypes: true })) {
        const r = rel ? `${rel}/${e.name}` : e.name;
        e.isDirectory() ? walk(r) : all.push(r);
      }
    };
    walk('');
    expect(all.filter((f) => f.includes('.tmp-'))).toEqual([]);
    const metas = all.filter((f) => f.endsWith('.script.yaml'));
    expect(metas.length).toBeGreaterThan(0);
    expect(metas.length).toBeLessThan(1500);
    for (const m of metas) expect(parse(readFileSync(join(d, m), 'utf8')).schema.properties.a.type).toBe('string');
    const recorded = Object.keys(lockOf(d));
    expect(recorded.length).toBe(metas.length);
    const left = JSON.parse(wmill(d, ['generate-metadata', '--dry-run', '--json']).stdout).stale.length;
    expect(left).toBe(1500 - metas.length);
    expect(wmill(d, ['generate-metadata', '--yes']).code).toBe(0);
    expect(wmill(d, ['generate-metadata', '--check']).code).toBe(0);
  });
});
