// Plays a container's command (commands.ts) in cluster time: log lines when
// they are written, sleeps, and the exit with the command's status. A command
// the model does not interpret leaves the container to its image's behaviour.
import { k8sTime } from '../../common/index.ts';
import { expandKubeVars, interpretCommand, type CommandOutcome, type Op } from '../commands.ts';
import type { K8sObject } from '../types.ts';
import type { ContainerRuntime, PodEnv } from './kubelet-runtime.ts';

export interface ProgramState {
  ops: Op[];
  loop?: number;
  status: number;
  pc: number;
  /** When the next op runs (Infinity: sleeping for good). */
  nextAt: number;
  /** Set when the program has exited. */
  exitCode?: number;
}

/** The container's environment as its process sees it: literal values and the references the sandbox can resolve. */
export function containerEnv(env: PodEnv, spec: any): Record<string, string> {
  const pod = env.pod;
  const ns = pod.metadata.namespace!;
  const out: Record<string, string> = {};
  for (const e of spec.env ?? []) {
    if (!e?.name) continue;
    if (typeof e.value === 'string') out[e.name] = expandKubeVars(e.value, out);
    else if (e.valueFrom) {
      const v = resolveRef(env, pod, ns, e.valueFrom);
      if (v !== undefined) out[e.name] = v;
    }
  }
  return out;
}

function resolveRef(env: PodEnv, pod: K8sObject, ns: string, from: any): string | undefined {
  if (from.fieldRef?.fieldPath) {
    const f = from.fieldRef.fieldPath as string;
    const fields: Record<string, string | undefined> = {
      'metadata.name': pod.metadata.name,
      'metadata.namespace': ns,
      'metadata.uid': pod.metadata.uid,
      'spec.nodeName': pod.spec?.nodeName,
      'spec.serviceAccountName': pod.spec?.serviceAccountName,
      'status.podIP': env.podIP,
      'status.hostIP': pod.status?.hostIP,
    };
    const label = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(f);
    return label ? pod.metadata[label[1] as 'labels']?.[label[2]] : fields[f];
  }
  const cm = from.configMapKeyRef;
  if (cm?.name && cm.key) return env.ctx.store.get('configmaps', ns, cm.name)?.data?.[cm.key];
  const sec = from.secretKeyRef;
  if (sec?.name && sec.key) {
    const b64 = env.ctx.store.get('secrets', ns, sec.name)?.data?.[sec.key];
    return typeof b64 === 'string' ? Buffer.from(b64, 'base64').toString('utf8') : undefined;
  }
  return undefined;
}

export function commandOf(env: PodEnv, c: ContainerRuntime): CommandOutcome {
  const pod = env.pod;
  const hostname = String(pod.spec?.hostname ?? pod.metadata.name ?? '').slice(0, 63);
  return interpretCommand({ command: c.spec.command, args: c.spec.args, env: containerEnv(env, c.spec), hostname });
}

/** Runs the ops that are due at `now`; true when anything happened. */
export function runProgram(env: PodEnv, c: ContainerRuntime, now: number): boolean {
  const p = c.program;
  if (!p || p.exitCode !== undefined || now < p.nextAt) return false;
  const ns = env.pod.metadata.namespace!;
  const pod = env.pod.metadata.name!;
  // Ops run at their own time, so a kubelet that catches up replays a loop's passes in order.
  let t = p.nextAt;
  for (let guard = 0; guard < 100_000 && t <= now; guard++) {
    if (p.pc >= p.ops.length) {
      if (p.loop === undefined) {
        finish(c, p, p.status, t);
        return true;
      }
      p.pc = p.loop;
    }
    const op = p.ops[p.pc++];
    if ('out' in op) env.ctx.logs.append(ns, pod, c.name, op.out);
    else if ('date' in op) env.ctx.logs.append(ns, pod, c.name, dateOutput(t));
    else if ('sleep' in op) t += op.sleep;
    else {
      finish(c, p, op.exit, t);
      return true;
    }
  }
  p.nextAt = t;
  return true;
}

function finish(c: ContainerRuntime, p: ProgramState, code: number, at: number): void {
  p.exitCode = code;
  p.nextAt = Infinity;
  c.exitAt = at;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `date` with no TZ in a container: `Thu Dec  5 13:34:00 UTC 2024`. */
export function dateOutput(ms: number): string {
  const d = new Date(ms);
  const hms = k8sTime(ms).slice(11, 19);
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${hms} UTC ${d.getUTCFullYear()}`;
}
