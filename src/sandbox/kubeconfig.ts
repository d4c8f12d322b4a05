// A kubeconfig for the sandbox: plain HTTP on loopback with a bearer token,
// accepted by kubectl and @kubernetes/client-node alike. client-node refuses
// plain HTTP unless TLS verification is marked skipped, so the cluster entry
// says so (kubectl ignores the flag for http:// servers). The token names the
// user (the sandbox authenticates any token it did not issue as the user it
// names, in system:masters), so a kubeconfig made for `sam` is `sam-admin` to
// the API server as it is to the kubeconfig. kubectl sends no token over
// plain HTTP: to the sandbox it is system:unsecured (src/sandbox/authn.ts).
import { stringify } from 'yaml';
import { ADMIN_TOKEN } from './authn.ts';

export const SANDBOX_CONTEXT = 'kubemend-sandbox';
export const SANDBOX_TOKEN = ADMIN_TOKEN;

export function kubeconfigObject(url: string, name = SANDBOX_CONTEXT): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: url, 'insecure-skip-tls-verify': true } }],
    users: [{ name: `${name}-admin`, user: { token: name === SANDBOX_CONTEXT ? SANDBOX_TOKEN : `${name}-admin` } }],
    contexts: [{ name, context: { cluster: name, user: `${name}-admin`, namespace: 'default' } }],
    'current-context': name,
    preferences: {},
  };
}

export function kubeconfigYaml(url: string, name = SANDBOX_CONTEXT): string {
  return stringify(kubeconfigObject(url, name));
}
