/**
 * Users of `wmill serve` as the real windmill-cli 1.819.0 manages them (spec/endpoint-catalog.txt):
 * instance accounts (`POST /users/create`, `DELETE /users/delete/{email}`, super admins only),
 * password login (`POST /auth/login` → a token; passwords kept as scrypt hashes), the workspaces
 * of the caller (`GET /workspaces/users`, the shape `workspace list-remote`/`list-forks`/`merge`
 * read: {email, workspaces: [{id, name, username, color, operator, disabled, parent_workspace_id}]}),
 * and workspace members (`users/get|update|delete/{username}`, workspace admins only for writes).
 */
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import type { Sql } from './db/db.js';
import { addMember, createToken } from './auth.js';
import type { Env } from './env.js';
import { badRequest, checkName, forbidden, HttpError, json, notFound, text, type Router } from './http.js';
import { pageWindow } from './paging.js';

const EMAIL = /^[^@\s/]+@[^@\s/]+$/;

export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  return `scrypt$${salt.toString('hex')}$${scryptSync(password, salt, 32).toString('hex')}`;
}

export function checkPassword(password: string, stored: string | null | undefined): boolean {
  const m = /^scrypt\$([0-9a-f]+)\$([0-9a-f]+)$/.exec(stored ?? '');
  if (!m) return false;
  const want = Buffer.from(m[2]!, 'hex');
  const got = scryptSync(password, Buffer.from(m[1]!, 'hex'), want.length);
  return timingSafeEqual(want, got);
}

/** A member row as Windmill's `User` (what `users/get` and `users/list` answer). */
export function memberView(m: Record<string, any>, ws: string) {
  return {
    workspace_id: ws,
    email: m.email,
    username: m.username,
    is_admin: !!m.is_admin,
    is_super_admin: !!m.super_admin,
    operator: !!m.operator,
    disabled: !!m.disabled,
    groups: ((m.groups as string[]) ?? []).filter((g) => g !== 'all'),
    folders: [],
    folders_read: [],
    folders_owners: [],
    added_via: null,
    name: m.name ?? undefined,
    created_at: m.created_at instanceof Date ? m.created_at.toISOString() : String(m.created_at ?? new Date(0).toISOString()),
  };
}

/** The caller's workspaces, as `GET /workspaces/users` answers them. */
export async function userWorkspaces(q: Sql, email: string, superAdmin: boolean) {
  const rows = await q.query(
    superAdmin
      ? `SELECT w.id, w.name, w.parent_workspace_id, w.settings, m.username, m.operator, m.disabled, m.is_admin
           FROM workspace w LEFT JOIN member m ON m.workspace_id = w.id AND m.email = $1 ORDER BY w.id`
      : `SELECT w.id, w.name, w.parent_workspace_id, w.settings, m.username, m.operator, m.disabled, m.is_admin
           FROM workspace w JOIN member m ON m.workspace_id = w.id AND m.email = $1 ORDER BY w.id`,
    [email],
  );
  return {
    email,
    workspaces: rows.map((w) => ({
      id: w.id,
      name: w.name,
      username: w.username ?? email.split('@')[0],
      color: (w.settings as Record<string, any> | null)?.color ?? null,
      operator: !!w.operator,
      disabled: !!w.disabled,
      is_admin: superAdmin || !!w.is_admin,
      parent_workspace_id: w.parent_workspace_id ?? null,
    })),
  };
}

/** Global routes (no workspace in the URL): `Env.p` is the caller's account. */
export function registerUserGlobalRoutes(g: Router<Env>): void {
  g.get('workspaces/users', async (_c, e) => json(await userWorkspaces(e.db, e.p.email, e.p.superAdmin)));

  g.post('users/create', async (c, e) => {
    if (!e.p.superAdmin || e.p.jobId) throw forbidden('only super admins can create users');
    const b = await c.obj();
    if (typeof b.email !== 'string' || !EMAIL.test(b.email)) throw badRequest('email is required (name@domain)');
    if (typeof b.password !== 'string' || b.password.length < 1) throw badRequest('password is required');
    const email = b.email.toLowerCase();
    const rows = await e.db.query(
      `INSERT INTO account (email, super_admin, password_hash, name) VALUES ($1, $2, $3, $4) ON CONFLICT (email) DO NOTHING RETURNING email`,
      [email, !!b.super_admin, hashPassword(b.password), typeof b.name === 'string' ? b.name : null],
    );
    if (!rows.length) throw badRequest(`user ${email} already exists`);
    return text(`created user ${email}`, 201);
  });

  g.del('users/delete/([^/]+)', async (c, e) => {
    if (!e.p.superAdmin || e.p.jobId) throw forbidden('only super admins can delete users');
    const email = decodeURIComponent(c.params[0]!).toLowerCase();
    if (email === e.p.email) throw badRequest('you cannot delete your own account');
    // Memberships and tokens go with the account (ON DELETE CASCADE): its tokens stop working at once.
    const rows = await e.db.query(`DELETE FROM account WHERE email = $1 RETURNING email`, [email]);
    if (!rows.length) throw notFound(`user ${email} not found`);
    return text(`deleted user ${email}`);
  });

  // `wmill instance pull|push` (instance_users.yaml). Passwords are not exported; an overwrite
  // upserts the listed accounts (super_admin, name) and removes none.
  g.get('users/export', async (_c, e) => {
    if (!e.p.superAdmin) throw forbidden('only super admins can export users');
    const rows = await e.db.query(`SELECT email, super_admin, name FROM account ORDER BY email`);
    return json(rows.map((a) => ({ email: a.email, name: a.name ?? undefined, super_admin: a.super_admin, verified: true, login_type: 'password', devops: false })));
  });
  g.post('users/overwrite', async (c, e) => {
    if (!e.p.superAdmin || e.p.jobId) throw forbidden('only super admins can overwrite users');
    const b = await c.body();
    if (!Array.isArray(b)) throw badRequest('request body must be a list of users ({email, super_admin, name})');
    await e.db.tx(async (q) => {
      for (const [i, u] of b.entries()) {
        if (!u || typeof u.email !== 'string' || !EMAIL.test(u.email)) throw badRequest(`users[${i}].email is required (name@domain)`);
        await q.query(
          `INSERT INTO account (email, super_admin, name) VALUES ($1, $2, $3) ON CONFLICT (email) DO UPDATE SET super_admin = EXCLUDED.super_admin, name = EXCLUDED.name`,
          [u.email.toLowerCase(), !!u.super_admin, typeof u.name === 'string' ? u.name : null],
        );
      }
    });
    return text(`upserted ${b.length} users`);
  });
  // Instance groups (synced from an identity provider in Windmill EE): this server has none.
  g.get('groups/export', async () => json([]));
  g.post('groups/overwrite', async (c) => {
    const b = await c.body();
    if (Array.isArray(b) && b.length === 0) return text('no instance groups');
    throw new HttpError(501, 'instance groups: not available on wmill serve (workspace groups are: `wmill group`)');
  });

  g.get('users/list_as_super_admin', async (c, e) => {
    if (!e.p.superAdmin) throw forbidden('only super admins can list all users');
    // paged as Windmill pages (page 1 is the first, page 0 too): server/paging.ts
    const w = pageWindow(c) ?? { limit: 100, offset: 0 };
    const rows = await e.db.query(`SELECT email, super_admin, name FROM account ORDER BY email LIMIT $1 OFFSET $2`, [w.limit, w.offset]);
    return json(rows.map((a) => ({ email: a.email, super_admin: a.super_admin, name: a.name ?? undefined, verified: true, login_type: 'password', devops: false })));
  });
}

/** `POST /auth/login` (no token): email + password → a new token (`wmill user create-token --email --password`). */
export async function login(q: Sql, body: Record<string, any>): Promise<string> {
  const email = typeof body.email === 'string' ? body.email.toLowerCase() : '';
  const [a] = await q.query<{ password_hash: string | null }>(`SELECT password_hash FROM account WHERE email = $1`, [email]);
  if (!a || typeof body.password !== 'string' || !checkPassword(body.password, a.password_hash)) {
    throw new HttpError(401, 'Invalid login: wrong email or password');
  }
  return createToken(q, email, { label: 'login' });
}

export function registerUserRoutes(r: Router<Env>): void {
  r.get('users/get/([^/]+)', async (c, e) => {
    const [m] = await e.db.query(`SELECT m.*, a.super_admin, a.name FROM member m JOIN account a ON a.email = m.email WHERE workspace_id = $1 AND username = $2`, [c.ws, c.params[0]]);
    if (!m) throw notFound(`user ${c.params[0]} not found in workspace ${c.ws}`);
    return json(memberView(m, c.ws));
  });
  r.get('users/exists/([^/]+)', async (c, e) => json((await e.db.query(`SELECT 1 FROM member WHERE workspace_id = $1 AND username = $2`, [c.ws, c.params[0]])).length > 0));

  r.post('users/update/([^/]+)', async (c, e) => {
    if (!e.p.isAdmin) throw forbidden('only workspace admins can change users');
    const b = await c.obj();
    for (const k of ['is_admin', 'operator', 'disabled'] as const) {
      if (b[k] != null && typeof b[k] !== 'boolean') throw badRequest(`${k} must be a boolean`);
    }
    const rows = await e.db.query(
      `UPDATE member SET is_admin = COALESCE($3, is_admin), operator = COALESCE($4, operator), disabled = COALESCE($5, disabled)
       WHERE workspace_id = $1 AND username = $2 RETURNING username`,
      [c.ws, c.params[0], b.is_admin ?? null, b.operator ?? null, b.disabled ?? null],
    );
    if (!rows.length) throw notFound(`user ${c.params[0]} not found in workspace ${c.ws}`);
    return text(`updated user ${c.params[0]}`);
  });

  r.del('users/delete/([^/]+)', async (c, e) => {
    if (!e.p.isAdmin) throw forbidden('only workspace admins can remove users');
    const username = checkName(c.params[0], 'username');
    if (username === e.p.username) throw badRequest('you cannot remove yourself from the workspace');
    const rows = await e.db.query(`DELETE FROM member WHERE workspace_id = $1 AND username = $2 RETURNING email`, [c.ws, username]);
    if (!rows.length) throw notFound(`user ${username} not found in workspace ${c.ws}`);
    return text(`removed user ${username} from workspace ${c.ws}`);
  });
}

/** Add `email` to `ws` (used by sync's users/*.user.yaml through `workspaces/add_user`). */
export { addMember };
