/**
 * A fast path for `parseTs` (./typescript.ts) that does not load the TypeScript compiler
 * (~600 ms): a small hand-written scanner for the everyday script shapes. It returns exactly
 * what `parseTs(code)` returns (deep-equal) or `undefined` when it is not certain, and the
 * caller then uses the full parser. A wrong answer is a bug; `undefined` is always allowed.
 *
 * Not checked here: syntax errors elsewhere in the file. `parseTs` reports the first syntax
 * error of the whole file (`error`), the quick path does not look for them: it is only used
 * where the script is about to run anyway (`wmill script preview`), and the runtime reports
 * them. `wmill generate-metadata` always uses the full parser.
 *
 * What it understands (everything else → undefined):
 * - The whole file is tokenized (comments, '..' "..", template literals with nested `${}`,
 *   regular expressions where a `/` can only start one). At the first place where it cannot be
 *   sure (a `/` after `)`, `}`, `>`, `!`, `++`, `--`, a contextual keyword, or on a new line
 *   after an operand; a non-ASCII character or a backslash in code), the tokens stop, and the
 *   rest of the file is only searched as raw text: any `@`, or `function` followed by `main` /
 *   `preprocessor` (or by anything that could hide them) there → undefined.
 * - `@` in code (decorators: parseTs returns Invalid) → undefined.
 * - Top-level (bracket depth 0) `function main` / `function preprocessor` declarations, with
 *   only `export` and `async` before `function`, at a statement start (file start, after `;`
 *   or `}`, or on a new line after an operand); in any other place (`declare`, `export default`,
 *   `if (x) function main`, `= function main`...) → undefined. Generators (`function*`) →
 *   undefined.
 * - `main`: exactly one such declaration (overloads → undefined), with a body; an optional
 *   return type `: R` where R is `A | B`... of (possibly dotted) names with balanced `<...>`
 *   arguments and `[]` suffixes, or string literals.
 *   No `main` declaration at all → the "lib" answer (no args, auto_kind 'lib', or 'wac' by the
 *   text test of parseTs).
 * - Workflow entry points (`const main = workflow(async (...) => ...)`, `export default
 *   workflow(async function (...) {...})`) as parseTs chooses them, with the parameters above;
 *   a `workflow` at depth 0 in any other place that could be an entry point → undefined.
 * - Parameters (a trailing comma and comments are fine): `name`, `name?`, `name: T`,
 *   `name?: T`, `name: T = L`, `name = L` (not `?` with `=`; no destructuring, rest, `this`,
 *   modifiers), where
 *   - T is a union (`|` between members, no leading `|`) of members `A[]...`, with A one of:
 *     string, number, boolean, bigint, object, any, unknown, null, undefined, Date, Base64,
 *     Email, Sql, or a string literal without escapes ('x' or "x"); the mapping (unions of
 *     string literals, nullable unions, `T | T[]` original types) mirrors parseTs exactly.
 *     Other names (local interfaces / type aliases, resources, Array<...>, ...) → undefined.
 *   - L is a string literal without escapes, a decimal number (`-` allowed: parseTs keeps no
 *     default for it), true, false, null, undefined, `{}`, or a JSON array (the source text
 *     must be JSON) of double-quoted strings, numbers (optionally negative), true, false, null.
 */
import type { Arg, ArgType, ParseOutput } from './types.js';

type TokKind = 'id' | 'num' | 'str' | 'tpl' | 'regex' | 'punct';

interface Tok {
  k: TokKind;
  v: string;
  start: number;
  end: number;
  /** Bracket depth ((), [], {}, `${}`) before the token. */
  depth: number;
  /** A line break between the previous token and this one. */
  nl: boolean;
  /** For 'str': the string has a backslash or a line continuation. */
  esc?: boolean;
}

interface Scan {
  toks: Tok[];
  /** Where the tokens stop being trustworthy (code.length when they cover the whole file). */
  certainEnd: number;
}

class GiveUp extends Error {}

/** Identifiers after which a `/` starts a regular expression (when not a property name). */
const REGEX_AFTER = new Set(['return', 'typeof', 'instanceof', 'in', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else']);
/** Contextual keywords: a `/` after them could be either (undecided here). */
const UNSURE_AFTER = new Set([
  'of', 'await', 'yield', 'extends', 'default', 'as', 'satisfies', 'async', 'let', 'static', 'get', 'set', 'type',
  'from', 'keyof', 'infer', 'is', 'asserts', 'declare', 'abstract', 'readonly', 'accessor', 'override', 'module',
  'namespace', 'global', 'unique', 'out', 'private', 'public', 'protected', 'implements', 'interface', 'enum',
  'import', 'export', 'super', 'package',
]);

const isIdStart = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 36;
const isIdPart = (c: number): boolean => isIdStart(c) || (c >= 48 && c <= 57);
const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** Tokenize as far as the structure is certain. Throws GiveUp when the file is malformed. */
function scan(code: string): Scan {
  const n = code.length;
  const toks: Tok[] = [];
  const stack: string[] = []; // '(' '[' '{' and 't' (template substitution)
  let i = 0;
  let nl = false;
  if (code.charCodeAt(0) === 0xfeff) i = 1;
  if (code.startsWith('#!', i)) {
    const e = code.indexOf('\n', i);
    i = e < 0 ? n : e;
  }
  const push = (k: TokKind, v: string, start: number, end: number, extra?: Partial<Tok>): void => {
    toks.push({ k, v, start, end, depth: stack.length, nl, ...extra });
    nl = false;
  };
  const unsure = (at: number): Scan => ({ toks, certainEnd: at });

  // A template literal's text from `start` (after "`" or after the "}" closing a substitution):
  // returns the index after the closing "`" (pushing a 'tpl' token) or after "${" (pushing 't').
  const template = (from: number, start: number): number => {
    let j = start;
    while (j < n) {
      const c = code.charCodeAt(j);
      if (c === 92 /* \ */) {
        j += 2;
        continue;
      }
      if (c === 96 /* ` */) {
        push('tpl', code.slice(from, j + 1), from, j + 1);
        return j + 1;
      }
      if (c === 36 /* $ */ && code.charCodeAt(j + 1) === 123 /* { */) {
        push('tpl', code.slice(from, j + 2), from, j + 2);
        stack.push('t');
        return j + 2;
      }
      j++;
    }
    throw new GiveUp('unterminated template');
  };

  while (i < n) {
    const c = code.charCodeAt(i);
    if (c === 10 || c === 13) {
      nl = true;
      i++;
      continue;
    }
    if (c === 32 || c === 9 || c === 11 || c === 12) {
      i++;
      continue;
    }
    if (c >= 128 || c === 92 /* \ */) return unsure(i); // unicode whitespace/identifiers, escapes
    if (c === 47 /* / */) {
      const d = code.charCodeAt(i + 1);
      if (d === 47) {
        const e = code.indexOf('\n', i);
        // a line comment ends at a line break (\r, \u2028 and \u2029 too): check the simple case only
        const text = code.slice(i, e < 0 ? n : e);
        if (/[\r\u2028\u2029]/.test(text.replace(/\r$/, ''))) return unsure(i);
        i = e < 0 ? n : e;
        continue;
      }
      if (d === 42) {
        const e = code.indexOf('*/', i + 2);
        if (e < 0) throw new GiveUp('unterminated comment');
        if (/[\n\r\u2028\u2029]/.test(code.slice(i, e))) nl = true;
        i = e + 2;
        continue;
      }
      // a regular expression or a division?
      const last = toks[toks.length - 1];
      let regex: boolean;
      if (!last) regex = true;
      else if (last.k === 'punct') {
        // these can end an operand (`x!` is TypeScript's non-null assertion, `f<T>` an instantiation)
        if (last.v === ')' || last.v === '}' || last.v === '>' || last.v === '!' || last.v === '++' || last.v === '--') return unsure(i);
        regex = last.v !== ']';
      } else if (last.k === 'id') {
        const prev = toks[toks.length - 2];
        const prop = !!prev && prev.k === 'punct' && (prev.v === '.' || prev.v === '#');
        if (!prop && UNSURE_AFTER.has(last.v)) return unsure(i);
        regex = !prop && REGEX_AFTER.has(last.v);
      } else if (last.k === 'tpl') regex = last.v.endsWith('${'); // an expression starts after `${`
      else regex = false; // after a number, string or regex
      // an operand, then a line break, then `/`: TypeScript types end without ASI rules of their own
      if (!regex && nl) return unsure(i);
      if (regex) {
        let j = i + 1;
        let inClass = false;
        for (;;) {
          if (j >= n) return unsure(i);
          const e = code.charCodeAt(j);
          if (e === 10 || e === 13 || e >= 128) return unsure(i);
          if (e === 92) {
            j += 2;
            continue;
          }
          if (e === 91) inClass = true;
          else if (e === 93) inClass = false;
          else if (e === 47 && !inClass) break;
          j++;
        }
        j++;
        while (j < n && isIdPart(code.charCodeAt(j))) j++;
        push('regex', code.slice(i, j), i, j);
        i = j;
        continue;
      }
      push('punct', '/', i, i + 1);
      i++;
      continue;
    }
    if (c === 34 || c === 39) {
      let j = i + 1;
      let esc = false;
      for (;;) {
        if (j >= n) throw new GiveUp('unterminated string');
        const e = code.charCodeAt(j);
        if (e === c) break;
        if (e === 10 || e === 13) throw new GiveUp('unterminated string');
        if (e === 92) {
          esc = true;
          j += code.charCodeAt(j + 1) === 13 && code.charCodeAt(j + 2) === 10 ? 3 : 2;
          continue;
        }
        if (e === 0x2028 || e === 0x2029) esc = true;
        j++;
      }
      push('str', code.slice(i + 1, j), i, j + 1, { esc });
      i = j + 1;
      continue;
    }
    if (c === 96) {
      i = template(i, i + 1);
      continue;
    }
    if (c === 40 || c === 91 || c === 123) {
      const ch = code[i]!;
      push('punct', ch, i, i + 1);
      stack.push(ch);
      i++;
      continue;
    }
    if (c === 41 || c === 93 || c === 125) {
      const open = stack.pop();
      if (c === 125 && open === 't') {
        i = template(i, i + 1);
        continue;
      }
      if (open !== (c === 41 ? '(' : c === 93 ? '[' : '{')) throw new GiveUp('unbalanced brackets');
      push('punct', code[i]!, i, i + 1);
      i++;
      continue;
    }
    if (isIdStart(c)) {
      let j = i + 1;
      while (j < n && isIdPart(code.charCodeAt(j))) j++;
      if (j < n && (code.charCodeAt(j) >= 128 || code.charCodeAt(j) === 92)) return unsure(i);
      push('id', code.slice(i, j), i, j);
      i = j;
      continue;
    }
    if (isDigit(c) || (c === 46 && isDigit(code.charCodeAt(i + 1)))) {
      let j = i;
      const isExp = (k: number): boolean => {
        const e = code.charCodeAt(k);
        return (e === 101 || e === 69) && (code[k + 1] === '+' || code[k + 1] === '-') && isDigit(code.charCodeAt(k + 2));
      };
      while (j < n) {
        const e = code.charCodeAt(j);
        if (isExp(j) && !/^0[xXbBoO]/.test(code.slice(i, j + 1))) j += 2;
        else if (isIdPart(e) || e === 46) j++;
        else break;
      }
      if (j < n && (code.charCodeAt(j) >= 128 || code.charCodeAt(j) === 92)) return unsure(i);
      push('num', code.slice(i, j), i, j);
      i = j;
      continue;
    }
    if (c === 64 /* @ */) throw new GiveUp('decorator');
    // punctuation: the few multi-character tokens that matter here
    const two = code.slice(i, i + 2);
    if (two === '=>' || two === '++' || two === '--') {
      push('punct', two, i, i + 2);
      i += 2;
      continue;
    }
    if (code.startsWith('...', i)) {
      push('punct', '...', i, i + 3);
      i += 3;
      continue;
    }
    push('punct', code[i]!, i, i + 1);
    i++;
  }
  if (stack.length) throw new GiveUp('unbalanced brackets');
  return { toks, certainEnd: n };
}

/**
 * In text the tokens do not cover: could it hold a decorator or a `main` / `preprocessor`
 * function declaration? (A superset: comments and strings are not skipped.)
 */
function rawMayMatter(text: string): boolean {
  if (text.includes('@') || text.includes('workflow')) return true;
  const re = /function/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    let j = m.index + m[0].length;
    while (j < text.length && /[ \t\n\r\v\f*]/.test(text[j]!)) j++;
    const c = text.charCodeAt(j);
    if (c === 47 || c === 92 || c >= 128) return true; // a comment, an escape, unicode: cannot tell
    let k = j;
    while (k < text.length && isIdPart(text.charCodeAt(k))) k++;
    const name = text.slice(j, k);
    if (name === 'main' || name === 'preprocessor') return true;
    const after = text.charCodeAt(k);
    if (k > j && (after === 92 || after >= 128)) return true;
  }
  return false;
}

// ---- types ------------------------------------------------------------------------------------

type TypeNode =
  | { t: 'kw'; name: string }
  | { t: 'lit'; value: string }
  | { t: 'array'; elem: TypeNode }
  | { t: 'union'; types: TypeNode[] };

const KEYWORD_TYPES = new Set(['string', 'number', 'boolean', 'bigint', 'object', 'any', 'unknown', 'null', 'undefined']);
/** Type references parseTs maps by name before looking at local declarations. */
const NAMED_TYPES: Record<string, ArgType> = { Date: 'datetime', Base64: 'bytes', Email: 'email', Sql: 'sql' };

const isNullish = (x: TypeNode): boolean => x.t === 'kw' && (x.name === 'null' || x.name === 'undefined');

/** typeToTyp of ./typescript.ts on the supported subset: [typ, nullable]. */
function typeToTyp(x: TypeNode): [ArgType, boolean] {
  switch (x.t) {
    case 'kw':
      switch (x.name) {
        case 'object':
          return [{ object: { name: null, props: [] } }, false];
        case 'boolean':
          return ['bool', false];
        case 'bigint':
          return ['int', false];
        case 'number':
          return ['float', false];
        case 'string':
          return [{ str: null }, false];
      }
      if (x.name in NAMED_TYPES) return [NAMED_TYPES[x.name]!, false];
      return ['unknown', false]; // any, unknown, null, undefined
    case 'lit':
      return [{ str: [x.value] }, false];
    case 'array':
      return [{ list: typeToTyp(x.elem)[0] }, false];
    case 'union':
      return unionToTyp(x.types);
  }
}

function unionToTyp(types: TypeNode[]): [ArgType, boolean] {
  const undefinedPos = types.findIndex(isNullish);
  if (types.length === 2 && undefinedPos >= 0) return [typeToTyp(types[undefinedPos === 0 ? 1 : 0]!)[0], true];
  const isString = (x: TypeNode): boolean => x.t === 'kw' && x.name === 'string';
  const allStringish = types.every((x) => x.t === 'lit' || isString(x) || isNullish(x));
  const nullable = types.length !== 2 && allStringish && undefinedPos >= 0;
  // (no member is an object type literal here, so never a oneof)
  const literals: string[] = [];
  for (const x of types) {
    if (isString(x) || isNullish(x)) continue;
    if (x.t !== 'lit') return ['unknown', false];
    literals.push(x.value);
  }
  return [{ str: literals }, nullable];
}

/** listUnionOtyp of ./typescript.ts: `T | T[]` keeps its text. */
function listUnionOtyp(x: TypeNode): string | null {
  if (x.t !== 'union' || x.types.length !== 2) return null;
  if (x.types.some(isNullish)) return null;
  const simple = (y: TypeNode): string | undefined => {
    if (y.t !== 'kw') return undefined;
    if (['string', 'number', 'boolean', 'bigint', 'any', 'object'].includes(y.name) || y.name in NAMED_TYPES) return y.name;
    return undefined; // unknown: not a "simple" type there
  };
  const [a, b] = x.types as [TypeNode, TypeNode];
  if (b.t === 'array') {
    const s = simple(a);
    if (s !== undefined && s === simple(b.elem)) return `${s} | ${s}[]`;
  }
  if (a.t === 'array') {
    const s = simple(b);
    if (s !== undefined && s === simple(a.elem)) return `${s}[] | ${s}`;
  }
  return null;
}

// ---- defaults ---------------------------------------------------------------------------------

const I64_LIMIT = 2 ** 63;
/** A decimal literal as JSON also reads it (no leading zeros, no `.5`/`5.`, no `_`). */
const DECIMAL = /^(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

interface Dflt {
  value: unknown;
  /** undefined: parseTs's evalDefault gives nothing (default null, the annotated type kept). */
  typ?: ArgType;
}

/** The default of a parameter from its tokens, or GiveUp. */
function defaultOf(code: string, toks: Tok[]): Dflt {
  const first = toks[0];
  if (!first) throw new GiveUp('empty default');
  if (toks.length === 1) {
    if (first.k === 'str' && !first.esc) return { value: first.v, typ: { str: null } };
    if (first.k === 'num' && DECIMAL.test(first.v)) {
      const v = Number(first.v);
      const isInt = Number.isInteger(v) && v >= 0 && v < I64_LIMIT;
      return { value: v, typ: isInt ? 'int' : 'float' };
    }
    if (first.k === 'id') {
      if (first.v === 'true') return { value: true, typ: 'bool' };
      if (first.v === 'false') return { value: false, typ: 'bool' };
      if (first.v === 'null' || first.v === 'undefined') return { value: null };
    }
    throw new GiveUp('default');
  }
  if (toks.length === 2 && first.k === 'punct' && first.v === '-' && toks[1]!.k === 'num' && DECIMAL.test(toks[1]!.v)) {
    return { value: null }; // a prefix expression: not a literal for parseTs
  }
  const last = toks[toks.length - 1]!;
  if (first.k === 'punct' && first.v === '{' && last.k === 'punct' && last.v === '}' && toks.length === 2) {
    jsonText(code, first, last);
    return { value: {}, typ: { object: { name: null, props: [] } } };
  }
  if (first.k === 'punct' && first.v === '[' && last.k === 'punct' && last.v === ']') {
    jsonText(code, first, last); // JSON text: parseTs reads it in JSON mode
    type J = { value: unknown; typ: ArgType };
    const items: J[] = [];
    let j = 1;
    while (j < toks.length - 1) {
      const t = toks[j]!;
      let neg = false;
      let u = t;
      if (t.k === 'punct' && t.v === '-') {
        neg = true;
        u = toks[j + 1]!;
        j++;
      }
      if (u.k === 'num' && DECIMAL.test(u.v)) {
        const v = Number(u.v);
        const float = /[.eE]/.test(u.v) || !Number.isInteger(v) || Math.abs(v) >= I64_LIMIT;
        let int = !float;
        let value = v;
        if (neg) {
          int = int && v !== 0;
          value = -v;
        }
        items.push({ value, typ: int && Math.abs(value) < I64_LIMIT ? 'int' : 'float' });
      } else if (neg) throw new GiveUp('default');
      else if (u.k === 'str' && !u.esc && code[u.start] === '"') items.push({ value: u.v, typ: { str: null } });
      else if (u.k === 'id' && (u.v === 'true' || u.v === 'false')) items.push({ value: u.v === 'true', typ: 'bool' });
      else if (u.k === 'id' && u.v === 'null') items.push({ value: null, typ: 'unknown' });
      else throw new GiveUp('default');
      j++;
      const sep = toks[j]!;
      if (j < toks.length - 1) {
        if (!(sep.k === 'punct' && sep.v === ',')) throw new GiveUp('default');
        j++;
        if (j === toks.length - 1) throw new GiveUp('trailing comma');
      }
    }
    return { value: items.map((x) => x.value), typ: { list: items.length ? items[0]!.typ : 'unknown' } };
  }
  throw new GiveUp('default');
}

/** The source text of a literal must be JSON (as parseTs decides between JSON and JS evaluation). */
function jsonText(code: string, a: Tok, b: Tok): void {
  try {
    JSON.parse(code.slice(a.start, b.end));
  } catch {
    throw new GiveUp('not JSON');
  }
}

// ---- signature --------------------------------------------------------------------------------

/** Not plain parameter names (reserved words, strict-mode reserved words, parameter modifiers). */
const RESERVED = new Set([
  'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do', 'else', 'enum',
  'export', 'extends', 'false', 'finally', 'for', 'function', 'if', 'import', 'in', 'instanceof', 'new', 'null',
  'return', 'super', 'switch', 'this', 'throw', 'true', 'try', 'typeof', 'var', 'void', 'while', 'with', 'implements',
  'interface', 'let', 'package', 'private', 'protected', 'public', 'static', 'yield', 'await', 'readonly', 'override',
  'arguments', 'eval',
]);

const isP = (t: Tok | undefined, v: string): boolean => !!t && t.k === 'punct' && t.v === v;

/** Parse a type in toks[i..end) (the whole range). */
function parseType(toks: Tok[], i: number, end: number): TypeNode {
  const members: TypeNode[] = [];
  for (;;) {
    const t = toks[i];
    if (!t || i >= end) throw new GiveUp('type');
    let m: TypeNode;
    if (t.k === 'str' && !t.esc) m = { t: 'lit', value: t.v };
    else if (t.k === 'id' && (KEYWORD_TYPES.has(t.v) || t.v in NAMED_TYPES)) m = { t: 'kw', name: t.v };
    else throw new GiveUp('type');
    i++;
    while (i + 1 < end && isP(toks[i], '[') && isP(toks[i + 1], ']')) {
      m = { t: 'array', elem: m };
      i += 2;
    }
    members.push(m);
    if (i === end) break;
    if (!isP(toks[i], '|')) throw new GiveUp('type');
    i++;
  }
  return members.length === 1 ? members[0]! : { t: 'union', types: members };
}

function parseParam(code: string, toks: Tok[]): Arg {
  const nameTok = toks[0];
  if (!nameTok || nameTok.k !== 'id' || RESERVED.has(nameTok.v)) throw new GiveUp('parameter');
  const name = nameTok.v;
  let i = 1;
  let question = false;
  if (isP(toks[i], '?')) {
    question = true;
    i++;
  }
  let type: TypeNode | undefined;
  const eq = toks.findIndex((t, k) => k >= i && isP(t, '='));
  const typeEnd = eq < 0 ? toks.length : eq;
  if (isP(toks[i], ':')) {
    type = parseType(toks, i + 1, typeEnd);
    i = typeEnd;
  }
  if (i !== typeEnd) throw new GiveUp('parameter');
  const [annTyp, nullable] = type ? typeToTyp(type) : (['unknown', false] as [ArgType, boolean]);
  const otyp = type ? listUnionOtyp(type) : null;
  if (eq < 0) return { name, otyp, typ: annTyp, default: null, has_default: question || nullable, oidx: null };
  if (question) throw new GiveUp('? and default');
  const d = defaultOf(code, toks.slice(eq + 1));
  const typ = annTyp === 'unknown' && d.typ !== undefined ? d.typ : annTyp;
  return { name, otyp, typ, default: d.value, has_default: true, oidx: null };
}

/**
 * The parameters of the function whose `(` is toks[open], when `then` follows them (after an
 * optional simple return type): the body's `{`, or an arrow's `=>`. GiveUp when unsure.
 */
function parseSignature(code: string, toks: Tok[], open: number, then: '{' | '=>' = '{'): Arg[] {
  const depth = toks[open]!.depth;
  const params: Tok[][] = [];
  let cur: Tok[] = [];
  let i = open + 1;
  for (;; i++) {
    const t = toks[i];
    if (!t) throw new GiveUp('signature past the certain part');
    if (t.depth === depth && isP(t, ')')) {
      if (cur.length) params.push(cur);
      break;
    }
    if (t.depth === depth + 1 && isP(t, ',')) {
      if (!cur.length) throw new GiveUp('empty parameter');
      params.push(cur);
      cur = [];
      continue;
    }
    cur.push(t);
  }
  i++;
  // return type: `: A.B<...>[] | "x" | ...` then the body's `{`
  if (isP(toks[i], ':')) {
    i++;
    for (;;) {
      const t = toks[i];
      if (!t) throw new GiveUp('return type');
      if (t.k === 'str') i++;
      else if (t.k === 'id' && !['keyof', 'typeof', 'infer', 'unique', 'readonly', 'asserts', 'is', 'new', 'abstract'].includes(t.v)) {
        i++;
        while (isP(toks[i], '.') && toks[i + 1]?.k === 'id') i += 2;
        if (isP(toks[i], '<')) {
          // balanced <...> (brackets inside are balanced by the tokenizer; `=>` is one token)
          let angle = 0;
          const d0 = toks[i]!.depth;
          for (;; i++) {
            const u = toks[i];
            if (!u || u.depth < d0) throw new GiveUp('return type');
            if (u.depth === d0 && u.k === 'punct') {
              if (u.v === '<') angle++;
              else if (u.v === '>' && --angle === 0) break;
              else if (u.v === ';') throw new GiveUp('return type');
            }
          }
          i++;
        }
      } else throw new GiveUp('return type');
      while (isP(toks[i], '[') && isP(toks[i + 1], ']')) i += 2;
      if (isP(toks[i], '|')) {
        i++;
        continue;
      }
      break;
    }
  }
  if (!isP(toks[i], then)) throw new GiveUp(then === '{' ? 'no body' : 'not an arrow function');
  return params.map((p) => parseParam(code, p));
}

/**
 * Does `first` (`export`, `async` or `function` at bracket depth 0) start a statement, given the
 * token before it? After `;` or `}` (a block, or an operand: `function` cannot continue one), and
 * on a new line after an operand (automatic semicolon insertion), except after `)` (`if (x)`).
 */
function statementStart(before: Tok | undefined, first: Tok): boolean {
  if (!before) return true;
  if (before.k === 'punct') return before.v === ';' || before.v === '}' || (first.nl && before.v === ']');
  if (!first.nl) return false;
  if (before.k === 'id') {
    if (['true', 'false', 'null', 'this'].includes(before.v)) return true;
    return !RESERVED.has(before.v) && !REGEX_AFTER.has(before.v) && !UNSURE_AFTER.has(before.v);
  }
  if (before.k === 'tpl') return before.v.endsWith('`');
  return true; // a number, string or regular expression
}

/**
 * auto_kind of a script without a main (shared with parseTs): 'wac' when its text mentions
 * `windmill-client`, `task(` and `workflow(` (anywhere, comments included: the reference's text
 * test), else 'lib'.
 */
export function noMainKind(code: string): 'wac' | 'lib' {
  return code.includes('windmill-client') && code.includes('task(') && code.includes('workflow(') ? 'wac' : 'lib';
}

/** `parseTs(code)` for the common simple cases, without the TypeScript compiler; else undefined. */
export function quickParseTs(code: string): ParseOutput | undefined {
  try {
    return quick(code);
  } catch (e) {
    if (e instanceof GiveUp) return undefined;
    throw e;
  }
}

function quick(code: string): ParseOutput | undefined {
  const { toks, certainEnd } = scan(code);
  if (certainEnd < code.length) {
    // the last tokens may be cut short (e.g. `function` before a unicode space): search from them
    const from = toks.length >= 3 ? toks[toks.length - 3]!.start : 0;
    if (rawMayMatter(code.slice(from))) return undefined;
  }
  // As parseTs: a `function main` declaration gives the signature; a workflow entry point does
  // when nothing was chosen before it (and makes the answer 'wac' either way).
  let mainArgs: Arg[] | undefined;
  let mains = 0;
  let wac = false;
  let hasPreprocessor = false;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.k !== 'id' || t.depth !== 0) continue;
    if (t.v === 'workflow') {
      const entry = workflowEntry(toks, i);
      if (entry === undefined) continue;
      if (mainArgs === undefined) {
        mainArgs = entry();
        wac = true;
      }
      continue;
    }
    if (t.v !== 'function') continue;
    const nameTok = toks[i + 1];
    if (!nameTok) return undefined;
    if (isP(nameTok, '*')) {
      const g = toks[i + 2];
      if (!g || (g.k === 'id' && (g.v === 'main' || g.v === 'preprocessor'))) return undefined;
      continue;
    }
    if (nameTok.k !== 'id' || (nameTok.v !== 'main' && nameTok.v !== 'preprocessor')) continue;
    // a declaration at a statement start: [export] [async] function
    let k = i - 1;
    if (toks[k]?.k === 'id' && toks[k]!.v === 'async') k--;
    if (toks[k]?.k === 'id' && toks[k]!.v === 'export') k--;
    if (!statementStart(toks[k], toks[k + 1]!)) return undefined;
    if (nameTok.v === 'preprocessor') {
      hasPreprocessor = true;
      continue;
    }
    if (++mains > 1) return undefined;
    if (!isP(toks[i + 2], '(')) return undefined; // generics, ...
    mainArgs = parseSignature(code, toks, i + 2);
  }
  if (mainArgs === undefined) {
    return { star_args: false, star_kwargs: false, args: [], auto_kind: noMainKind(code), has_preprocessor: hasPreprocessor };
  }
  return { star_args: false, star_kwargs: false, args: mainArgs, auto_kind: wac ? 'wac' : null, has_preprocessor: hasPreprocessor };

  /**
   * A `workflow` name at depth 0 (toks[i]): undefined when it is certainly not an entry point;
   * else a parser of the entry point's parameters. GiveUp when unsure.
   * Entry points: `[export] const|let|var main = workflow(async (...) [: R] => ...)` and
   * `export default workflow(async function [name](...) [: R] {...})`, the call being the whole
   * initializer (followed by `;`, `,`, the end, or a new statement on a new line).
   */
  function workflowEntry(toks: Tok[], i: number): (() => Arg[]) | undefined {
    const before = toks[i - 1];
    if (isP(before, '=')) {
      const name = toks[i - 2];
      const decl = toks[i - 3];
      if (!name || name.k !== 'id' || !decl || decl.k !== 'id' || !['const', 'let', 'var'].includes(decl.v)) throw new GiveUp('workflow assigned');
      if (name.v !== 'main') return undefined;
      let k = i - 4;
      if (toks[k]?.k === 'id' && toks[k]!.v === 'export') k--;
      if (!statementStart(toks[k], toks[k + 1]!)) throw new GiveUp('declaration start');
    } else if (before?.k === 'id' && before.v === 'default') {
      const exp = toks[i - 2];
      if (!exp || exp.k !== 'id' || exp.v !== 'export' || !statementStart(toks[i - 3], exp)) throw new GiveUp('default');
    } else if (before?.k === 'id' && ['const', 'let', 'var', 'function', 'class', 'interface', 'type', 'enum', 'namespace', 'import', 'as'].includes(before.v)) {
      throw new GiveUp('workflow declared or renamed');
    } else {
      return undefined; // `await workflow(...)`, `x || workflow(...)`, `workflow(...)` as a statement: not an entry point
    }
    // workflow ( async ...
    const open = i + 1;
    if (!isP(toks[open], '(')) throw new GiveUp('workflow not called plainly');
    const a = toks[open + 1];
    if (!a || isP(a, '(')) throw new GiveUp('first argument');
    // a sync function, a name, an object, a spread...: not an entry point
    if (a.k !== 'id' || a.v !== 'async') return undefined;
    let sig: () => Arg[];
    const b = toks[open + 2];
    if (isP(b, '(')) sig = () => parseSignature(code, toks, open + 2, '=>');
    else if (b?.k === 'id' && b.v === 'function') {
      let p = open + 3;
      if (toks[p]?.k === 'id') p++; // a named function expression
      if (!isP(toks[p], '(')) throw new GiveUp('function expression');
      sig = () => parseSignature(code, toks, p, '{');
    } else throw new GiveUp('first argument');
    // the call must be the whole initializer
    const depth = toks[open]!.depth;
    let close = open + 1;
    while (close < toks.length && !(toks[close]!.depth === depth && isP(toks[close], ')'))) close++;
    if (close >= toks.length) throw new GiveUp('call end');
    const after = toks[close + 1];
    const endsHere =
      !after ||
      isP(after, ';') ||
      (isP(after, ',') && isP(before, '=')) ||
      (after.nl && after.k === 'id' && ['export', 'const', 'let', 'var', 'function', 'async', 'import', 'type', 'interface', 'class'].includes(after.v));
    if (!endsHere) throw new GiveUp('call end');
    return sig;
  }
}
