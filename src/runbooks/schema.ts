// The Runbook file format (documented in docs/runbooks.md). zod checks the
// shape; the loader checks what needs the whole document (the step graph,
// templates and `when` as CEL, actions and their parameters). Step timeouts
// and retry back-offs become milliseconds here; parameter values keep the
// form they were written in (`2m`, `2Gi`), because they are handed on to
// actions whose own schemas parse them.
import { z } from 'zod';
import { Duration, parseDuration, parseQuantity } from '../common/index.ts';

const Name = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'use lower-case letters, digits and dashes');

/** Ids are read in CEL as `steps.<id>`, so they must be CEL identifiers (no dashes). */
const Identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'use letters, digits and underscores, starting with a letter (read in templates as steps.<id> / params.<name>)');

/** Edge targets besides step ids. */
export const END = 'end';
export const ESCALATE = 'escalate';
export const RESERVED_EDGES: readonly string[] = [END, ESCALATE];

const StepId = Identifier.refine((id) => !RESERVED_EDGES.includes(id), { message: '"end" and "escalate" are edge targets, not step ids' });

/** A step id, `end` (finished successfully) or `escalate` (hand over to humans). */
const Edge = z.string().min(1, 'an edge names a step id, end or escalate');

export const PARAM_TYPES = ['string', 'number', 'integer', 'boolean', 'duration', 'quantity', 'list', 'map'] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

/** Why `value` is not a `type`, or undefined when it is. */
export function paramTypeError(type: ParamType, value: unknown): string | undefined {
  const got = value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'a map' : `${typeof value} ${JSON.stringify(value)}`;
  switch (type) {
    case 'string':
      return typeof value === 'string' ? undefined : `expected a string, got ${got}`;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : `expected a number, got ${got}`;
    case 'integer':
      return Number.isSafeInteger(value) ? undefined : `expected an integer, got ${got}`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `expected true or false, got ${got}`;
    case 'list':
      return Array.isArray(value) ? undefined : `expected a list, got ${got}`;
    case 'map':
      return value !== null && typeof value === 'object' && !Array.isArray(value) ? undefined : `expected a map, got ${got}`;
    case 'duration':
      if (typeof value !== 'string' && typeof value !== 'number') return `expected a duration like 30s, 5m or 1h30m, got ${got}`;
      try {
        parseDuration(value);
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    case 'quantity':
      if (typeof value !== 'string' && typeof value !== 'number') return `expected a quantity like 512Mi, 2Gi or 250m, got ${got}`;
      try {
        parseQuantity(value);
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
  }
}

const Parameter = z.strictObject({
  type: z.enum(PARAM_TYPES),
  /** Without a default the parameter is required: the rule must pass it in action.params. */
  default: z.unknown().optional(),
  description: z.string().optional(),
});

export const Retries = z.strictObject({
  /** Further attempts after the first; only failures whose registry entry is retryable are retried. */
  max: z.number().int().min(0).max(20),
  /** Wait before the first retry. */
  backoff: Duration.default(5_000),
  /** Each further wait is the previous one times this. */
  factor: z.number().min(1).max(10).default(2),
  maxBackoff: Duration.default(60_000),
});

export const DEFAULT_STEP_TIMEOUT_MS = 10 * 60_000;

export const StepSchema = z.strictObject({
  id: StepId,
  description: z.string().optional(),
  /** Action name, e.g. k8s.rollback; see docs/runbooks.md for the catalogue. */
  action: z.string().min(1),
  /** The action's parameters; strings may hold `{{ CEL }}` templates. */
  with: z.record(z.string(), z.unknown()).default({}),
  /** CEL bool over the template variables; false skips the step and follows onSuccess. */
  when: z.string().min(1).optional(),
  /** The step (all attempts and back-offs included) is cut off after this and follows onTimeout. */
  timeout: Duration.default(DEFAULT_STEP_TIMEOUT_MS),
  retries: Retries.optional(),
  /** Default: the next step in the list, or end after the last. */
  onSuccess: Edge.optional(),
  /** Default: escalate. */
  onFailure: Edge.optional(),
  /** Default: the step's onFailure. */
  onTimeout: Edge.optional(),
});

/** `target:` is one template giving a map, or a map of (templated) strings. */
const Target = z.union([
  z.string().min(1),
  z.strictObject({ cluster: z.string().optional(), kind: z.string(), namespace: z.string().optional(), name: z.string() }),
]);

export const RunbookSchema = z.strictObject({
  apiVersion: z.literal('kubemend.dev/v1alpha1', { error: 'apiVersion must be kubemend.dev/v1alpha1' }),
  kind: z.literal('Runbook', { error: 'kind must be Runbook' }),
  metadata: z.strictObject({
    name: Name,
    description: z.string().optional(),
    labels: z.record(z.string(), z.string()).default({}),
  }),
  spec: z.strictObject({
    parameters: z.record(Identifier, Parameter).default({}),
    /** The object the run acts on (and is locked and budgeted by). Default: the detection's subject. */
    target: Target.optional(),
    /** First step; default the first in the list. */
    start: z.string().min(1).optional(),
    /** Where an `escalate` edge notifies. */
    escalation: z.strictObject({ channel: z.string().min(1).default('default') }).default({ channel: 'default' }),
    steps: z.array(StepSchema).min(1, 'a runbook needs at least one step'),
  }),
}).superRefine((rb, ctx) => {
  for (const [name, p] of Object.entries(rb.spec.parameters)) {
    if (p.default === undefined) continue;
    const err = paramTypeError(p.type, p.default);
    if (err) ctx.addIssue({ code: 'custom', path: ['spec', 'parameters', name, 'default'], message: `default of ${p.type} parameter "${name}": ${err}` });
  }
});

export type Runbook = z.output<typeof RunbookSchema>;
export type Step = Runbook['spec']['steps'][number];
export type RetryPolicy = z.output<typeof Retries>;
export type ParameterSpec = Runbook['spec']['parameters'][string];
export type StepOutcome = 'success' | 'failure' | 'timeout';

/**
 * The parameters a run gets: `given` (a rule's action.params, or a chat
 * command's) checked against the runbook's declarations, defaults filled.
 * Problems are returned, not thrown: the caller decides whether a bad
 * parameter fails the run or the config load.
 */
export function resolveParams(runbook: Runbook, given: Record<string, unknown> = {}): { ok: true; params: Record<string, unknown> } | { ok: false; problems: string[] } {
  const declared = runbook.spec.parameters;
  const problems: string[] = [];
  const params: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(given)) {
    const p = declared[name];
    if (!p) {
      const known = Object.keys(declared);
      problems.push(`runbook ${runbook.metadata.name} has no parameter "${name}" (${known.length ? `declared: ${known.join(', ')}` : 'it declares none'})`);
      continue;
    }
    const err = paramTypeError(p.type, value);
    if (err) problems.push(`parameter ${name} (${p.type}): ${err}`);
    else params[name] = value;
  }
  for (const [name, p] of Object.entries(declared)) {
    if (name in given) continue;
    if (p.default === undefined) problems.push(`parameter ${name} (${p.type}) is required by runbook ${runbook.metadata.name}`);
    else params[name] = p.default;
  }
  return problems.length ? { ok: false, problems } : { ok: true, params };
}
