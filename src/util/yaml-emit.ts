/**
 * A fast path for `toYaml` (./yaml.ts): writes the everyday documents (metadata, lock files)
 * exactly as `yaml@2`'s `stringify` does with our options, or returns `undefined` when it is not
 * certain, and the caller then uses the yaml package. A different answer is a bug; `undefined`
 * is always allowed. test/yaml-emit.test.ts compares both on generated documents and on every
 * YAML fixture.
 *
 * Why: `stringify` builds a document tree and runs its general scalar-style machinery for every
 * value. On a first `generate-metadata` of 1,000 scripts that was ~170 ms of ~2 s CPU in the
 * profile; this writes the same text in a single pass (~15 ms).
 *
 * What it writes (everything else → undefined):
 * - plain objects (keys sorted by `compareKeys`, `undefined` values skipped), arrays (not
 *   directly inside another array), `{}` and `[]` when empty, in block style, 2 spaces, sequences
 *   indented under their key;
 * - null, booleans, integers below 1e21 and decimals without an exponent (not -0);
 * - strings short enough never to be folded: `''`; the core schema's null and boolean words
 *   single-quoted; plain strings made of letters, digits, `_ - . / $ +`, single spaces and `:` not
 *   followed by a space, starting with a letter, `_` or `$`, not ending in a space or `:`; and
 *   single-quoted, strings of printable ASCII without `'` or `\` that start with an indicator a
 *   plain scalar cannot start with (`!inline ...`); lowercase hex starting with a digit (content
 *   hashes) when it does not read as a number.
 * - keys: plain, without spaces or `:`, at most 60 characters.
 */
import { compareKeys } from './yaml.js';

const PLAIN = /^[A-Za-z_$][A-Za-z0-9_\-./$:+ ]*$/;
const KEYWORD = /^(?:true|True|TRUE|false|False|FALSE|null|Null|NULL)$/;
const FOLD_WIDTH = 70;
const HEX = /^[0-9][0-9a-f]*$/;
const NUMBER = /^(?:[0-9]+(?:\.[0-9]*)?(?:e[-+]?[0-9]+)?|0x[0-9a-f]+|0o[0-7]+)$/;
/** Printable ASCII, no single quote, no backslash, no double space (single-quoted candidates). */
const QUOTABLE = /^(?!.* {2})[\x20-\x26\x28-\x5b\x5d-\x7e]*$/;
/** Starts with an indicator that a plain scalar cannot start with (then yaml always quotes). */
const QUOTED_START = /^[!&*@`|>%{}\[\]#'"]/;

class NotSimple extends Error {}
const NOT_SIMPLE = new NotSimple();

function scalar(v: unknown, column: number): string | undefined {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number': {
      if (!Number.isFinite(v) || Object.is(v, -0) || Math.abs(v) >= 1e21) throw NOT_SIMPLE;
      const s = String(v);
      if (s.includes('e')) throw NOT_SIMPLE;
      return s;
    }
    case 'string':
      return str(v, column);
    case 'object':
      return undefined; // a collection
    default:
      throw NOT_SIMPLE;
  }
}

function str(s: string, column: number): string {
  if (s === '') return "''";
  if (KEYWORD.test(s)) return `'${s}'`;
  if (s.includes(' ') && column + s.length + 2 > FOLD_WIDTH) throw NOT_SIMPLE;
  // content hashes (hex starting with a digit): plain unless they read as a number
  if (HEX.test(s)) {
    if (NUMBER.test(s)) throw NOT_SIMPLE;
    return s;
  }
  if (PLAIN.test(s) && !s.endsWith(' ') && !s.endsWith(':') && !s.includes(': ') && !s.includes('  ')) return s;
  // not plain: single-quoted, when it has no quote, no line break, only printable ASCII, and
  // does not start with something a plain scalar could (then yaml may still write it plain)
  if (QUOTABLE.test(s) && QUOTED_START.test(s)) return `'${s}'`;
  throw NOT_SIMPLE;
}

function key(k: string): string {
  if (k === '' || k.length > 60 || KEYWORD.test(k) || !PLAIN.test(k) || k.includes(' ') || k.includes(':')) throw NOT_SIMPLE;
  return k;
}

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** The lines of a mapping at `indent`. */
function mapping(obj: Record<string, unknown>, indent: number, out: string[], firstPrefix?: string): void {
  const pad = ' '.repeat(indent);
  let first = true;
  for (const k of Object.keys(obj).sort(compareKeys)) {
    const v = obj[k];
    if (v === undefined) continue;
    const head = (first && firstPrefix !== undefined ? firstPrefix : pad) + key(k) + ':';
    first = false;
    const sc = scalar(v, head.length + 1);
    if (sc !== undefined) {
      out.push(`${head} ${sc}`);
      continue;
    }
    const c = v as object;
    if (Array.isArray(c)) {
      if (c.length === 0) out.push(`${head} []`);
      else {
        out.push(head);
        sequence(c, indent + 2, out);
      }
    } else {
      if (!isPlainObject(c)) throw NOT_SIMPLE;
      if (!Object.values(c).some((x) => x !== undefined)) out.push(`${head} {}`);
      else {
        out.push(head);
        mapping(c, indent + 2, out);
      }
    }
  }
  if (first) throw NOT_SIMPLE; // an empty mapping here would be written inline by the caller
}

function sequence(arr: unknown[], indent: number, out: string[]): void {
  const dash = ' '.repeat(indent) + '- ';
  for (const v of arr) {
    if (v === undefined) throw NOT_SIMPLE;
    const sc = scalar(v, dash.length);
    if (sc !== undefined) {
      out.push(dash + sc);
      continue;
    }
    const c = v as object;
    if (Array.isArray(c)) {
      if (c.length === 0) out.push(`${dash}[]`);
      else throw NOT_SIMPLE;
    } else {
      if (!isPlainObject(c)) throw NOT_SIMPLE;
      if (!Object.values(c).some((x) => x !== undefined)) out.push(`${dash}{}`);
      else mapping(c, indent + 2, out, dash);
    }
  }
}

/** `value` as yaml@2 writes it with our options, or undefined when this path is not sure. */
export function emitYaml(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || !isPlainObject(value)) return undefined;
  if (!Object.values(value).some((x) => x !== undefined)) return undefined;
  const out: string[] = [];
  try {
    mapping(value, 0, out);
  } catch (e) {
    if (e === NOT_SIMPLE) return undefined;
    throw e;
  }
  return out.join('\n') + '\n';
}
