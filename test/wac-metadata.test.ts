/**
 * generate-metadata on workflow-as-code entry points writes what the real windmill-cli writes
 * (test/fixtures/wac-metadata, recorded from windmill-cli 1.819.0; see its README).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { makeWorkspace, removeDir, REPO, wmill } from './helpers/workspace.js';

const FIX = join(REPO, 'test/fixtures/wac-metadata');
const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

function generate(set: string): string {
  const ws = makeWorkspace({ 'wmill-lock.yaml': 'version: v2\nlocks: {}\n' });
  dirs.push(ws);
  cpSync(join(FIX, set), ws, { recursive: true });
  const r = wmill(ws, ['generate-metadata', '--schema-only', '--yes']);
  expect(r.code, r.stderr).toBe(0);
  return ws;
}

const metadataFiles = (set: string) => readdirSync(join(FIX, `${set}-expected/f/wac`)).filter((f) => f.endsWith('.script.yaml')).sort();

describe('workflow-as-code metadata, byte for byte as the real CLI writes it', () => {
  it('TypeScript entry points (nativets: complete files and the recorded hashes)', () => {
    const ws = generate('nativets');
    const files = metadataFiles('nativets');
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const f of files) {
      expect(readFileSync(join(ws, 'f/wac', f), 'utf8'), f).toBe(readFileSync(join(FIX, 'nativets-expected/f/wac', f), 'utf8'));
    }
    const ours = parse(readFileSync(join(ws, 'wmill-lock.yaml'), 'utf8')).locks;
    expect(ours).toEqual(parse(readFileSync(join(FIX, 'nativets-expected/wmill-lock.yaml'), 'utf8')).locks);
    // the guide's entry point has its arguments, a wmill.workflow(...) one has none
    const arrow = parse(readFileSync(join(ws, 'f/wac/const_arrow.script.yaml'), 'utf8'));
    expect(Object.keys(arrow.schema.properties)).toEqual(['n', 'x']);
    expect(arrow.schema.required).toEqual(['x']);
    expect(parse(readFileSync(join(ws, 'f/wac/member_call.script.yaml'), 'utf8')).schema.properties).toEqual({});
    // a second run changes nothing
    expect(wmill(ws, ['generate-metadata', '--check']).code).toBe(0);
  });

  it('bun and Python entry points (the schema part; the lock line is --schema-only bookkeeping)', () => {
    const ws = generate('bun-python');
    const files = metadataFiles('bun-python');
    expect(files.length).toBeGreaterThanOrEqual(8);
    // The real CLI's --schema-only writes `lock: '!inline <path>.script.lock'` placeholders, ours
    // `lock: ''` (as for the conformance corpus); everything else must be the same bytes.
    const noLock = (s: string) => s.replace(/^lock: .*\n/m, '');
    for (const f of files) {
      const ours = readFileSync(join(ws, 'f/wac', f), 'utf8');
      expect(ours).toMatch(/^lock: ''\n/m);
      expect(noLock(ours), f).toBe(noLock(readFileSync(join(FIX, 'bun-python-expected/f/wac', f), 'utf8')));
    }
    const fe = parse(readFileSync(join(ws, 'f/wac/function_expression.script.yaml'), 'utf8')).schema;
    expect(fe.properties).toMatchObject({ count: { type: 'number' }, label: { type: 'string' } });
    expect(fe.required).toEqual(['count']);
  });

  it('preview passes the arguments of a workflow entry point without a warning, and checks them', () => {
    const ws = makeWorkspace({
      'f/wac/greet.ts': 'import { workflow, step } from "windmill-client";\n\nexport const main = workflow(async (x: string, n: number = 3) => {\n  return await step("s", () => x.repeat(n));\n});\n',
    });
    dirs.push(ws);
    const ok = wmill(ws, ['script', 'preview', 'f/wac/greet.ts', '-d', '{"x":"ab","n":2}', '-s']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toBe('abab');
    expect(ok.stderr).not.toMatch(/not an argument/);
    const unknown = wmill(ws, ['script', 'preview', 'f/wac/greet.ts', '-d', '{"x":"a","typo":1}', '-s']);
    expect(unknown.stderr).toMatch(/'typo' is not an argument of f\/wac\/greet\.ts \(arguments: x, n\)/);
    const missing = wmill(ws, ['script', 'preview', 'f/wac/greet.ts', '-d', '{"n":1}']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/\bx\b/);
  });
});
