// The console's calls to its server. Cookie sessions send the CSRF token the
// server gave at sign-in (or /console/api/me) with every POST.
let csrf = '';

export function setCsrf(token) {
  csrf = token || '';
}

/** { status, data } for a GET (no body) or a JSON POST. Paths are relative to /console/. */
export async function call(path, body) {
  const post = body !== undefined;
  const res = await fetch(path, {
    method: post ? 'POST' : 'GET',
    credentials: 'same-origin',
    headers: post ? { 'content-type': 'application/json', 'x-kubemend-csrf': csrf } : {},
    body: post ? JSON.stringify(body) : undefined,
  });
  let data = {};
  try { data = await res.json(); } catch { /* an empty answer */ }
  return { status: res.status, data };
}

/** The views' API: GET or POST under api/v1/, an Error with the server's message when it refuses. */
export async function api(path, body) {
  const r = await call(`api/v1/${path}`, body);
  if (r.status === 401) {
    window.dispatchEvent(new Event('kubemend:signed-out'));
    throw new Error('signed out');
  }
  if (r.status >= 400) throw Object.assign(new Error(r.data.error || `HTTP ${r.status}`), { status: r.status });
  return r.data;
}
