/**
 * The zod- and yaml-free start-up readers (`script preview`) against the real thing:
 * src/util/simple-yaml.ts against `yaml` (same value, no errors, whenever it accepts a text),
 * config-fast.ts `checkWmillYaml` against `WmillYamlSchema`, and the quick wmill.yaml /
 * wmill-lock.yaml paths against loadConfig / readLockFile.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parseDocument } from 'yaml';
import { parseSimpleYaml } from '../src/util/simple-yaml.js';
import { toYaml } from '../src/util/yaml.js';
import { checkWmillYaml, loadConfigFast, WMILL_YAML_SHAPE } from '../src/workspace/config-fast.js';
import { loadConfig, WmillYamlSchema } from '../src/workspace/config.js';
import { WmillError } from '../src/errors.js';
import { scriptHash } from '../src/metadata/hash.js';
import { scriptSchema } from '../src/metadata/script-schema.js';
import { REPO, makeWorkspace, removeDir } from './helpers/workspace.js';

const INLINE_TAGS = ['!inline', '!inline_fileset'].map((tag) => ({ tag, resolve: (s: string) => `${tag} ${s}` }));

/** Accepted texts must parse to the same value as yaml@2, without errors. */
function agrees(text: string): 'bail' | 'ok' | string {
  const quick = parseSimpleYaml(text);
  if (!quick) return 'bail';
  const doc = parseDocument(text, { customTags: INLINE_TAGS, prettyErrors: false });
  if (doc.errors.length) return `accepted a text yaml rejects: ${JSON.stringify(text)}`;
  const full = doc.toJS();
  if (!isDeepStrictEqual(quick.value, full)) return `differs on ${JSON.stringify(text)}: ${JSON.stringify(quick.value)} vs ${JSON.stringify(full)}`;
  return 'ok';
}

function rng(seed: number) {
  let s = seed;
  const next = () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
  return { next, pick: <T>(a: readonly T[]): T => a[Math.floor(next() * a.length)]! };
}

const WORDS = [
  'a', 'key', 'x y', '1', '0x1f', '0o17', 'true', 'False', 'null', 'NULL', '~', '', ' ', "it's", 'a: b', 'a #b', '#c', '-', '- x',
  '-1', '+1', '.5', '1e3', '1.', '.inf', '-.inf', '.nan', 'yes', '007', '-0', '12345678901234567890', 'https://x.y/z?q=1#f',
  '$schema', 'f/**', '!inline x', '&a', '*a', '[1]', '{}', '[]', 'a,b', 'é', '"q"', "'s'", 'a\nb', 'a  ', ' a', 'foo: bar',
  'x'.repeat(90), 'word '.repeat(25), '@x', '%x', '`x', '?x', ':x', 'a:b', 'a:', '|', '>', '\\', 'a\\b', 'tab\there',
] as const;

function randomValue(r: ReturnType<typeof rng>, depth: number): unknown {
  const x = r.next();
  if (depth > 3 || x < 0.45) {
    const y = r.next();
    if (y < 0.6) return r.pick(WORDS);
    if (y < 0.75) return Math.floor(r.next() * 1000) - 500;
    if (y < 0.8) return r.next() * 100;
    if (y < 0.9) return r.next() < 0.5;
    return null;
  }
  if (x < 0.7) {
    const o: Record<string, unknown> = {};
    for (let i = Math.floor(r.next() * 4); i > 0; i--) o[r.pick(WORDS)] = randomValue(r, depth + 1);
    return o;
  }
  return Array.from({ length: Math.floor(r.next() * 4) }, () => randomValue(r, depth + 1));
}

function mutate(r: ReturnType<typeof rng>, text: string): string {
  const lines = text.split('\n');
  for (let n = 1 + Math.floor(r.next() * 3); n > 0; n--) {
    const i = Math.floor(r.next() * lines.length);
    const op = r.next();
    if (op < 0.2) lines[i] = ` ${lines[i]}`;
    else if (op < 0.35) lines[i] = lines[i]!.replace(/^ /, '');
    else if (op < 0.5) lines.splice(i, 0, lines[Math.floor(r.next() * lines.length)]!);
    else if (op < 0.6) lines.splice(i, 1);
    else if (op < 0.7) lines[i] = `${lines[i]} ${r.pick(['#c', 'x', ':', '- y', "'", '"'])}`;
    else if (op < 0.8) {
      const l = lines[i]!;
      const p = Math.floor(r.next() * (l.length + 1));
      lines[i] = l.slice(0, p) + r.pick([':', ' ', '-', "'", '"', '#', '[', '{', '- ', ': ', 'a']) + l.slice(p);
    } else if (op < 0.9) lines[i] = lines[i]!.replace(/^(\s*)- /, '$1');
    else lines.splice(i, 0, r.pick(['- a', 'k: v', '  - b', '# c', '', '  k2:', '-', 'key:', "'q': 1", '- k: v', '  x: 1']));
  }
  return lines.join('\n');
}

function yamlFiles(dir: string, out: string[] = []): string[] {
  for (const f of readdirSync(dir)) {
    if (f === 'node_modules' || f.startsWith('.')) continue;
    const p = join(dir, f);
    if (statSync(p).isDirectory()) yamlFiles(p, out);
    else if (/\.ya?ml$/.test(f)) out.push(p);
  }
  return out;
}

describe('simple YAML reader', () => {
  it('reads what wmill writes, as yaml does', () => {
    const text = [
      "summary: ''",
      'description: "a \'quoted\' one"',
      "lock: '!inline f/x/y.script.lock'",
      'kind: script',
      'schema:',
      '  $schema: https://json-schema.org/draft/2020-12/schema',
      '  type: object',
      '  properties:',
      '    n:',
      '      type: integer',
      '      default: -3',
      '    tags:',
      '      type: array',
      '      items:',
      '        type: string',
      '      default: []',
      '  required:',
      '    - n',
      'list:',
      '- a: 1',
      '  b: 2.5e3',
      '- ~',
      'empty: {}',
      'n: null # a comment',
      '',
    ].join('\n');
    expect(agrees(text)).toBe('ok');
    expect(parseSimpleYaml(text)?.value).toMatchObject({ list: [{ a: 1, b: 2500 }, null], schema: { properties: { n: { default: -3 } } } });
  });

  it('leaves everything outside its subset to the full parser', () => {
    for (const t of ['', '# only a comment\n', 'just a scalar\n', 'a: |\n  block\n', 'a: >\n  folded\n', 'a: [1, [2]]\n', 'a: {b: 1}\n', 'a: [1,]\n', 'a: &x 1\nb: *x\n',
      'a: !inline f.txt\n', 'a: 1\na: 2\n', '---\na: 1\n', 'a: "esc\\n"\n', "a: 'multi\n  line'\n", 'a: long\n  continued\n', 'a:\tb\n', 'a: b\r\n',
      '__proto__: 1\n', '- - x\n', '? complex\n: key\n', '1: numeric key\n', 'a:\n  - x\n  b: y\n']) {
      expect(parseSimpleYaml(t), JSON.stringify(t)).toBeUndefined();
    }
  });

  it('agrees with yaml on every .yaml file of the repository and the spec, and on mutations of them', () => {
    const r = rng(7);
    // test/ includes the fixtures: the conformance corpus and the reference CLI's generated files.
    const files = [...yamlFiles(join(REPO, 'examples')), ...yamlFiles(join(REPO, 'test'))];
    let accepted = 0;
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      const res = agrees(text);
      if (res === 'ok') accepted++;
      else expect(res, f).toBe('bail');
      for (let i = 0; i < 10; i++) expect(['ok', 'bail'], f).toContain(agrees(mutate(r, text)));
    }
    // The point of the reader: files as written are taken on the fast path.
    expect(accepted / files.length).toBeGreaterThan(0.9);
  });

  it('agrees with yaml on generated documents (toYaml output, indentless sequences, comments, mutations)', () => {
    const r = rng(42);
    const counts = { ok: 0, bail: 0 };
    for (let i = 0; i < 3000; i++) {
      const v = r.next() < 0.8 ? Object.fromEntries(Array.from({ length: 1 + Math.floor(r.next() * 5) }, () => [r.pick(WORDS), randomValue(r, 0)])) : randomValue(r, 0);
      const t = toYaml(v);
      for (const text of [t, mutate(r, t), t.replace(/^(\s*) {2}- /gm, '$1- '), t.replace(/\n/g, ' # c\n')]) {
        const res = agrees(text);
        if (res !== 'ok' && res !== 'bail') expect.fail(res);
        counts[res]++;
      }
    }
    expect(counts.ok).toBeGreaterThan(3000);
  });

  it('agrees with yaml on one-line flow sequences', () => {
    const r = rng(11);
    const items = [...WORDS.filter((w) => !w.includes('\n')), "'q'", '"dq"', "'a, b'", "'x]'", '[]', '[a]', '{a: 1}', 'a: b', ''];
    const seps = [',', ', ', ' ,', ' , ', ',,', ' '];
    let ok = 0;
    for (let i = 0; i < 4000; i++) {
      const n = Math.floor(r.next() * 4);
      let body = '';
      for (let k = 0; k < n; k++) body += (k ? r.pick(seps) : r.pick(['', ' '])) + r.pick(items);
      if (r.next() < 0.1) body += r.pick([',', ', ']);
      const line = `${r.pick(['k', 'includes'])}: [${body}${r.pick(['', ' '])}]${r.pick(['', ' # c', 'x', ' ]', ':'])}`;
      const text = r.next() < 0.5 ? `${line}\n` : `a:\n  - ${line.replace(/^[a-z]+: /, '')}\nb: 1\n`;
      const res = agrees(text);
      if (res !== 'ok' && res !== 'bail') expect.fail(res);
      if (res === 'ok') ok++;
    }
    expect(ok).toBeGreaterThan(500);
    expect(parseSimpleYaml('includes: ["f/**", u/**]  # both\n')?.value).toEqual({ includes: ['f/**', 'u/**'] });
  });
});

describe('wmill.yaml without zod', () => {
  it('checks the same fields as WmillYamlSchema, in its order', () => {
    const shape = WmillYamlSchema.shape as Record<string, any>;
    expect(WMILL_YAML_SHAPE.map(([k]) => k)).toEqual(Object.keys(shape));
    for (const nested of ['python', 'npm']) {
      const inner = WMILL_YAML_SHAPE.find(([k]) => k === nested)![1];
      const keys = Object.keys(shape[nested].unwrap().shape);
      // Every nested field is checked: a wrong type is refused (the check's failure is a symbol).
      for (const k of keys) expect(typeof inner({ [k]: Symbol('bad') }), `${nested}.${k}`).toBe('symbol');
    }
  });

  it('accepts exactly what zod accepts (or defers), with the same value and key order', () => {
    const r = rng(3);
    const samples: unknown[] = [
      { defaultTs: 'bun', includes: ['f/**'] },
      { defaultTs: 'node' },
      { includes: 'f/**' },
      { parallel: 0 },
      { parallel: 2 ** 60 },
      { parallel: 4 },
      { zzz: 1, python: { x: 1, indexUrl: 'u', noIndex: true }, npm: { registry: 'r', other: [1] }, codebases: [{ b: 1 }] },
      { python: { noIndex: 'yes' } },
      { workspaces: [] },
      { overrides: {} },
      { overrides: { a: 1 } },
      { message: null },
      [],
      'text',
    ];
    const values: Record<string, unknown[]> = {
      defaultTs: ['bun', 'deno', 'node', null],
      includes: [['f/**'], [], 'f/**', [1]],
      skipSecrets: [true, false, 'true'],
      parallel: [1, 8, 0, -1, 1.5, '2'],
      message: ['m', 1],
      codebases: [[{ a: 1 }], [1], {}],
      workspaces: [{ a: { b: 1 } }, [], null],
      python: [{ indexUrl: 'u' }, { findLinks: ['x'], other: 1 }, { extraIndexUrls: 'x' }, []],
      npm: [{ registry: 'r' }, { registry: 1 }],
      unknownKey: [1, 'x', { a: 1 }],
    };
    for (let i = 0; i < 500; i++) {
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(values).sort(() => r.next() - 0.5)) if (r.next() < 0.35) o[k] = r.pick(values[k]!);
      samples.push(o);
    }
    for (const v of samples) {
      const quick = checkWmillYaml(v);
      const z = WmillYamlSchema.safeParse(v);
      const zodOk = z.success && !(z.data.overrides && Object.keys(z.data.overrides).length > 0);
      expect(quick !== undefined, JSON.stringify(v)).toBe(zodOk);
      if (quick) expect(JSON.stringify(quick), JSON.stringify(v)).toBe(JSON.stringify(z.data));
    }
  });

  it('loadConfigFast gives loadConfig’s result, and defers when loadConfig would report an error', () => {
    const cases = [
      'defaultTs: bun\nincludes:\n  - f/**\n',
      'defaultTs: deno\nincludes:\n- f/**\n- u/**\nexcludes: []\nparallel: 3\npython:\n  indexUrl: https://pypi.example/simple\n',
      'defaultTs: nope\n',
      'parallel: -2\n',
      'overrides:\n  x: 1\n',
      'includes: f/**\n',
      'a: [1, 2\n',
      '',
    ];
    for (const text of cases) {
      const ws = makeWorkspace({}, text);
      try {
        const fast = loadConfigFast(join(ws, 'f'));
        let full: unknown;
        try {
          full = loadConfig(join(ws, 'f'));
        } catch (e) {
          expect(e).toBeInstanceOf(WmillError);
          expect(fast, text).toBeUndefined();
          continue;
        }
        // An empty file is the one valid case here outside the quick reader's subset.
        if (text === '') expect(fast).toBeUndefined();
        else expect(JSON.stringify(fast), text).toBe(JSON.stringify(full));
      } finally {
        removeDir(ws);
      }
    }
  });
});

describe('wmill-lock.yaml without zod (script schema from current metadata)', () => {
  const code = 'export async function main(a: number) {\n  return a;\n}\n';
  const meta = "summary: ''\ndescription: ''\nlock: ''\nkind: script\nschema:\n  type: object\n  properties:\n    a:\n      type: integer\n  required:\n    - a\n";
  const schemaOf = async (lock: string) => {
    const ws = makeWorkspace({ 'f/m/x.ts': code, 'f/m/x.script.yaml': meta });
    try {
      writeFileSync(join(ws, 'wmill-lock.yaml'), lock.replace('HASH', scriptHash(code, meta)));
      return (await scriptSchema({ root: ws, relFile: 'f/m/x.ts', path: 'f/m/x', language: 'bun', content: code })).source;
    } finally {
      removeDir(ws);
    }
  };

  it('finds the recorded hash in the forms readLockFile reads', async () => {
    expect(await schemaOf('version: v2\nlocks:\n  f/m/x: HASH\n')).toBe('metadata');
    expect(await schemaOf('version: v2\nlocks:\n  ./f/m/x: HASH\n')).toBe('metadata');
    expect(await schemaOf("version: 'v2'\nlocks:\n  'f/m/x': HASH\n  f/m/y: abc\n")).toBe('metadata');
    expect(await schemaOf('locks: {f/m/x: HASH}\n')).toBe('metadata'); // flow style: through readLockFile
  });

  it('treats a lock file readLockFile refuses as no record', async () => {
    expect(await schemaOf('version: v3\nlocks:\n  f/m/x: HASH\n')).toBe('inferred');
    expect(await schemaOf('version: v2\nlocks:\n  f/m/x: 12\n')).toBe('inferred');
    expect(await schemaOf('version: v2\nlocks:\n  - f/m/x\n')).toBe('inferred');
    expect(await schemaOf('version: v2\nlocks:\n  f/m/x: HASH\n  f/m/x: HASH\n')).toBe('inferred');
  });
});
