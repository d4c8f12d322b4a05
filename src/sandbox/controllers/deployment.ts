// kube-controller-manager's Deployment controller: owns ReplicaSets named
// <deployment>-<pod-template-hash>, rolls templates out with RollingUpdate or
// Recreate, scales proportionally and reports the status and conditions that
// `kubectl rollout status` waits on.
import { matchesSelector } from '../selectors.ts';
import { ApiError } from '../status.ts';
import type { K8sObject, StoreEvent } from '../types.ts';
import { QueueController } from './base.ts';
import { objectKey, splitKey } from './workqueue.ts';
import { claimChildren, controllerRef } from './owners.ts';
import { DeploymentSync } from './deployment-sync.ts';
import { isScalingEvent, rolloutRecreate, rolloutRolling, syncScaling } from './deployment-rollout.ts';

const SOURCE = { component: 'deployment-controller' };

export class DeploymentController extends QueueController {
  readonly name = 'deployment-controller';
  protected readonly storage = 'apps/deployments';

  protected onEvent(ev: StoreEvent): void {
    const ns = ev.object.metadata.namespace;
    if (ev.storage === 'apps/deployments') {
      if (ev.type !== 'DELETED') this.queue.add(objectKey(ev.object.metadata));
      return;
    }
    if (ev.storage === 'apps/replicasets') {
      let owned = false;
      for (const rs of [ev.object, ev.old]) {
        const ref = controllerRef(rs);
        if (ref?.kind === 'Deployment') {
          this.queue.add(`${ns}/${ref.name}`);
          owned = true;
        }
      }
      // An orphaned ReplicaSet may be adopted by a Deployment that selects it.
      if (!owned && ev.type !== 'DELETED') {
        for (const d of this.ctx.store.list('apps/deployments', ns).items) {
          if (matchesSelector(d.spec?.selector, ev.object.metadata.labels)) this.queue.add(objectKey(d.metadata));
        }
      }
      return;
    }
    // Recreate waits for old pods to be gone, so their deletion matters.
    if (ev.storage === 'pods' && ev.type === 'DELETED') {
      const ref = controllerRef(ev.object);
      if (ref?.kind !== 'ReplicaSet') return;
      const rs = this.ctx.store.get('apps/replicasets', ns, ref.name);
      const owner = controllerRef(rs);
      if (owner?.kind === 'Deployment') this.queue.add(`${ns}/${owner.name}`);
    }
  }

  protected sync(key: string): void {
    const { namespace, name } = splitKey(key);
    const store = this.ctx.store;
    const d = store.get('apps/deployments', namespace, name);
    if (!d) {
      this.forgetFailures(key);
      return;
    }
    if (selectsEverything(d.spec?.selector)) {
      this.ctx.events.emit(d, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.', SOURCE);
      if ((d.status?.observedGeneration ?? 0) < (d.metadata.generation ?? 0)) {
        store.mutate('apps/deployments', namespace, name, (o) => {
          o.status = { ...(o.status ?? {}), observedGeneration: d.metadata.generation };
        }, { subresource: 'status' });
      }
      return;
    }
    const rsList = claimChildren(store, 'apps/replicasets', d, store.list('apps/replicasets', namespace).items,
      (rs) => matchesSelector(d.spec?.selector, rs.metadata.labels));
    const uids = new Set(rsList.map((rs) => rs.metadata.uid));
    const pods = store.list('pods', namespace).items.filter((p) => uids.has(controllerRef(p)?.uid));
    const s = new DeploymentSync(this.ctx, d, rsList, pods);
    try {
      if (d.metadata.deletionTimestamp) {
        const { newRS, oldRSs } = s.getAllReplicaSetsAndSyncRevision(false);
        s.syncDeploymentStatus([...oldRSs, newRS], newRS);
      } else {
        s.checkPausedConditions();
        if (s.d.spec?.paused || isScalingEvent(s)) syncScaling(s);
        else if (s.d.spec?.strategy?.type === 'Recreate') rolloutRecreate(s);
        else rolloutRolling(s);
      }
    } catch (err) {
      s.result.error = err;
    }
    if (s.result.error) {
      this.retryWithBackoff(key);
      // API errors (conflicts, a terminating namespace) are retried quietly;
      // anything else is a bug the work queue should report.
      if (!(s.result.error instanceof ApiError)) throw s.result.error;
      return;
    }
    this.forgetFailures(key);
    if (s.result.requeueAfter !== undefined) this.queue.addAfter(key, s.result.requeueAfter);
  }
}

function selectsEverything(sel: K8sObject['spec']): boolean {
  return !!sel && Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0;
}
