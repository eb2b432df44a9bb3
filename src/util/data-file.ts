/**
 * The boundary every YAML and JSON file we read goes through (wmill.yaml, `.script.yaml`,
 * `flow.yaml`, resources, variables, schedules, wmill-lock.yaml, plan files, ...): text in,
 * a plain value or ONE error with its line out, never a throw. Besides syntax errors it refuses
 * what the parsers accept but what later hangs or crashes the reader:
 * - YAML aliases that cannot be resolved (`*x` without `&x` before it), that refer to a node
 *   containing them (a circular value, which JSON cannot hold), or that expand to far more
 *   values than the file holds (an "alias bomb");
 * - nesting deeper than MAX_DEPTH collections (deeper input overflows the stack of the YAML
 *   parser, or of whoever walks the value later). 128 is serde_json's default recursion limit,
 *   so a real Windmill refuses such values too.
 * Callers turn the error into `file:line: message` (dataError).
 *
 * YAML as wmill writes it goes through the small reader (src/util/simple-yaml.ts); anything
 * else through the `yaml` package, loaded on first need, so start-up paths that import this
 * module do not pay for it. `!inline x` / `!inline_fileset x` tags come back as those strings.
 */
import { createRequire } from 'node:module';
import { WmillError } from '../errors.js';
import { parseSimpleYaml } from './simple-yaml.js';

export type Parsed = { value: unknown } | { error: string; line?: number };

/** Collections nested deeper than this are refused. */
export const MAX_DEPTH = 128;
/** Values that aliases may add beyond those written in the file (above this: an alias bomb). */
export const MAX_ALIAS_EXPANSION = 10_000;

type YamlModule = typeof import('yaml');
let Y: YamlModule | undefined;
const yamlModule = (): YamlModule => (Y ??= createRequire(import.meta.url)('yaml') as YamlModule);

const INLINE_TAGS = [
  { tag: '!inline', resolve: (s: string) => `!inline ${s}` },
  { tag: '!inline_fileset', resolve: (s: string) => `!inline_fileset ${s}` },
];

const lineAt = (text: string, offset: number): number => {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
};

/**
 * How deeply collections nest in a plain value (iterative: a deep value cannot overflow this;
 * stops once past `limit`). A few ms for 10 MB of JSON (next to ~40 ms for JSON.parse).
 */
export function valueDepth(v: unknown, limit = Infinity): number {
  if (v === null || typeof v !== 'object') return 0;
  let max = 0;
  const nodes: unknown[] = [v];
  const depths: number[] = [0];
  while (nodes.length) {
    const x = nodes.pop();
    const d = depths.pop()! + 1;
    if (d > max && (max = d) > limit) return max;
    if (Array.isArray(x)) {
      for (let i = 0; i < x.length; i++) {
        const c = x[i];
        if (c !== null && typeof c === 'object') (nodes.push(c), depths.push(d));
      }
    } else {
      for (const k in x as Record<string, unknown>) {
        const c = (x as Record<string, unknown>)[k];
        if (c !== null && typeof c === 'object') (nodes.push(c), depths.push(d));
      }
    }
  }
  return max;
}

/** YAML text → value, or the first problem with its 1-based line. */
export function parseYamlText(text: string): Parsed {
  const quick = parseSimpleYaml(text);
  if (quick && valueDepth(quick.value, MAX_DEPTH) <= MAX_DEPTH) return quick;
  const { parseDocument, LineCounter } = yamlModule();
  const lc = new LineCounter();
  const line = (offset: number | undefined) => (offset === undefined ? undefined : Math.max(1, lc.linePos(offset).line));
  let doc: import('yaml').Document.Parsed;
  try {
    doc = parseDocument(text, { customTags: INLINE_TAGS, prettyErrors: false, lineCounter: lc });
  } catch (e) {
    return { error: tooDeep(e) ? deepMessage() : oneLine((e as Error).message) };
  }
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    return { error: tooDeep(e) ? deepMessage() : oneLine(e.message), line: line(e.pos?.[0]) };
  }
  const problem = checkYamlNodes(doc, yamlModule());
  if (problem) return { error: problem.error, line: line(problem.offset) };
  try {
    // Aliases were checked above: expand them without yaml's own (unlocated) alias limit.
    return { value: doc.toJS({ maxAliasCount: -1 }) };
  } catch (e) {
    return { error: tooDeep(e) ? deepMessage() : oneLine((e as Error).message) };
  }
}

const tooDeep = (e: unknown) => e instanceof RangeError || /call stack/i.test((e as Error)?.message ?? '');
const deepMessage = () => `nested more than ${MAX_DEPTH} levels deep`;
const oneLine = (s: string) => s.split('\n')[0]!.trim();

type YNode = import('yaml').Node;

/**
 * One pass over the document in order: resolve each alias to the last anchor before it, and
 * compute, per node, the depth and size its value has once aliases are expanded.
 */
function checkYamlNodes(doc: import('yaml').Document.Parsed, y: YamlModule): { error: string; offset?: number } | undefined {
  const { isAlias, isCollection, isPair, isNode } = y;
  const anchors = new Map<string, YNode>();
  const height = new Map<YNode, number>(); // collections nested in the expanded value, this one included
  const size = new Map<YNode, number>(); // values in the expanded value
  const written = new Map<YNode, number>(); // values as written
  const open = new Set<YNode>(); // the node being visited and its ancestors
  const offset = (n: YNode) => n.range?.[0];
  const children = (n: YNode): YNode[] => {
    if (!isCollection(n)) return [];
    const out: YNode[] = [];
    for (const it of n.items as unknown[]) {
      if (isPair(it)) {
        if (isNode(it.key)) out.push(it.key);
        if (isNode(it.value)) out.push(it.value);
      } else if (isNode(it)) out.push(it);
    }
    return out;
  };
  const root = doc.contents;
  if (!root) return undefined;
  // [node, depth of the collection holding it, exiting?]
  const stack: [YNode, number, boolean][] = [[root, 0, false]];
  while (stack.length) {
    const [n, depth, exiting] = stack.pop()!;
    if (exiting) {
      open.delete(n);
      let h = 0;
      let s = 1;
      let w = 1;
      for (const c of children(n)) {
        h = Math.max(h, height.get(c)!);
        s += size.get(c)!;
        w += written.get(c)!;
      }
      height.set(n, h + 1);
      size.set(n, s);
      written.set(n, w);
      if (s - w > MAX_ALIAS_EXPANSION) {
        return { error: `the aliases in this value expand to ${s} values from ${w} written (an alias bomb: at most ${MAX_ALIAS_EXPANSION} more are allowed)`, offset: offset(n) };
      }
      continue;
    }
    if (n.anchor) anchors.set(n.anchor, n);
    if (isAlias(n)) {
      const target = anchors.get(n.source);
      if (!target) return { error: `alias *${n.source} has no anchor &${n.source} before it`, offset: offset(n) };
      if (open.has(target)) return { error: `alias *${n.source} refers to a value that contains it (a circular value)`, offset: offset(n) };
      height.set(n, height.get(target)!);
      size.set(n, size.get(target)!);
      written.set(n, 1);
      if (depth + height.get(n)! > MAX_DEPTH) return { error: `alias *${n.source} expands to a value ${deepMessage()}`, offset: offset(n) };
      continue;
    }
    if (!isCollection(n)) {
      height.set(n, 0);
      size.set(n, 1);
      written.set(n, 1);
      continue;
    }
    if (depth + 1 > MAX_DEPTH) return { error: deepMessage(), offset: offset(n) };
    open.add(n);
    stack.push([n, depth, true]);
    const cs = children(n);
    for (let i = cs.length - 1; i >= 0; i--) stack.push([cs[i]!, depth + 1, false]);
  }
  return undefined;
}

/** JSON text → value, or the first problem with its 1-based line. */
export function parseJsonText(text: string): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const p = jsonProblem(text);
    // V8's message quotes the text (over several lines): keep our own located one.
    return p ? { error: `invalid JSON: ${p.message}`, line: lineAt(text, p.offset) } : { error: `invalid JSON: ${oneLine((e as Error).message)}` };
  }
  if (valueDepth(value, MAX_DEPTH) > MAX_DEPTH) {
    const p = jsonProblem(text, MAX_DEPTH);
    return { error: deepMessage(), line: p ? lineAt(text, p.offset) : undefined };
  }
  return { value };
}

const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/**
 * Where JSON text first goes wrong (a syntax error, or a collection nested deeper than
 * `maxDepth`), by a small iterative scanner over the grammar of RFC 8259.
 */
export function jsonProblem(text: string, maxDepth = Infinity): { offset: number; message: string } | undefined {
  let i = 0;
  const stack: string[] = [];
  const ws = () => {
    for (let c = text.charCodeAt(i); c === 32 || c === 9 || c === 10 || c === 13; c = text.charCodeAt(++i));
  };
  const at = (what: string) => ({ offset: i, message: i >= text.length ? `unexpected end of input, expected ${what}` : `unexpected ${JSON.stringify(text[i])}, expected ${what}` });
  const token = (re: RegExp) => {
    re.lastIndex = i;
    if (!re.test(text)) return false;
    i = re.lastIndex;
    return true;
  };
  let state: 'value' | 'key' | 'after' = 'value';
  for (;;) {
    ws();
    if (state === 'value') {
      const c = text[i];
      if (c === '{' || c === '[') {
        stack.push(c === '{' ? '}' : ']');
        if (stack.length > maxDepth) return { offset: i, message: 'nested too deeply' };
        i++;
        ws();
        if (text[i] === stack[stack.length - 1]) {
          stack.pop();
          i++;
          state = 'after';
        } else state = c === '{' ? 'key' : 'value';
      } else if (c === '"') {
        if (!token(STRING)) return at('a string without raw control characters or bad escapes');
        state = 'after';
      } else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
        if (!token(NUMBER)) return at('a number');
        state = 'after';
      } else {
        const lit = ['true', 'false', 'null'].find((l) => text.startsWith(l, i));
        if (!lit) return at('a value');
        i += lit.length;
        state = 'after';
      }
    } else if (state === 'key') {
      if (text[i] !== '"' || !token(STRING)) return at('a property name in double quotes');
      ws();
      if (text[i] !== ':') return at("':'");
      i++;
      state = 'value';
    } else {
      const close = stack[stack.length - 1];
      if (close === undefined) return i < text.length ? at('the end of the input') : undefined;
      if (text[i] === ',') {
        i++;
        state = close === '}' ? 'key' : 'value';
      } else if (text[i] === close) {
        stack.pop();
        i++;
      } else return at(`',' or '${close}'`);
    }
  }
}

/** YAML or JSON by the file name's extension. */
export function parseDataText(text: string, file: string): Parsed {
  return /\.json$/i.test(file) ? parseJsonText(text) : parseYamlText(text);
}

/** `file:line: message; fix` as a usage error (exit 2). */
export function dataError(file: string, p: { error: string; line?: number }, fix = 'fix the file and re-run'): WmillError {
  return new WmillError('usage', `${file}${p.line ? `:${p.line}` : ''}: ${p.error}; ${fix}`, { file, ...(p.line ? { line: p.line } : {}) });
}

/** Parse a data file's text, or throw the usage error naming the file and line. */
export function parseDataFile(text: string, file: string, fix?: string): unknown {
  const p = parseDataText(text, file);
  if ('error' in p) throw dataError(file, p, fix);
  return p.value;
}
