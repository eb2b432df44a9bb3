/**
 * One SQL interface over the two databases `wmill serve` runs on: embedded PGlite (a data
 * folder, nothing to install) and PostgreSQL (`DATABASE_URL`, many workers). Both are
 * PostgreSQL, so the same SQL and migrations serve both; only connection handling differs.
 *
 * Conventions for callers: JSON columns are `json` (not `jsonb`, which reorders keys: a
 * schema's property order is part of the files sync writes) and are passed as JSON text with
 * an explicit `::json` cast; timestamps are `timestamptz` and come back as Date.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../paths.js';
import { checkDataDir, lockDataDir, tightenModes, type DataDirLock } from './data-dir.js';

export interface Sql {
  query<T = Record<string, any>>(text: string, params?: unknown[]): Promise<T[]>;
}

export interface Db extends Sql {
  readonly kind: 'pglite' | 'postgres';
  /** Run `fn` in one transaction (committed when it resolves, rolled back when it throws). */
  tx<T>(fn: (q: Sql) => Promise<T>): Promise<T>;
  /**
   * PostgreSQL only: call `cb` with the payload of every NOTIFY on `channel` (one dedicated
   * connection for all channels, re-established when lost; notifications sent meanwhile are
   * lost, so callers keep a slower poll as a fallback). Resolves with an unsubscribe function.
   */
  listen?(channel: string, cb: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Open PostgreSQL at `url` (a pool of `max` connections). */
export async function openPostgres(url: string, max = 10): Promise<Db> {
  const pg = (await import('pg')).default;
  // int8 (COUNT(*), bigint) as numbers: our values stay far below 2^53.
  pg.types.setTypeParser(20, (v: string) => Number(v));
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on('error', () => undefined); // an idle client lost its connection: the pool replaces it
  const client = await pool.connect().catch((e: Error) => {
    throw new Error(`cannot connect to PostgreSQL (DATABASE_URL): ${redactUrl(e.message)}`);
  });
  client.release();

  // LISTEN needs a connection of its own (a pooled one is handed to other queries).
  const channels = new Map<string, Set<(payload: string) => void>>();
  let listener: Promise<InstanceType<typeof pg.Client>> | undefined;
  let closed = false;
  const connectListener = () => {
    listener ??= (async () => {
      const c = new pg.Client({ connectionString: url });
      c.on('error', () => undefined);
      c.on('notification', (n) => {
        for (const cb of channels.get(n.channel) ?? []) cb(n.payload ?? '');
      });
      c.on('end', () => {
        listener = undefined;
        retry();
      });
      try {
        await c.connect();
        for (const ch of channels.keys()) await c.query(`LISTEN ${ch}`);
      } catch (e) {
        listener = undefined;
        await c.end().catch(() => undefined);
        throw e;
      }
      return c;
    })();
    return listener;
  };
  let retrying = false;
  const retry = () => {
    if (retrying || closed || !channels.size) return;
    retrying = true;
    setTimeout(() => {
      retrying = false;
      if (!listener) connectListener().catch(() => retry());
    }, 1000).unref();
  };

  return {
    kind: 'postgres',
    async listen(channel, cb) {
      if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`invalid channel name ${channel}`);
      const fresh = !channels.has(channel);
      const set = channels.get(channel) ?? new Set();
      channels.set(channel, set);
      set.add(cb);
      const c = await connectListener();
      // A new channel on an already open connection (LISTEN twice is harmless).
      if (fresh) await c.query(`LISTEN ${channel}`);
      return async () => {
        set.delete(cb);
        if (set.size || channels.get(channel) !== set) return;
        channels.delete(channel);
        const cur = await listener?.catch(() => undefined);
        await cur?.query(`UNLISTEN ${channel}`).catch(() => undefined);
      };
    },
    async query(text, params) {
      return (await pool.query(text, params as any[])).rows;
    },
    async tx(fn) {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        const out = await fn({ query: async (t, p) => (await c.query(t, p as any[])).rows });
        await c.query('COMMIT');
        return out;
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        c.release();
      }
    },
    async close() {
      closed = true;
      const c = await listener?.catch(() => undefined);
      await c?.end().catch(() => undefined);
      await pool.end();
    },
  };
}

/**
 * With WMILL_TX_GUARD set (tests), a statement issued beside an open PGlite transaction from
 * inside it fails at once, naming itself, instead of waiting for the transaction that waits for it.
 */
const openTx = new AsyncLocalStorage<{ open: boolean }>();

function checkBeside(text: string): void {
  if (openTx.getStore()?.open && process.env.WMILL_TX_GUARD) {
    throw new Error(`a statement beside the open transaction, from inside it, would wait for it forever (PGlite has one connection): run it on the transaction's connection: ${text.replace(/\s+/g, ' ').slice(0, 120)}`);
  }
}

/**
 * The initialised, empty cluster a new embedded database starts from (dist/pglite-seed.tar.gz,
 * made by scripts/build.mjs), so that no initdb runs in the serving process: without it a first
 * start took seconds and peaked at ~800 MB (bench/serve.mjs). Undefined without a build (PGlite
 * then runs initdb as before).
 */
let seedBytes: Buffer | null | undefined;
function pgliteSeed(): Buffer | undefined {
  if (seedBytes === undefined) {
    try {
      seedBytes = readFileSync(join(packageRoot(), 'dist', 'pglite-seed.tar.gz'));
    } catch {
      seedBytes = null;
    }
  }
  return seedBytes ?? undefined;
}

/**
 * PostgreSQL's shared buffers inside PGlite: 16 MB unless WMILL_PGLITE_SHARED_BUFFERS says
 * otherwise (PGlite's own default, 128 MB, made a restarted server peak at ~350 MB; the data files
 * stay in the OS page cache either way). A value PostgreSQL accepts: `16MB`, `64MB`, `1GB`...
 */
function sharedBuffers(): string {
  const v = process.env.WMILL_PGLITE_SHARED_BUFFERS;
  return v && /^\d+(kB|MB|GB)$/.test(v) ? v : '16MB';
}

/**
 * Open (creating when needed) the embedded database in `dir` (in memory without one): a folder
 * closed to other users, locked by this process until close (src/server/db/data-dir.ts).
 */
export async function openPglite(dir: string | undefined): Promise<Db> {
  const { PGlite } = await import('@electric-sql/pglite');
  let lock: DataDirLock | undefined;
  if (dir) {
    checkDataDir(dir);
    lock = lockDataDir(dir);
  }
  let db: InstanceType<typeof PGlite>;
  try {
    const seed = dir && existsSync(join(dir, 'PG_VERSION')) ? undefined : pgliteSeed();
    db = await PGlite.create({
      ...(dir ? { dataDir: dir } : {}),
      ...(seed ? { loadDataDir: new Blob([seed as Uint8Array<ArrayBuffer>]) } : {}),
      startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${sharedBuffers()}`],
    });
    if (dir) tightenModes(dir);
  } catch (e) {
    lock?.release();
    throw e;
  }
  // PGlite has one connection: a transaction holds it, so statements issued outside the
  // transaction meanwhile wait (PGlite queues them), which is the serialisation we want. A
  // transaction must therefore never wait on a statement of its own issued beside it.
  return {
    kind: 'pglite',
    async query(text, params) {
      checkBeside(text);
      return (await db.query(text, params as any[])).rows as any[];
    },
    async tx(fn) {
      checkBeside('BEGIN');
      return db.transaction(async (t) => {
        const mark = { open: true };
        try {
          return await openTx.run(mark, () => fn({ query: async (q, p) => (await t.query(q, p as any[])).rows as any[] }));
        } finally {
          mark.open = false;
        }
      });
    },
    async close() {
      try {
        await db.close();
      } finally {
        lock?.release();
      }
    },
  };
}

/** A connection string with its password removed, for messages. */
export function redactUrl(s: string): string {
  return s.replace(/(postgres(?:ql)?:\/\/[^:@/\s]+:)[^@\s]+@/gi, '$1***@');
}
