// What the kubelets keep for the sandbox's state file. The container
// runtimes are the kubelet's memory of what runs: restart counts, back-offs,
// container IDs and start times, pull state. Pod status shows only part of
// it, so it is saved rather than guessed back from the status.
import type { ControllerContext } from './controller.ts';
import type { PodRuntime } from './kubelet-status.ts';

/** The kubelet controller's maps, as saveKubelet reads and adoptKubelet fills them. */
export interface KubeletMemory {
  readonly pods: Map<string, PodRuntime>;
  readonly nodeImages: Map<string, Set<string>>;
  readonly nodeIndex: Map<string, number>;
  readonly nextIP: Map<string, number>;
  readonly pids: Map<string, number>;
}

export interface KubeletState {
  pods: Omit<PodRuntime, 'pod'>[];
  nodeImages: [string, string[]][];
  nodeIndex: [string, number][];
  nextIP: [string, number][];
  pids: [string, number][];
}

export function saveKubelet(m: KubeletMemory): KubeletState {
  return {
    // The pod object is in the store already; the runtime takes it back from there.
    pods: [...m.pods.values()].map(({ pod: _pod, ...rt }) => rt),
    nodeImages: [...m.nodeImages].map(([node, refs]) => [node, [...refs]]),
    nodeIndex: [...m.nodeIndex],
    nextIP: [...m.nextIP],
    pids: [...m.pids],
  };
}

/** Takes back saved runtimes whose pod still exists (the same pod: same uid); the start-up sync catches each up. */
export function adoptKubelet(m: KubeletMemory, s: KubeletState, ctx: ControllerContext): void {
  for (const [node, refs] of s.nodeImages) m.nodeImages.set(node, new Set(refs));
  for (const [node, i] of s.nodeIndex) m.nodeIndex.set(node, i);
  for (const [node, n] of s.nextIP) m.nextIP.set(node, n);
  for (const [node, pid] of s.pids) m.pids.set(node, pid);
  for (const rt of s.pods) {
    const pod = ctx.store.get('pods', rt.ns, rt.name);
    if (!pod || pod.metadata.uid !== rt.uid) {
      ctx.usage.forgetPod(rt.ns, rt.name);
      ctx.logs.forgetPod(rt.ns, rt.name);
      continue;
    }
    m.pods.set(rt.key, { ...rt, pod });
  }
}
