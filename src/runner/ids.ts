import { randomBytes } from 'node:crypto';

/**
 * Time-ordered UUID (v7 layout: 48-bit millisecond timestamp, then random bits), like
 * Windmill's ULID-derived job ids (spec/windmill-server.md §1): ids sort by creation time.
 */
export function newJobId(now = Date.now()): string {
  const b = randomBytes(16);
  b.writeUIntBE(now, 0, 6);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** An opaque bearer token for one job. */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}
