// A PagerDuty Events API v2 endpoint for tests, strict where PagerDuty's
// documentation is (developer.pagerduty.com, "Send an Alert Event" and
// "Events API v2 Overview"): POST /v2/enqueue with Content-Type
// application/json, at most 512 KB; routing_key (32 characters) and
// event_action (trigger|acknowledge|resolve) required; dedup_key at most 255
// characters, needed by acknowledge and resolve; a trigger's payload needs
// summary (≤ 1024), source and severity (critical|error|warning|info), and
// its timestamp, when given, is ISO 8601; links need an href, images an https
// src. Unknown fields are refused too, so a misspelt field fails a test.
// It answers as PagerDuty does — 202 {status: "success", message, dedup_key},
// 400 {status: "invalid event", message, errors} — and keeps the alerts by
// dedup_key as PagerDuty would: a trigger opens one (or adds to the open
// one), acknowledge and resolve apply to the open one of the same
// routing_key, events for none are dropped (still 202), and a trigger after
// a resolve opens a new one. `fail` queues forced answers (429, 500 …).
import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export interface FakeAlert {
  dedupKey: string;
  routingKey: string;
  status: 'triggered' | 'acknowledged' | 'resolved';
  summary: string;
  severity: string;
  /** Every event applied to it, in order. */
  log: string[];
  body: Record<string, unknown>;
}

const TOP = new Set(['routing_key', 'event_action', 'dedup_key', 'payload', 'images', 'links', 'client', 'client_url']);
const PAYLOAD = new Set(['summary', 'source', 'severity', 'timestamp', 'component', 'group', 'class', 'custom_details']);
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function validateEvent(b: unknown): string[] {
  if (!isObj(b)) return ['Event object must be a JSON object'];
  const errs: string[] = [];
  for (const k of Object.keys(b)) if (!TOP.has(k)) errs.push(`'${k}' is not a known field`);
  if (typeof b.routing_key !== 'string' || b.routing_key.length !== 32) errs.push("Length of 'routing_key' is incorrect (should be 32 characters)");
  if (!['trigger', 'acknowledge', 'resolve'].includes(b.event_action as string)) errs.push("'event_action' is invalid (must be one of trigger, acknowledge, resolve)");
  if (b.dedup_key !== undefined && (typeof b.dedup_key !== 'string' || b.dedup_key.length > 255 || b.dedup_key === '')) errs.push("'dedup_key' must be a non-empty string of at most 255 characters");
  if (b.event_action !== 'trigger' && b.dedup_key === undefined) errs.push(`'dedup_key' is required for ${String(b.event_action)} events`);
  if (b.event_action === 'trigger') {
    const p = b.payload;
    if (!isObj(p)) errs.push("'payload' is missing or not an object");
    else {
      for (const k of Object.keys(p)) if (!PAYLOAD.has(k)) errs.push(`'payload.${k}' is not a known field`);
      if (typeof p.summary !== 'string' || p.summary.length === 0) errs.push("'payload.summary' is missing or blank");
      else if ([...p.summary].length > 1024) errs.push("'payload.summary' is longer than 1024 characters");
      if (typeof p.source !== 'string' || p.source.length === 0) errs.push("'payload.source' is missing or blank");
      if (!['critical', 'error', 'warning', 'info'].includes(p.severity as string)) errs.push("'payload.severity' is invalid (must be one of critical, error, warning, info)");
      if (p.timestamp !== undefined && (typeof p.timestamp !== 'string' || !ISO.test(p.timestamp) || Number.isNaN(Date.parse(p.timestamp)))) errs.push("'payload.timestamp' is not a valid ISO 8601 timestamp");
      for (const k of ['component', 'group', 'class'] as const) if (p[k] !== undefined && typeof p[k] !== 'string') errs.push(`'payload.${k}' must be a string`);
      if (p.custom_details !== undefined && !isObj(p.custom_details)) errs.push("'payload.custom_details' must be an object");
    }
  }
  if (b.links !== undefined) {
    if (!Array.isArray(b.links)) errs.push("'links' must be an array");
    else b.links.forEach((l, i) => {
      if (!isObj(l) || typeof l.href !== 'string' || !l.href) errs.push(`'links[${i}].href' is required`);
      else if (l.text !== undefined && typeof l.text !== 'string') errs.push(`'links[${i}].text' must be a string`);
    });
  }
  if (b.images !== undefined && (!Array.isArray(b.images) || b.images.some((im) => !isObj(im) || typeof im.src !== 'string' || !im.src.startsWith('https://')))) errs.push("'images[].src' must be an https URL");
  for (const k of ['client', 'client_url'] as const) if (b[k] !== undefined && typeof b[k] !== 'string') errs.push(`'${k}' must be a string`);
  return errs;
}

export class FakePagerDuty {
  readonly alerts: FakeAlert[] = [];
  readonly requests: { headers: Record<string, string | string[] | undefined>; body: unknown; status: number }[] = [];
  /** Forced answers for the next requests (the event is then not applied). */
  readonly fail: { status: number; headers?: Record<string, string>; body?: string }[] = [];
  private server?: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(raw.toString('utf8'));
          } catch {
            parsed = raw.toString('utf8');
          }
          this.requests.push({ headers: req.headers, body: parsed, status });
          res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(typeof body === 'string' ? body : JSON.stringify(body));
        };
        const invalid = (errors: string[]) => answer(400, { status: 'invalid event', message: 'Event object is invalid', errors });
        if (req.method !== 'POST' || req.url !== '/v2/enqueue') return answer(404, { status: 'not found', message: 'Not Found' });
        const forced = this.fail.shift();
        if (forced) return answer(forced.status, forced.body ?? JSON.stringify({ status: 'error', message: 'forced by the test' }), forced.headers);
        if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) return invalid(['Content-Type must be application/json']);
        if (raw.length > 512 * 1024) return invalid(['Event is larger than 512 KB']);
        let b: unknown;
        try {
          b = JSON.parse(raw.toString('utf8'));
        } catch {
          return answer(400, { status: 'invalid event', message: 'Event object is invalid', errors: ['Invalid JSON'] });
        }
        const errors = validateEvent(b);
        if (errors.length) return invalid(errors);
        const ev = b as Record<string, string> & { payload?: Record<string, string> };
        const key = ev.dedup_key ?? randomUUID();
        const open = this.alerts.find((a) => a.dedupKey === key && a.routingKey === ev.routing_key && a.status !== 'resolved');
        if (ev.event_action === 'trigger') {
          if (open) {
            open.log.push('trigger');
            open.summary = ev.payload!.summary;
          } else {
            this.alerts.push({ dedupKey: key, routingKey: ev.routing_key, status: 'triggered', summary: ev.payload!.summary, severity: ev.payload!.severity, log: ['trigger'], body: ev });
          }
        } else if (open) {
          open.log.push(ev.event_action);
          open.status = ev.event_action === 'acknowledge' ? 'acknowledged' : 'resolved';
        }
        answer(202, { status: 'success', message: 'Event processed', dedup_key: key });
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v2/enqueue`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
