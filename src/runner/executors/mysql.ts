/**
 * MySQL / MariaDB jobs, run from this process with `mysql2` (loaded when a MySQL job runs), as
 * Windmill's worker runs them itself.
 *
 * - Connection: the `database` argument, a `mysql` resource value `{host, port, user, password,
 *   database, ssl}` (usually given as `$res:<path>`).
 * - Parameters, declared in comments (spec of the reference parser, src/metadata/parsers/sql.ts):
 *   `-- ? name (type)` lines name the `?` placeholders in order (the first `?` of the script is the
 *   first declared argument, and so on); or `-- :name (type)` lines and `:name` placeholders.
 *   Values are bound by the driver (escaped), never spliced as text; `%%name%%` is replaced
 *   textually (Windmill's raw interpolation).
 * - Result: one statement → its rows as an array of objects (a statement without rows: []);
 *   several statements (separated by `;`) run one after the other, and the result is the array
 *   of their row arrays. DECIMAL comes back as a string, big integers as strings beyond 2^53,
 *   dates and times as MySQL prints them, JSON parsed.
 * - Cancel/timeout: `KILL QUERY` from a second connection, then the connection is closed.
 */
import { errorResult, type ExecOutcome } from '../types.js';
import type { ExecContext, Executor } from './index.js';

interface Segment {
  code: boolean;
  text: string;
}

/** Split MySQL into statements of code / non-code segments (comments `--`/`#`/`/* *\/`, quoted '' "" ``). */
export function splitMysql(sql: string): Segment[][] {
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
    if ((c === '-' && next === '-' && /[\s]/.test(sql[i + 2] ?? ' ')) || c === '#') {
      const nl = sql.indexOf('\n', i);
      end = nl === -1 ? sql.length : nl;
    } else if (c === '/' && next === '*') {
      const close = sql.indexOf('*/', i + 2);
      end = close === -1 ? sql.length : close + 2;
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === '\\' && c !== '`') {
          j += 2;
          continue;
        }
        if (sql[j] === c) {
          if (sql[j + 1] === c) {
            j += 2;
            continue;
          }
          j++;
          break;
        }
        j++;
      }
      end = Math.min(j, sql.length);
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

/** Declared arguments: `-- :name (type)` lines (named placeholders) when any, else `-- ? name (type)` lines in order. */
export function mysqlParams(sql: string): { named: boolean; names: string[] } {
  const named = [...sql.matchAll(/^-- :([A-Za-z_]\w*) \(/gm)].map((m) => m[1]!);
  if (named.length) return { named: true, names: [...new Set(named)] };
  return { named: false, names: [...sql.matchAll(/^-- \? ([A-Za-z_]\w*) \(/gm)].map((m) => m[1]!) };
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
  if (v && typeof v === 'object') return JSON.stringify(v);
  return v;
}

interface MysqlDatabase {
  host?: string;
  port?: number | string;
  user?: string;
  password?: string;
  database?: string;
  ssl?: boolean;
}

export const mysqlExecutor: Executor = {
  async run(ctx: ExecContext): Promise<ExecOutcome> {
    const db = ctx.args.database as MysqlDatabase | undefined;
    if (!db || typeof db !== 'object' || Array.isArray(db) || !db.host) {
      return {
        success: false,
        result: errorResult('ExecutionErr', `argument 'database' must be a mysql resource ({host, port, user, password, database, ssl}); pass it as -d '{"database": "$res:<path>"}'`),
      };
    }
    const mysql = (await import('mysql2/promise')).default;
    const config = {
      host: db.host,
      port: db.port === undefined || db.port === '' ? 3306 : Number(db.port),
      user: db.user ?? 'root',
      password: db.password ?? '',
      database: db.database || undefined,
      ssl: db.ssl ? {} : undefined,
      supportBigNumbers: true,
      bigNumberStrings: false,
      dateStrings: true,
      connectTimeout: 20_000,
    };
    let conn: Awaited<ReturnType<typeof mysql.createConnection>> | undefined;
    const onAbort = async () => {
      const c = conn;
      if (!c) return;
      try {
        const killer = await mysql.createConnection(config);
        await killer.query('KILL QUERY ?', [c.threadId]).catch(() => undefined);
        await killer.end().catch(() => undefined);
      } catch {
        /* the connection is destroyed below anyway */
      } finally {
        c.destroy();
      }
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      conn = await mysql.createConnection(config);
      if (ctx.signal.aborted) throw new Error('canceled before the query started');
      conn.on('error', () => {
        /* reported through the pending query */
      });
      const sql = interpolateRaw(ctx.job.content, ctx.args);
      const { named, names } = mysqlParams(sql);
      const statements = splitMysql(sql);
      const results: unknown[] = [];
      let nextPositional = 0;
      for (const st of statements) {
        if (ctx.signal.aborted) break;
        let values: unknown[];
        let text: string;
        if (named) {
          // `:name` in code (not in strings or comments) becomes `?`, bound in order of appearance.
          values = [];
          text = st
            .map((s) =>
              s.code
                ? s.text.replace(/(?<![:\w]):([A-Za-z_]\w*)/g, (m, name: string) => {
                    if (!names.includes(name)) return m;
                    (values as unknown[]).push(bindValue(ctx.args[name]));
                    return '?';
                  })
                : s.text,
            )
            .join('')
            .trim();
        } else {
          text = st.map((s) => s.text).join('').trim();
          const count = st.reduce((n, s) => n + (s.code ? (s.text.match(/\?/g) ?? []).length : 0), 0);
          values = Array.from({ length: count }, () => {
            const name = names[nextPositional++];
            return bindValue(name === undefined ? undefined : ctx.args[name]);
          });
        }
        const [rows] = await conn.query({ sql: text, values });
        results.push(Array.isArray(rows) ? rows : []);
      }
      return { success: true, result: results.length === 1 ? results[0] : results };
    } catch (e) {
      const err = e as Error & Record<string, unknown>;
      const extra: Record<string, unknown> = {};
      for (const k of ['code', 'errno', 'sqlState']) if (err[k] !== undefined) extra[k] = err[k];
      const message = ctx.signal.aborted ? 'query canceled' : `error performing query: ${err.message}`;
      return { success: false, result: errorResult('ExecutionErr', message, Object.keys(extra).length ? { extra } : {}) };
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      await conn?.end().catch(() => conn?.destroy());
    }
  },
};
