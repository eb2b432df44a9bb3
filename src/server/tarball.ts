/**
 * The workspace archive `sync pull`/`sync push` download (spec/wmill-cli.md §8.1): a zip of
 * the whole workspace in the layout the real CLI maps onto files (`<path>.<ext>` +
 * `<path>.script.json`, `<path>.flow.json`, `.resource.json`, `.variable.json`,
 * `folder.meta.json`, `<name>.resource-type.json`, `.app.json`/`.raw_app.json`, opt-in `.schedule.json` and
 * `.<kind>_trigger.json`), with server-side
 * keys stripped, secrets encrypted unless `plain_secret`, and no directory entries (the CLI's
 * JSZip walker loops forever on them).
 */
import { extensionFor, type DefaultTs, type Language } from '../workspace/languages.js';
import { decryptSecret } from '../items/secrets.js';
import { writeZip, type ZipEntry } from '../items/zip.js';
import { accessTo } from './auth.js';
import type { Env } from './env.js';
import { badRequest, boolParam } from './http.js';
import { appExport, deployedApps } from './apps.js';
import { archiveAdminEntries } from './archive-admin.js';

const json = (v: unknown) => JSON.stringify(v, null, 2);

export async function workspaceArchive(e: Env, ws: string, q: URLSearchParams): Promise<Buffer> {
  const type = q.get('archive_type') ?? 'zip';
  if (type !== 'zip') throw badRequest(`Invalid Archive Type ${type}: this server serves zip archives`);
  const ts = q.get('default_ts') || 'bun';
  if (ts !== 'bun' && ts !== 'deno') throw badRequest(`default_ts: expected bun or deno, got ${JSON.stringify(ts)}`);
  const defaultTs: DefaultTs = ts;
  const entries: ZipEntry[] = [];
  const visible = async (path: string) => (await accessTo(e.db, ws, e.p, path)) !== 'none';

  for (const f of await e.db.query(`SELECT * FROM folder WHERE workspace_id = $1 ORDER BY name`, [ws])) {
    entries.push({
      path: `f/${f.name}/folder.meta.json`,
      data: json({ summary: f.summary ?? '', display_name: f.display_name, owners: f.owners ?? [], extra_perms: f.extra_perms ?? {} }),
    });
  }

  const scripts = await e.db.query(
    `SELECT DISTINCT ON (path) * FROM script WHERE workspace_id = $1 AND NOT archived AND NOT deleted AND NOT draft_only ORDER BY path, seq DESC`,
    [ws],
  );
  for (const s of scripts) {
    if (!(await visible(s.path))) continue;
    const ext = extensionFor(s.language as Language, defaultTs);
    if (ext.includes('/')) continue; // dbt projects are not served by this runner
    entries.push({ path: `${s.path}${ext}`, data: s.content });
    const meta: Record<string, unknown> = {
      summary: s.summary ?? '',
      description: s.description ?? '',
      lock: s.lock ?? '',
      kind: s.kind ?? 'script',
      schema: s.schema ?? undefined,
      ...(s.settings ?? {}),
    };
    entries.push({ path: `${s.path}.script.json`, data: json(meta) });
  }

  for (const f of await e.db.query(`SELECT * FROM flow WHERE workspace_id = $1 AND NOT archived ORDER BY path`, [ws])) {
    if (!(await visible(f.path))) continue;
    entries.push({
      path: `${f.path}.flow.json`,
      data: json({ summary: f.summary ?? '', description: f.description ?? '', value: f.value, schema: f.schema ?? undefined, ...(f.settings ?? {}) }),
    });
  }

  // Apps as Windmill exports them: the real CLI turns each into its folder (src/items/apps.ts).
  for (const a of await deployedApps(e.db, ws)) {
    if (!(await visible(a.path))) continue;
    entries.push({ path: `${a.path}.${a.raw_app ? 'raw_app' : 'app'}.json`, data: json(appExport(a)) });
  }

  if (!boolParam(q, 'skip_resources')) {
    // Resources jobs write at run time (setState, caches) are not exported, as in Windmill.
    for (const r of await e.db.query(`SELECT * FROM resource WHERE workspace_id = $1 AND resource_type NOT IN ('state', 'cache') ORDER BY path`, [ws])) {
      if (!(await visible(r.path))) continue;
      entries.push({ path: `${r.path}.resource.json`, data: json({ ...(r.description != null ? { description: r.description } : {}), resource_type: r.resource_type, value: r.value }) });
    }
  }

  if (!boolParam(q, 'skip_variables')) {
    const skipSecrets = boolParam(q, 'skip_secrets');
    const plain = boolParam(q, 'plain_secret');
    const key = await e.store.workspaceKey(ws);
    for (const v of await e.db.query(`SELECT * FROM variable WHERE workspace_id = $1 ORDER BY path`, [ws])) {
      if (v.is_secret && skipSecrets) continue;
      if (!(await visible(v.path))) continue;
      const value = v.is_secret && plain ? decryptSecret(key, v.value) : v.value;
      entries.push({ path: `${v.path}.variable.json`, data: json({ description: v.description ?? '', value, is_secret: v.is_secret }) });
    }
  }

  if (!boolParam(q, 'skip_resource_types')) {
    for (const t of await e.db.query(`SELECT * FROM resource_type WHERE workspace_id = $1 ORDER BY name`, [ws])) {
      entries.push({ path: `${t.name}.resource-type.json`, data: json(t.body) });
    }
  }

  if (boolParam(q, 'include_schedules')) {
    for (const s of await e.db.query(`SELECT * FROM schedule WHERE workspace_id = $1 ORDER BY path`, [ws])) {
      if (!(await visible(s.path))) continue;
      entries.push({ path: `${s.path}.schedule.json`, data: json({ ...s.body, enabled: s.enabled }) });
    }
  }
  if (boolParam(q, 'include_triggers')) {
    // The configuration as it was sent (src/items/triggers.ts): a pull writes back the bytes pushed.
    for (const t of await e.db.query(`SELECT * FROM triggers WHERE workspace_id = $1 ORDER BY path, kind`, [ws])) {
      if (!(await visible(t.path))) continue;
      entries.push({ path: `${t.path}.${t.kind}_trigger.json`, data: json(t.body) });
    }
  }
  entries.push(...(await archiveAdminEntries(e, ws, q)));
  return writeZip(entries);
}
