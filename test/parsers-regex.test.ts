import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBash } from '../src/metadata/parsers/bash.js';
import { parsePowershell } from '../src/metadata/parsers/powershell.js';
import { parseGraphql, parseSql, type SqlDialect } from '../src/metadata/parsers/sql.js';
import { parseGo } from '../src/metadata/parsers/go.js';
import type { ParseOutput } from '../src/metadata/parsers/types.js';
import { CONFORMANCE } from './helpers/workspace.js';

const conformance = CONFORMANCE;

/** file suffix → parser, as the CLI picks languages from extensions */
const PARSERS: [string, (code: string) => ParseOutput][] = [
  ['.pg.sql', (c) => parseSql(c, 'postgresql')],
  ['.my.sql', (c) => parseSql(c, 'mysql')],
  ['.ms.sql', (c) => parseSql(c, 'mssql')],
  ['.bq.sql', (c) => parseSql(c, 'bigquery')],
  ['.sf.sql', (c) => parseSql(c, 'snowflake')],
  ['.duckdb.sql', (c) => parseSql(c, 'duckdb')],
  ['.odb.sql', (c) => parseSql(c, 'oracledb')],
  ['.gql', parseGraphql],
  ['.sh', parseBash],
  ['.ps1', parsePowershell],
  ['.go', parseGo],
];

/** The compared part of a parser output. */
function comparable(out: { args?: unknown[]; has_preprocessor?: unknown; type?: unknown }) {
  return {
    type: out.type ?? null,
    has_preprocessor: out.has_preprocessor ?? null,
    args: (out.args ?? []).map((a) => {
      const { name, typ, default: def, has_default, otyp } = a as Record<string, unknown>;
      return { name, typ, default: def, has_default, otyp };
    }),
  };
}

const cases = existsSync(join(conformance, 'cases'))
  ? readdirSync(join(conformance, 'cases'))
    .map((file) => ({ file, parser: PARSERS.find(([ext]) => file.endsWith(ext)) }))
    .filter((c) => c.parser && !c.file.endsWith('.script.yaml') && !c.file.endsWith('.script.json'))
  : [];

describe('conformance: regex/Go parsers match the reference parser output', () => {
  it('finds the conformance cases', () => {
    expect(cases.length).toBeGreaterThan(10);
  });
  for (const { file, parser } of cases) {
    const name = file.slice(0, file.indexOf('.'));
    it(name, () => {
      const expected = JSON.parse(readFileSync(join(conformance, 'expected', `${name}.json`), 'utf8'));
      const code = readFileSync(join(conformance, 'cases', file), 'utf8');
      const out = parser![1](code);
      expect(comparable(out)).toEqual(comparable(expected.parser.output));
    });
  }
});

const str = { str: null };
const a = (name: string, typ: unknown, def: unknown = null, has_default = false, otyp: string | null = null) => ({
  name, typ, default: def, has_default, otyp,
});
const args = (out: ParseOutput) => comparable(out).args;

describe('bash', () => {
  it('orders by position and stops at the first gap', () => {
    const code = 'b="$2"\na="$1"\nd="$4"\n';
    expect(args(parseBash(code))).toEqual([a('a', str), a('b', str)]);
  });
  it('reads ${N}, ${N:-default}, trailing comments, CRLF, and the last assignment wins', () => {
    const code = 'x="${1}"  # first\r\ny="${2:-a b}"\r\nz="$3"\nz2="$3"\nfour="$4"\n  indented="$5"\nsix="$6"\n';
    expect(args(parseBash(code))).toEqual([
      a('x', str), a('y', str, 'a b', true), a('z2', str), a('four', str),
    ]);
  });
  it('keeps everything up to the last `}"` of the line in the default', () => {
    expect(args(parseBash('v="${1:-a}"b}"\n'))).toEqual([a('v', str, 'a}"b', true)]);
  });
  it('reports null has_preprocessor and no args for scripts without positional assignments', () => {
    expect(parseBash('echo hi\n')).toMatchObject({ args: [], has_preprocessor: null });
  });
});

describe('postgresql', () => {
  it('names arguments $N without comments and types them from casts (text otherwise)', () => {
    const out = parseSql('SELECT * FROM t WHERE id = $2::INT AND name = $1 AND c = $3::character varying;', 'postgresql');
    expect(args(out)).toEqual([
      a('$1', str, null, false, 'text'), a('$2', 'int', null, false, 'int'), a('$3', str, null, false, 'varchar'),
    ]);
    expect(out.args.map((x) => x.oidx)).toEqual([1, 2, 3]);
  });
  it('a cast wins over bare uses, whatever the order', () => {
    const out = parseSql('SELECT $1::bigint WHERE x = $1 OR y = $1::text', 'postgresql');
    expect(args(out)).toEqual([a('$1', 'int', null, false, 'bigint')]);
  });
  it('does not stop at gaps and ignores the database annotation', () => {
    const code = '-- database f/x/db\n-- $1 a\n-- $3 c = 4\nSELECT $1::date, $3::int4;';
    expect(args(parseSql(code, 'postgresql'))).toEqual([
      a('a', 'datetime', null, false, 'date'), a('c', 'int', 4, true, 'int4'),
    ]);
  });
  it('explicit types in comments, null and unparsable defaults', () => {
    const code = '-- $1 ids (int[]) = NULL\n-- $2 n = abc\n-- $3 t (timestamptz)\nSELECT $1, $2::int, $3::text';
    expect(args(parseSql(code, 'postgresql'))).toEqual([
      a('ids', { list: 'int' }, null, true, 'int[]'),
      a('n', 'int', null, true, 'int'),
      a('t', 'datetime', null, false, 'timestamptz'),
    ]);
  });
  it('double precision with array suffix, jsonb and bytea', () => {
    const out = parseSql('SELECT $1::DOUBLE   PRECISION[], $2::jsonb, $3::bytea', 'postgresql');
    expect(args(out)).toEqual([
      a('$1', { list: 'float' }, null, false, 'double[]'),
      a('$2', { object: { name: null, props: [] } }, null, false, 'jsonb'),
      a('$3', 'bytes', null, false, 'bytea'),
    ]);
  });
});

describe('mysql / oracle', () => {
  it('positional ? comments', () => {
    const code = "-- ? name (VARCHAR) = 'x y'\n-- ? n (int) = 3\n-- ? d (decimal) = 1.5\nSELECT ?, ?, ?";
    expect(args(parseSql(code, 'mysql'))).toEqual([
      a('name', str, 'x y', true, 'varchar'), a('n', 'int', 3, true, 'int'), a('d', str, '1.5', true, 'decimal'),
    ]);
  });
  it('named :params take precedence over ? comments', () => {
    const code = '-- ? ignored (int)\n-- :user_id (int) = 7\n-- :label (varchar(20))\nSELECT :user_id, :label';
    expect(args(parseSql(code, 'mysql'))).toEqual([
      a('user_id', 'int', 7, true, 'int'), a('label', str, null, false, 'varchar(20)'),
    ]);
  });
  it('oracle types', () => {
    const code = '-- :n (NUMBER) = 2.5\n-- :d (date)\nSELECT :n, :d FROM dual';
    expect(args(parseSql(code, 'oracledb'))).toEqual([
      a('n', 'float', 2.5, true, 'number'), a('d', 'datetime', null, false, 'date'),
    ]);
  });
  it('appends %%interpolation%% arguments', () => {
    const code = '-- ? a (int)\n-- %%table%% users/orders = users\n-- %%raw%%\nSELECT ? FROM %%table%%';
    expect(args(parseSql(code, 'mysql'))).toEqual([
      a('a', 'int', null, false, 'int'),
      a('table', { str: ['users', 'orders'] }, 'users', true, '__sanitized_enum__'),
      a('raw', str, null, false, '__sanitized_raw_string__'),
    ]);
  });
});

describe('other SQL dialects', () => {
  it('duckdb $name comments', () => {
    const code = '-- $name (text) = joe\n-- $ids (bigint[])\n-- $flag (boolean) = true\nSELECT $name';
    expect(args(parseSql(code, 'duckdb'))).toEqual([
      a('name', str, 'joe', true, 'text'), a('ids', { list: 'int' }, null, false, 'bigint[]'),
      a('flag', 'bool', true, true, 'boolean'),
    ]);
  });
  it('bigquery arrays and mssql @p1', () => {
    expect(args(parseSql('-- @tags (STRING[])\nSELECT 1', 'bigquery'))).toEqual([
      a('tags', { list: str }, null, false, 'string[]'),
    ]);
    expect(args(parseSql('-- @p1 x (nvarchar) = a\n-- @P2 y (bit) = false\nSELECT 1', 'mssql'))).toEqual([
      a('x', str, 'a', true, 'nvarchar'), a('y', 'bool', false, true, 'bit'),
    ]);
  });
  it('never adds the implicit database argument', () => {
    expect(parseSql('SELECT 1', 'snowflake').args).toEqual([]);
  });
});

describe('graphql', () => {
  it('variables, non-null markers and defaults', () => {
    const code = 'query ($a: Int!, $b: String = "x", $c: [ID!]!, $d: Float = 1.5, $e: Boolean, $f: MyInput) { x }';
    expect(args(parseGraphql(code))).toEqual([
      a('a', 'int', null, false, 'Int'),
      a('b', str, 'x', true, 'String'),
      a('c', { list: str }, null, false, '[ID]'),
      // the reference's default pattern is `\w+`: `1.5` is read as `1`
      a('d', 'float', 1, true, 'Float'),
      a('e', 'bool', null, true, 'Boolean'),
      a('f', { object: { name: null, props: [] } }, null, true, 'MyInput'),
    ]);
  });
});

describe('powershell', () => {
  it('types, defaults, mandatory and ValidateSet', () => {
    const code = `# comment
[CmdletBinding()]
param(
  [Parameter(Mandatory)][string]$Name,
  [int]$Count = 3,
  $Untyped = 2.5,
  $Quoted = 'a, b',
  [ValidateSet('Red', "Green")][string]$Color = 'Red',
  [string[]]$Tags,
  [PSCustomObject]$Obj,
  $Env = $env:HOME
)
Write-Output $Name`;
    expect(args(parsePowershell(code))).toEqual([
      a('Name', str, null, false, 'string'),
      a('Count', 'int', 3, true, 'int'),
      a('Untyped', 'float', 2.5, true),
      a('Quoted', str, 'a, b', true),
      a('Color', { str: ['Red', 'Green'] }, 'Red', true, 'string'),
      a('Tags', { list: str }, null, true, 'string[]'),
      a('Obj', { object: { name: null, props: null } }, null, true, 'PSCustomObject'),
      a('Env', str, null, true),
    ]);
  });
  it('no param block when code precedes it', () => {
    expect(parsePowershell('Write-Host hi\nparam($a)').args).toEqual([]);
  });
});

describe('go', () => {
  it('slices, maps, interfaces, inline structs, pointers and grouped names', () => {
    const code = `package inner

func main(a, b string, xs []int, m map[string]int, any interface{}, p *int, t time.Time,
	o struct {
		Name string \`json:"name,omitempty"\`
		Age  int
	}, grid [3][]bool) (interface{}, error) {
	return nil, nil
}
`;
    // checked against the reference parser: `a, b string` gives both names
    expect(args(parseGo(code))).toEqual([
      a('a', str, null, false, 'string'),
      a('b', str, null, false, 'string'),
      a('xs', { list: 'int' }, null, false, '[]int'),
      a('m', { object: { name: null, props: [] } }, null, false, 'map[string]interface{}'),
      a('any', { object: { name: null, props: [] } }, null, false, 'interface{}'),
      a('p', 'unknown', null, false, null),
      a('t', 'unknown', null, false, null),
      a('o', { object: { name: null, props: [{ key: 'name', typ: str }, { key: 'Age', typ: 'int' }] } }, null, false,
        'struct { Name string `json:"name"`; Age int `json:"Age"` }'),
      a('grid', { list: { list: 'bool' } }, null, false, '[][]bool'),
    ]);
  });
  it('a file without `func main(` at the start of a line is invalid', () => {
    expect(parseGo('package x\n\nfunc Main() {}\n').type).toBe('Invalid');
  });
  it('reports syntax errors of the main signature with their line', () => {
    const out = parseGo('package x\n\nfunc main(a string,\n  b) {\n}\n');
    expect(out.type).toBe('Invalid');
    expect(out.error?.line).toBeGreaterThanOrEqual(3);
    const out2 = parseGo('package x\nfunc main(a string, b in+t) {}\n');
    expect(out2.type).toBe('Invalid');
    expect(out2.error?.line).toBe(2);
  });
});
