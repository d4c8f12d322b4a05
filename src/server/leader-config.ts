// spec.leaderElection of the service config: replicas of `serve` elect a
// leader on a coordination.k8s.io/v1 Lease (docs/ha.md). The defaults are
// controller-runtime's (15s/10s/2s), and the timings are checked the way
// client-go's NewLeaderElector checks them, so a setting that could let two
// leaders act at once is refused at load, not discovered in production.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { Duration } from '../common/index.ts';

const DnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a Kubernetes name: lowercase letters, digits and "-"');

/** client-go's wait.Jitter factor: a renewal attempt may take up to this many retry periods. */
const JITTER = 1.2;

export const LeaderElectionSchema = z.strictObject({
  /** Off: this process always leads (one replica). On: see docs/ha.md. */
  enabled: z.boolean().default(false),
  /** The Lease's namespace (default: $POD_NAMESPACE, else the ServiceAccount's namespace when in a pod, else "default"). */
  namespace: DnsLabel.optional(),
  name: DnsLabel.default('kubemend'),
  /** The kubeconfig context (cluster) holding the Lease (default: the first cluster). */
  context: z.string().min(1).optional(),
  /** How long a lease lasts, as followers count it from when they saw it renewed; whole seconds (the Lease stores seconds). */
  leaseDuration: Duration.default(15_000),
  /** The leader steps down when it has not renewed for this long; below leaseDuration, so it stops before anyone may take over. */
  renewDeadline: Duration.default(10_000),
  /** How often the leader renews and followers try to acquire. */
  retryPeriod: Duration.default(2_000),
}).superRefine((le, ctx) => {
  if (le.leaseDuration < 1000 || le.leaseDuration % 1000 !== 0) ctx.addIssue({ code: 'custom', path: ['leaseDuration'], message: 'whole seconds, at least 1s (a Lease records leaseDurationSeconds)' });
  if (le.renewDeadline >= le.leaseDuration) ctx.addIssue({ code: 'custom', path: ['renewDeadline'], message: `must be shorter than leaseDuration (${le.leaseDuration}ms): a leader must step down before a follower may take over` });
  if (le.retryPeriod <= 0 || le.retryPeriod * JITTER >= le.renewDeadline) ctx.addIssue({ code: 'custom', path: ['retryPeriod'], message: `must be positive and ${JITTER} × retryPeriod shorter than renewDeadline (${le.renewDeadline}ms), as client-go requires, so a renewal can be retried before the deadline` });
});

export type LeaderElectionConfig = z.output<typeof LeaderElectionSchema>;

const SA_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** The Lease's namespace when the config names none: where the pod runs, else "default". */
export function leaseNamespace(configured: string | undefined, env: NodeJS.ProcessEnv = process.env, saFile = SA_NAMESPACE): string {
  if (configured) return configured;
  if (env.POD_NAMESPACE) return env.POD_NAMESPACE;
  try {
    const ns = readFileSync(saFile, 'utf8').trim();
    if (ns) return ns;
  } catch {
    // Not in a pod.
  }
  return 'default';
}
