/**
 * The house rules of src/ (README "Architecture"): each top-level folder (and each file at the
 * top of src/) is a part; a part may import only the parts its row in ALLOWED names, so every
 * arrow points one way and no two parts import each other, directly or round a loop. Every
 * import counts: static, dynamic (`await import()`), `export ... from` and type-only ones.
 * The imports are read with TypeScript's own pre-processor (strings and comments that look like
 * imports are not imports).
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

/** Part → the parts it may import. Lower parts never import higher ones. */
const ALLOWED: Record<string, string[]> = {
  cli: ['commands', 'util', 'errors'], // the entry: parses argv, hands over to a command
  commands: ['server', 'sync', 'runner', 'api', 'metadata', 'items', 'workspace', 'util', 'errors', 'paths'],
  preview: ['runner', 'workspace', 'util', 'errors'], // preview's early start (bin/wmill.mjs, before the CLI)
  server: ['runner', 'metadata', 'items', 'workspace', 'util', 'errors', 'paths'],
  sync: ['api', 'metadata', 'items', 'workspace', 'util', 'errors'],
  runner: ['metadata', 'items', 'workspace', 'util', 'errors', 'paths'],
  api: ['items', 'util', 'errors'],
  metadata: ['items', 'workspace', 'util', 'errors', 'paths'],
  workspace: ['util', 'errors'],
  items: ['util', 'errors'],
  util: ['errors'],
  errors: [],
  paths: [],
};

/** The part a src-relative file belongs to: its top folder, or its own name at the top. */
const partOf = (rel: string) => (rel.includes('/') ? rel.slice(0, rel.indexOf('/')) : rel.replace(/\.ts$/, ''));

interface Edge {
  from: string;
  to: string;
  file: string;
  target: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every import between two parts of src/. */
function crossImports(): Edge[] {
  const edges: Edge[] = [];
  for (const abs of sourceFiles(SRC)) {
    const file = relative(SRC, abs).split(sep).join('/');
    const { importedFiles } = ts.preProcessFile(readFileSync(abs, 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith('.')) continue; // a package or node: builtin
      const target = posix.normalize(posix.join(posix.dirname(file), fileName)).replace(/\.js$/, '.ts');
      if (target.startsWith('../')) throw new Error(`${file} imports ${fileName}, outside src/`);
      const from = partOf(file);
      const to = partOf(target);
      if (from !== to) edges.push({ from, to, file, target });
    }
  }
  return edges;
}

/** A loop among the parts of `edges` (as a list of parts, first = last), or undefined. */
function findCycle(edges: { from: string; to: string }[]): string[] | undefined {
  const next = new Map<string, Set<string>>();
  for (const e of edges) (next.get(e.from) ?? next.set(e.from, new Set()).get(e.from)!).add(e.to);
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === 'done') return undefined;
    if (state.get(n) === 'open') return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 'open');
    stack.push(n);
    for (const m of next.get(n) ?? []) {
      const loop = visit(m);
      if (loop) return loop;
    }
    stack.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const n of next.keys()) {
    const loop = visit(n);
    if (loop) return loop;
  }
  return undefined;
}

describe('architecture: imports between the parts of src/', () => {
  const edges = crossImports();

  it('reads the import graph (static, dynamic and type-only imports)', () => {
    const has = (file: string, target: string) => edges.some((e) => e.file === file && e.target === target);
    expect(has('server/app.ts', 'runner/engine.ts')).toBe(true); // static
    expect(has('commands/serve.ts', 'server/app.ts')).toBe(true); // dynamic
    expect(has('server/env.ts', 'runner/engine.ts')).toBe(true); // type-only
    expect(edges.length).toBeGreaterThan(100);
  });

  it('has no part that the table does not know', () => {
    const parts = new Set(sourceFiles(SRC).map((f) => partOf(relative(SRC, f).split(sep).join('/'))));
    expect([...parts].filter((p) => !(p in ALLOWED)), 'add the new part to ALLOWED (and to the README)').toEqual([]);
  });

  it('imports only in the allowed directions', () => {
    const wrong = edges
      .filter((e) => !ALLOWED[e.from]?.includes(e.to))
      .map((e) => `src/${e.file} imports src/${e.target}: ${e.from} -> ${e.to} is not an allowed direction`);
    expect(wrong).toEqual([]);
  });

  it('has no loop between parts (the table and the code)', () => {
    expect(findCycle(Object.entries(ALLOWED).flatMap(([from, tos]) => tos.map((to) => ({ from, to }))))).toBeUndefined();
    expect(findCycle(edges)).toBeUndefined();
  });

  it('finds a loop when there is one', () => {
    const loop = findCycle([
      { from: 'runner', to: 'items' },
      { from: 'sync', to: 'runner' },
      { from: 'runner', to: 'sync' },
    ]);
    expect(loop).toEqual(['runner', 'sync', 'runner']);
    expect(findCycle([{ from: 'a', to: 'b' }, { from: 'b', to: 'c' }])).toBeUndefined();
  });
});
