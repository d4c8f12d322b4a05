// `kubemend audit verify-es`: reads the audit records back from the
// Elasticsearch/OpenSearch data stream the service ships them to and checks
// them on their own — chain, derived fields, and the signed heads they carry —
// with only the public key (docs/trace.md, "Verifying the copy").
import type { Command } from 'commander';
import { Errors, KubemendError, dataDir } from '../common/index.ts';
import { AuditKeys, auditKeyPath } from '../audit/index.ts';
import type { EsCopyCheck, ElasticsearchTraceConfig } from '../notify/index.ts';
import { collect, dataDirOption, jsonOption } from './options.ts';
import { DEFAULT_POLICY, SHIPPED_RULES, SHIPPED_RUNBOOKS } from './shared.ts';

interface VerifyEsFlags {
  config?: string;
  url?: string;
  dataStream?: string;
  apiKeyEnv?: string;
  publicKey?: string[];
  dataDir?: string;
  json?: boolean;
  strict?: boolean;
}

// The notifiers and the service config load only when this command runs:
// registering it is part of every `kubemend audit …`, which must not pay
// for Slack, SMTP, the sandbox and the rest of the service at start-up.
async function target(f: VerifyEsFlags): Promise<ElasticsearchTraceConfig> {
  const [{ elasticsearchTrace }, { loadServiceConfig }] = await Promise.all([import('../notify/index.ts'), import('../server/index.ts')]);
  const fromFile = f.config ? loadServiceConfig(f.config, { rules: SHIPPED_RULES, runbooks: SHIPPED_RUNBOOKS, policy: DEFAULT_POLICY }).trace.elasticsearch : undefined;
  if (!fromFile && !f.url) throw new KubemendError(Errors.BAD_FLAG, 'name the cluster: --config FILE (with spec.trace.elasticsearch) or --url URL');
  return elasticsearchTrace({
    ...(fromFile ?? {}),
    ...(f.url ? { url: f.url, urls: undefined } : {}),
    ...(f.dataStream ? { dataStream: f.dataStream } : {}),
    ...(f.apiKeyEnv ? { apiKeyEnv: f.apiKeyEnv, usernameEnv: undefined, passwordEnv: undefined } : {}),
  });
}

export function registerAuditVerifyEs(audit: Command): void {
  jsonOption(dataDirOption(audit.command('verify-es')
    .description('Read the audit records back from Elasticsearch/OpenSearch and check them with the public key; exit 1 naming the first bad document')
    .option('--config <file>', 'the service config whose spec.trace.elasticsearch names the cluster, data stream and credentials')
    .option('--url <url>', 'the cluster (instead of, or overriding, the config\'s)')
    .option('--data-stream <name>', 'the data stream (default: the config\'s, else logs-kubemend.audit-default)')
    .option('--api-key-env <name>', 'environment variable holding an encoded API key')
    .option('--public-key <file>', 'trust head signatures by this Ed25519 public key (PEM; repeatable)', collect)
    .option('--strict', 'also fail when the newest records are not yet covered by a signed head')), 'print the result as JSON')
    .action(async (f: VerifyEsFlags) => {
      const config = await target(f);
      const keys = new AuditKeys({ keyFile: auditKeyPath(dataDir(f.dataDir)), trusted: f.publicKey, requireKey: false });
      const { verifyEsCopy } = await import('../notify/index.ts');
      const r = await verifyEsCopy({ config, keys });
      if (f.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      else process.stdout.write(`${describe(r, config.dataStream)}\n`);
      const unanchored = r.ok && r.unanchored > 0 && f.strict;
      if (r.ok && !unanchored) return;
      const what = r.ok ? `${r.unanchored} records after seq ${r.anchoredSeq} are not covered by a signed head` : `the copy is broken at seq ${r.firstBad.seq}${r.firstBad.id ? ` (id ${r.firstBad.id})` : ''}: ${r.firstBad.reason}`;
      process.stderr.write(`error: ${new KubemendError(Errors.TRACE_VERIFY, what).render()}\n`);
      process.exitCode = 1;
    });
}

function describe(r: EsCopyCheck, stream: string): string {
  if (!r.ok) return `copy in ${stream} BROKEN at seq ${r.firstBad.seq}${r.firstBad.id ? ` (id ${r.firstBad.id})` : ''}: ${r.firstBad.reason}\n${r.records} records verified before it.`;
  if (r.records === 0) return `copy in ${stream}: no audit records yet`;
  const lines = [`copy in ${stream} ok: ${r.records} records, seq ${r.firstSeq}–${r.lastSeq}, signed head verified up to seq ${r.anchoredSeq}`];
  if (r.unanchored > 0) lines.push(`note: the last ${r.unanchored} records are linked to the chain but no signed head covers them yet (the shipper adds one with its next batch)`);
  if (r.duplicates > 0) lines.push(`note: ${r.duplicates} records are stored twice (a re-send across a rollover); they are identical`);
  if (r.firstSeq !== undefined && r.firstSeq > 1) lines.push(`note: the copy starts at seq ${r.firstSeq}; the record before it is taken on trust`);
  return lines.join('\n');
}
