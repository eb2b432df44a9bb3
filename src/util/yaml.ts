import { stringify, type Pair } from 'yaml';
import { parseYamlText } from './data-file.js';
import { emitYaml } from './yaml-emit.js';

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
  return emitYaml(value) ?? stringify(value, OPTIONS);
}

/**
 * Parse YAML; `!inline x` / `!inline_fileset x` tags come back as the plain strings `!inline x`.
 * Throws on bad input (with the line); parseYamlStrict returns the error instead.
 */
export function parseYaml(text: string): unknown {
  const r = parseYamlText(text);
  if ('error' in r) throw new Error(r.line ? `line ${r.line}: ${r.error}` : r.error);
  return r.value;
}

/**
 * Parse YAML and report the first error with its 1-based line, for `file:line: message` errors
 * (src/util/data-file.ts: syntax, unresolved or circular aliases, alias bombs, deep nesting).
 */
export function parseYamlStrict(text: string): { value: unknown } | { error: string; line?: number } {
  return parseYamlText(text);
}
