// A scenario on the sandbox with detection and remediation attached, in
// virtual time: what `kubemend run --sandbox` and the demo run, and what the
// end-to-end tests check. Runs act on the sandbox over HTTP as the service
// identity, exactly as they would on a real cluster.
import type { Store, RunRecord } from '../store/types.ts';
import type { LoadedRule } from '../rules/loader.ts';
import { SandboxSession, SANDBOX_CLUSTER } from '../rules/session.ts';
import type { Scenario } from '../sandbox/scenarios/schema.ts';
import type { DetectionChange } from '../rules/engine.ts';
import type { Detection } from '../rules/types.ts';
import type { BudgetConfig } from './budgets.ts';
import type { LoadedRunbook } from './loader.ts';
import { LineNotifier } from './notifiers.ts';
import { wireRemediation, type Remediation } from './wiring.ts';

export interface RemediationSessionOptions {
  scenario: Scenario;
  rules: LoadedRule[];
  runbooks: LoadedRunbook[];
  store: Store;
  dryRun?: boolean;
  budgets?: Partial<BudgetConfig>;
  retriggerAfterMs?: number;
  /** Progress lines (detections, steps, notifications), with virtual time. */
  out?: (line: string) => void;
}

export class RemediationSession {
  readonly session: SandboxSession;
  readonly remediation: Remediation;
  private readonly o: RemediationSessionOptions;

  /** Called with every detection change after remediation has seen it (incident tracking). */
  readonly detectionListeners: ((d: Detection, change: DetectionChange) => void)[];

  private constructor(session: SandboxSession, remediation: Remediation, o: RemediationSessionOptions, detectionListeners: ((d: Detection, change: DetectionChange) => void)[]) {
    this.session = session;
    this.detectionListeners = detectionListeners;
    this.remediation = remediation;
    this.o = o;
  }

  static async start(o: RemediationSessionOptions): Promise<RemediationSession> {
    let rem: Remediation | undefined;
    let ses: SandboxSession | undefined;
    const stamp = () => `[+${fmt(ses?.elapsedMs ?? 0)}]`;
    const print = o.out && ((l: string) => o.out!(`${stamp()} ${l}`));
    const detectionListeners: ((d: Detection, change: DetectionChange) => void)[] = [];
    const hooks = {
      onDetection: (d: Detection, change: DetectionChange) => {
        if (change !== 'repeated') print?.(`detection ${change}: ${d.rule} ${d.subject.kind.toLowerCase()}/${d.subject.namespace ? `${d.subject.namespace}/` : ''}${d.subject.name}`);
        rem?.hooks.onDetection?.(d, change);
        for (const l of detectionListeners) l(d, change);
      },
    };
    ses = await SandboxSession.start(o.scenario, o.rules, hooks);
    const session = ses;
    rem = wireRemediation({
      store: o.store,
      clock: session.clock,
      runbooks: o.runbooks,
      kube: (cluster) => (cluster === SANDBOX_CLUSTER ? session.kube : undefined),
      dryRun: o.dryRun,
      budgets: o.budgets,
      retriggerAfterMs: o.retriggerAfterMs,
      notifiers: print ? [new LineNotifier((l) => print(l))] : [],
    });
    const r = rem;
    if (print) {
      r.executor.on({
        onTransition: (run, t) => print(`run ${run.id.slice(0, 8)} ${run.runbook} step ${t.stepId}: ${t.status}${t.error ? ` (${t.error})` : ''}`),
        onRunEnd: (run) => print(`run ${run.id.slice(0, 8)} ${run.runbook} ${run.status}`),
      });
    }
    return new RemediationSession(session, rem, o, detectionListeners);
  }

  get sandbox() {
    return this.session.sandbox;
  }

  /** Plays the scenario to its end, then lets every run finish (up to `graceMs` more virtual time). */
  async runToEnd(graceMs = 15 * 60_000): Promise<void> {
    while (!this.session.done) await this.session.tick();
    const limit = this.session.elapsedMs + graceMs;
    while (this.activeRuns() > 0 && this.session.elapsedMs < limit) await this.session.tick();
  }

  activeRuns(): number {
    return this.remediation.executor.activeCount;
  }

  async runs(): Promise<RunRecord[]> {
    return this.o.store.listRuns({});
  }

  async stop(): Promise<void> {
    this.remediation.executor.cancelAll();
    await this.session.stop();
  }
}

function fmt(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
