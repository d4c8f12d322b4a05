// `kubemend watch`: detection against clusters, streamed to the terminal
// (or as JSON lines), each detection labelled with its cluster. The same
// pipeline as `serve`, without remediation: detections are recorded and
// silences followed through the store.
import type { Command } from 'commander';
import { realClock, formatDuration } from '../common/index.ts';
import { loadContexts } from '../kube/index.ts';
import { openStore } from '../store/index.ts';
import { loadRules, kindsToWatch } from '../rules/index.ts';
import { SHIPPED_RULES, splitListen, untilSignal } from './shared.ts';
import { clusterOptions, storeOptions } from './options.ts';

interface WatchFlags {
  kubeconfig?: string;
  context: string[];
  rules?: string;
  json?: boolean;
  listen?: string;
  webhookToken?: string;
  db?: string;
  dataDir?: string;
}

export function registerWatch(program: Command): void {
  const cmd = clusterOptions(program
    .command('watch')
    .description('Run detection against clusters and stream detections to the terminal'))
    .option('--rules <dir>', 'directory of rule YAML files (default: the shipped rules/)')
    .option('--json', 'one JSON object per detection change')
    .option('--listen <host:port>', 'serve Alertmanager and generic webhooks, /metrics and /healthz')
    .option('--webhook-token <token>', 'bearer token every webhook request must carry (or $KUBEMEND_WEBHOOK_TOKEN); required with --listen');
  storeOptions(cmd).action(async (flags: WatchFlags) => runWatch(flags));
}

export async function runWatch(flags: WatchFlags, out: (l: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<void> {
  const rules = loadRules(flags.rules ?? SHIPPED_RULES);
  const clusters = loadContexts(flags.kubeconfig, flags.context);
  // The pipeline and the server load once the rules and the kubeconfig have been read: a mistake in
  // either is reported without loading them (a second of start-up, the informers, the chat and notifiers).
  const [{ Pipeline, LinePrinter, watchLine }, { auditRefusals, createApp, webhookRoutes }] = await Promise.all([import('../pipeline/index.ts'), import('../server/index.ts')]);
  const listen = flags.listen ? splitListen(flags.listen) : undefined;
  const routes = listen ? webhookRoutes({ bearerToken: flags.webhookToken ?? process.env.KUBEMEND_WEBHOOK_TOKEN }) : undefined;
  const store = await openStore({ db: flags.db, dataDir: flags.dataDir, clock: realClock });
  const pipeline = new Pipeline({
    clock: realClock,
    clusters,
    rules,
    store,
    webhooks: listen ? {} : false,
    sinks: [new LinePrinter(out, watchLine(Boolean(flags.json), () => realClock.now()))],
    log: (l) => out(l),
  });
  let app: Awaited<ReturnType<typeof createApp>>['app'] | undefined;
  try {
    const t0 = Date.now();
    await pipeline.start();
    out(`watching ${clusters.map((c) => c.name).join(', ')}: ${kindsToWatch(rules).join(', ')} with ${rules.length} rules (synced in ${formatDuration(Date.now() - t0)})`);
    if (listen && routes) {
      ({ app } = await createApp({ webhooks: { source: pipeline.webhooks!, ...routes }, ready: () => pipeline.synced, refusals: auditRefusals(store.audit, { clock: realClock, log: out }) }));
      await app.listen({ host: listen[0], port: listen[1] });
      out(`webhooks on http://${listen[0]}:${(app.server.address() as { port: number }).port}/webhooks/ (metrics on /metrics)`);
    }
    await untilSignal().promise;
  } finally {
    await app?.close();
    await pipeline.stop();
    out(`stopped; ${pipeline.engine.detections().filter((d) => d.status === 'open').length} detections open`);
    await store.close();
  }
}
