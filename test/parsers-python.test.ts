import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  parsePython,
  parsePythonBatch,
  pythonExternalImports,
  pythonProcessCount,
  pythonRelativeImports,
} from '../src/metadata/parsers/python.js';
import type { Arg } from '../src/metadata/parsers/types.js';
import { CONFORMANCE } from './helpers/workspace.js';

const conformance = CONFORMANCE;

const caseFiles = readdirSync(resolve(conformance, 'cases'))
  .filter((f) => f.endsWith('.py'))
  .sort();

const pick = (a: Arg) => ({ name: a.name, typ: a.typ, default: a.default, has_default: a.has_default, otyp: a.otyp });

describe('parse_python conformance (cases/*.py)', () => {
  it('finds the python cases', () => {
    expect(caseFiles.length).toBeGreaterThan(0);
  });

  it('matches parser.output for every case (args and has_preprocessor), in one batch', async () => {
    const items = caseFiles.map((f) => ({ id: f.replace(/\..*$/, ''), code: readFileSync(resolve(conformance, 'cases', f), 'utf8') }));
    const before = pythonProcessCount();
    const got = await parsePythonBatch(items);
    expect(pythonProcessCount() - before).toBe(1);
    for (const { id } of items) {
      const expected = JSON.parse(readFileSync(resolve(conformance, 'expected', `${id}.json`), 'utf8')).parser.output;
      const out = got.get(id)!;
      expect(out, id).toBeDefined();
      expect(out.error, id).toBeUndefined();
      expect({ case: id, args: out.args.map(pick), has_preprocessor: out.has_preprocessor }).toEqual({
        case: id,
        args: expected.args.map(pick),
        has_preprocessor: expected.has_preprocessor,
      });
      expect(out.star_args ?? false, id).toBe(expected.star_args ?? false);
      expect(out.auto_kind ?? null, id).toBe(expected.auto_kind ?? null);
    }
  });
});

describe('parse_python rules', () => {
  it('Optional / | None / list / Literal / untyped defaults', async () => {
    const out = await parsePython(
      [
        'from typing import List, Literal, Optional',
        'def main(a: Optional[str], b: int | None, c: list, d: List[int], e: list[list[int]], f: list[dict],',
        '         g: Literal["x", "y"], h=1.5, i=[1, 2], j=True, k: list = [1], l: bytes = b"ab", m=f(1)):',
        '    pass',
      ].join('\n'),
    );
    const byName = Object.fromEntries(out.args.map((a) => [a.name, a]));
    expect(byName.a).toMatchObject({ typ: { str: null }, has_default: true, default: null });
    expect(byName.b).toMatchObject({ typ: 'int', has_default: true });
    expect(byName.c).toMatchObject({ typ: { list: { str: null } }, has_default: false });
    expect(byName.d!.typ).toEqual({ list: 'int' });
    expect(byName.e!.typ).toEqual({ list: { list: 'int' } });
    expect(byName.f!.typ).toEqual({ list: { object: { name: null, props: [] } } });
    expect(byName.g!.typ).toEqual({ str: ['x', 'y'] });
    expect(byName.h).toMatchObject({ typ: 'float', default: 1.5 });
    expect(byName.i).toMatchObject({ typ: { list: 'int' }, default: [1, 2] });
    expect(byName.j).toMatchObject({ typ: 'bool', default: true });
    expect(byName.k).toMatchObject({ typ: { list: 'int' }, default: [1] });
    expect(byName.l).toMatchObject({ typ: 'bytes', default: [97, 98] });
    expect(byName.m).toMatchObject({ typ: 'unknown', default: '<function call>', has_default: true });
  });

  it('Enum classes, wmill.S3Object, resources, async main, *args', async () => {
    const out = await parsePython(
      [
        'import wmill',
        'from enum import Enum',
        'class Color(str, Enum):',
        '    RED = "red"',
        '    BLUE = "blue"',
        'postgresql = dict',
        'async def main(c: Color = Color.BLUE, s: wmill.S3Object = None, db: postgresql = "$res:f/x", *args, k: int = 1):',
        '    pass',
      ].join('\n'),
    );
    expect(out.args.map(pick)).toEqual([
      { name: 'c', typ: { str: ['red', 'blue'] }, default: 'blue', has_default: true, otyp: null },
      { name: 's', typ: { resource: 's3_object' }, default: null, has_default: true, otyp: null },
      { name: 'db', typ: { resource: 'postgresql' }, default: '$res:f/x', has_default: true, otyp: null },
    ]);
    expect(out.star_args).toBe(true);
  });

  it('no main: no arguments, not invalid', async () => {
    const out = await parsePython('def helper(x):\n    return x\n');
    expect(out.type).toBeUndefined();
    expect(out.args).toEqual([]);
    expect(out.has_preprocessor).toBe(false);
  });
});

describe('parsePythonBatch', () => {
  it('a syntax error affects only its own item and reports its line', async () => {
    const got = await parsePythonBatch([
      { id: 'ok1', code: 'def main(a: int):\n    return a\n' },
      { id: 'bad', code: 'import os\n\ndef main(a: int):\n    x = = 1\n' },
      { id: 'ok2', code: 'def preprocessor(e: dict):\n    return e\n\ndef main(b: str = "x"):\n    return b\n' },
    ]);
    expect(got.get('ok1')!.args.map((a) => a.name)).toEqual(['a']);
    const bad = got.get('bad')!;
    expect(bad.args).toEqual([]);
    expect(bad.has_preprocessor).toBe(false);
    expect(bad.error?.message).toBe('invalid syntax');
    expect(bad.error?.line).toBe(4);
    const ok2 = got.get('ok2')!;
    expect(ok2.args.map(pick)).toEqual([{ name: 'b', typ: { str: null }, default: 'x', has_default: true, otyp: null }]);
    expect(ok2.has_preprocessor).toBe(true);
  });

  it('500 items cost one python3 process', async () => {
    const items = Array.from({ length: 500 }, (_, i) => ({
      id: `f/bench/s${i}`,
      code: `import os\n\ndef main(x${i}: int, name: str = "n${i}", flag: bool = False):\n    return x${i}\n`,
    }));
    const before = pythonProcessCount();
    const got = await parsePythonBatch(items);
    expect(pythonProcessCount() - before).toBe(1);
    expect(got.size).toBe(500);
    for (let i = 0; i < 500; i++) {
      const out = got.get(`f/bench/s${i}`)!;
      expect(out.args.map((a) => a.name)).toEqual([`x${i}`, 'name', 'flag']);
      expect(out.args[1]!.default).toBe(`n${i}`);
    }
  });

  it('an empty batch starts no process', async () => {
    const before = pythonProcessCount();
    expect((await parsePythonBatch([])).size).toBe(0);
    expect(pythonProcessCount()).toBe(before);
  });
});

describe('pythonRelativeImports', () => {
  const code = [
    'import os',
    'import requests',
    'from f.lib.helper import x',
    'from .sibling import x',
    'from ..lib import helper2',
    'import f.abs.mod',
    'from u.admin.thing import y',
    'from f.lib.helper import (',
    '    a,',
    '    b,  # comment',
    ')',
    'from numpy import array',
    '"""',
    'import f.not_real.in_string',
    '"""',
    'def main():',
    '    pass',
  ].join('\n');

  it('maps the documented examples for f/other/user', () => {
    expect(pythonRelativeImports(code, 'f/other/user')).toEqual([
      'f/abs/mod',
      'f/lib',
      'f/lib/helper',
      'f/other/sibling',
      'u/admin/thing',
    ]);
  });

  it('handles `from . import x`, g. roots, aliases, ; and indented imports', () => {
    const src = [
      'from . import sib',
      'import g.all.common as common, json',
      'import os; from f.semi.colon import z',
      'try:',
      '    from f.indented.one import q',
      'except ImportError:',
      '    pass',
      'from f.multi \\',
      '    .line import w',
    ].join('\n');
    expect(pythonRelativeImports(src, 'f/other/user')).toEqual(['f/multi/line', 'f/other', 'f/semi/colon', 'g/all/common']);
  });

  it('ignores imports after main', () => {
    expect(pythonRelativeImports('def main():\n    pass\nfrom f.late import x\n', 'f/a/b')).toEqual([]);
  });
});

describe('pythonExternalImports', () => {
  it('keeps third-party roots only, sorted and unique', () => {
    const src = [
      'import os, sys',
      'import numpy as np',
      'from pandas.core import frame',
      'import wmill',
      'from f.lib.helper import x',
      'from .sib import y',
      'from typing import List',
      'import requests.adapters',
      'import requests',
      'from __future__ import annotations',
      'def main():',
      '    import late_dep',
    ].join('\n');
    expect(pythonExternalImports(src)).toEqual(['numpy', 'pandas', 'requests', 'wmill']);
  });
});
