/**
 * A reader for the plain block YAML that wmill and the reference CLI write (`wmill.yaml`,
 * `wmill-lock.yaml`, `.script.yaml`, resource and variable files), so that start-up paths
 * such as `script preview` do not load the `yaml` package (~10 ms) for a few dozen lines.
 *
 * It accepts a strict subset and gives up (returns undefined) on anything outside it; callers
 * then use the full parser (src/util/yaml.ts), which also produces the error messages. On
 * the subset it gives the same value as `yaml@2` `parse()` with the core schema, and such a
 * document has no errors there either (test/simple-yaml.test.ts checks both differentially).
 *
 * The subset: block mappings and sequences (an indentless sequence under a key included),
 * `key: value` with plain or single-line quoted keys that are strings, single-line plain
 * scalars resolved by the core schema (null, bool, int, float, string), single-line single-
 * and double-quoted scalars (no escapes), one-line flow sequences of such scalars (`[a, 'b']`),
 * `{}`, full-line and trailing `#` comments.
 * Not: multi-line scalars, block scalars (`|`, `>`), nested or multi-line flow collections,
 * flow mappings with content, anchors, aliases, tags, directives, document markers, tabs, CR
 * line ends, control characters, duplicate keys, complex keys, a document that is a scalar or
 * empty.
 */

interface Line {
  indent: number;
  text: string;
}

class Unsupported extends Error {}
const giveUp = (): never => {
  throw new Unsupported();
};

// Characters that may not start a plain scalar (YAML c-indicator), plus the quotes.
const INDICATOR = new Set(['-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', "'", '"', '%', '@', '`']);

/** The core-schema value of a plain scalar (yaml@2 `schema/core`, in its tag order). */
function resolvePlain(s: string): unknown {
  if (/^(?:~|[Nn]ull|NULL)?$/.test(s)) return null;
  if (/^(?:[Tt]rue|TRUE)$/.test(s)) return true;
  if (/^(?:[Ff]alse|FALSE)$/.test(s)) return false;
  if (/^0o[0-7]+$/.test(s)) return parseInt(s.substring(2), 8);
  if (/^[-+]?[0-9]+$/.test(s)) return parseInt(s, 10);
  if (/^0x[0-9a-fA-F]+$/.test(s)) return parseInt(s.substring(2), 16);
  if (/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(s)) {
    return s.slice(-3).toLowerCase() === 'nan' ? NaN : s[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/.test(s)) return parseFloat(s);
  if (/^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/.test(s)) return parseFloat(s);
  return s;
}

/** A plain scalar's text (one line, comment removed, trimmed), or give up. */
function plainText(raw: string): string {
  const hash = raw.search(/\s#/);
  const s = (hash === -1 ? raw : raw.slice(0, hash)).trim();
  if (s === '') return s;
  const c = s[0]!;
  // `-1`, `-.5` are numbers; other indicator-led plain scalars are left to the full parser.
  if (INDICATOR.has(c) && !(c === '-' && /^-[0-9.]/.test(s))) giveUp();
  if (s.includes(': ') || s.endsWith(':') || s.includes(' #')) giveUp();
  return s;
}

/** A quoted scalar starting at text[0]; returns its value and the rest of the line. */
function quoted(text: string): { value: string; rest: string } {
  const q = text[0]!;
  let i = 1;
  let value = '';
  for (;;) {
    const j = text.indexOf(q, i);
    if (j === -1) return giveUp(); // continues on the next line
    const part = text.slice(i, j);
    if (q === '"' && part.includes('\\')) giveUp();
    value += part;
    if (q === "'" && text[j + 1] === "'") {
      value += "'";
      i = j + 2;
      continue;
    }
    return { value, rest: text.slice(j + 1) };
  }
}

const FLOW_PLAIN_STOP = /[:#,[\]{}]/;

/**
 * A one-line flow sequence of scalars, `[a, 'b c', 3]` (the rest of the line after it may only
 * be a comment). Nested collections, flow mappings, trailing commas: not in the subset.
 */
function flowSequence(text: string): unknown[] {
  const out: unknown[] = [];
  let i = 1;
  const skip = () => {
    while (text[i] === ' ') i++;
  };
  skip();
  if (text[i] === ']') i++;
  else
    for (;;) {
      skip();
      if (text[i] === "'" || text[i] === '"') {
        const q = quoted(text.slice(i));
        out.push(q.value);
        i = text.length - q.rest.length;
      } else {
        const start = i;
        while (i < text.length && !FLOW_PLAIN_STOP.test(text[i]!)) i++;
        const raw = text.slice(start, i).trim();
        const c = raw[0];
        if (c === undefined || (INDICATOR.has(c) && !(c === '-' && /^-[0-9.]/.test(raw)))) giveUp();
        out.push(resolvePlain(raw));
      }
      skip();
      if (text[i] === ',') {
        i++;
        skip();
        if (text[i] === ']') giveUp(); // a trailing comma
        continue;
      }
      if (text[i] === ']') {
        i++;
        break;
      }
      giveUp();
    }
  if (!/^(?:\s+#.*)?\s*$/.test(text.slice(i))) giveUp();
  return out;
}

/** Split `key: rest` / `key:`; undefined when the line is not a mapping entry. */
function splitKey(text: string): { key: string; rest: string } | undefined {
  let key: string;
  let after: string;
  if (text[0] === "'" || text[0] === '"') {
    const q = quoted(text);
    if (!q.rest.startsWith(':')) return undefined;
    key = q.value;
    after = q.rest.slice(1);
  } else {
    const m = /^([^\s:#][^:]*?):(?= |$)/.exec(text);
    if (!m) return undefined;
    const k = m[1]!;
    if (INDICATOR.has(k[0]!) || k.includes(' #') || /\s$/.test(k)) giveUp();
    if (typeof resolvePlain(k) !== 'string') giveUp(); // `1:`, `true:`, `null:` keys
    key = k;
    after = text.slice(m[0].length);
  }
  if (after !== '' && after[0] !== ' ') giveUp();
  if (key.length > 1000 || key === '__proto__') giveUp();
  return { key, rest: after.trim() };
}

const isSeqEntry = (text: string): boolean => text === '-' || text.startsWith('- ');

class Reader {
  i = 0;
  constructor(private lines: Line[]) {}

  peek(): Line | undefined {
    return this.lines[this.i];
  }

  /** A complete document: one mapping or sequence at indent 0, every line consumed. */
  document(): unknown {
    const first = this.peek();
    if (!first || first.indent !== 0) giveUp();
    const v = this.block(0);
    if (this.i !== this.lines.length) giveUp();
    return v;
  }

  block(indent: number): unknown {
    const line = this.peek()!;
    if (isSeqEntry(line.text)) return this.sequence(indent);
    return this.mapping(indent);
  }

  /** The value after `key:` or `-` on the current line (already consumed), from `rest` or the lines below. */
  value(rest: string, indent: number, inMapping: boolean): unknown {
    if (rest === '' || rest[0] === '#') {
      const next = this.peek();
      if (next && next.indent > indent) return this.block(next.indent);
      if (inMapping && next && next.indent === indent && isSeqEntry(next.text)) return this.sequence(indent);
      return null;
    }
    let v: unknown;
    if (rest[0] === "'" || rest[0] === '"') {
      const q = quoted(rest);
      if (!/^(?:\s+#.*)?\s*$/.test(q.rest)) giveUp();
      v = q.value;
    } else if (rest[0] === '[') {
      v = flowSequence(rest);
    } else if (rest[0] === '{') {
      if (!/^\{\s*\}(?:\s+#.*)?\s*$/.test(rest)) giveUp();
      v = {};
    } else {
      v = resolvePlain(plainText(rest));
    }
    // A scalar continued on more-indented lines is a multi-line scalar: not in the subset.
    const next = this.peek();
    if (next && next.indent > indent) giveUp();
    return v;
  }

  mapping(indent: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const seen = new Set<string>();
    for (;;) {
      const line = this.peek();
      if (!line || line.indent < indent) return out;
      if (line.indent > indent || isSeqEntry(line.text)) giveUp();
      const kv = splitKey(line.text);
      if (!kv) giveUp();
      const { key, rest } = kv!;
      if (seen.has(key)) giveUp();
      seen.add(key);
      this.i++;
      out[key] = this.value(rest, indent, true);
    }
  }

  sequence(indent: number): unknown[] {
    const out: unknown[] = [];
    for (;;) {
      const line = this.peek();
      if (!line || line.indent < indent) return out;
      if (line.indent > indent || !isSeqEntry(line.text)) {
        // The end of an indentless sequence under a key: the parent mapping goes on.
        if (line.indent === indent) return out;
        giveUp();
      }
      const after = line.text.slice(1);
      const body = after.trimStart();
      if (body === '' || body[0] === '#') {
        this.i++;
        out.push(this.value('', indent, false));
        continue;
      }
      if (isSeqEntry(body)) giveUp(); // `- - x`
      const col = indent + 1 + (after.length - body.length);
      if (splitKey(body)) {
        // `- key: v` starts a mapping whose keys sit at the column of `key`.
        this.lines[this.i] = { indent: col, text: body };
        out.push(this.mapping(col));
      } else {
        this.i++;
        out.push(this.value(body, indent, false));
      }
    }
  }
}

/**
 * Parse `text` if it is in the subset; undefined otherwise (use the full parser then).
 * Never throws.
 */
export function parseSimpleYaml(text: string): { value: unknown } | undefined {
  // Tabs, CR, BOM, control and other special characters, directives, document markers.
  if (/[\t\r\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029\ufeff]/.test(text)) return undefined;
  if (/^(?:%|---|\.\.\.)/m.test(text)) return undefined;
  const lines: Line[] = [];
  for (const raw of text.split('\n')) {
    const t = raw.trimStart();
    if (t === '' || t[0] === '#') continue;
    lines.push({ indent: raw.length - t.length, text: t.trimEnd() });
  }
  try {
    return { value: new Reader(lines).document() };
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    return undefined;
  }
}
