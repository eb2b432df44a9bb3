/**
 * The runner engine with real parts: real child processes (node+tsx, python3, bash), real HTTP
 * on loopback for the in-job SDKs, a real PostgreSQL server, real process-group kills.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Engine } from '../src/runner/engine.js';
import { MemoryStore } from '../src/runner/store.js';
import { WorkspaceFiles, interpolate } from '../src/runner/workspace-files.js';
import { checkArgs } from '../src/items/args.js';
import { bindStatement, paramNames, splitSql } from '../src/runner/executors/postgresql.js';
import { bashArg } from '../src/runner/executors/bash.js';
import type { JobRecord, JobSpec } from '../src/runner/types.js';
import type { Language } from '../src/workspace/languages.js';
import { REPO, makeWorkspace, removeDir } from './helpers/workspace.js';
import { startPg, type PgServer } from './helpers/pg.js';
import { alive, waitForLines } from './helpers/processes.js';

const FIXTURES = join(REPO, 'test/fixtures');

const WS_FILES: Record<string, string> = {
  'f/fx/db.resource.yaml': [
    'description: a test resource',
    'resource_type: c_service',
    'value:',
    '  url: https://api.example.com',
    '  token: $var:f/fx/api_token',
    '  nested:',
    '    - plain',
    '    - $var:f/fx/greeting',
    '',
  ].join('\n'),
  'f/fx/api_token.variable.yaml': 'description: ""\nis_secret: true\nvalue: tok-123\n',
  'f/fx/greeting.variable.yaml': 'description: ""\nis_secret: false\nvalue: hello there\n',
  'f/fx/alias.resource.yaml': 'resource_type: c_service\nvalue: $res:f/fx/db\n',
};

function workspace(): string {
  const ws = makeWorkspace(WS_FILES);
  mkdirSync(join(ws, 'f/fx'), { recursive: true });
  for (const f of readdirSync(FIXTURES)) if (f.startsWith('preview_')) copyFileSync(join(FIXTURES, f), join(ws, 'f/fx', f));
  return ws;
}

describe('runner engine', () => {
  let ws: string;
  let engine: Engine;
  let store: MemoryStore;

  beforeAll(() => {
    ws = workspace();
    store = new MemoryStore(new WorkspaceFiles(ws));
    engine = new Engine({ store, concurrency: 2 });
  });
  afterAll(async () => {
    await engine.close();
    removeDir(ws);
  });

  const spec = (file: string, language: Language, args: Record<string, unknown>, extra: Partial<JobSpec> = {}): JobSpec => ({
    workspace: 'local',
    kind: 'preview',
    path: `f/fx/${file.replace(/\..*$/, '')}`,
    language,
    content: readFileSync(join(ws, 'f/fx', file), 'utf8'),
    file: join(ws, 'f/fx', file),
    root: ws,
    args,
    ...extra,
  });

  async function run(s: JobSpec): Promise<{ job: JobRecord; logs: string; streamed: string }> {
    let streamed = '';
    const id = await engine.submit(s, { onLog: (c) => (streamed += c) });
    const job = await engine.wait(id);
    const logs = (await store.getLogs(id)).logs;
    // Live streaming and the stored logs are the same text.
    expect(streamed).toBe(logs);
    return { job, logs, streamed };
  }

  it('runs TypeScript with positional arguments (names from the signature), logs and a bigint result', async () => {
    const { job, logs } = await run(spec('preview_add.ts', 'bun', { a: 5, label: 'total' }));
    expect(job.status).toBe('success');
    // b keeps its JS default (10) because it was not given; bigint becomes its digits.
    expect(job.result).toEqual({ label: 'total', total: 15, big: (2n ** 70n).toString() });
    expect(logs).toContain('adding 5 and 10');
    expect(job.duration_ms).toBeGreaterThanOrEqual(0);
    expect(job.started_at).toBeTruthy();
  });

  it('uses argNames (schema order) when given instead of introspection', async () => {
    const { job } = await run(spec('preview_add.ts', 'bun', { x: 1, y: 2 }, { argNames: ['y', 'x', 'x'] }));
    expect(job.result).toMatchObject({ total: 3, label: 1 });
  });

  it('runs Python with keyword arguments, an async main and annotated conversions', async () => {
    const { job, logs } = await run(spec('preview_greet.py', 'python3', { name: 'ada', times: 3, shout: true, when: '2031-05-06', extra: 1 }));
    expect(job.status).toBe('success');
    expect(job.result).toEqual({ text: 'HELLO ADA HELLO ADA HELLO ADA', times: 3, year: 2031 });
    expect(logs).toContain('greeting ada');
  });

  it('runs Bash with positional arguments; the last output line is the result', async () => {
    const { job, logs } = await run(spec('preview_args.sh', 'bash', { name: 'bob', data: { k: [1, 2] } }));
    expect(job.status).toBe('success');
    expect(job.result).toBe('bob x 3');
    expect(logs).toContain('data is {"k":[1,2]}');
  });

  it('takes a Bash result from ./result.json when the script writes one', async () => {
    const { job } = await run(spec('preview_json.sh', 'bash', { n: 7 }));
    expect(job.result).toEqual({ n: 7, ok: true });
  });

  it('windmill-client (npm, unchanged) reads a resource with $var: references and a variable; state round-trips', async () => {
    const { job, logs } = await run(spec('preview_sdk.ts', 'bun', { resPath: 'f/fx/db', varPath: 'f/fx/greeting' }));
    expect(logs).toBe('');
    expect(job.status).toBe('success');
    expect(job.result).toEqual({
      resource: { url: 'https://api.example.com', token: 'tok-123', nested: ['plain', 'hello there'] },
      variable: 'hello there',
      before: null,
      after: { count: 1 },
      workspace: 'local',
    });
  });

  it('Python `import wmill` reads a resource (via a $res: alias) and a secret variable, sets state and a variable', async () => {
    const { job } = await run(spec('preview_sdk.py', 'python3', { res_path: 'f/fx/alias', var_path: 'f/fx/api_token' }, { path: 'f/fx/sdk_py' }));
    expect(job.status).toBe('success');
    expect(job.result).toEqual({
      resource: { url: 'https://api.example.com', token: 'tok-123', nested: ['plain', 'hello there'] },
      variable: 'tok-123',
      before: null,
      after: { count: 2 },
      created: 'yes',
      missing: null,
    });
    expect((await store.getVariable('local', 'f/fx/created_by_job'))?.value).toBe('yes');
    // State lives in the store under the script's state path, so the next job of the same path sees it.
    expect((await store.getResource('local', 'f/fx/sdk_py/user'))?.value).toEqual({ count: 2 });
  });

  it('resolves $res:/$var: job arguments before the script runs', async () => {
    const { job } = await run(spec('preview_args.sh', 'bash', { name: '$var:f/fx/greeting', count: 1 }));
    expect(job.result).toBe('hello there x 1');
  });

  it('fails a job whose argument references a missing variable', async () => {
    const { job } = await run(spec('preview_args.sh', 'bash', { name: '$var:f/fx/nope' }));
    expect(job.status).toBe('failure');
    expect((job.result as any).error.message).toContain('Variable not found at f/fx/nope');
  });

  it('reports a TypeScript failure with name, message and a stack pointing at the script', async () => {
    const { job, logs } = await run(spec('preview_fail.ts', 'bun', { n: 42 }));
    expect(job.status).toBe('failure');
    const e = (job.result as any).error;
    expect(e.name).toBe('RangeError');
    expect(e.message).toBe('value 42 is out of range');
    expect(e.stack).toContain('preview_fail.ts');
    expect(e.stack).not.toContain('ts-wrapper.mjs');
    expect(logs).toContain('about to fail');
  });

  it('reports a Python failure with its traceback (wrapper frames removed)', async () => {
    const { job } = await run(spec('preview_fail.py', 'python3', { n: 3 }));
    expect(job.status).toBe('failure');
    const e = (job.result as any).error;
    expect(e).toMatchObject({ name: 'ValueError', message: 'bad input 3' });
    expect(e.stack).toMatch(/preview_fail\.py", line \d+, in check_input/);
    expect(e.stack).not.toContain('_runner.py');
  });

  it('a script without main fails clearly', async () => {
    const { job } = await run({ ...spec('preview_add.ts', 'bun', {}), file: undefined, content: 'export const x = 1;\n' });
    expect(job.status).toBe('failure');
    expect((job.result as any).error.message).toMatch(/main function is missing/);
  });

  it('times out a long job and kills its whole process tree', async () => {
    const pidfile = join(tmpdir(), `wmill-pids-${process.pid}-${Date.now()}`);
    const id = await engine.submit(spec('preview_sleep.sh', 'bash', { pidfile }, { timeoutS: 1 }));
    const pids = await waitForLines(pidfile, 2);
    const job = await engine.wait(id);
    expect(job.status).toBe('failure');
    expect((job.result as any).error).toMatchObject({ name: 'TimeoutError' });
    expect((job.result as any).error.message).toContain('timed out after 1s');
    for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
  });

  it('cancels a running job (Python, with a child process): status canceled, tree gone', async () => {
    const pidfile = join(tmpdir(), `wmill-pids-py-${process.pid}-${Date.now()}`);
    const id = await engine.submit(spec('preview_sleep.py', 'python3', { pidfile }));
    const pids = await waitForLines(pidfile, 2);
    for (const pid of pids) expect(alive(pid)).toBe(true);
    expect(await engine.cancel(id, 'tester', 'test cancel')).toBe(true);
    const job = await engine.wait(id);
    expect(job.status).toBe('canceled');
    expect(job.canceled_by).toBe('tester');
    expect((job.result as any).error).toMatchObject({ name: 'Canceled', message: 'Job canceled: test cancel by tester' });
    for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
    expect(await engine.cancel(id)).toBe(false);
  });

  it('cancels a queued job without running it', async () => {
    const e2 = new Engine({ store: new MemoryStore(), autoRun: false });
    const id = await e2.submit(spec('preview_args.sh', 'bash', { name: 'x' }));
    expect((await e2.store.getJob(id))?.status).toBe('queued');
    expect(await e2.cancel(id, 'me', 'not needed')).toBe(true);
    const job = await e2.wait(id);
    expect(job.status).toBe('canceled');
    expect(job.started_at).toBeUndefined();
    expect(await e2.store.claimNext('test')).toBeUndefined();
    await e2.close();
  });

  for (const [file, language] of [
    ['preview_env.py', 'python3'],
    ['preview_env.ts', 'bun'],
  ] as const) {
    it(`a prewarmed ${language} interpreter gets the job (args and environment) on stdin`, async () => {
      const e2 = new Engine({ store: new MemoryStore() });
      e2.prewarm(language);
      const api = await e2.apiServer();
      const id = await e2.submit(spec(file, language, {}));
      const job = await e2.wait(id);
      await e2.close();
      expect(job.status, JSON.stringify(job.result)).toBe('success');
      expect(job.result).toEqual({ job: id, token: true, base: api.baseUrl, path: `f/fx/${file.replace(/\..*$/, '')}` });
    });
  }

  it('close() kills an unused prewarmed interpreter', async () => {
    const e2 = new Engine({ store: new MemoryStore() });
    e2.prewarm('python3');
    const w = await (e2 as any).prewarms.get('python3');
    expect(alive(w.handle.pid)).toBe(true);
    await e2.close();
    expect(alive(w.handle.pid)).toBe(false);
    expect(existsSync(w.jobDir)).toBe(false);
  });

  it('serves the job API only to the job token', async () => {
    const api = await engine.apiServer();
    const r = await fetch(`${api.baseUrl}/api/w/local/variables/get_value/f/fx/greeting`);
    expect(r.status).toBe(401);
    const v = await fetch(`${api.baseUrl}/api/version`);
    expect(await v.text()).toMatch(/^CE v1\./);
  });
});

describe('runner: PostgreSQL against a real server', () => {
  let pg: PgServer;
  let ws: string;
  let engine: Engine;

  beforeAll(async () => {
    pg = await startPg();
    ws = workspace();
    engine = new Engine({ store: new MemoryStore(new WorkspaceFiles(ws)) });
  });
  afterAll(async () => {
    await engine?.close();
    if (ws) removeDir(ws);
    await pg?.stop();
  });

  const pgSpec = (file: string, args: Record<string, unknown>): JobSpec => ({
    workspace: 'local',
    kind: 'preview',
    path: `f/fx/${file.replace(/\..*$/, '')}`,
    language: 'postgresql',
    content: readFileSync(join(ws, 'f/fx', file), 'utf8'),
    file: join(ws, 'f/fx', file),
    root: ws,
    args,
  });

  it('returns the rows as objects, with $1..$n bound by name from the -- $n comments', async () => {
    const id = await engine.submit(pgSpec('preview_rows.pg.sql', { database: pg.resource, min_n: 4, label: 'r' }));
    const job = await engine.wait(id);
    expect(job.status, JSON.stringify(job.result)).toBe('success');
    expect(job.result).toEqual([
      { n: 4, label: 'r', half: '6.0', even: true, doc: { k: 1 } },
      { n: 5, label: 'r', half: '7.5', even: false, doc: { k: 1 } },
    ]);
  });

  it('runs several statements, each with its own parameters; strings and dollar quotes keep their semicolons', async () => {
    const id = await engine.submit(pgSpec('preview_multi.pg.sql', { database: pg.resource, a: 10, b: 'bee' }));
    const job = await engine.wait(id);
    expect(job.status, JSON.stringify(job.result)).toBe('success');
    expect(job.result).toEqual([
      [],
      [],
      [
        { x: 10, s: 'semi;colon' },
        { x: 11, s: 'dollar;quoted' },
      ],
      [{ b: 'bee' }],
    ]);
  });

  it('takes the database from a $res: reference to a resource file', async () => {
    const { writeFileSync } = await import('node:fs');
    const r = pg.resource;
    writeFileSync(
      join(ws, 'f/fx/pgdb.resource.yaml'),
      `resource_type: postgresql\nvalue:\n  host: ${r.host}\n  port: ${r.port}\n  user: ${r.user}\n  password: '${r.password}'\n  dbname: ${r.dbname}\n  sslmode: disable\n`,
    );
    const e2 = new Engine({ store: new MemoryStore(new WorkspaceFiles(ws)) });
    const id = await e2.submit(pgSpec('preview_rows.pg.sql', { database: '$res:f/fx/pgdb', min_n: 5 }));
    const job = await e2.wait(id);
    await e2.close();
    expect(job.result).toEqual([{ n: 5, label: null, half: '7.5', even: false, doc: { k: 1 } }]);
  });

  it('reports a SQL error as a failure with the server message', async () => {
    const id = await engine.submit({ ...pgSpec('preview_rows.pg.sql', { database: pg.resource }), file: undefined, content: 'SELECT * FROM no_such_table;' });
    const job = await engine.wait(id);
    expect(job.status).toBe('failure');
    expect((job.result as any).error.message).toContain('relation "no_such_table" does not exist');
    expect((job.result as any).error.extra.code).toBe('42P01');
  });

  it('cancels a running query', async () => {
    const id = await engine.submit({ ...pgSpec('preview_rows.pg.sql', { database: pg.resource }), file: undefined, content: 'SELECT pg_sleep(300);' });
    for (let i = 0; i < 200 && (await engine.store.getJob(id))?.status !== 'running'; i++) await new Promise((r) => setTimeout(r, 25));
    // Let the statement reach the server before canceling it.
    await new Promise((r) => setTimeout(r, 300));
    await engine.cancel(id, 'tester', 'stop');
    const job = await engine.wait(id);
    expect(job.status).toBe('canceled');
  });
});

describe('runner units', () => {
  it('checks arguments against the schema, names the argument, applies defaults', () => {
    const schema = {
      type: 'object',
      properties: {
        x: { type: 'integer', default: null },
        y: { type: 'number', default: 1.5 },
        s: { type: 'string', enum: ['a', 'b'], default: null },
        l: { type: 'array', items: { type: 'number' }, default: null },
        db: { type: 'object', format: 'resource-postgresql', default: null },
      },
      required: ['x', 'db'],
    };
    expect(checkArgs(schema, { x: 'nope', db: {} }).errors).toEqual([{ name: 'x', message: `argument 'x' must be an integer, got "nope" (a string)` }]);
    expect(checkArgs(schema, { x: 1.5, db: {} }).errors[0]!.message).toContain("argument 'x' must be an integer");
    expect(checkArgs(schema, { db: {} }).errors[0]!.message).toBe("missing required argument 'x' (an integer)");
    expect(checkArgs(schema, { x: 1, db: {}, s: 'c' }).errors[0]!.message).toBe(`argument 's' must be one of "a", "b", got "c"`);
    expect(checkArgs(schema, { x: 1, db: {}, l: [1, 'two'] }).errors[0]!.message).toContain('item 1');
    expect(checkArgs(schema, { x: 1, db: 42 }).errors[0]!.message).toContain('a postgresql resource');
    // defaults are applied, not checked
    expect(checkArgs({ properties: { m: { type: 'object', format: 'resource-mode', default: 'words' } } }, {})).toEqual({ args: { m: 'words' }, errors: [], unknown: [] });
    const ok = checkArgs(schema, { x: 1, db: '$res:f/x/db', extra: true });
    expect(ok.errors).toEqual([]);
    expect(ok.args).toEqual({ x: 1, y: 1.5, db: '$res:f/x/db', extra: true });
    expect(ok.unknown).toEqual(['extra']);
    expect(checkArgs(undefined, { anything: 1 }).errors).toEqual([]);
    const str = { type: 'object', properties: { n: { type: 'string' } }, required: ['n'] };
    expect(checkArgs(str, { n: 3 }).errors).toHaveLength(1);
    expect(checkArgs(str, { n: 3 }, { scalarsAsStrings: true }).errors).toEqual([]);
  });

  it('splits SQL statements outside strings, comments and dollar quotes, and renumbers parameters', () => {
    const sql = "-- $1 a; not a split\n-- $3 c\nSELECT 'x;y', $3::int; /* ; */ SELECT $$;$$, $1";
    const st = splitSql(sql).map(bindStatement);
    expect(st.map((s) => s.indexes)).toEqual([[3], [1]]);
    expect(st[0]!.sql).toContain("SELECT 'x;y', $1::int");
    expect(st[1]!.sql).toBe('/* ; */ SELECT $$;$$, $1');
    expect([...paramNames(sql)]).toEqual([
      [1, 'a'],
      [3, 'c'],
    ]);
  });

  it('passes bash arguments as Windmill does', () => {
    expect([bashArg('s'), bashArg(3), bashArg(null), bashArg(undefined), bashArg({ a: 1 })]).toEqual(['s', '3', 'null', '', '{"a":1}']);
  });

  it('interpolates nested $var:/$res: references and reports cycles', async () => {
    const store = new MemoryStore();
    await store.putVariable('w', { path: 'f/a/v', value: 'V', is_secret: false });
    await store.putResource('w', { path: 'f/a/r', resource_type: 'x', value: { a: ['$var:f/a/v'] } });
    await store.putResource('w', { path: 'f/a/loop', resource_type: 'x', value: '$res:f/a/loop' });
    expect(await interpolate({ k: '$res:f/a/r' }, store, 'w')).toEqual({ k: { a: ['V'] } });
    await expect(interpolate('$res:f/a/loop', store, 'w')).rejects.toThrow(/cycle/);
  });
});
