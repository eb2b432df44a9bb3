/**
 * The caller's API tokens on a server (`GET /api/users/tokens/list`,
 * `DELETE /api/users/tokens/delete/{prefix}`, as the real windmill-cli's `token list|delete`
 * call them). A list names each token by its prefix; the token itself never comes back.
 */
import { z } from 'zod';
import { WmillError } from '../errors.js';
import type { ApiClient } from './client.js';

const TokenRow = z
  .object({
    token_prefix: z.string(),
    label: z.string().nullish(),
    expiration: z.string().nullish(),
    created_at: z.string().nullish(),
    last_used_at: z.string().nullish(),
  })
  .passthrough();

export interface TokenInfo {
  token_prefix: string;
  label: string | null;
  created_at: string | null;
  expiration: string | null;
  last_used_at: string | null;
}

/** A token prefix as the server takes it (letters, digits, _ and -). */
export function checkTokenPrefix(prefix: string): string {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(prefix)) throw new WmillError('usage', `"${prefix}" is not a token prefix (letters, digits, _ and -, as \`wmill token list\` shows them)`);
  return prefix;
}

export async function listTokens(client: ApiClient): Promise<TokenInfo[]> {
  const raw = await client.json<unknown>('GET', '/users/tokens/list', { query: { exclude_ephemeral: true } });
  const parsed = z.array(TokenRow).safeParse(raw);
  if (!parsed.success) throw new WmillError('failure', `GET /users/tokens/list: unexpected answer (${parsed.error.issues[0]?.message ?? 'not a list of tokens'})`);
  return parsed.data.map((t) => ({
    token_prefix: t.token_prefix,
    label: t.label ?? null,
    created_at: t.created_at ?? null,
    expiration: t.expiration ?? null,
    last_used_at: t.last_used_at ?? null,
  }));
}

/** Revoke the caller's token named by `prefix` (a 404 when they have none with it). */
export async function deleteToken(client: ApiClient, prefix: string): Promise<void> {
  await client.call('DELETE', `/users/tokens/delete/${encodeURIComponent(checkTokenPrefix(prefix))}`);
}
