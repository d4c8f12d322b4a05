// What every handler gets: the sandbox's state, the parsed request, and a way
// to take over the raw response for streams (watches, log follows).
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Clock } from '../../common/index.ts';
import type { LogBook } from '../logs.ts';
import type { ResourceType } from '../resources.ts';
import type { FaultBook } from '../faults.ts';
import type { ObjectStore } from '../store.ts';
import type { UsageBook } from '../usage.ts';
import type { StaticUser, TokenAuth, UserInfo } from '../authn.ts';
import type { TokenIssuer } from '../tokens.ts';
import type { ServerMetrics } from './metrics.ts';

export interface ServerContext {
  store: ObjectStore;
  clock: Clock;
  logs: LogBook;
  metrics: ServerMetrics;
  streams: StreamRegistry;
  /** Injected failures for tests and scenarios. */
  faults?: FaultBook;
  /** Container usage: with it the server also serves metrics.k8s.io (as a cluster with metrics-server does). */
  usage?: UsageBook;
  /** Real milliseconds between watch bookmarks (the cacher's bookmarkFrequency, a minute); tests shorten it. */
  bookmarkEveryMs?: number;
  /** --min-request-timeout in seconds (1800 unless set): how long a watch without timeoutSeconds lasts, 1–2× this. */
  minRequestTimeoutSeconds?: number;
  /** `http://127.0.0.1:PORT`, for discovery's serverAddressByClientCIDRs. */
  address(): string;
  /** Signs and checks service account tokens (TokenRequest, bearer tokens, TokenReview). */
  tokens: TokenIssuer;
  /** 'enforce': every request must be allowed by RBAC (or come from system:masters); 'off': RBAC only answers reviews. */
  rbac: RbacMode;
  /** Users of the static token file (a scenario's `users`, `kubemend sandbox --user`). */
  users: readonly StaticUser[];
}

/** How this server checks bearer tokens: unknown ones are refused once RBAC is enforced. */
export function tokenAuth(ctx: ServerContext): TokenAuth {
  return { tokens: ctx.tokens, store: ctx.store, users: ctx.users, strict: ctx.rbac === 'enforce' };
}

export type RbacMode = 'off' | 'enforce';

/** A request for a resource path, e.g. GET /apis/apps/v1/namespaces/web/deployments/api/scale. */
export interface ResourceRequest {
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The request body as text (undefined when there was none). */
  body: string | undefined;
  /** The request body's bytes, for binary (protobuf) bodies. */
  rawBody: Buffer | undefined;
  contentType: string;
  userAgent: string;
  /** Texts sent as `Warning: 299 - "…"` headers with the answer (strict decoding under fieldValidation=Warn). */
  warnings?: string[];
  /** Who the request acts as (after impersonation); set by dispatch before any handler runs. */
  user: UserInfo;
  /** Takes over the HTTP response for streaming; no Outcome is sent afterwards. */
  hijack(): ServerResponse;
}

/** A finished, non-streamed answer; or `streamed` when the handler hijacked the response. */
export interface Outcome {
  code: number;
  body?: unknown;
  /** Sent as-is instead of JSON (logs, metrics, health checks). */
  text?: string;
  /** Bytes sent as-is (OpenAPI documents, protobuf); without contentType, no Content-Type header at all. */
  raw?: Buffer;
  contentType?: string;
  headers?: Record<string, string>;
  streamed?: boolean;
}

export const json = (code: number, body: unknown): Outcome => ({ code, body });

/**
 * Open streams, so close() can end them promptly: clients (kubectl,
 * client-node informers) then see the stream end rather than hang.
 */
export class StreamRegistry {
  private readonly open = new Set<() => void>();

  add(end: () => void): () => void {
    this.open.add(end);
    return () => this.open.delete(end);
  }

  size(): number {
    return this.open.size;
  }

  closeAll(): void {
    for (const end of [...this.open]) end();
    this.open.clear();
  }
}
