/**
 * The shape every signature parser returns. It mirrors the reference parsers' output
 * (see ../shared/conformance/schema/expected/*.json, field `parser.output`), so that the
 * schema builder (../schema.ts) can apply the reference's mapping rules unchanged.
 */
export type ObjectProp = { key: string; typ: ArgType };

export type ArgType =
  | 'int'
  | 'float'
  | 'bool'
  | 'email'
  | 'sql'
  | 'yaml'
  | 'bytes'
  | 'datetime'
  | 'date'
  | 'unknown'
  | { str: string[] | null }
  | { resource: string | null }
  | { object: { name: string | null; props: ObjectProp[] | null } }
  | { oneof: { label: string; properties: ObjectProp[] }[] }
  | { dynselect: string }
  | { dynmultiselect: string }
  | { list: ArgType | null };

export interface Arg {
  name: string;
  typ: ArgType;
  /** JSON value of the default, or null when none / not understood. */
  default: unknown;
  has_default: boolean;
  /** Original type text, when the parser keeps it (Go, SQL, some TS/Python unions). */
  otyp: string | null;
  oidx?: number | null;
}

export interface ParseOutput {
  /** 'Invalid' when the file cannot be parsed into a signature (reference: destructured params). */
  type?: 'Invalid';
  /** Human message for syntax errors, `line` 1-based when known. */
  error?: { message: string; line?: number; column?: number };
  args: Arg[];
  star_args?: boolean;
  star_kwargs?: boolean;
  has_preprocessor: boolean | null;
  no_main_func?: boolean | null;
  auto_kind?: string | null;
}

/** A syntax error in a script: reported as `file:line: message`, the run goes on with other scripts. */
export class ScriptSyntaxError extends Error {
  constructor(message: string, public line?: number, public column?: number) {
    super(message);
    this.name = 'ScriptSyntaxError';
  }
}
