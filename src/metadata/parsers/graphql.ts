/**
 * GraphQL signature parser, compatible with the reference `parse_graphql`
 * (`windmill-parser-wasm-regex`).
 *
 * Every variable definition `$name: Type`, `$name: Type!`, `$name: [Type]`, `$name: [Type!]!`,
 * optionally followed by `= default` (a bare or double-quoted word), anywhere in the document,
 * becomes an argument in order of appearance. A variable is optional when it has a default or
 * when its type is not marked `!`. The implicit `api` argument is added by the schema layer.
 */
import type { Arg, ArgType, ParseOutput } from './types.js';
import { rustParseF64, rustParseI64 } from './sql.js';

// regex_lite: `\w` and `\s` are ASCII-only.
const WS = '[\\t\\n\\x0B\\f\\r ]';
const RE_ARG_GRAPHQL = () =>
  new RegExp(`\\$(\\w+)${WS}*:${WS}*(?:(\\w+)(!)?|\\[(\\w+)!?\\])(!)?${WS}*(?:=${WS}*"?(\\w+)"?${WS}*)?`, 'g');

export function graphqlTyp(t: string): ArgType {
  switch (t) {
    case 'String':
    case 'ID':
      return { str: null };
    case 'Int':
      return 'int';
    case 'Boolean':
      return 'bool';
    case 'Float':
      return 'float';
    default:
      return { object: { name: null, props: [] } };
  }
}

export function parseGraphql(code: string): ParseOutput {
  const args: Arg[] = [];
  for (const m of code.matchAll(RE_ARG_GRAPHQL())) {
    let typ: ArgType;
    let otyp: string;
    if (m[2] !== undefined) {
      otyp = m[2];
      typ = graphqlTyp(m[2]);
    } else {
      otyp = `[${m[4]!}]`;
      typ = { list: graphqlTyp(m[4]!) };
    }
    const def = m[6];
    let value: unknown = null;
    if (def !== undefined) {
      if (typ === 'int') value = rustParseI64(def) ?? null;
      else if (typ === 'float') {
        const f = rustParseF64(def);
        value = f === undefined ? null : f;
      } else value = def;
    }
    args.push({
      name: m[1]!,
      typ,
      default: value,
      has_default: def !== undefined ? true : m[3] === undefined && m[5] === undefined,
      otyp,
      oidx: null,
    });
  }
  return { star_args: false, star_kwargs: false, args, auto_kind: null, has_preprocessor: null };
}
