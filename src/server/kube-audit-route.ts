// POST /webhooks/kubernetes-audit[/<cluster>]: the Kubernetes API server's
// audit webhook (kube-apiserver --audit-webhook-config-file, whose kubeconfig
// carries the bearer token). Each batch is an audit.k8s.io/v1 EventList; its
// completed writes go to the incident tracker's audit trail, which names the
// user behind each change in the change feed. Registered inside the webhooks
// plugin, so refusals are counted and audited like every other webhook's.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { checkEventList, type KubeAuditTrail } from '../incidents/index.ts';

export interface KubeAuditRouteOptions {
  /** Callers send `Authorization: Bearer <token>` (the token of the webhook kubeconfig's user). */
  bearerToken: string;
  /** Where the events go. */
  trail: KubeAuditTrail;
  /** The cluster of /webhooks/kubernetes-audit (default: the first of `clusters`). */
  cluster?: string;
  /** The clusters /webhooks/kubernetes-audit/<cluster> accepts. */
  clusters: string[];
  /** Events in one batch; more get 413 (kube-apiserver's --audit-webhook-batch-max-size should be at most this). Default 1000. */
  maxEvents?: number;
  /** Largest body in bytes (a batch of 400 events at level Metadata is under 1 MiB). Default 8 MiB. */
  bodyLimit?: number;
}

export const KUBE_AUDIT_ROUTE = 'kubernetes-audit';
export const DEFAULT_MAX_AUDIT_EVENTS = 1000;
export const DEFAULT_AUDIT_BODY_LIMIT = 8 * 1024 * 1024;

type Refuse = (req: FastifyRequest, reply: FastifyReply, code: number, reason: string, body: Record<string, unknown>) => FastifyReply;
type Hook = (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/** The routes; `guard` checks the bearer token, `unsupported` answers a missing body, `refuse` answers (and records) a refusal. */
export function registerKubeAudit(app: FastifyInstance, o: KubeAuditRouteOptions, h: { guard: Hook; refuse: Refuse; unsupported: (req: FastifyRequest, reply: FastifyReply) => FastifyReply }): void {
  if (!o.bearerToken) throw new Error('internal: the Kubernetes audit webhook needs a bearer token');
  const fallback = o.cluster ?? o.clusters[0];
  if (!fallback) throw new Error('internal: the Kubernetes audit webhook needs a cluster');
  const maxEvents = o.maxEvents ?? DEFAULT_MAX_AUDIT_EVENTS;
  const bodyLimit = o.bodyLimit ?? DEFAULT_AUDIT_BODY_LIMIT;
  const receive = (cluster: string) => async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.body === undefined) return h.unsupported(req, reply);
    const list = checkEventList(req.body, maxEvents);
    if (!list.ok) return h.refuse(req, reply, list.status, list.reason, { error: list.error });
    const { kept, ignored } = o.trail.add(cluster, list.items);
    return { accepted: list.items.length, kept, ignored };
  };
  app.post(`/webhooks/${KUBE_AUDIT_ROUTE}`, { onRequest: h.guard, bodyLimit }, (req, reply) => receive(fallback)(req, reply));
  app.post<{ Params: { cluster: string } }>(`/webhooks/${KUBE_AUDIT_ROUTE}/:cluster`, {
    bodyLimit,
    // The token first: a caller without it learns nothing about which clusters exist.
    onRequest: [h.guard, async (req, reply) => {
      const { cluster } = req.params as { cluster: string };
      if (!o.clusters.includes(cluster)) return h.refuse(req, reply, 404, 'unknown_cluster', { error: `no cluster named "${cluster.slice(0, 100)}"` });
    }],
  }, (req, reply) => receive(req.params.cluster)(req, reply));
}
