/**
 * Flow versions on a server (spec/windmill-server.md §2.3): every deploy of a flow is a version
 * (an integer id); the flow runs its latest. The history of a path (newest first, the current one
 * marked), one version's content, and "redeploy an old version": its content deployed again as
 * the newest version (history only grows; nothing is rewritten).
 */
import { WmillError } from '../errors.js';
import { ApiError, type ApiClient } from '../api/client.js';

export interface FlowVersionRow {
  id: number;
  created_at: string;
  created_by: string | null;
  message: string | null;
  /** The version the flow runs now. */
  current: boolean;
}

export interface FlowHistory {
  path: string;
  /** The version the flow runs now, or null (the flow was deleted; its history remains). */
  current: number | null;
  versions: FlowVersionRow[];
}

const clean = (path: string) => path.replace(/^\/+/, '').replace(/\/+$/, '');
const enc = (path: string) => clean(path).split('/').map(encodeURIComponent).join('/');

async function orNull<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

/** The deployed flow at `path` (null when none). */
async function deployed(client: ApiClient, path: string): Promise<Record<string, any> | null> {
  return orNull(client.json<Record<string, any>>('GET', client.ws(`/flows/get/${enc(path)}`)));
}

export async function flowHistory(client: ApiClient, rawPath: string): Promise<FlowHistory> {
  const path = clean(rawPath);
  const [rows, flow] = await Promise.all([
    orNull(client.json<{ id: number; created_at: string; created_by?: string; deployment_msg?: string | null }[]>('GET', client.ws(`/flows/history/p/${enc(path)}`), { query: { per_page: 1000 } })),
    deployed(client, path),
  ]);
  if (!rows || rows.length === 0) throw new WmillError('usage', `flow '${path}' not found in workspace ${client.workspace}: it has no versions`, { path });
  const current = flow && !flow.archived && typeof flow.version_id === 'number' ? flow.version_id : null;
  return {
    path,
    current,
    versions: rows.map((r) => ({
      id: Number(r.id),
      created_at: String(r.created_at),
      created_by: r.created_by ?? null,
      message: r.deployment_msg ?? null,
      current: Number(r.id) === current,
    })),
  };
}

function versionId(version: string | number, path: string): number {
  const n = typeof version === 'number' ? version : Number(String(version).trim());
  if (!Number.isSafeInteger(n) || n <= 0) throw new WmillError('usage', `version must be a version id (a positive integer, see 'wmill flow history ${path}'), got '${version}'`);
  return n;
}

/** Version `version` of the flow at `path`: {path, summary, description, value, schema, ...settings, version_id}. */
export async function flowVersion(client: ApiClient, rawPath: string, version: string | number): Promise<Record<string, any>> {
  const path = clean(rawPath);
  const id = versionId(version, path);
  const v = await orNull(client.json<Record<string, any>>('GET', client.ws(`/flows/get/v/${id}`)));
  if (!v) throw new WmillError('usage', `no flow version ${id} in workspace ${client.workspace}; see 'wmill flow history ${path}'`, { version: id });
  if (v.path !== path) {
    throw new WmillError('usage', `flow version ${id} belongs to ${v.path}, not ${path}; see 'wmill flow history ${v.path}'`, { version: id, path: v.path });
  }
  return v;
}

export interface FlowRedeployResult {
  path: string;
  /** The version whose content was deployed again. */
  from: number;
  /** The new version id (equal to `from` when it already was the current version). */
  version: number;
  deployed: boolean;
  message: string;
}

/** Fields of a flow version that are not part of what a deploy sends. */
const NOT_SENT = new Set(['edited_by', 'edited_at', 'version_id', 'archived', 'extra_perms', 'workspace_id', 'draft_only', 'starred', 'lock_error_logs']);

export async function redeployFlow(client: ApiClient, rawPath: string, version: string | number, message?: string): Promise<FlowRedeployResult> {
  const path = clean(rawPath);
  const v = await flowVersion(client, path, version);
  const from = Number(v.version_id);
  const msg = message ?? `Redeploy of version ${from}`;
  const live = await deployed(client, path);
  if (live && !live.archived && Number(live.version_id) === from) return { path, from, version: from, deployed: false, message: msg };
  const body: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v)) if (!NOT_SENT.has(k) && val !== undefined) body[k] = val;
  Object.assign(body, { path, summary: v.summary ?? '', description: v.description ?? '', deployment_message: msg, skip_draft_deletion: true });
  if (live) await client.text('POST', client.ws(`/flows/update/${enc(path)}`), { body });
  else await client.text('POST', client.ws('/flows/create'), { body });
  const after = await deployed(client, path);
  return { path, from, version: Number(after?.version_id ?? from), deployed: true, message: msg };
}
