// An audit record as an Elasticsearch document in ECS field names, and back.
// The mapping is lossless: the verifier rebuilds the exact record from a
// document, re-hashes it, and re-derives the document from it, so an edit of
// any field — hashed or only derived (user.name, kubernetes.*) — shows.
import type { AuditRecord, SignedHead } from '../audit/index.ts';

/** ECS event.outcome: only success, failure and unknown are allowed values. */
export function ecsOutcome(o: AuditRecord['outcome']): 'success' | 'failure' | 'unknown' {
  if (o === 'success') return 'success';
  // A refusal is the attempted action failing, from the actor's point of view.
  if (o === 'failure' || o === 'denied') return 'failure';
  return 'unknown';
}

/** Kinds that Elastic's Kubernetes integrations name under kubernetes.<kind>.name. */
const BEATS_KINDS = new Set(['pod', 'node', 'deployment', 'replicaset', 'statefulset', 'daemonset', 'job', 'cronjob', 'service', 'container']);

/** type-dataset-namespace of a data stream named the Elastic way, else undefined. */
export function dataStreamParts(name: string): { type: string; dataset: string; namespace: string } | undefined {
  const m = /^(logs|metrics|traces|synthetics)-(.+)-([^-]+)$/.exec(name);
  return m ? { type: m[1], dataset: m[2], namespace: m[3] } : undefined;
}

/** The signed head a document carries: what the chain's writer signed, as stored. */
export type ChainHead = Pick<SignedHead, 'seq' | 'hash' | 'keyId' | 'signature' | 'time'>;

export type EsDocument = Record<string, unknown> & { '@timestamp': string; event: { id: string; sequence: number }; kubemend: Record<string, unknown> };

/** Fields of the record held outside `kubemend.*` (or rebuilt from elsewhere). */
const MAPPED = new Set(['seq', 'id', 'time', 'action', 'actor', 'target', 'outcome']);

export function toDocument(r: AuditRecord, dataStream: string, head?: ChainHead): EsDocument {
  const ds = dataStreamParts(dataStream);
  const dataset = ds?.dataset ?? 'kubemend.audit';
  const iso = new Date(r.time).toISOString();
  const kubemend: Record<string, unknown> = { actor: { type: r.actor.type, name: r.actor.name } };
  if (r.outcome !== undefined) kubemend.outcome = r.outcome;
  for (const [k, v] of Object.entries(r)) if (!MAPPED.has(k) && v !== undefined) kubemend[k] = v;
  // @timestamp holds milliseconds; a fractional time is kept whole beside it.
  if (Date.parse(iso) !== r.time) kubemend.time = r.time;
  if (head) kubemend.chain = { head: { seq: head.seq, hash: head.hash, keyId: head.keyId, signature: head.signature, time: head.time } };
  const doc: Record<string, unknown> = {
    '@timestamp': iso,
    event: { kind: 'event', action: r.action, outcome: ecsOutcome(r.outcome), id: r.id, sequence: r.seq, dataset, provider: 'kubemend' },
  };
  if (ds) doc.data_stream = ds;
  if (r.actor.type === 'user') doc.user = { name: r.actor.name };
  const t = r.target;
  if (t) {
    const resource = { ...(t.kind ? { type: t.kind } : {}), ...(t.name ? { name: t.name } : {}) };
    doc.orchestrator = {
      type: 'kubernetes',
      ...(t.cluster ? { cluster: { name: t.cluster } } : {}),
      ...(t.namespace ? { namespace: t.namespace } : {}),
      ...(Object.keys(resource).length ? { resource } : {}),
    };
    const kind = t.kind?.toLowerCase();
    const k8s = { ...(t.namespace ? { namespace: t.namespace } : {}), ...(kind && t.name && BEATS_KINDS.has(kind) ? { [kind]: { name: t.name } } : {}) };
    if (Object.keys(k8s).length) doc.kubernetes = k8s;
  }
  doc.kubemend = kubemend;
  return doc as EsDocument;
}

/** The record a document was made from (throws a TypeError naming what is missing). */
export function fromDocument(doc: Record<string, unknown>): AuditRecord {
  const event = obj(doc.event, 'event');
  const km = { ...obj(doc.kubemend, 'kubemend') };
  const orch = doc.orchestrator === undefined ? undefined : obj(doc.orchestrator, 'orchestrator');
  const iso = doc['@timestamp'];
  if (typeof iso !== 'string') throw new TypeError('@timestamp is missing');
  const time = typeof km.time === 'number' ? km.time : Date.parse(iso);
  delete km.time;
  delete km.chain;
  const { actor, outcome, ...rest } = km;
  const record: Record<string, unknown> = { seq: event.sequence, id: event.id, time, actor, action: event.action };
  if (orch) {
    const cluster = orch.cluster === undefined ? undefined : obj(orch.cluster, 'orchestrator.cluster').name;
    const resource = orch.resource === undefined ? {} : obj(orch.resource, 'orchestrator.resource');
    const target = Object.fromEntries(Object.entries({ cluster, namespace: orch.namespace, kind: resource.type, name: resource.name }).filter(([, v]) => v !== undefined));
    record.target = target;
  }
  if (outcome !== undefined) record.outcome = outcome;
  Object.assign(record, rest);
  return record as unknown as AuditRecord;
}

/** The head a document carries, if any. */
export function documentHead(doc: Record<string, unknown>): ChainHead | undefined {
  const chain = (doc.kubemend as { chain?: { head?: ChainHead } } | undefined)?.chain;
  return chain?.head;
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new TypeError(`${what} is not an object`);
  return v as Record<string, unknown>;
}

const keyword = { type: 'keyword', ignore_above: 1024 };

/** The composable index template for the stream: PUT _index_template/<name>. */
export function indexTemplate(o: { dataStream: string; priority: number; flavor: 'elasticsearch' | 'opensearch' }): Record<string, unknown> {
  const es = o.flavor === 'elasticsearch';
  const constant = es ? { type: 'constant_keyword' } : keyword;
  const name = { properties: { name: keyword } };
  return {
    index_patterns: [o.dataStream],
    data_stream: {},
    priority: o.priority,
    _meta: { managed_by: 'kubemend', description: 'kubemend audit records (docs/trace.md)' },
    template: {
      mappings: {
        // Unknown strings (future fields) as keywords rather than text + keyword pairs.
        dynamic_templates: [{ strings_as_keyword: { match_mapping_type: 'string', mapping: keyword } }],
        properties: {
          '@timestamp': { type: 'date' },
          data_stream: { properties: { type: constant, dataset: constant, namespace: constant } },
          event: { properties: { kind: keyword, action: keyword, outcome: keyword, id: keyword, sequence: { type: 'long' }, dataset: keyword, provider: keyword } },
          user: name,
          orchestrator: { properties: { type: keyword, cluster: name, namespace: keyword, resource: { properties: { type: keyword, name: keyword } } } },
          kubernetes: { properties: { namespace: keyword, ...Object.fromEntries([...BEATS_KINDS].map((k) => [k, name])) } },
          kubemend: {
            properties: {
              actor: { properties: { type: keyword, name: keyword } },
              outcome: keyword,
              hash: keyword,
              prevHash: keyword,
              runId: keyword,
              detectionId: keyword,
              incidentId: keyword,
              justification: { type: 'text', fields: { keyword } },
              link: keyword,
              beforeDigest: keyword,
              afterDigest: keyword,
              // Free-form: one field for any keys, so a new key never conflicts with the mapping.
              data: { type: es ? 'flattened' : 'flat_object' },
              // Any JSON (a list of changes, a string): kept in _source, not indexed.
              diff: { type: 'object', enabled: false },
              time: { type: 'double' },
              chain: { properties: { head: { properties: { seq: { type: 'long' }, hash: keyword, keyId: keyword, signature: { type: 'keyword', index: false, doc_values: false }, time: { type: 'date' } } } } },
            },
          },
        },
      },
    },
  };
}
