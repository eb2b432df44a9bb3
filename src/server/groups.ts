/**
 * Workspace groups, read-only (`GET groups/list`, `groups/get/{name}`, as Windmill answers them:
 * {name, summary, members, extra_perms}). A group here is what members' `groups` name, plus
 * `all`, which every member is in (src/server/access.ts's rule); there is no group table.
 */
import type { Env } from './env.js';
import { json, notFound, type Router } from './http.js';

async function groupsOf(e: Env, ws: string): Promise<{ name: string; summary: string | null; members: string[]; extra_perms: Record<string, boolean> }[]> {
  const rows = await e.db.query<{ username: string; groups: string[] | null }>(`SELECT username, groups FROM member WHERE workspace_id = $1 ORDER BY username`, [ws]);
  const by = new Map<string, string[]>([['all', rows.map((r) => r.username)]]);
  for (const r of rows) for (const g of r.groups ?? []) by.set(g, [...(by.get(g) ?? []), r.username]);
  return [...by.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, members]) => ({ name, summary: name === 'all' ? 'The group that always contains all users of this workspace' : null, members, extra_perms: {} }));
}

export function registerGroupRoutes(r: Router<Env>): void {
  r.get('groups/list', async (c, e) => json(await groupsOf(e, c.ws)));
  r.get('groups/listnames', async (c, e) => json((await groupsOf(e, c.ws)).map((g) => g.name)));
  r.get('groups/get/([^/]+)', async (c, e) => {
    const g = (await groupsOf(e, c.ws)).find((x) => x.name === c.params[0]);
    if (!g) throw notFound(`group ${c.params[0]} not found`);
    return json(g);
  });
}
