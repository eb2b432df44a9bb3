/**
 * Workspace groups (`wmill group list|get|create|delete|add-user|remove-user`, and sync's
 * `groups/<name>.group.yaml`): a group is a name with a summary; its members are the workspace
 * members whose `groups` list holds it (what the access check reads, src/server/access.ts), so
 * adding a user to a group gives them its `g/<name>/...` items at once. The group's admins are
 * its `extra_perms` (`u/<user>: true`), set with `acls/add/group_/{name}` as Windmill does.
 * Everyone is in `all` (listed, never stored). Writes: workspace admins, or the group's admins.
 */
import type { Sql } from './db/db.js';
import type { Env } from './env.js';
import type { Principal } from './auth.js';
import { badRequest, checkName, forbidden, json, notFound, text, type Router } from './http.js';

interface GroupRow {
  name: string;
  summary: string | null;
  extra_perms: Record<string, boolean>;
  members: string[];
}

async function membersOf(q: Sql, ws: string): Promise<{ username: string; groups: string[] }[]> {
  return q.query(`SELECT username, groups FROM member WHERE workspace_id = $1 ORDER BY username`, [ws]);
}

/** Every group of `ws`: the stored ones and any a member names (a user added with groups before the group was made). */
export async function listGroups(q: Sql, ws: string): Promise<GroupRow[]> {
  const stored = await q.query<{ name: string; summary: string | null; extra_perms: Record<string, boolean> }>(
    `SELECT name, summary, extra_perms FROM usr_group WHERE workspace_id = $1`,
    [ws],
  );
  const members = await membersOf(q, ws);
  const byName = new Map<string, GroupRow>();
  byName.set('all', { name: 'all', summary: 'The group that always contains all users of this workspace', extra_perms: {}, members: members.map((m) => m.username) });
  for (const g of stored) byName.set(g.name, { ...g, extra_perms: g.extra_perms ?? {}, members: [] });
  for (const m of members) {
    for (const g of m.groups ?? []) {
      if (g === 'all') continue;
      if (!byName.has(g)) byName.set(g, { name: g, summary: null, extra_perms: {}, members: [] });
      byName.get(g)!.members.push(m.username);
    }
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

const view = (g: GroupRow, ws: string) => ({ workspace_id: ws, name: g.name, summary: g.summary ?? undefined, members: g.members, extra_perms: g.extra_perms });

async function groupAt(q: Sql, ws: string, name: string): Promise<GroupRow> {
  const g = (await listGroups(q, ws)).find((x) => x.name === name);
  if (!g) throw notFound(`Group ${name} not found`);
  return g;
}

function requireGroupWrite(p: Principal, g: GroupRow): void {
  if (p.isAdmin) return;
  if (!p.operator && g.extra_perms[`u/${p.username}`] === true) return;
  throw forbidden(`${p.username} is not an admin of the workspace or of group ${g.name}`);
}

async function setMembership(q: Sql, ws: string, group: string, username: string, on: boolean): Promise<boolean> {
  const [m] = await q.query<{ groups: string[] }>(`SELECT groups FROM member WHERE workspace_id = $1 AND username = $2 FOR UPDATE`, [ws, username]);
  if (!m) throw notFound(`user ${username} not found in workspace ${ws}`);
  const groups = (m.groups ?? []).filter((g) => g !== group);
  if (on) groups.push(group);
  await q.query(`UPDATE member SET groups = $3::json WHERE workspace_id = $1 AND username = $2`, [ws, username, JSON.stringify(groups)]);
  return (m.groups ?? []).includes(group) !== on;
}

/** Make sure a group that exists only through members' lists has its row (before a summary or ACL change). */
async function ensureRow(q: Sql, ws: string, name: string): Promise<void> {
  await q.query(`INSERT INTO usr_group (workspace_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [ws, name]);
}

export function registerGroupRoutes(r: Router<Env>): void {
  r.get('groups/list', async (c, e) => json((await listGroups(e.db, c.ws)).map((g) => view(g, c.ws))));
  r.get('groups/listnames', async (c, e) => json((await listGroups(e.db, c.ws)).map((g) => g.name)));
  r.get('groups/get/([^/]+)', async (c, e) => json(view(await groupAt(e.db, c.ws, c.params[0]!), c.ws)));

  r.post('groups/create', async (c, e) => {
    if (!e.p.isAdmin) throw forbidden('only workspace admins can create groups');
    const b = await c.obj();
    const name = checkName(b.name, 'group name');
    if (name === 'all') throw badRequest('group all exists already (it holds every member)');
    if (b.summary != null && typeof b.summary !== 'string') throw badRequest('summary must be a string');
    const exists = (await listGroups(e.db, c.ws)).some((g) => g.name === name);
    if (exists) throw badRequest(`Group ${name} already exists`);
    await e.db.query(`INSERT INTO usr_group (workspace_id, name, summary) VALUES ($1, $2, $3)`, [c.ws, name, b.summary ?? null]);
    return text(`Created group ${name}`, 201);
  });

  r.post('groups/update/([^/]+)', async (c, e) => {
    const name = c.params[0]!;
    const g = await groupAt(e.db, c.ws, name);
    requireGroupWrite(e.p, g);
    const b = await c.obj();
    if (b.summary != null && typeof b.summary !== 'string') throw badRequest('summary must be a string');
    await e.db.tx(async (q) => {
      await ensureRow(q, c.ws, name);
      await q.query(`UPDATE usr_group SET summary = $3 WHERE workspace_id = $1 AND name = $2`, [c.ws, name, b.summary ?? null]);
    });
    return text(`Updated group ${name}`);
  });

  r.del('groups/delete/([^/]+)', async (c, e) => {
    const name = c.params[0]!;
    if (!e.p.isAdmin) throw forbidden('only workspace admins can delete groups');
    if (name === 'all') throw badRequest('group all cannot be deleted');
    await groupAt(e.db, c.ws, name);
    await e.db.tx(async (q) => {
      await q.query(`DELETE FROM usr_group WHERE workspace_id = $1 AND name = $2`, [c.ws, name]);
      for (const m of await membersOf(q, c.ws)) {
        if ((m.groups ?? []).includes(name)) await setMembership(q, c.ws, name, m.username, false);
      }
    });
    return text(`Deleted group ${name}`);
  });

  for (const [route, on] of [['adduser', true], ['removeuser', false]] as const) {
    r.post(`groups/${route}/([^/]+)`, async (c, e) => {
      const name = c.params[0]!;
      if (name === 'all') throw badRequest('group all always holds every member');
      const g = await groupAt(e.db, c.ws, name);
      requireGroupWrite(e.p, g);
      const b = await c.obj();
      const username = checkName(b.username, 'username');
      await e.db.tx(async (q) => {
        await ensureRow(q, c.ws, name);
        await setMembership(q, c.ws, name, username, on);
        if (!on) {
          await q.query(`UPDATE usr_group SET extra_perms = (extra_perms::jsonb - $3)::json WHERE workspace_id = $1 AND name = $2`, [c.ws, name, `u/${username}`]);
        }
      });
      return text(on ? `Added ${username} to group ${name}` : `Removed ${username} from group ${name}`);
    });
  }

  // Granular ACLs: the group's admins (sync's `admins:` of a group file). Other kinds' ACLs are item extra_perms.
  r.get('acls/get/group_/([^/]+)', async (c, e) => json((await groupAt(e.db, c.ws, c.params[0]!)).extra_perms));
  for (const [route, add] of [['add', true], ['remove', false]] as const) {
    r.post(`acls/${route}/([^/]+)/(.+)`, async (c, e) => {
      const [kind, name] = c.params as [string, string];
      if (kind !== 'group_') throw badRequest(`acls/${route}/${kind}: granular ACLs of ${kind} items are not served by wmill serve (set extra_perms on the item instead); group_ is`);
      const g = await groupAt(e.db, c.ws, name);
      requireGroupWrite(e.p, g);
      const b = await c.obj();
      if (typeof b.owner !== 'string' || !/^[ug]\/[A-Za-z0-9_-]+$/.test(b.owner)) throw badRequest('owner must be u/<username> or g/<group>');
      await e.db.tx(async (q) => {
        await ensureRow(q, c.ws, name);
        const perms = { ...g.extra_perms };
        if (add) perms[b.owner] = !!b.write;
        else delete perms[b.owner];
        await q.query(`UPDATE usr_group SET extra_perms = $3::json WHERE workspace_id = $1 AND name = $2`, [c.ws, name, JSON.stringify(perms)]);
      });
      return text(`${add ? 'Set' : 'Removed'} ${b.owner} on group ${name}`);
    });
  }
}
