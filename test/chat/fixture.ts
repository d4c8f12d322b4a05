// The chat engine wired to a sandbox served over HTTP and a SQLite store in
// a temp directory, with a policy and settings written for the tests:
// namespace shop is not production, namespace prod is. Messages go in as
// they would from an adapter; synchronous and asynchronous replies are kept.
import type { LoadedRunbook } from '../../src/runbooks/loader.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { openStore, type SqlStore } from '../../src/store/index.ts';
import { Authorizer, parseCsvPolicy } from '../../src/authz/index.ts';
import { KubeHttp } from '../../src/kube/http.ts';
import { Sandbox, type SandboxOptions } from '../../src/sandbox/cluster.ts';
import { chatSettings, type ChatSettingsInput } from '../../src/chat/settings.ts';
import { buildChatEngine } from '../../src/chat/wiring.ts';
import { chatRunbooks } from '../../src/chat/operations.ts';
import type { KubemendChatEngine } from '../../src/chat/engine.ts';
import { buildRemediation, IncidentSink, incidentDesk, type Remediation } from '../../src/pipeline/index.ts';
import type { TicketChecker } from '../../src/chat/justification.ts';
import type { ConsoleLinks } from '../../src/common/index.ts';
import type { ChatReply, ChatUser } from '../../src/chat/types.ts';
import { deployment, IMAGES, rolledOut, until } from '../runbooks/actions-fixture.ts';

export { until, rolledOut };

export const POLICY = `
p, group:shop, sandbox, shop, ops, *
p, group:sre, sandbox, *, ops, *
p, group:sre-leads, sandbox, prod, ops, approve
p, group:sre-leads, sandbox, prod, approvals, approve
g, dave, group:sre-leads
`;

/** A mapped user of the test platform, as an adapter would build it. */
export function mapped(id: string, name: string, groups: string[] = []): ChatUser {
  return { platform: 'test', id, displayName: name, name, groups, mapping: 'mapped' };
}

export const USERS: Record<string, ChatUser> = {
  alice: mapped('U-ALICE', 'alice', ['shop']),
  sam: mapped('U-SAM', 'sam', ['sre', 'sre-leads']),
  dave: mapped('U-DAVE', 'dave', ['sre']),
  erin: mapped('U-ERIN', 'erin', ['sre']),
  mallory: mapped('U-MAL', 'mallory'),
};

/** A ticket the fixture's settings know as Approved: a link that justifies without a tracker or an Alertmanager. */
export const LINK = 'CHG-100';

export interface ChatFixture {
  engine: KubemendChatEngine;
  remediation: Remediation;
  /** The incident tracker behind the `incident` commands (with `incidents: true`). */
  incidents?: IncidentSink;
  sandbox: Sandbox;
  store: SqlStore;
  async: ChatReply[];
  say(user: keyof typeof USERS | ChatUser, text: string, room?: string): Promise<ChatReply[]>;
  /** The request id a reply announces (first 6-character id). */
  idOf(replies: ChatReply[]): string;
  waitAsync(re: RegExp, what?: string): Promise<ChatReply>;
  close(): Promise<void>;
}

export async function chatFixture(o: {
  speed?: number; settings?: ChatSettingsInput; tickets?: TicketChecker; policy?: string; runbooks?: LoadedRunbook[];
  /** The environment the wiring reads credentials from (Jira tokens); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** More sandbox options (rbac: 'enforce'). */
  sandbox?: Partial<SandboxOptions>;
  /** The kubeconfig kubemend talks to the sandbox with, once the workloads are up (default: the sandbox's administrator). */
  kubeconfig?: (sandbox: Sandbox) => Promise<string>;
  /** An incident tracker on the same store and clock, as the pipeline wires it for chat. */
  incidents?: boolean;
  /** Links into the web console (server.publicUrl). */
  links?: ConsoleLinks;
} = {}): Promise<ChatFixture> {
  const sandbox = new Sandbox({ speed: o.speed ?? 50, images: IMAGES, ...o.sandbox });
  await sandbox.listen();
  sandbox.apply([
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'prod' } },
    deployment('web', 'shop/web:1', { namespace: 'shop', replicas: 3 }),
    deployment('web', 'shop/web:1', { namespace: 'prod', replicas: 2 }),
  ]);
  await until(() => rolledOut(sandbox, 'shop', 'web') && rolledOut(sandbox, 'prod', 'web'), 'web rolled out in shop and prod');
  const kc = new KubeConfig();
  kc.loadFromString(o.kubeconfig ? await o.kubeconfig(sandbox) : sandbox.kubeconfig());
  const kube = new KubeHttp(kc);
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-chat-')), clock: sandbox.clock });
  const settings = chatSettings({
    defaultCluster: 'sandbox',
    production: [{ cluster: 'sandbox', namespaces: ['prod'] }],
    approval: { groups: ['sre-leads'], timeout: '30m', room: 'approvals' },
    justification: { tickets: { [LINK]: 'Approved' } },
    ...o.settings,
  });
  const authorizer = await Authorizer.fromPolicy(parseCsvPolicy('test-policy.csv', o.policy ?? POLICY));
  const kubeOf = (c: string) => (c === 'sandbox' ? kube : undefined);
  // The same parts the pipeline assembles for chat: one executor with the chat runbooks; approvals decided in chat.
  const remediation = buildRemediation({ store, clock: sandbox.clock, runbooks: [...chatRunbooks(), ...(o.runbooks ?? [])], kube: kubeOf, approvers: () => true, auto: false });
  const incidents = o.incidents ? new IncidentSink({ store, clock: sandbox.clock, lookup: () => undefined, podsAtStart: () => [] }) : undefined;
  const engine = buildChatEngine({ store, clock: sandbox.clock, settings, executor: remediation.executor, approvals: remediation.approvals, kube: kubeOf, clusters: ['sandbox'], authorizer, tickets: o.tickets, incidents: incidents && incidentDesk(incidents, store), env: o.env, links: o.links });
  await engine.start();
  const wiring = { engine, remediation, incidents };
  const async: ChatReply[] = [];
  wiring.engine.onAsyncReply((r) => async.push(r));
  return {
    ...wiring,
    sandbox,
    store,
    async,
    // A fresh user object per message, as the adapters build them: nothing may hinge on object identity.
    say: (user, text, room = 'ops') => wiring.engine.handle({ adapter: 'test', room, user: structuredClone(typeof user === 'string' ? USERS[user] : user), text, time: sandbox.clock.now() }),
    idOf(replies) {
      const m = /^(?:KM-CHAT-\d{3} )?([a-z2-9]{6})\b/m.exec(replies.map((r) => r.text).join('\n'));
      if (!m) throw new Error(`no request id in ${JSON.stringify(replies)}`);
      return m[1];
    },
    async waitAsync(re, what) {
      let hit: ChatReply | undefined;
      await until(() => Boolean((hit = async.find((r) => re.test(r.text)))), what ?? `an async reply matching ${re}`, 20_000);
      return hit!;
    },
    async close() {
      wiring.engine.stop();
      await wiring.engine.idle();
      await incidents?.stop();
      wiring.remediation.executor.cancelAll();
      await wiring.remediation.executor.idle();
      await store.close();
      await sandbox.stop();
    },
  };
}
