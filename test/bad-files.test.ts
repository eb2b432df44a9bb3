/**
 * Malformed YAML and JSON in every file the CLI reads (issue 14, item 8): alias bombs,
 * unresolved and self-referencing aliases, nesting deeper than 128 levels and plain syntax
 * errors give exit 2 and ONE line naming the file and the line, never a crash (exit 1 with
 * "Maximum call stack size exceeded" or "Converting circular structure to JSON"). The
 * boundary itself (src/util/data-file.ts) is checked directly too, against JSON.parse and the
 * yaml package on inputs they accept.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as yamlParse } from 'yaml';
import { BIN, makeWorkspace, removeDir } from './helpers/workspace.js';
import { jsonProblem, MAX_DEPTH, parseJsonText, parseYamlText } from '../src/util/data-file.js';

/** The built CLI, asynchronously (several run at once). */
function run(cwd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

/** Nobody listens on port 1: the local files are read (and refused) before the remote answers. */
const PUSH = ['sync', 'push', '--dry-run', '--base-url', 'http://127.0.0.1:1', '--token', 'x', '--workspace', 'admins'];

/** Bad YAML forms, each as a mapping document whose `value:` key holds the bad part at line 3. */
const BAD: Record<string, { text: string; line: number; message: RegExp }> = {
  'alias bomb': {
    text: ['description: x', 'a: &a ["x","x","x","x","x","x","x","x","x"]', 'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]', 'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]', 'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]', 'value: [*d,*d,*d,*d,*d,*d,*d,*d,*d]', ''].join('\n'),
    line: 6,
    message: /alias bomb/,
  },
  'unresolved alias': { text: 'description: x\nextra: 1\nvalue: *nowhere\n', line: 3, message: /alias \*nowhere has no anchor/ },
  'self-referencing alias': { text: 'description: x\nextra: 1\nvalue: &loop\n  inner: *loop\n', line: 4, message: /circular/ },
  'deep flow nesting': { text: `description: x\nextra: 1\nvalue: ${'['.repeat(5000)}${']'.repeat(5000)}\n`, line: 3, message: /nested more than 128 levels deep/ },
  'deep block nesting': {
    text: `description: x\nextra: 1\nvalue:\n${Array.from({ length: 200 }, (_, i) => `${'  '.repeat(i + 1)}k:`).join('\n')} 1\n`,
    line: 3 + MAX_DEPTH,
    message: /nested more than 128 levels deep/,
  },
  'syntax error': { text: 'description: x\nextra: 1\nvalue: [1, 2\nnext: 3\n', line: 4, message: /./ },
};

/** The error line printed for `file`: exactly one, naming the file and the line. */
function expectOneLine(r: { code: number | null; stdout: string; stderr: string }, file: string, line: number, message: RegExp): void {
  const text = r.stdout + r.stderr;
  expect(r.code, text).toBe(2);
  expect(text).not.toMatch(/Maximum call stack|Converting circular|Excessive alias count|    at /);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
  expect(errors, text).toHaveLength(1);
  expect(errors[0]).toContain(`${file}:${line}: `);
  expect(errors[0]).toMatch(message);
}

describe('bad YAML in every file the CLI reads: exit 2, one line, file and line', () => {
  const kinds: [string, string, string][] = [
    // [case, file written, wmill.yaml]
    ['resource', 'f/a/r.resource.yaml', ''],
    ['variable', 'f/a/v.variable.yaml', ''],
    ['schedule', 'f/a/s.schedule.yaml', 'includeSchedules: true\n'],
    ['script metadata', 'f/a/x.script.yaml', ''],
    ['flow', 'f/a/fl__flow/flow.yaml', ''],
    ['folder', 'f/a/folder.meta.yaml', ''],
  ];
  for (const [kind, file, extra] of kinds) {
    it(`sync push reading a ${kind} file`, async () => {
      const results = await Promise.all(
        Object.entries(BAD).map(async ([form, bad]) => {
          const files: Record<string, string> = { [file]: bad.text };
          if (kind === 'script metadata') files['f/a/x.ts'] = 'export async function main() { return 1 }\n';
          const dir = makeWorkspace(files, `defaultTs: bun\nincludes:\n  - f/**\n${extra}`);
          try {
            return { form, bad, r: await run(dir, PUSH) };
          } finally {
            removeDir(dir);
          }
        }),
      );
      for (const { form, bad, r } of results) {
        try {
          expectOneLine(r, file, bad.line, bad.message);
        } catch (e) {
          throw new Error(`${kind}, ${form}: ${(e as Error).message}`);
        }
      }
    }, 180_000);
  }

  it('wmill.yaml and wmill-lock.yaml (generate-metadata), .script.yaml (generate-metadata)', async () => {
    type Case = { form: string; bad: (typeof BAD)[string]; file: string; files: Record<string, string>; wmill: string | undefined };
    const cases: Case[] = Object.entries(BAD).flatMap(([form, bad]): Case[] => [
      { form, bad, file: 'wmill.yaml', files: { 'f/a/x.ts': 'export async function main() { return 1 }\n' }, wmill: bad.text },
      { form, bad, file: 'wmill-lock.yaml', files: { 'f/a/x.ts': 'export async function main() { return 1 }\n', 'wmill-lock.yaml': bad.text }, wmill: undefined },
      { form, bad, file: 'f/a/x.script.yaml', files: { 'f/a/x.sh': 'echo hi\n', 'f/a/x.script.yaml': bad.text }, wmill: undefined },
    ]);
    const results = await Promise.all(
      cases.map(async (c) => {
        const dir = makeWorkspace(c.files, c.wmill);
        try {
          return { ...c, r: await run(dir, ['generate-metadata', '--yes']) };
        } finally {
          removeDir(dir);
        }
      }),
    );
    for (const { form, bad, file, r } of results) {
      try {
        if (file === 'f/a/x.script.yaml') {
          // generate-metadata reports each item's failure and carries on: the one line is its own.
          expect(r.code, r.stderr).toBe(2);
          const lines = r.stderr.split('\n').filter((l) => l.includes(`${file}:`));
          expect(lines, r.stderr).toHaveLength(1);
          expect(lines[0]).toContain(`${file}:${bad.line}: `);
          expect(lines[0]).toMatch(bad.message);
        } else {
          expectOneLine(r, file, bad.line, bad.message);
        }
      } catch (e) {
        throw new Error(`${file}, ${form}: ${(e as Error).message}`);
      }
    }
  }, 180_000);

  it('flow preview of a flow.yaml; script preview with -d @args.json', async () => {
    const dir = makeWorkspace({ 'f/a/fl__flow/flow.yaml': BAD['self-referencing alias']!.text, 'f/a/add.ts': 'export async function main(x: unknown) { return 1 }\n' });
    try {
      expectOneLine(await run(dir, ['flow', 'preview', 'f/a/fl__flow']), 'f/a/fl__flow/flow.yaml', 4, /circular/);
      writeFileSync(join(dir, 'args.json'), `{"x":\n${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
      const r = await run(dir, ['script', 'preview', 'f/a/add.ts', '-d', '@args.json']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain('args.json:2');
      expect(r.stderr).toMatch(/nested more than 128 levels/);
    } finally {
      removeDir(dir);
    }
  }, 120_000);
});

describe('the parsing boundary (src/util/data-file.ts)', () => {
  it('gives the same values as the yaml package and JSON.parse on what they accept', () => {
    const yamlCases = [
      'a: 1\nb: [1, 2, {c: d}]\n',
      'x: &anchor {k: v}\ny: *anchor\nz: [*anchor, *anchor]\n',
      'lock: !inline f/a/x.script.lock\ncontent: !inline_fileset f/a\n',
      'text: |\n  two\n  lines\n',
      '',
      // A mapping holding 127 nested lists: exactly MAX_DEPTH levels.
      `deep: ${'['.repeat(MAX_DEPTH - 1)}${']'.repeat(MAX_DEPTH - 1)}\n`,
    ];
    const tags = ['!inline', '!inline_fileset'].map((tag) => ({ tag, resolve: (s: string) => `${tag} ${s}` }));
    for (const t of yamlCases) {
      const r = parseYamlText(t);
      expect('value' in r, `${JSON.stringify(t)}: ${JSON.stringify(r)}`).toBe(true);
      expect((r as { value: unknown }).value).toEqual(yamlParse(t, { customTags: tags }) ?? null);
    }
    const jsonCases = ['{}', '[]', '{"a": [1, 2.5e-3, "x\\u00e9\\n", true, false, null]}', ` {"k": {"n": -0}} `, '"s"', `${'['.repeat(MAX_DEPTH)}${']'.repeat(MAX_DEPTH)}`];
    for (const t of jsonCases) {
      expect(parseJsonText(t)).toEqual({ value: JSON.parse(t) });
      expect(jsonProblem(t)).toBeUndefined();
    }
  });

  it('locates JSON errors that JSON.parse reports without a position', () => {
    const cases: [string, number][] = [
      ['{\n  "a": 1,\n  "b": [1,, 2]\n}', 3],
      ['{\n  "a": 1,\n}', 3],
      ['{\n"a": tru\n}', 2],
      ['[1,\n2\n3]', 3],
      ['{"a": "line\nbreak"}', 1],
      ['{"a": 1}\n\n{}', 3],
      ['', 1],
      [`[\n${'['.repeat(MAX_DEPTH)}${']'.repeat(MAX_DEPTH)}]`, 2],
    ];
    for (const [text, line] of cases) {
      const r = parseJsonText(text);
      expect('error' in r, text).toBe(true);
      expect((r as { line?: number }).line, `${JSON.stringify(text)}: ${JSON.stringify(r)}`).toBe(line);
      expect((r as { error: string }).error.split('\n')).toHaveLength(1);
    }
  });

  it('refuses an alias that expands past its budget only when it really expands', () => {
    // 200 aliases of a small anchor: fine. The same anchor nested 5 levels: a bomb.
    const many = `base: &b {k: v, l: [1, 2, 3]}\nlist:\n${Array.from({ length: 200 }, () => '  - *b').join('\n')}\n`;
    expect('value' in parseYamlText(many)).toBe(true);
    const r = parseYamlText(BAD['alias bomb']!.text);
    expect(r).toMatchObject({ line: 6 });
  });
});
