import type { Command } from 'commander';
import { resolve } from 'node:path';
import { WmillError } from '../errors.js';
import { err, out } from '../util/output.js';

interface ServeFlags {
  port?: string;
  host?: string;
  data?: string;
  workers?: string;
  publicUrl?: string;
  tags?: string;
  json?: boolean;
}

/** `--tags a,b`: the tags, trimmed; a usage error when the list is empty or a tag has odd characters. */
function tagsFlag(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const tags = v.split(',').map((t) => t.trim()).filter(Boolean);
  const bad = tags.find((t) => !/^[A-Za-z0-9_.:-]+$/.test(t));
  if (!tags.length || bad !== undefined) throw new WmillError('usage', `--tags must be a comma-separated list of tags (letters, digits, _ . : -)${bad !== undefined ? `; got '${bad}'` : ''}`);
  return tags;
}

function intFlag(v: string | undefined, name: string, dflt: number, min = 0): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new WmillError('usage', `--${name} must be an integer ≥ ${min} (got "${v}")`);
  return n;
}

/** Seconds without a heartbeat after which a running job is re-queued (WMILL_WORKER_TIMEOUT_S, default 30). */
function staleAfterMs(): number {
  const v = process.env.WMILL_WORKER_TIMEOUT_S;
  if (!v) return 30_000;
  const n = Number(v);
  if (!(n > 0)) throw new WmillError('usage', `WMILL_WORKER_TIMEOUT_S must be a positive number of seconds (got "${v}")`);
  return n * 1000;
}

/** BASE_INTERNAL_URL (for `wmill worker`), without a trailing slash; a usage error when it is not an http(s) URL. */
function internalUrl(): string | undefined {
  const v = process.env.BASE_INTERNAL_URL;
  if (!v) return undefined;
  let u: URL | undefined;
  try {
    u = new URL(v);
  } catch {
    u = undefined;
  }
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) throw new WmillError('usage', `BASE_INTERNAL_URL must be the server's http(s) URL as workers reach it, e.g. http://server:8000 (got "${v}")`);
  return v.replace(/\/+$/, '');
}

/** `wmill serve` and `wmill worker`. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Run the deploy target: Windmill HTTP API subset + workers (embedded PGlite, or PostgreSQL with DATABASE_URL)')
    .option('-p, --port <port>', 'port to listen on (0: any free port)', '8000')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--data <dir>', 'PGlite data folder (when DATABASE_URL is not set)', '.wmill-server')
    .option('--workers <n>', 'jobs this process runs at once (0: leave jobs to `wmill worker`)', '2')
    .option('--public-url <url>', 'URL handed out in links (default: the listening address)')
    .option('--tags <list>', 'job tags the workers of this process take, comma-separated (an untagged job is `default`; default: every job)')
    .option('--json', 'print one JSON line {url, port, database} when ready')
    .action(async (opts: ServeFlags) => {
      const { startServer } = await import('../server/app.js');
      const databaseUrl = process.env.DATABASE_URL || undefined;
      const port = intFlag(opts.port, 'port', 8000);
      if (port > 65535) throw new WmillError('usage', `--port must be at most 65535 (got ${port})`);
      const server = await startServer({
        port,
        host: opts.host,
        dataDir: databaseUrl ? undefined : resolve(opts.data ?? '.wmill-server'),
        databaseUrl,
        adminToken: process.env.WMILL_ADMIN_TOKEN || undefined,
        workers: intFlag(opts.workers, 'workers', 2),
        tags: tagsFlag(opts.tags),
        publicUrl: opts.publicUrl,
        staleAfterMs: staleAfterMs(),
        log: (l) => err(l),
      }).catch((e: Error) => {
        if (e.name === 'SandboxError') throw new WmillError('usage', e.message);
        // A refused data folder (modes, held by another server) is a usage error as it is.
        throw e instanceof WmillError ? e : new WmillError('failure', e.message);
      });
      const database = databaseUrl ? 'postgresql' : `pglite:${resolve(opts.data ?? '.wmill-server')}`;
      if (server.generatedToken) {
        err(`Admin token (shown once; set WMILL_ADMIN_TOKEN to choose it): ${server.generatedToken}`);
      }
      // One line (the process keeps running: a reader takes the first line as the ready signal).
      if (opts.json) process.stdout.write(`${JSON.stringify({ ok: true, url: `${server.url}/`, port: server.port, database, workspace: 'admins', sandbox: server.sandbox })}\n`);
      else out(`wmill serve listening on ${server.url}/ (workspace 'admins', ${database})`);
      await new Promise<void>((done) => {
        const stop = () => {
          err('shutting down');
          server.close().finally(done);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });

  program
    .command('worker')
    .description('Run jobs from the PostgreSQL queue of a `wmill serve` (needs DATABASE_URL)')
    .option('--concurrency <n>', 'jobs run at once', '1')
    .option('--name <name>', 'worker name recorded on the jobs it runs')
    .option('--tags <list>', 'job tags this worker takes, comma-separated (an untagged job is `default`; default: every job)')
    .action(async (opts: { concurrency?: string; name?: string; tags?: string }) => {
      const databaseUrl = process.env.DATABASE_URL;
      if (!databaseUrl) throw new WmillError('usage', 'wmill worker needs DATABASE_URL (the PostgreSQL database `wmill serve` uses); the embedded database has no external workers');
      const { startWorker } = await import('../server/app.js');
      const w = await startWorker({
        databaseUrl,
        // The server's API as this worker reaches it (jobs get it for windmill-client), as a
        // Windmill worker reads it; default: the address `wmill serve` recorded, its loopback
        // one, right only on its own machine.
        apiBaseUrl: internalUrl(),
        concurrency: intFlag(opts.concurrency, 'concurrency', 1, 1),
        name: opts.name,
        tags: tagsFlag(opts.tags),
        staleAfterMs: staleAfterMs(),
        log: (l) => err(l),
      }).catch((e: Error) => {
        throw new WmillError(e.name === 'SandboxError' ? 'usage' : 'failure', e.message);
      });
      err(`wmill worker ${w.engine.worker} started`);
      await new Promise<void>((done) => {
        const stop = () => void w.close().finally(done);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
