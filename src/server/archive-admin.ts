/**
 * The opt-in parts of the workspace archive (`wmill sync pull --include-users --include-groups
 * --include-settings`, and the workspace dependencies the real CLI always asks for), in the
 * files the real windmill-cli 1.819.0 maps them to: `users/<email>.user.json`
 * ({role, username, disabled}, what its `pushWorkspaceUser` compares), `groups/<name>.group.json`
 * ({summary, admins, members} as `u/<username>`, what `pushGroup` compares), `settings.json`
 * (the workspace name and its set settings) and `dependencies/[<name>.]<file>`. Users, groups
 * and settings are exported for workspace admins only (they are the workspace's administration).
 */
import type { Env } from './env.js';
import { boolParam } from './http.js';
import { listGroups } from './groups.js';
import { dependencyFiles, settingsFile } from './admin.js';
import type { ZipEntry } from '../items/zip.js';

const json = (v: unknown) => JSON.stringify(v, null, 2);

export async function archiveAdminEntries(e: Env, ws: string, q: URLSearchParams): Promise<ZipEntry[]> {
  const out: ZipEntry[] = [];
  if (boolParam(q, 'include_users') && e.p.isAdmin) {
    for (const m of await e.db.query(`SELECT email, username, is_admin, operator, disabled FROM member WHERE workspace_id = $1 ORDER BY email`, [ws])) {
      out.push({ path: `users/${m.email}.user.json`, data: json({ role: m.is_admin ? 'admin' : m.operator ? 'operator' : 'developer', username: m.username, disabled: !!m.disabled }) });
    }
  }
  if (boolParam(q, 'include_groups') && e.p.isAdmin) {
    for (const g of await listGroups(e.db, ws)) {
      if (g.name === 'all') continue;
      const admins = Object.entries(g.extra_perms).filter(([k, v]) => v && g.members.includes(k.slice(2))).map(([k]) => k).sort();
      const members = g.members.map((m) => `u/${m}`).filter((m) => !admins.includes(m));
      out.push({ path: `groups/${g.name}.group.json`, data: json({ summary: g.summary ?? '', admins, members }) });
    }
  }
  if (boolParam(q, 'include_settings') && e.p.isAdmin) out.push({ path: 'settings.json', data: json(await settingsFile(e.db, ws)) });
  if (boolParam(q, 'include_workspace_dependencies')) out.push(...(await dependencyFiles(e.db, ws)));
  return out;
}
