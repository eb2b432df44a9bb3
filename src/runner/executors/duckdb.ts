/**
 * DuckDB jobs, in-process with `@duckdb/node-api` (loaded when a DuckDB job runs, so nothing else
 * pays for it), on a fresh in-memory database per job, as Windmill runs them.
 *
 * - Parameters: `-- $name (type) = default` lines declare them; `$name` in the SQL is bound as a
 *   value (never spliced as text), cast to the declared type (a type DuckDB knows: int, bigint[],
 *   date, json, ...); an undeclared `$name` that is an argument gets the type of its JSON value.
 *   `%%name%%` is replaced textually (Windmill's raw interpolation).
 * - Result: one statement → its rows as an array of objects; several statements (separated by
 *   `;`) run one after the other, and the result is the array of their row arrays. Integers
 *   beyond 32 bits come back as numbers up to 2^53 (strings beyond), DECIMAL as a string, dates
 *   and timestamps as DuckDB prints them, JSON values parsed.
 * - Cancel/timeout interrupt the running statement.
 * Not available here: `ATTACH '$res:...'` of other databases and S3 paths (they need DuckDB
 * extensions downloaded from the internet).
 */
import { errorResult, type ExecOutcome } from '../types.js';
import type { ExecContext, Executor } from './index.js';
import { splitSql } from './postgresql.js';

/** `-- $name (type)` declarations: name → type as written. */
export function duckdbParams(sql: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of sql.matchAll(/^-- \$([A-Za-z_]\w*) \(([A-Za-z0-9_[\]]+)\)/gm)) if (!out.has(m[1]!)) out.set(m[1]!, m[2]!);
  return out;
}

/** DuckDB type of a value without a declared type. */
function typeOfValue(v: unknown): string | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? 'BIGINT' : 'DOUBLE';
  if (typeof v === 'boolean') return 'BOOLEAN';
  if (v !== null && typeof v === 'object') return 'JSON';
  return undefined; // strings (and null) stay VARCHAR
}

function asText(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function interpolateRaw(sql: string, args: Record<string, unknown>): string {
  return sql.replace(/%%([A-Za-z_][A-Za-z0-9_]*)%%/g, (m, name: string) => {
    if (!(name in args)) return m;
    const v = args[name];
    return typeof v === 'string' ? v : JSON.stringify(v ?? null);
  });
}

const BIG_INTEGERS = new Set(['BIGINT', 'UBIGINT', 'HUGEINT', 'UHUGEINT']);

export const duckdbExecutor: Executor = {
  async run(ctx: ExecContext): Promise<ExecOutcome> {
    // `wmill ducklake run` (the real CLI) attaches a Windmill ducklake, a cloud feature.
    const lake = /ATTACH\s+'(ducklake:\/\/[^']*)'/i.exec(ctx.job.content);
    if (lake) return { success: false, result: errorResult('ExecutionErr', `Ducklake: not available on wmill serve (${lake[1]} is a Windmill cloud/enterprise ducklake)`) };
    const duckdb = await import('@duckdb/node-api');
    const instance = await duckdb.DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    const onAbort = () => conn.interrupt();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const sql = interpolateRaw(ctx.job.content, ctx.args);
      const declared = duckdbParams(sql);
      const results: unknown[][] = [];
      for (const segments of splitSql(sql)) {
        if (ctx.signal.aborted) break;
        const values: Record<string, string | null> = {};
        const types: Record<string, typeof duckdb.VARCHAR> = {};
        const text = segments
          .map((s) =>
            s.code
              ? s.text.replace(/\$([A-Za-z_]\w*)/g, (m, name: string) => {
                  if (!declared.has(name) && !(name in ctx.args)) return m;
                  values[name] = asText(ctx.args[name]);
                  types[name] = duckdb.VARCHAR;
                  const t = declared.get(name) ?? typeOfValue(ctx.args[name]);
                  return t ? `CAST($${name} AS ${t})` : m;
                })
              : s.text,
          )
          .join('')
          .trim();
        const reader = Object.keys(values).length ? await conn.runAndReadAll(text, values, types) : await conn.runAndReadAll(text);
        const columns = reader.columnNames();
        const kinds = reader.columnTypes().map((t) => (t.alias ? t.alias.toUpperCase() : t.toString()));
        const rows = reader.getRowObjectsJson() as Record<string, unknown>[];
        for (const row of rows) {
          columns.forEach((c, i) => {
            const v = row[c];
            if (typeof v !== 'string') return;
            if (BIG_INTEGERS.has(kinds[i]!)) {
              const n = Number(v);
              if (Number.isSafeInteger(n)) row[c] = n;
            } else if (kinds[i] === 'JSON') {
              try {
                row[c] = JSON.parse(v);
              } catch {
                /* kept as text */
              }
            }
          });
        }
        results.push(rows);
      }
      return { success: true, result: results.length === 1 ? results[0] : results };
    } catch (e) {
      const message = ctx.signal.aborted ? 'query interrupted' : `error performing query: ${(e as Error).message}`;
      return { success: false, result: errorResult('ExecutionErr', message) };
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      conn.closeSync();
      instance.closeSync();
    }
  },
};
