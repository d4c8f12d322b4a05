// k8s.patchResources and k8s.annotate. Raising a limit by a factor is not
// idempotent (1.5 twice is 2.25), so the patch carries the operation stamp
// and a retry that finds its own stamp changes nothing.
import { z } from 'zod';
import { formatBytes, formatCpu, parseQuantity, tryQuantity } from '../../common/index.ts';
import { KINDS, type KubeObject, pathOf } from '../../kube/index.ts';
import { ActionError } from '../types.ts';
import { MERGE, Name, OPERATION_ANNOTATION, STRATEGIC, WorkloadKind, checkStamped, kube, mutating, objName, operationOf, allow } from './util.ts';

const Quantity = z.string().refine((q) => tryQuantity(q) !== undefined, { message: 'expected a quantity such as 512Mi, 1Gi, 250m or 2' });
/** An absolute value, or a factor of the current value bounded by max (raising) or min (lowering). */
const Change = z.union([Quantity, z.object({ factor: z.number().positive(), max: Quantity.optional(), min: Quantity.optional() })]);

const FIELDS = {
  memoryLimit: ['limits', 'memory'],
  memoryRequest: ['requests', 'memory'],
  cpuLimit: ['limits', 'cpu'],
  cpuRequest: ['requests', 'cpu'],
} as const;
type Field = keyof typeof FIELDS;

const Params = z
  .object({
    kind: WorkloadKind.default('Deployment'),
    namespace: Name,
    name: Name,
    /** One container; absent means every container, as `kubectl set resources` does. */
    container: Name.optional(),
    memoryLimit: Change.optional(),
    memoryRequest: Change.optional(),
    cpuLimit: Change.optional(),
    cpuRequest: Change.optional(),
  })
  .refine((p) => (Object.keys(FIELDS) as Field[]).some((f) => p[f] !== undefined), { message: 'give at least one of memoryLimit, memoryRequest, cpuLimit, cpuRequest' });
export type PatchResourcesParams = z.infer<typeof Params>;

interface ResourceChange {
  container: string;
  field: Field;
  old?: string;
  new: string;
}

/** Rounds up to whole MiB / millicores so the result is a value people write. */
function render(field: Field, v: number): string {
  // The epsilon keeps float noise (0.05 × 1.5 = 0.07500000000000001) from rounding up a whole unit.
  const up = (x: number) => Math.ceil(x - 1e-9);
  return field.startsWith('memory') ? formatBytes(up(v / 2 ** 20) * 2 ** 20) : formatCpu(up(v * 1000) / 1000);
}

function compute(field: Field, container: string, old: string | undefined, spec: z.infer<typeof Change>): string {
  if (typeof spec === 'string') return spec;
  const label = `${field} of container ${container}`;
  if (old === undefined) throw new ActionError('NO_CURRENT_VALUE', `${label} is not set; a factor needs a current value (give an absolute value instead)`);
  const cur = parseQuantity(old);
  const raising = spec.factor >= 1;
  const bound = raising ? spec.max : spec.min;
  const b = bound !== undefined ? parseQuantity(bound) : undefined;
  if (b !== undefined && (raising ? cur >= b : cur <= b)) {
    throw new ActionError('AT_CAP', `${label} is ${old}, already at ${raising ? 'cap' : 'floor'} ${bound}`);
  }
  let next = cur * spec.factor;
  if (b !== undefined) next = raising ? Math.min(next, b) : Math.max(next, b);
  return b !== undefined && next === b ? bound! : render(field, next);
}

export const patchResources = mutating<PatchResourcesParams>({
  name: 'k8s.patchResources',
  description: "Change a workload's container resources, e.g. raise a memory limit by a factor up to a cap.",
  params: Params,
  access: [allow('apps', ['daemonsets', 'deployments', 'statefulsets'], ['get', 'patch'])],
  async prepare(p, ctx) {
    const path = pathOf(p.kind, p.namespace, p.name);
    const obj = await kube<KubeObject>(ctx, 'GET', path);
    const containers: any[] = obj.spec?.template?.spec?.containers ?? [];
    const chosen = p.container ? containers.filter((c) => c.name === p.container) : containers;
    if (!chosen.length) throw new ActionError('NO_SUCH_CONTAINER', `${objName(p.kind, p.namespace, p.name)} has no container ${p.container} (has ${containers.map((c) => c.name).join(', ')})`);
    const valueOf = (c: any, f: Field) => c.resources?.[FIELDS[f][0]]?.[FIELDS[f][1]] as string | undefined;
    const summary = (c: any) => Object.fromEntries((Object.keys(FIELDS) as Field[]).filter((f) => p[f] !== undefined).map((f) => [f, valueOf(c, f)]));
    if (operationOf(obj) === ctx.operationKey) {
      return { calls: [], outputs: { alreadyApplied: true, container: chosen[0].name, new: summary(chosen[0]) } };
    }
    const changes: ResourceChange[] = [];
    for (const c of chosen) {
      for (const f of Object.keys(FIELDS) as Field[]) {
        const spec = p[f];
        if (spec === undefined) continue;
        const old = valueOf(c, f);
        const next = compute(f, c.name, old, spec);
        if (old === undefined || parseQuantity(old) !== parseQuantity(next)) changes.push({ container: c.name, field: f, old, new: next });
      }
    }
    const first = chosen[0].name;
    const mine = changes.filter((x) => x.container === first);
    const outputs = {
      container: first,
      changes,
      old: Object.fromEntries(mine.map((x) => [x.field, x.old])),
      new: Object.fromEntries(mine.map((x) => [x.field, x.new])),
    };
    if (!changes.length) return { calls: [], outputs };
    const patchContainers = [...new Set(changes.map((x) => x.container))].map((name) => {
      const resources: Record<string, Record<string, string>> = {};
      for (const x of changes.filter((y) => y.container === name)) (resources[FIELDS[x.field][0]] ??= {})[FIELDS[x.field][1]] = x.new;
      return { name, resources };
    });
    const body = { metadata: { annotations: { [OPERATION_ANNOTATION]: ctx.operationKey } }, spec: { template: { spec: { containers: patchContainers } } } };
    const what = changes.map((x) => `${x.container} ${x.field} ${x.old ?? '(unset)'} → ${x.new}`).join(', ');
    return {
      calls: [{ method: 'PATCH', path, body, description: `set resources of ${objName(p.kind, p.namespace, p.name)}: ${what}` }],
      outputs,
      apply: async () => {
        await kube(ctx, 'PATCH', path, { body, contentType: STRATEGIC });
      },
    };
  },
  check: (p, ctx) => checkStamped(ctx, pathOf(p.kind, p.namespace, p.name)),
});

const AnnotateParams = z.object({
  kind: Name,
  namespace: Name.optional(),
  name: Name,
  /** null removes the annotation (kubectl annotate key-). */
  annotations: z.record(z.string(), z.string().nullable()),
  /** false refuses to change an annotation that has another value (kubectl annotate without --overwrite). */
  overwrite: z.boolean().default(true),
});
export type AnnotateParams = z.infer<typeof AnnotateParams>;

const annotationsMatch = (obj: KubeObject, want: Record<string, string | null>) =>
  Object.entries(want).every(([k, v]) => (v === null ? obj.metadata.annotations?.[k] === undefined : obj.metadata.annotations?.[k] === v));

/** Setting annotations is idempotent by nature; check() compares values. */
export const annotate = mutating<AnnotateParams>({
  name: 'k8s.annotate',
  description: 'Set or remove annotations on any object (kubectl annotate).',
  params: AnnotateParams,
  // Any object kubemend knows the kind of (the metrics API's are read-only).
  access: KINDS.filter((k) => !k.polled).map((k) => allow(k.apiVersion.includes('/') ? k.apiVersion.split('/')[0] : '', [k.plural], ['get', 'patch'])),
  async prepare(p, ctx) {
    const path = pathOf(p.kind, p.namespace, p.name);
    const obj = await kube<KubeObject>(ctx, 'GET', path);
    const current = obj.metadata.annotations ?? {};
    if (!p.overwrite) {
      const clash = Object.entries(p.annotations).filter(([k, v]) => v !== null && current[k] !== undefined && current[k] !== v).map(([k]) => k);
      if (clash.length) throw new ActionError('ANNOTATION_EXISTS', `--overwrite is false but found the following declared annotation(s): ${clash.map((k) => `'${k}' already has a value (${current[k]})`).join(', ')}`);
    }
    const outputs = { annotations: p.annotations };
    if (annotationsMatch(obj, p.annotations)) return { calls: [], outputs };
    const body = { metadata: { annotations: p.annotations } };
    return {
      calls: [{ method: 'PATCH', path, body, description: `annotate ${objName(p.kind, p.namespace, p.name)} ${Object.entries(p.annotations).map(([k, v]) => (v === null ? `${k}-` : `${k}=${v}`)).join(' ')}` }],
      outputs,
      apply: async () => {
        await kube(ctx, 'PATCH', path, { body, contentType: MERGE });
      },
    };
  },
  async check(p, ctx) {
    const obj = await kube<KubeObject>(ctx, 'GET', pathOf(p.kind, p.namespace, p.name));
    return annotationsMatch(obj, p.annotations) ? { state: 'done', outputs: { annotations: p.annotations } } : { state: 'not-done' };
  },
});
