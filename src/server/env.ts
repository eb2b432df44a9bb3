/** What every route handler of `wmill serve` gets. */
import type { Db } from './db/db.js';
import type { SqlStore } from './db/sql-store.js';
import type { Engine } from '../runner/engine.js';
import type { Principal } from './auth.js';

export interface Env {
  db: Db;
  store: SqlStore;
  engine: Engine;
  /** The caller (a user, or a job acting as its creator). */
  p: Principal;
  /** The server's public base URL (no trailing slash), for URLs handed out (webhooks, approvals). */
  baseUrl: string;
  /** Queue follow-up work after a change (a schedule edit re-arms its next tick). */
  armSchedule(ws: string, path: string): Promise<void>;
}
