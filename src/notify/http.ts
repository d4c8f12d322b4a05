// The one HTTP POST the PagerDuty and webhook receivers make, and how an
// answer becomes a DeliveryResult: 2xx taken; 408, 429 and 5xx, network
// errors and timeouts worth another try (Retry-After honoured); any other
// status refused for good. Bodies of refusals are cut short: they end up in
// the audit log.
import { retryAfterMs } from '../common/index.ts';
import type { DeliveryResult } from './types.ts';

export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
}

const MAX_ERROR_BODY = 500;

export async function postJson(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<HttpAnswer | { networkError: string }> {
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    return { status: res.status, headers: res.headers, text: await res.text() };
  } catch (err) {
    const e = err as Error & { cause?: Error };
    const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs}ms` : `${e.message}${e.cause?.message ? `: ${e.cause.message}` : ''}`;
    return { networkError: why };
  }
}

export function classify(what: string, a: HttpAnswer | { networkError: string }, detail: (a: HttpAnswer) => string = (x) => x.text): DeliveryResult {
  if ('networkError' in a) return { ok: false, retryable: true, error: `${what}: ${a.networkError}` };
  if (a.status >= 200 && a.status < 300) return { ok: true };
  const body = detail(a).replace(/\s+/g, ' ').trim().slice(0, MAX_ERROR_BODY);
  const error = `${what} answered ${a.status}${body ? `: ${body}` : ''}`;
  if (a.status === 429 || a.status === 408 || a.status >= 500) {
    const after = retryAfterMs(a.headers.get('retry-after'));
    return { ok: false, retryable: true, error, ...(after !== undefined ? { retryAfterMs: after } : {}) };
  }
  return { ok: false, retryable: false, error };
}
