/**
 * Typed calls for scripts and their versions (spec/windmill-server.md §2.1, §3): plain data in
 * and out, one function per endpoint. Callers decide what a 404 or a 400 means for the user.
 */
import { ApiError, type ApiClient } from './client.js';

/** A deployed version as `scripts/get/p|h` returns it (settings keys are spread in). */
export interface RemoteScript {
  hash: string;
  path: string;
  parent_hashes?: string[];
  summary?: string | null;
  description?: string | null;
  content: string;
  language: string;
  kind?: string | null;
  schema?: Record<string, unknown> | null;
  lock?: string | null;
  archived?: boolean;
  deleted?: boolean;
  draft_only?: boolean;
  created_by?: string;
  created_at?: string;
  [key: string]: unknown;
}

export interface HistoryEntry {
  script_hash: string;
  deployment_msg?: string | null;
  created_at: string;
  created_by: string;
}

/** Fields of `Script` that are not part of `NewScript` (read-only on the server). */
const READ_ONLY = new Set([
  'hash', 'parent_hashes', 'created_by', 'created_at', 'archived', 'deleted', 'extra_perms', 'lock_error_logs',
  'draft_only', 'deployment_msg', 'starred', 'has_draft', 'workspace_id', 'is_template_readonly',
]);

const p = (path: string) => path.replace(/^\/+/, '');

export function isNotFound(e: unknown): boolean {
  return e instanceof ApiError && e.status === 404;
}

/** Newest version at `path` (archived or not), or null when there is none. */
export async function getScriptByPath(client: ApiClient, path: string): Promise<RemoteScript | null> {
  try {
    return await client.json<RemoteScript>('GET', client.ws(`/scripts/get/p/${p(path)}`));
  } catch (e) {
    if (isNotFound(e)) return null;
    throw e;
  }
}

/** The version that runs by path: newest non-archived, non-deleted; null when none. */
export async function getHead(client: ApiClient, path: string): Promise<RemoteScript | null> {
  const s = await getScriptByPath(client, path);
  return s && !s.archived && !s.deleted ? s : null;
}

export async function getScriptByHash(client: ApiClient, hash: string): Promise<RemoteScript | null> {
  try {
    return await client.json<RemoteScript>('GET', client.ws(`/scripts/get/h/${encodeURIComponent(hash)}`));
  } catch (e) {
    if (isNotFound(e)) return null;
    throw e;
  }
}

/** Versions at `path`, newest first; null when the path has none. */
export async function scriptHistory(client: ApiClient, path: string): Promise<HistoryEntry[] | null> {
  try {
    return await client.json<HistoryEntry[]>('GET', client.ws(`/scripts/history/p/${p(path)}`), { query: { per_page: 1000 } });
  } catch (e) {
    if (isNotFound(e)) return null;
    throw e;
  }
}

/** The `NewScript` that re-creates version `s` (content, metadata and settings), without lineage fields. */
export function newScriptFrom(s: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) if (!READ_ONLY.has(k) && v !== undefined) out[k] = v;
  out.summary ??= '';
  out.description ??= '';
  return out;
}

/** POST scripts/create; returns the new hash. Throws ApiError (400 texts: path conflict, lineage, parent missing). */
export async function createScript(client: ApiClient, body: Record<string, unknown>): Promise<string> {
  return (await client.text('POST', client.ws('/scripts/create'), { body })).trim();
}

export type DeployRejection = 'lineage' | 'path_conflict' | 'parent_missing';

/** What a 400 from scripts/create means, when it is one of the version-model refusals. */
export function deployRejection(e: unknown): DeployRejection | null {
  if (!(e instanceof ApiError) || e.status !== 400) return null;
  if (/lineage must be linear|same parent_hash/i.test(e.body)) return 'lineage';
  if (/^\s*Path conflict/i.test(e.body)) return 'path_conflict';
  if (/parent hash does not seem to exist/i.test(e.body)) return 'parent_missing';
  return null;
}
