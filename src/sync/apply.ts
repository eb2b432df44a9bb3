/**
 * Execute a push plan through the API, change by change, in the plan's order: kinds one
 * after another (folders first, deletions last), items of one kind in parallel. Each change
 * is idempotent against the state the plan saw (a script update names its parent version, so
 * a deploy that happened since fails instead of being overwritten); re-running a push after an
 * interruption plans again from the remote and converges.
 */
import type { ApiClient } from '../api/client.js';
import { ApiError } from '../api/client.js';
import { looksEncrypted } from '../runner/secrets.js';
import { itemKey, type ItemKind } from './canonical.js';
import type { LocalItem } from './local.js';
import type { Plan, PlanChange } from './plan.js';

export interface ApplyOptions {
  message?: string;
  concurrency?: number;
  onChange?: (c: PlanChange, outcome: 'done' | 'failed', error?: string) => void;
}

export interface ApplyResult {
  done: PlanChange[];
  failed: { change: PlanChange; error: string }[];
}

const enc = (p: string) => p.split('/').map(encodeURIComponent).join('/');

async function pushChange(client: ApiClient, c: PlanChange, item: LocalItem | undefined, opts: ApplyOptions): Promise<void> {
  const w = (p: string) => client.ws(p);
  const body = item?.body ?? {};
  const path = enc(c.path);
  if (c.op === 'delete') {
    switch (c.kind) {
      case 'script': return void (await client.call('POST', w(`/scripts/archive/p/${path}`)));
      case 'flow': return void (await client.call('DELETE', w(`/flows/delete/${path}`)));
      case 'resource': return void (await client.call('DELETE', w(`/resources/delete/${path}`)));
      case 'variable': return void (await client.call('DELETE', w(`/variables/delete/${path}`)));
      case 'schedule': return void (await client.call('DELETE', w(`/schedules/delete/${path}`)));
      case 'folder': return void (await client.call('DELETE', w(`/folders/delete/${path}`)));
      case 'resource-type': return void (await client.call('DELETE', w(`/resources/type/delete/${path}`)));
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
    case 'resource':
      if (isAdd) await client.call('POST', w('/resources/create'), { query: { update_if_exists: true }, body: { path: c.path, ...body } });
      else await client.call('POST', w(`/resources/update/${path}`), { body: { path: c.path, ...body } });
      return;
    case 'variable': {
      const already = !!body.is_secret && typeof body.value === 'string' && looksEncrypted(body.value);
      const q = { already_encrypted: already };
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

export async function applyPush(client: ApiClient, plan: Plan, local: Map<string, LocalItem>, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const res: ApplyResult = { done: [], failed: [] };
  // Consecutive changes of the same kind and direction form a group; groups run in order.
  const groups: PlanChange[][] = [];
  for (const c of plan.changes) {
    const last = groups[groups.length - 1];
    const sameGroup = last && last[0]!.kind === c.kind && (last[0]!.op === 'delete') === (c.op === 'delete') && c.kind !== 'folder';
    if (sameGroup) last.push(c);
    else groups.push([c]);
  }
  const limit = Math.max(1, opts.concurrency ?? 8);
  for (const g of groups) {
    let next = 0;
    const worker = async () => {
      while (next < g.length) {
        const c = g[next++]!;
        try {
          await pushChange(client, c, local.get(itemKey(c.kind as ItemKind, c.path)), opts);
          res.done.push(c);
          opts.onChange?.(c, 'done');
        } catch (e) {
          const msg = e instanceof ApiError ? e.body || e.message : (e as Error).message;
          res.failed.push({ change: c, error: msg });
          opts.onChange?.(c, 'failed', msg);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, g.length) }, worker));
  }
  return res;
}

/**
 * Apply the whole plan in one request and one server transaction (our server's
 * `wmill/sync_apply`): all or nothing. Returns undefined when the plan is too large for one
 * request (the caller then applies it change by change).
 */
export async function applyPushAtomic(client: ApiClient, plan: Plan, local: Map<string, LocalItem>, opts: ApplyOptions = {}): Promise<ApplyResult | undefined> {
  const changes = plan.changes.map((c) => ({
    op: c.op,
    kind: c.kind,
    path: c.path,
    ...(c.op === 'delete' ? {} : { body: local.get(itemKey(c.kind as ItemKind, c.path))?.body ?? {} }),
    ...(c.parent ? { parent: c.parent } : {}),
  }));
  const body = JSON.stringify({ changes, ...(opts.message ? { message: opts.message } : {}) });
  if (body.length > 12 * 1024 * 1024) return undefined;
  try {
    await client.call('POST', client.ws('/wmill/sync_apply'), { body });
  } catch (e) {
    const msg = e instanceof ApiError ? e.body || e.message : (e as Error).message;
    return { done: [], failed: [{ change: plan.changes[0]!, error: msg }] };
  }
  for (const c of plan.changes) opts.onChange?.(c, 'done');
  return { done: [...plan.changes], failed: [] };
}
