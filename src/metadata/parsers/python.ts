import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { WmillError } from '../../errors.js';
import { packageRoot } from '../../paths.js';
import type { ParseOutput } from './types.js';
import { resolvePython } from '../../util/python.js';

/**
 * Python `main` signatures, compatible with Windmill's `parse_python` (windmill-parser-wasm-py).
 *
 * The parsing itself is done by python3's own `ast` module in `python/wmill_sig.py`: ONE child
 * process per batch, every source sent as JSON on stdin, every result read as JSON on stdout.
 * The rules (which line is `main`, how annotations and defaults map to types) live in that
 * script; see its header. Imports are scanned here in TypeScript, no python needed.
 */

export interface PythonSource {
  id: string;
  code: string;
}

let spawned = 0;

/** How many python3 processes this module has started (tests: a batch costs one). */
export function pythonProcessCount(): number {
  return spawned;
}

function pythonExecutable(): string {
  return resolvePython();
}

export function pythonHelperPath(): string {
  return join(packageRoot(), 'python', 'wmill_sig.py');
}

interface HelperResult {
  id: string;
  output: ParseOutput;
}

function runHelper(payload: string): Promise<HelperResult[]> {
  return new Promise((resolve, reject) => {
    const exe = pythonExecutable();
    // -I: ignore PYTHON* env vars and user site; -S: no site import (faster start, stdlib only)
    const child = spawn(exe, ['-I', '-S', pythonHelperPath()], { stdio: ['pipe', 'pipe', 'pipe'] });
    spawned++;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let failed = false;
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => {
      failed = true;
      const msg =
        e.code === 'ENOENT'
          ? `cannot run ${exe}: not found (python3 is needed to infer Python script schemas; set WMILL_PYTHON to use another interpreter)`
          : `cannot run ${exe}: ${e.message}`;
      reject(new WmillError('failure', msg));
    });
    child.stdin.on('error', () => {
      /* the child died early: reported by 'close' */
    });
    child.on('close', (code, signal) => {
      if (failed) return;
      const stderr = Buffer.concat(err).toString('utf8').trim();
      if (code !== 0) {
        reject(new WmillError('failure', `python signature helper failed (${signal ?? `exit ${code}`})${stderr ? `: ${stderr}` : ''}`));
        return;
      }
      try {
        const parsed = JSON.parse(Buffer.concat(out).toString('utf8')) as { results: HelperResult[] };
        resolve(parsed.results);
      } catch (e) {
        reject(new WmillError('failure', `python signature helper returned invalid output: ${(e as Error).message}`));
      }
    });
    child.stdin.end(payload, 'utf8');
  });
}

function normalize(o: Partial<ParseOutput> | undefined): ParseOutput {
  const out: ParseOutput = {
    ...(o ?? {}),
    args: Array.isArray(o?.args) ? o!.args : [],
    has_preprocessor: o ? (o.has_preprocessor ?? null) : null,
  };
  if (!o) out.type = 'Invalid';
  return out;
}

/**
 * Parse many Python scripts with one python3 process. A syntax error affects only its item:
 * `{args: [], has_preprocessor: false, error: {message, line, column}}`.
 */
export async function parsePythonBatch(items: PythonSource[]): Promise<Map<string, ParseOutput>> {
  const result = new Map<string, ParseOutput>();
  if (items.length === 0) return result;
  // positional ids on the wire, so duplicate or odd ids cannot confuse the mapping
  const payload = JSON.stringify({ items: items.map((it, i) => ({ id: String(i), code: it.code })) });
  const results = await runHelper(payload);
  const byIndex = new Map<string, ParseOutput>();
  for (const r of results) byIndex.set(String(r.id), r.output);
  items.forEach((it, i) => result.set(it.id, normalize(byIndex.get(String(i)))));
  return result;
}

export async function parsePython(code: string): Promise<ParseOutput> {
  const m = await parsePythonBatch([{ id: 'main', code }]);
  return m.get('main')!;
}

// ---------------------------------------------------------------------------------------
// Imports
// ---------------------------------------------------------------------------------------

interface Statement {
  text: string;
  /** The statement starts at column 0 (a module-level statement). */
  topLevel: boolean;
}

/**
 * Module-level logical statements of a Python source: comments dropped, string literals
 * replaced by `""`, bracketed and backslash-continued lines joined, `;` splitting statements.
 */
function statements(code: string): Statement[] {
  const out: Statement[] = [];
  const n = code.length;
  let cur = '';
  let depth = 0;
  let fresh = true; // before the first token of a statement
  let indented = false;
  let afterSemicolon = false;
  const push = () => {
    const text = cur.trim();
    if (text) out.push({ text, topLevel: !indented });
    cur = '';
  };
  let i = 0;
  while (i < n) {
    const c = code[i]!;
    if (fresh) {
      if (c === ' ' || c === '\t' || c === '\f') {
        if (!afterSemicolon) indented = true;
        i++;
        continue;
      }
      if (c === '\n' || c === '\r') {
        indented = false;
        afterSemicolon = false;
        i++;
        continue;
      }
      if (c === '\\' && (code[i + 1] === '\n' || code[i + 1] === '\r')) {
        i += code[i + 1] === '\r' && code[i + 2] === '\n' ? 3 : 2;
        continue;
      }
      fresh = false;
    }
    if (c === '#') {
      while (i < n && code[i] !== '\n') i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const triple = code.startsWith(c.repeat(3), i);
      i += triple ? 3 : 1;
      while (i < n) {
        const d = code[i]!;
        if (d === '\\') {
          i += 2;
          continue;
        }
        if (triple) {
          if (code.startsWith(c.repeat(3), i)) {
            i += 3;
            break;
          }
        } else if (d === c) {
          i++;
          break;
        } else if (d === '\n') {
          break; // unterminated: let the newline end the statement
        }
        i++;
      }
      cur += '""';
      continue;
    }
    if (c === '\\' && (code[i + 1] === '\n' || code[i + 1] === '\r')) {
      i += code[i + 1] === '\r' && code[i + 2] === '\n' ? 3 : 2;
      cur += ' ';
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth = Math.max(0, depth - 1);
    if ((c === '\n' || c === '\r') && depth === 0) {
      push();
      fresh = true;
      indented = false;
      afterSemicolon = false;
      i++;
      continue;
    }
    if (c === '\n' || c === '\r') {
      cur += ' ';
      i++;
      continue;
    }
    if (c === ';' && depth === 0) {
      push();
      fresh = true;
      afterSemicolon = true;
      i++;
      continue;
    }
    cur += c;
    i++;
  }
  push();
  return out;
}

/** The reference only looks at the code before `main`'s definition. */
const DEF_MAIN = /^[ \t]*(?:async[ \t]+)?def[ \t]+main[ \t]*\(/m;

interface PyImport {
  /** Leading dots of a `from` import (0 for absolute imports). */
  level: number;
  /** Dotted module, '' for `from . import x`. */
  module: string;
}

const IDENT = String.raw`[\p{L}\p{N}_]`;
const FROM_RE = new RegExp(String.raw`^from(?=[\s.])\s*((?:\.\s*)*)(${IDENT}+(?:\s*\.\s*${IDENT}+)*)?\s*import(?=[\s(*]|$)`, 'u');
const IMPORT_RE = /^import\s+(.+)$/su;

function moduleImports(code: string): PyImport[] {
  const m = DEF_MAIN.exec(code);
  const head = m ? code.slice(0, m.index) : code;
  const out: PyImport[] = [];
  for (const st of statements(head)) {
    if (!st.topLevel) continue;
    const f = FROM_RE.exec(st.text);
    if (f) {
      out.push({ level: (f[1] ?? '').replace(/\s+/g, '').length, module: (f[2] ?? '').replace(/\s+/g, '') });
      continue;
    }
    const im = IMPORT_RE.exec(st.text);
    if (im) {
      for (const part of im[1]!.split(',')) {
        const name = part.trim().split(/\s+as\s+/u)[0]!.replace(/\s+/g, '');
        if (name) out.push({ level: 0, module: name });
      }
    }
  }
  return out;
}

const WINDMILL_ROOTS = new Set(['f', 'u', 'g']);

const sortUnique = (xs: string[]): string[] => [...new Set(xs)].sort();

/**
 * Windmill scripts imported by a Python script (`scriptPath` like `f/other/user`), sorted and
 * de-duplicated: `from f.lib.helper import x` → `f/lib/helper`, `from .sibling import x` →
 * `f/other/sibling`, `from ..lib import helper2` → `f/lib`, `import f.abs.mod` → `f/abs/mod`.
 */
export function pythonRelativeImports(code: string, scriptPath: string): string[] {
  const segments = scriptPath.split('/');
  const found: string[] = [];
  for (const imp of moduleImports(code)) {
    if (imp.level > 0) {
      const base = segments.slice(0, Math.max(0, segments.length - imp.level)).join('/');
      found.push(imp.module ? `${base}/${imp.module.replace(/\./g, '/')}` : base);
    } else if (imp.module && WINDMILL_ROOTS.has(imp.module.split('.')[0]!)) {
      found.push(imp.module.replace(/\./g, '/'));
    }
  }
  return sortUnique(found);
}

/** Top-level names of third-party modules imported at module level (no stdlib, no Windmill paths). */
export function pythonExternalImports(code: string): string[] {
  const found: string[] = [];
  for (const imp of moduleImports(code)) {
    if (imp.level > 0 || !imp.module) continue;
    const root = imp.module.split('.')[0]!;
    if (WINDMILL_ROOTS.has(root) || PYTHON_STDLIB.has(root)) continue;
    found.push(root);
  }
  return sortUnique(found);
}

/** `sys.stdlib_module_names` of CPython 3.11 (plus modules of later versions). */
export const PYTHON_STDLIB: ReadonlySet<string> = new Set(
  (
    '__future__ _abc _aix_support _ast _asyncio _bisect _blake2 _bootsubprocess _bz2 _codecs _codecs_cn _codecs_hk ' +
    '_codecs_iso2022 _codecs_jp _codecs_kr _codecs_tw _collections _collections_abc _compat_pickle _compression ' +
    '_contextvars _crypt _csv _ctypes _curses _curses_panel _datetime _dbm _decimal _elementtree _frozen_importlib ' +
    '_frozen_importlib_external _functools _gdbm _hashlib _heapq _imp _io _json _locale _lsprof _lzma _markupbase ' +
    '_md5 _msi _multibytecodec _multiprocessing _opcode _operator _osx_support _overlapped _pickle _posixshmem ' +
    '_posixsubprocess _py_abc _pydecimal _pyio _queue _random _scproxy _sha1 _sha256 _sha3 _sha512 _signal ' +
    '_sitebuiltins _socket _sqlite3 _sre _ssl _stat _statistics _string _strptime _struct _symtable _thread ' +
    '_threading_local _tkinter _tokenize _tracemalloc _typing _uuid _warnings _weakref _weakrefset _winapi ' +
    '_zoneinfo abc aifc antigravity argparse array ast asynchat asyncio asyncore atexit audioop base64 bdb ' +
    'binascii bisect builtins bz2 cProfile calendar cgi cgitb chunk cmath cmd code codecs codeop collections ' +
    'colorsys compileall concurrent configparser contextlib contextvars copy copyreg crypt csv ctypes curses ' +
    'dataclasses datetime dbm decimal difflib dis distutils doctest email encodings ensurepip enum errno ' +
    'faulthandler fcntl filecmp fileinput fnmatch fractions ftplib functools gc genericpath getopt getpass ' +
    'gettext glob graphlib grp gzip hashlib heapq hmac html http idlelib imaplib imghdr imp importlib inspect io ' +
    'ipaddress itertools json keyword lib2to3 linecache locale logging lzma mailbox mailcap marshal math ' +
    'mimetypes mmap modulefinder msilib msvcrt multiprocessing netrc nis nntplib nt ntpath nturl2path numbers ' +
    'opcode operator optparse os ossaudiodev pathlib pdb pickle pickletools pipes pkgutil platform plistlib ' +
    'poplib posix posixpath pprint profile pstats pty pwd py_compile pyclbr pydoc pydoc_data pyexpat queue ' +
    'quopri random re readline reprlib resource rlcompleter runpy sched secrets select selectors shelve shlex ' +
    'shutil signal site smtpd smtplib sndhdr socket socketserver spwd sqlite3 sre_compile sre_constants ' +
    'sre_parse ssl stat statistics string stringprep struct subprocess sunau symtable sys sysconfig syslog ' +
    'tabnanny tarfile telnetlib tempfile termios textwrap this threading time timeit tkinter token tokenize ' +
    'tomllib trace traceback tracemalloc tty turtle turtledemo types typing unicodedata unittest urllib uu uuid ' +
    'venv warnings wave weakref webbrowser winreg winsound wsgiref xdrlib xml xmlrpc zipapp zipfile zipimport ' +
    'zlib zoneinfo ' +
    // 3.12+ additions (private modules mostly; harmless to list)
    '_interpchannels _interpqueues _interpreters _pylong _pyrepl _suggestions _sysconfig _colorize _ios_support ' +
    '_opcode_metadata _android_support _apple_support annotationlib compression'
  ).split(/\s+/),
);
