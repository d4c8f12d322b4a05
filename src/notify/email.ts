// Email over SMTP with nodemailer: a plain-text body and a simple HTML one,
// subject "[kubemend] <severity> <title>", and threading headers built from
// the thread key (the incident, else the run): the first message of an
// incident carries the thread's own Message-ID, every other one a new
// Message-ID with In-Reply-To and References pointing at it, so mail clients
// group an incident's mails even when the first was not sent to them (and a
// re-sent first mail has the same Message-ID, which clients fold together).
// SMTP answers: 4xx and connection failures are retried, 5xx refused.
import nodemailer from 'nodemailer';
import type { Delivery, DeliveryResult, NotifyEvent, Receiver } from './types.ts';

export interface EmailOptions {
  name: string;
  to: string[];
  from: string;
  smtp: { host: string; port: number; secure: boolean; requireTLS: boolean; rejectUnauthorized: boolean; user?: string; password?: string };
  timeoutMs?: number;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The Message-ID of a thread's first mail: `<incident.ID@domain>`. */
export function threadMessageId(key: string, domain: string): string {
  return `<${key.replace(/[^A-Za-z0-9._-]/g, '.')}@${domain}>`;
}

const FIRST: ReadonlySet<NotifyEvent['kind']> = new Set(['incident.opened', 'run.started']);

export function renderEmail(d: Delivery, from: string): { subject: string; text: string; html: string; headers: Record<string, string>; messageId: string } {
  const e = d.event;
  const domain = from.split('@')[1] ?? 'kubemend';
  const root = threadMessageId(d.key, domain);
  const first = FIRST.has(e.kind) || !d.key.match(/^(incident|run)\//);
  const messageId = first ? root : `<${d.id}.${d.key.replace(/[^A-Za-z0-9._-]/g, '.')}@${domain}>`;
  const facts: [string, string][] = [
    ['Event', e.kind],
    ...(e.incident ? ([['Incident', `${e.incident.id} (${e.incident.status})`]] as [string, string][]) : []),
    ...Object.entries(e.labels).map(([k, v]) => [k, v] as [string, string]),
    ...(e.runId ? ([['Run', e.runId]] as [string, string][]) : []),
    ...(e.auditId ? ([['Audit record', e.auditId]] as [string, string][]) : []),
    ['Time', new Date(e.time).toISOString()],
  ];
  const links = e.links ?? [];
  const text = [e.title, '', e.text, '', ...facts.map(([k, v]) => `${k}: ${v}`), ...(links.length ? ['', ...links.map((l) => `${l.text}: ${l.href}`)] : []), '', '-- kubemend'].join('\n');
  const html = `<h3>${esc(e.title)}</h3><p>${esc(e.text).replace(/\n/g, '<br>')}</p><table>${facts.map(([k, v]) => `<tr><th align="left">${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>${links.length ? `<ul>${links.map((l) => `<li><a href="${esc(l.href)}">${esc(l.text)}</a></li>`).join('')}</ul>` : ''}<p>-- kubemend</p>`;
  const headers: Record<string, string> = { 'X-Kubemend-Delivery': d.id, 'X-Kubemend-Event': e.kind };
  if (!first) Object.assign(headers, { 'In-Reply-To': root, References: root });
  return { subject: `[kubemend] ${e.severity} ${e.title}`.replace(/[\r\n]+/g, ' '), text, html, headers, messageId };
}

export class EmailReceiver implements Receiver {
  readonly name: string;
  readonly type = 'email' as const;
  private readonly o: EmailOptions;
  private readonly transport: nodemailer.Transporter;

  constructor(o: EmailOptions) {
    this.name = o.name;
    this.o = o;
    const s = o.smtp;
    const t = o.timeoutMs ?? 30_000;
    this.transport = nodemailer.createTransport({
      host: s.host,
      port: s.port,
      secure: s.secure,
      requireTLS: s.requireTLS,
      tls: { rejectUnauthorized: s.rejectUnauthorized },
      ...(s.user ? { auth: { user: s.user, pass: s.password ?? '' } } : {}),
      connectionTimeout: t,
      greetingTimeout: t,
      socketTimeout: t,
    });
  }

  async deliver(d: Delivery): Promise<DeliveryResult> {
    const m = renderEmail(d, this.o.from);
    try {
      const info = await this.transport.sendMail({ from: this.o.from, to: this.o.to, subject: m.subject, text: m.text, html: m.html, messageId: m.messageId, headers: m.headers });
      const rejected = (info.rejected ?? []).map(String);
      if (rejected.length === this.o.to.length) return { ok: false, retryable: false, error: `SMTP rejected every recipient: ${rejected.join(', ')}` };
      return { ok: true, ref: `${info.messageId}${rejected.length ? ` (rejected: ${rejected.join(', ')})` : ''}` };
    } catch (err) {
      const e = err as Error & { responseCode?: number; code?: string; response?: string };
      // The server's reply code decides (4xx: try later); without one, a refused login or envelope is final.
      const permanent = e.responseCode !== undefined ? e.responseCode >= 500 : e.code === 'EAUTH' || e.code === 'EENVELOPE';
      return { ok: false, retryable: !permanent, error: `SMTP ${this.o.smtp.host}:${this.o.smtp.port}: ${e.code ? `${e.code} ` : ''}${e.response ?? e.message}` };
    }
  }

  close(): void {
    this.transport.close();
  }
}
