/**
 * Who is calling, and what they may touch. Users authenticate with a bearer token (stored
 * only as its SHA-256); jobs authenticate with a token derived from their id and the
 * instance secret (HMAC), so any worker process can mint it and the server can check it
 * without a table. Path permissions follow Windmill: admins everything; `u/<user>/` is its
 * owner's; `g/<group>/` its members'; `f/<folder>/` per the folder's owners and extra_perms
 * (`u/<name>` or `g/<group>` → true = write, false = read; everyone is in group `all`).
 * Operators never write.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Sql } from './db/db.js';
import { newWorkspaceKey } from '../items/secrets.js';

export interface Principal {
  email: string;
  username: string;
  isAdmin: boolean;
  superAdmin: boolean;
  operator: boolean;
  groups: string[];
  /** Set when the caller is a running job (its token). */
  jobId?: string;
}

export const hashToken = (t: string) => createHash('sha256').update(t).digest('hex');

export const ADMIN_EMAIL = 'admin@windmill.dev';
export const ADMIN_USERNAME = 'admin';
export const DEFAULT_WORKSPACE = 'admins';

/** The instance secret shared by `wmill serve` and its workers (created on first start). */
export async function instanceSecret(q: Sql): Promise<string> {
  await q.query(`INSERT INTO instance (key, value) VALUES ('secret', $1) ON CONFLICT (key) DO NOTHING`, [randomBytes(32).toString('hex')]);
  const [r] = await q.query<{ value: string }>(`SELECT value FROM instance WHERE key = 'secret'`);
  return r!.value;
}

export function jobTokenFor(secret: string, jobId: string): string {
  return `wjt_${jobId}_${createHmac('sha256', secret).update(jobId).digest('hex').slice(0, 40)}`;
}

/** The job id a job token stands for, when its signature is right. */
export function jobIdOfToken(secret: string, token: string): string | undefined {
  const m = /^wjt_([0-9a-f-]{36})_([0-9a-f]{40})$/.exec(token);
  if (!m) return undefined;
  const want = Buffer.from(jobTokenFor(secret, m[1]!));
  const got = Buffer.from(token);
  return want.length === got.length && timingSafeEqual(want, got) ? m[1] : undefined;
}

export async function createWorkspace(q: Sql, id: string, name = id): Promise<boolean> {
  const rows = await q.query(
    `INSERT INTO workspace (id, name, encryption_key) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING RETURNING id`,
    [id, name, newWorkspaceKey()],
  );
  return rows.length > 0;
}

export async function addMember(q: Sql, ws: string, u: { email: string; username: string; is_admin?: boolean; operator?: boolean; groups?: string[] }) {
  await q.query(`INSERT INTO account (email) VALUES ($1) ON CONFLICT (email) DO NOTHING`, [u.email]);
  await q.query(
    `INSERT INTO member (workspace_id, email, username, is_admin, operator, groups) VALUES ($1,$2,$3,$4,$5,$6::json)
     ON CONFLICT (workspace_id, email) DO UPDATE SET is_admin = EXCLUDED.is_admin, operator = EXCLUDED.operator, groups = EXCLUDED.groups`,
    [ws, u.email, u.username, !!u.is_admin, !!u.operator, JSON.stringify(u.groups ?? [])],
  );
}

/** Store a new token for `email`; returns the token (shown once, kept only hashed). */
export async function createToken(q: Sql, email: string, opts: { token?: string; label?: string; expiresAt?: string } = {}): Promise<string> {
  const token = opts.token ?? `wm_${randomBytes(24).toString('base64url')}`;
  await q.query(
    `INSERT INTO token (hash, prefix, email, label, expires_at) VALUES ($1,$2,$3,$4,$5) ON CONFLICT (hash) DO NOTHING`,
    [hashToken(token), tokenPrefix(token), email, opts.label ?? null, opts.expiresAt ?? null],
  );
  return token;
}

/**
 * The part of a token kept in clear to name it (`wmill token list|delete`): its first 10
 * characters, as Windmill, but never more than a third of it (a short WMILL_ADMIN_TOKEN must not
 * be listed whole).
 */
export function tokenPrefix(token: string): string {
  return token.slice(0, Math.min(10, Math.floor(token.length / 3)));
}

/**
 * A fresh server has the workspace `admins` and the super admin `admin@windmill.dev`
 * (username `admin`). Its token is `adminToken` when given (WMILL_ADMIN_TOKEN), else one is
 * generated the first time and returned so the caller prints it once.
 */
export async function bootstrap(q: Sql, adminToken?: string): Promise<{ generatedToken?: string }> {
  await createWorkspace(q, DEFAULT_WORKSPACE, 'Admins');
  await q.query(`INSERT INTO account (email, super_admin) VALUES ($1, true) ON CONFLICT (email) DO UPDATE SET super_admin = true`, [ADMIN_EMAIL]);
  const [m] = await q.query(`SELECT 1 FROM member WHERE workspace_id = $1 AND email = $2`, [DEFAULT_WORKSPACE, ADMIN_EMAIL]);
  if (!m) await addMember(q, DEFAULT_WORKSPACE, { email: ADMIN_EMAIL, username: ADMIN_USERNAME, is_admin: true });
  if (adminToken) {
    await createToken(q, ADMIN_EMAIL, { token: adminToken, label: 'WMILL_ADMIN_TOKEN' });
    // A row made before prefixes were cut to a third of the token.
    await q.query(`UPDATE token SET prefix = $2 WHERE hash = $1`, [hashToken(adminToken), tokenPrefix(adminToken)]);
    return {};
  }
  const [t] = await q.query(`SELECT 1 FROM token WHERE email = $1`, [ADMIN_EMAIL]);
  if (t) return {};
  return { generatedToken: await createToken(q, ADMIN_EMAIL, { label: 'generated at first start' }) };
}

export interface Account {
  email: string;
  superAdmin: boolean;
}

export async function accountOfToken(q: Sql, token: string): Promise<Account | undefined> {
  const [r] = await q.query<{ email: string; super_admin: boolean }>(
    `SELECT a.email, a.super_admin FROM token t JOIN account a ON a.email = t.email
     WHERE t.hash = $1 AND (t.expires_at IS NULL OR t.expires_at > now())`,
    [hashToken(token)],
  );
  return r ? { email: r.email, superAdmin: r.super_admin } : undefined;
}

export async function memberPrincipal(q: Sql, ws: string, account: Account): Promise<Principal | undefined> {
  const [r] = await q.query(`SELECT * FROM member WHERE workspace_id = $1 AND email = $2`, [ws, account.email]);
  if (!r) {
    if (!account.superAdmin) return undefined;
    const [w] = await q.query(`SELECT 1 FROM workspace WHERE id = $1`, [ws]);
    if (!w) return undefined;
    return { email: account.email, username: account.email.split('@')[0]!, isAdmin: true, superAdmin: true, operator: false, groups: ['all'] };
  }
  return principalOfMember(r, account.superAdmin);
}

/** A workspace member row as a principal (everyone is also in group `all`). */
function principalOfMember(r: Record<string, any>, superAdmin: boolean): Principal {
  return {
    email: r.email,
    username: r.username,
    isAdmin: r.is_admin || superAdmin,
    superAdmin,
    operator: r.operator,
    groups: ['all', ...((r.groups as string[]) ?? [])],
  };
}

export async function memberByUsername(q: Sql, ws: string, username: string): Promise<Principal | undefined> {
  const [r] = await q.query(`SELECT m.*, a.super_admin FROM member m JOIN account a ON a.email = m.email WHERE workspace_id = $1 AND username = $2`, [ws, username]);
  return r ? principalOfMember(r, r.super_admin) : undefined;
}

/**
 * Whom a job acts for: the member its `permissioned_as` (`u/<username>`) names, with that
 * member's rights as they are now (undefined when the member is gone, or for a group).
 */
export async function jobOwner(q: Sql, ws: string, permissionedAs: string | undefined): Promise<Principal | undefined> {
  if (!permissionedAs?.startsWith('u/')) return undefined;
  return memberByUsername(q, ws, permissionedAs.slice(2));
}

/** The access check lives in access.ts (one implementation); re-exported for the modules that import it from here. */
export { accessTo, type Access } from './access.js';
