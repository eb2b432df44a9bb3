/**
 * A MySQL-compatible server for tests: MariaDB (Debian's `mariadb-server`, which .ci/run
 * installs). Uses WMILL_TEST_MYSQL_URL (mysql://user:password@host:port/database) when set;
 * otherwise creates a throwaway data folder with mariadb-install-db and starts `mariadbd` on a
 * free loopback port (with `--user=mysql` when running as root, as MariaDB refuses root), makes a
 * user and a database, and removes everything in stop(). It never skips: if no server can be
 * had, start() throws.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface MysqlServer {
  /** The `mysql` resource value Windmill scripts receive as `database`. */
  resource: { host: string; port: number; user: string; password: string; database: string };
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function which(names: string[]): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin', '/usr/local/sbin'];
  for (const n of names) for (const d of dirs) if (d && existsSync(join(d, n))) return join(d, n);
  return undefined;
}

export async function startMysql(): Promise<MysqlServer> {
  const fromEnv = process.env.WMILL_TEST_MYSQL_URL;
  if (fromEnv) {
    const u = new URL(fromEnv);
    return {
      resource: { host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), database: u.pathname.replace(/^\//, '') },
      stop: async () => {},
    };
  }
  const server = which(['mariadbd', 'mysqld']);
  const install = which(['mariadb-install-db', 'mysql_install_db']);
  if (!server || !install) throw new Error('MariaDB is not installed (mariadbd, mariadb-install-db): apt-get install -y mariadb-server, or set WMILL_TEST_MYSQL_URL');
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'wmill-mysql-'));
  const data = join(dir, 'data');
  const sock = join(dir, 'mysqld.sock');
  if (asRoot) {
    const uid = Number(spawnSync('id', ['-u', 'mysql'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'mysql'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, uid, gid);
  }
  const user = asRoot ? ['--user=mysql'] : [];
  const inst = spawnSync(install, ['--no-defaults', `--datadir=${data}`, '--auth-root-authentication-method=normal', '--skip-test-db', '--skip-name-resolve', ...user], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (inst.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`mariadb-install-db failed (${inst.error?.message ?? `exit ${inst.status}`}):\n${inst.stdout}\n${inst.stderr}`);
  }
  const port = await freePort();
  const child: ChildProcess = spawn(
    server,
    [
      '--no-defaults', `--datadir=${data}`, `--socket=${sock}`, `--port=${port}`, '--bind-address=127.0.0.1', '--skip-name-resolve', '--skip-log-bin',
      '--innodb-flush-log-at-trx-commit=0', '--innodb-buffer-pool-size=32M', `--pid-file=${join(dir, 'mysqld.pid')}`, `--log-error=${join(dir, 'error.log')}`, ...user,
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const mysql = (await import('mysql2/promise')).default;
  const resource = { host: '127.0.0.1', port, user: 'wmill', password: 'wmill_test_pw', database: 'wmill_test' };
  try {
    let root: Awaited<ReturnType<typeof mysql.createConnection>> | undefined;
    for (let i = 0; !root; i++) {
      if (child.exitCode !== null) throw new Error(`mariadbd exited (${child.exitCode}): ${existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8').slice(-2000) : ''}`);
      try {
        root = await mysql.createConnection({ socketPath: sock, user: 'root' });
      } catch (e) {
        if (i > 600) throw e; // about a minute: it did not come up
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await root.query(`CREATE USER '${resource.user}'@'%' IDENTIFIED BY '${resource.password}'`);
    await root.query(`GRANT ALL ON *.* TO '${resource.user}'@'%'`);
    await root.query(`CREATE DATABASE ${resource.database}`);
    await root.end();
  } catch (e) {
    await stop();
    throw e;
  }
  return { resource, stop };
}
