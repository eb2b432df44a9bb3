/**
 * Dependency annotations in a script's header, with the reference CLI's rules
 * (`extractWorkspaceDepsAnnotation`, windmill-cli 1.819.0):
 * - the first line `<comment> requirements: a, b` (manual mode: no import inference) or
 *   `<comment> extra_requirements: a, b` / `extra-requirements:` (extra mode: inference plus these);
 *   the keyword is `requirements` (python3) or `package_json` (bun);
 * - the names select workspace dependency files (`default` = the unnamed one);
 * - the comment lines right below hold inline requirements: for Python each line is `#<token>`
 *   (one token, optional single space), for bun any `//` line (the text after `//`).
 */
import type { Language } from '../../workspace/languages.js';

export interface DepsAnnotation {
  mode: 'manual' | 'extra';
  /** Dependency file names (`default` for the unnamed file). */
  names: string[];
  /** Inline requirements text, or null. */
  inline: string | null;
}

const CONFIG: Partial<Record<Language, { comment: string; keyword: string; validity?: RegExp }>> = {
  python3: { comment: '#', keyword: 'requirements', validity: /^#\s?(\S+)\s*$/ },
  bun: { comment: '//', keyword: 'package_json' },
  nativets: { comment: '//', keyword: 'package_json' },
};

export function extractDepsAnnotation(code: string, language: Language): DepsAnnotation | null {
  const cfg = CONFIG[language];
  if (!cfg) return null;
  const { comment, keyword, validity } = cfg;
  const extraU = `extra_${keyword}:`;
  const extraH = `extra-${keyword}:`;
  const manual = `${keyword}:`;
  const strip = (l: string): string | null => (l.startsWith(comment) ? l.slice(comment.length).trimStart() : null);
  const isExtra = (l: string) => {
    const s = strip(l);
    return s !== null && (s.startsWith(extraU) || s.startsWith(extraH));
  };
  const isManual = (l: string) => {
    const s = strip(l);
    return s !== null && s.startsWith(manual);
  };
  const lines = code.split('\n');
  const pos = lines.findIndex((l) => isExtra(l) || isManual(l));
  if (pos === -1) return null;
  const line = lines[pos]!;
  const mode = isExtra(line) ? 'extra' : 'manual';
  const marker = mode === 'extra' ? (line.includes(extraU) ? extraU : extraH) : manual;
  const names = line
    .split(marker)
    .join('')
    .split(comment)
    .join('')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const parts: string[] = [];
  for (let i = pos + 1; i < lines.length; i++) {
    const l = lines[i]!.replace(/\r$/, '');
    if (validity) {
      const m = validity.exec(l);
      if (!m || !m[1]) break;
      parts.push(m[1]);
    } else {
      if (!l.startsWith(comment)) break;
      parts.push(l.slice(comment.length));
    }
  }
  const inline = parts.join('\n');
  return { mode, names, inline: inline.trim().length > 0 ? inline : null };
}

/** Base file name of a language's workspace dependency files. */
export function dependencyFileBase(language: Language): string | null {
  if (language === 'python3') return 'requirements.in';
  if (language === 'bun' || language === 'nativets') return 'package.json';
  return null;
}

export interface DependencyFileSelection {
  /** Root-relative dependency files that apply, in annotation order. */
  files: string[];
  /** False in manual mode: imports are not inferred. */
  infer: boolean;
  inline: string | null;
  /** Files an annotation names that do not exist. */
  missing: string[];
}

/**
 * Which workspace dependency files apply to a script. With an annotation: the named files
 * (manual or extra mode). Without: `dependencies/<base>` (manual, as Windmill's default file is
 * in requirements mode), else `dependencies/extra.<base>` (extra mode), else inference only.
 */
export function selectDependencyFiles(code: string, language: Language, available: ReadonlySet<string>): DependencyFileSelection {
  const base = dependencyFileBase(language);
  if (!base) return { files: [], infer: true, inline: null, missing: [] };
  const ann = extractDepsAnnotation(code, language);
  if (!ann) {
    if (available.has(`dependencies/${base}`)) return { files: [`dependencies/${base}`], infer: false, inline: null, missing: [] };
    if (available.has(`dependencies/extra.${base}`)) return { files: [`dependencies/extra.${base}`], infer: true, inline: null, missing: [] };
    return { files: [], infer: true, inline: null, missing: [] };
  }
  const files: string[] = [];
  const missing: string[] = [];
  for (const n of ann.names) {
    const f = n === 'default' ? `dependencies/${base}` : `dependencies/${n}.${base}`;
    if (available.has(f)) files.push(f);
    else missing.push(f);
  }
  return { files, infer: ann.mode === 'extra', inline: ann.inline, missing };
}
