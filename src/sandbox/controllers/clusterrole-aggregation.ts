// kube-controller-manager's clusterrole-aggregation controller
// (pkg/controller/clusterroleaggregation): a ClusterRole with an
// aggregationRule holds the rules of every other ClusterRole its selectors
// match — matched roles by name, rules in order, each rule once — written by
// server-side apply as `clusterrole-aggregation-controller` with force, so
// the rules written to it by hand are replaced. Like the real one it queues
// every aggregating role on any ClusterRole change, since the set is small
// and the dependency graph unknown (view aggregates into edit, edit into
// admin: a change to view reaches admin in two passes).
import { applyConfiguration } from '../server/managed.ts';
import { matchesSelector, type LabelSelector } from '../selectors.ts';
import type { K8sObject, StoreEvent } from '../types.ts';
import type { Controller, ControllerContext } from './controller.ts';
import { WorkQueue } from './workqueue.ts';

const CLUSTER_ROLES = 'rbac.authorization.k8s.io/clusterroles';
const MANAGER = 'clusterrole-aggregation-controller';

/** equality.Semantic.DeepEqual of two PolicyRules: empty and missing lists are alike. */
function sameRule(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    const x = (a[k] ?? []) as unknown[];
    const y = (b[k] ?? []) as unknown[];
    if (x.length !== y.length || x.some((v, i) => v !== y[i])) return false;
  }
  return true;
}

/** The rules `role` aggregates from the roles in the store, in the controller's order. */
export function aggregatedRules(role: K8sObject, all: K8sObject[]): Record<string, unknown>[] {
  const rules: Record<string, unknown>[] = [];
  for (const selector of (role.aggregationRule?.clusterRoleSelectors ?? []) as LabelSelector[]) {
    const matched = all
      .filter((r) => r.metadata.name !== role.metadata.name && matchesSelector(selector, r.metadata.labels ?? {}))
      .sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0));
    for (const r of matched) {
      for (const rule of (r.rules ?? []) as Record<string, unknown>[]) if (!rules.some((x) => sameRule(x, rule))) rules.push(rule);
    }
  }
  return rules;
}

export class ClusterRoleAggregationController implements Controller {
  readonly name = 'clusterrole-aggregation';
  private ctx!: ControllerContext;
  private queue!: WorkQueue;
  private unsubscribe: (() => void) | undefined;

  start(ctx: ControllerContext): void {
    this.ctx = ctx;
    this.queue = new WorkQueue(ctx.clock, (name) => this.sync(name));
    this.unsubscribe = ctx.store.subscribe((ev) => this.onEvent(ev));
    this.enqueueAll();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.queue?.stop();
  }

  private onEvent(ev: StoreEvent): void {
    if (ev.storage === CLUSTER_ROLES) this.enqueueAll();
  }

  private enqueueAll(): void {
    for (const r of this.ctx.store.list(CLUSTER_ROLES).items) if (r.aggregationRule) this.queue.add(r.metadata.name!);
  }

  private sync(name: string): void {
    const role = this.ctx.store.get(CLUSTER_ROLES, undefined, name);
    if (!role?.aggregationRule) return;
    const rules = aggregatedRules(role, this.ctx.store.list(CLUSTER_ROLES).items);
    const current = (role.rules ?? []) as Record<string, unknown>[];
    if (rules.length === current.length && rules.every((r, i) => sameRule(r, current[i]))) return;
    const config: K8sObject = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name }, rules: structuredClone(rules) };
    const { object } = applyConfiguration(role, config, { manager: MANAGER, operation: 'Apply', apiVersion: 'rbac.authorization.k8s.io/v1' }, true, this.ctx.clock.now());
    // Only the rules change hands; what else the object holds stays the live one's.
    this.ctx.store.mutate(CLUSTER_ROLES, undefined, name, (o) => {
      o.rules = object.rules;
      o.metadata.managedFields = object.metadata.managedFields;
    });
  }
}
