// The redactor's cost: it runs on every log tail k8s.collect and job.run
// read, every step output, Event summary, chat message and audit record.
// A 50 KB log tail (what logTail 500 of a chatty service is), without and
// with credentials in it, and the short texts of chat and Events, with the
// process's usual known values (configured tokens) loaded.
import { Redactor } from '../src/common/redact.ts';
import { measure, type BenchCase, type BenchSection } from './harness.ts';

const LINES = [
  '2026-05-01T10:00:00.123Z INFO  http request method=GET path=/api/v1/orders/12345 status=200 duration_ms=12 user=alice@example.com',
  '2026-05-01T10:00:00.456Z WARN  cache miss key=orders:12345 region=eu-west-1 retry=2',
  '2026-05-01T10:00:01.001Z ERROR db query failed: connection reset by peer (host=db.internal:5432)',
  '    at OrderService.load (/app/dist/services/order.js:120:15)',
  '{"level":"info","ts":1777629601.123,"caller":"server/main.go:88","msg":"listening","addr":":8080","image":"shop/web:1.4.2"}',
];

function tail(bytes: number, withSecrets: boolean): string {
  let text = '';
  for (let i = 0; text.length < bytes; i++) {
    let line = LINES[i % LINES.length];
    if (withSecrets && i % 5 === 1) line += ' DB_PASSWORD=hunter2-Correct-Horse token ghp_R8f2kLm9QzX4vB7nT1yW6cJ3hD5sA0pE2uGi';
    text += `${line}\n`;
  }
  return text;
}

async function times(name: string, n: number, text: string, r: Redactor, budgetMs?: number): Promise<BenchCase> {
  for (let i = 0; i < 20; i++) r.redact(text);
  return measure(name, n, async () => {
    for (let i = 0; i < n; i++) r.redact(text);
  }, budgetMs);
}

export async function run(): Promise<BenchSection> {
  const r = new Redactor();
  for (let i = 0; i < 20; i++) r.addSecret(`configured-token-${i}-Qx7Lm2Np9Rs4`);
  const clean = tail(50_000, false);
  const dirty = tail(50_000, true);
  const cases = [
    await times('50 KB log tail, no credentials', 200, clean, r, 2000),
    await times('50 KB log tail, credentials on 1 line in 5', 200, dirty, r, 4000),
    await times('chat message with a link', 10_000, 'restart deployment/web -n shop --reason "pods stuck after the 10:00 deploy" --link https://jira.example.com/browse/OPS-1', r, 2000),
    await times('Event message', 10_000, 'Back-off restarting failed container checkout in pod checkout-7d9f8b6c5d-x2x9z_shop(3f1c2b9a-7d4e-4c1a-9b2f-0e8d7c6b5a49)', r, 2000),
  ];
  return {
    title: 'Redaction (src/common/redact.ts)',
    budget: '200 redactions of a 50 KB log tail: < 2s clean, < 4s with credentials (under 10 ms / 20 ms each); 10k short texts (chat, Events) < 2s each.',
    cases,
    notes: [
      "kubemend's own rules run only when one of their keywords is in the text (one case-insensitive pass finds them all); secretlint's preset runs only on text holding a run of 20 token characters or a URL.",
      'Known values (configured tokens, DB password, mounted Secret values) are one alternation regex, rebuilt when a value is added.',
    ],
  };
}
