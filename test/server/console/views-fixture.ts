// The console's views over HTTP on real parts: the chat fixture (a sandbox
// served over HTTP, a SQLite store, the chat engine and executor) behind
// createApp with the console adapter, the views' services and refusals
// audited — as `serve` wires them. Users sign in with bearer tokens, or with
// a cookie session and its CSRF token.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Authorizer, parseCsvPolicy } from '../../../src/authz/index.ts';
import { createApp, type KubemendServer } from '../../../src/server/app.ts';
import { auditRefusals } from '../../../src/server/refusal-audit.ts';
import { chatRunbooks } from '../../../src/chat/operations.ts';
import { ACTIONS, loadRunbooks } from '../../../src/runbooks/index.ts';
import { realClock } from '../../../src/common/index.ts';
import { chatFixture, type ChatFixture } from '../../chat/fixture.ts';

export const ROOM = 'ops';
/** The chat fixture's policy, with readers of the audit log: SREs (by their *) and auditors, who may not read prod's. */
export const POLICY = `
p, group:shop, sandbox, shop, ops, *
p, group:sre, sandbox, *, ops, *
p, group:sre-leads, sandbox, prod, ops, approve
p, group:auditors, sandbox, *, ops, audit
p, group:auditors, sandbox, prod, ops, audit, deny
g, dave, group:sre-leads
`;

/** Console users: sam asks (sre, sre-leads), dave approves (sre; sre-leads by the policy), carol works on shop, ivy audits, mallory may do nothing. */
export const USERS = {
  sam: ['sre', 'sre-leads'],
  dave: ['sre'],
  carol: ['shop'],
  ivy: ['auditors'],
  mallory: [],
} as const;
export type Who = keyof typeof USERS;
const token = (u: Who) => `${u}-console-token-0123456789`;

/** A runbook with an approval step before it notifies, on prod/web. */
const GATED = `apiVersion: kubemend.dev/v1alpha1
kind: Runbook
metadata: { name: gated-notify }
spec:
  target: { cluster: sandbox, kind: Deployment, namespace: prod, name: web }
  steps:
    - id: approve
      action: approval
      with: { group: sre-leads, summary: "tell the owners about prod/web", timeout: 30m }
      timeout: 1h
    - id: tell
      action: notify
      with: { channel: default, title: "prod/web", text: "approved" }
`;

export interface ViewsFixture {
  f: ChatFixture;
  server: KubemendServer;
  base: string;
  get(u: Who, path: string): Promise<{ status: number; body: any; text: string; headers: Headers }>;
  post(u: Who, path: string, body: unknown): Promise<{ status: number; body: any }>;
  /** A chat command typed in the console by `u`: the texts of the replies. */
  say(u: Who, text: string): Promise<string[]>;
  /** A cookie session: its cookie and CSRF token. */
  login(u: Who): Promise<{ cookie: string; csrf: string }>;
  close(): Promise<void>;
}

export async function viewsFixture(): Promise<ViewsFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'km-console-views-'));
  writeFileSync(join(dir, 'gated.yaml'), GATED);
  const gated = loadRunbooks(dir, { actions: ACTIONS });
  const f = await chatFixture({ policy: POLICY, runbooks: gated });
  const authorizer = await Authorizer.fromPolicy(parseCsvPolicy('test-policy.csv', POLICY));
  const server = await createApp({
    engine: f.engine,
    console: { room: ROOM, users: Object.entries(USERS).map(([name, groups]) => ({ name, groups: [...groups], token: token(name as Who) })) },
    consoleServices: {
      store: f.store, clock: f.sandbox.clock, authorizer, clusters: ['sandbox'], livePollMs: 100,
      runbooks: () => [...chatRunbooks(), ...gated],
      runbookApprovals: () => f.engine.pendingRunbookApprovals(),
    },
    refusals: auditRefusals(f.store.audit, { clock: realClock }),
  });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(server.app.server.address() as { port: number }).port}`;
  const auth = (u: Who) => ({ authorization: `Bearer ${token(u)}` });
  return {
    f, server, base,
    async get(u, path) {
      const res = await fetch(`${base}/console/api/v1/${path}`, { headers: auth(u) });
      const text = await res.text();
      let body: unknown;
      try { body = JSON.parse(text); } catch { body = undefined; }
      return { status: res.status, body, text, headers: res.headers };
    },
    async post(u, path, body) {
      const res = await fetch(`${base}/console/api/v1/${path}`, { method: 'POST', headers: { ...auth(u), 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, body: await res.json() };
    },
    async say(u, text) {
      const res = await fetch(`${base}/console/api/messages`, { method: 'POST', headers: { ...auth(u), 'content-type': 'application/json' }, body: JSON.stringify({ text }) });
      return ((await res.json()) as { replies: { text: string }[] }).replies.map((r) => r.text);
    },
    async login(u) {
      const res = await fetch(`${base}/console/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base }, body: JSON.stringify({ token: token(u) }) });
      const cookie = res.headers.get('set-cookie')!.split(';')[0];
      return { cookie, csrf: ((await res.json()) as { csrf: string }).csrf };
    },
    async close() {
      await server.app.close();
      await f.close();
    },
  };
}

/** Refusals of console requests in the audit log (the recorder appends them in the background). */
export async function refusals(f: ChatFixture, detail: RegExp): Promise<number> {
  return (await f.store.audit.list({ action: 'chat.request.refused' })).filter((r) => r.data?.reason === 'forbidden' && detail.test(String(r.data?.detail))).length;
}
