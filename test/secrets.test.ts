/**
 * src/items/secrets.ts: deterministic per-workspace secret encryption, tamper/wrong-key
 * detection, and the ciphertext heuristic shared with the real windmill-cli.
 */
import { describe, expect, it } from 'vitest';
import { createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { decryptSecret, encryptSecret, looksEncrypted, newWorkspaceKey } from '../src/items/secrets.js';

const KEY = 'test-workspace-key-0123456789';
const ERROR = 'cannot decrypt secret: wrong workspace key or corrupt value';

/** The real windmill-cli's check (esm/main.js, looksLikeWorkspaceCiphertext), minus vault prefixes. */
function cliLooksEncrypted(value: string): boolean {
  if (value.length === 0 || value.length % 4 !== 0) return false;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return false;
  const n = Buffer.from(value, 'base64').length;
  return n > 0 && n % 16 === 0;
}

describe('newWorkspaceKey', () => {
  it('is 32 random bytes as base64url, different every time', () => {
    const a = newWorkspaceKey();
    const b = newWorkspaceKey();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a, 'base64url').length).toBe(32);
    expect(a).not.toBe(b);
  });
});

describe('encryptSecret / decryptSecret', () => {
  const samples = ['', 'x', 'hunter2', 'exactly 16 bytes', 'p@ss w0rd ünïcødé 🔑 日本語', 'line1\nline2\r\n\0tab\t', 'x'.repeat(10_000)];

  it('round-trips, including empty, unicode and long values', () => {
    for (const s of samples) expect(decryptSecret(KEY, encryptSecret(KEY, s))).toBe(s);
    const key = newWorkspaceKey();
    for (const s of samples) expect(decryptSecret(key, encryptSecret(key, s))).toBe(s);
  });

  it('is deterministic per (key, plaintext), and differs across keys and plaintexts', () => {
    expect(encryptSecret(KEY, 'hunter2')).toBe(encryptSecret(KEY, 'hunter2'));
    expect(encryptSecret(KEY, 'hunter2')).not.toBe(encryptSecret(KEY + '!', 'hunter2'));
    expect(encryptSecret(KEY, 'hunter2')).not.toBe(encryptSecret(KEY, 'hunter3'));
    // Same plaintext prefix, different IVs: nothing shared at the start.
    const a = Buffer.from(encryptSecret(KEY, 'a'.repeat(32) + '1'), 'base64');
    const b = Buffer.from(encryptSecret(KEY, 'a'.repeat(32) + '2'), 'base64');
    expect(a.subarray(0, 32).equals(b.subarray(0, 32))).toBe(false);
  });

  it('is AES-256-CBC with key SHA-256(key) and the IV prepended, base64', () => {
    const ct = encryptSecret(KEY, 'hunter2');
    const raw = Buffer.from(ct, 'base64');
    expect(raw.length).toBe(32); // 16-byte IV + one block
    const d = createDecipheriv('aes-256-cbc', createHash('sha256').update(KEY).digest(), raw.subarray(0, 16));
    expect(Buffer.concat([d.update(raw.subarray(16)), d.final()]).toString()).toBe('hunter2');
    expect(Buffer.from(encryptSecret(KEY, ''), 'base64').length).toBe(32);
    expect(Buffer.from(encryptSecret(KEY, 'exactly 16 bytes'), 'base64').length).toBe(48);
  });

  it('output is recognised as ciphertext by looksEncrypted and by the windmill-cli heuristic', () => {
    for (const s of samples) {
      const ct = encryptSecret(KEY, s);
      expect(looksEncrypted(ct)).toBe(true);
      expect(cliLooksEncrypted(ct)).toBe(true);
    }
  });

  it('throws a fixed message (never the value) for a wrong key', () => {
    const secret = 'super-secret-value-123';
    const ct = encryptSecret(KEY, secret);
    for (let i = 0; i < 50; i++) {
      // Many random keys: CBC padding alone would accept ~1/256 of them; the IV check catches all.
      const key = newWorkspaceKey();
      let err: unknown;
      try {
        decryptSecret(key, ct);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toBe(ERROR);
      expect((err as Error).message).not.toContain(ct);
    }
  });

  it('detects corrupt values', () => {
    const ct = encryptSecret(KEY, 'a secret that spans several AES blocks, definitely more than one');
    const raw = Buffer.from(ct, 'base64');
    for (const i of [0, 5, 15, 16, 20, raw.length - 17, raw.length - 1]) {
      const bad = Buffer.from(raw);
      bad[i]! ^= 0x01;
      expect(() => decryptSecret(KEY, bad.toString('base64')), `byte ${i}`).toThrow(ERROR);
    }
    const bad = [
      '',
      'hunter2',
      'not base64 at all!!',
      raw.subarray(0, 16).toString('base64'), // IV only
      raw.subarray(0, raw.length - 1).toString('base64'), // truncated
      Buffer.concat([raw, raw.subarray(16, 32)]).toString('base64'), // extra block
      ct.slice(0, -4),
      ct + 'AAAA',
    ];
    for (const v of bad) {
      let msg = '';
      try {
        decryptSecret(KEY, v);
      } catch (e) {
        msg = (e as Error).message;
      }
      expect(msg).toBe(ERROR);
    }
  });

  it('rejects an empty key', () => {
    expect(() => encryptSecret('', 'x')).toThrow(/workspace key/);
    expect(() => decryptSecret('', encryptSecret(KEY, 'x'))).toThrow(/workspace key/);
  });
});

describe('looksEncrypted', () => {
  it('accepts canonical base64 of a non-zero multiple of 16 bytes only', () => {
    expect(looksEncrypted(randomBytes(16).toString('base64'))).toBe(true);
    expect(looksEncrypted(randomBytes(48).toString('base64'))).toBe(true);
    expect(looksEncrypted('')).toBe(false);
    expect(looksEncrypted(randomBytes(15).toString('base64'))).toBe(false);
    expect(looksEncrypted(randomBytes(17).toString('base64'))).toBe(false);
    expect(looksEncrypted(randomBytes(32).toString('base64url').replace(/=+$/, ''))).toBe(false); // no padding
    expect(looksEncrypted('hunter2')).toBe(false);
    expect(looksEncrypted('postgres://user:pw@localhost:5432/db')).toBe(false);
    expect(looksEncrypted('AAAAAAAAAAAAAAAAAAAAAA==\n')).toBe(false); // whitespace
    // Non-canonical: the unused bits of the last character are set (re-encodes differently).
    const canonical = Buffer.alloc(16, 7).toString('base64'); // ends in "w=="
    expect(looksEncrypted(canonical)).toBe(true);
    const noncanonical = canonical.slice(0, -3) + 'x==';
    expect(Buffer.from(noncanonical, 'base64').length).toBe(16);
    expect(looksEncrypted(noncanonical)).toBe(false);
  });

  it('agrees with the windmill-cli heuristic on canonical base64', () => {
    for (let n = 0; n <= 80; n++) {
      const v = randomBytes(n).toString('base64');
      expect(looksEncrypted(v), `n=${n}`).toBe(cliLooksEncrypted(v));
    }
  });
});
