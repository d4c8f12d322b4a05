// Real-looking credentials as programs print them, one per kind the redactor
// must catch, and ordinary values it must leave alone. Shared by the unit
// test of the redactor and the end-to-end test that pushes them through
// every path into the store. None of these values is real.

export interface SecretCase {
  id: string;
  /** The line as a program would print it. */
  line: string;
  /** What must not survive redaction (several for a PEM block). */
  secrets: string[];
  /** What must survive: the text around the secret that an engineer reads. */
  keeps?: string;
}

/** The value of a Secret a pod mounts: no pattern would recognise it. */
export const MOUNTED_SECRET = 'Mounted-S3cret-Value-7731';
/** A token kubemend is configured with (a webhook bearer token): no pattern would recognise it either. */
export const CONFIGURED_TOKEN = 'cfg-token-Qx7Lm2Np9Rs4';

const PEM_BODY = [
  'MIIEowIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2VzD7k6qkBtH1wKsYvF0bS1a9Ypo',
  'Jq3nX8rM1d5tW2gQ7fK0pL9sV4hB6cZ2yE8uA1oN3iR5jT7kH0lG9mF4wD2xC6vb',
  'Q1w2E3r4T5y6U7i8O9p0AaSsDdFfGgHhJjKkLlZzXxCcVvBbNnMm1234567890ab',
];

export const SECRET_CASES: readonly SecretCase[] = [
  { id: 'aws-access-key-id', line: 'export AWS_ACCESS_KEY_ID=AKIAZ7VRSQ4TLMXPKD2B', secrets: ['AKIAZ7VRSQ4TLMXPKD2B'], keeps: 'export AWS_ACCESS_KEY_ID=' },
  { id: 'aws-secret-access-key', line: 'AWS_SECRET_ACCESS_KEY=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 region=eu-west-1', secrets: ['wJalrXUtnFEMI/K7MDENG/bPxRfiCYzK8Qm3vT2p', 'bPxRfiCYzK8Qm3vT2p'], keeps: 'region=eu-west-1' },
  { id: 'github-token', line: 'git clone https://github.com/acme/shop (token ghp_R8f2kLm9QzX4vB7nT1yW6cJ3hD5sA0pE2uGi)', secrets: ['ghp_R8f2kLm9QzX4vB7nT1yW6cJ3hD5sA0pE2uGi', 'R8f2kLm9QzX4vB7nT1yW6cJ3hD5sA0pE2uGi'], keeps: 'git clone https://github.com/acme/shop' },
  { id: 'gitlab-token', line: 'registry login with glpat-Xa8Kd93nLq2Wz7VbYt4M failed', secrets: ['glpat-Xa8Kd93nLq2Wz7VbYt4M', 'Xa8Kd93nLq2Wz7VbYt4M'], keeps: 'registry login with' },
  { id: 'gcp-api-key', line: 'geocoder: using key AIzaSyD8kL3mN9pQ2rS5tU7vW0xY1zA4bC6dE8f', secrets: ['AIzaSyD8kL3mN9pQ2rS5tU7vW0xY1zA4bC6dE8f'], keeps: 'geocoder: using key' },
  { id: 'slack-bot-token', line: 'notifier: posting with xoxb-2048392011-2048392012345-aBcDeFgHiJkLmNoPqRsTuVwX', secrets: ['xoxb-2048392011-2048392012345-aBcDeFgHiJkLmNoPqRsTuVwX', 'aBcDeFgHiJkLmNoPqRsTuVwX'], keeps: 'notifier: posting with' },
  { id: 'slack-app-token', line: 'socket mode: xapp-1-A01B2C3D4E5-1234567890123-0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9', secrets: ['xapp-1-A01B2C3D4E5', '0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9'], keeps: 'socket mode:' },
  { id: 'stripe-secret-key', line: 'billing: charging via sk_live_51HxYzAbCdEfGhIjKlMnOpQrStUvWx', secrets: ['sk_live_51HxYzAbCdEfGhIjKlMnOpQrStUvWx', '51HxYzAbCdEfGhIjKlMnOpQrStUvWx'], keeps: 'billing: charging via' },
  { id: 'jwt', line: 'auth: session eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c expired', secrets: ['eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ', 'SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c'], keeps: 'auth: session' },
  { id: 'pem-private-key', line: ['loaded key:', '-----BEGIN RSA PRIVATE KEY-----', ...PEM_BODY, '-----END RSA PRIVATE KEY-----', 'tls ready'].join('\n'), secrets: PEM_BODY, keeps: 'tls ready' },
  { id: 'postgres-url', line: 'db: connecting to postgres://app:S3cr3tPassw0rd@db.internal:5432/shop?sslmode=require', secrets: ['S3cr3tPassw0rd'], keeps: '@db.internal:5432/shop' },
  { id: 'url-basic-auth', line: 'pulling https://deploy:Tr0ub4dor-3x@registry.example.com/v2/shop/web/manifests/1', secrets: ['Tr0ub4dor-3x'], keeps: 'registry.example.com/v2/shop/web/manifests/1' },
  { id: 'env-password', line: 'config: DB_PASSWORD=hunter2-Correct-Horse DB_USER=shop', secrets: ['hunter2-Correct-Horse'], keeps: 'DB_USER=shop' },
  { id: 'json-password', line: '{"level":"debug","msg":"login attempt","user":"shop","password":"pa55-W0rd-json"}', secrets: ['pa55-W0rd-json'], keeps: '"user":"shop"' },
  { id: 'escaped-json-secret', line: 'payload="{\\"client_secret\\":\\"cs-9QvX2mL7pR4t\\",\\"scope\\":\\"read\\"}"', secrets: ['cs-9QvX2mL7pR4t'], keeps: 'scope' },
  { id: 'bearer-header', line: 'upstream GET /v1/orders Authorization: Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0 -> 401', secrets: ['9f8e7d6c5b4a39281706f5e4d3c2b1a0'], keeps: '-> 401' },
  { id: 'basic-header', line: 'curl -H "authorization: Basic c2hvcDpodW50ZXIyLWJhc2ljLWF1dGg=" https://api.internal', secrets: ['c2hvcDpodW50ZXIyLWJhc2ljLWF1dGg='], keeps: 'https://api.internal' },
  { id: 'secret-base64', line: 'secret data: aHVudGVyMi1zM2NyM3QtdmFsdWUtZnJvbS1rOHM=', secrets: ['aHVudGVyMi1zM2NyM3QtdmFsdWUtZnJvbS1rOHM='], keeps: 'secret data:' },
];

/** Printed in contexts no pattern recognises: only the values kubemend was told about catch them. */
export const KNOWN_VALUE_CASES: readonly SecretCase[] = [
  { id: 'mounted-secret', line: `seeding sessions from ${MOUNTED_SECRET} (restart 3)`, secrets: [MOUNTED_SECRET], keeps: '(restart 3)' },
  { id: 'mounted-secret-base64', line: `cache key v1-${Buffer.from(MOUNTED_SECRET).toString('base64').replace(/=+$/, '')} stored`, secrets: [Buffer.from(MOUNTED_SECRET).toString('base64').replace(/=+$/, '')], keeps: 'stored' },
  { id: 'configured-token', line: `forwarding alerts with ${CONFIGURED_TOKEN} to the pager`, secrets: [CONFIGURED_TOKEN], keeps: 'to the pager' },
];

/** Ordinary values an engineer needs: never masked. */
export const ORDINARY: readonly string[] = [
  'GET /apis/apps/v1/namespaces/shop/deployments/web: 404',
  'GET /api/v1/namespaces/Default/pods/web-7d9f8b6c5d-x2x9z/log?tailLines=20',
  'image shop/web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
  'image registry.k8s.io/ingress-nginx/controller:v1.9.4@sha256:5b161f051d017e55d358435f295f5e9a297e66158f136321d9b04520ec6c48a3',
  'uid 3f1c2b9a-7d4e-4c1a-9b2f-0e8d7c6b5a49 resourceVersion 123456789 generation 7',
  'container 8f9e2d1c0b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e exited with code 137',
  'conditions: Available=True (MinimumReplicasAvailable), Progressing=True (NewReplicaSetAvailable)',
  'web-7d9f8b6c5d-x2x9z Running ready, restarts 0',
  'https://grafana.example.com/d/f3a1b2c3d4/checkout-errors?orgId=1',
  'trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7 commit=9fceb02d0ae598e95dc970b74767f19372d61af8',
  'token verification failed; Basic authentication required',
  'spec: secretName: db-creds tokenCount=5 password_min_length=8',
  'MountVolume.SetUp failed for volume "creds" : secret "db-creds" not found',
  'env DB_PASSWORD from secretKeyRef db-creds/password; token=${API_TOKEN}; password: [redacted]',
  'panic: runtime error: invalid memory address or nil pointer dereference [signal SIGSEGV]',
  '    at OrderService.load (/app/dist/services/order.js:120:15)',
  'scale deployment shop/web from 3 to 5 on cluster prod',
];
