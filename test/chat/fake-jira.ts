// A local HTTP server that answers like Jira's REST API v2 for issue reads:
// GET {context}/rest/api/2/issue/{key} returns the issue with fields.status
// and fields.summary; an unknown key is 404 {"errorMessages":["Issue Does Not
// Exist"],"errors":{}}; missing or wrong credentials are 401.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeJira {
  url: string;
  requests: { method: string; url: string; authorization?: string }[];
  close(): Promise<void>;
}

/** Issues by key → status name; a key listed in `moved` answers as its new key. */
export async function fakeJira(issues: Record<string, string>, o: { token?: string; basic?: [string, string]; moved?: Record<string, string>; context?: string } = {}): Promise<FakeJira> {
  const requests: FakeJira['requests'] = [];
  const authorised = (req: IncomingMessage) => {
    const h = req.headers.authorization;
    if (o.token) return h === `Bearer ${o.token}`;
    if (o.basic) return h === `Basic ${Buffer.from(`${o.basic[0]}:${o.basic[1]}`).toString('base64')}`;
    return true;
  };
  const prefix = `${o.context ?? ''}/rest/api/2/issue/`;
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization });
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json;charset=UTF-8' });
      res.end(JSON.stringify(body));
    };
    const u = new URL(req.url!, 'http://jira');
    if (req.method !== 'GET' || !u.pathname.startsWith(prefix)) return send(404, { errorMessages: ['null for uri: ' + u.pathname], errors: {} });
    if (!authorised(req)) return send(401, { errorMessages: ['You are not authenticated. Authentication required to perform this operation.'], errors: {} });
    const key = decodeURIComponent(u.pathname.slice(prefix.length));
    const actual = o.moved?.[key] ?? key;
    const status = issues[actual];
    if (status === undefined) return send(404, { errorMessages: ['Issue Does Not Exist'], errors: {} });
    send(200, {
      expand: 'renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations',
      id: '10002',
      self: `http://jira/rest/api/2/issue/10002`,
      key: actual,
      fields: { summary: `Change ${actual}`, status: { self: 'http://jira/rest/api/2/status/10001', description: '', name: status, id: '10001', statusCategory: { id: 3, key: 'done', colorName: 'green', name: 'Done' } } },
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${o.context ?? ''}`,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
