// One embedded cluster: the store, its controllers, and (once listen() is
// called) the HTTP API server that kubectl and client-node talk to.
import { createHash } from 'node:crypto';
import { type Clock, ScaledClock, type KubemendError } from '../common/index.ts';
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
import { storedForm } from './hpa-v1.ts';
import { RESTORE_RV_GAP, STATE_FORMAT, STATE_KIND, checkScenario, readState, restoreBooks, saveBooks, serializeState, type SandboxState, type ScenarioIdentity, type ScenarioProgress } from './state.ts';
import { StateWriter, type StateWriteStats } from './state-writer.ts';
import { TokenIssuer } from './tokens.ts';
import { ensureBootstrap } from './bootstrap.ts';
import type { RbacMode } from './server/context.ts';
import type { StaticUser } from './authn.ts';

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
  /**
   * Keeps the cluster in this file: when it exists the sandbox is restored
   * from it here, in the constructor; once started, it is rewritten in
   * batches and once more by stop(). See src/sandbox/README.md, "State file".
   */
  stateFile?: string;
  /** Real milliseconds between batched state writes (default 250). */
  stateWriteIntervalMs?: number;
  /** Background state-write failures (default: printed to stderr; the sandbox keeps running). */
  onStateError?: (err: KubemendError) => void;
  /**
   * The scenario this sandbox plays (sandboxOptionsFor sets it), null for
   * none: a state file saved for another is refused. Left undefined, the
   * check waits for a ScenarioRunner to start.
   */
  scenario?: ScenarioIdentity | null;
  /**
   * 'enforce': the API server authorizes every request by RBAC, as a real
   * one does (system:masters, which the sandbox's kubeconfig user is in, may
   * do anything). 'off' (the default): RBAC only answers access reviews.
   */
  rbac?: RbacMode;
  /** Users of the static token file: each token authenticates as its user, in its groups (system:masters makes an administrator). */
  users?: StaticUser[];
}

/** What a sandbox restored from its state file. */
export interface RestoredState {
  /** Virtual time of the snapshot; the clock continues from here. */
  savedAt: number;
  /** The saved resourceVersion counter (the restored one continues RESTORE_RV_GAP above it). */
  resourceVersion: number;
  objectCount: number;
  scenario: ScenarioIdentity | null;
  /** The scenario runner's progress; ScenarioRunner.start() resumes from it. */
  progress: ScenarioProgress | null;
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
  /** Signs service account tokens (TokenRequest); its key is kept in the state file. */
  readonly tokens: TokenIssuer;
  readonly config: SandboxConfig;
  /** Set when the sandbox was restored from its state file. */
  readonly restored?: RestoredState;
  private readonly controllers: Controller[] = [];
  private server?: ApiServer;
  private started = false;
  private writer?: StateWriter;
  private unsubscribeWriter?: () => void;
  /** Controller state for the next start(): from the state file, or saved by stop(). */
  private pendingControllers?: Record<string, unknown>;
  private progressSource?: () => ScenarioProgress;
  private scenarioId: ScenarioIdentity | null | undefined;

  private readonly opts: SandboxOptions;

  constructor(opts: SandboxOptions = {}) {
    this.opts = opts;
    const state = opts.stateFile ? readState(opts.stateFile) : undefined;
    if (state && opts.scenario !== undefined) checkScenario(`the state file ${opts.stateFile}`, state.scenario, opts.scenario);
    this.scenarioId = opts.scenario !== undefined ? opts.scenario : state?.scenario;
    this.clock = opts.clock ?? new ScaledClock({ speed: opts.speed ?? 1, start: state?.savedAt });
    if (state && this.clock.now() < state.savedAt) {
      throw new Error(`the sandbox clock is at ${new Date(this.clock.now()).toISOString()}, before the state file's ${new Date(state.savedAt).toISOString()}: start it at savedVirtualTime(stateFile)`);
    }
    this.store = new ObjectStore({ clock: this.clock, historyLimit: opts.historyLimit });
    this.events = new EventRecorder(this.store, this.clock);
    this.images = createCatalog(opts.images);
    this.logs = new LogBook(this.clock);
    this.usage = new UsageBook();
    this.tokens = new TokenIssuer(this.clock);
    this.config = {
      ...DEFAULT_CONFIG,
      ...opts.config,
      kubelet: { ...DEFAULT_CONFIG.kubelet, ...definedOnly(opts.config?.kubelet ?? {}) },
    };
    if (state) this.restored = this.restore(state);
    else this.bootstrap();
    // What the API server creates at start, missing from a state file written before it did.
    ensureBootstrap(this.store);
  }

  get context(): ControllerContext {
    return { store: this.store, clock: this.clock, events: this.events, images: this.images, logs: this.logs, usage: this.usage, nodeHealth: this.nodeHealth, config: this.config };
  }

  /** Starts the controllers (idempotent), and the state file's first write when there is one. */
  start(): this {
    if (this.started) return this;
    this.started = true;
    for (const c of allControllers()) {
      const saved = this.pendingControllers?.[c.name];
      if (saved !== undefined) c.restoreState?.(saved);
      c.start(this.context);
      this.controllers.push(c);
    }
    this.pendingControllers = undefined;
    if (this.opts.stateFile) this.startWriter(this.opts.stateFile);
    return this;
  }

  /**
   * Serves the Kubernetes API on host:port (0 picks a free port). Tests may
   * shorten the watch bookmark period and --min-request-timeout (real time).
   */
  async listen(opts: { port?: number; host?: string; bookmarkEveryMs?: number; minRequestTimeoutSeconds?: number } = {}): Promise<{ url: string }> {
    this.start();
    this.server = await startApiServer({
      store: this.store,
      clock: this.clock,
      logs: this.logs,
      faults: this.faults,
      usage: this.usage,
      tokens: this.tokens,
      rbac: this.opts.rbac,
      users: this.opts.users,
      host: opts.host ?? '127.0.0.1',
      port: opts.port ?? 0,
      bookmarkEveryMs: opts.bookmarkEveryMs,
      minRequestTimeoutSeconds: opts.minRequestTimeoutSeconds,
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
    return objects.map((o) => this.store.create(storageOf(o, this.store), storedForm(o)));
  }

  /** Stops everything; with a state file, writes it a last time first. */
  async stop(): Promise<void> {
    // Controllers forget timers and queues when stopped: keep their state for the last write and a later start().
    if (this.writer) this.pendingControllers = this.saveControllers();
    for (const c of this.controllers.splice(0)) c.stop();
    await this.server?.close();
    this.server = undefined;
    this.started = false;
    this.unsubscribeWriter?.();
    this.unsubscribeWriter = undefined;
    this.faults.onChange = undefined;
    const writer = this.writer;
    this.writer = undefined;
    await writer?.close();
  }

  /**
   * Lets the state file carry a scenario runner's progress (ScenarioRunner.start()
   * calls it). With a state file, refuses a runner of another scenario than
   * the sandbox's or the file's; without one, any runner may play.
   */
  trackProgress(scenario: ScenarioIdentity, source: () => ScenarioProgress): void {
    if (this.opts.stateFile && this.scenarioId !== undefined) checkScenario(`the state file ${this.opts.stateFile}`, this.scenarioId, scenario);
    this.scenarioId = scenario;
    this.progressSource = source;
    this.markDirty();
  }

  /** Something outside the store changed (a milestone, a step): the next batch writes it. */
  markDirty(): void {
    this.writer?.markDirty();
  }

  /** Resolves once every change so far is in the state file (at once when there is none). */
  async flushState(): Promise<void> {
    await this.writer?.flush();
  }

  /** Counters of the state file's writes; undefined without a state file or before start(). */
  get stateStats(): StateWriteStats | undefined {
    return this.writer?.stats;
  }

  private startWriter(file: string): void {
    const writer = new StateWriter({ file, build: () => this.captureState(), intervalMs: this.opts.stateWriteIntervalMs, onError: this.opts.onStateError });
    writer.writeSync();
    this.writer = writer;
    this.unsubscribeWriter = this.store.subscribe(() => writer.markDirty());
    this.faults.onChange = () => writer.markDirty();
  }

  private saveControllers(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const c of this.controllers) if (c.saveState) out[c.name] = c.saveState();
    return out;
  }

  private captureState(): { text: string; savedAt: number } {
    const savedAt = this.clock.now();
    const { resourceVersion, objects } = this.store.dump();
    const state: SandboxState = {
      kind: STATE_KIND,
      format: STATE_FORMAT,
      scenario: this.scenarioId ?? null,
      savedAt,
      resourceVersion,
      objects,
      books: saveBooks(this),
      // Set while stopping (the controllers are gone, their state is not) and before a restored sandbox starts.
      controllers: this.pendingControllers ?? this.saveControllers(),
      // Until a runner takes over, the restored progress is carried forward, so a crash before it starts loses nothing.
      progress: this.progressSource?.() ?? this.restored?.progress ?? null,
    };
    return { text: serializeState(state), savedAt };
  }

  private restore(state: SandboxState): RestoredState {
    this.store.load(state.resourceVersion + RESTORE_RV_GAP, state.objects);
    restoreBooks(this, state.books);
    this.pendingControllers = state.controllers;
    let objectCount = 0;
    for (const items of Object.values(state.objects)) objectCount += items.length;
    return { savedAt: state.savedAt, resourceVersion: state.resourceVersion, objectCount, scenario: state.scenario, progress: state.progress };
  }

  addNode(spec: NodeSpec): K8sObject {
    return this.store.create('nodes', buildNode(spec, this.clock.now(), this.store.list('nodes').items.length));
  }

  private bootstrap(): void {
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      this.store.create('namespaces', { metadata: { name: ns } });
    }
    for (const n of this.opts.nodes ?? DEFAULT_NODES) this.addNode(n);
    // kind's default StorageClass: claims without a class get it, and a volume once a pod uses them.
    this.store.create('storage.k8s.io/storageclasses', {
      metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'rancher.io/local-path',
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'WaitForFirstConsumer',
    });
  }
}


function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function storageOf(o: K8sObject, store: ObjectStore): string {
  const t = store.types.byKind(o.apiVersion ?? '', o.kind ?? '');
  if (!t) throw new Error(`unknown kind ${o.apiVersion}/${o.kind}`);
  return t.storage;
}

/** The kubelet's version: the API server's own (/version), as on a cluster upgraded in one go. */
const KUBELET_VERSION = 'v1.32.0-kubemend';

// Stable per node name, so a restored or replayed cluster reports the same machine.
const idOf = (what: string, name: string): string => createHash('sha256').update(`${what}/${name}`).digest('hex');
const uuidOf = (what: string, name: string): string => {
  const h = idOf(what, name);
  // Version 4, RFC 4122 variant, as systemd and the DMI tables give them.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

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
      // Every field of NodeSystemInfo is required (the kubelet always sends
      // them): typed clients refuse a Node without bootID, machineID or systemUUID.
      nodeInfo: {
        machineID: idOf('machine-id', spec.name).slice(0, 32),
        systemUUID: uuidOf('system-uuid', spec.name),
        bootID: uuidOf('boot-id', spec.name),
        kernelVersion: '6.1.0-28-cloud-amd64',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        containerRuntimeVersion: 'containerd://1.7.24',
        kubeletVersion: KUBELET_VERSION,
        // DisableNodeKubeProxyVersion is off by default in 1.32: the kubelet still reports its own version.
        kubeProxyVersion: KUBELET_VERSION,
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    },
  };
}
