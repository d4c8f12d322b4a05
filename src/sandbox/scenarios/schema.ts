// The scenario file format (documented in docs/scenarios.md). Durations are
// strings like `90s` or `5m`; they are turned into milliseconds at load time
// so the runner never parses anything.
import { z } from 'zod';
import { Duration } from '../../common/index.ts';

export { Duration };

const Manifest = z.looseObject({
  apiVersion: z.string({ error: 'apiVersion is required (e.g. apps/v1)' }),
  kind: z.string({ error: 'kind is required (e.g. Deployment)' }),
  metadata: z.looseObject({ name: z.string().min(1), namespace: z.string().optional() }),
});

const ObjectRef = z.strictObject({
  kind: z.string(),
  apiVersion: z.string().optional(),
  namespace: z.string().optional(),
  name: z.string(),
});

export const ImageBehaviourSchema = z.strictObject({
  pullSeconds: z.number().nonnegative().optional(),
  readySeconds: z.number().nonnegative().optional(),
  neverReady: z.boolean().optional(),
  exitAfterSeconds: z.number().nonnegative().optional(),
  exitCode: z.number().int().min(0).max(255).optional(),
  memoryMi: z.number().nonnegative().optional(),
  leakMiPerMinute: z.number().nonnegative().optional(),
  cpuMilli: z.number().nonnegative().optional(),
  logs: z.array(z.string()).optional(),
  exitLogs: z.array(z.string()).optional(),
});

const Step = z
  .strictObject({
    at: Duration,
    /** Printed when the step runs: what happens in the story. */
    name: z.string().optional(),
    apply: z.array(Manifest).min(1).optional(),
    patch: ObjectRef.extend({
      type: z.enum(['strategic', 'merge', 'json']).default('strategic'),
      patch: z.unknown(),
    }).optional(),
    delete: ObjectRef.optional(),
    /**
     * Who makes an apply or patch (`helm`, `kubectl-client-side-apply`,
     * `kubectl-edit` …): recorded in managedFields as the API server records
     * a client's fieldManager. Without it the step leaves no authorship.
     */
    fieldManager: z.string().min(1).max(128).optional(),
    images: z.record(z.string(), ImageBehaviourSchema).optional(),
    /** Takes a node's kubelet down (it stops posting status), as a hung or crashed kubelet would. */
    kubeletDown: z.strictObject({ node: z.string(), for: Duration }).optional(),
    /** Drops the API server's watch history so every watch must relist (410 Gone). */
    compactHistory: z.literal(true).optional(),
    /** The API server answers matching requests with an error (e.g. every patch of apps/deployments → 500). */
    fault: z.strictObject({
      verb: z.enum(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection']).optional(),
      resource: z.string().optional(),
      namespace: z.string().optional(),
      name: z.string().optional(),
      code: z.number().int().min(400).max(599),
      message: z.string().optional(),
      times: z.number().int().positive().optional(),
    }).optional(),
  })
  .refine(
    (s) => ['apply', 'patch', 'delete', 'images', 'kubeletDown', 'compactHistory', 'fault'].filter((k) => (s as Record<string, unknown>)[k] !== undefined).length === 1,
    { message: 'each step needs exactly one of apply, patch, delete, images, kubeletDown, compactHistory, fault' },
  )
  .refine((s) => s.fieldManager === undefined || s.apply !== undefined || s.patch !== undefined, {
    message: 'fieldManager names who makes an apply or patch; other steps have no author',
    path: ['fieldManager'],
  });

const Milestone = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'use lower-case letters, digits and dashes'),
  description: z.string().optional(),
  kind: z.string(),
  apiVersion: z.string().optional(),
  namespace: z.string().optional(),
  /**
   * CEL over `object` (each object of the kind), `ageSeconds` (its age) and
   * `elapsedSeconds` (time since the scenario started).
   */
  where: z.string().min(1),
  /** Must be reached this long after the start, or the scenario fails. */
  by: Duration.optional(),
});

const NodeSchema = z.strictObject({
  name: z.string(),
  cpu: z.string().optional(),
  memory: z.string().optional(),
  pods: z.number().int().positive().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  systemReservedMemory: z.string().optional(),
});

const StaticUserSchema = z.strictObject({
  name: z.string().min(1),
  token: z.string().regex(/^\S+$/, 'a bearer token: no spaces'),
  groups: z.array(z.string().min(1)).optional(),
  uid: z.string().optional(),
});

export const ScenarioSchema = z.strictObject({
  apiVersion: z.literal('kubemend.dev/v1alpha1', { error: 'apiVersion must be kubemend.dev/v1alpha1' }),
  kind: z.literal('Scenario', { error: 'kind must be Scenario' }),
  metadata: z.strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'use lower-case letters, digits and dashes'),
    description: z.string().optional(),
  }),
  spec: z.strictObject({
    /** Default virtual-time speed for `kubemend sandbox --scenario` (overridden by --speed). */
    speed: z.number().positive().default(10),
    /** How long the story lasts; the sandbox keeps running afterwards. */
    duration: Duration,
    nodes: z.array(NodeSchema).min(1).optional(),
    kubelet: z.strictObject({
      maxContainerRestartPeriodSeconds: z.number().positive().optional(),
      initialBackoffSeconds: z.number().positive().optional(),
      maxImagePullBackoffSeconds: z.number().positive().optional(),
    }).optional(),
    images: z.record(z.string(), ImageBehaviourSchema).default({}),
    /**
     * RBAC enforcement: `kubemend sandbox` enforces it unless this (or
     * --rbac) says off; in-process sessions only when this says enforce.
     * Optional without a default, so scenarios that leave it out keep their
     * fingerprint (state files).
     */
    rbac: z.enum(['enforce', 'off']).optional(),
    /** Static token users (a token file): whoever sends the token is that user, in those groups. */
    users: z.array(StaticUserSchema).optional(),
    steps: z.array(Step).min(1),
    milestones: z.array(Milestone).default([]),
  }),
});

export type Scenario = z.output<typeof ScenarioSchema>;
export type ScenarioStep = Scenario['spec']['steps'][number];
export type ScenarioMilestone = Scenario['spec']['milestones'][number];
