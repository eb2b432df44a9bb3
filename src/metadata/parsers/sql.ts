/**
 * Signature parsers for the SQL dialects, compatible with the reference `windmill-parser-wasm-regex`
 * (`parse_sql` = PostgreSQL, `parse_mysql`, `parse_bigquery`, `parse_snowflake`, `parse_mssql`,
 * `parse_oracledb`, `parse_duckdb`).
 *
 * Arguments are declared in line comments at the start of a line:
 *   PostgreSQL  `-- $1 name = default` or `-- $1 name (type) = default`; other types come from casts `$1::type`
 *   MySQL       `-- ? name (type) = default`, or named `-- :name (type) = default` (named wins when present)
 *   Oracle      same comment syntax as MySQL, Oracle type names
 *   BigQuery    `-- @name (type) = default` (type may end in `[]`)
 *   Snowflake   `-- ? name (type) = default`
 *   MS SQL      `-- @P1 name (type) = default`
 *   DuckDB      `-- $name (type) = default`
 * plus, for every dialect, raw interpolations `-- %%name%% a/b/c = default` appended last.
 *
 * The implicit `database` argument is NOT produced here: the schema layer adds it.
 *
 * Regex notes: the reference uses Rust's `regex_lite` in `(?m)` mode, where `.` is "anything but \n",
 * `\w`/`\d`/`\s` are ASCII, `^` is "start of input or after \n" and `$` is "end of input or before \n".
 * The JavaScript patterns below spell those out (`[^\n]`, lookbehind on `\n`, no `m` flag) so that
 * `\r` (CRLF files) behaves exactly as in the reference.
 */
import type { Arg, ArgType, ParseOutput } from './types.js';

export { parseGraphql } from './graphql.js';

export type SqlDialect = 'postgresql' | 'mysql' | 'bigquery' | 'snowflake' | 'mssql' | 'oracledb' | 'duckdb';

// ---------------------------------------------------------------------------------------------
// Rust-compatible scalar parsing (shared with the other regex parsers)
// ---------------------------------------------------------------------------------------------

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/** `str::parse::<i64>()`: optional sign, ASCII digits, within range. `undefined` when it fails. */
export function rustParseI64(s: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const v = BigInt(s);
  if (v < I64_MIN || v > I64_MAX) return undefined;
  return Number(v);
}

/** `str::parse::<i32>()`. */
export function rustParseI32(s: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const v = Number(s);
  if (!Number.isFinite(v) || v < -2147483648 || v > 2147483647) return undefined;
  return v;
}

/**
 * `str::parse::<f64>()` followed by `json!(x)`: `undefined` when the text is not a Rust float,
 * `null` for inf/NaN (serde_json turns non-finite floats into null), else the number.
 */
export function rustParseF64(s: string): number | null | undefined {
  if (!/^[+-]?(?:inf|infinity|nan|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)$/i.test(s)) return undefined;
  const body = s.replace(/^[+-]/, '').toLowerCase();
  if (body === 'inf' || body === 'infinity' || body === 'nan') return null;
  const v = Number(s);
  return Number.isFinite(v) ? v : null;
}

/** `serde_json::Number::from_str`: strict JSON number grammar. */
export function jsonNumberFromStr(s: string): number | undefined {
  if (!/^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/.test(s)) return undefined;
  const v = Number(s);
  return Number.isFinite(v) ? v : undefined;
}

const emptyObject = (): ArgType => ({ object: { name: null, props: [] } });

function isStr(t: ArgType): boolean {
  return typeof t === 'object' && t !== null && 'str' in t;
}

/** The reference's `parsed_default`, shared by every SQL dialect. */
function parsedDefault(typ: ArgType, def: string): unknown {
  if (def.toLowerCase() === 'null') return null;
  if (typ === 'int') return rustParseI64(def) ?? null;
  if (typ === 'float') {
    const v = rustParseF64(def);
    return v === undefined ? null : v;
  }
  if (typ === 'bool') return def === 'true' ? true : def === 'false' ? false : null;
  if (isStr(typ) && def.length >= 2 && def.startsWith("'") && def.endsWith("'")) return def.slice(1, -1);
  return def;
}

// ---------------------------------------------------------------------------------------------
// Type tables
// ---------------------------------------------------------------------------------------------

function s3(): ArgType {
  return { resource: 'S3Object' };
}

export function mysqlTyp(t: string): ArgType {
  switch (t) {
    case 'varchar': case 'char': case 'binary': case 'varbinary': case 'blob': case 'text': case 'enum': case 'set':
      return { str: null };
    case 'int': case 'uint': case 'integer':
      return 'int';
    case 'bool': case 'bit':
      return 'bool';
    case 'double precision': case 'float': case 'real': case 'dec': case 'fixed':
      return 'float';
    case 'date': case 'datetime': case 'timestamp': case 'time':
      return 'datetime';
    case 's3object':
      return s3();
    default:
      return { str: null };
  }
}

export function oracledbTyp(t: string): ArgType {
  switch (t) {
    case 'varchar': case 'nvarchar': case 'varchar2': case 'char': case 'nchar': case 'nvarchar2':
    case 'clob': case 'blob': case 'nclob':
      return { str: null };
    case 'integer': case 'int': case 'long': case 'rowid': case 'urowid':
      return 'int';
    case 'bool':
      return 'bool';
    case 'number': case 'float': case 'binary_float': case 'binary_double':
      return 'float';
    case 'date': case 'datetime': case 'timestamp': case 'time':
      return 'datetime';
    default:
      return { str: null };
  }
}

export function pgTyp(t: string): ArgType {
  if (t.endsWith('[]')) return { list: pgTyp(t.slice(0, -2)) };
  switch (t) {
    case 'varchar': case 'character varying': case 'text': case 'char': case 'character':
      return { str: null };
    case 'int': case 'integer': case 'int4': case 'bigint': case 'smallint': case 'int2':
    case 'smallserial': case 'serial2': case 'serial': case 'serial4': case 'bigserial': case 'serial8': case 'oid':
      return 'int';
    case 'bool': case 'boolean':
      return 'bool';
    case 'json': case 'jsonb':
      return emptyObject();
    case 'real': case 'float4': case 'double': case 'double precision': case 'float8': case 'numeric': case 'decimal':
      return 'float';
    case 'date': case 'time': case 'timetz': case 'time with time zone': case 'time without time zone':
    case 'timestamp': case 'timestamptz': case 'timestamp with time zone': case 'timestamp without time zone':
      return 'datetime';
    case 'bytea':
      return 'bytes';
    case 's3object':
      return s3();
    default:
      return { str: null };
  }
}

export function bigqueryTyp(t: string): ArgType {
  if (t.endsWith('[]')) return { list: bigqueryTyp(t.slice(0, -2)) };
  switch (t) {
    case 'string':
      return { str: null };
    case 'bytes':
      return 'bytes';
    case 'json':
      return emptyObject();
    case 'timestamp': case 'date': case 'time': case 'datetime':
      return 'datetime';
    case 'integer': case 'int64':
      return 'int';
    case 'float': case 'float64': case 'numeric': case 'bignumeric':
      return 'float';
    case 'boolean': case 'bool':
      return 'bool';
    case 's3object':
      return s3();
    default:
      return { str: null };
  }
}

export function duckdbTyp(t: string): ArgType {
  if (t.endsWith('[]')) return { list: duckdbTyp(t.slice(0, -2)) };
  switch (t) {
    case 'varchar': case 'char': case 'bpchar': case 'text': case 'string':
      return { str: null };
    case 'blob': case 'bytea': case 'binary': case 'varbinary': case 'bitstring':
      return 'bytes';
    case 'boolean': case 'bool': case 'bit': case 'logical':
      return 'bool';
    case 'bigint': case 'int8': case 'long': case 'integer': case 'int4': case 'int': case 'smallint': case 'int2':
    case 'short': case 'tinyint': case 'int1': case 'signed': case 'ubigint': case 'uhugeint': case 'uinteger':
    case 'usmallint': case 'utinyint':
      return 'int';
    case 'decimal': case 'numeric': case 'double': case 'float8': case 'float': case 'float4': case 'real':
      return 'float';
    case 'date': case 'time': case 'timestamp with time zone': case 'timestamptz': case 'timestamp': case 'datetime':
      return 'datetime';
    case 's3object':
      return s3();
    default:
      // uuid, json, interval, hugeint and anything unknown
      return { str: null };
  }
}

export function snowflakeTyp(t: string): ArgType {
  switch (t) {
    case 'varchar':
      return { str: null };
    case 'binary':
      return 'bytes';
    case 'date': case 'time': case 'timestamp':
      return 'datetime';
    case 'int':
      return 'int';
    case 'float':
      return 'float';
    case 'boolean':
      return 'bool';
    case 's3object':
      return s3();
    default:
      return { str: null };
  }
}

export function mssqlTyp(t: string): ArgType {
  switch (t) {
    case 'char': case 'text': case 'varchar': case 'nchar': case 'nvarchar': case 'ntext':
      return { str: null };
    case 'binary': case 'varbinary': case 'image':
      return 'bytes';
    case 'date': case 'datetime2': case 'datetime': case 'datetimeoffset': case 'smalldatetime': case 'time':
      return 'datetime';
    case 'bigint': case 'int': case 'tinyint': case 'smallint':
      return 'int';
    case 'float': case 'real': case 'numeric': case 'decimal':
      return 'float';
    case 'bit':
      return 'bool';
    case 's3object':
      return s3();
    default:
      return { str: null };
  }
}

// ---------------------------------------------------------------------------------------------
// Comment patterns (see the header for how Rust's (?m) semantics are reproduced)
// ---------------------------------------------------------------------------------------------

const BOL = '(?<=^|\\n)';
const DEFAULT_EOL = '(?: ?= ?([^\\n]+))? *(?:\\r|\\n|$)';
const ASCII_WS = '[\\t\\n\\x0B\\f\\r ]';

const RE_ARG_QMARK = () => new RegExp(`${BOL}-- \\? (\\w+) \\((\\w+)\\)${DEFAULT_EOL}`, 'g');
const RE_ARG_NAMED = () => new RegExp(`${BOL}-- :([a-z_][a-z0-9_]*) \\((\\w+(?:\\([\\w, ]+\\))?)\\)${DEFAULT_EOL}`, 'g');
const RE_ARG_PGSQL = () => new RegExp(`${BOL}-- \\$(\\d+) (\\w+)(?: \\(([A-Za-z0-9_\\[\\]]+)\\))?${DEFAULT_EOL}`, 'g');
const RE_ARG_BIGQUERY = () => new RegExp(`${BOL}-- @(\\w+) \\((\\w+(?:\\[\\])?)\\)${DEFAULT_EOL}`, 'g');
const RE_ARG_DUCKDB = () => new RegExp(`${BOL}-- \\$(\\w+) \\(([A-Za-z0-9_\\[\\]]+)\\)${DEFAULT_EOL}`, 'g');
const RE_ARG_MSSQL = () => new RegExp(`${BOL}-- @[Pp]\\d+ (\\w+) \\((\\w+)\\)${DEFAULT_EOL}`, 'g');
const RE_ARG_INTERPOLATION = () =>
  new RegExp(`${BOL}--${ASCII_WS}*%%([a-z_][a-z0-9_]*)%%[ \\t]*(\\w[\\w \\t/]*)?${DEFAULT_EOL}`, 'g');
const RE_CODE_PGSQL = () => /\$(\d+)(?:::(\w+(?:\[\])?))?/g;

/** Thrown where the reference returns an error (its wasm wrapper then answers `{"type":"Invalid"}`). */
class SqlInvalid extends Error {}

function arg(name: string, typ: ArgType, def: string | undefined, otyp: string, oidx: number | null = null): Arg {
  return {
    name,
    typ,
    default: def === undefined ? null : parsedDefault(typ, def),
    has_default: def !== undefined,
    otyp,
    oidx,
  };
}

/** `-- name (type) = default` style dialects: one argument per matching comment, in file order. */
function commentArgs(code: string, re: RegExp, typOf: (t: string) => ArgType): Arg[] {
  const out: Arg[] = [];
  for (const m of code.matchAll(re)) {
    const otyp = m[2]!.toLowerCase();
    out.push(arg(m[1]!, typOf(otyp), m[3], otyp));
  }
  return out;
}

/** `-- %%name%% a/b/c = default`: a raw string, or an enum of the listed variants. */
function interpolationArgs(code: string): Arg[] {
  const out: Arg[] = [];
  for (const m of code.matchAll(RE_ARG_INTERPOLATION())) {
    const variants = m[2];
    let typ: ArgType;
    let otyp: string;
    if (variants !== undefined) {
      typ = { str: variants.split('/').map((x) => x.trim()).filter((x) => x !== '') };
      otyp = '__sanitized_enum__';
    } else {
      typ = { str: null };
      otyp = '__sanitized_raw_string__';
    }
    out.push(arg(m[1]!, typ, m[3], otyp));
  }
  return out;
}

function mysqlLikeArgs(code: string, typOf: (t: string) => ArgType): Arg[] {
  const named = commentArgs(code, RE_ARG_NAMED(), typOf);
  const args = named.length > 0 ? named : commentArgs(code, RE_ARG_QMARK(), typOf);
  return args.concat(interpolationArgs(code));
}

const MULTI_WORD_PG_TYPES: [string, string][] = [
  ['character varying', 'varchar'],
  ['double precision', 'double'],
  ['time with time zone', 'timetz'],
  ['time without time zone', 'time'],
  ['timestamp with time zone', 'timestamptz'],
  ['timestamp without time zone', 'timestamp'],
];

const asciiLower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** A cast like `$1::double precision` is only captured up to the first word: look for the long forms. */
function castType(code: string, start: number, captured: string): string {
  const text = code.slice(start);
  for (const [long, alias] of MULTI_WORD_PG_TYPES) {
    let rest = text;
    let ok = true;
    for (const token of long.split(' ')) {
      if (rest.length < token.length || asciiLower(rest.slice(0, token.length)) !== token) {
        ok = false;
        break;
      }
      rest = rest.slice(token.length).trimStart();
    }
    if (ok) return rest.startsWith('[]') ? `${alias}[]` : alias;
  }
  return captured;
}

const DOLLAR_TAG = /\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/y;

/**
 * The code with comments (`-- ...`, non-nested `/* ... *\/`), quoted text (`'...'`, `"..."`, no
 * backslash escapes) and dollar-quoted strings (`$$...$$`, `$tag$...$tag$`) blanked out, positions
 * kept. Anything left unterminated runs to the end of the file.
 */
function blankNonCode(code: string): string {
  let out = '';
  let i = 0;
  const n = code.length;
  const blankTo = (end: number) => {
    out += code.slice(i, end).replace(/[^\n]/g, ' ');
    i = end;
  };
  while (i < n) {
    const c = code[i]!;
    if (c === '-' && code[i + 1] === '-') {
      const e = code.indexOf('\n', i);
      blankTo(e < 0 ? n : e);
    } else if (c === '/' && code[i + 1] === '*') {
      const e = code.indexOf('*/', i + 2);
      blankTo(e < 0 ? n : e + 2);
    } else if (c === "'" || c === '"') {
      const e = code.indexOf(c, i + 1);
      blankTo(e < 0 ? n : e + 1);
    } else if (c === '$') {
      DOLLAR_TAG.lastIndex = i;
      const m = DOLLAR_TAG.exec(code);
      if (m) {
        const e = code.indexOf(m[0], i + m[0].length);
        blankTo(e < 0 ? n : e + m[0].length);
      } else {
        out += c;
        i++;
      }
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function pgArgs(code: string): Arg[] {
  const args: Arg[] = [];
  const explicit = new Set<number>();

  // 1. comments with an explicit type: `-- $1 name (type) = default`
  for (const m of code.matchAll(RE_ARG_PGSQL())) {
    const idx = rustParseI32(m[1]!);
    if (idx === undefined) throw new SqlInvalid('Impossible to parse arg digit');
    if (m[3] === undefined) continue;
    explicit.add(idx);
    const otyp = m[3].toLowerCase();
    args.push(arg(m[2]!, pgTyp(otyp), m[4], otyp, idx));
  }

  // 2. every `$N` of the code (not in comments or quoted text) gives an argument; a cast
  //    `$N::type` sets its type and, once seen, is not overridden by later bare uses; without any
  //    cast the type is `text`.
  const seen = new Map<number, { typ: string; inferred: boolean }>();
  const sqlCode = blankNonCode(code);
  for (const m of sqlCode.matchAll(RE_CODE_PGSQL())) {
    const idx = rustParseI32(m[1]!);
    if (idx === undefined) continue; // an index too large for an i32 is ignored in the code
    if (explicit.has(idx)) continue;
    const cast = m[2] === undefined ? undefined : castType(sqlCode, m.index! + 1 + m[1]!.length + 2, m[2]);
    const prev = seen.get(idx);
    if (prev && !prev.inferred) continue;
    seen.set(idx, { typ: cast ?? 'text', inferred: cast === undefined });
  }
  for (const [idx, v] of seen) {
    const otyp = v.typ.toLowerCase();
    args.push({ name: `$${idx}`, typ: pgTyp(otyp), default: null, has_default: false, otyp, oidx: idx });
  }
  args.sort((a, b) => (a.oidx as number) - (b.oidx as number));

  // 3. untyped comments `-- $N name = default` rename the inferred argument and set its default
  for (const m of code.matchAll(RE_ARG_PGSQL())) {
    const idx = rustParseI32(m[1]!);
    if (idx === undefined || explicit.has(idx)) continue;
    const pos = args.findIndex((a) => a.oidx === idx);
    if (pos < 0) continue;
    const old = args[pos]!;
    const def = m[4];
    args[pos] = {
      name: m[2]!,
      typ: old.typ,
      default: def === undefined ? null : parsedDefault(old.typ, def),
      has_default: def !== undefined,
      otyp: old.otyp,
      oidx: old.oidx,
    };
  }

  return args.concat(interpolationArgs(code));
}

function output(args: Arg[]): ParseOutput {
  return { star_args: false, star_kwargs: false, args, auto_kind: null, has_preprocessor: null };
}

/** Parse the arguments of a SQL script of the given dialect (reference `parse_sql`, `parse_mysql`, ...). */
export function parseSql(code: string, dialect: SqlDialect): ParseOutput {
  try {
    switch (dialect) {
      case 'postgresql':
        return output(pgArgs(code));
      case 'mysql':
        return output(mysqlLikeArgs(code, mysqlTyp));
      case 'oracledb':
        return output(mysqlLikeArgs(code, oracledbTyp));
      case 'bigquery':
        return output(commentArgs(code, RE_ARG_BIGQUERY(), bigqueryTyp).concat(interpolationArgs(code)));
      case 'snowflake':
        return output(commentArgs(code, RE_ARG_QMARK(), snowflakeTyp).concat(interpolationArgs(code)));
      case 'mssql':
        return output(commentArgs(code, RE_ARG_MSSQL(), mssqlTyp).concat(interpolationArgs(code)));
      case 'duckdb':
        return output(commentArgs(code, RE_ARG_DUCKDB(), duckdbTyp).concat(interpolationArgs(code)));
      default: {
        const never: never = dialect;
        throw new Error(`unknown SQL dialect ${String(never)}`);
      }
    }
  } catch (e) {
    if (e instanceof SqlInvalid) return { type: 'Invalid', args: [], has_preprocessor: null };
    throw e;
  }
}

/** Reference `parse_db_resource`: the `-- database <path>` annotation, if any. */
export function parseDbResource(code: string): string | null {
  const m = new RegExp(`${BOL}-- database (\\S+) *(?:\\r|\\n|$)`).exec(code);
  return m ? m[1]! : null;
}
