/**
 * Triggers as items (spec/wmill-cli.md §3.2): one file per trigger,
 * `<path>.<kind>_trigger.yaml`, for the kinds the reference CLI 1.819 syncs. The body is the
 * configuration as written, without the server's bookkeeping (who edited it and when, whom it
 * runs as, a listener's error): what a push sends, what the server stores in the order it was
 * sent, and what an export gives back.
 */

export const TRIGGER_KINDS = ['http', 'websocket', 'kafka', 'nats', 'postgres', 'mqtt', 'amqp', 'sqs', 'gcp', 'azure', 'email'] as const;
export type TriggerKind = (typeof TRIGGER_KINDS)[number];

export const isTriggerKind = (k: unknown): k is TriggerKind => typeof k === 'string' && (TRIGGER_KINDS as readonly string[]).includes(k);

/** Keys that are the server's, never part of a trigger's configuration. */
export const TRIGGER_META = new Set([
  'path', 'workspace_id', 'edited_by', 'edited_at', 'email', 'extra_perms', 'permissioned_as', 'preserve_permissioned_as',
  'has_permissioned_as', 'error', 'server_id', 'last_server_ping',
]);

/** The stored configuration: the sent object without server keys (nulls kept and key order kept, as sent). */
export function triggerConfig(src: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(src)) if (!TRIGGER_META.has(k) && v !== undefined) out[k] = v;
  return out;
}

/** The canonical body sync compares and hashes: the configuration as stored. */
export const triggerBody = triggerConfig;

/** `f/x/hook.http_trigger.yaml` → {kind: 'http', path: 'f/x/hook'}; undefined for other files. */
export function triggerFile(rel: string): { kind: TriggerKind; path: string } | undefined {
  const m = /^(.+)\.([a-z]+)_trigger\.(ya?ml|json)$/.exec(rel);
  if (!m || !isTriggerKind(m[2]) || m[1]!.includes('.')) return undefined;
  return { kind: m[2], path: m[1]! };
}
