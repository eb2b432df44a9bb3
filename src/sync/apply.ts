/**
 * Execute a push plan. Against `wmill serve`: the whole plan in one server transaction (all or
 * nothing at any size: one request, or the plan staged in parts and committed at once), and
 * when the answer is lost the server is asked how the push ended, so the outcome reported is
 * the one that happened. Against a real Windmill: change by change, in the plan's order (kinds
 * one after another, folders first, deletions last; items of one kind in parallel), stopping
 * after the first kind with a failure, and reporting what was applied, what failed and what was
 * not attempted. Each change is idempotent against the state the plan saw (a script update names
 * its parent version, so a deploy made since fails instead of being overwritten); re-running a
 * push after an interruption plans again from the remote and converges.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { ApiClient } from '../api/client.js';
import { ApiError } from '../api/client.js';
import { isTriggerItem, itemKey, type ItemKind } from '../items/canonical.js';
import type { LocalItem } from './local.js';
import type { Plan, PlanChange } from './plan.js';
import { executionMode } from '../items/apps.js';

export interface ApplyOptions {
  message?: string;
  concurrency?: number;
  /** Secret values in the plan are plaintext (the server encrypts them), not ciphertext. */
  plainSecrets?: boolean;
  onChange?: (c: PlanChange, outcome: 'done' | 'failed', error?: string) => void;
  /** Progress lines (stderr). */
  onNote?: (line: string) => void;
}

export interface ApplyResult {
  done: PlanChange[];
  failed: { change: PlanChange; error: string }[];
  /** Every change not applied: the failed ones and those not attempted after them. */
  notApplied: PlanChange[];
}

const enc = (p: string) => p.split('/').map(encodeURIComponent).join('/');

export async function pushChange(client: ApiClient, c: PlanChange, item: LocalItem | undefined, opts: ApplyOptions): Promise<void> {
  const w = (p: string) => client.ws(p);
  const body = item?.body ?? {};
  const path = enc(c.path);
  if (isTriggerItem(c.kind)) {
    // `<kind>_triggers/*`, as the reference pushes them: the whole configuration, create or update.
    const base = `/${c.kind}s`;
    if (c.op === 'delete') return void (await client.call('DELETE', w(`${base}/delete/${path}`)));
    const b = { ...body, path: c.path };
    if (c.op === 'add') await createOrUpdate(() => client.call('POST', w(`${base}/create`), { body: b }), () => client.call('POST', w(`${base}/update/${path}`), { body: b }));
    else await client.call('POST', w(`${base}/update/${path}`), { body: b });
    return;
  }
  if (c.op === 'delete') {
    switch (c.kind) {
      case 'script': return void (await client.call('POST', w(`/scripts/archive/p/${path}`)));
      case 'flow': return void (await client.call('DELETE', w(`/flows/delete/${path}`)));
      case 'resource': return void (await client.call('DELETE', w(`/resources/delete/${path}`)));
      case 'variable': return void (await client.call('DELETE', w(`/variables/delete/${path}`)));
      case 'schedule': return void (await client.call('DELETE', w(`/schedules/delete/${path}`)));
      case 'folder': return void (await client.call('DELETE', w(`/folders/delete/${path}`)));
      case 'resource-type': return void (await client.call('DELETE', w(`/resources/type/delete/${path}`)));
      case 'app':
      case 'raw_app': return void (await client.call('DELETE', w(`/apps/delete/${path}`)));
    }
  }
  const isAdd = c.op === 'add';
  switch (c.kind) {
    case 'script': {
      let parent = c.parent;
      if (!isAdd && !parent) parent = (await client.json<{ hash: string }>('GET', w(`/scripts/get/p/${path}`))).hash;
      const r = await client.call('POST', w('/scripts/create'), {
        query: { skip_if_noop: true },
        body: { path: c.path, ...body, ...(parent ? { parent_hash: parent } : {}), ...(opts.message ? { deployment_message: opts.message } : {}), skip_draft_deletion: true },
      });
      if (r.status !== 201) throw new Error(`script ${c.path}: server answered ${r.status} instead of 201`);
      return;
    }
    case 'flow': {
      const b = { path: c.path, ...body, ...(opts.message ? { deployment_message: opts.message } : {}), skip_draft_deletion: true };
      if (isAdd) await createOrUpdate(() => client.call('POST', w('/flows/create'), { body: b }), () => client.call('POST', w(`/flows/update/${path}`), { body: b }));
      else await client.call('POST', w(`/flows/update/${path}`), { body: b });
      return;
    }
    case 'app':
    case 'raw_app': {
      // As the reference's push: the app with its execution mode as a policy (the server records who deployed it).
      const { public: _p, guests: _g, ...rest } = body;
      const app = { path: c.path, ...rest, policy: { execution_mode: executionMode(body) }, ...(opts.message ? { deployment_message: opts.message } : {}), skip_draft_deletion: true };
      if (c.kind === 'app') {
        if (isAdd) await createOrUpdate(() => client.call('POST', w('/apps/create'), { body: app }), () => client.call('POST', w(`/apps/update/${path}`), { body: app }));
        else await client.call('POST', w(`/apps/update/${path}`), { body: app });
        return;
      }
      // Raw apps go as multipart (the `app` JSON; no frontend bundle: `wmill app push` of the real CLI builds one).
      const boundary = `wmill${randomUUID().replaceAll('-', '')}`;
      const form = { body: `--${boundary}\r\nContent-Disposition: form-data; name="app"\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(app)}\r\n--${boundary}--\r\n`, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
      if (isAdd) await createOrUpdate(() => client.call('POST', w('/apps/create_raw'), form), () => client.call('POST', w(`/apps/update_raw/${path}`), form));
      else await client.call('POST', w(`/apps/update_raw/${path}`), form);
      return;
    }
    case 'resource':
      if (isAdd) await client.call('POST', w('/resources/create'), { query: { update_if_exists: true }, body: { path: c.path, ...body } });
      else await client.call('POST', w(`/resources/update/${path}`), { body: { path: c.path, ...body } });
      return;
    case 'variable': {
      // As the reference: ciphertext unless plainSecrets (checked before planning: a plaintext secret never goes as ciphertext).
      const q = { already_encrypted: !opts.plainSecrets };
      if (isAdd) {
        await createOrUpdate(
          () => client.call('POST', w('/variables/create'), { query: q, body: { path: c.path, ...body } }),
          () => client.call('POST', w(`/variables/update/${path}`), { query: q, body: { path: c.path, ...body } }),
        );
      } else await client.call('POST', w(`/variables/update/${path}`), { query: q, body: { path: c.path, ...body } });
      return;
    }
    case 'schedule': {
      if (isAdd) {
        await createOrUpdate(
          () => client.call('POST', w('/schedules/create'), { body: { path: c.path, ...body } }),
          () => client.call('POST', w(`/schedules/update/${path}`), { body }),
        );
      } else {
        await client.call('POST', w(`/schedules/update/${path}`), { body });
        if (typeof body.enabled === 'boolean') await client.call('POST', w(`/schedules/setenabled/${path}`), { body: { enabled: body.enabled } });
      }
      return;
    }
    case 'folder':
      if (isAdd) {
        await createOrUpdate(
          () => client.call('POST', w('/folders/create'), { body: { name: c.path, ...body } }),
          () => client.call('POST', w(`/folders/update/${path}`), { body }),
        );
      } else await client.call('POST', w(`/folders/update/${path}`), { body });
      return;
    case 'resource-type':
      if (isAdd) {
        await createOrUpdate(
          () => client.call('POST', w('/resources/type/create'), { body: { name: c.path, ...body } }),
          () => client.call('POST', w(`/resources/type/update/${path}`), { body: { name: c.path, ...body } }),
        );
      } else await client.call('POST', w(`/resources/type/update/${path}`), { body: { name: c.path, ...body } });
      return;
  }
}

/** A create that finds the item already there (created by an interrupted earlier push) updates it instead. */
async function createOrUpdate(create: () => Promise<unknown>, update: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (e) {
    if (e instanceof ApiError && e.status === 400 && /already exists/i.test(e.body)) await update();
    else throw e;
  }
}

const errorText = (e: unknown) => (e instanceof ApiError ? e.body || e.message : (e as Error).message).trim();

/** Change by change (a server without our transactional push, or `--one-by-one`). */
export async function applyPush(client: ApiClient, plan: Plan, local: Map<string, LocalItem>, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const res: ApplyResult = { done: [], failed: [], notApplied: [] };
  // Consecutive changes of the same kind and direction form a group; groups run in order.
  const groups: PlanChange[][] = [];
  for (const c of plan.changes) {
    const last = groups[groups.length - 1];
    const sameGroup = last && last[0]!.kind === c.kind && (last[0]!.op === 'delete') === (c.op === 'delete') && c.kind !== 'folder';
    if (sameGroup) last.push(c);
    else groups.push([c]);
  }
  const limit = Math.max(1, opts.concurrency ?? 8);
  for (const [gi, g] of groups.entries()) {
    let next = 0;
    const worker = async () => {
      while (next < g.length) {
        const c = g[next++]!;
        try {
          await pushChange(client, c, local.get(itemKey(c.kind as ItemKind, c.path)), opts);
          res.done.push(c);
          opts.onChange?.(c, 'done');
        } catch (e) {
          const msg = errorText(e);
          res.failed.push({ change: c, error: msg });
          opts.onChange?.(c, 'failed', msg);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, g.length) }, worker));
    // What comes later may depend on what failed (a deletion after its replacement's creation): stop here.
    if (res.failed.length) {
      const done = new Set(res.done);
      res.notApplied = [...g.filter((c) => !done.has(c)), ...groups.slice(gi + 1).flat()];
      break;
    }
  }
  return res;
}

/** How an all-or-nothing push ended. */
export interface AtomicResult {
  /** `applied`: every change; `nothing`: none; `unknown`: all or none, the server could not say which. */
  outcome: 'applied' | 'nothing' | 'unknown';
  error?: string;
  /** Requests the plan was sent in (1: one request; more: staged parts plus the commit). */
  requests: number;
}

/** Largest plan sent as one request (the server takes 16 MB), and the slice of a staged plan. */
export const ONE_REQUEST_BYTES = 12 * 1024 * 1024;
const PART_CHARS = () => Math.max(1024, Number(process.env.WMILL_SYNC_PART_CHARS) || 4 * 1024 * 1024);
/** Applying a large plan may take a while on a loaded server: wait for it. */
const COMMIT_TIMEOUT_MS = 30 * 60 * 1000;

/** Slices of `s` of at most `n` characters, never splitting a surrogate pair (each slice is valid UTF-8 on its own). */
function slices(s: string, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; ) {
    let end = Math.min(s.length, i + n);
    const last = s.charCodeAt(end - 1);
    if (end < s.length && last >= 0xd800 && last <= 0xdbff) end--;
    out.push(s.slice(i, end));
    i = end;
  }
  return out;
}

/**
 * Apply the whole plan in one server transaction (our server's `wmill/sync_apply`, or for a plan
 * larger than one request `wmill/sync_push`: staged in parts, invisible until committed).
 */
export async function applyPushAtomic(client: ApiClient, plan: Plan, local: Map<string, LocalItem>, opts: ApplyOptions = {}): Promise<AtomicResult> {
  const changes = plan.changes.map((c) => ({
    op: c.op,
    kind: c.kind,
    path: c.path,
    ...(c.op === 'delete' ? {} : { body: local.get(itemKey(c.kind as ItemKind, c.path))?.body ?? {} }),
    ...(c.parent ? { parent: c.parent } : {}),
  }));
  const id = randomUUID();
  const payload = JSON.stringify({ changes, ...(opts.message ? { message: opts.message } : {}), plain_secrets: !!opts.plainSecrets });
  const bytes = Buffer.byteLength(payload);
  let committing = false;
  let requests = 1;
  try {
    if (bytes <= ONE_REQUEST_BYTES) {
      committing = true;
      await client.call('POST', client.ws('/wmill/sync_apply'), { body: `{"id":${JSON.stringify(id)},${payload.slice(1)}`, timeoutMs: COMMIT_TIMEOUT_MS });
    } else {
      const parts = slices(payload, PART_CHARS());
      requests = parts.length + 2;
      opts.onNote?.(`the plan is ${(bytes / 1048576).toFixed(1)} MB: sending it in ${parts.length} parts; nothing is applied until all are committed at once`);
      await client.call('POST', client.ws('/wmill/sync_push'), { body: { id } });
      for (const [i, part] of parts.entries()) {
        await client.call('POST', client.ws(`/wmill/sync_push/${id}/part/${i}`), { body: part, headers: { 'content-type': 'text/plain; charset=utf-8' } });
        opts.onNote?.(`sent part ${i + 1} of ${parts.length} (nothing applied yet)`);
      }
      committing = true;
      const sha256 = createHash('sha256').update(payload).digest('hex');
      await client.call('POST', client.ws(`/wmill/sync_push/${id}/commit`), { body: { parts: parts.length, bytes, sha256 }, timeoutMs: COMMIT_TIMEOUT_MS });
    }
  } catch (e) {
    const error = errorText(e);
    // The server answered with an error: its transaction rolled back. Before the commit nothing was applied either.
    if (!committing || (e instanceof ApiError && e.status < 500)) return { outcome: 'nothing', error, requests };
    // No answer to the commit (or a server error): ask the server how the push ended.
    const settled = await settle(client, id);
    if (settled === 'committed') {
      opts.onNote?.('the answer was lost, but the server says the push was committed');
      for (const c of plan.changes) opts.onChange?.(c, 'done');
      return { outcome: 'applied', requests };
    }
    return { outcome: settled === 'abandoned' ? 'nothing' : 'unknown', error, requests };
  }
  for (const c of plan.changes) opts.onChange?.(c, 'done');
  return { outcome: 'applied', requests };
}

/** The outcome of push `id` (which settles it: a commit still in flight is waited for, or refused from now on). */
async function settle(client: ApiClient, id: string): Promise<'committed' | 'abandoned' | undefined> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const r = await client.json<{ state: string }>('POST', client.ws(`/wmill/sync_push/${id}/settle`), { body: {} });
      if (r?.state === 'committed' || r?.state === 'abandoned') return r.state;
      return undefined;
    } catch (e) {
      if (e instanceof ApiError) return undefined;
      await new Promise((r) => setTimeout(r, 500 * (attempt + 1)));
    }
  }
  return undefined;
}
