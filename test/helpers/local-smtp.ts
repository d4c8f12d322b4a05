// A real SMTP server (the smtp-server package, as mail servers speak it) for
// tests of the email receiver and the service's notifications: it keeps each
// message it accepts with its envelope, raw text and parsed headers.
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';

export const SMTP_PASSWORD = 'smtp-pass-5d8e2a91c4';

export interface Mail { from: string; to: string[]; raw: string; headers: Record<string, string>; body: string; user?: string; secure: boolean }

/** Headers of a raw message, unfolded, names lowercased (first occurrence wins). */
export function parseMail(raw: string): { headers: Record<string, string>; body: string } {
  const at = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, at).replace(/\r\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n')) {
    const i = line.indexOf(':');
    const name = line.slice(0, i).toLowerCase();
    if (!(name in headers)) headers[name] = line.slice(i + 1).trim();
  }
  return { headers, body: raw.slice(at + 4) };
}

export async function smtp(opts: { tls?: boolean; rcptError?: { code: number; message: string } } = {}) {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authMethods: ['PLAIN', 'LOGIN'],
    allowInsecureAuth: !opts.tls,
    disabledCommands: opts.tls ? [] : ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === 'kubemend' && auth.password === SMTP_PASSWORD) cb(null, { user: auth.username });
      else cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onRcptTo(_addr, _session, cb) {
      if (opts.rcptError) cb(Object.assign(new Error(opts.rcptError.message), { responseCode: opts.rcptError.code }));
      else cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        mails.push({ from: (session.envelope.mailFrom as { address: string }).address, to: session.envelope.rcptTo.map((r) => r.address), raw, ...parseMail(raw), user: session.user as string | undefined, secure: session.secure });
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.server.address() as AddressInfo).port;
  return { mails, port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

