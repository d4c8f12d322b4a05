// Comparing secrets a caller presents (bearer tokens, chat command tokens,
// signed button values, webhook HMAC signatures) in constant time. Shared by
// the webhook receivers (src/server/) and the chat adapters (src/chat/), so it
// sits below both.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Constant-time equality that does not leak the secret's length either. */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Checks `sha256=<hex>` (or bare hex) against HMAC-SHA256(secret, body) in constant time. */
export function signatureMatches(secret: string, body: Buffer, header: string): boolean {
  const hex = header.trim().replace(/^sha256=/i, '');
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(Buffer.from(hex, 'hex'), expected);
}

/** The GitHub-style signature header value for a body: `sha256=<hex>`. */
export function signBody(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
