// The few HTTP requests the shipper makes to Elasticsearch/OpenSearch, over
// node:http(s) so a private CA can be given per client (fetch cannot without
// a dispatcher package). A node that cannot be reached is skipped for the
// next URL; an HTTP answer, whatever its status, is returned to the caller,
// which knows what each status means for its request. The Authorization
// header is sent and never appears in a message.
import http from 'node:http';
import https from 'node:https';
import type { EsConnection } from './es-config.ts';

export interface EsResponse {
  status: number;
  /** The response body as text (JSON for every API used here). */
  text: string;
  /** The node that answered. */
  url: string;
}

/** No node answered: every URL failed at the connection (refused, reset, timed out, TLS). */
export class EsNetworkError extends Error {
  readonly causes: string[];

  constructor(causes: string[]) {
    super(`no Elasticsearch node answered (${causes.join('; ')})`);
    this.name = 'EsNetworkError';
    this.causes = causes;
  }
}

/** One node's connection failing; collected into an EsNetworkError, never shown alone. */
class NodeFailure extends Error {}

export class EsHttp {
  private readonly c: EsConnection;
  /** The node that answered last is asked first next time. */
  private preferred = 0;
  private readonly agents: { http: http.Agent; https: https.Agent };

  constructor(c: EsConnection) {
    this.c = c;
    this.agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true, ca: c.ca }) };
  }

  get urls(): readonly string[] {
    return this.c.urls;
  }

  async request(method: 'GET' | 'PUT' | 'POST', path: string, body?: string, contentType = 'application/json'): Promise<EsResponse> {
    const causes: string[] = [];
    const n = this.c.urls.length;
    for (let i = 0; i < n; i++) {
      const idx = (this.preferred + i) % n;
      const base = this.c.urls[idx];
      try {
        const res = await this.once(base, method, path, body, contentType);
        this.preferred = idx;
        return res;
      } catch (err) {
        causes.push(`${base}: ${(err as Error).message}`);
      }
    }
    throw new EsNetworkError(causes);
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private once(base: string, method: string, path: string, body: string | undefined, contentType: string): Promise<EsResponse> {
    const url = new URL(base + path);
    const secure = url.protocol === 'https:';
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) {
      headers['content-type'] = contentType;
      headers['content-length'] = String(Buffer.byteLength(body, 'utf8'));
    }
    if (this.c.authorization) headers.authorization = this.c.authorization;
    return new Promise<EsResponse>((resolve, reject) => {
      const req = (secure ? https : http).request(url, { method, headers, agent: secure ? this.agents.https : this.agents.http, timeout: this.c.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), url: base }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new NodeFailure(`no answer within ${this.c.timeoutMs}ms`)));
      req.on('error', (err: NodeJS.ErrnoException) => reject(new NodeFailure(err.code ? `${err.code} ${err.message}` : err.message)));
      req.end(body);
    });
  }
}
