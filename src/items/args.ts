/**
 * Job arguments against a script's JSON schema (the `.script.yaml` schema): defaults applied,
 * required arguments checked, each value checked against its property's type. Messages are one
 * line and name the argument, e.g. `argument 'x' must be an integer, got "nope" (a string)`.
 * `$res:<path>` / `$var:<path>` strings are accepted for any argument: they are resolved when the
 * job runs (to a resource value / a variable's text), as Windmill does.
 */
export type JsonSchema = Record<string, any>;

export interface ArgIssue {
  name: string;
  message: string;
}

export interface CheckedArgs {
  args: Record<string, unknown>;
  errors: ArgIssue[];
  /** Arguments the schema does not know (passed through; they usually are typos). */
  unknown: string[];
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  switch (typeof v) {
    case 'string':
      return 'a string';
    case 'number':
      return Number.isInteger(v) ? 'an integer' : 'a number';
    case 'boolean':
      return 'a boolean';
    case 'object':
      return 'an object';
    default:
      return typeof v;
  }
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

const isRef = (v: unknown): boolean => typeof v === 'string' && (v.startsWith('$res:') || v.startsWith('$var:'));

const TYPE_WORD: Record<string, string> = {
  integer: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'a boolean (true or false)',
  object: 'an object',
  array: 'an array',
};

/** Why `v` does not fit `prop`, or null when it does. */
function mismatch(prop: JsonSchema, v: unknown): string | null {
  const type = typeof prop.type === 'string' ? prop.type : '';
  switch (type) {
    case 'integer':
      if (typeof v !== 'number' || !Number.isInteger(v)) return `must be an integer, got ${show(v)} (${describe(v)})`;
      break;
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v)) return `must be a number, got ${show(v)} (${describe(v)})`;
      break;
    case 'boolean':
      if (typeof v !== 'boolean') return `must be a boolean (true or false), got ${show(v)} (${describe(v)})`;
      break;
    case 'string':
      if (typeof v !== 'string') return `must be a string, got ${show(v)} (${describe(v)})`;
      if (Array.isArray(prop.enum) && prop.enum.length > 0 && !prop.enum.includes(v)) {
        return `must be one of ${prop.enum.map((e: unknown) => JSON.stringify(e)).join(', ')}, got ${show(v)}`;
      }
      break;
    case 'object': {
      // A resource-typed argument may be a type the parser could not see through (a type alias
      // such as `type Mode = "a" | "b"` becomes resource-mode), so a string is let through.
      const resource = typeof prop.format === 'string' && prop.format.startsWith('resource-');
      if (resource && typeof v === 'string') break;
      if (v === null || typeof v !== 'object' || Array.isArray(v)) {
        const what = resource ? `a ${prop.format.slice(9)} resource (an object, or "$res:<path>")` : 'an object';
        return `must be ${what}, got ${show(v)} (${describe(v)})`;
      }
      break;
    }
    case 'array': {
      if (!Array.isArray(v)) return `must be an array, got ${show(v)} (${describe(v)})`;
      const it = prop.items && typeof prop.items === 'object' ? (prop.items as JsonSchema) : undefined;
      const itemType = typeof it?.type === 'string' ? it.type : '';
      if (itemType in TYPE_WORD) {
        for (let i = 0; i < v.length; i++) {
          if (isRef(v[i])) continue;
          const why = mismatch({ type: itemType, enum: it?.enum }, v[i]);
          if (why) return `must be an array of ${TYPE_WORD[itemType]!.replace(/^an? /, '')} values: item ${i} ${why}`;
        }
      }
      break;
    }
    default:
      break; // '' or unknown: anything goes
  }
  return null;
}

export interface CheckOptions {
  /**
   * Accept numbers and booleans for string arguments (bash: every argument is a string on the
   * command line, so `{"count": 3}` means "3").
   */
  scalarsAsStrings?: boolean;
}

/** Check `input` against `schema` and apply its defaults. Without a schema, the input passes as is. */
export function checkArgs(schema: JsonSchema | undefined | null, input: Record<string, unknown>, opts: CheckOptions = {}): CheckedArgs {
  const args: Record<string, unknown> = { ...input };
  const errors: ArgIssue[] = [];
  const props: Record<string, JsonSchema> = schema && typeof schema.properties === 'object' && schema.properties ? schema.properties : {};
  if (!schema) return { args, errors, unknown: [] };
  const required = new Set<string>(Array.isArray(schema.required) ? schema.required : []);
  for (const [name, prop] of Object.entries(props)) {
    const v = args[name];
    if (v === undefined && prop && prop.default !== undefined && prop.default !== null) {
      // The script's own default: used as is, not checked (inferred types can be approximate).
      args[name] = structuredClone(prop.default);
      continue;
    }
    if (v === undefined) {
      if (required.has(name)) {
        const t = typeof prop?.type === 'string' && prop.type ? ` (${TYPE_WORD[prop.type] ?? prop.type})` : '';
        errors.push({ name, message: `missing required argument '${name}'${t}` });
      }
      continue;
    }
    if (isRef(v)) continue;
    if (v === null) {
      if (required.has(name)) errors.push({ name, message: `argument '${name}' is required and cannot be null` });
      continue;
    }
    if (opts.scalarsAsStrings && prop?.type === 'string' && (typeof v === 'number' || typeof v === 'boolean')) continue;
    const why = prop && typeof prop === 'object' ? mismatch(prop, v) : null;
    if (why) errors.push({ name, message: `argument '${name}' ${why}` });
  }
  const unknown = Object.keys(input).filter((k) => !Object.prototype.hasOwnProperty.call(props, k));
  return { args, errors, unknown };
}
