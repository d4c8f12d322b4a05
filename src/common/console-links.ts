// Deep links into the web console: the console routes by the URL's hash
// (#/incidents/ID), so a link is the service's public base URL, /console/,
// and the view's path. Chat messages and notifications carry one when the
// service knows its public URL (server.publicUrl, --public-url or
// $KUBEMEND_PUBLIC_URL); without it they carry none, since a link to the
// address kubemend listens on is rarely the one people reach it at.
import { Errors, KubemendError } from './errors.ts';

/** Builds `${base}/console/#/${view}/${id}` links; undefined without a base. */
export type ConsoleLinks = (view: 'incidents' | 'runs' | 'audit' | 'detections', id: string) => string | undefined;

/** The link builder of a public base URL (http or https, no query or fragment); KM-CLI-001 when it is not one. */
export function consoleLinks(base: string | undefined): ConsoleLinks {
  if (!base) return () => undefined;
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new KubemendError(Errors.BAD_FLAG, `the public URL "${base.slice(0, 200)}" is not a URL: give kubemend's address as people reach it, e.g. https://kubemend.example.com`);
  }
  if (!/^https?:$/.test(url.protocol) || url.search || url.hash || url.username || url.password) {
    throw new KubemendError(Errors.BAD_FLAG, `the public URL "${base.slice(0, 200)}" must be http(s)://host[/path], without credentials, query or fragment`);
  }
  const root = url.href.replace(/\/+$/, '');
  return (view, id) => `${root}/console/#/${view}/${encodeURIComponent(id)}`;
}
