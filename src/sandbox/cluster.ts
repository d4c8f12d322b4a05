// One embedded cluster: the store, its controllers, and (once listen() is
// called) the HTTP API server that kubectl and client-node talk to.
import { type Clock, ScaledClock } from '../common/index.ts';
import { EventRecorder } from './events.ts';
import { createCatalog, type ImageBehaviour, type ImageCatalog } from './images.ts';
import { LogBook } from './logs.ts';
import { UsageBook } from './usage.ts';
import { NodeHealth } from './nodehealth.ts';
import { FaultBook } from './faults.ts';
import { ObjectStore } from './store.ts';
import type { K8sObject } from './types.ts';
import { DEFAULT_CONFIG, type Controller, type ControllerContext, type SandboxConfig } from './controllers/controller.ts';
import { allControllers } from './controllers/index.ts';
import { startApiServer, type ApiServer } from './server/index.ts';
import { kubeconfigYaml } from './kubeconfig.ts';
import { findByKind } from './resources.ts';

export interface NodeSpec {
  name: string;
  /** CPU cores (default "4"). */
  cpu?: string;
  /** Memory capacity (default "8Gi"). */
  memory?: string;
  /** Max pods (default 110). */
  pods?: number;
  labels?: Record<string, string>;
  /** Reserved for the system (default 256Mi): allocatable = capacity - reserved. */
  systemReservedMemory?: string;
}

export interface SandboxOptions {
  clock?: Clock;
  /** Used when no clock is given: virtual time runs this many times faster. */
  speed?: number;
  nodes?: NodeSpec[];
  images?: Record<string, ImageBehaviour>;
  config?: Partial<Omit<SandboxConfig, 'kubelet'>> & { kubelet?: Partial<SandboxConfig['kubelet']> };
  historyLimit?: number;
}

export const DEFAULT_NODES: NodeSpec[] = [
  { name: 'node-1' },
  { name: 'node-2' },
  { name: 'node-3' },
];

export class Sandbox {
  readonly clock: Clock;
  readonly store: ObjectStore;
  readonly events: EventRecorder;
  readonly images: ImageCatalog;
  readonly logs: LogBook;
  readonly usage: UsageBook;
  readonly nodeHealth = new NodeHealth();
  /** API failures to inject (tests, scenario `fault` steps). */
  readonly faults = new FaultBook();
  readonly config: SandboxConfig;
  private readonly controllers: Controller[] = [];
  private server?: ApiServer;
  private started = false;

  private readonly opts: SandboxOptions;

  constructor(opts: SandboxOptions = {}) {
    this.opts = opts;
    this.clock = opts.clock ?? new ScaledClock({ speed: opts.speed ?? 1 });
    this.store = new ObjectStore({ clock: this.clock, historyLimit: opts.historyLimit });
    this.events = new EventRecorder(this.store, this.clock);
    this.images = createCatalog(opts.images);
    this.logs = new LogBook(this.clock);
    this.usage = new UsageBook();
    this.config = {
      ...DEFAULT_CONFIG,
      ...opts.config,
      kubelet: { ...DEFAULT_CONFIG.kubelet, ...definedOnly(opts.config?.kubelet ?? {}) },
    };
    this.bootstrap();
  }

  get context(): ControllerContext {
    return { store: this.store, clock: this.clock, events: this.events, images: this.images, logs: this.logs, usage: this.usage, nodeHealth: this.nodeHealth, config: this.config };
  }

  /** Starts the controllers (idempotent). */
  start(): this {
    if (this.started) return this;
    this.started = true;
    for (const c of allControllers()) {
      c.start(this.context);
      this.controllers.push(c);
    }
    return this;
  }

  /** Serves the Kubernetes API on host:port (0 picks a free port). */
  async listen(opts: { port?: number; host?: string } = {}): Promise<{ url: string }> {
    this.start();
    this.server = await startApiServer({
      store: this.store,
      clock: this.clock,
      logs: this.logs,
      faults: this.faults,
      host: opts.host ?? '127.0.0.1',
      port: opts.port ?? 0,
    });
    return { url: this.server.url };
  }

  get url(): string {
    if (!this.server) throw new Error('internal: sandbox is not listening; call listen() first');
    return this.server.url;
  }

  get api(): ApiServer | undefined {
    return this.server;
  }

  kubeconfig(): string {
    return kubeconfigYaml(this.url);
  }

  /** Applies manifests in order, as `kubectl create` would (objects must not exist). */
  apply(objects: K8sObject[]): K8sObject[] {
    return objects.map((o) => this.store.create(storageOf(o), o));
  }

  async stop(): Promise<void> {
    for (const c of this.controllers.splice(0)) c.stop();
    await this.server?.close();
    this.server = undefined;
    this.started = false;
  }

  addNode(spec: NodeSpec): K8sObject {
    return this.store.create('nodes', buildNode(spec, this.clock.now(), this.store.list('nodes').items.length));
  }

  private bootstrap(): void {
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      this.store.create('namespaces', { metadata: { name: ns } });
    }
    for (const n of this.opts.nodes ?? DEFAULT_NODES) this.addNode(n);
  }
}


function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function storageOf(o: K8sObject): string {
  const t = findByKind(o.apiVersion ?? '', o.kind ?? '');
  if (!t) throw new Error(`unknown kind ${o.apiVersion}/${o.kind}`);
  return t.storage;
}

export function buildNode(spec: NodeSpec, now: number, index = 0): K8sObject {
  const n = (index % 250) + 1;
  const cpu = spec.cpu ?? '4';
  const memory = spec.memory ?? '8Gi';
  const ts = new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    metadata: {
      name: spec.name,
      labels: {
        'kubernetes.io/hostname': spec.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        ...(spec.labels ?? {}),
      },
      annotations: { 'kubemend.dev/system-reserved-memory': spec.systemReservedMemory ?? '256Mi' },
    },
    spec: { podCIDR: `10.244.${n}.0/24`, podCIDRs: [`10.244.${n}.0/24`] },
    status: {
      capacity: { cpu, memory, pods: String(spec.pods ?? 110) },
      allocatable: { cpu, memory, pods: String(spec.pods ?? 110) },
      conditions: [
        { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available', lastHeartbeatTime: ts, lastTransitionTime: ts },
        { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure', lastHeartbeatTime: ts, lastTransitionTime: ts },
        { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available', lastHeartbeatTime: ts, lastTransitionTime: ts },
        { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: ts, lastTransitionTime: ts },
      ],
      addresses: [{ type: 'InternalIP', address: `172.18.0.${n + 1}` }, { type: 'Hostname', address: spec.name }],
      nodeInfo: {
        kubeletVersion: 'v1.32.0-kubemend',
        kubeProxyVersion: 'v1.32.0-kubemend',
        containerRuntimeVersion: 'sandbox://1.0',
        operatingSystem: 'linux',
        architecture: 'amd64',
        osImage: 'kubemend sandbox',
        kernelVersion: '6.1.0',
      },
    },
  };
}
