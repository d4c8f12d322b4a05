// What the executor needs from a loaded runbook, independent of how the
// loader represents it: step lookup, edges, templating and `when`.
import type { AuditTarget } from '../audit/index.ts';
import type { RunGraph } from '../store/index.ts';
import type { Detection } from '../rules/index.ts';
import type { LoadedRunbook } from './loader.ts';
import { evaluateWhen, renderWith, type TemplateVars } from './template.ts';
import { resolveParams } from './schema.ts';

export interface StepView {
  id: string;
  action: string;
  timeoutMs?: number;
  retries?: { max: number; backoffMs: number; factor: number; maxBackoffMs: number };
}

export interface RunbookView {
  name: string;
  start: string;
  defaults: Record<string, unknown>;
  /** The action of every step (whether a run can change anything). */
  actions: readonly string[];
  step(id: string): StepView | undefined;
  /** The next step id, or 'end' / 'escalate'. */
  next(id: string, outcome: 'success' | 'failure' | 'timeout'): string;
  /** The step's `with`, rendered against the run's variables. */
  render(id: string, vars: Record<string, unknown>): Record<string, unknown>;
  /** The step's `when` (true when absent; false when it errors). */
  when(id: string, vars: Record<string, unknown>): boolean;
  /** What the run acts on. */
  target(input: { detection?: Detection; params: Record<string, unknown> }): AuditTarget;
  /** Parameters checked against the runbook's declarations, defaults filled. */
  resolve(given?: Record<string, unknown>): { ok: true; params: Record<string, unknown> } | { ok: false; problems: string[] };
  /** Where an escalation of this runbook is announced. */
  escalationChannel: string;
  /** The step graph, kept with each run so the console can draw it after a reload. */
  graph?(): RunGraph;
}


/** The executor's view of a loaded runbook. */
export function viewOf(lr: LoadedRunbook): RunbookView {
  const rb = lr.runbook;
  const steps = lr.graph.steps;
  const defaults = Object.fromEntries(Object.entries(rb.spec.parameters).filter(([, p]) => p.default !== undefined).map(([k, p]) => [k, p.default]));
  return {
    name: rb.metadata.name,
    start: lr.graph.start,
    defaults,
    actions: Object.freeze([...steps.values()].map((s) => s.action)),
    escalationChannel: rb.spec.escalation.channel,
    resolve: (given) => resolveParams(rb, given),
    step(id) {
      const s = steps.get(id);
      if (!s) return undefined;
      return {
        id: s.id,
        action: s.action,
        timeoutMs: s.timeout,
        retries: s.retries && { max: s.retries.max, backoffMs: s.retries.backoff, factor: s.retries.factor, maxBackoffMs: s.retries.maxBackoff },
      };
    },
    next: (id, outcome) => lr.graph.next(id, outcome),
    graph: () => ({
      start: lr.graph.start,
      steps: [...steps.values()].map((s) => ({ id: s.id, action: s.action, ...(s.description ? { description: s.description } : {}), ...lr.graph.edges(s.id) })),
    }),
    render: (id, vars) => renderWith(steps.get(id)!, vars as TemplateVars),
    when: (id, vars) => {
      try {
        return evaluateWhen(steps.get(id)!, vars as TemplateVars);
      } catch {
        return false;
      }
    },
    target: ({ detection, params }) => {
      const t = lr.templates.target({ detection, params } as TemplateVars);
      return { cluster: t.cluster ?? detection?.cluster, kind: t.kind, namespace: t.namespace, name: t.name };
    },
  };
}
