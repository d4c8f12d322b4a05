// The values k8s.collect teaches the process's redactor before it reads any
// log, so a program that prints its own credentials is masked even when no
// pattern recognises them:
//  - always, what the pod specs it already read hold: literal env values
//    under secret-looking names (`DB_PASSWORD: hunter2`);
//  - with `readSecrets: true`, the values of the Secrets the pods reference
//    (env secretKeyRef, envFrom secretRef, secret and projected volumes).
//    That is a GET on each Secret as the run's identity, which needs RBAC
//    `get` on secrets in the namespace: off by default, and a refusal or a
//    missing Secret is reported in the outputs, never a failed step.
// The values themselves go only into the redactor, never into an output.
import { SECRET_KEY, redactor } from '../../common/index.ts';
import { pathOf, type KubeObject } from '../../kube/index.ts';
import type { ActionContext } from '../types.ts';
import { kube } from './util.ts';

type PodSpec = Record<string, any> | undefined;

function containersOf(spec: PodSpec): any[] {
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? []), ...(spec?.ephemeralContainers ?? [])];
}

/** Literal env values under secret-looking names, from specs already read. Returns how many were learnt. */
export function learnLiteralEnv(specs: PodSpec[]): number {
  let n = 0;
  for (const spec of specs) {
    for (const c of containersOf(spec)) {
      for (const e of c?.env ?? []) {
        if (typeof e?.value === 'string' && SECRET_KEY.test(String(e.name ?? ''))) {
          redactor.addSecret(e.value);
          n++;
        }
      }
    }
  }
  return n;
}

/** Names of the Secrets the specs reference, sorted. */
export function referencedSecrets(specs: PodSpec[]): string[] {
  const names = new Set<string>();
  for (const spec of specs) {
    for (const c of containersOf(spec)) {
      for (const e of c?.env ?? []) if (e?.valueFrom?.secretKeyRef?.name) names.add(e.valueFrom.secretKeyRef.name);
      for (const f of c?.envFrom ?? []) if (f?.secretRef?.name) names.add(f.secretRef.name);
    }
    for (const v of spec?.volumes ?? []) {
      if (v?.secret?.secretName) names.add(v.secret.secretName);
      for (const s of v?.projected?.sources ?? []) if (s?.secret?.name) names.add(s.secret.name);
    }
  }
  return [...names].sort();
}

export interface SecretsRead {
  read: string[];
  /** Secrets that could not be read, with the reason (FORBIDDEN: grant `get` on secrets to read them). */
  unread: { name: string; reason: string }[];
}

/** GETs each referenced Secret and teaches the redactor its values (decoded from base64). */
export async function learnMountedSecrets(ctx: ActionContext, namespace: string, specs: PodSpec[]): Promise<SecretsRead> {
  const out: SecretsRead = { read: [], unread: [] };
  for (const name of referencedSecrets(specs)) {
    try {
      const secret = await kube<KubeObject>(ctx, 'GET', pathOf('Secret', namespace, name));
      for (const v of Object.values<string>(secret.data ?? {})) redactor.addSecret(Buffer.from(v, 'base64').toString('utf8'));
      for (const v of Object.values<string>(secret.stringData ?? {})) redactor.addSecret(v);
      out.read.push(name);
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      out.unread.push({ name, reason: (err as { reason?: string }).reason ?? 'ERROR' });
    }
  }
  return out;
}
