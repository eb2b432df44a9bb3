import type { Arg, ArgType, ObjectProp, ParseOutput } from './parsers/types.js';
import type { Language } from '../workspace/languages.js';

/**
 * From a parser's signature to the JSON schema stored in `.script.yaml`, merged into the
 * previous schema by the reference's rules (spec/wmill-cli.md §6.3, conformance PEER-NOTES):
 * properties in argument order, old UI keys preserved, `default` always assigned,
 * `required` = arguments without a default.
 */
export type Prop = Record<string, any>;
export type Schema = Record<string, any>;

export const SCHEMA_URL = 'https://json-schema.org/draft/2020-12/schema';

export function defaultSchema(): Schema {
  return { $schema: SCHEMA_URL, type: 'object', properties: {}, required: [] };
}

/** Keys of a property that survive any re-inference. */
const PRESERVED = [
  'description', 'pattern', 'min', 'max', 'currency', 'currencyLocale', 'multiselect', 'customErrorMessage',
  'required', 'showExpr', 'password', 'order', 'dateFormat', 'title', 'placeholder',
];

/** Keys of an array's `items` that survive when the parser cannot tell the item structure. */
const ITEMS_PRESERVED = ['properties', 'required', 'additionalProperties', 'enum', 'resourceType', 'contentEncoding', 'description'];

const isObj = (t: ArgType | null | undefined): t is Exclude<ArgType, string> => typeof t === 'object' && t !== null;

function propsFrom(props: ObjectProp[], old: Record<string, Prop> | undefined, reuseOld: boolean): Record<string, Prop> {
  const out: Record<string, Prop> = {};
  for (const p of props) {
    out[p.key] = reuseOld && old && Object.prototype.hasOwnProperty.call(old, p.key) ? old[p.key] : { description: '', type: '' };
    applyArgType(p.typ, out[p.key]!);
  }
  return out;
}

function keepItems(old: Prop): Prop {
  const items: Prop = { type: old.items?.type || 'object' };
  if (old.items && typeof old.items === 'object') {
    for (const f of ITEMS_PRESERVED) if (old.items[f] !== undefined) items[f] = old.items[f];
  }
  return items;
}

/** Update `old` in place to describe type `t` (the reference's `argSigToJsonSchemaType`). */
export function applyArgType(t: ArgType | null | undefined, old: Prop): void {
  const next: Prop = { type: '' };
  if (t === 'int') next.type = 'integer';
  else if (t === 'float') next.type = 'number';
  else if (t === 'bool') next.type = 'boolean';
  else if (t === 'email' || t === 'sql' || t === 'yaml') {
    next.type = 'string';
    next.format = t;
  } else if (t === 'bytes') {
    next.type = 'string';
    next.contentEncoding = 'base64';
    next.originalType = 'bytes';
  } else if (t === 'datetime') {
    next.type = 'string';
    next.format = 'date-time';
  } else if (t === 'date') {
    next.type = 'string';
    next.format = 'date';
  } else if (isObj(t) && 'oneof' in t) {
    next.type = 'object';
    if (t.oneof) {
      next.oneOf = t.oneof.map((variant) => {
        const oldVariant = Array.isArray(old.oneOf) ? old.oneOf.find((o: Prop) => o?.title === variant.label) : undefined;
        return {
          type: 'object',
          title: variant.label,
          properties: propsFrom(variant.properties, oldVariant?.properties, true),
          order: oldVariant?.order ?? undefined,
        };
      });
    }
  } else if (isObj(t) && 'object' in t) {
    next.type = 'object';
    if (t.object.name) next.format = `resource-${t.object.name}`;
    if (t.object.props) next.properties = propsFrom(t.object.props, old.properties, true);
  } else if (isObj(t) && 'str' in t) {
    next.type = 'string';
    if (t.str) {
      next.originalType = 'enum';
      next.enum = t.str;
    } else if (old.originalType == 'string' && old.enum) {
      next.originalType = 'string';
      next.enum = old.enum;
    } else {
      next.originalType = 'string';
      next.enum = undefined;
    }
  } else if (isObj(t) && 'resource' in t) {
    next.type = 'object';
    next.format = `resource-${t.resource}`;
  } else if (isObj(t) && 'dynselect' in t) {
    next.type = 'object';
    next.format = `dynselect-${t.dynselect}`;
  } else if (isObj(t) && 'dynmultiselect' in (t as object)) {
    next.type = 'object';
    next.format = `dynmultiselect-${(t as any).dynmultiselect}`;
  } else if (isObj(t) && 'list' in t) {
    next.type = 'array';
    const l = t.list;
    if (l === 'int' || l === 'float') {
      next.items = { type: 'number' };
      next.originalType = 'number[]';
    } else if (l === 'bytes') {
      next.items = { type: 'string', contentEncoding: 'base64' };
      next.originalType = 'bytes[]';
    } else if (isObj(l) && 'str' in l && l.str) {
      next.items = { type: 'string', enum: l.str };
      next.originalType = 'enum[]';
    } else if ((l as unknown) === 'string' || (isObj(l) && 'str' in l)) {
      next.items = { type: 'string', enum: old.items?.enum };
      next.originalType = 'string[]';
    } else if (isObj(l) && 'resource' in l && l.resource) {
      next.items = { type: 'resource', resourceType: l.resource };
      next.originalType = 'resource[]';
    } else if (isObj(l) && 'object' in l && l.object) {
      if (l.object.name) next.format = `resource-${l.object.name}`;
      if (l.object.props && l.object.props.length > 0) {
        next.items = { type: 'object', properties: propsFrom(l.object.props, undefined, false) };
      } else {
        next.items = keepItems(old);
      }
      next.originalType = 'record[]';
    } else {
      next.items = keepItems(old);
      next.originalType = 'object[]';
    }
  } else {
    // unknown: keep whatever type the property had ('' for a new one)
    next.type = old.type ?? 'object';
  }

  for (const f of PRESERVED) if (old[f] !== undefined) next[f] = old[f];

  if (old.type != next.type) {
    for (const k of Object.getOwnPropertyNames(next)) if (k !== 'description') delete old[k];
  } else if ((old.format == 'date' || old.format === 'date-time') && next.format == 'string') {
    next.format = old.format;
  } else if (next.format == 'date-time' && old.format == 'date') {
    next.format = 'date';
  } else if (next.format == 'date' || next.format == 'date-time') {
    next.format = old.format;
  } else if (old.items?.type != next.items?.type) {
    delete old.items;
  } else if (old.type == 'string' && old.format != undefined) {
    next.format = old.format;
  }
  if ((old.type != next.type || next.type != 'string') && next.format == undefined) {
    old.format = undefined;
  }
  Object.assign(old, next);
}

function sortKeys(o: Prop): Prop {
  const out: Prop = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k];
  return out;
}

const IMPLICIT_DB: Partial<Record<Language, string>> = {
  postgresql: 'postgresql',
  mysql: 'mysql',
  bigquery: 'bigquery',
  snowflake: 'snowflake',
  mssql: 'ms_sql_server',
  oracledb: 'oracledb',
};

/** Arguments as the reference sees them: SQL languages get `database`, GraphQL gets `api`, first. */
export function effectiveArgs(language: Language, parsed: ParseOutput): Arg[] {
  const db = IMPLICIT_DB[language];
  if (db) return [{ name: 'database', typ: { resource: db }, has_default: false, default: undefined, otyp: null }, ...parsed.args];
  if (language === 'graphql') return [{ name: 'api', typ: { resource: 'graphql' }, has_default: false, default: undefined, otyp: null }, ...parsed.args];
  return parsed.args;
}

export interface InferredSchema {
  schema: Schema;
  hasPreprocessor: boolean;
  noMainFunc: boolean;
  invalid: boolean;
}

/** Merge a parse result into the previous schema (which is not modified). */
export function mergeSchema(language: Language, parsed: ParseOutput, previous: Schema | undefined | null): InferredSchema {
  if (parsed.type === 'Invalid') {
    return { schema: defaultSchema(), hasPreprocessor: false, noMainFunc: false, invalid: true };
  }
  const schema: Schema = previous && typeof previous === 'object' ? JSON.parse(JSON.stringify(previous)) : {};
  schema.required = [];
  const oldProps: Record<string, Prop> = JSON.parse(JSON.stringify(schema.properties ?? {}));
  schema.properties = {};
  for (const arg of effectiveArgs(language, parsed)) {
    let p: Prop = Object.prototype.hasOwnProperty.call(oldProps, arg.name) && oldProps[arg.name] && typeof oldProps[arg.name] === 'object'
      ? oldProps[arg.name]!
      : { description: '', type: '' };
    p = sortKeys(p);
    schema.properties[arg.name] = p;
    applyArgType(arg.typ, p);
    // as the CLI does: an otyp with `[` and `|` (the parsers' `str | list[str]`, `string | string[]`)
    // becomes the originalType
    if (arg.otyp && arg.otyp.includes('[') && arg.otyp.includes('|')) p.originalType = arg.otyp;
    p.default = arg.default;
    if (!arg.has_default && !schema.required.includes(arg.name)) schema.required.push(arg.name);
  }
  return { schema, hasPreprocessor: !!parsed.has_preprocessor, noMainFunc: !!parsed.no_main_func, invalid: false };
}
