/**
 * The one shape both sides of a sync agree on. Every workspace item (script, flow, resource,
 * variable, schedule, folder, resource type, app and raw app: src/items/apps.ts) becomes a canonical body, defaults filled in
 * and server-side bookkeeping dropped, and its content hash is the SHA-256 of the body's
 * canonical JSON (keys sorted). Our server computes the same hashes from its rows
 * (`POST /api/w/{ws}/wmill/sync_manifest`), so a no-op push compares hashes instead of
 * downloading the workspace; against a real Windmill the bodies come from its tarball.
 */
import { createHash } from 'node:crypto';
import { TRIGGER_KINDS, type TriggerKind } from './triggers.js';

/** A trigger's item kind names its file suffix: `http_trigger` is `<path>.http_trigger.yaml` (src/items/triggers.ts). */
export type TriggerItemKind = `${TriggerKind}_trigger`;
export type ItemKind = 'folder' | 'resource-type' | 'variable' | 'resource' | 'script' | 'flow' | 'raw_app' | 'app' | 'schedule' | TriggerItemKind;

export const TRIGGER_ITEM_KINDS: TriggerItemKind[] = TRIGGER_KINDS.map((k) => `${k}_trigger` as const);
export const isTriggerItem = (k: string): k is TriggerItemKind => (TRIGGER_ITEM_KINDS as string[]).includes(k);

/** Apply order (the reference's order): what others depend on first. */
export const KIND_ORDER: ItemKind[] = ['folder', 'resource-type', 'variable', 'resource', 'script', 'flow', 'raw_app', 'app', 'schedule', ...TRIGGER_ITEM_KINDS];

export interface SyncItem {
  kind: ItemKind;
  /** Windmill path (folder: its name; resource type: its name). */
  path: string;
  body: Record<string, unknown>;
}

export const itemKey = (kind: ItemKind, path: string) => `${kind}:${path}`;

/** NewScript settings carried by deploys and compared by sync (the reference's optional keys). */
export const SCRIPT_SETTINGS_KEYS = [
  'tag', 'ws_error_handler_muted', 'dedicated_worker', 'cache_ttl', 'concurrency_time_window_s', 'concurrent_limit',
  'restart_unless_cancelled', 'visible_to_runner_only', 'has_preprocessor', 'priority', 'concurrency_key',
  'debounce_key', 'debounce_delay_s', 'codebase', 'timeout', 'delete_after_use', 'delete_after_secs',
  'on_behalf_of_email', 'envs', 'modules', 'labels', 'assets',
] as const;

/** Keys the reference drops before comparing script metadata. */
export const SCRIPT_IGNORED_KEYS = new Set(['is_template', 'no_main_func', 'auto_kind']);

const isObj = (v: unknown): v is Record<string, any> => !!v && typeof v === 'object' && !Array.isArray(v);

export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, val) =>
    isObj(val) ? Object.fromEntries(Object.keys(val).sort().filter((k) => val[k] !== undefined).map((k) => [k, val[k]])) : val,
  );
}

export function bodyHash(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

const str = (v: unknown) => (typeof v === 'string' ? v : v == null ? '' : String(v));

export function scriptBody(src: Record<string, any>): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const k of SCRIPT_SETTINGS_KEYS) if (src[k] !== undefined && src[k] !== null) settings[k] = src[k];
  const lock = Array.isArray(src.lock) ? src.lock.join('\n') : str(src.lock);
  return {
    content: str(src.content),
    language: src.language === 'bunnative' ? 'bun' : str(src.language),
    summary: str(src.summary),
    description: str(src.description),
    kind: src.kind ? str(src.kind) : 'script',
    // Bytes as given (a trailing newline included): what the server stores and a pull writes back.
    lock,
    schema: src.schema ?? null,
    ...settings,
  };
}

const FLOW_META = new Set(['path', 'edited_by', 'edited_at', 'archived', 'extra_perms', 'workspace_id', 'version_id', 'draft_only', 'deployment_message', 'skip_draft_deletion', 'lock_error_logs', 'starred', 'has_draft', 'ws_error_handler_muted_by', 'id']);

export function flowBody(src: Record<string, any>): Record<string, unknown> {
  const out: Record<string, unknown> = { summary: str(src.summary), description: str(src.description), value: src.value ?? { modules: [] }, schema: src.schema ?? null };
  for (const [k, v] of Object.entries(src)) if (!(k in out) && !FLOW_META.has(k) && v !== undefined && v !== null) out[k] = v;
  return out;
}

export function resourceBody(src: Record<string, any>): Record<string, unknown> {
  return { resource_type: str(src.resource_type), value: src.value ?? null, description: str(src.description) };
}

export function variableBody(src: Record<string, any>): Record<string, unknown> {
  return { value: str(src.value), is_secret: !!src.is_secret, description: str(src.description) };
}

const SCHEDULE_META = new Set(['path', 'workspace_id', 'edited_by', 'edited_at', 'email', 'extra_perms', 'permissioned_as', 'has_permissioned_as']);

export function scheduleBody(src: Record<string, any>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(src)) if (!SCHEDULE_META.has(k) && v !== undefined && v !== null) out[k] = v;
  out.timezone ??= 'UTC';
  out.args ??= {};
  out.is_flow ??= false;
  out.enabled ??= true;
  return out;
}

export function folderBody(name: string, src: Record<string, any>): Record<string, unknown> {
  return { summary: str(src.summary), display_name: src.display_name ? str(src.display_name) : name, owners: src.owners ?? [], extra_perms: src.extra_perms ?? {} };
}

export function resourceTypeBody(src: Record<string, any>): Record<string, unknown> {
  const { name: _n, workspace_id: _w, created_by: _c, edited_at: _e, ...rest } = src;
  return { schema: rest.schema ?? null, description: str(rest.description), ...Object.fromEntries(Object.entries(rest).filter(([k, v]) => k !== 'schema' && k !== 'description' && v != null)) };
}
