// The Priority admission plugin (plugin/pkg/admission/priority): a new pod's
// spec.priority (and preemptionPolicy) come from its priorityClassName, or
// from the global default class, else 0; an unknown class, or a priority that
// disagrees with the class, is refused with 403 as the plugin does. Updates
// keep the priority set at creation. A PriorityClass may be globalDefault
// only while no other one is.
import { ApiError } from './status.ts';
import type { K8sObject } from './types.ts';

export interface Lookup {
  list(storage: string, ns?: string): { items: K8sObject[] };
}

const PRIORITY_CLASSES = 'scheduling.k8s.io/priorityclasses';

function defaultClass(store: Lookup): K8sObject | undefined {
  // Should two be marked default (a race), the lowest value wins.
  let best: K8sObject | undefined;
  for (const pc of store.list(PRIORITY_CLASSES).items) {
    if (pc.globalDefault && (!best || best.value > pc.value)) best = pc;
  }
  return best;
}

/** admission.NewForbidden: `pods "web-" is forbidden: …` (a generated name shows its prefix). */
const refuse = (plural: string, group: string, name: string, why: string) =>
  new ApiError(403, 'Forbidden', `${group ? `${plural}.${group}` : plural} "${name}" is forbidden: ${why}`, { name, ...(group ? { group } : {}), kind: plural });

/** Mutating and validating admission on create; `name` is the name as requested (generateName when generated). */
export function admitCreate(storage: string, obj: K8sObject, store: Lookup, name: string): void {
  if (storage === 'pods') admitPod(obj, store, name);
  else if (storage === PRIORITY_CLASSES && obj.globalDefault) {
    const dpc = defaultClass(store);
    if (dpc) throw refuse('priorityclasses', 'scheduling.k8s.io', name, `PriorityClass ${dpc.metadata.name} is already marked as default. Only one default can exist`);
  }
}

export function admitUpdate(storage: string, next: K8sObject, old: K8sObject, store: Lookup): void {
  if (storage === 'pods' && next.spec && old.spec) {
    if (next.spec.priority === undefined && old.spec.priority !== undefined) next.spec.priority = old.spec.priority;
    if (next.spec.preemptionPolicy === undefined && old.spec.preemptionPolicy !== undefined) next.spec.preemptionPolicy = old.spec.preemptionPolicy;
  } else if (storage === PRIORITY_CLASSES && next.globalDefault) {
    const dpc = defaultClass(store);
    if (dpc && dpc.metadata.name !== next.metadata.name) {
      throw refuse('priorityclasses', 'scheduling.k8s.io', next.metadata.name!, `PriorityClass ${dpc.metadata.name} is already marked as default. Only one default can exist`);
    }
  }
}

function admitPod(pod: K8sObject, store: Lookup, name: string): void {
  const spec = pod.spec;
  if (!spec || typeof spec !== 'object') return;
  let priority: number;
  let policy: string | undefined;
  if (!spec.priorityClassName) {
    const dpc = defaultClass(store);
    priority = dpc?.value ?? 0;
    policy = dpc?.preemptionPolicy;
    if (dpc) spec.priorityClassName = dpc.metadata.name;
  } else {
    const pc = store.list(PRIORITY_CLASSES).items.find((c) => c.metadata.name === spec.priorityClassName);
    if (!pc) throw refuse('pods', '', name, `no PriorityClass with name ${spec.priorityClassName} was found`);
    priority = pc.value ?? 0;
    policy = pc.preemptionPolicy;
  }
  if (spec.priority != null && spec.priority !== priority) {
    throw refuse('pods', '', name, `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${priority} from the given PriorityClass name`);
  }
  spec.priority = priority;
  if (policy) {
    if (spec.preemptionPolicy != null && spec.preemptionPolicy !== policy) {
      throw refuse('pods', '', name, `the string value of PreemptionPolicy (${spec.preemptionPolicy}) must not be provided in pod spec; priority admission controller computed ${policy} from the given PriorityClass name`);
    }
    spec.preemptionPolicy = policy;
  }
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
}
