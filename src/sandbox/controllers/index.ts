// The controllers a sandbox runs, in start order.
import type { Controller } from './controller.ts';
import { KubeletController } from './kubelet.ts';
import { DeploymentController } from './deployment.ts';
import { ReplicaSetController } from './replicaset.ts';
import { GarbageCollector } from './gc.ts';
import { NamespaceController } from './namespace.ts';
import { SchedulerController } from './scheduler.ts';
import { StatefulSetController } from './statefulset.ts';
import { DaemonSetController } from './daemonset.ts';
import { JobController } from './job.ts';
import { CronJobController } from './cronjob.ts';
import { NamespaceDefaultsController } from './namespace-defaults.ts';
import { HpaController } from './hpa.ts';
import { DisruptionController } from './disruption.ts';
import { NodeAgentController } from './node-agent.ts';
import { NodeLifecycleController } from './node-lifecycle.ts';
import { CrdController } from './crd.ts';
import { EndpointsController } from './endpoints.ts';
import { VolumeController } from './volumes.ts';
import { ClusterRoleAggregationController } from './clusterrole-aggregation.ts';

export type { Controller, ControllerContext, SandboxConfig, KubeletConfig } from './controller.ts';
export { DEFAULT_CONFIG } from './controller.ts';

export function allControllers(): Controller[] {
  return [
    new NamespaceController(),
    new NamespaceDefaultsController(),
    new GarbageCollector(),
    new CrdController(),
    new ClusterRoleAggregationController(),
    new DeploymentController(),
    new ReplicaSetController(),
    new StatefulSetController(),
    new DaemonSetController(),
    new JobController(),
    new CronJobController(),
    new HpaController(),
    new DisruptionController(),
    new EndpointsController(),
    new VolumeController(),
    new SchedulerController(),
    // The kubelet before the node agent: on a shared tick the kernel's OOM
    // killer acts before the eviction manager, as it does on a real node.
    new KubeletController(),
    new NodeAgentController(),
    new NodeLifecycleController(),
  ];
}
