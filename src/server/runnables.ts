/**
 * Path → runnable resolution, in one place, for everything that runs deployed code on the
 * server: jobs by path, hash or flow path (the routes), flow steps (`type: script` / `type:
 * flow`), workflow tasks (`taskScript` / `taskFlow`) and schedule ticks (scripts and flows).
 * A script path runs its newest non-archived, non-deleted version; a hash runs that exact
 * version unless deleted; a flow path runs the deployed, non-archived flow.
 */
import type { Sql } from './db/db.js';
import { byHash, headAt } from './scripts.js';

/** The version a script path runs now (a `script` row), or undefined. */
export async function scriptAtPath(q: Sql, ws: string, path: string): Promise<Record<string, any> | undefined> {
  return headAt(q, ws, path);
}

/** The script version with this hash (archived versions too, deleted ones not), or undefined. */
export async function scriptAtHash(q: Sql, ws: string, hash: string): Promise<Record<string, any> | undefined> {
  const row = await byHash(q, ws, hash);
  return row && !row.deleted ? row : undefined;
}

export interface DeployedFlow {
  path: string;
  value: unknown;
  schema: unknown;
  settings: Record<string, unknown>;
}

/** The flow deployed at `path` (not archived), or undefined. */
export async function flowAtPath(q: Sql, ws: string, path: string): Promise<DeployedFlow | undefined> {
  const [f] = await q.query(`SELECT path, value, schema, settings FROM flow WHERE workspace_id = $1 AND path = $2 AND NOT archived`, [ws, path]);
  return f ? { path: f.path, value: f.value, schema: f.schema ?? null, settings: (f.settings ?? {}) as Record<string, unknown> } : undefined;
}
