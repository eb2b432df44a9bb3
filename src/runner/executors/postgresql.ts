/**
 * PostgreSQL jobs, run from this process with `pg` (as Windmill's worker runs them itself).
 *
 * - Connection: the `database` argument, a `postgresql` resource value
 *   `{host, port, user, password, dbname, sslmode}` (usually given as `$res:<path>`).
 * - Parameters: `$1..$n` in the statement; `-- $1 name` comments name them (an unnamed one is
 *   the argument `$1` itself). Values are bound, never spliced. `%%name%%` is replaced textually
 *   (Windmill's raw interpolation).
 * - Result: one statement → its rows as an array of objects (column name → value), as
 *   Windmill returns them; several statements (separated by `;`) run one after the other,
 *   each with the parameters it uses, and the result is the array of their row arrays.
 * - int8 comes back as a number (as a string beyond 2^53), numeric as a string, dates and
 *   timestamps as PostgreSQL prints them, json/jsonb parsed.
 * - NOTICE messages go to the job logs. Cancel/timeout cancel the running statement.
 */
import { errorResult, type ExecOutcome } from '../types.js';
import type { ExecContext, Executor } from './index.js';

interface Segment {
  code: boolean;
  text: string;
}

/** Split SQL into statements, each a list of code / non-code (strings, comments, dollar-quoted) segments. */
export function splitSql(sql: string): Segment[][] {
  const statements: Segment[][] = [];
  let cur: Segment[] = [];
  let code = '';
  const pushCode = () => {
    if (code) cur.push({ code: true, text: code });
    code = '';
  };
  const endStatement = () => {
    pushCode();
    if (cur.some((s) => s.code && s.text.trim() !== '')) statements.push(cur);
    cur = [];
  };
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1];
    let end = -1;
    if (c === '-' && next === '-') {
      const nl = sql.indexOf('\n', i);
      end = nl === -1 ? sql.length : nl;
    } else if (c === '/' && next === '*') {
      const close = sql.indexOf('*/', i + 2);
      end = close === -1 ? sql.length : close + 2;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      for (;;) {
        const k = sql.indexOf(c, j);
        if (k === -1) {
          j = sql.length;
          break;
        }
        if (sql[k + 1] === c) {
          j = k + 2;
          continue;
        }
        j = k + 1;
        break;
      }
      end = j;
    } else if (c === '$') {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (m && !(i > 0 && /[A-Za-z0-9_]/.test(sql[i - 1]!))) {
        const close = sql.indexOf(m[0], i + m[0].length);
        end = close === -1 ? sql.length : close + m[0].length;
      }
    }
    if (end !== -1) {
      pushCode();
      cur.push({ code: false, text: sql.slice(i, end) });
      i = end;
      continue;
    }
    if (c === ';') {
      endStatement();
      i++;
      continue;
    }
    code += c;
    i++;
  }
  endStatement();
  return statements;
}

/** `-- $N name` comments: N → argument name. */
export function paramNames(sql: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const m of sql.matchAll(/^--[ \t]*\$(\d+)[ \t]+([A-Za-z_][A-Za-z0-9_]*)/gm)) {
    const n = Number(m[1]);
    if (!names.has(n)) names.set(n, m[2]!);
  }
  return names;
}

/** Renumber the `$N` of one statement to `$1..$k` and return its SQL and the original indexes. */
export function bindStatement(segments: Segment[]): { sql: string; indexes: number[] } {
  const indexes: number[] = [];
  for (const s of segments) {
    if (!s.code) continue;
    for (const m of s.text.matchAll(/\$(\d+)/g)) {
      const n = Number(m[1]);
      if (!indexes.includes(n)) indexes.push(n);
    }
  }
  indexes.sort((a, b) => a - b);
  const sql = segments
    .map((s) => (s.code ? s.text.replace(/\$(\d+)/g, (_m, d: string) => `$${indexes.indexOf(Number(d)) + 1}`) : s.text))
    .join('')
    .trim();
  return { sql, indexes };
}

function interpolateRaw(sql: string, args: Record<string, unknown>): string {
  return sql.replace(/%%([A-Za-z_][A-Za-z0-9_]*)%%/g, (m, name: string) => {
    if (!(name in args)) return m;
    const v = args[name];
    return typeof v === 'string' ? v : JSON.stringify(v ?? null);
  });
}

function bindValue(v: unknown): unknown {
  if (v === undefined) return null;
  if (v && typeof v === 'object' && !Array.isArray(v)) return JSON.stringify(v);
  return v;
}

interface PgDatabase {
  host?: string;
  port?: number | string;
  user?: string;
  password?: string;
  dbname?: string;
  sslmode?: string;
  root_certificate_pem?: string;
}

export const postgresqlExecutor: Executor = {
  async run(ctx: ExecContext): Promise<ExecOutcome> {
    const db = ctx.args.database as PgDatabase | undefined;
    // `wmill datatable run` (the real CLI) names a Windmill data table, a cloud feature.
    if (typeof db === 'string' && (db as string).startsWith('datatable://')) {
      return { success: false, result: errorResult('ExecutionErr', `Data tables: not available on wmill serve (${db} is a Windmill cloud/enterprise data table); pass a postgresql resource as 'database'`) };
    }
    if (!db || typeof db !== 'object' || Array.isArray(db) || !db.host) {
      return {
        success: false,
        result: errorResult(
          'ExecutionErr',
          `argument 'database' must be a postgresql resource ({host, port, user, password, dbname, sslmode}); pass it as -d '{"database": "$res:<path>"}'`,
        ),
      };
    }
    const pg = (await import('pg')).default;
    const intParser = (v: string) => {
      const n = Number(v);
      return Number.isSafeInteger(n) ? n : v;
    };
    const asText = (v: string) => v;
    const overrides: Record<number, (v: string) => unknown> = { 20: intParser, 1082: asText, 1114: asText, 1184: asText, 1083: asText, 1266: asText };
    const sslmode = db.sslmode ?? 'prefer';
    // Only what the resource says: an empty field must not fall back to the worker's own
    // PGUSER/PGPASSWORD/PGDATABASE/PGPORT or ~/.pgpass (pg's defaults), which would hand the
    // server's database credentials to a job that names a host of its choosing. (A password given
    // as a function is used as it is.)
    const password = typeof db.password === 'string' ? db.password : '';
    const config = {
      host: db.host,
      port: db.port === undefined || db.port === '' || !Number(db.port) ? 5432 : Number(db.port),
      user: db.user || 'postgres',
      password: () => password,
      database: db.dbname || 'postgres',
      ssl: ['require', 'verify-ca', 'verify-full'].includes(sslmode)
        ? { rejectUnauthorized: sslmode !== 'require', ca: db.root_certificate_pem || undefined }
        : false,
      types: {
        getTypeParser: ((oid: number, format?: string) =>
          (format ?? 'text') === 'text' && overrides[oid] ? overrides[oid] : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
      },
      application_name: `wmill ${ctx.job.path}`,
    };
    const client = new pg.Client(config);
    client.on('notice', (n) => ctx.log(`${n.severity ?? 'NOTICE'}: ${n.message}\n`));
    client.on('error', () => {
      /* reported through the pending query */
    });

    const onAbort = async () => {
      const pid = (client as unknown as { processID: number | null }).processID;
      if (!pid) return; // not connected yet: checked right after connect()
      const killer = new pg.Client({ ...config, application_name: 'wmill cancel' });
      try {
        await killer.connect();
        await killer.query('SELECT pg_cancel_backend($1)', [pid]);
      } catch {
        /* the connection is closed below anyway */
      } finally {
        killer.end().catch(() => {});
        // Whatever happened to the cancel request, the pending query must not outlive the job.
        (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
      }
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await client.connect();
      if (ctx.signal.aborted) throw new Error('canceled before the query started');
      const sql = interpolateRaw(ctx.job.content, ctx.args);
      const names = paramNames(sql);
      const nameOf = (n: number) => names.get(n) ?? `$${n}`;
      const statements = splitSql(sql).map(bindStatement);
      const results: unknown[][] = [];
      for (const st of statements) {
        if (ctx.signal.aborted) break;
        const values = st.indexes.map((n) => bindValue(ctx.args[nameOf(n)]));
        const r = await client.query({ text: st.sql, values });
        results.push(r.rows);
      }
      return { success: true, result: results.length === 1 ? results[0] : results };
    } catch (e) {
      const err = e as Error & Record<string, unknown>;
      const extra: Record<string, unknown> = {};
      for (const k of ['code', 'detail', 'hint', 'position', 'where', 'schema', 'table', 'column', 'constraint']) {
        if (err[k] !== undefined) extra[k] = err[k];
      }
      return {
        success: false,
        result: errorResult('ExecutionErr', `error performing query: ${err.message}`, Object.keys(extra).length ? { extra } : {}),
      };
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      await client.end().catch(() => {});
    }
  },
};
