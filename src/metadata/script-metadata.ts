import { z } from 'zod';
import { defaultSchema } from './schema.js';
import { parseYamlStrict, toYaml } from '../util/yaml.js';
import { parseJsonText } from '../util/data-file.js';

/** `.script.yaml` / `.script.json`: validated loosely (hand edits and newer keys are kept). */
export const ScriptMetadataSchema = z
  .object({
    summary: z.string().nullable().optional(),
    description: z.string().nullable().optional(),
    lock: z.union([z.string(), z.array(z.string())]).nullable().optional(),
    kind: z.enum(['script', 'failure', 'trigger', 'command', 'approval', 'preprocessor']).optional(),
    schema: z.record(z.string(), z.unknown()).nullable().optional(),
  })
  .loose();

export type ScriptMetadata = Record<string, any>;

export function defaultMetadata(): ScriptMetadata {
  return { summary: '', description: '', lock: '', kind: 'script', schema: defaultSchema() };
}

export type MetaFormat = 'yaml' | 'json';

export function formatOf(file: string): MetaFormat {
  return file.endsWith('.json') ? 'json' : 'yaml';
}

/** Parse metadata text; returns an error message (with line when known) instead of throwing. */
export function parseMetadata(text: string, format: MetaFormat): { value: ScriptMetadata } | { error: string; line?: number } {
  let value: unknown;
  if (format === 'json') {
    const r = parseJsonText(text);
    if ('error' in r) return r;
    value = r.value;
  } else {
    const r = parseYamlStrict(text);
    if ('error' in r) return { error: `invalid YAML: ${r.error}`, line: r.line };
    value = r.value ?? {};
  }
  const res = ScriptMetadataSchema.safeParse(value);
  if (!res.success) {
    const i = res.error.issues[0]!;
    return { error: `field ${i.path.join('.') || '(top level)'}: ${i.message}` };
  }
  return { value: value as ScriptMetadata };
}

export function renderMetadata(value: ScriptMetadata, format: MetaFormat): string {
  return format === 'json' ? JSON.stringify(value) : toYaml(value);
}
