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

/**
 * A request URL fit for a log line: the path, and every query value replaced
 * by "[redacted]" (`/console/api/events?token=[redacted]`). Short names stay, so a
 * log still shows what was asked; values go, because clients put tokens,
 * codes and signatures there and no list of names catches them all.
 */
export function logSafeUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const names = url.slice(q + 1).split('&').filter(Boolean).map((p) => {
    const eq = p.indexOf('=');
    // A bare item (`?abc123`) may itself be the token; so may a name that is no identifier.
    return eq > 0 && /^[A-Za-z0-9_.[\]-]{1,40}$/.test(p.slice(0, eq)) ? `${p.slice(0, eq)}=[redacted]` : '[redacted]';
  });
  return `${url.slice(0, q)}${names.length ? `?${names.join('&')}` : ''}`;
}
