/**
 * `wmill script preview` for MySQL (against a real MariaDB started by the test, test/helpers/
 * mysql.ts), DuckDB (in-process, @duckdb/node-api) and PowerShell (when `pwsh` is installed);
 * every other language says, in one line with exit 2, which interpreter it would need.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startMysql, type MysqlServer } from './helpers/mysql.js';
import { BIN, REPO, makeWorkspace, removeDir } from './helpers/workspace.js';
import { findExecutable } from '../src/runner/executors/index.js';

let my: MysqlServer;
let ws: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The built CLI, asynchronously (the MariaDB connection checks below run meanwhile). */
function preview(file: string, data: unknown, extra: string[] = [], env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(process.execPath, [BIN, 'script', 'preview', file, '-d', JSON.stringify(data), ...extra], {
    cwd: ws,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

beforeAll(async () => {
  my = await startMysql();
  const r = my.resource;
  ws = makeWorkspace({
    'f/sql/my.resource.yaml': `description: ''\nresource_type: mysql\nvalue:\n  host: ${r.host}\n  port: ${r.port}\n  user: ${r.user}\n  password: $var:f/sql/my_password\n  database: ${r.database}\n`,
    'f/sql/my_password.variable.yaml': `description: ''\nvalue: ${r.password}\nis_secret: true\n`,
    'f/sql/positional.my.sql': [
      '-- ? name (varchar)',
      '-- ? qty (int)',
      '-- ? min_qty (int)',
      'CREATE TABLE IF NOT EXISTS %%table%% (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50), qty INT, price DECIMAL(10,2), big BIGINT, at DATETIME);',
      "INSERT INTO %%table%% (name, qty, price, big, at) VALUES (?, ?, 9.95, 9007199254740993, '2024-05-01 10:00:00');",
      "SELECT name, qty, price, big, at, 'a;b?' AS semi FROM %%table%% WHERE qty >= ? ORDER BY id -- a ? in a comment is no parameter",
    ].join('\n') + '\n',
    'f/sql/named.my.sql': ['-- :min (int)', '-- :label (varchar)', "SELECT name, qty, :label AS label FROM %%table%% WHERE qty >= :min AND name <> ':not_a_param' ORDER BY id"].join('\n') + '\n',
    'f/sql/broken.my.sql': 'SELEC 1\n',
    'f/sql/slow.my.sql': 'SELECT SLEEP(30) AS s\n',
    'f/duck/query.duckdb.sql': [
      '-- $n (int)',
      '-- $tags (varchar[])',
      '-- $since (date)',
      '-- $doc (json)',
      'CREATE TABLE t AS SELECT range AS i FROM range($n);',
      "SELECT count(*) AS c, sum(i) AS s, $since + 1 AS next_day, list_contains($tags, 'b') AS has_b, $doc->>'$.who' AS who, $free AS free, '%%word%%' AS word FROM t;",
      "SELECT 12345678901234567890::HUGEINT AS huge, 1.25::DECIMAL(5,2) AS dec, [1, 2] AS l, {'k': 1} AS s, '{\"j\": true}'::JSON AS j",
    ].join('\n') + '\n',
    'f/duck/one.duckdb.sql': "-- $x (double)\nSELECT $x * 2 AS twice, '$x' AS not_a_param\n",
    'f/duck/broken.duckdb.sql': 'SELECT * FROM nowhere\n',
    'f/duck/slow.duckdb.sql': 'SELECT count(*) FROM range(100000000000) a\n',
    'f/ps/hello.ps1': 'param([string]$Name = "world", [int]$Times = 1)\n$msg = ("hello " + $Name + " ") * $Times\nWrite-Output "logged line"\nWrite-Output $msg.Trim()\n',
    'f/other/main.go': 'package inner\n\nfunc main() (string, error) {\n\treturn "hi", nil\n}\n',
    'f/other/page.php': '<?php\nfunction main() { return 1; }\n',
    'f/other/q.bq.sql': 'SELECT 1\n',
  });
}, 180_000);

afterAll(async () => {
  await my?.stop();
  if (ws) removeDir(ws);
});

describe('MySQL (a real MariaDB)', () => {
  it('positional `-- ? name` parameters, several statements, %%raw%% interpolation; DECIMAL, big integers and dates as MySQL prints them', async () => {
    const r = await preview('f/sql/positional.my.sql', { database: '$res:f/sql/my', name: 'apple', qty: 3, min_qty: 0, table: 'items' });
    expect(r.code, r.stderr).toBe(0);
    const [created, inserted, selected] = JSON.parse(r.stdout);
    expect(created).toEqual([]);
    expect(inserted).toEqual([]);
    expect(selected).toEqual([{ name: 'apple', qty: 3, price: '9.95', big: '9007199254740993', at: '2024-05-01 10:00:00', semi: 'a;b?' }]);
  }, 60_000);

  it('named `-- :name` parameters; values are bound, never spliced into the SQL', async () => {
    for (const [name, qty] of [
      ['pear', 3],
      ["o'brien; DROP TABLE named_items", 5],
    ] as const) {
      const ins = await preview('f/sql/positional.my.sql', { database: '$res:f/sql/my', name, qty, min_qty: 100, table: 'named_items' });
      expect(ins.code, ins.stderr + ins.stdout).toBe(0);
      expect(JSON.parse(ins.stdout)[2]).toEqual([]);
    }
    const r = await preview('f/sql/named.my.sql', { database: '$res:f/sql/my', min: 3, label: 'x', table: 'named_items' });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      { name: 'pear', qty: 3, label: 'x' },
      { name: "o'brien; DROP TABLE named_items", qty: 5, label: 'x' },
    ]);
    const only = await preview('f/sql/named.my.sql', { database: '$res:f/sql/my', min: 4, label: 'y', table: 'named_items' }, ['-s']);
    expect(JSON.parse(only.stdout)).toEqual([{ name: "o'brien; DROP TABLE named_items", qty: 5, label: 'y' }]);
  }, 60_000);

  it('a SQL error fails the job (exit 1) with the server message; a missing database argument is bad input (exit 2)', async () => {
    const bad = await preview('f/sql/broken.my.sql', { database: '$res:f/sql/my' }, ['--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).result.error.message).toMatch(/^error performing query: You have an error in your SQL syntax/);
    const none = await preview('f/sql/broken.my.sql', {});
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('database');
  }, 60_000);

  it('a timeout kills the running query on the server', async () => {
    const r = await preview('f/sql/slow.my.sql', { database: '$res:f/sql/my' }, ['--timeout', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr + r.stdout).toMatch(/timed out after 1s/);
    const mysql = (await import('mysql2/promise')).default;
    const c = await mysql.createConnection({ ...my.resource });
    let sleeping = 1;
    for (let i = 0; i < 100 && sleeping > 0; i++) {
      const [rows] = await c.query(`SELECT count(*) AS n FROM information_schema.processlist WHERE info LIKE 'SELECT SLEEP(30)%'`);
      sleeping = Number((rows as { n: number }[])[0]!.n);
      if (sleeping > 0) await new Promise((res) => setTimeout(res, 100));
    }
    await c.end();
    expect(sleeping).toBe(0);
  }, 60_000);
});

describe('DuckDB (in-process)', () => {
  it('declared parameters bound with their types, undeclared ones by JSON type, several statements, JSON and big integers', async () => {
    const r = await preview('f/duck/query.duckdb.sql', { n: 5, tags: ['a', 'b'], since: '2024-02-28', doc: JSON.stringify({ who: 'ada' }), free: true, word: 'raw' });
    expect(r.code, r.stderr).toBe(0);
    const [created, summary, types] = JSON.parse(r.stdout);
    expect(created).toEqual([{ Count: 5 }]);
    expect(summary).toEqual([{ c: 5, s: 10, next_day: '2024-02-29', has_b: true, who: 'ada', free: true, word: 'raw' }]);
    expect(types).toEqual([{ huge: '12345678901234567890', dec: '1.25', l: [1, 2], s: { k: 1 }, j: { j: true } }]);
    const one = await preview('f/duck/one.duckdb.sql', { x: 1.5 }, ['-s']);
    expect(JSON.parse(one.stdout)).toEqual([{ twice: 3, not_a_param: '$x' }]);
  }, 60_000);

  it('an error fails the job with DuckDB\'s message; a timeout interrupts the query', async () => {
    const bad = await preview('f/duck/broken.duckdb.sql', {}, ['--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).result.error.message).toMatch(/^error performing query: Catalog Error: Table with name nowhere does not exist/);
    const slow = await preview('f/duck/slow.duckdb.sql', {}, ['--timeout', '1']);
    expect(slow.code).toBe(1);
    expect(slow.stderr + slow.stdout).toMatch(/timed out after 1s/);
  }, 60_000);

  it('DuckDB and mysql2 are loaded only by the jobs that need them (not by the CLI or preview start-up)', () => {
    const dist = join(REPO, 'dist');
    for (const f of ['preview.mjs', 'cli.mjs', 'preview-early-python.mjs', 'preview-early-typescript.mjs']) {
      const text = readFileSync(join(dist, f), 'utf8');
      expect(text, f).not.toMatch(/@duckdb\/node-api|mysql2/);
    }
    const lazy = readdirSync(join(dist, 'lazy/runner/executors'));
    expect(lazy).toEqual(expect.arrayContaining(['duckdb.mjs', 'mysql.mjs']));
  });
});

describe('PowerShell and the other languages', () => {
  const pwsh = findExecutable(process.env.WMILL_PWSH || 'pwsh');

  it.runIf(pwsh)('runs a PowerShell script with its param() arguments bound by name (pwsh is installed)', async () => {
    const r = await preview('f/ps/hello.ps1', { Name: 'ps', Times: 2 }, ['-s']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toBe('hello ps hello ps');
  }, 60_000);

  it('without pwsh, a PowerShell script says pwsh is missing (one line, exit 2)', async () => {
    const r = await preview('f/ps/hello.ps1', {}, [], { WMILL_PWSH: '/nonexistent/pwsh' });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('cannot preview f/ps/hello.ps1: powershell scripts run with /nonexistent/pwsh (PowerShell 7), which is not installed here');
  }, 60_000);

  it('other languages name the interpreter (or service) they would need, in one line with exit 2', async () => {
    for (const [file, needs] of [
      ['f/other/main.go', 'go (the Go toolchain)'],
      ['f/other/page.php', 'php (PHP)'],
      ['f/other/q.bq.sql', 'a BigQuery connection'],
    ] as const) {
      const r = await preview(file, {}, [], { PATH: '/nonexistent' });
      expect(r.code, file).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toContain(`cannot preview ${file}:`);
      expect(lines[0]).toContain(needs);
      expect(lines[0]).toContain('preview runs bun, nativets, python3, bash, postgresql, mysql, duckdb, powershell');
    }
  }, 60_000);
});
