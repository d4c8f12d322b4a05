// The sandbox's state file: everything a restarted sandbox needs to carry on
// where a killed one stopped — the objects, the resourceVersion counter, the
// virtual time, what the kubelets and other controllers hold in memory that
// the objects do not show, and how far the scenario has got. One JSON
// document, always written whole (state-writer.ts), read once at start.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { KubemendError, Errors } from '../common/index.ts';
import type { K8sObject } from './types.ts';
import type { EventRecorder } from './events.ts';
import type { FaultBook } from './faults.ts';
import type { ImageCatalog } from './images.ts';
import type { LogBook } from './logs.ts';
import type { NodeHealth } from './nodehealth.ts';
import type { UsageBook } from './usage.ts';
import type { TokenIssuer } from './tokens.ts';

export const STATE_KIND = 'KubemendSandboxState';
/** Bumped whenever a field changes meaning; other versions are refused, never guessed at. */
export const STATE_FORMAT = 1;

/**
 * A restored counter jumps this far past the saved one, and everything below
 * is compacted. A killed sandbox may have handed out resourceVersions after
 * its last snapshot (the lost batch); jumping past them makes every client
 * that saw one get 410 Gone and relist, instead of missing changes. etcd's
 * restore does the same (`etcdutl snapshot restore --bump-revision
 * --mark-compacted`).
 */
export const RESTORE_RV_GAP = 1_000_000;

/** Which scenario a sandbox plays; a state file only restores into the same one. */
export interface ScenarioIdentity {
  name: string;
  /** Hash of the scenario's content: an edited scenario would misplace its steps. */
  fingerprint: string;
}

/** How far a ScenarioRunner has got, in the state file. */
export interface ScenarioProgress {
  scenario: string;
  /** Virtual time the scenario started at; elapsed time is measured from it. */
  startedAt: number;
  /** Indexes of the steps already applied (or attempted): never applied again. */
  appliedSteps: number[];
  milestones: { name: string; reachedAtMs?: number; missed: boolean }[];
  finished: boolean;
}

export interface SandboxState {
  kind: typeof STATE_KIND;
  format: number;
  scenario: ScenarioIdentity | null;
  /** Virtual time of the snapshot (ms since the epoch). */
  savedAt: number;
  resourceVersion: number;
  objects: Record<string, K8sObject[]>;
  /** In-memory parts outside the store, by name (logs, usage, images …). */
  books: Record<string, unknown>;
  /** Controllers' in-memory state that the objects do not carry, by controller name. */
  controllers: Record<string, unknown>;
  progress: ScenarioProgress | null;
}

/** The sandbox's in-memory parts outside the store and the controllers. */
export interface Books {
  images: ImageCatalog;
  logs: LogBook;
  usage: UsageBook;
  nodeHealth: NodeHealth;
  faults: FaultBook;
  events: EventRecorder;
  tokens: TokenIssuer;
}

// Images are saved because scenario steps change the catalogue; the event
// recorder rebuilds its aggregation index from the Events in the store.
export function saveBooks(b: Books): Record<string, unknown> {
  return {
    images: [...b.images],
    logs: b.logs.save(),
    usage: b.usage.save(),
    nodeHealth: b.nodeHealth.save(),
    faults: b.faults.save(),
    events: b.events.save(),
    tokens: b.tokens.save(),
  };
}

/** After the store is loaded: the event recorder reads its Events. */
export function restoreBooks(b: Books, saved: Record<string, unknown>): void {
  const s = saved as Record<string, any>;
  if (s.images) {
    b.images.clear();
    for (const [ref, behaviour] of s.images) b.images.set(ref, behaviour);
  }
  b.logs.restore(s.logs ?? []);
  b.usage.restore(s.usage ?? []);
  b.nodeHealth.restore(s.nodeHealth ?? []);
  b.faults.restore(s.faults ?? []);
  b.events.restore(s.events ?? { seq: 0 });
  b.tokens.restore(s.tokens);
}

export function scenarioIdentity(s: { metadata: { name: string }; spec: unknown }): ScenarioIdentity {
  const fingerprint = createHash('sha256').update(JSON.stringify({ name: s.metadata.name, spec: s.spec })).digest('hex').slice(0, 16);
  return { name: s.metadata.name, fingerprint };
}

// JSON has no Infinity (timers that never fire) or NaN; they travel as
// {"$num": "Infinity"}. Only the in-memory sections are encoded this way: the
// objects are plain JSON already, and walking them would cost the most.
const SPECIAL = '$num';

function encodeNumbers(_k: string, v: unknown): unknown {
  return typeof v === 'number' && !Number.isFinite(v) ? { [SPECIAL]: String(v) } : v;
}

function decodeNumbers(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decodeNumbers);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === SPECIAL && typeof o[SPECIAL] === 'string') return Number(o[SPECIAL]);
    for (const k of keys) o[k] = decodeNumbers(o[k]);
  }
  return v;
}

// The store never changes a stored object in place (every write stores a new
// one), so an object's JSON can be kept until the object is replaced: a
// snapshot then only serializes what changed since the last one.
const objectJson = new WeakMap<K8sObject, string>();

function serializeObjects(objects: Record<string, K8sObject[]>): string {
  const parts: string[] = [];
  for (const [storage, items] of Object.entries(objects)) {
    const json = items.map((o) => {
      let j = objectJson.get(o);
      if (j === undefined) objectJson.set(o, (j = JSON.stringify(o)));
      return j;
    });
    parts.push(`${JSON.stringify(storage)}:[${json.join(',')}]`);
  }
  return `{${parts.join(',')}}`;
}

/** One snapshot as the text of the state file; call it synchronously after gathering the parts, which are live. */
export function serializeState(s: SandboxState): string {
  const { objects, books, controllers, progress, ...head } = s;
  return `{${JSON.stringify(head).slice(1, -1)},"objects":${serializeObjects(objects)},`
    + `"books":${JSON.stringify(books, encodeNumbers)},"controllers":${JSON.stringify(controllers, encodeNumbers)},`
    + `"progress":${JSON.stringify(progress, encodeNumbers)}}\n`;
}

/** The virtual time a state file was saved at, so a caller can start its own clock there; undefined without a file. */
export function savedVirtualTime(file: string): number | undefined {
  return readState(file)?.savedAt;
}

/** Reads and checks a state file; undefined when it does not exist. */
export function readState(file: string): SandboxState | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new KubemendError(Errors.SANDBOX_STATE_FILE, `cannot read the sandbox state file ${file}: ${(err as Error).message}`, { cause: err });
  }
  let raw: any;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new KubemendError(Errors.SANDBOX_STATE_FILE, `${file} is not a sandbox state file: ${(err as Error).message}`, { cause: err });
  }
  if (raw?.kind !== STATE_KIND) throw new KubemendError(Errors.SANDBOX_STATE_FILE, `${file} is not a sandbox state file (no "kind: ${STATE_KIND}")`);
  if (raw.format !== STATE_FORMAT) {
    throw new KubemendError(Errors.SANDBOX_STATE_MISMATCH, `${file} has state format ${JSON.stringify(raw.format)}; this kubemend reads format ${STATE_FORMAT} only`);
  }
  const shapeOk = Number.isFinite(raw.savedAt) && Number.isInteger(raw.resourceVersion) && raw.objects && typeof raw.objects === 'object'
    && raw.books && raw.controllers && 'progress' in raw && 'scenario' in raw;
  if (!shapeOk) throw new KubemendError(Errors.SANDBOX_STATE_FILE, `${file} is an incomplete sandbox state file`);
  raw.books = decodeNumbers(raw.books);
  raw.controllers = decodeNumbers(raw.controllers);
  raw.progress = decodeNumbers(raw.progress);
  return raw as SandboxState;
}

/** Refuses a state saved for another scenario (or none), or for an edited one. `where` names the state, e.g. "the state file /x". */
export function checkScenario(where: string, saved: ScenarioIdentity | null, wanted: ScenarioIdentity | null): void {
  const name = (s: ScenarioIdentity | null) => (s ? `scenario "${s.name}"` : 'no scenario');
  if ((saved?.name ?? null) !== (wanted?.name ?? null)) {
    throw new KubemendError(Errors.SANDBOX_STATE_MISMATCH, `${where} belongs to a sandbox playing ${name(saved)}; refusing to continue it with ${name(wanted)}`);
  }
  if (saved && wanted && saved.fingerprint !== wanted.fingerprint) {
    throw new KubemendError(Errors.SANDBOX_STATE_MISMATCH, `${where} was saved while playing another version of scenario "${saved.name}" (the scenario changed since)`);
  }
}
