// Slack's request signing, as documented in "Verifying requests from Slack":
// the signature is `v0=` + hex(HMAC-SHA256(signing secret,
// `v0:{X-Slack-Request-Timestamp}:{raw body}`)), sent as X-Slack-Signature.
// Requests whose timestamp is more than five minutes away from now are
// refused, so a captured request cannot be replayed later.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SLACK_SIGNATURE_VERSION = 'v0';
/** How far (seconds) a request's timestamp may be from our clock. */
export const SLACK_MAX_SKEW_SECONDS = 5 * 60;

export type SlackVerification = { ok: true } | { ok: false; reason: string };

export interface SlackVerifyInput {
  signingSecret: string;
  /** The exact bytes Slack sent: any re-serialisation breaks the signature. */
  rawBody: Buffer | string;
  /** X-Slack-Request-Timestamp (seconds since the epoch). */
  timestamp: string | undefined;
  /** X-Slack-Signature. */
  signature: string | undefined;
  /** Milliseconds since the epoch (the injected clock). */
  now: number;
}

/** Computes the X-Slack-Signature value Slack would send for this body and timestamp. */
export function slackSignature(signingSecret: string, timestamp: string | number, rawBody: Buffer | string): string {
  const mac = createHmac('sha256', signingSecret);
  mac.update(`${SLACK_SIGNATURE_VERSION}:${timestamp}:`);
  mac.update(rawBody);
  return `${SLACK_SIGNATURE_VERSION}=${mac.digest('hex')}`;
}

export function verifySlackRequest(input: SlackVerifyInput): SlackVerification {
  const { timestamp, signature } = input;
  if (!timestamp) return { ok: false, reason: 'missing X-Slack-Request-Timestamp header' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'X-Slack-Request-Timestamp is not a number of seconds' };
  if (!signature) return { ok: false, reason: 'missing X-Slack-Signature header' };
  const skew = Math.abs(Math.floor(input.now / 1000) - Number(timestamp));
  if (skew > SLACK_MAX_SKEW_SECONDS) {
    return { ok: false, reason: `X-Slack-Request-Timestamp is ${skew}s away from now (more than 5 minutes): a replayed request or a wrong clock` };
  }
  const expected = Buffer.from(slackSignature(input.signingSecret, timestamp, input.rawBody));
  const given = Buffer.from(signature);
  // The length of a v0 signature is public (v0= and 64 hex digits), so checking it first leaks nothing.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'X-Slack-Signature does not match the body (check SLACK_SIGNING_SECRET)' };
  }
  return { ok: true };
}
