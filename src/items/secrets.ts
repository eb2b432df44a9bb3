/**
 * Per-workspace encryption of secret variables.
 *
 * Deterministic on purpose: the same plaintext under the same workspace key always yields the
 * same ciphertext, so `sync pull` followed by `sync push` changes nothing. The scheme is
 * AES-256-CBC with key = SHA-256(workspace key string) and a synthetic IV = the first 16 bytes of
 * HMAC-SHA256(workspace key string, plaintext) (SIV-style: the IV depends only on the plaintext,
 * and doubles as an integrity check on decryption). Output is standard base64(iv ‖ ciphertext),
 * whose decoded length is a non-zero multiple of 16: exactly what the real windmill-cli's
 * "looks like workspace ciphertext" heuristic expects. Equal plaintexts are visibly equal as
 * ciphertexts; that is the price of determinism.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const BLOCK = 16;
const DECRYPT_ERROR = 'cannot decrypt secret: wrong workspace key or corrupt value';

/** A fresh random workspace key: 32 random bytes, base64url (43 characters). */
export function newWorkspaceKey(): string {
  return randomBytes(32).toString('base64url');
}

function checkKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw new Error('workspace key must be a non-empty string');
}

const aesKey = (key: string) => createHash('sha256').update(key, 'utf8').digest();
const syntheticIv = (key: string, plaintext: Buffer) => createHmac('sha256', key).update(plaintext).digest().subarray(0, BLOCK);

/** Encrypts `plaintext` under the workspace `key`: base64(iv ‖ AES-256-CBC ciphertext). */
export function encryptSecret(key: string, plaintext: string): string {
  checkKey(key);
  const data = Buffer.from(plaintext, 'utf8');
  const iv = syntheticIv(key, data);
  const cipher = createCipheriv('aes-256-cbc', aesKey(key), iv);
  return Buffer.concat([iv, cipher.update(data), cipher.final()]).toString('base64');
}

/**
 * Decrypts a value made by `encryptSecret`. Throws
 * `cannot decrypt secret: wrong workspace key or corrupt value` (never echoing the value) when
 * the key is wrong or the value was altered.
 */
export function decryptSecret(key: string, ciphertext: string): string {
  checkKey(key);
  if (!looksEncrypted(ciphertext)) throw new Error(DECRYPT_ERROR);
  const raw = Buffer.from(ciphertext, 'base64');
  if (raw.length < 2 * BLOCK) throw new Error(DECRYPT_ERROR);
  const iv = raw.subarray(0, BLOCK);
  let data: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-cbc', aesKey(key), iv);
    data = Buffer.concat([decipher.update(raw.subarray(BLOCK)), decipher.final()]);
  } catch {
    throw new Error(DECRYPT_ERROR); // bad padding: wrong key or altered bytes
  }
  if (!timingSafeEqual(syntheticIv(key, data), iv)) throw new Error(DECRYPT_ERROR);
  return data.toString('utf8');
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Whether `value` looks like workspace ciphertext: canonical standard base64 (it re-encodes to
 * the same string) decoding to a non-zero multiple of 16 bytes. A heuristic, like the real
 * windmill-cli's: a plain value can look encrypted (e.g. a random 16-byte token in base64).
 */
export function looksEncrypted(value: string): boolean {
  if (value.length === 0 || value.length % 4 !== 0 || !BASE64.test(value)) return false;
  const raw = Buffer.from(value, 'base64');
  return raw.length > 0 && raw.length % BLOCK === 0 && raw.toString('base64') === value;
}
