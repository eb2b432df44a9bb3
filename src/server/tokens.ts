/**
 * A user's API tokens (spec/windmill-server.md §2.1): create, list, delete. Tokens are kept only
 * as their SHA-256; a list shows each one's prefix (what `delete` takes), label, creation and
 * expiration times, never the token. A deleted token is refused at once (every request looks its
 * hash up). The shapes are those the real windmill-cli 1.819.0 reads (`wmill token list --json`
 * prints them as they come: `TruncatedToken` {token_prefix, label, expiration, created_at,
 * last_used_at, scopes}).
 */
import type { Db, Sql } from './db/db.js';
import { createToken, hashToken, type Principal } from './auth.js';
import { badRequest, forbidden, HttpError, json, notFound, text, type Ctx, type Reply } from './http.js';

const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : v == null ? null : String(v));

export interface TruncatedToken {
  token_prefix: string;
  label: string | null;
  expiration: string | null;
  created_at: string;
  last_used_at: string | null;
  scopes: string[] | null;
}

/** `email`'s tokens that have not expired, newest first. */
export async function listTokens(q: Sql, email: string): Promise<TruncatedToken[]> {
  const rows = await q.query(
    `SELECT prefix, label, expires_at, created_at FROM token WHERE email = $1 AND (expires_at IS NULL OR expires_at > now()) ORDER BY created_at DESC, prefix`,
    [email],
  );
  return rows.map((r) => ({
    token_prefix: r.prefix,
    label: r.label ?? null,
    expiration: iso(r.expires_at) as string | null,
    created_at: iso(r.created_at) as string,
    last_used_at: null,
    scopes: null,
  }));
}

/**
 * Delete `email`'s token named by `prefix` (its listed prefix, or the whole token). Returns how
 * many were deleted; refuses a prefix that names several tokens (it would delete more than meant).
 */
export async function deleteToken(q: Db, email: string, prefix: string): Promise<number> {
  return q.tx(async (t) => {
    const rows = await t.query<{ hash: string }>(`SELECT hash FROM token WHERE email = $1 AND (prefix = $2 OR hash = $3) FOR UPDATE`, [email, prefix, hashToken(prefix)]);
    if (rows.length > 1) throw badRequest(`token prefix ${prefix} names ${rows.length} tokens; give the whole token to delete one`);
    if (!rows.length) return 0;
    await t.query(`DELETE FROM token WHERE hash = $1`, [rows[0]!.hash]);
    return 1;
  });
}

/** The global `/api/users/tokens/...` routes; undefined when `rest` is none of them. */
export async function tokenRoutes(q: Db, method: string, rest: string, p: Principal, ctx: Ctx): Promise<Reply | undefined> {
  if (!rest.startsWith('users/tokens/')) return undefined;
  // A job's token dies with its job: it may not mint, list or delete longer-lived ones.
  if (p.jobId) throw forbidden('a job token cannot create, list or delete tokens');
  if (method === 'POST' && rest === 'users/tokens/create') {
    const b = await ctx.obj();
    if (b.expiration != null && (typeof b.expiration !== 'string' || Number.isNaN(Date.parse(b.expiration)))) throw badRequest('expiration must be a timestamp');
    if (b.label != null && typeof b.label !== 'string') throw badRequest('label must be a string');
    return text(await createToken(q, p.email, { label: b.label ?? undefined, expiresAt: b.expiration ?? undefined }), 201);
  }
  if (method === 'POST' && rest === 'users/tokens/impersonate') {
    if (!p.superAdmin) throw forbidden('only super admins can create tokens for other users');
    const b = await ctx.obj();
    if (typeof b.impersonate_email !== 'string') throw badRequest('impersonate_email is required');
    const [a] = await q.query(`SELECT 1 FROM account WHERE email = $1`, [b.impersonate_email]);
    if (!a) throw new HttpError(404, `user ${b.impersonate_email} not found`);
    return text(await createToken(q, b.impersonate_email, { label: typeof b.label === 'string' ? b.label : 'impersonation' }), 201);
  }
  if (method === 'GET' && rest === 'users/tokens/list') return json(await listTokens(q, p.email));
  const del = /^users\/tokens\/delete\/(.+)$/.exec(rest);
  if (method === 'DELETE' && del) {
    const prefix = del[1]!;
    if (!/^[A-Za-z0-9_-]{1,200}$/.test(prefix)) throw badRequest(`invalid token prefix "${prefix.slice(0, 40)}": letters, digits, _ and -`);
    const n = await deleteToken(q, p.email, prefix);
    if (!n) throw notFound(`no token of ${p.email} with prefix ${prefix}`);
    return text(`deleted token with prefix ${prefix}`);
  }
  return undefined;
}
