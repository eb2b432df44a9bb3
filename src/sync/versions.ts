/**
 * Script versions on a server: the history of a path (newest first, the current head marked)
 * and "redeploy an old version" as Windmill's UI does it: the old version's content and metadata
 * deployed as a new child of the current head, so history stays linear and nothing is rewritten
 * (spec/windmill-server.md §3.6).
 */
import { WmillError } from '../errors.js';
import type { ApiClient } from '../api/client.js';
import { createScript, deployRejection, getScriptByHash, getScriptByPath, newScriptFrom, scriptHistory } from '../api/scripts.js';

export interface VersionRow {
  hash: string;
  created_at: string;
  created_by: string;
  message: string | null;
  /** The version a run by path executes. */
  current: boolean;
}

export interface History {
  path: string;
  /** Hash of the version that runs by path, or null (archived path). */
  head: string | null;
  versions: VersionRow[];
}

const clean = (path: string) => path.replace(/^\/+/, '').replace(/\/+$/, '');

export async function history(client: ApiClient, rawPath: string): Promise<History> {
  const path = clean(rawPath);
  const [rows, newest] = await Promise.all([scriptHistory(client, path), getScriptByPath(client, path)]);
  if (!rows || rows.length === 0) throw new WmillError('usage', `script '${path}' not found in workspace ${client.workspace}: it has no versions`, { path });
  const head = newest && !newest.archived && !newest.deleted ? newest.hash : null;
  return {
    path,
    head,
    versions: rows.map((r) => ({
      hash: r.script_hash,
      created_at: typeof r.created_at === 'string' ? r.created_at : new Date(r.created_at as unknown as number).toISOString(),
      created_by: r.created_by,
      message: r.deployment_msg ?? null,
      current: r.script_hash === head,
    })),
  };
}

export interface RedeployResult {
  path: string;
  /** The version whose content was deployed again. */
  from: string;
  /** The version it was deployed on top of (null: the path had no version to build on). */
  parent: string | null;
  /** The new version's hash; equal to `from` when it already was the current version. */
  hash: string;
  deployed: boolean;
  message: string;
}

export async function redeploy(client: ApiClient, rawPath: string, hash: string, message?: string): Promise<RedeployResult> {
  const path = clean(rawPath);
  const h = hash.trim().toLowerCase();
  if (!/^[0-9a-f]{16}$/.test(h)) throw new WmillError('usage', `--hash must be a version hash (16 hex digits, see 'wmill script history ${path}'), got '${hash}'`);
  const [version, newest] = await Promise.all([getScriptByHash(client, h), getScriptByPath(client, path)]);
  if (!version || version.deleted) throw new WmillError('usage', `no version ${h} in workspace ${client.workspace}; see 'wmill script history ${path}'`, { hash: h });
  if (version.path !== path) {
    throw new WmillError('usage', `version ${h} belongs to ${version.path}, not ${path}; run 'wmill script redeploy ${version.path} --hash ${h}'`, { hash: h, path: version.path });
  }
  const msg = message ?? `Redeploy of version ${h}`;
  const live = newest && !newest.deleted ? newest : null;
  if (live && !live.archived && live.hash === h) return { path, from: h, parent: h, hash: h, deployed: false, message: msg };
  const body = newScriptFrom(version);
  if (body.is_template === false) delete body.is_template;
  Object.assign(body, {
    path,
    parent_hash: live?.hash ?? undefined,
    deployment_message: msg,
    // as windmill-cli does: deploying does not throw away anyone's drafts
    skip_draft_deletion: true,
  });
  try {
    const newHash = await createScript(client, body);
    return { path, from: h, parent: live?.hash ?? null, hash: newHash, deployed: true, message: msg };
  } catch (e) {
    const why = deployRejection(e);
    if (why === 'lineage' || why === 'path_conflict') {
      throw new WmillError('failure', `${path} was deployed by someone else while redeploying ${h}; nothing was changed, run the command again`, { reason: why });
    }
    throw e;
  }
}
