// http.request: call a URL (a deploy system, a feature-flag service, a
// status page). 5xx, 408, 429, network failures and time-outs are worth
// retrying; other unexpected statuses are final. Credentials in headers
// never reach the log, the plan or the outputs.
import { z } from 'zod';
import { Duration } from '../../common/index.ts';
import { ActionError, type Action, type ActionContext, type PlannedCall } from '../types.ts';
import { redactHeaders } from './util.ts';

const Params = z.object({
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
  url: z.url({ protocol: /^https?$/ }),
  headers: z.record(z.string(), z.string()).optional(),
  body: z.unknown().optional(),
  /** Accepted statuses (default: any 2xx). */
  expectStatus: z.union([z.coerce.number().int(), z.array(z.coerce.number().int())]).optional(),
  timeout: Duration.prefault('30s'),
});
export type HttpRequestParams = z.infer<typeof Params>;

const MAX_BODY = 64 * 1024;

function describe(p: HttpRequestParams): PlannedCall {
  return { method: 'HTTP', path: p.url, body: p.body, description: `${p.method} ${p.url}${p.headers ? ` (headers: ${JSON.stringify(redactHeaders(p.headers))})` : ''}` };
}

const accepted = (p: HttpRequestParams, status: number) =>
  p.expectStatus === undefined ? status >= 200 && status < 300 : ([] as number[]).concat(p.expectStatus).includes(status);

async function send(p: HttpRequestParams, ctx: ActionContext) {
  const headers: Record<string, string> = { ...(p.headers ?? {}) };
  let body: string | undefined;
  if (p.body !== undefined) {
    body = typeof p.body === 'string' ? p.body : JSON.stringify(p.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = typeof p.body === 'string' ? 'text/plain' : 'application/json';
  }
  // The time-out runs on the injected clock like every other wait.
  const timer = new AbortController();
  const handle = ctx.clock.setTimeout(() => timer.abort(), p.timeout);
  try {
    const res = await fetch(p.url, { method: p.method, headers, body, signal: AbortSignal.any([ctx.signal, timer.signal]), redirect: 'follow' });
    const text = (await res.text()).slice(0, MAX_BODY);
    return { res, text };
  } catch (err) {
    if (ctx.signal.aborted) throw new ActionError('ABORTED', 'the step was cancelled or timed out');
    if (timer.signal.aborted) throw new ActionError('HTTP_TIMEOUT', `${p.method} ${p.url} timed out after ${Math.round(p.timeout / 1000)}s`);
    throw new ActionError('NETWORK', `${p.method} ${p.url}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`, { cause: err });
  } finally {
    handle.cancel();
  }
}

export const httpRequest: Action<HttpRequestParams> = {
  name: 'http.request',
  description: 'Make an HTTP request and check its status.',
  params: Params,
  access: [],
  // It may change another system; dry-run never sends it.
  mutates: true,
  async plan(p) {
    return [describe(p)];
  },
  async run(p, ctx) {
    const calls = [describe(p)];
    if (ctx.dryRun) return { outputs: {}, mutated: false, calls };
    const { res, text } = await send(p, ctx);
    ctx.log(`${p.method} ${p.url} → ${res.status}`);
    if (!accepted(p, res.status)) {
      const answered = `${p.method} ${p.url} answered ${res.status}: ${text.slice(0, 200)}`;
      if (res.status >= 500 || res.status === 408 || res.status === 429) throw new ActionError('HTTP_UNAVAILABLE', answered);
      throw new ActionError('HTTP_STATUS', answered);
    }
    let body: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json')) {
      try {
        body = JSON.parse(text);
      } catch {
        // keep the text
      }
    }
    return { outputs: { status: res.status, body, contentType: res.headers.get('content-type') ?? undefined }, mutated: p.method !== 'GET' && p.method !== 'HEAD', calls };
  },
  async check(p) {
    // Reads are safe to repeat; a write leaves nothing kubemend can read back.
    if (p.method === 'GET' || p.method === 'HEAD') return { state: 'not-done' };
    return { state: 'unknown', reason: `whether ${p.method} ${p.url} reached the server cannot be checked` };
  },
};
