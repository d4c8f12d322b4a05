// GET pods/{name}/log: container selection and the errors the API server and
// kubelet give (several containers and none named, a container that never
// started, no previous instance), tail/since/timestamps/limitBytes, and
// follow=true streaming until the container stops or the pod goes away.
import { RFC3339, parseGoTime } from '../gotime.ts';
import { logTimestamp } from '../logs.ts';
import { ApiError, type StatusCause } from '../status.ts';
import type { K8sObject, StoreEvent } from '../types.ts';
import type { Call, Outcome, ResourceRequest, ServerContext } from './context.ts';
import { boolParam, intParam } from './negotiate.ts';

const names = (cs: any[] | undefined) => (cs ?? []).map((c) => c.name as string);

function pickContainer(pod: K8sObject, requested: string | null): string {
  const name = pod.metadata.name!;
  const containers = names(pod.spec?.containers);
  const inits = names(pod.spec?.initContainers);
  const ephemeral = names(pod.spec?.ephemeralContainers);
  if (requested) {
    if (![...containers, ...inits, ...ephemeral].includes(requested)) {
      throw ApiError.badRequest(`container ${requested} is not valid for pod ${name}`);
    }
    return requested;
  }
  if (containers.length === 1) return containers[0];
  if (containers.length === 0) throw ApiError.badRequest(`a container name must be specified for pod ${name}`);
  let msg = `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`;
  if (inits.length) msg += ` or one of the init containers: [${inits.join(' ')}]`;
  throw ApiError.badRequest(msg);
}

function containerStatus(pod: K8sObject, container: string): any {
  const all = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.ephemeralContainerStatuses ?? [])];
  return all.find((s: any) => s.name === container);
}

/** The kubelet's answer when a container has no log to show (validateContainerLogStatus). */
function noLogError(pod: K8sObject, container: string, previous: boolean): ApiError | undefined {
  const podName = pod.metadata.name;
  if (previous) return ApiError.badRequest(`previous terminated container "${container}" in pod "${podName}" not found`);
  const st = containerStatus(pod, container);
  if (st?.state?.running || st?.state?.terminated || st?.lastState?.terminated) return undefined;
  const reason = st?.state?.waiting?.reason;
  if (reason === 'ErrImagePull') return ApiError.badRequest(`container "${container}" in pod "${podName}" is waiting to start: image can't be pulled`);
  if (reason === 'ImagePullBackOff') return ApiError.badRequest(`container "${container}" in pod "${podName}" is waiting to start: trying and failing to pull image`);
  if (reason) return ApiError.badRequest(`container "${container}" in pod "${podName}" is waiting to start: ${reason}`);
  return ApiError.badRequest(`container "${container}" in pod "${podName}" is waiting to start - no logs yet`);
}

interface LogOptions {
  container: string | null;
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  sinceSeconds?: number;
  sinceTime?: number;
  tailLines?: number;
  limitBytes?: number;
}

/** PodLogOptions from the query: Go's conversion (400 when malformed), then ValidatePodLogOptions (422). */
function logOptions(q: URLSearchParams, podName: string): LogOptions {
  const since = q.get('sinceTime');
  let sinceTime: number | undefined;
  // UnmarshalQueryParameter tolerates "null" from old clients that JSON-encoded the value.
  if (since && since !== 'null') {
    try {
      const t = parseGoTime(since, RFC3339);
      sinceTime = t.seconds * 1000 + Math.floor(t.nanos / 1e6);
    } catch (err) {
      throw ApiError.badRequest((err as Error).message);
    }
  }
  const o: LogOptions = {
    container: q.get('container'),
    follow: boolParam(q, 'follow'),
    previous: boolParam(q, 'previous'),
    timestamps: boolParam(q, 'timestamps'),
    sinceSeconds: intParam(q, 'sinceSeconds'),
    sinceTime,
    tailLines: intParam(q, 'tailLines'),
    limitBytes: intParam(q, 'limitBytes'),
  };
  const causes: StatusCause[] = [];
  if (o.tailLines !== undefined && o.tailLines < 0) causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${o.tailLines}: must be greater than or equal to 0`, field: 'tailLines' });
  if (o.limitBytes !== undefined && o.limitBytes < 1) causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${o.limitBytes}: must be greater than 0`, field: 'limitBytes' });
  if (o.sinceSeconds !== undefined && o.sinceTime !== undefined) {
    causes.push({ reason: 'FieldValueForbidden', message: 'Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified', field: '' });
  } else if (o.sinceSeconds !== undefined && o.sinceSeconds < 1) {
    causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${o.sinceSeconds}: must be greater than 0`, field: 'sinceSeconds' });
  }
  if (causes.length) throw ApiError.invalid('PodLogOptions', podName, '', causes);
  return o;
}

/** The stream of this container instance ends when it stops running or its pod is deleted. */
function instanceEnded(ev: StoreEvent, container: string): boolean {
  if (ev.type === 'DELETED') return true;
  const before = ev.old && containerStatus(ev.old, container);
  const after = containerStatus(ev.object, container);
  if (!after) return false;
  if (after.state?.terminated && !before?.state?.terminated) return true;
  return (after.restartCount ?? 0) > (before?.restartCount ?? 0);
}

export function handleLog(ctx: ServerContext, call: Call, r: ResourceRequest): Outcome {
  const ns = r.namespace!;
  const podName = r.name!;
  const o = logOptions(call.query, podName);
  const pod = ctx.store.get('pods', ns, podName);
  if (!pod) throw ApiError.notFound('', 'pods', podName);
  const container = pickContainer(pod, o.container);
  // An unscheduled pod has no kubelet to ask: the API server answers with nothing.
  if (!pod.spec?.nodeName) return { code: 200, text: '', contentType: 'text/plain' };
  const now = ctx.clock.now();
  const sinceSeconds = o.sinceSeconds ?? (o.sinceTime !== undefined ? Math.max(0, (now - o.sinceTime) / 1000) : undefined);
  const lines = ctx.logs.read(ns, podName, container, { previous: o.previous, tailLines: o.tailLines, sinceSeconds, timestamps: o.timestamps });
  if (!lines) {
    const err = noLogError(pod, container, o.previous);
    if (err) throw err;
  }
  let text = (lines ?? []).map((l) => `${l}\n`).join('');
  if (o.limitBytes !== undefined) text = Buffer.from(text).subarray(0, o.limitBytes).toString();
  if (!o.follow || o.previous) return { code: 200, text, contentType: 'text/plain' };
  return followLog(ctx, call, { ns, podName, container, timestamps: o.timestamps, initial: text, limitBytes: o.limitBytes });
}

function followLog(
  ctx: ServerContext,
  call: Call,
  o: { ns: string; podName: string; container: string; timestamps: boolean; initial: string; limitBytes?: number },
): Outcome {
  const res = call.hijack();
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  let budget = o.limitBytes ?? Infinity;
  let closed = false;
  const stops: (() => void)[] = [];
  const finish = () => {
    if (closed) return;
    closed = true;
    for (const s of stops) s();
    if (!res.writableEnded) res.end();
  };
  const write = (text: string) => {
    if (closed || !text) return;
    const buf = Buffer.from(text);
    res.write(buf.subarray(0, budget));
    budget -= buf.length;
    if (budget <= 0) finish();
  };
  stops.push(ctx.streams.add(finish));
  res.on('close', finish);
  write(o.initial);
  stops.push(ctx.logs.follow(o.ns, o.podName, o.container, (line) => {
    write(`${o.timestamps ? `${logTimestamp(ctx.clock.now())} ` : ''}${line}\n`);
  }));
  stops.push(ctx.store.subscribe((ev) => {
    if (ev.storage !== 'pods' || ev.object.metadata.namespace !== o.ns || ev.object.metadata.name !== o.podName) return;
    // Let lines logged in the same tick as the stop reach the client first.
    if (instanceEnded(ev, o.container)) setImmediate(finish);
  }));
  return { code: 200, streamed: true };
}
