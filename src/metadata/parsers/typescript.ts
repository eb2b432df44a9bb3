/**
 * TypeScript `main` signature parser (bun / deno / nativets), compatible with the output of
 * Windmill's `parse_deno` (windmill-parser-wasm-ts), plus import scanners.
 *
 * The TypeScript compiler is loaded lazily (`loadTs`) and only its parser is used
 * (`ts.createSourceFile`): no Program, no type checker. Interfaces, type aliases and enums
 * declared in the same file are resolved here.
 *
 * Reference rules implemented below (checked against the reference parser, see
 * test/fixtures/schema-oracle):
 * - `main` = the last top-level function declaration named `main` (exported or not, not
 *   `export default`; overload signatures and `declare function` count too), or, when no such
 *   declaration came before it, the first workflow entry point: `const main = workflow(async
 *   (...) => ...)` / `export default workflow(async function (...) {...})` (auto_kind 'wac',
 *   also when a `function main` after it gives the signature). Other arrow functions /
 *   `const main = ...` do not count (→ no args, auto_kind 'lib', or 'wac' when the text
 *   mentions `windmill-client`, `task(` and `workflow(`).
 * - `has_preprocessor` = a top-level function declaration named `preprocessor` exists.
 * - Parameter `x: T` → typ(T), has_default = `?` or nullable union (`T | null`, `T | undefined`).
 * - Parameter `x: T = d` → has_default true; default = literal value (strings, non-negative
 *   numbers, booleans; object/array literals as JSON, else evaluated as JavaScript), anything
 *   else → null. Untyped (or unknown-typed) params take the type of their default.
 * - Local interfaces and type aliases (anywhere in the file, the last one of a name wins) are
 *   resolved; what they resolve to takes their snake_case name when it is an anonymous object or
 *   a resource (also as list items). Enums are not resolved (`resource-<name>`).
 * - `T | T[]` keeps its text in `otyp` (the CLI writes it as `originalType`).
 * - `{ a, b }: T` is an argument named `anon1`, `anon2`...; array patterns and rest parameters
 *   make the signature `{type: 'Invalid'}`.
 */
import { builtinModules } from 'node:module';
import { runInNewContext } from 'node:vm';
import type * as TS from 'typescript';
import type { Arg, ArgType, ObjectProp, ParseOutput } from './types.js';
import { noMainKind } from './typescript-quick.js';

type TsModule = typeof TS;

let tsMod: TsModule | null = null;
let loading: Promise<void> | null = null;

/** Load the TypeScript compiler (once). Must be awaited before `parseTs`. */
export function loadTs(): Promise<void> {
  if (tsMod) return Promise.resolve();
  if (!loading) {
    // Through require with V8's code cache (./load-typescript.ts): ~85 ms instead of ~630 ms.
    loading = import('./load-typescript.js').then((m) => {
      tsMod = m.loadTypescript();
    });
    loading.catch(() => {
      loading = null;
    });
  }
  return loading;
}

/** `loadTs` then `parseTs`. */
export async function parseTsAsync(code: string): Promise<ParseOutput> {
  await loadTs();
  return parseTs(code);
}

function requireTs(): TsModule {
  if (!tsMod) throw new Error('TypeScript parser not loaded: call `await loadTs()` before `parseTs()`');
  return tsMod;
}

// ---------------------------------------------------------------------------------------------
// snake_case (same boundaries as the reference: `_`, `-`, space, lower→Upper, digit→letter,
// acronyms `ABc` → `a_bc`; no split between a letter and a following digit: `S3` → `s3`)
// ---------------------------------------------------------------------------------------------

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}
function isUpper(c: string): boolean {
  return c !== c.toLowerCase() && c === c.toUpperCase();
}
function isLower(c: string): boolean {
  return c !== c.toUpperCase() && c === c.toLowerCase();
}

export function toSnakeCase(s: string): string {
  const words: string[] = [];
  for (const piece of s.split(/[_\- ]+/)) {
    const chars = Array.from(piece);
    let cur = '';
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i]!;
      if (cur.length > 0) {
        const p = chars[i - 1]!;
        const n = chars[i + 1];
        const split =
          (isLower(p) && isUpper(c)) ||
          (isDigit(p) && (isUpper(c) || isLower(c))) ||
          (isUpper(p) && isUpper(c) && n !== undefined && isLower(n));
        if (split) {
          words.push(cur);
          cur = '';
        }
      }
      cur += c;
    }
    if (cur) words.push(cur);
  }
  return words.map((w) => w.toLowerCase()).join('_');
}

// ---------------------------------------------------------------------------------------------
// Signature parsing
// ---------------------------------------------------------------------------------------------

/** A type declared at the top level (anywhere in the file; the last declaration of a name wins). */
type LocalDecl =
  | { kind: 'interface'; node: TS.InterfaceDeclaration }
  | { kind: 'alias'; type: TS.TypeNode };

interface Ctx {
  ts: TsModule;
  sf: TS.SourceFile;
  decls: Map<string, LocalDecl>;
  /** The local types being expanded, outermost first (see `typeRefToTyp` for the depth rule). */
  chain: { name: string; alias: boolean }[];
  /** Object-destructured parameters seen so far (they are named `anon1`, `anon2`, ...). */
  anon: number;
}

class InvalidSignature extends Error {}

function hasModifier(ts: TsModule, node: TS.Node, kind: TS.SyntaxKind): boolean {
  const mods = (node as { modifiers?: TS.NodeArray<TS.ModifierLike> }).modifiers;
  return !!mods && mods.some((m) => m.kind === kind);
}

/** Parse a TypeScript script's `main` signature. Synchronous; requires `loadTs()` first. */
export function parseTs(code: string): ParseOutput {
  const ts = requireTs();
  const sf = ts.createSourceFile('main.ts', code, {
    languageVersion: ts.ScriptTarget.Latest,
    jsDocParsingMode: ts.JSDocParsingMode.ParseNone,
  }, false, ts.ScriptKind.TS);

  const diags = (sf as unknown as { parseDiagnostics?: TS.DiagnosticWithLocation[] }).parseDiagnostics;
  if (diags && diags.length > 0) {
    const d = diags[0]!;
    const pos = sf.getLineAndCharacterOfPosition(d.start ?? 0);
    return {
      args: [],
      has_preprocessor: false,
      error: {
        message: ts.flattenDiagnosticMessageText(d.messageText, '\n'),
        line: pos.line + 1,
        column: pos.character + 1,
      },
    };
  }

  // The reference's parser does not accept decorators (anywhere in the file): Invalid.
  if (code.includes('@') && hasDecorator(ts, sf)) return { type: 'Invalid', args: [], has_preprocessor: null };

  const decls = new Map<string, LocalDecl>();
  // The signature: a `function main` declaration (the last one, with a body or not) overrides
  // anything before it; a workflow entry point counts only when nothing was chosen before it.
  let main: TS.SignatureDeclaration | undefined;
  let wac = false;
  let hasPreprocessor = false;
  for (const st of sf.statements) {
    if (ts.isFunctionDeclaration(st)) {
      if (!st.name || hasModifier(ts, st, ts.SyntaxKind.DefaultKeyword)) continue;
      const n = st.name.text;
      if (n === 'main') main = st;
      else if (n === 'preprocessor') hasPreprocessor = true;
    } else if (ts.isInterfaceDeclaration(st)) {
      decls.set(st.name.text, { kind: 'interface', node: st });
    } else if (ts.isTypeAliasDeclaration(st)) {
      decls.set(st.name.text, { kind: 'alias', type: st.type });
    } else if (!main) {
      const entry = workflowEntry(ts, st);
      if (entry) {
        main = entry;
        wac = true;
      }
    }
  }

  if (!main) {
    return { star_args: false, star_kwargs: false, args: [], auto_kind: noMainKind(code), has_preprocessor: hasPreprocessor };
  }

  const ctx: Ctx = { ts, sf, decls, chain: [], anon: 0 };
  try {
    const args = main.parameters.map((p) => parseParam(ctx, p));
    return { star_args: false, star_kwargs: false, args, auto_kind: wac ? 'wac' : null, has_preprocessor: hasPreprocessor };
  } catch (e) {
    if (e instanceof DefaultEvalError) {
      return { args: [], has_preprocessor: hasPreprocessor, error: { message: e.message, line: e.line } };
    }
    if (e instanceof InvalidSignature) {
      // no `error` key: an Invalid signature is not a syntax error (the CLI writes an empty schema)
      return { type: 'Invalid', args: [], has_preprocessor: null };
    }
    throw e;
  }
}

/**
 * The workflow entry point a top-level statement declares, as the reference recognizes it:
 * `[export] const|let|var main = workflow(async (...) => ...)` (any declarator of the list named
 * `main`) or `export default workflow(async function (...) {...})`. The callee is the plain
 * name `workflow` (type arguments allowed; not `wmill.workflow`, not `workflow?.()`), the call
 * is the whole initializer (no parentheses, `as`, `!` around it), and its first argument is an
 * async arrow function or async function expression (parentheses around it are fine).
 */
function workflowEntry(ts: TsModule, st: TS.Statement): TS.SignatureDeclaration | undefined {
  const fromCall = (e: TS.Expression | undefined): TS.SignatureDeclaration | undefined => {
    if (!e || !ts.isCallExpression(e) || e.questionDotToken || !ts.isIdentifier(e.expression) || e.expression.text !== 'workflow') return undefined;
    let f = e.arguments[0];
    while (f && ts.isParenthesizedExpression(f)) f = f.expression; // `workflow((async () => ...))` counts
    if (!f || !(ts.isArrowFunction(f) || ts.isFunctionExpression(f)) || !hasModifier(ts, f, ts.SyntaxKind.AsyncKeyword)) return undefined;
    return f;
  };
  if (ts.isVariableStatement(st)) {
    for (const d of st.declarationList.declarations) {
      if (ts.isIdentifier(d.name) && d.name.text === 'main') {
        const f = fromCall(d.initializer);
        if (f) return f;
      }
    }
    return undefined;
  }
  if (ts.isExportAssignment(st) && !st.isExportEquals) return fromCall(st.expression);
  return undefined;
}

function hasDecorator(ts: TsModule, node: TS.Node): boolean {
  if (node.kind === ts.SyntaxKind.Decorator) return true;
  return ts.forEachChild(node, (child) => (hasDecorator(ts, child) ? true : undefined)) === true;
}

function parseParam(ctx: Ctx, p: TS.ParameterDeclaration): Arg {
  const { ts } = ctx;
  // `{ a, b }: T` is an argument named anonN typed T (its `?` is ignored); `[a, b]` and `...rest`
  // make the whole signature Invalid
  let name: string;
  let questionToken = !!p.questionToken;
  if (p.dotDotDotToken) throw new InvalidSignature('rest parameter');
  if (ts.isIdentifier(p.name)) name = p.name.text;
  else if (ts.isObjectBindingPattern(p.name)) {
    name = `anon${++ctx.anon}`;
    questionToken = false;
  } else throw new InvalidSignature('array destructuring parameter');
  const [annTyp, nullable] = p.type ? typeToTyp(ctx, p.type) : (['unknown', false] as [ArgType, boolean]);
  const otyp = p.type && ts.isIdentifier(p.name) ? listUnionOtyp(ctx, p.type) : null;
  if (!p.initializer) {
    return { name, otyp, typ: annTyp, default: null, has_default: questionToken || nullable, oidx: null };
  }
  const dflt = evalDefault(ctx, p.initializer);
  let typ = annTyp;
  if (typ === 'unknown' && dflt !== undefined) typ = dflt.typ;
  return { name, otyp, typ, default: dflt === undefined ? null : dflt.value, has_default: true, oidx: null };
}

/**
 * `T | T[]` (either order, T a keyword type or a plain type name) keeps its text as `otyp`,
 * e.g. "string | string[]"; the CLI then writes it as the property's `originalType`.
 */
function listUnionOtyp(ctx: Ctx, t: TS.TypeNode): string | null {
  const { ts } = ctx;
  if (!ts.isUnionTypeNode(t) || t.types.length !== 2) return null;
  const K = ts.SyntaxKind;
  const simple = (x: TS.TypeNode): string | undefined => {
    switch (x.kind) {
      case K.StringKeyword: return 'string';
      case K.NumberKeyword: return 'number';
      case K.BooleanKeyword: return 'boolean';
      case K.BigIntKeyword: return 'bigint';
      case K.AnyKeyword: return 'any';
      case K.ObjectKeyword: return 'object';
    }
    if (ts.isTypeReferenceNode(x) && ts.isIdentifier(x.typeName)) return x.typeName.text;
    return undefined;
  };
  const [a, b] = t.types as unknown as [TS.TypeNode, TS.TypeNode];
  if (t.types.some((x) => isNullish(ts, x))) return null;
  if (ts.isArrayTypeNode(b)) {
    const n = simple(a);
    if (n !== undefined && n === simple(b.elementType)) return `${n} | ${n}[]`;
  }
  if (ts.isArrayTypeNode(a)) {
    const n = simple(b);
    if (n !== undefined && n === simple(a.elementType)) return `${n}[] | ${n}`;
  }
  return null;
}

// ---- types ----------------------------------------------------------------------------------

function isNullish(ts: TsModule, t: TS.TypeNode): boolean {
  if (t.kind === ts.SyntaxKind.UndefinedKeyword) return true;
  return ts.isLiteralTypeNode(t) && t.literal.kind === ts.SyntaxKind.NullKeyword;
}

function stringLiteralOf(ts: TsModule, t: TS.TypeNode): string | undefined {
  if (ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal)) return t.literal.text;
  return undefined;
}

function propsOf(ctx: Ctx, members: readonly TS.TypeElement[]): ObjectProp[] {
  const { ts } = ctx;
  const props: ObjectProp[] = [];
  for (const m of members) {
    if (!ts.isPropertySignature(m) || !ts.isIdentifier(m.name)) continue;
    props.push({ key: m.name.text, typ: m.type ? typeToTyp(ctx, m.type)[0] : 'unknown' });
  }
  return props;
}

/** Returns [typ, nullable]. */
function typeToTyp(ctx: Ctx, t: TS.TypeNode): [ArgType, boolean] {
  const { ts } = ctx;
  const K = ts.SyntaxKind;
  switch (t.kind) {
    case K.ObjectKeyword:
      return [{ object: { name: null, props: [] } }, false];
    case K.BooleanKeyword:
      return ['bool', false];
    case K.BigIntKeyword:
      return ['int', false];
    case K.NumberKeyword:
      return ['float', false];
    case K.StringKeyword:
      return [{ str: null }, false];
  }
  if (ts.isTypeLiteralNode(t)) return [{ object: { name: null, props: propsOf(ctx, t.members) } }, false];
  if (ts.isParenthesizedTypeNode(t)) return typeToTyp(ctx, t.type);
  if (ts.isArrayTypeNode(t)) return [{ list: typeToTyp(ctx, t.elementType)[0] }, false];
  if (ts.isLiteralTypeNode(t)) {
    const s = stringLiteralOf(ts, t);
    return [s !== undefined ? { str: [s] } : 'unknown', false];
  }
  if (ts.isOptionalTypeNode(t)) return [typeToTyp(ctx, t.type)[0], true];
  if (ts.isUnionTypeNode(t)) return unionToTyp(ctx, t.types);
  if (ts.isTypeReferenceNode(t)) return typeRefToTyp(ctx, t);
  return ['unknown', false];
}

function unionToTyp(ctx: Ctx, types: readonly TS.TypeNode[]): [ArgType, boolean] {
  const { ts } = ctx;
  const K = ts.SyntaxKind;
  const undefinedPos = types.findIndex((x) => isNullish(ts, x));
  if (types.length === 2 && undefinedPos >= 0) {
    return [typeToTyp(ctx, types[undefinedPos === 0 ? 1 : 0]!)[0], true];
  }
  const allStringish = types.every(
    (x) => stringLiteralOf(ts, x) !== undefined || x.kind === K.StringKeyword || isNullish(ts, x),
  );
  const nullable = types.length !== 2 && allStringish && undefinedPos >= 0;

  if (types.length > 1) {
    const variants: { label: string; properties: ObjectProp[] }[] = [];
    for (const x of types) {
      if (!ts.isTypeLiteralNode(x)) break;
      const label = oneOfLabel(ctx, x.members);
      if (label === undefined) break;
      variants.push({ label, properties: propsOf(ctx, x.members) });
    }
    if (variants.length === types.length) return [{ oneof: variants }, false];
  }

  const literals: string[] = [];
  for (const x of types) {
    if (x.kind === K.StringKeyword || isNullish(ts, x)) continue;
    const s = stringLiteralOf(ts, x);
    if (s === undefined) return ['unknown', false];
    literals.push(s);
  }
  return [{ str: literals }, nullable];
}

function oneOfLabel(ctx: Ctx, members: readonly TS.TypeElement[]): string | undefined {
  const { ts } = ctx;
  for (const m of members) {
    if (!ts.isPropertySignature(m) || !ts.isIdentifier(m.name)) continue;
    if (m.name.text !== 'label' && m.name.text !== 'kind') continue;
    if (!m.type) continue;
    const s = stringLiteralOf(ts, m.type);
    if (s !== undefined) return s;
  }
  return undefined;
}

function typeRefToTyp(ctx: Ctx, t: TS.TypeReferenceNode): [ArgType, boolean] {
  const { ts } = ctx;
  // `RT.Postgresql`, `wmill.Base64`: only the last part of a qualified name counts
  const sym = ts.isIdentifier(t.typeName) ? t.typeName.text : t.typeName.right.text;
  switch (sym) {
    case 'Resource': {
      const first = t.typeArguments?.[0];
      const s = first ? stringLiteralOf(ts, first) : undefined;
      return [{ resource: s ?? 'unknown' }, false];
    }
    case 'Date':
      return ['datetime', false];
    case 'Base64':
      return ['bytes', false];
    case 'Email':
      return ['email', false];
    case 'Sql':
      return ['sql', false];
  }
  if (sym.startsWith('DynSelect_')) return [{ dynselect: sym.slice('DynSelect_'.length) }, false];
  if (sym.startsWith('DynMultiselect_')) return [{ dynmultiselect: sym.slice('DynMultiselect_'.length) }, false];
  const d = ctx.decls.get(sym);
  if (!d) return [{ resource: toSnakeCase(sym) }, false];
  const name = toSnakeCase(sym);
  // Recursive types: a name is expanded twice, plus once more per (other) type alias crossed on
  // the way; the next occurrence is an object without properties. (The reference also reuses
  // results across parameters, so a recursive type used by several parameters can come out
  // shallower there; not reproduced.)
  const seen = ctx.chain.filter((x) => x.name === sym).length;
  const aliases = ctx.chain.filter((x) => x.alias && x.name !== sym).length;
  if (seen >= 2 + aliases) return [{ object: { name, props: null } }, false];
  ctx.chain.push({ name: sym, alias: d.kind === 'alias' });
  try {
    const [typ, nullable] = d.kind === 'interface'
      ? ([{ object: { name: null, props: interfaceProps(ctx, d.node) } }, false] as [ArgType, boolean])
      : typeToTyp(ctx, d.type);
    return [named(typ, name), nullable];
  } finally {
    ctx.chain.pop();
  }
}

/** Properties of an interface: those of the local interfaces it extends first, then its own. */
function interfaceProps(ctx: Ctx, node: TS.InterfaceDeclaration): ObjectProp[] {
  const { ts } = ctx;
  const props: ObjectProp[] = [];
  for (const clause of node.heritageClauses ?? []) {
    for (const h of clause.types) {
      const e = h.expression;
      const base = ts.isIdentifier(e) ? e.text : ts.isPropertyAccessExpression(e) ? e.name.text : undefined;
      if (base === undefined) continue;
      const d = ctx.decls.get(base);
      if (!d || d.kind !== 'interface') continue;
      if (ctx.chain.filter((x) => x.name === base).length >= 2) continue;
      ctx.chain.push({ name: base, alias: false });
      try {
        props.push(...interfaceProps(ctx, d.node));
      } finally {
        ctx.chain.pop();
      }
    }
  }
  props.push(...propsOf(ctx, node.members));
  return props;
}

/** A local type's name given to what it resolves to: anonymous objects and resources (also as list items). */
function named(t: ArgType, name: string): ArgType {
  if (typeof t !== 'object' || t === null) return t;
  if ('object' in t) return t.object.name === null ? { object: { name, props: t.object.props } } : t;
  if ('resource' in t) return { resource: name };
  if ('list' in t) return { list: t.list === null ? null : named(t.list, name) };
  return t;
}

// ---- default values -------------------------------------------------------------------------

/** 2^63: integers at or above it are not `i64` in serde_json (→ float). */
const I64_LIMIT = 2 ** 63;

interface Dflt {
  value: unknown;
  typ: ArgType;
}

class NotConstant extends Error {}

/** A value with its reference "integer-ness" (serde_json i64 vs f64). */
type JVal =
  | { t: 'null' }
  | { t: 'bool'; v: boolean }
  | { t: 'num'; v: number; int: boolean }
  | { t: 'str'; v: string }
  | { t: 'arr'; v: JVal[] }
  | { t: 'obj'; v: Map<string, JVal> };

function evalDefault(ctx: Ctx, e: TS.Expression): Dflt | undefined {
  const { ts } = ctx;
  const K = ts.SyntaxKind;
  if (ts.isStringLiteral(e)) return { value: e.text, typ: { str: null } };
  if (ts.isNumericLiteral(e)) {
    const v = Number(e.text);
    // reference: integral non-negative values are kept as u64, others as f64
    const isInt = Number.isInteger(v) && v >= 0 && v < I64_LIMIT;
    return { value: v, typ: isInt ? 'int' : 'float' };
  }
  if (ts.isBigIntLiteral(e)) {
    const j = bigintToJ(e.text);
    return { value: toJson(j), typ: jsonTyp(j) };
  }
  if (e.kind === K.TrueKeyword) return { value: true, typ: 'bool' };
  if (e.kind === K.FalseKeyword) return { value: false, typ: 'bool' };
  if (ts.isObjectLiteralExpression(e) || ts.isArrayLiteralExpression(e)) {
    const text = ctx.sf.text.slice(e.getStart(ctx.sf), e.end);
    let json = false;
    try {
      JSON.parse(text);
      json = true;
    } catch {
      json = false;
    }
    try {
      const j = json ? evalConst(ctx, e, true) : evalJs(ctx, e, text);
      return { value: toJson(j), typ: jsonTyp(j) };
    } catch (err) {
      if (err instanceof NotConstant) return undefined;
      throw err;
    }
  }
  return undefined;
}

/** The reference's JavaScript evaluation of a default failed: the reference CLI fails the script. */
class DefaultEvalError extends Error {
  constructor(message: string, public line: number) {
    super(message);
  }
}

/**
 * A non-JSON object/array literal: the reference evaluates its source text as JavaScript
 * (`let x = <text>; x`) and converts the value. Evaluated here in a fresh V8 context (no
 * `process`, no `require`) with a time limit. A throw (unknown identifier, TypeScript-only
 * syntax such as `as`) fails the script, as it does in the reference CLI; a value that cannot
 * be converted (functions, symbols, sets, typed arrays...) means "no default understood".
 */
function evalJs(ctx: Ctx, e: TS.Expression, text: string): JVal {
  let value: unknown;
  try {
    value = runInNewContext(`let x = ${text}; x`, Object.create(null), { timeout: 1000 });
  } catch (err) {
    const line = ctx.sf.getLineAndCharacterOfPosition(e.getStart(ctx.sf)).line + 1;
    const msg = err && typeof err === 'object' && 'message' in err ? String((err as Error).message) : String(err);
    throw new DefaultEvalError(`cannot evaluate the default value \`${text.length > 60 ? `${text.slice(0, 57)}...` : text}\`: ${msg}`, line);
  }
  return fromJs(value, 0);
}

const I64_MIN_BIG = -(2n ** 63n);
const U64_MAX_BIG = 2n ** 64n - 1n;

/** A JavaScript value as the reference's wasm bindings convert it to JSON (else NotConstant). */
function fromJs(v: unknown, depth: number): JVal {
  if (depth > 200) throw new NotConstant();
  if (v === null || v === undefined) return { t: 'null' };
  switch (typeof v) {
    case 'boolean':
      return { t: 'bool', v };
    case 'number':
      if (!Number.isFinite(v)) return { t: 'null' };
      return { t: 'num', v, int: Number.isSafeInteger(v) && !Object.is(v, -0) };
    case 'string':
      return { t: 'str', v };
    case 'bigint':
      if (v < I64_MIN_BIG || v > U64_MAX_BIG) throw new NotConstant();
      return { t: 'num', v: Number(v), int: true };
    case 'object':
      break;
    default:
      throw new NotConstant(); // functions, symbols
  }
  if (Array.isArray(v)) {
    const out: JVal[] = [];
    for (let i = 0; i < v.length; i++) out.push(fromJs(v[i], depth + 1));
    return { t: 'arr', v: out };
  }
  const obj = v as Record<string | symbol, unknown>;
  const out = new Map<string, JVal>();
  if (typeof obj[Symbol.iterator] === 'function') {
    // iterables other than arrays (Map, Set, String objects...) are read as [key, value] entries
    for (const entry of obj as unknown as Iterable<unknown>) {
      if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string') throw new NotConstant();
      out.set(entry[0], fromJs(entry[1], depth + 1));
    }
    return { t: 'obj', v: out };
  }
  for (const k of Object.keys(obj)) out.set(k, fromJs(obj[k], depth + 1));
  return { t: 'obj', v: out };
}

/** num-bigint's serde form: [sign, [u32 digits, little endian]]. */
function bigintToJ(text: string): JVal {
  let b = BigInt(text.replace(/n$/, '').replace(/_/g, ''));
  const sign = b < 0n ? -1 : b === 0n ? 0 : 1;
  if (b < 0n) b = -b;
  const digits: JVal[] = [];
  while (b > 0n) {
    digits.push({ t: 'num', v: Number(b & 0xffffffffn), int: true });
    b >>= 32n;
  }
  return { t: 'arr', v: [{ t: 'num', v: sign, int: true }, { t: 'arr', v: digits }] };
}

function numJ(v: number): JVal {
  if (!Number.isFinite(v)) return { t: 'null' };
  return { t: 'num', v, int: Number.isSafeInteger(v) };
}

function toJsString(j: JVal): string {
  switch (j.t) {
    case 'null':
      return 'null';
    case 'bool':
      return String(j.v);
    case 'num':
      return String(j.v);
    case 'str':
      return j.v;
    default:
      throw new NotConstant();
  }
}

/**
 * Evaluate an object/array literal as the reference does (JSON.parse of the source text, else a
 * JS evaluation of it). Only constant expressions are supported; anything else is "not understood".
 */
function evalConst(ctx: Ctx, e: TS.Expression, json: boolean): JVal {
  const { ts } = ctx;
  const K = ts.SyntaxKind;
  if (ts.isParenthesizedExpression(e)) return evalConst(ctx, e.expression, json);
  if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return { t: 'str', v: e.text };
  if (ts.isNumericLiteral(e)) {
    const v = Number(e.text);
    if (json) {
      const raw = e.getText(ctx.sf);
      const float = /[.eE]/.test(raw) || !Number.isInteger(v) || Math.abs(v) >= I64_LIMIT;
      return { t: 'num', v, int: !float };
    }
    return numJ(v);
  }
  if (ts.isBigIntLiteral(e)) throw new NotConstant(); // not serialisable from JS
  if (e.kind === K.TrueKeyword) return { t: 'bool', v: true };
  if (e.kind === K.FalseKeyword) return { t: 'bool', v: false };
  if (e.kind === K.NullKeyword) return { t: 'null' };
  if (ts.isIdentifier(e)) {
    if (e.text === 'undefined') return { t: 'null' };
    if (e.text === 'NaN' || e.text === 'Infinity') return { t: 'null' };
    throw new NotConstant();
  }
  if (ts.isPrefixUnaryExpression(e)) {
    const v = evalConst(ctx, e.operand, json);
    if (e.operator === K.MinusToken && v.t === 'num') {
      // serde_json reads `-0` as the float -0.0
      if (json) return { t: 'num', v: -v.v, int: v.int && v.v !== 0 };
      return numJ(-v.v);
    }
    if (e.operator === K.PlusToken && v.t === 'num') return numJ(v.v);
    if (e.operator === K.ExclamationToken) return { t: 'bool', v: !truthy(v) };
    throw new NotConstant();
  }
  if (ts.isTemplateExpression(e)) {
    let s = e.head.text;
    for (const span of e.templateSpans) {
      s += toJsString(evalConst(ctx, span.expression, json)) + span.literal.text;
    }
    return { t: 'str', v: s };
  }
  if (ts.isBinaryExpression(e)) {
    const l = evalConst(ctx, e.left, json);
    const r = evalConst(ctx, e.right, json);
    const op = e.operatorToken.kind;
    if (op === K.PlusToken && (l.t === 'str' || r.t === 'str')) return { t: 'str', v: toJsString(l) + toJsString(r) };
    if (l.t !== 'num' || r.t !== 'num') throw new NotConstant();
    switch (op) {
      case K.PlusToken:
        return numJ(l.v + r.v);
      case K.MinusToken:
        return numJ(l.v - r.v);
      case K.AsteriskToken:
        return numJ(l.v * r.v);
      case K.SlashToken:
        return numJ(l.v / r.v);
      case K.PercentToken:
        return numJ(l.v % r.v);
      case K.AsteriskAsteriskToken:
        return numJ(l.v ** r.v);
      default:
        throw new NotConstant();
    }
  }
  if (ts.isArrayLiteralExpression(e)) {
    const out: JVal[] = [];
    for (const el of e.elements) {
      if (ts.isOmittedExpression(el)) out.push({ t: 'null' });
      else if (ts.isSpreadElement(el)) {
        const v = evalConst(ctx, el.expression, json);
        if (v.t === 'arr') out.push(...v.v);
        else if (v.t === 'str') for (const c of v.v) out.push({ t: 'str', v: c });
        else throw new NotConstant();
      } else out.push(evalConst(ctx, el, json));
    }
    return { t: 'arr', v: out };
  }
  if (ts.isObjectLiteralExpression(e)) {
    const out = new Map<string, JVal>();
    for (const p of e.properties) {
      if (ts.isPropertyAssignment(p)) {
        out.set(propName(ctx, p.name, json), evalConst(ctx, p.initializer, json));
      } else if (ts.isSpreadAssignment(p)) {
        const v = evalConst(ctx, p.expression, json);
        if (v.t === 'obj') for (const [k, x] of v.v) out.set(k, x);
        else if (v.t === 'arr') v.v.forEach((x, i) => out.set(String(i), x));
        else if (v.t === 'str') Array.from(v.v).forEach((c, i) => out.set(String(i), { t: 'str', v: c }));
        // null / numbers / booleans spread nothing
      } else {
        throw new NotConstant();
      }
    }
    return { t: 'obj', v: out };
  }
  throw new NotConstant();
}

function truthy(v: JVal): boolean {
  switch (v.t) {
    case 'null':
      return false;
    case 'bool':
      return v.v;
    case 'num':
      return v.v !== 0 && !Number.isNaN(v.v);
    case 'str':
      return v.v !== '';
    default:
      return true;
  }
}

function propName(ctx: Ctx, n: TS.PropertyName, json: boolean): string {
  const { ts } = ctx;
  if (ts.isIdentifier(n) || ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) return n.text;
  if (ts.isNumericLiteral(n)) return String(Number(n.text));
  if (ts.isComputedPropertyName(n)) return toJsString(evalConst(ctx, n.expression, json));
  throw new NotConstant();
}

/**
 * Entries of an object default in the reference's order: as written for a JSON literal (serde_json
 * keeps insertion order), JavaScript property order for an evaluated one (`fromJs` reads
 * `Object.keys`). The default itself is a JS object either way, so its own key order is JS order.
 */
function sortedEntries(m: Map<string, JVal>): [string, JVal][] {
  return [...m.entries()];
}

function toJson(j: JVal): unknown {
  switch (j.t) {
    case 'null':
      return null;
    case 'bool':
    case 'num':
    case 'str':
      return j.v;
    case 'arr':
      return j.v.map(toJson);
    case 'obj': {
      const o: Record<string, unknown> = {};
      for (const [k, v] of sortedEntries(j.v)) o[k] = toJson(v);
      return o;
    }
  }
}

function jsonTyp(j: JVal): ArgType {
  switch (j.t) {
    case 'str':
      return { str: null };
    case 'num':
      return j.int && Math.abs(j.v) < I64_LIMIT ? 'int' : 'float';
    case 'bool':
      return 'bool';
    case 'obj':
      return { object: { name: null, props: sortedEntries(j.v).map(([key, v]) => ({ key, typ: jsonTyp(v) })) } };
    case 'arr':
      return { list: j.v.length ? jsonTyp(j.v[0]!) : 'unknown' };
    case 'null':
      return 'unknown';
  }
}

// ---------------------------------------------------------------------------------------------
// Import scanning (no TypeScript API: a small tokenizer that skips comments, strings,
// template literals and regular expressions)
// ---------------------------------------------------------------------------------------------

type Tok = { k: 'id' | 'str' | 'punct' | 'num' | 'tpl'; v: string };

const REGEX_PRECEDING_KEYWORDS = new Set([
  'return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else', 'yield', 'await',
]);

function isIdStart(c: string): boolean {
  return /[A-Za-z_$\u0080-\uffff]/.test(c);
}
function isIdPart(c: string): boolean {
  return /[A-Za-z0-9_$\u0080-\uffff]/.test(c);
}

function tokenize(code: string): Tok[] {
  const toks: Tok[] = [];
  const n = code.length;
  let i = 0;
  // stack of brace contexts: 'b' = ordinary brace, 't' = template substitution
  const braces: ('b' | 't')[] = [];

  const regexAllowed = (): boolean => {
    const last = toks[toks.length - 1];
    if (!last) return true;
    if (last.k === 'num' || last.k === 'str' || last.k === 'tpl') return false;
    if (last.k === 'id') return REGEX_PRECEDING_KEYWORDS.has(last.v);
    return !(last.v === ')' || last.v === ']' || last.v === '}');
  };

  // scan a template literal body starting after "`" or after "}" closing a substitution;
  // returns the index after the closing "`" or after "${" (pushing 't').
  const scanTemplate = (start: number): number => {
    let j = start;
    let text = '';
    while (j < n) {
      const c = code[j]!;
      if (c === '\\') {
        text += code[j + 1] ?? '';
        j += 2;
        continue;
      }
      if (c === '`') {
        toks.push({ k: 'tpl', v: text });
        return j + 1;
      }
      if (c === '$' && code[j + 1] === '{') {
        toks.push({ k: 'tpl', v: text });
        braces.push('t');
        return j + 2;
      }
      text += c;
      j++;
    }
    toks.push({ k: 'tpl', v: text });
    return n;
  };

  while (i < n) {
    const c = code[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v' || c === '\ufeff' || c === '\u00a0' || c === '\u2028' || c === '\u2029') {
      i++;
      continue;
    }
    if (c === '/' && code[i + 1] === '/') {
      const e = code.indexOf('\n', i);
      i = e < 0 ? n : e;
      continue;
    }
    if (c === '/' && code[i + 1] === '*') {
      const e = code.indexOf('*/', i + 2);
      i = e < 0 ? n : e + 2;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let s = '';
      while (j < n && code[j] !== c && code[j] !== '\n') {
        if (code[j] === '\\') {
          const nx = code[j + 1] ?? '';
          s += nx === 'n' ? '\n' : nx === 't' ? '\t' : nx;
          j += 2;
          continue;
        }
        s += code[j];
        j++;
      }
      toks.push({ k: 'str', v: s });
      i = j + 1;
      continue;
    }
    if (c === '`') {
      i = scanTemplate(i + 1);
      continue;
    }
    if (c === '{') {
      braces.push('b');
      toks.push({ k: 'punct', v: '{' });
      i++;
      continue;
    }
    if (c === '}') {
      const top = braces.pop();
      if (top === 't') {
        i = scanTemplate(i + 1);
        continue;
      }
      toks.push({ k: 'punct', v: '}' });
      i++;
      continue;
    }
    if (c === '/' && regexAllowed()) {
      let j = i + 1;
      let inClass = false;
      while (j < n && code[j] !== '\n') {
        const d = code[j]!;
        if (d === '\\') {
          j += 2;
          continue;
        }
        if (d === '[') inClass = true;
        else if (d === ']') inClass = false;
        else if (d === '/' && !inClass) break;
        j++;
      }
      j++;
      while (j < n && isIdPart(code[j]!)) j++;
      toks.push({ k: 'num', v: 'regex' });
      i = j;
      continue;
    }
    if (isIdStart(c)) {
      let j = i + 1;
      while (j < n && isIdPart(code[j]!)) j++;
      toks.push({ k: 'id', v: code.slice(i, j) });
      i = j;
      continue;
    }
    if (c >= '0' && c <= '9') {
      let j = i + 1;
      while (j < n && /[0-9A-Za-z_.]/.test(code[j]!)) j++;
      toks.push({ k: 'num', v: code.slice(i, j) });
      i = j;
      continue;
    }
    if (c === '.' && code[i + 1] === '.' && code[i + 2] === '.') {
      toks.push({ k: 'punct', v: '...' });
      i += 3;
      continue;
    }
    toks.push({ k: 'punct', v: c });
    i++;
  }
  return toks;
}

/** Module specifiers of static imports/exports-from, side-effect imports and `import("x")`. */
function findImportSpecifiers(code: string, skipTypeOnly: boolean): string[] {
  const toks = tokenize(code);
  const out: string[] = [];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.k !== 'id' || (t.v !== 'import' && t.v !== 'export')) continue;
    const prev = toks[i - 1];
    if (prev && prev.k === 'punct' && (prev.v === '.' || prev.v === '?')) continue; // x.import
    const isImport = t.v === 'import';
    let j = i + 1;
    const nx = toks[j];
    if (!nx) break;
    if (isImport && nx.k === 'str') {
      out.push(nx.v); // side-effect import
      continue;
    }
    if (isImport && nx.k === 'punct' && nx.v === '(') {
      const s = toks[j + 1];
      const after = toks[j + 2];
      if (s && s.k === 'str' && after && after.k === 'punct' && (after.v === ')' || after.v === ',')) out.push(s.v);
      continue;
    }
    // import/export clause up to `from "x"`
    let typeOnly = false;
    const second = toks[j + 1];
    if (nx.k === 'id' && nx.v === 'type' && second &&
      ((second.k === 'punct' && (second.v === '{' || second.v === '*')) ||
        (second.k === 'id' && second.v !== 'from' && !(isImport && second.v === '=')))) {
      typeOnly = true;
      j++;
    }
    let hasValueBinding = false;
    let hasNamed = false;
    let allNamedType = true;
    let inBraces = false;
    let expectSpec = false;
    let found: string | undefined;
    let depth = 0;
    for (; j < toks.length && depth < 200; j++, depth++) {
      const u = toks[j]!;
      if (u.k === 'punct') {
        if (u.v === '{') {
          if (inBraces) break;
          inBraces = true;
          expectSpec = true;
          continue;
        }
        if (u.v === '}') {
          if (!inBraces) break;
          inBraces = false;
          continue;
        }
        if (u.v === ',') {
          if (inBraces) expectSpec = true;
          continue;
        }
        if (u.v === '*') {
          hasValueBinding = true;
          continue;
        }
        break;
      }
      if (u.k === 'str') {
        if (inBraces) {
          // `{ "string name" as x }`
          if (expectSpec) {
            hasNamed = true;
            allNamedType = false;
            expectSpec = false;
          }
          continue;
        }
        break;
      }
      if (u.k !== 'id') break;
      if (inBraces) {
        if (expectSpec) {
          expectSpec = false;
          hasNamed = true;
          const after = toks[j + 1];
          const specIsType = u.v === 'type' && !!after && after.k === 'id' && after.v !== 'as';
          if (!specIsType) allNamedType = false;
        }
        continue;
      }
      if (u.v === 'from') {
        const s = toks[j + 1];
        if (s && s.k === 'str') found = s.v;
        break;
      }
      if (u.v === 'as') continue;
      if (!isImport) {
        // `export <decl>` is not a re-export
        break;
      }
      hasValueBinding = true; // default import or namespace name
    }
    if (found === undefined) continue;
    if (skipTypeOnly) {
      if (typeOnly) continue;
      if (!hasValueBinding && hasNamed && allNamedType) continue;
    }
    out.push(found);
  }
  return out;
}

function normalizePath(parts: string[]): string[] {
  const out: string[] = [];
  for (const p of parts) {
    if (p === '' || p === '.') continue;
    if (p === '..') {
      if (out.length) out.pop();
      continue;
    }
    out.push(p);
  }
  return out;
}

/**
 * Windmill paths a script imports relatively (`./x`, `../x`, `/f/x`), resolved against the script
 * path (`f/folder/name`), last extension removed, sorted and de-duplicated.
 */
export function tsRelativeImports(code: string, scriptPath: string): string[] {
  const res = new Set<string>();
  const dir = scriptPath.split('/').slice(0, -1);
  for (const spec of findImportSpecifiers(code, true)) {
    let parts: string[];
    if (spec.startsWith('./') || spec.startsWith('../') || spec === '.' || spec === '..') {
      parts = normalizePath([...dir, ...spec.split('/')]);
    } else if (spec.startsWith('/')) {
      parts = normalizePath(spec.split('/'));
    } else {
      continue;
    }
    if (!parts.length) continue;
    const last = parts[parts.length - 1]!;
    const dot = last.lastIndexOf('.');
    if (dot > 0) parts[parts.length - 1] = last.slice(0, dot);
    res.add(parts.join('/'));
  }
  return [...res].sort();
}

const NODE_BUILTINS = new Set(builtinModules.map((m) => m.replace(/^node:/, '')));

/**
 * npm packages a script imports (for lock resolution): bare specifiers, `npm:` prefix stripped,
 * relative paths, URLs, `jsr:`/`node:` and other schemes, and Node built-ins skipped. Package name
 * = `@scope/name` or `name`; `pkg@1.2.3` gives a version. Sorted by name, unique by name.
 */
export function tsExternalImports(code: string): { name: string; version?: string }[] {
  const byName = new Map<string, string | undefined>();
  for (let spec of findImportSpecifiers(code, true)) {
    if (!spec || spec.startsWith('.') || spec.startsWith('/')) continue;
    if (spec.startsWith('npm:')) spec = spec.slice(4);
    else if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(spec)) continue; // node:, jsr:, https:, bun:, ...
    let name: string;
    let rest: string;
    if (spec.startsWith('@')) {
      const m = /^(@[^/@]+\/[^/@]+)(.*)$/.exec(spec);
      if (!m) continue;
      name = m[1]!;
      rest = m[2]!;
    } else {
      const m = /^([^/@]+)(.*)$/.exec(spec);
      if (!m) continue;
      name = m[1]!;
      rest = m[2]!;
    }
    let version: string | undefined;
    if (rest.startsWith('@')) {
      const v = /^@([^/]*)/.exec(rest)![1]!;
      if (v) version = v;
    }
    if (!spec.startsWith('@') && version === undefined && (NODE_BUILTINS.has(name) || name === 'bun')) continue;
    if (!byName.has(name) || (byName.get(name) === undefined && version !== undefined)) byName.set(name, version);
  }
  return [...byName.keys()]
    .sort()
    .map((name) => {
      const version = byName.get(name);
      return version === undefined ? { name } : { name, version };
    });
}
