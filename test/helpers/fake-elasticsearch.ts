// A fake Elasticsearch 8 for the audit shipper's tests: a real HTTP server
// that checks requests the way the documentation specifies them and answers
// in the documented shapes.
// - POST /_bulk: Content-Type application/x-ndjson; the body ends with "\n";
//   each action line is one of create/index/update/delete, create and index
//   are followed by a source line; a data stream takes only `create` (an
//   `index` item fails 400) and needs @timestamp; a `create` whose _id exists
//   fails 409 version_conflict_engine_exception. HTTP 200 with `errors` and
//   one item per action, in order: { create: { _index, _id, status, result | error{type,reason} } }.
// - PUT /_index_template/<name>: index_patterns, data_stream {}, a priority
//   that does not tie with the built-in logs-*-* template (100), @timestamp
//   mapped as a date. A data stream is created by the first create into a
//   name matching a template with data_stream; the highest priority wins.
// - POST /<index>/_search with sort and search_after, for reading back.
// Protocol violations answer 400 as Elasticsearch would and are also listed
// in `problems`, which tests assert empty.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StoredDoc {
  index: string;
  id: string;
  source: Record<string, unknown>;
}

export type ItemFailure = { status: number; type: string; reason: string } | undefined;

interface Template {
  name: string;
  patterns: string[];
  priority: number;
  dataStream: boolean;
  body: Record<string, unknown>;
}

const BUILTIN_LOGS: Template = { name: 'logs', patterns: ['logs-*-*'], priority: 100, dataStream: true, body: {} };

const glob = (pattern: string) => new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);

export class FakeElasticsearch {
  url = '';
  readonly docs = new Map<string, StoredDoc>();
  /** _ids in the order they were stored. */
  readonly arrivals: string[] = [];
  readonly templates = new Map<string, Template>();
  /** Data stream → the template it was created from. */
  readonly streams = new Map<string, string>();
  readonly problems: string[] = [];
  /** Every request: method, path, the Authorization header as received. */
  readonly requests: { method: string; path: string; authorization?: string; contentType?: string; body: string }[] = [];
  /** Decides an item's failure before it is stored (attempt counts per _id, from 1). */
  failItem: (id: string, source: Record<string, unknown>, attempt: number) => ItemFailure = () => undefined;
  private readonly attempts = new Map<string, number>();
  private mode: 'up' | '503' | 'refuse' = 'up';
  private server?: Server;
  private port = 0;
  private readonly auth?: string;
  private readonly echoAuth: boolean;

  private constructor(auth?: string, echoAuth = false) {
    this.auth = auth;
    this.echoAuth = echoAuth;
  }

  /**
   * `auth`: the exact Authorization header required (e.g. "ApiKey abc"), or none.
   * `echoAuth`: a refusal quotes the header it got, as some proxies in front of a cluster do.
   */
  static async start(opts: { auth?: string; echoAuth?: boolean } = {}): Promise<FakeElasticsearch> {
    const es = new FakeElasticsearch(opts.auth, opts.echoAuth);
    await es.listen();
    es.url = `http://127.0.0.1:${es.port}`;
    return es;
  }

  /** Unreachable ('refuse': the port is closed) or answering 503 to everything. */
  async down(how: 'refuse' | '503'): Promise<void> {
    this.mode = how;
    if (how === 'refuse' && this.server) {
      const s = this.server;
      this.server = undefined;
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  }

  async up(): Promise<void> {
    this.mode = 'up';
    if (!this.server) await this.listen();
  }

  async stop(): Promise<void> {
    await this.down('refuse');
  }

  /** The stored documents of a stream, in arrival order. */
  sources(index?: string): Record<string, unknown>[] {
    return this.arrivals.map((id) => this.docs.get(id) as StoredDoc).filter((d) => !index || d.index === index).map((d) => d.source);
  }

  private async listen(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    this.requests.push({ method: req.method ?? '', path, authorization: req.headers.authorization, contentType: req.headers['content-type'], body });
    const send = (status: number, value: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch', ...headers });
      res.end(JSON.stringify(value));
    };
    if (this.mode === '503') return send(503, esError('unavailable_shards_exception', 'the cluster is not available', 503));
    if (this.auth !== undefined && req.headers.authorization !== this.auth) {
      const echo = this.echoAuth ? ` (got: ${req.headers.authorization ?? 'none'})` : '';
      return send(401, esError('security_exception', `unable to authenticate with provided credentials and anonymous access is not allowed for this request${echo}`, 401), { 'www-authenticate': 'ApiKey, Basic realm="security" charset="UTF-8"' });
    }
    const bad = (reason: string) => {
      this.problems.push(`${req.method} ${path}: ${reason}`);
      send(400, esError('illegal_argument_exception', reason, 400));
    };
    if (req.method === 'POST' && path === '/_bulk') return this.bulk(req, body, send, bad);
    const tpl = /^\/_index_template\/([^/]+)$/.exec(path);
    if (req.method === 'PUT' && tpl) return this.putTemplate(decodeURIComponent(tpl[1]), body, send, bad);
    const search = /^\/([^/]+)\/_search$/.exec(path);
    if ((req.method === 'POST' || req.method === 'GET') && search) return this.search(decodeURIComponent(search[1]), body, send, bad);
    bad(`no handler for ${req.method} ${path}`);
  }

  private bulk(req: IncomingMessage, body: string, send: (s: number, v: unknown) => void, bad: (r: string) => void): void {
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/x-ndjson(;|$)/.test(type)) return bad(`Content-Type must be application/x-ndjson, got "${type}"`);
    if (!body.endsWith('\n')) return bad('The bulk request must be terminated by a newline [\\n]');
    const lines = body.slice(0, -1).split('\n');
    const items: unknown[] = [];
    let errors = false;
    for (let i = 0; i < lines.length; i++) {
      let action: Record<string, Record<string, unknown>>;
      try {
        action = JSON.parse(lines[i]) as typeof action;
      } catch {
        return bad(`Malformed action/metadata line [${i + 1}], expected START_OBJECT`);
      }
      const keys = Object.keys(action);
      if (keys.length !== 1 || !['create', 'index', 'update', 'delete'].includes(keys[0])) return bad(`Malformed action/metadata line [${i + 1}], expected one of create, index, update, delete`);
      const op = keys[0];
      const meta = action[op];
      if (op === 'delete') return bad('this fake takes no delete actions');
      const sourceLine = lines[++i];
      if (sourceLine === undefined || sourceLine === '') return bad(`action [${op}] on line ${i} has no source line`);
      const source = JSON.parse(sourceLine) as Record<string, unknown>;
      const index = meta._index as string | undefined;
      const id = meta._id as string | undefined;
      if (!index) return bad(`line ${i}: _index is missing (and no index in the path)`);
      const item = this.bulkItem(op, index, id, source);
      if ((item.status as number) >= 300) errors = true;
      items.push({ [op]: item });
    }
    send(200, { took: 3, errors, items });
  }

  private bulkItem(op: string, index: string, id: string | undefined, source: Record<string, unknown>): Record<string, unknown> {
    const backing = `.ds-${index}-2026.01.01-000001`;
    const fail = (status: number, type: string, reason: string) => ({ _index: backing, _id: id ?? null, status, error: { type, reason, index_uuid: 'aAsFqTI0Tc2W0LCWgPNrOA', shard: '0', index: backing } });
    const template = this.resolve(index);
    if (!template?.dataStream) return fail(404, 'index_not_found_exception', `no such index [${index}]`);
    this.streams.set(index, template.name);
    if (op !== 'create') return fail(400, 'illegal_argument_exception', `only write ops with an op_type of create are allowed in data streams`);
    if (typeof source['@timestamp'] !== 'string') return fail(400, 'document_parsing_exception', '[1:2] failed to parse: data stream timestamp field [@timestamp] is missing');
    const docId = id ?? `auto-${this.arrivals.length + 1}`;
    const attempt = (this.attempts.get(docId) ?? 0) + 1;
    this.attempts.set(docId, attempt);
    const injected = this.failItem(docId, source, attempt);
    if (injected) return fail(injected.status, injected.type, injected.reason);
    if (this.docs.has(docId)) return fail(409, 'version_conflict_engine_exception', `[${docId}]: version conflict, document already exists (current version [1])`);
    this.docs.set(docId, { index, id: docId, source });
    this.arrivals.push(docId);
    return { _index: backing, _id: docId, _version: 1, result: 'created', _shards: { total: 2, successful: 1, failed: 0 }, _seq_no: this.arrivals.length - 1, _primary_term: 1, status: 201 };
  }

  private resolve(index: string): Template | undefined {
    const known = this.streams.get(index);
    if (known) return this.templates.get(known) ?? (known === 'logs' ? BUILTIN_LOGS : undefined);
    return [...this.templates.values(), BUILTIN_LOGS].filter((t) => t.patterns.some((p) => glob(p).test(index))).sort((a, b) => b.priority - a.priority)[0];
  }

  private putTemplate(name: string, body: string, send: (s: number, v: unknown) => void, bad: (r: string) => void): void {
    let t: Record<string, unknown>;
    try {
      t = JSON.parse(body) as typeof t;
    } catch {
      return bad('request body is required and must be JSON');
    }
    const patterns = typeof t.index_patterns === 'string' ? [t.index_patterns] : t.index_patterns;
    if (!Array.isArray(patterns) || patterns.length === 0 || !patterns.every((p) => typeof p === 'string')) return bad('index_patterns is missing');
    if (t.data_stream !== undefined && (typeof t.data_stream !== 'object' || t.data_stream === null)) return bad('data_stream must be an object');
    const priority = t.priority ?? 0;
    if (!Number.isInteger(priority) || (priority as number) < 0) return bad('priority must be a non-negative integer');
    for (const key of Object.keys(t)) if (!['index_patterns', 'data_stream', 'priority', 'template', 'composed_of', 'version', '_meta', 'allow_auto_create'].includes(key)) return bad(`unknown key [${key}] in the template`);
    const props = ((t.template as { mappings?: { properties?: Record<string, { type?: string }> } } | undefined)?.mappings?.properties) ?? {};
    if (t.data_stream && !['date', 'date_nanos'].includes(props['@timestamp']?.type ?? '')) return bad('data stream timestamp field [@timestamp] of type [date] is required in the mappings');
    if (priority === BUILTIN_LOGS.priority && patterns.some((p) => glob('logs-*-*').test(String(p).replace(/\*/g, 'x')))) {
      return bad(`index template [${name}] has index patterns ${JSON.stringify(patterns)} matching patterns from existing templates [logs] with patterns (logs => [logs-*-*]) that have the same priority [100]`);
    }
    this.templates.set(name, { name, patterns: patterns as string[], priority: priority as number, dataStream: Boolean(t.data_stream), body: t });
    send(200, { acknowledged: true });
  }

  /** Only what the verifier asks: everything sorted by event.sequence then event.id, paged by search_after. */
  private search(index: string, body: string, send: (s: number, v: unknown) => void, bad: (r: string) => void): void {
    const q = (body ? JSON.parse(body) : {}) as { size?: number; sort?: unknown; search_after?: [number, string] };
    if (JSON.stringify(q.sort) !== JSON.stringify([{ 'event.sequence': 'asc' }, { 'event.id': 'asc' }])) return bad(`this fake sorts only by event.sequence, event.id; got ${JSON.stringify(q.sort)}`);
    if (q.search_after !== undefined && (!Array.isArray(q.search_after) || q.search_after.length !== 2)) return bad('search_after must hold one value per sort field');
    const size = q.size ?? 10;
    const key = (s: Record<string, unknown>): [number, string] => [Number((s.event as { sequence: number }).sequence), String((s.event as { id: string }).id)];
    const cmp = (a: [number, string], b: [number, string]) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);
    const all = [...this.docs.values()].filter((d) => d.index === index).sort((a, b) => cmp(key(a.source), key(b.source)));
    const after = q.search_after;
    const page = (after ? all.filter((d) => cmp(key(d.source), after) > 0) : all).slice(0, size);
    send(200, { took: 1, timed_out: false, hits: { total: { value: all.length, relation: 'eq' }, hits: page.map((d) => ({ _index: `.ds-${index}-2026.01.01-000001`, _id: d.id, _score: null, _source: d.source, sort: key(d.source) })) } });
  }
}

function esError(type: string, reason: string, status: number): unknown {
  return { error: { root_cause: [{ type, reason }], type, reason }, status };
}
