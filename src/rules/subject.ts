// Who a detection is about. By default: the object that changed, the object
// an Event is about, or what an alert's labels name (pod, deployment, node,
// namespace), so repeats of the same failure share one fingerprint.
import type { Signal, Subject } from './types.ts';

export function defaultSubject(signal: Signal, ruleName: string): Subject {
  const cluster = signal.cluster;
  if (signal.source === 'event' && signal.event) {
    const io = signal.event.involvedObject ?? {};
    return { cluster, kind: io.kind ?? 'Unknown', name: io.name ?? '', ...(io.namespace ? { namespace: io.namespace } : {}), ...(io.uid ? { uid: io.uid } : {}) };
  }
  if (signal.object) {
    const m = signal.object.metadata;
    return { cluster, kind: signal.object.kind ?? 'Unknown', name: m.name ?? '', ...(m.namespace ? { namespace: m.namespace } : {}), ...(m.uid ? { uid: m.uid } : {}) };
  }
  if (signal.alert) {
    const l = signal.alert.labels;
    const ns = l.namespace ? { namespace: l.namespace } : {};
    if (l.pod) return { cluster, kind: 'Pod', name: l.pod, ...ns };
    if (l.deployment) return { cluster, kind: 'Deployment', name: l.deployment, ...ns };
    if (l.node) return { cluster, kind: 'Node', name: l.node };
    return { cluster, kind: 'Alert', name: l.alertname ?? 'alert', ...ns };
  }
  if (signal.webhook) return { cluster, kind: 'Webhook', name: signal.webhook.name };
  return { cluster, kind: 'Rule', name: ruleName };
}

/** Identity of a subject across its lifetime: not the uid, so a recreated pod with the same name is the same subject. */
export function subjectKey(s: Subject): string {
  return [s.cluster, s.kind, s.namespace ?? '', s.name].join('/');
}
