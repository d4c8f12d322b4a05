// Field selectors as the API server parses and converts them: fields.ParseSelector
// (terms split on unescaped commas, sorted, `!=` `==` `=`, escaped values),
// then each kind's field label conversion (which labels it accepts, aliases,
// its own error wording), then matching against the kind's selectable fields
// (booleans as "true"/"false", counts as numbers, absent values as "").
import { ApiError } from './status.ts';
import type { K8sObject } from './types.ts';

type Value = (o: K8sObject) => string;

interface KindFields {
  /** Selectable field -> how the registry computes its value. */
  fields: Record<string, Value>;
  /** Labels a client may send that convert to another field. */
  aliases?: Record<string, string>;
  /** The conversion's error for an unknown label. */
  unknown: (label: string) => string;
}

const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));
const path = (p: string): Value => (o) => {
  let cur: any = o;
  for (const seg of p.split('.')) cur = cur?.[seg];
  return str(cur);
};
const name: Value = (o) => str(o.metadata.name);
const namespace: Value = (o) => str(o.metadata.namespace);
const notSupported = (label: string) => `field label not supported: ${label}`;

const EVENT_FIELDS: Record<string, Value> = {
  'metadata.name': name,
  'metadata.namespace': namespace,
  'involvedObject.kind': path('involvedObject.kind'),
  'involvedObject.namespace': path('involvedObject.namespace'),
  'involvedObject.name': path('involvedObject.name'),
  'involvedObject.uid': path('involvedObject.uid'),
  'involvedObject.apiVersion': path('involvedObject.apiVersion'),
  'involvedObject.resourceVersion': path('involvedObject.resourceVersion'),
  'involvedObject.fieldPath': path('involvedObject.fieldPath'),
  reason: path('reason'),
  reportingComponent: path('reportingComponent'),
  // The event registry's "source": the component, else the reporting controller.
  source: (o) => str(o.source?.component || o.reportingComponent),
  type: path('type'),
};

/** By `group/Kind` ('' group for core): the kinds with their own field label conversion. */
const KINDS: Record<string, KindFields> = {
  '/Pod': {
    fields: {
      'metadata.name': name,
      'metadata.namespace': namespace,
      'spec.nodeName': path('spec.nodeName'),
      'spec.restartPolicy': path('spec.restartPolicy'),
      'spec.schedulerName': path('spec.schedulerName'),
      'spec.serviceAccountName': path('spec.serviceAccountName'),
      'spec.hostNetwork': (o) => String(o.spec?.hostNetwork === true),
      'status.phase': path('status.phase'),
      'status.podIP': (o) => str(o.status?.podIPs?.[0]?.ip ?? o.status?.podIP),
      // Accepted by the conversion but not among the pod's selectable fields: always "".
      'status.podIPs': () => '',
      'status.nominatedNodeName': path('status.nominatedNodeName'),
    },
    aliases: { 'spec.host': 'spec.nodeName' },
    unknown: notSupported,
  },
  '/Node': {
    fields: { 'metadata.name': name, 'spec.unschedulable': (o) => String(o.spec?.unschedulable === true) },
    unknown: notSupported,
  },
  '/Event': { fields: EVENT_FIELDS, unknown: notSupported },
  '/Namespace': { fields: { 'metadata.name': name, 'status.phase': path('status.phase') }, unknown: notSupported },
  '/Secret': { fields: { 'metadata.name': name, 'metadata.namespace': namespace, type: path('type') }, unknown: notSupported },
  '/Service': {
    fields: { 'metadata.name': name, 'metadata.namespace': namespace, 'spec.clusterIP': path('spec.clusterIP'), 'spec.type': path('spec.type') },
    unknown: notSupported,
  },
  'batch/Job': {
    fields: { 'metadata.name': name, 'metadata.namespace': namespace, 'status.successful': (o) => String(o.status?.succeeded ?? 0) },
    unknown: (label) => `field label ${JSON.stringify(label)} not supported for batchv1.Job`,
  },
  // events.k8s.io/v1 names, mapped onto the stored core Event's selectable fields.
  'events.k8s.io/Event': {
    fields: {
      'metadata.name': name,
      'metadata.namespace': namespace,
      reason: EVENT_FIELDS.reason,
      type: EVENT_FIELDS.type,
      reportingController: EVENT_FIELDS.reportingComponent,
      ...Object.fromEntries(['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath'].map((f) => [`regarding.${f}`, EVENT_FIELDS[`involvedObject.${f}`]])),
    },
    unknown: notSupported,
  },
};

/** Kinds without a conversion of their own: metav1's default, plus what their registry selects on. */
const EXTRA: Record<string, Record<string, Value>> = {
  'apps/ReplicaSet': { 'status.replicas': (o) => String(o.status?.replicas ?? 0) },
};

function kindFields(group: string, kind: string): KindFields {
  const own = KINDS[`${group}/${kind}`];
  if (own) return own;
  const extra = EXTRA[`${group}/${kind}`] ?? {};
  return {
    fields: { 'metadata.name': name, 'metadata.namespace': namespace, ...extra },
    unknown: (label) => `${JSON.stringify(label)} is not a known field selector: only "metadata.name", "metadata.namespace"`,
  };
}

/** fields.UnescapeValue */
function unescape(v: string): string {
  let out = '';
  let slash = false;
  for (const c of v) {
    if (slash) {
      if (c !== '\\' && c !== ',' && c !== '=') throw ApiError.badRequest(`invalid field selector: invalid escape sequence: \\${c}`);
      out += c;
      slash = false;
    } else if (c === '\\') slash = true;
    else if (c === ',' || c === '=') throw ApiError.badRequest(`invalid field selector: unescaped character in value: ${c.codePointAt(0)}`);
    else out += c;
  }
  if (slash) throw ApiError.badRequest('invalid field selector: invalid escape sequence: \\');
  return out;
}

function splitTerms(s: string): string[] {
  const terms: string[] = [];
  let start = 0;
  let slash = false;
  for (let i = 0; i < s.length; i++) {
    if (slash) slash = false;
    else if (s[i] === '\\') slash = true;
    else if (s[i] === ',') {
      terms.push(s.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(s.slice(start));
  return terms;
}

export type ObjectMatcher = (obj: K8sObject) => boolean;

/**
 * Parses a field selector for a kind; a malformed one or a field the kind
 * does not select on is a 400 in the API server's words.
 */
export function parseFieldSelector(input: string | undefined, kind: string, group = ''): ObjectMatcher {
  if (!input) return () => true;
  const k = kindFields(group, kind);
  const terms: { label: string; neg: boolean; want: string }[] = [];
  for (const part of splitTerms(input).sort()) {
    if (!part) continue;
    const m = part.match(/^(.*?)(!=|==|=)(.*)$/s);
    if (!m) throw ApiError.badRequest(`invalid selector: '${input}'; can't understand '${part}'`);
    terms.push({ label: m[1], neg: m[2] === '!=', want: unescape(m[3]) });
  }
  // The kind's conversion runs once the whole selector has parsed.
  const checks = terms.map((t) => {
    const field = k.aliases?.[t.label] ?? t.label;
    const value = Object.hasOwn(k.fields, field) ? k.fields[field] : undefined;
    if (!value) throw ApiError.badRequest(k.unknown(t.label));
    return { value, neg: t.neg, want: t.want };
  });
  return (o) => checks.every((c) => (c.value(o) === c.want) !== c.neg);
}
