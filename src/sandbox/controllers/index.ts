// The controllers a sandbox runs, in start order.
import type { Controller } from './controller.ts';
import { KubeletController } from './kubelet.ts';

export type { Controller, ControllerContext, SandboxConfig, KubeletConfig } from './controller.ts';
export { DEFAULT_CONFIG } from './controller.ts';

export function allControllers(): Controller[] {
  return [new KubeletController()];
}
