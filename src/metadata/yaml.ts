import { parse, parseDocument, stringify, type Pair } from 'yaml';

/**
 * YAML exactly as the reference CLI writes it: `yaml@2` with every mapping key-sorted by a
 * priority table then `localeCompare`, single quotes, no aliases, default 80-column folding.
 * The metadata text is part of the content hash, so this must stay byte-compatible.
 */
const PRIORITY: Record<string, string> = {
  version: 'aaa',
  id: 'aa',
  type: 'ab',
  summary: 'ad',
  name: 'ae',
  display_name: 'af',
  description: 'ag',
  value: 'ah',
  content: 'ai',
  modules: 'aj',
  failure_module: 'ak',
  input_transforms: 'al',
  lock: 'az',
  locks: 'azz',
};

const prioritize = (name: string): string => PRIORITY[name] ?? name;

export function compareKeys(a: string, b: string): number {
  return prioritize(a).localeCompare(prioritize(b));
}

const OPTIONS = {
  sortMapEntries: (a: Pair, b: Pair) => compareKeys(String(a.key), String(b.key)),
  aliasDuplicateObjects: false,
  singleQuote: true,
} as const;

export function toYaml(value: unknown): string {
  return stringify(value, OPTIONS);
}

/** Parse YAML; `!inline x` / `!inline_fileset x` tags come back as the plain strings `!inline x`. */
export function parseYaml(text: string): unknown {
  return parse(text, { customTags: INLINE_TAGS });
}

const INLINE_TAGS = [
  { tag: '!inline', resolve: (s: string) => `!inline ${s}` },
  { tag: '!inline_fileset', resolve: (s: string) => `!inline_fileset ${s}` },
];

/** Parse YAML and report the first error with its 1-based line, for `file:line: message` errors. */
export function parseYamlStrict(text: string): { value: unknown } | { error: string; line?: number } {
  const doc = parseDocument(text, { customTags: INLINE_TAGS, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0]?.line;
    return { error: e.message.split('\n')[0]!, line };
  }
  return { value: doc.toJS() };
}
