/**
 * PowerShell signature parser, compatible with the reference `parse_powershell`
 * (`windmill-parser-wasm-regex`).
 *
 * The `param(...)` block must be the first thing in the file (only whitespace, `#`/`<# #>` comments
 * and attributes such as `[CmdletBinding()]` may precede it). Inside, each parameter is
 * `[attributes][type]$Name = default`, separated by top-level commas:
 *   - type: the last bracket that looks like a type name before `$` (`[string]`, `[int[]]`, ...);
 *     `string`, `int`/`long`, `decimal`/`double`/`single`, `datetime`, `bool`/`switch`,
 *     `pscustomobject` are mapped, `T[]` is a list, anything else (e.g. `hashtable`) is a string;
 *     `otyp` keeps the bracket text as written;
 *   - `[ValidateSet('a','b')]` makes a string enum;
 *   - a default is a quoted string, or a JSON number (an untyped parameter then becomes int/float);
 *     anything else (`$true`, `$env:X`, `(Get-Date)`) gives no default;
 *   - every parameter is optional (`has_default`) unless `[Parameter(Mandatory)]` without default.
 *
 * The scanner deliberately mirrors the reference's byte/character index arithmetic so that
 * non-ASCII text behaves the same; for ASCII input it is a plain character scan.
 */
import type { Arg, ArgType, ParseOutput } from './types.js';
import { jsonNumberFromStr, rustParseF64, rustParseI64 } from './sql.js';

const isWhitespace = (c: string | undefined) => c !== undefined && /^\s$/u.test(c) && c !== '\uFEFF';
const isAlphanumeric = (c: string | undefined) => c !== undefined && /^[\p{Alphabetic}\p{N}]$/u.test(c);
const isAlphabetic = (c: string | undefined) => c !== undefined && /^\p{Alphabetic}$/u.test(c);
const isAsciiWordByte = (b: number) =>
  (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x5f;
const isCharBoundary = (buf: Buffer, i: number) => i >= buf.length || i === 0 || (buf[i]! & 0xc0) !== 0x80;

/**
 * Content of the leading `param( ... )` block (between the parentheses), or null.
 */
export function extractParamBlock(code: string): string | null {
  const chars = Array.from(code);
  const buf = Buffer.from(code, 'utf8');
  let inBlockComment = false;
  let inAttribute = false;
  let depth = 0;
  let inSingle = false;
  let inDouble = false;
  let paramStart: number | null = null;

  let i = 0;
  while (i < chars.length) {
    const ch = chars[i]!;
    const idx = i; // the reference uses this character index as a byte offset below
    i++;
    if (inBlockComment) {
      if (ch === '#' && chars[i] === '>') {
        i++;
        inBlockComment = false;
      }
    } else if (inAttribute) {
      if (inSingle) {
        if (ch === "'") inSingle = false;
      } else if (inDouble) {
        if (ch === '"') inDouble = false;
      } else if (ch === "'") inSingle = true;
      else if (ch === '"') inDouble = true;
      else if (ch === '[') depth++;
      else if (ch === ']') {
        depth--;
        if (depth === 0) inAttribute = false;
      }
    } else if (ch === '<' && chars[i] === '#') {
      i++;
      inBlockComment = true;
    } else if (ch === '#') {
      while (i < chars.length) {
        const c = chars[i++]!;
        if (c === '\n' || c === '\r') break;
      }
    } else if (ch === '[') {
      inAttribute = true;
      depth = 1;
    } else if (ch === 'p' || ch === 'P') {
      if (buf.length - idx >= 5) {
        if (!isCharBoundary(buf, idx) || !isCharBoundary(buf, idx + 1) || !isCharBoundary(buf, idx + 5)) return null;
        const nextFour = buf.subarray(idx + 1, idx + 5).toString('latin1');
        if (nextFour.toLowerCase() === 'aram') {
          const beforeOk = idx === 0 || !isAsciiWordByte(buf[idx - 1]!);
          const afterOk = idx + 5 >= buf.length || !isAsciiWordByte(buf[idx + 5]!);
          if (beforeOk && afterOk) {
            paramStart = idx;
            break;
          }
        }
      }
    } else if (isWhitespace(ch)) {
      // allowed
    } else {
      return null;
    }
  }
  if (inBlockComment || inAttribute || paramStart === null) return null;

  if (!isCharBoundary(buf, paramStart + 5)) return null;
  const after = buf.subarray(paramStart + 5).toString('utf8');
  const rest = Array.from(after);
  let k = 0;
  // skip whitespace up to '('
  for (; k < rest.length; k++) {
    const c = rest[k]!;
    if (c === '(') break;
    if (!isWhitespace(c)) return null;
  }
  if (k >= rest.length) return null;
  const start = k + 1;
  let parens = 1;
  let sq = false;
  let dq = false;
  let escape = false;
  for (let j = start; j < rest.length; j++) {
    const c = rest[j]!;
    if (escape) {
      escape = false;
      continue;
    }
    if (c === '`' && dq) escape = true;
    else if (c === "'" && !dq) sq = !sq;
    else if (c === '"' && !sq) dq = !dq;
    else if (c === '(' && !sq && !dq) parens++;
    else if (c === ')' && !sq && !dq) {
      parens--;
      if (parens === 0) return rest.slice(start, j).join('');
    }
  }
  return null;
}

function singleTyp(t: string): ArgType {
  switch (t.toLowerCase()) {
    case 'string':
      return { str: null };
    case 'int':
    case 'long':
      return 'int';
    case 'decimal':
    case 'double':
    case 'single':
      return 'float';
    case 'datetime':
      return 'datetime';
    case 'bool':
    case 'switch':
      return 'bool';
    case 'pscustomobject':
      return { object: { name: null, props: null } };
    default:
      return { str: null };
  }
}

/** Values of `ValidateSet('a', "b", c)`. */
function parseValidateSet(content: string): string[] | null {
  const start = content.indexOf('(');
  const end = content.lastIndexOf(')');
  if (start < 0 || end < 0 || start >= end) return null;
  const values: string[] = [];
  let cur = '';
  let sq = false;
  let dq = false;
  let escape = false;
  for (const c of content.slice(start + 1, end)) {
    if (escape) {
      cur += c;
      escape = false;
      continue;
    }
    if (c === '`' && dq) escape = true;
    else if (c === "'" && !dq) {
      if (sq) {
        values.push(cur);
        cur = '';
        sq = false;
      } else sq = true;
    } else if (c === '"' && !sq) {
      if (dq) {
        values.push(cur);
        cur = '';
        dq = false;
      } else dq = true;
    } else if (c === ',' && !sq && !dq) continue;
    else if (sq || dq) cur += c;
    else if (!isWhitespace(c)) cur += c;
  }
  if (cur !== '') values.push(cur.trim());
  return values.length ? values : null;
}

function finalize(
  name: string,
  typeAnnotation: string | null,
  defaultValue: string | null,
  mandatory: boolean,
  validateSet: string[] | null,
): Arg {
  let typ: ArgType | null = null;
  if (validateSet) typ = { str: validateSet };
  else if (typeAnnotation !== null) {
    typ = typeAnnotation.endsWith('[]') ? { list: singleTyp(typeAnnotation.slice(0, -2)) } : singleTyp(typeAnnotation);
  }
  let def: unknown = undefined;
  if (defaultValue !== null) {
    const d = defaultValue;
    if ((d.startsWith('"') && d.endsWith('"')) || (d.startsWith("'") && d.endsWith("'"))) {
      def = d.length >= 2 ? d.slice(1, -1) : '';
    } else {
      if (typ === null) {
        if (rustParseI64(d) !== undefined) typ = 'int';
        else if (rustParseF64(d) !== undefined) typ = 'float';
      }
      def = jsonNumberFromStr(d);
    }
  }
  return {
    name,
    typ: typ ?? { str: null },
    default: def === undefined ? null : def,
    has_default: def !== undefined || !mandatory,
    otyp: typeAnnotation,
    oidx: null,
  };
}

/** Parse the parameters inside a `param( ... )` block. */
function parseParameters(content: string): Arg[] {
  const cps = Array.from(content);
  const buf = Buffer.from(content, 'utf8');
  // byte offset of each character (the reference mixes these with character positions)
  const off: number[] = new Array(cps.length + 1);
  let b = 0;
  for (let i = 0; i < cps.length; i++) {
    off[i] = b;
    b += Buffer.byteLength(cps[i]!, 'utf8');
  }
  off[cps.length] = b;
  const sliceBytes = (from: number, to: number) => buf.subarray(from, Math.max(from, to)).toString('utf8');
  // `content.chars().nth(byte_offset - 1)`
  const prevByNth = (byteOffset: number) => (byteOffset > 0 ? cps[byteOffset - 1] : undefined);

  const args: Arg[] = [];
  type State = 'normal' | 'single' | 'double' | 'bracket';
  let state: State = 'normal';
  let depth = 0;
  let typeAnnotation: string | null = null;
  let varName: string | null = null;
  let defaultValue: string | null = null;
  let mandatory = false;
  let validateSet: string[] | null = null;
  let bracketStart: number | null = null;
  let foundDollar = false;

  let i = 0;
  while (i < cps.length) {
    const ch = cps[i]!;
    const idx = off[i]!;
    i++;
    if (state === 'single') {
      if (ch === "'") state = 'normal';
    } else if (state === 'double') {
      if (ch === '"' && idx > 0 && prevByNth(idx) !== '`') state = 'normal';
    } else if (state === 'bracket') {
      if (ch === '[') depth++;
      else if (ch === ']') {
        depth--;
        if (depth === 0) {
          if (bracketStart !== null) {
            const content = sliceBytes(bracketStart + 1, idx);
            const lower = content.toLowerCase();
            if ((lower.startsWith('parameter(') || lower.startsWith('parameter ')) && lower.includes('mandatory')) {
              if (!lower.includes('mandatory=$false') && !lower.includes('mandatory = $false')) mandatory = true;
            }
            if (lower.startsWith('validateset(')) {
              const values = parseValidateSet(content);
              if (values) validateSet = values;
            }
            const first = Array.from(content)[0] ?? ' ';
            const isType = !content.includes('(') && !content.includes('=') && (isAlphabetic(first) || content.startsWith('['));
            if (isType && !foundDollar) typeAnnotation = content;
          }
          state = 'normal';
          bracketStart = null;
        }
      }
    } else {
      if (ch === "'") state = 'single';
      else if (ch === '"') state = 'double';
      else if (ch === '[') {
        state = 'bracket';
        depth = 1;
        bracketStart = idx;
      } else if (ch === '$') {
        foundDollar = true;
        const nameStart = idx + 1;
        let nameEnd = nameStart;
        while (i < cps.length && (isAlphanumeric(cps[i]) || cps[i] === '_')) {
          nameEnd += 1;
          i++;
        }
        varName = sliceBytes(nameStart, nameEnd);
      } else if (ch === '=' && foundDollar) {
        while (i < cps.length && isWhitespace(cps[i])) i++;
        const defStart = i < cps.length ? off[i]! : buf.length;
        let defEnd = defStart;
        let inString = false;
        let quote = ' ';
        while (i < cps.length) {
          const c = cps[i]!;
          const ci = off[i]!;
          if (inString) {
            if (c === quote && cps[Math.max(ci - 1, 0)] !== '`') inString = false;
            defEnd = ci + 1;
            i++;
          } else if (c === "'" || c === '"') {
            inString = true;
            quote = c;
            defEnd = ci + 1;
            i++;
          } else if (c === ',') {
            break;
          } else if (isWhitespace(c) && cps[i + 1] === ',') {
            break;
          } else {
            defEnd = ci + 1;
            i++;
          }
        }
        defaultValue = sliceBytes(defStart, defEnd).trim();
      } else if (ch === ',') {
        if (varName !== null) {
          args.push(finalize(varName, typeAnnotation, defaultValue, mandatory, validateSet));
        }
        typeAnnotation = null;
        varName = null;
        defaultValue = null;
        mandatory = false;
        validateSet = null;
        foundDollar = false;
      }
    }
  }
  if (varName !== null) args.push(finalize(varName, typeAnnotation, defaultValue, mandatory, validateSet));
  return args;
}

export function parsePowershell(code: string): ParseOutput {
  const block = extractParamBlock(code);
  const args = block === null ? [] : parseParameters(block);
  return { star_args: false, star_kwargs: false, args, auto_kind: null, has_preprocessor: null };
}
