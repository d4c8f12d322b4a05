// The console's views over HTTP: createApp with the real chat engine, an
// incident tracker and a SQLite store (test/chat/fixture.ts), the console
// adapter in room ops, refusals audited into the store's log. Two users:
// alice (group sre: everything) and carol (group shop: reads and takes
// incidents in namespace shop only, may not silence).
import { consoleLinks, realClock } from '../../src/common/index.ts';
import { createApp } from '../../src/server/app.ts';
import { auditRefusals } from '../../src/server/refusal-audit.ts';
import { Authorizer, parseCsvPolicy } from '../../src/authz/index.ts';
import type { Detection, IncidentRecord } from '../../src/store/index.ts';
import type { ChangeEntry, IncidentData } from '../../src/incidents/index.ts';
import { chatFixture, type ChatFixture } from '../chat/fixture.ts';

export const POLICY = `
p, group:sre, sandbox, *, ops, *
p, group:shop, sandbox, shop, ops, incidents
p, group:shop, sandbox, shop, ops, incident
`;
export const TOKENS = { alice: 'alice-views-token-0123456789', carol: 'carol-views-token-0123456789' };

export interface ViewsFixture {
  f: ChatFixture;
  base: string;
  changes: ChangeEntry[];
  get(path: string, who: keyof typeof TOKENS): Promise<{ status: number; body: any }>;
  post(path: string, who: keyof typeof TOKENS, body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  /** A cookie session of `who`: its cookie and CSRF token. */
  session(who: keyof typeof TOKENS): Promise<{ cookie: string; csrf: string }>;
  close(): Promise<void>;
}

export async function viewsFixture(o: { publicUrl?: string; policy?: string } = {}): Promise<ViewsFixture> {
  const policy = o.policy ?? POLICY;
  const f = await chatFixture({ incidents: true, policy, links: consoleLinks(o.publicUrl) });
  const authorizer = await Authorizer.fromPolicy(parseCsvPolicy('views-policy.csv', policy));
  const changes: ChangeEntry[] = [];
  const server = await createApp({
    engine: f.engine,
    refusals: auditRefusals(f.store.audit, { clock: realClock }),
    console: { room: 'ops', users: [{ name: 'alice', groups: ['sre'], token: TOKENS.alice }, { name: 'carol', groups: ['shop'], token: TOKENS.carol }] },
    consoleServices: { store: f.store, clock: f.sandbox.clock, authorizer, runbooks: () => [], clusters: ['sandbox'], changes: (q) => changes.filter((c) => !q.cluster || c.cluster === q.cluster), livePollMs: 100 },
  });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(server.app.server.address() as { port: number }).port}`;
  const json = async (res: Response) => ({ status: res.status, body: await res.json().catch(() => ({})) });
  return {
    f, base, changes,
    get: async (path, who) => json(await fetch(`${base}/console/api/v1/${path}`, { headers: { authorization: `Bearer ${TOKENS[who]}` } })),
    post: async (path, who, body, headers) => json(await fetch(`${base}/console/api/v1/${path}`, {
      method: 'POST', body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...(headers ?? { authorization: `Bearer ${TOKENS[who]}` }) },
    })),
    async session(who) {
      const res = await fetch(`${base}/console/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: TOKENS[who] }) });
      return { cookie: res.headers.get('set-cookie')!.split(';')[0], csrf: ((await res.json()) as { csrf: string }).csrf };
    },
    async close() {
      await server.app.close();
      await f.close();
    },
  };
}

/** A detection of `rule` on a pod in `ns`, last seen at `t`. */
export function detection(id: string, ns: string, t: number, o: Partial<Detection> = {}): Detection {
  const subject = { cluster: 'sandbox', kind: 'Pod', namespace: ns, name: `web-${id}` };
  return {
    id, rule: 'crashloop', cluster: 'sandbox', subject, fingerprint: `fp-${id}`, severity: 'warning', summary: `web-${id} restarts`,
    labels: { rule: 'crashloop', cluster: 'sandbox', namespace: ns, kind: 'Pod', name: subject.name, severity: 'warning' },
    firstSeen: t - 1000, lastSeen: t, count: 1, status: 'open', notifications: 0,
    evidence: [{ time: t, type: 'event', summary: 'Back-off restarting failed container', event: { reason: 'BackOff', message: 'Back-off restarting failed container web', type: 'Warning', count: 3, involvedObject: `Pod/${ns}/web-${id}` } }],
    ...o,
  };
}

/** An incident in `ns` opened at `t`, with one detection and one change (by kubectl-edit, outside the pipeline). */
export function incident(id: string, ns: string, t: number, o: Partial<IncidentRecord> = {}): IncidentRecord {
  const change: ChangeEntry = {
    seq: 1, time: t - 5000, cluster: 'sandbox', object: { kind: 'Deployment', namespace: ns, name: 'web' }, operation: 'update', category: 'image',
    summary: 'image web:1 → web:2 (container web)', changes: [{ path: 'spec.template.spec.containers[web].image', old: 'web:1', new: 'web:2' }],
    author: { manager: 'kubectl-edit', time: t - 5000, from: 'managedFields', user: 'mallory' }, outsidePipeline: true,
  };
  const data: IncidentData = {
    version: 1, lastActivityAt: t, entities: [`ns:${ns}`, `workload:Deployment/${ns}/web`],
    detections: [{ id: `d-${id}`, rule: 'crashloop', subject: { kind: 'Pod', namespace: ns, name: `web-${id}` }, severity: 'warning', summary: 'restarts', firstSeen: t, lastSeen: t, count: 1, status: 'open', joinedVia: 'opened', joinedAt: t, reasons: ['BackOff'] }],
    changes: [change], observations: [], placements: [],
    guardrails: [{ id: 'single-replica', severity: 'medium', title: 'A single replica', subjects: [`Deployment/${ns}/web`], detail: 'one pod serves everything', fix: { text: 'run two', yaml: 'spec:\n  replicas: 2' } }],
    guardrailsSkipped: [],
  };
  return { id, title: `web in ${ns} crash-loops`, cluster: 'sandbox', status: 'open', severity: 'warning', openedAt: t, detectionIds: [`d-${id}`], data: data as unknown as Record<string, unknown>, ...o };
}
