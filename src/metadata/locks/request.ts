/**
 * What a script's lock depends on: its normalized dependency request. It is built from the
 * external imports of the script AND of every script it imports relatively (transitively, as the
 * worker bundles them), the header annotations, the inline requirements below them, and the
 * workspace dependency files they select. Two scripts with the same request share one resolution.
 */
import type { Language } from '../../workspace/languages.js';
import { sha256 } from '../hash.js';
import { parseJsonText } from '../../util/data-file.js';
import { selectDependencyFiles } from './annotations.js';
import { inferPythonRequirements, normalizeDistName } from './python-names.js';

export type LockKind = 'npm' | 'pip';

/** Which resolver makes a language's lock locally, or null (lock left as it is). */
export function lockKindOf(language: Language): LockKind | null {
  if (language === 'bun' || language === 'deno') return 'npm';
  if (language === 'python3') return 'pip';
  return null;
}

export interface DependencyRequest {
  kind: LockKind;
  /** npm: [name, range] sorted by name; pip: requirement lines, sorted. */
  entries: string[] | [string, string][];
}

/** Canonical text of a request (no machine configuration in it). */
export function requestKey(r: DependencyRequest): string {
  return JSON.stringify({ v: 1, kind: r.kind, entries: r.entries });
}

export function isEmptyRequest(r: DependencyRequest): boolean {
  return r.entries.length === 0;
}

/** The `<path>+__lock` entry: the lock's inputs (the request) and the lock text itself. */
export function lockInputsHash(r: DependencyRequest, lockText: string): string {
  return sha256(JSON.stringify([requestKey(r), lockText]));
}

export interface LockScript {
  path: string;
  language: Language;
  content: string;
  /** Windmill paths this script imports relatively. */
  imports: string[];
}

type Externals = { name: string; version?: string }[];

interface Parsers {
  ts: (code: string) => Externals;
  py: (code: string) => string[];
}

let parsers: Parsers | null = null;

export async function loadLockParsers(): Promise<void> {
  if (parsers) return;
  const [ts, py] = await Promise.all([import('../parsers/typescript.js'), import('../parsers/python.js')]);
  parsers = { ts: ts.tsExternalImports, py: py.pythonExternalImports };
}

function numericParts(v: string): number[] {
  return v
    .replace(/^[\^~<>=v\s]+/, '')
    .split(/[.\-+]/)
    .map((x) => (/^\d+$/.test(x) ? Number(x) : 0));
}

/** Several versions asked for one package across the closure: the lowest wins (as Windmill's builder does). */
function pickVersion(versions: string[]): string {
  return [...versions].sort((a, b) => {
    const pa = numericParts(a);
    const pb = numericParts(b);
    for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
      const d = (pa[i] ?? 0) - (pb[i] ?? 0);
      if (d) return d;
    }
    return a < b ? -1 : a > b ? 1 : 0;
  })[0]!;
}

function cleanRequirement(line: string): string | null {
  const s = line.replace(/(^|\s)#.*$/, '').trim();
  if (!s || s.startsWith('-')) return null;
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)(.*)$/.exec(s);
  if (!m) return s;
  return normalizeDistName(m[1]!) + m[2]!.replace(/\s+/g, ' ').replace(/\s*([<>=!~,]+)\s*/g, '$1').trim();
}

function requirementName(line: string): string {
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(line);
  return m ? normalizeDistName(m[1]!) : line;
}

/** The request of each script, computed lazily with memoized per-script externals. */
export class LockInputs {
  private externalsMemo = new Map<string, Externals | string[]>();
  private depFileSet: Set<string>;

  constructor(
    private scripts: Map<string, LockScript>,
    private depFiles: Map<string, string>,
  ) {
    this.depFileSet = new Set(depFiles.keys());
    if (!parsers) throw new Error('call loadLockParsers() first');
  }

  /** The script and every script it imports relatively, transitively, of the same lock kind. */
  closure(path: string): LockScript[] {
    const root = this.scripts.get(path);
    if (!root) return [];
    const kind = lockKindOf(root.language);
    const seen = new Set([path]);
    const out = [root];
    for (let i = 0; i < out.length; i++) {
      for (const imp of out[i]!.imports) {
        if (seen.has(imp)) continue;
        seen.add(imp);
        const s = this.scripts.get(imp);
        if (s && lockKindOf(s.language) === kind) out.push(s);
      }
    }
    return out;
  }

  private externals(s: LockScript): Externals | string[] {
    let e = this.externalsMemo.get(s.path);
    if (!e) {
      e = lockKindOf(s.language) === 'npm' ? parsers!.ts(s.content) : inferPythonRequirements(s.content, parsers!.py(s.content));
      this.externalsMemo.set(s.path, e);
    }
    return e;
  }

  request(path: string): { request: DependencyRequest } | { error: string } {
    const s = this.scripts.get(path);
    if (!s) return { error: 'unknown script' };
    const kind = lockKindOf(s.language);
    if (!kind) return { error: `no local lock resolution for ${s.language}` };
    const sel = selectDependencyFiles(s.content, s.language, this.depFileSet);
    if (sel.missing.length) return { error: `the dependency annotation names ${sel.missing.join(', ')}, which does not exist` };
    if (kind === 'npm') {
      const deps = new Map<string, string>();
      if (sel.infer) {
        const asked = new Map<string, string[]>();
        for (const m of this.closure(path)) {
          for (const e of this.externals(m) as Externals) {
            const list = asked.get(e.name) ?? [];
            if (e.version && !list.includes(e.version)) list.push(e.version);
            asked.set(e.name, list);
          }
        }
        for (const [n, vs] of asked) deps.set(n, vs.length ? pickVersion(vs) : 'latest');
      }
      for (const f of sel.files) {
        const r = mergePackageJson(deps, this.depFiles.get(f)!, f);
        if (r) return { error: r };
      }
      if (sel.inline) {
        const r = mergePackageJson(deps, sel.inline, 'the inline package.json below // package_json:');
        if (r) return { error: r };
      }
      const entries = [...deps.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      return { request: { kind, entries } };
    }
    const lines: string[] = [];
    if (sel.infer) for (const m of this.closure(path)) lines.push(...(this.externals(m) as string[]).map((r) => cleanRequirement(r)!).filter(Boolean));
    for (const f of sel.files) for (const l of this.depFiles.get(f)!.split(/\r?\n/)) {
      const c = cleanRequirement(l);
      if (c) lines.push(c);
    }
    if (sel.inline) for (const l of sel.inline.split('\n')) {
      const c = cleanRequirement(l);
      if (c) lines.push(c);
    }
    // a pinned or constrained entry makes the bare one redundant
    const byName = new Map<string, Set<string>>();
    for (const l of lines) {
      const n = requirementName(l);
      const set = byName.get(n) ?? new Set<string>();
      set.add(l);
      byName.set(n, set);
    }
    const out: string[] = [];
    for (const [n, set] of byName) {
      const specific = [...set].filter((l) => l !== n);
      out.push(...(specific.length ? specific : [n]));
    }
    return { request: { kind, entries: [...new Set(out)].sort() } };
  }
}

function mergePackageJson(into: Map<string, string>, text: string, what: string): string | null {
  const parsed = parseJsonText(text);
  if ('error' in parsed) return `${what}${parsed.line ? ` (line ${parsed.line})` : ''}: ${parsed.error}`;
  const pj = parsed.value;
  const deps = (pj as { dependencies?: unknown })?.dependencies;
  if (deps === undefined) return null;
  if (!deps || typeof deps !== 'object' || Array.isArray(deps)) return `${what}: "dependencies" must be an object`;
  for (const [n, v] of Object.entries(deps as Record<string, unknown>)) into.set(n, String(v));
  return null;
}
