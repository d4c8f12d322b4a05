// The web console's HTTP surface: the page and its static modules at
// /console/, and — when the service gives it its parts (store, policy,
// runbooks) — the views' JSON API at /console/api/v1/ and their live stream.
// The chat adapter (src/chat/adapters/console/) owns sign-in, sessions, CSRF
// and the chat endpoints; every route here sits behind its guard, so one
// session, one CSRF token and one same-origin rule cover the whole console.
//
// Each view's routes live in their own file (routes-*.ts) and register
// through ROUTES; they read through the store and decide through
// ConsoleContext, which authorises with the chat policy and audits refusals.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ConsoleAdapter } from '../../chat/index.ts';
import { Errors } from '../../common/index.ts';
import { ConsoleContext, type ConsoleServices } from './context.ts';
import { LiveHub } from './live.ts';
import { ROUTES } from './routes.ts';

const STATIC_DIR = join(import.meta.dirname, 'static');
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export interface ConsolePluginOptions {
  adapter: ConsoleAdapter;
  /** The service's parts; without them only the page and chat are served (e.g. `watch --listen`). */
  services?: ConsoleServices;
}

/** Every file below static/, read once: the console has no build step and is a few dozen KiB. */
function staticFiles(): Map<string, { type: string; body: Buffer }> {
  const out = new Map<string, { type: string; body: Buffer }>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const file = join(dir, name);
      if (statSync(file).isDirectory()) walk(file);
      else if (TYPES[extname(name)]) out.set(relative(STATIC_DIR, file).split('\\').join('/'), { type: TYPES[extname(name)], body: readFileSync(file) });
    }
  };
  walk(STATIC_DIR);
  return out;
}

export async function consolePlugin(app: FastifyInstance, opts: ConsolePluginOptions): Promise<void> {
  const { adapter } = opts;
  adapter.guard(app);
  const files = staticFiles();
  // Relative links on the page keep it working under a path prefix behind a proxy.
  app.get('/console', (_req, reply) => reply.redirect('/console/', 302));
  app.get('/console/', (_req, reply) => reply.type(TYPES['.html']).send(files.get('index.html')!.body));
  app.get('/console/*', (req, reply) => {
    const f = files.get((req.params as { '*': string })['*']);
    if (!f) return reply.code(404).send({ error: 'no such console file' });
    return reply.type(f.type).send(f.body);
  });
  const services = opts.services;
  if (!services) {
    // The page asks first, and shows chat alone.
    app.get('/console/api/v1/overview', (req, reply) => {
      const user = adapter.authenticate(req);
      return user ? { views: false, user: { name: user.name, groups: user.groups } } : adapter.unauthorized(reply, req);
    });
    app.get('/console/api/v1/*', (_req, reply) => reply.code(404).send({ error: 'the console views need `kubemend serve`; this server offers chat only' }));
    return;
  }
  // A repeated query parameter arrives as an array, which no route reads (a store query given one fails with a 500): refuse it first.
  app.addHook('preHandler', async (req, reply) => {
    if (!req.url.startsWith('/console/api/v1/')) return;
    const repeated = Object.entries((req.query ?? {}) as Record<string, unknown>).find(([, v]) => typeof v !== 'string');
    if (repeated) return reply.code(400).send({ error: `the query parameter "${repeated[0].slice(0, 40)}" is given more than once`, code: Errors.CONSOLE_BAD_REQUEST.code });
  });
  const live = new LiveHub(services);
  const ctx = new ConsoleContext(adapter, services, live);
  app.get('/console/api/v1/stream', (req, reply) => live.serve(req, reply, ctx));
  for (const register of ROUTES) register(app, ctx);
  live.start();
  app.addHook('preClose', async () => live.stop());
}
