/**
 * Go signature parser, compatible with the reference `parse_go` (`windmill-parser-wasm-go`).
 *
 * Like the reference, only the `main` signature is parsed: the first line starting exactly with
 * `func main(` is located, the text up to the parenthesis closing the parameter list (counted
 * naively, characters in strings and comments included) is kept, and
 * `package main;\nfunc main(<params>){}` is parsed as Go. Anything that does not parse (or a file
 * without such a line) makes the reference answer `{"type": "Invalid"}`.
 *
 * Parameter mapping (reference rules):
 *   - one argument per parameter name (`a, b int` gives `a` and `b`; an unnamed parameter gives `''`);
 *   - `int`, `int16`, `int32`, `int64` → int; `string` → string; `bool` → bool; any other
 *     identifier (`float64`, `Point`, `any`, ...) → unknown, `otyp` = the identifier;
 *   - `[]T` / `[N]T` → list of T, `otyp` = `[]` + otyp(T) (null when T has none);
 *   - `map[K]V` → object, `otyp` = `map[string]interface{}`; `interface{...}` → object, `interface{}`;
 *   - inline `struct { ... }` → object with one property per field (key = `json:"..."` tag name or
 *     field name), `otyp` = `struct { Name T \`json:"key"\`; ... }`;
 *   - pointers, qualified names (`time.Time`), generics, channels, funcs, `...T` → unknown, no otyp.
 * No defaults: every argument is required.
 */
import type { Arg, ArgType, ObjectProp, ParseOutput } from './types.js';

// ---------------------------------------------------------------------------------------------
// Tokenizer (Go lexical rules, with automatic semicolon insertion)
// ---------------------------------------------------------------------------------------------

type TokKind = 'ident' | 'keyword' | 'int' | 'imag' | 'char' | 'string' | 'op' | 'semi' | 'eof';
interface Tok {
  kind: TokKind;
  value: string;
  pos: number;
}

class GoSyntaxError extends Error {
  constructor(message: string, public pos: number) {
    super(message);
  }
}

const KEYWORDS = new Set([
  'break', 'case', 'chan', 'const', 'continue', 'default', 'defer', 'else', 'fallthrough', 'for', 'func', 'go',
  'goto', 'if', 'import', 'interface', 'map', 'package', 'range', 'return', 'select', 'struct', 'switch', 'type', 'var',
]);

const OPERATORS = [
  '...', '<<=', '>>=', '&^=', '&&', '||', '<-', '++', '--', '==', '!=', '<=', '>=', ':=', '+=', '-=', '*=', '/=',
  '%=', '&=', '|=', '^=', '<<', '>>', '&^', '+', '-', '*', '/', '%', '&', '|', '^', '<', '>', '=', '!', '~', '(',
  ')', '[', ']', '{', '}', ',', '.', ':',
];

const RE_IDENT = /[\p{L}_][\p{L}\p{Nd}_]*/uy;
const RE_NUMBER =
  /(?:0[xX][0-9a-fA-F_]*(?:\.[0-9a-fA-F_]*)?(?:[pP][+-]?[0-9_]+)?|0[bB][01_]+|0[oO][0-7_]+|[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][+-]?[0-9_]+)?|\.[0-9][0-9_]*(?:[eE][+-]?[0-9_]+)?)i?/y;

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  const needsSemi = () => {
    const last = toks[toks.length - 1];
    if (!last) return false;
    if (last.kind === 'ident' || last.kind === 'int' || last.kind === 'imag' ||
      last.kind === 'char' || last.kind === 'string') return true;
    if (last.kind === 'keyword') return ['break', 'continue', 'fallthrough', 'return'].includes(last.value);
    if (last.kind === 'op') return ['++', '--', ')', ']', '}'].includes(last.value);
    return false;
  };
  const newline = (pos: number) => {
    if (needsSemi()) toks.push({ kind: 'semi', value: '\n', pos });
  };
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\n') {
      newline(i);
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '/') {
      const end = src.indexOf('\n', i);
      i = end < 0 ? src.length : end;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) throw new GoSyntaxError('comment not terminated', i);
      if (src.slice(i, end).includes('\n')) newline(i);
      i = end + 2;
      continue;
    }
    if (c === ';') {
      toks.push({ kind: 'semi', value: ';', pos: i });
      i++;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') {
        if (src[j] === '\n') throw new GoSyntaxError('string literal not terminated', i);
        j += src[j] === '\\' ? 2 : 1;
      }
      if (j >= src.length) throw new GoSyntaxError('string literal not terminated', i);
      toks.push({ kind: 'string', value: src.slice(i, j + 1), pos: i });
      i = j + 1;
      continue;
    }
    if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) throw new GoSyntaxError('raw string literal not terminated', i);
      toks.push({ kind: 'string', value: src.slice(i, end + 1), pos: i });
      i = end + 1;
      continue;
    }
    if (c === "'") {
      let j = i + 1;
      while (j < src.length && src[j] !== "'") {
        if (src[j] === '\n') throw new GoSyntaxError('rune literal not terminated', i);
        j += src[j] === '\\' ? 2 : 1;
      }
      if (j >= src.length) throw new GoSyntaxError('rune literal not terminated', i);
      toks.push({ kind: 'char', value: src.slice(i, j + 1), pos: i });
      i = j + 1;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      RE_NUMBER.lastIndex = i;
      const m = RE_NUMBER.exec(src)!;
      const v = m[0];
      toks.push({ kind: v.endsWith('i') ? 'imag' : 'int', value: v, pos: i });
      i += v.length;
      continue;
    }
    RE_IDENT.lastIndex = i;
    const id = RE_IDENT.exec(src);
    if (id) {
      toks.push({ kind: KEYWORDS.has(id[0]) ? 'keyword' : 'ident', value: id[0], pos: i });
      i += id[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (!op) throw new GoSyntaxError(`illegal character ${JSON.stringify(c)}`, i);
    toks.push({ kind: 'op', value: op, pos: i });
    i += op.length;
  }
  newline(src.length);
  toks.push({ kind: 'eof', value: '', pos: src.length });
  return toks;
}

// ---------------------------------------------------------------------------------------------
// Parser for the parts of Go a `main` signature can contain
// ---------------------------------------------------------------------------------------------

type TypeNode =
  | { k: 'ident'; name: string }
  | { k: 'slice'; elt: TypeNode }
  | { k: 'array'; elt: TypeNode }
  | { k: 'map' }
  | { k: 'interface' }
  | { k: 'struct'; fields: Field[] }
  | { k: 'other' }; // pointer, selector, generic instance, chan, func, ellipsis

interface Field {
  names: string[];
  typ: TypeNode;
  tag: string | null;
  ellipsis?: boolean;
}

const TYPE_START_OPS = new Set(['*', '[', '(', '<-']);
const TYPE_START_KEYWORDS = new Set(['func', 'chan', 'map', 'struct', 'interface']);

class Parser {
  private i = 0;
  constructor(private toks: Tok[]) {}

  private get cur(): Tok {
    return this.toks[this.i]!;
  }
  private peek(n = 1): Tok {
    return this.toks[Math.min(this.i + n, this.toks.length - 1)]!;
  }
  private is(kind: TokKind, value?: string, t: Tok = this.cur): boolean {
    return t.kind === kind && (value === undefined || t.value === value);
  }
  private isOp(value: string, t: Tok = this.cur): boolean {
    return this.is('op', value, t);
  }
  private next(): Tok {
    const t = this.cur;
    if (this.i < this.toks.length - 1) this.i++;
    return t;
  }
  private fail(expect: string): never {
    const t = this.cur;
    const found = t.kind === 'eof' ? 'EOF' : t.kind === 'semi' ? (t.value === ';' ? "';'" : 'newline') : `'${t.value}'`;
    throw new GoSyntaxError(`expected ${expect}, found ${found}`, t.pos);
  }
  private expectOp(value: string): Tok {
    if (!this.isOp(value)) this.fail(`'${value}'`);
    return this.next();
  }
  private expectKeyword(value: string): Tok {
    if (!this.is('keyword', value)) this.fail(`'${value}'`);
    return this.next();
  }
  private ident(): string {
    if (!this.is('ident')) this.fail('identifier');
    return this.next().value;
  }
  private skipSemi(): void {
    if (this.is('semi')) this.next();
  }
  private startsType(t: Tok = this.cur): boolean {
    return (t.kind === 'ident' && t.value !== '_') || (t.kind === 'op' && TYPE_START_OPS.has(t.value)) ||
      (t.kind === 'keyword' && TYPE_START_KEYWORDS.has(t.value));
  }

  /** `package main; func main(<params>) [result] {}` and nothing else. */
  parseMainSignature(): Field[] {
    this.expectKeyword('package');
    const pkg = this.ident();
    if (pkg === '_') this.fail('package name');
    this.skipSemi();
    this.expectKeyword('func');
    if (this.ident() !== 'main') this.fail("'main'");
    if (this.isOp('[')) this.typeParameters();
    const params = this.parameters(true);
    this.result();
    this.expectOp('{');
    this.expectOp('}');
    this.skipSemi();
    if (!this.is('eof')) this.fail("'func', 'var', 'type' or 'const'");
    return params;
  }

  private typeParameters(): void {
    this.expectOp('[');
    this.skipBalanced('[', ']');
  }

  /** Skip tokens up to and including the closer matching an already consumed opener. */
  private skipBalanced(open: string, close: string): void {
    let depth = 1;
    while (depth > 0) {
      if (this.is('eof')) this.fail(`'${close}'`);
      const t = this.next();
      if (t.kind === 'op' && t.value === open) depth++;
      else if (t.kind === 'op' && t.value === close) depth--;
    }
  }

  private result(): void {
    if (this.isOp('(')) {
      this.parameters(false);
      return;
    }
    if (this.startsType() && !this.isOp('{')) this.typeOrNull();
  }

  /** A parameter list `( ... )`, grouped into fields as Go does. */
  private parameters(trailing: boolean): Field[] {
    const open = this.expectOp('(');
    type Entry = { name?: string; typ?: TypeNode; bare?: string; ellipsis?: boolean };
    const entries: Entry[] = [];
    while (!this.isOp(')')) {
      if (this.is('ident')) {
        const name = this.next().value;
        if (this.isOp(',') || this.isOp(')')) entries.push({ bare: name });
        else if (this.isOp('.')) entries.push({ typ: this.qualifiedIdent(name) });
        else if (this.isOp('[')) {
          const r = this.arrayOrTypeArgs();
          if (r.generic) entries.push({ typ: { k: 'other' } });
          else entries.push({ name, typ: r.typ });
        } else if (this.isOp('...')) {
          this.next();
          this.type();
          entries.push({ name, typ: { k: 'other' }, ellipsis: true });
        } else entries.push({ name, typ: this.type() });
      } else if (this.isOp('...')) {
        this.next();
        this.type();
        entries.push({ typ: { k: 'other' }, ellipsis: true });
      } else {
        entries.push({ typ: this.type() });
      }
      if (this.isOp(',')) this.next();
      else if (!this.isOp(')')) this.fail("',' or ')'");
    }
    this.next();

    let fields: Field[];
    if (entries.some((e) => e.name !== undefined)) {
      fields = [];
      let pending: string[] = [];
      for (const e of entries) {
        if (e.bare !== undefined) pending.push(e.bare);
        else if (e.name !== undefined) {
          fields.push({ names: [...pending, e.name], typ: e.typ!, tag: null, ellipsis: e.ellipsis });
          pending = [];
        } else throw new GoSyntaxError('mixed named and unnamed parameters', open.pos);
      }
      if (pending.length) throw new GoSyntaxError('mixed named and unnamed parameters', open.pos);
    } else {
      fields = entries.map((e) => {
        if (e.bare === '_') throw new GoSyntaxError('expect a type representation', open.pos);
        return { names: [], typ: e.bare !== undefined ? { k: 'ident', name: e.bare } : e.typ!, tag: null, ellipsis: e.ellipsis };
      });
    }
    fields.forEach((f, idx) => {
      if (f.ellipsis && (idx !== fields.length - 1 || !trailing)) {
        throw new GoSyntaxError('can only use ... with final parameter in list', open.pos);
      }
    });
    return fields;
  }

  /**
   * After an identifier, at `[`: a slice/array type (`a []int`, `a [3]int`) or a generic
   * instance (`List[int]`).
   */
  private arrayOrTypeArgs(): { generic: boolean; typ: TypeNode } {
    this.expectOp('[');
    if (this.isOp(']')) {
      this.next();
      return { generic: false, typ: { k: 'slice', elt: this.type() } };
    }
    if (this.isOp('...')) {
      this.next();
      this.expectOp(']');
      return { generic: false, typ: { k: 'array', elt: this.type() } };
    }
    this.skipBalanced('[', ']');
    if (this.startsType()) return { generic: false, typ: { k: 'array', elt: this.type() } };
    return { generic: true, typ: { k: 'other' } };
  }

  private type(): TypeNode {
    const t = this.typeOrNull();
    if (!t) this.fail('a type');
    return t;
  }

  private typeOrNull(): TypeNode | null {
    const t = this.cur;
    if (t.kind === 'op') {
      switch (t.value) {
        case '*':
          this.next();
          this.type();
          return { k: 'other' };
        case '<-':
          this.next();
          this.expectKeyword('chan');
          this.type();
          return { k: 'other' };
        case '[': {
          this.next();
          if (this.isOp(']')) {
            this.next();
            return { k: 'slice', elt: this.type() };
          }
          if (this.isOp('...')) this.next();
          else {
            if (this.isOp(']')) this.fail('array length');
            // array length: any expression up to the matching ']'
            let depth = 0;
            while (!(depth === 0 && this.isOp(']'))) {
              if (this.is('eof')) this.fail("']'");
              const x = this.next();
              if (x.kind === 'op' && ['[', '(', '{'].includes(x.value)) depth++;
              else if (x.kind === 'op' && [']', ')', '}'].includes(x.value)) depth--;
            }
          }
          this.expectOp(']');
          return { k: 'array', elt: this.type() };
        }
        case '(': {
          this.next();
          const inner = this.type();
          this.expectOp(')');
          return inner;
        }
        default:
          return null;
      }
    }
    if (t.kind === 'keyword') {
      switch (t.value) {
        case 'func':
          this.next();
          if (this.isOp('[')) this.fail("'('");
          this.parameters(true);
          this.result();
          return { k: 'other' };
        case 'chan':
          this.next();
          if (this.isOp('<-')) this.next();
          this.type();
          return { k: 'other' };
        case 'map':
          this.next();
          this.expectOp('[');
          this.type();
          this.expectOp(']');
          this.type();
          return { k: 'map' };
        case 'struct':
          return this.structType();
        case 'interface':
          this.next();
          this.expectOp('{');
          this.skipBalanced('{', '}');
          return { k: 'interface' };
        default:
          return null;
      }
    }
    if (t.kind === 'ident') {
      if (t.value === '_') return null;
      this.next();
      return this.qualifiedIdent(t.value);
    }
    return null;
  }

  /** `Name`, `pkg.Name`, optionally with type arguments `[...]`. */
  private qualifiedIdent(first: string): TypeNode {
    let node: TypeNode = { k: 'ident', name: first };
    if (this.isOp('.')) {
      this.next();
      this.ident();
      node = { k: 'other' };
    }
    if (this.isOp('[')) {
      this.next();
      if (this.isOp(']')) this.fail('type argument list');
      this.type();
      while (this.isOp(',')) {
        this.next();
        if (this.isOp(']')) break;
        this.type();
      }
      this.expectOp(']');
      node = { k: 'other' };
    }
    return node;
  }

  private tagOrNull(): string | null {
    return this.is('string') ? this.next().value : null;
  }

  private structType(): TypeNode {
    this.expectKeyword('struct');
    this.expectOp('{');
    const fields: Field[] = [];
    while (!this.isOp('}')) {
      if (this.is('ident')) {
        const name = this.next().value;
        if (this.isOp('.') || this.is('semi') || this.isOp('}') || this.is('string')) {
          const typ = this.qualifiedIdent(name);
          fields.push({ names: [], typ, tag: this.tagOrNull() });
        } else {
          const names = [name];
          while (this.isOp(',')) {
            this.next();
            names.push(this.ident());
          }
          let typ: TypeNode;
          if (names.length === 1 && this.isOp('[')) {
            const r = this.arrayOrTypeArgs();
            if (r.generic) {
              fields.push({ names: [], typ: { k: 'other' }, tag: this.tagOrNull() });
              this.skipSemi();
              continue;
            }
            typ = r.typ;
          } else typ = this.type();
          fields.push({ names, typ, tag: this.tagOrNull() });
        }
      } else if (this.isOp('*')) {
        this.next();
        const typ = this.qualifiedIdent(this.ident());
        fields.push({ names: [], typ, tag: this.tagOrNull() });
      } else {
        this.fail('field name or embedded field');
      }
      this.skipSemi();
    }
    this.expectOp('}');
    return { k: 'struct', fields };
  }
}

// ---------------------------------------------------------------------------------------------
// Mapping to the reference's argument types
// ---------------------------------------------------------------------------------------------

function goTyp(t: TypeNode): [string | null, ArgType] {
  switch (t.k) {
    case 'ident': {
      let typ: ArgType;
      switch (t.name) {
        case 'int': case 'int16': case 'int32': case 'int64':
          typ = 'int';
          break;
        case 'string':
          typ = { str: null };
          break;
        case 'bool':
          typ = 'bool';
          break;
        default:
          typ = 'unknown';
      }
      return [t.name, typ];
    }
    case 'slice':
    case 'array': {
      const [otyp, typ] = goTyp(t.elt);
      return [otyp === null ? null : `[]${otyp}`, { list: typ }];
    }
    case 'struct': {
      const parts: string[] = [];
      const props: ObjectProp[] = [];
      for (const f of t.fields) {
        const name = f.names[0] ?? '';
        let key = name;
        if (f.tag !== null && f.tag.startsWith('`json:"') && f.tag.endsWith('"`') && f.tag.length >= 9) {
          key = f.tag.slice('`json:"'.length, -2).split(',')[0]!;
        }
        const [otyp, typ] = goTyp(f.typ);
        parts.push(`${name} ${otyp ?? 'interface{}'} \`json:"${key}"\``);
        props.push({ key, typ });
      }
      return [`struct { ${parts.join('; ')} }`, { object: { name: null, props } }];
    }
    case 'interface':
      return ['interface{}', { object: { name: null, props: [] } }];
    case 'map':
      return ['map[string]interface{}', { object: { name: null, props: [] } }];
    default:
      return [null, 'unknown'];
  }
}

const FUNC_MAIN = 'func main(';
const PRELUDE = 'package main;\n';

function invalid(message?: string, line?: number): ParseOutput {
  const out: ParseOutput = { type: 'Invalid', args: [], has_preprocessor: null };
  if (message !== undefined) out.error = line === undefined ? { message } : { message, line };
  return out;
}

export function parseGo(code: string): ParseOutput {
  // Locate `func main(` at the start of a line, as the reference does.
  const lines = code.split('\n');
  let lineNo = -1;
  let lineStart = 0;
  for (let i = 0, off = 0; i < lines.length; off += lines[i]!.length + 1, i++) {
    if (lines[i]!.startsWith(FUNC_MAIN)) {
      lineNo = i;
      lineStart = off;
      break;
    }
  }
  // Without it the reference parses `package main;\n{}`, which fails: the script is invalid.
  if (lineNo < 0) return invalid();

  // The rest of the main line is glued to the following lines without the line break.
  const firstRest = lines[lineNo]!.slice(FUNC_MAIN.length);
  const remaining = firstRest + lines.slice(lineNo + 1).join('\n');
  let params = '';
  let open = 1;
  for (const c of remaining) {
    if (c === '(') open++;
    else if (c === ')') open--;
    params += c;
    if (open === 0) break;
  }
  const filtered = `${PRELUDE}${FUNC_MAIN}${params}{}`;

  // Map a position of `filtered` back to a 1-based line of the original file.
  const lineOf = (pos: number): number => {
    let r = Math.max(0, pos - PRELUDE.length - FUNC_MAIN.length);
    if (r >= firstRest.length) r += 1;
    const orig = Math.min(code.length, lineStart + FUNC_MAIN.length + r);
    let line = 1;
    for (let i = 0; i < orig; i++) if (code.charCodeAt(i) === 10) line++;
    return line;
  };

  if (open !== 0) return invalid('unclosed parameter list of func main', lineNo + 1);

  let fields: Field[];
  try {
    fields = new Parser(tokenize(filtered)).parseMainSignature();
  } catch (e) {
    if (e instanceof GoSyntaxError) return invalid(`syntax error in func main signature: ${e.message}`, lineOf(e.pos));
    throw e;
  }

  // `a, b string` gives two arguments (struct fields, by contrast, keep only their first name)
  const args: Arg[] = fields.flatMap((f) => {
    const [otyp, typ] = goTyp(f.typ);
    const names = f.names.length > 0 ? f.names : [''];
    return names.map((name) => ({ name, typ: structuredClone(typ), default: null, has_default: false, otyp, oidx: null }));
  });
  return { star_args: false, star_kwargs: false, args, auto_kind: null, has_preprocessor: null };
}
