/**
 * Bash signature parser, compatible with the reference `parse_bash` (`windmill-parser-wasm-regex`).
 *
 * An argument is a line (no indentation) assigning a double-quoted positional parameter:
 *   name="$N"   name="${N}"   name="${N:-default}"
 * optionally followed by blanks and a `# comment`. Everything is a string; `${N:-x}` gives the
 * default `x` (possibly empty). Arguments are ordered by N (1..19) and collection stops at the
 * first N that has no such assignment; a later assignment of the same N replaces an earlier one.
 * Unquoted (`x=$1`) and single-quoted forms are not recognised.
 */
import type { Arg, ParseOutput } from './types.js';
import { rustParseI32 } from './sql.js';

// Rust regex_lite in (?m) mode: `.` = [^\n], `$` = before \n or at the end, `\w`/`\d` ASCII.
const RE_BASH = () =>
  /(?<=^|\n)(\w+)="\$(?:(\d+)|\{(\d+)\}|\{(\d+):-([^\n]*)\})"(?:[\t ]*)?(?:#[^\n]*)?\r?(?=\n|$)/g;

export function parseBash(code: string): ParseOutput {
  const byIndex = new Map<number, { name: string; def: string | undefined }>();
  for (const m of code.matchAll(RE_BASH())) {
    const n = rustParseI32((m[2] ?? m[3] ?? m[4])!);
    if (n === undefined) return { type: 'Invalid', args: [], has_preprocessor: null };
    byIndex.set(n, { name: m[1]!, def: m[5] });
  }
  const args: Arg[] = [];
  for (let i = 1; i < 20; i++) {
    const a = byIndex.get(i);
    if (!a) break;
    args.push({
      name: a.name,
      typ: { str: null },
      default: a.def === undefined ? null : a.def,
      has_default: a.def !== undefined,
      otyp: null,
      oidx: null,
    });
  }
  return { star_args: false, star_kwargs: false, args, auto_kind: null, has_preprocessor: null };
}
