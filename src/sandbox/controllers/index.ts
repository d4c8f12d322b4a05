// The controllers a sandbox runs, in start order.
import type { Controller } from './controller.ts';
import { KubeletController } from './kubelet.ts';
import { DeploymentController } from './deployment.ts';
import { ReplicaSetController } from './replicaset.ts';
import { GarbageCollector } from './gc.ts';
import { NamespaceController } from './namespace.ts';

export type { Controller, ControllerContext, SandboxConfig, KubeletConfig } from './controller.ts';
export { DEFAULT_CONFIG } from './controller.ts';

export function allControllers(): Controller[] {
  return [
    new NamespaceController(),
    new GarbageCollector(),
    new DeploymentController(),
    new ReplicaSetController(),
    new KubeletController(),
  ];
}
