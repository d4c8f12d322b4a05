// Audit events as kube-apiserver's audit webhook sends them (audit.k8s.io/v1,
// level Metadata): what a `kubectl set image` by a person looks like at both
// stages, next to the controllers' traffic and a failed write.
const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z'); // microseconds, as the API server writes them

export interface AuditEventInput {
  id: string;
  at: number;
  verb: string;
  user: string;
  resource: string;
  apiGroup?: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  stage?: string;
  code?: number;
  userAgent?: string;
  fieldManager?: string;
  impersonate?: string;
  groups?: string[];
}

export function auditEvent(e: AuditEventInput): Record<string, unknown> {
  const group = e.apiGroup ? `/apis/${e.apiGroup}/v1` : '/api/v1';
  const path = `${group}${e.namespace ? `/namespaces/${e.namespace}` : ''}/${e.resource}${e.name && e.verb !== 'create' ? `/${e.name}` : ''}${e.subresource ? `/${e.subresource}` : ''}`;
  const stage = e.stage ?? 'ResponseComplete';
  return {
    level: 'Metadata',
    auditID: e.id,
    stage,
    requestURI: `${path}${e.fieldManager ? `?fieldManager=${e.fieldManager}` : ''}`,
    verb: e.verb,
    user: { username: e.user, groups: e.groups ?? ['system:authenticated'] },
    ...(e.impersonate ? { impersonatedUser: { username: e.impersonate, groups: ['system:authenticated'] } } : {}),
    sourceIPs: ['10.0.4.7'],
    userAgent: e.userAgent ?? 'kubectl/v1.32.0 (linux/amd64) kubernetes/70d3cc9',
    objectRef: {
      resource: e.resource,
      ...(e.namespace ? { namespace: e.namespace } : {}),
      ...(e.name ? { name: e.name } : {}),
      ...(e.apiGroup ? { apiGroup: e.apiGroup } : {}),
      apiVersion: 'v1',
      ...(e.subresource ? { subresource: e.subresource } : {}),
    },
    ...(stage === 'ResponseComplete' ? { responseStatus: { metadata: {}, ...(e.code && e.code >= 400 ? { status: 'Failure', reason: 'Conflict' } : {}), code: e.code ?? 200 } } : {}),
    requestReceivedTimestamp: iso(e.at - 37),
    stageTimestamp: iso(e.at),
    annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': 'RBAC: allowed by ClusterRoleBinding "sre" of ClusterRole "edit" to Group "sre"' },
  };
}

export function eventList(items: Record<string, unknown>[]): Record<string, unknown> {
  return { kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items };
}

/** A batch around `kubectl set image` on shop/checkout by alice at `at`: both stages, plus traffic that is not a change. */
export function setImageBatch(at: number): Record<string, unknown>[] {
  const d = { resource: 'deployments', apiGroup: 'apps', namespace: 'shop', name: 'checkout' };
  const kcm = 'kube-controller-manager/v1.32.0 (linux/amd64) kubernetes/70d3cc9/system:serviceaccount:kube-system:deployment-controller';
  return [
    auditEvent({ id: 'a-1', at: at - 30, verb: 'patch', user: 'alice@example.com', groups: ['sre', 'system:authenticated'], fieldManager: 'kubectl-set', stage: 'RequestReceived', ...d }),
    auditEvent({ id: 'a-1', at, verb: 'patch', user: 'alice@example.com', groups: ['sre', 'system:authenticated'], fieldManager: 'kubectl-set', ...d }),
    auditEvent({ id: 'a-2', at: at + 5, verb: 'get', user: 'system:kube-controller-manager', userAgent: kcm, ...d }),
    auditEvent({ id: 'a-3', at: at + 40, verb: 'update', user: 'system:serviceaccount:kube-system:deployment-controller', userAgent: kcm, subresource: 'status', ...d }),
    auditEvent({ id: 'a-4', at: at + 60, verb: 'patch', user: 'bob@example.com', fieldManager: 'kubectl-edit', code: 409, ...d }),
    auditEvent({ id: 'a-5', at: at + 80, verb: 'create', user: 'system:serviceaccount:kube-system:replicaset-controller', userAgent: kcm, resource: 'pods', namespace: 'shop', name: 'checkout-7d9f-abcde' }),
  ];
}
