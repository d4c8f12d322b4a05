// `kubemend watch`: detection against real clusters. One informer per kind
// the rules need, per kubeconfig context; detections stream to the terminal
// (or as JSON lines), each labelled with its cluster.
import { loadContexts } from '../kube/contexts.ts';
import type { Command } from 'commander';
import Fastify from 'fastify';
import { realClock, formatDuration } from '../common/clock.ts';
import { KubemendError, Errors } from '../common/errors.ts';
import { loadRules } from '../rules/loader.ts';
import { DetectionEngine } from '../rules/engine.ts';
import { KubeSource } from '../rules/sources/kube-source.ts';
import { ScheduleSource, type ScheduleSignal } from '../rules/sources/schedule.ts';
import { WebhookSource } from '../rules/sources/webhook-source.ts';
import { kindsToWatch } from '../rules/kinds-needed.ts';
import { followSilences, silencesPath } from '../rules/silence-file.ts';
import { webhooksPlugin } from '../server/webhooks.ts';
import type { Detection } from '../rules/types.ts';

interface WatchFlags {
  kubeconfig?: string;
  context: string[];
  rules: string;
  json?: boolean;
  listen?: string;
  webhookToken?: string;
  dataDir?: string;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function registerWatch(program: Command): void {
  program
    .command('watch')
    .description('Run detection against clusters and stream detections to the terminal')
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to watch (repeatable; default: the current context)', collect, [])
    .requiredOption('--rules <dir>', 'directory of rule YAML files')
    .option('--json', 'one JSON object per detection change')
    .option('--listen <host:port>', 'serve Alertmanager and generic webhooks (POST /webhooks/alertmanager, /webhooks/<name>)')
    .option('--webhook-token <token>', 'bearer token required on webhook requests (or $KUBEMEND_WEBHOOK_TOKEN)')
    .option('--data-dir <dir>', 'where silences are kept (default $KUBEMEND_HOME or ~/.kubemend)')
    .action(async (flags: WatchFlags) => runWatch(flags));
}

export async function runWatch(flags: WatchFlags, out: (l: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<void> {
  const rules = loadRules(flags.rules);
  const ctxs = loadContexts(flags.kubeconfig, flags.context);
  const contexts = ctxs.map((c) => c.name);
  const kinds = kindsToWatch(rules);
  const sources = new Map(ctxs.map((c) => [c.name, new KubeSource({ cluster: c.name, kubeconfig: c.kubeconfig, clock: realClock, kinds, onError: (kind, err) => out(`warning: ${c.name} ${kind}: ${(err as Error).message}`) })]));
  const print = (d: Detection, change: string) => {
    if (flags.json) {
      out(JSON.stringify({ change, ...d }));
      return;
    }
    if (change === 'repeated' && d.count % 50 !== 0) return;
    const s = d.subject;
    const subject = `${s.kind.toLowerCase()}/${s.namespace ? `${s.namespace}/` : ''}${s.name}`;
    out(`${new Date().toISOString()} ${s.cluster.padEnd(14)} ${change.padEnd(8)} ${d.rule.padEnd(28)} ${subject.padEnd(40)} x${d.count} ${d.severity} ${d.summary}`);
  };
  const engine = new DetectionEngine({
    clock: realClock,
    rules,
    lookup: (cluster, kind, ns) => sources.get(cluster)?.list(kind, ns) ?? [],
    hooks: {
      onDetection: (d, change) => print(d, change),
      onNotify: (n) => !flags.json && out(`notify ${n.channel}: ${n.detections.length} detection(s) in ${n.group}`),
      onRuleError: (rule, err) => out(`warning: rule ${rule}: ${(err as Error).message}`),
    },
  });
  const silenceWatcher = followSilences(silencesPath(flags.dataDir), (s) => engine.silences.replaceAll(s));

  const t0 = Date.now();
  await Promise.all([...sources.values()].map((s) => s.start((sig) => engine.ingest(sig))));
  out(`watching ${contexts.join(', ')}: ${kinds.join(', ')} with ${rules.length} rules (synced in ${formatDuration(Date.now() - t0)})`);

  const schedules = contexts.map((c) => new ScheduleSource(
    rules.filter((r) => r.rule.spec.source === 'schedule').map((r) => ({ ruleName: r.rule.metadata.name, schedule: r.rule.spec.schedule! })),
    { clock: realClock, cluster: c },
  ));
  for (const s of schedules) s.start((sig) => engine.sweep((sig as ScheduleSignal).scheduleRule, sig.cluster));

  let app: ReturnType<typeof Fastify> | undefined;
  const webhooks = new WebhookSource({ clock: realClock, defaultCluster: contexts[0] });
  if (flags.listen) {
    const [host, port] = splitHostPort(flags.listen);
    webhooks.start((sig) => engine.ingest(sig));
    app = Fastify({ logger: false });
    const token = flags.webhookToken ?? process.env.KUBEMEND_WEBHOOK_TOKEN;
    await app.register(webhooksPlugin, { source: webhooks, alertmanager: token ? { bearerToken: token } : {}, allowUnlisted: true });
    await app.listen({ host, port });
    out(`webhooks on http://${host}:${(app.server.address() as { port: number }).port}/webhooks/`);
  }

  const stop = Promise.withResolvers<void>();
  process.once('SIGINT', () => stop.resolve());
  process.once('SIGTERM', () => stop.resolve());
  await stop.promise;
  silenceWatcher.close();
  for (const s of schedules) s.stop();
  webhooks.stop();
  await app?.close();
  for (const s of sources.values()) s.stop();
  engine.stop();
  out(`stopped; ${engine.detections().filter((d) => d.status === 'open').length} detections open`);
}

function splitHostPort(v: string): [string, number] {
  const i = v.lastIndexOf(':');
  const port = Number(i < 0 ? v : v.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new KubemendError(Errors.BAD_FLAG, `--listen "${v}" is not host:port`);
  return [i < 0 ? '127.0.0.1' : v.slice(0, i) || '127.0.0.1', port];
}
