// A local HTTP server that answers like Jira's REST API, checking requests
// the way Atlassian documents them:
// - GET {context}/rest/api/2/issue/{key}: the issue with fields.status and
//   fields.summary; an unknown key is 404 {"errorMessages":["Issue Does Not
//   Exist"],"errors":{}}; missing or wrong credentials are 401.
// - POST /rest/api/2/issue/{key}/comment {"body": "wiki text"} (Data Center /
//   Server) and POST /rest/api/3/issue/{key}/comment {"body": <ADF doc>}
//   (Cloud: the body must be a valid Atlassian Document Format document —
//   doc version 1, known block and inline nodes, non-empty text, known marks,
//   link marks with an href, code combined with nothing but a link): 201 with
//   the comment and its id; 400 {errorMessages, errors} for a bad body, 415
//   without JSON, 404 for an unknown issue.
// - GET/POST /rest/api/{2|3}/issue/{key}/transitions: the transitions the
//   issue offers; {"transition":{"id":…}} moves it (204), an id it does not
//   offer is 400.
// Faults can be queued for write requests (429 with Retry-After, 5xx).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface JiraComment {
  key: string;
  apiVersion: 2 | 3;
  body: unknown;
  id: string;
  authorization?: string;
}

export interface FakeJira {
  url: string;
  requests: { method: string; url: string; authorization?: string; body?: unknown; at: number }[];
  comments: JiraComment[];
  transitions: { key: string; id: string; to: string }[];
  /** Issues by key → status; transitions change it. */
  issues: Record<string, string>;
  /** Answers to the next write requests (comment, transition), before they are looked at. */
  faults: { status: number; retryAfter?: string }[];
  close(): Promise<void>;
}

const TRANSITIONS = [{ id: '21', name: 'Start Progress', to: 'In Progress' }, { id: '31', name: 'Resolve', to: 'Done' }];
const INLINE = new Set(['text', 'hardBreak', 'mention', 'emoji', 'inlineCard', 'date', 'status']);
const BLOCK = new Set(['paragraph', 'heading', 'bulletList', 'orderedList', 'codeBlock', 'blockquote', 'rule', 'panel', 'table', 'mediaSingle']);
const MARKS = new Set(['strong', 'em', 'code', 'link', 'strike', 'underline', 'textColor', 'subsup']);

/** Why `doc` is not a valid ADF document (undefined when it is): the checks Jira Cloud's comment endpoint applies. */
export function adfProblem(doc: unknown): string | undefined {
  const d = doc as { type?: unknown; version?: unknown; content?: unknown };
  if (!d || typeof d !== 'object' || d.type !== 'doc') return 'the body is not an ADF document (type doc)';
  if (d.version !== 1) return 'doc.version must be 1';
  if (!Array.isArray(d.content)) return 'doc.content must be an array';
  for (const b of d.content as Record<string, unknown>[]) {
    if (!b || !BLOCK.has(b.type as string)) return `unknown block node ${JSON.stringify(b?.type)}`;
    if (b.type !== 'paragraph') continue;
    if (b.content === undefined) continue;
    if (!Array.isArray(b.content)) return 'paragraph.content must be an array';
    for (const n of b.content as Record<string, unknown>[]) {
      if (!n || !INLINE.has(n.type as string)) return `unknown inline node ${JSON.stringify(n?.type)} in a paragraph`;
      if (n.type !== 'text') continue;
      if (typeof n.text !== 'string' || !n.text) return 'a text node needs a non-empty text';
      const extra = Object.keys(n).filter((k) => !['type', 'text', 'marks'].includes(k));
      if (extra.length) return `text node has unknown fields ${extra.join(', ')}`;
      if (n.marks === undefined) continue;
      if (!Array.isArray(n.marks)) return 'marks must be an array';
      const marks = n.marks as { type?: string; attrs?: { href?: unknown } }[];
      for (const m of marks) {
        if (!MARKS.has(m?.type as string)) return `unknown mark ${JSON.stringify(m?.type)}`;
        if (m.type === 'link' && (typeof m.attrs?.href !== 'string' || !m.attrs.href)) return 'a link mark needs attrs.href';
      }
      if (marks.some((m) => m.type === 'code') && marks.some((m) => m.type !== 'code' && m.type !== 'link')) return 'the code mark combines only with link';
    }
  }
  return undefined;
}

/** Issues by key → status name; a key listed in `moved` answers as its new key. */
export async function fakeJira(issues: Record<string, string>, o: { token?: string; basic?: [string, string]; moved?: Record<string, string>; context?: string } = {}): Promise<FakeJira> {
  const requests: FakeJira['requests'] = [];
  const comments: JiraComment[] = [];
  const transitions: FakeJira['transitions'] = [];
  const faults: FakeJira['faults'] = [];
  const authorised = (req: IncomingMessage) => {
    const h = req.headers.authorization;
    if (o.token) return h === `Bearer ${o.token}`;
    if (o.basic) return h === `Basic ${Buffer.from(`${o.basic[0]}:${o.basic[1]}`).toString('base64')}`;
    return true;
  };
  const api = new RegExp(`^${o.context ?? ''}/rest/api/(2|3)/issue/([^/]+)(?:/(comment|transitions))?$`);
  let nextId = 10000;
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try { body = raw ? JSON.parse(raw) : undefined; } catch { body = Symbol.for('invalid'); }
    requests.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, ...(raw ? { body } : {}), at: Date.now() });
    const send = (code: number, b?: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(code, { ...(b === undefined ? {} : { 'content-type': 'application/json;charset=UTF-8' }), ...headers });
      res.end(b === undefined ? undefined : JSON.stringify(b));
    };
    const u = new URL(req.url!, 'http://jira');
    const m = api.exec(u.pathname);
    if (!m) return send(404, { errorMessages: ['null for uri: ' + u.pathname], errors: {} });
    const version = Number(m[1]) as 2 | 3;
    const key = decodeURIComponent(m[2]);
    const sub = m[3];
    if (!authorised(req)) return send(401, { errorMessages: ['You are not authenticated. Authentication required to perform this operation.'], errors: {} });
    const write = req.method === 'POST';
    if (write) {
      const fault = faults.shift();
      if (fault) return send(fault.status, { errorMessages: [fault.status === 429 ? 'Rate limit exceeded.' : 'Internal server error'], errors: {} }, fault.retryAfter ? { 'retry-after': fault.retryAfter } : {});
      if (!String(req.headers['content-type']).startsWith('application/json')) return send(415, { errorMessages: ['Unsupported Media Type'], errors: {} });
      if (typeof body === 'symbol') return send(400, { errorMessages: ['Unexpected character: the body is not JSON'], errors: {} });
    }
    const actual = o.moved?.[key] ?? key;
    const status = issues[actual];
    if (!sub) {
      if (req.method !== 'GET') return send(405, { errorMessages: ['Method Not Allowed'], errors: {} });
      if (status === undefined) return send(404, { errorMessages: ['Issue Does Not Exist'], errors: {} });
      return send(200, {
        expand: 'renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations',
        id: '10002', self: `http://jira/rest/api/${version}/issue/10002`, key: actual,
        fields: { summary: `Change ${actual}`, status: { self: 'http://jira/rest/api/2/status/10001', description: '', name: status, id: '10001', statusCategory: { id: 3, key: 'done', colorName: 'green', name: 'Done' } } },
      });
    }
    if (status === undefined) return send(404, { errorMessages: ['Issue does not exist or you do not have permission to see it.'], errors: {} });
    if (sub === 'comment') {
      if (!write) return send(200, { startAt: 0, maxResults: 50, total: comments.filter((c) => c.key === actual).length, comments: comments.filter((c) => c.key === actual) });
      const b = (body ?? {}) as { body?: unknown };
      if (version === 2 && (typeof b.body !== 'string' || !b.body.trim())) return send(400, { errorMessages: [], errors: { comment: typeof b.body === 'string' ? 'Comment body can not be empty!' : 'Can not deserialize: the comment body must be a string of wiki markup.' } });
      if (version === 3) {
        const problem = adfProblem(b.body);
        if (problem) return send(400, { errorMessages: ['INVALID_INPUT'], errors: { comment: `Comment body is not valid! ${problem}` } });
      }
      const id = String(nextId++);
      comments.push({ key: actual, apiVersion: version, body: b.body, id, authorization: req.headers.authorization });
      return send(201, { self: `http://jira/rest/api/${version}/issue/10002/comment/${id}`, id, author: { name: 'kubemend' }, body: b.body, created: '2024-01-01T00:00:00.000+0000', updated: '2024-01-01T00:00:00.000+0000' });
    }
    const offered = TRANSITIONS.filter((t) => t.to !== status);
    if (!write) return send(200, { expand: 'transitions', transitions: offered.map((t) => ({ id: t.id, name: t.name, to: { name: t.to, id: `1000${t.id}` }, hasScreen: false })) });
    const id = (body as { transition?: { id?: unknown } } | undefined)?.transition?.id;
    const t = offered.find((x) => x.id === id);
    if (!t) return send(400, { errorMessages: [`Transition id '${String(id)}' is not valid for this issue.`], errors: {} });
    issues[actual] = t.to;
    transitions.push({ key: actual, id: t.id, to: t.to });
    return send(204);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${o.context ?? ''}`,
    requests, comments, transitions, issues, faults,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
