// The HorizontalPodAutoscaler controller (autoscaling/v2), after
// podautoscaler/horizontal.go and replica_calculator.go in Kubernetes 1.32.
// Every resync it reads the target's scale, computes a replica count per
// metric from the pods' usage (ctx.usage, what metrics-server would report),
// takes the largest, then stabilises and rate-limits it: without
// spec.behavior the legacy rules apply (5-minute scale-down window, scale-up
// at most max(2x, 4) per sync); with spec.behavior its windows and policies do.
// Only Resource and ContainerResource metrics have a source here; Pods,
// Object and External metrics fail as on a cluster without a custom or
// external metrics adapter.
import { k8sTime } from '../../common/index.ts';
import { matchesSelector } from '../selectors.ts';
import type { K8sObject, StoreEvent } from '../types.ts';
import type { Controller, ControllerContext } from './controller.ts';
import { WorkQueue, objectKey, splitKey } from './workqueue.ts';
import { setCondition } from './podutil.ts';
import { computeForMetric } from './hpa-replicas.ts';
import { ReplicaNormalizer, type Conditions, type NormalizerState } from './hpa-normalize.ts';

export { formatMilli } from './hpa-replicas.ts';

const HPA = 'autoscaling/horizontalpodautoscalers';
const SOURCE = { component: 'horizontal-pod-autoscaler' };
const SCALE_TARGETS: Record<string, { storage: string; resource: string }> = {
  'apps/Deployment': { storage: 'apps/deployments', resource: 'deployments.apps' },
  'apps/ReplicaSet': { storage: 'apps/replicasets', resource: 'replicasets.apps' },
  'apps/StatefulSet': { storage: 'apps/statefulsets', resource: 'statefulsets.apps' },
};
/** The API server's default when spec.metrics is empty. */
const DEFAULT_METRICS = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];

export class HpaController implements Controller {
  readonly name = 'horizontal-pod-autoscaler';
  private ctx!: ControllerContext;
  private queue?: WorkQueue;
  private unsubscribe?: () => void;
  private readonly normalizer = new ReplicaNormalizer();

  /** Stabilisation windows and scale-rate limits look back over recent decisions. */
  saveState(): NormalizerState {
    return this.normalizer.save();
  }

  restoreState(state: unknown): void {
    this.normalizer.restore(state as NormalizerState);
  }

  start(ctx: ControllerContext): void {
    this.ctx = ctx;
    this.queue = new WorkQueue(ctx.clock, (k) => this.process(k));
    this.unsubscribe = ctx.store.subscribe((ev) => this.onEvent(ev));
    for (const h of ctx.store.list(HPA).items) this.queue.addAfter(objectKey(h.metadata), this.resyncMs());
  }

  stop(): void {
    this.unsubscribe?.();
    this.queue?.stop();
  }

  private resyncMs(): number {
    return this.ctx.config.resyncSeconds * 1000;
  }

  // Like the real controller's rate-limited queue: an HPA is processed once per
  // resync period; changes to it are picked up at the next one.
  private onEvent(ev: StoreEvent): void {
    if (ev.storage !== HPA) return;
    const key = objectKey(ev.object.metadata);
    if (ev.type === 'DELETED') this.normalizer.forget(key);
    else this.queue!.addAfter(key, this.resyncMs());
  }

  private process(key: string): void {
    const { namespace, name } = splitKey(key);
    const hpa = this.ctx.store.get(HPA, namespace, name);
    if (!hpa) {
      this.normalizer.forget(key);
      return;
    }
    try {
      this.reconcile(key, hpa);
    } finally {
      this.queue!.addAfter(key, this.resyncMs());
    }
  }

  private reconcile(key: string, hpa: K8sObject): void {
    const now = this.ctx.clock.now();
    const nowIso = k8sTime(now);
    const ns = hpa.metadata.namespace!;
    let conditions: any[] = structuredClone(hpa.status?.conditions ?? []);
    const cond: Conditions = {
      set: (type, status, reason, message) => { conditions = setCondition(conditions, { type, status, reason, message }, nowIso); },
    };
    const writeStatus = (patch: Record<string, unknown>) => {
      this.ctx.store.mutate(HPA, ns, hpa.metadata.name!, (o) => {
        const next: any = { ...(o.status ?? {}), ...patch, conditions };
        for (const [k, v] of Object.entries(next)) if (v === undefined) delete next[k];
        o.status = next;
      }, { subresource: 'status' });
    };

    const ref = hpa.spec.scaleTargetRef ?? {};
    const group = String(ref.apiVersion ?? '').includes('/') ? String(ref.apiVersion).split('/')[0] : '';
    const target = SCALE_TARGETS[`${group}/${ref.kind}`];
    const scaleObj = target && this.ctx.store.get(target.storage, ns, ref.name);
    if (!scaleObj) {
      const err = target ? `${target.resource} "${ref.name}" not found` : `no matches for kind "${ref.kind}" in group "${group}"`;
      this.ctx.events.emit(hpa, 'Warning', 'FailedGetScale', err, SOURCE);
      cond.set('AbleToScale', 'False', 'FailedGetScale', `the HPA controller was unable to get the target's current scale: ${err}`);
      writeStatus({});
      return;
    }
    cond.set('AbleToScale', 'True', 'SucceededGetScale', "the HPA controller was able to get the target's current scale");
    const current: number = scaleObj.spec?.replicas ?? 1;
    const minReplicas: number = hpa.spec.minReplicas ?? 1;
    const maxReplicas: number = hpa.spec.maxReplicas;
    let desired = 0;
    let reason = '';
    let rescale = true;
    let statuses: any[] | undefined;

    if (current === 0 && minReplicas !== 0) {
      rescale = false;
      cond.set('ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero');
    } else if (current > maxReplicas) {
      reason = 'Current number of replicas above Spec.MaxReplicas';
      desired = maxReplicas;
    } else if (current < minReplicas) {
      reason = 'Current number of replicas below Spec.MinReplicas';
      desired = minReplicas;
    } else {
      if (!scaleObj.spec?.selector) {
        this.ctx.events.emit(hpa, 'Warning', 'SelectorRequired', 'selector is required', SOURCE);
        writeStatus({});
        return;
      }
      const pods = this.ctx.store.list('pods', ns).items.filter((p) => matchesSelector(scaleObj.spec.selector, p.metadata.labels));
      const r = this.computeReplicasForMetrics(hpa, pods, current, now, cond);
      statuses = r.statuses;
      if (r.replicas === -1) {
        writeStatus({ currentReplicas: current, currentMetrics: statuses });
        this.ctx.events.emit(hpa, 'Warning', 'FailedComputeMetricsReplicas', r.error!, SOURCE);
        return;
      }
      desired = r.replicas;
      if (desired > current) reason = `${r.metric} above target`;
      if (desired < current) reason = 'All metrics below target';
      desired = hpa.spec.behavior
        ? this.normalizer.normalizeWithBehaviors(key, hpa, current, desired, minReplicas, now, cond)
        : this.normalizer.normalize(key, hpa, current, desired, minReplicas, now, cond);
      rescale = desired !== current;
    }

    if (rescale) {
      this.ctx.store.mutate(target.storage, ns, ref.name, (o) => { o.spec.replicas = desired; });
      cond.set('AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${desired}`);
      this.ctx.events.emit(hpa, 'Normal', 'SuccessfulRescale', `New size: ${desired}; reason: ${reason}`, SOURCE);
      if (hpa.spec.behavior) this.normalizer.storeScaleEvent(key, hpa, current, desired, now);
    } else {
      desired = current;
    }
    writeStatus({
      currentReplicas: current,
      desiredReplicas: desired,
      currentMetrics: statuses,
      lastScaleTime: rescale ? nowIso : hpa.status?.lastScaleTime,
    });
  }

  private computeReplicasForMetrics(hpa: K8sObject, pods: K8sObject[], current: number, now: number, cond: Conditions) {
    const specs: any[] = hpa.spec.metrics?.length ? hpa.spec.metrics : DEFAULT_METRICS;
    const statuses: any[] = [];
    let replicas = 0;
    let metric = '';
    let invalid = 0;
    let first: { reason: string; error: string } | undefined;
    for (const spec of specs) {
      const r = computeForMetric(this.ctx.usage, hpa, spec, pods, current, now);
      statuses.push(r.status ?? { type: '' });
      if ('error' in r) {
        this.ctx.events.emit(hpa, 'Warning', r.reason, r.error, SOURCE);
        first ??= r;
        invalid++;
        continue;
      }
      if (replicas === 0 || r.replicas > replicas) {
        replicas = r.replicas;
        metric = r.name;
      }
    }
    const error = first && `invalid metrics (${invalid} invalid out of ${specs.length}), first error is: ${first.error}`;
    if (first && (invalid >= specs.length || replicas < current)) {
      cond.set('ScalingActive', 'False', first.reason, `the HPA was unable to compute the replica count: ${first.error}`);
      return { replicas: -1, metric, statuses, error };
    }
    cond.set('ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${metric}`);
    return { replicas, metric, statuses, error };
  }
}
