// client-node's models as a strict schema. Its ObjectSerializer decodes
// whatever it gets (a missing required field stays undefined, a number where
// a string belongs passes through, a bad timestamp becomes an Invalid Date),
// so TypeScript code that trusts the declared types crashes later, far from
// the cause. This walks a decoded object with the same type map the
// serializer used and reports what breaks the declarations: a required
// property (non-optional in the model's .d.ts, i.e. required in the OpenAPI
// spec it is generated from) that is absent or null, a value of the wrong
// JavaScript type, an invalid date.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';

const MODELS = join(dirname(fileURLToPath(import.meta.resolve('@kubernetes/client-node'))), 'gen', 'models');

interface Attribute { name: string; baseName: string; type: string; format: string }
type Model = { getAttributeTypeMap(): Attribute[] };

const models = k8s as unknown as Record<string, Model | undefined>;
const requiredCache = new Map<string, Set<string>>();

/** The model's properties declared without `?` in its .d.ts. */
export function requiredOf(type: string): Set<string> {
  let req = requiredCache.get(type);
  if (!req) {
    const dts = readFileSync(join(MODELS, `${type}.d.ts`), 'utf8');
    req = new Set([...dts.matchAll(/^ {4}'([^']+)':/gm)].map((m) => m[1]));
    requiredCache.set(type, req);
  }
  return req;
}

export function isModel(type: string): boolean {
  return typeof models[type]?.getAttributeTypeMap === 'function';
}

/**
 * The model client-node has for a served kind, by its naming rule
 * (`V1Pod`, `CoreV1Event`/`EventsV1Event` where names clash), or undefined.
 */
export function modelFor(group: string, version: string, kind: string): string | undefined {
  const v = version[0].toUpperCase() + version.slice(1);
  const prefix = group === '' ? 'Core' : group.split('.')[0][0].toUpperCase() + group.split('.')[0].slice(1);
  return [`${v}${kind}`, `${prefix}${v}${kind}`].find(isModel);
}

/** Every way `value` (decoded as `type`) breaks its declared types; `at` names where it is. */
export function violations(value: unknown, type: string, at: string): string[] {
  const out: string[] = [];
  walk(value, type, at, out);
  return out;
}

function walk(value: unknown, type: string, at: string, out: string[]): void {
  if (value === undefined || value === null) return; // the parent decides whether it may be absent
  const array = /^Array<(.+)>$/.exec(type);
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (array) {
    if (!Array.isArray(value)) return void out.push(`${at}: expected an array, got ${show(value)}`);
    value.forEach((v, i) => {
      if (v === null || v === undefined) out.push(`${at}[${i}]: null in an array of ${array[1]}`);
      else walk(v, array[1], `${at}[${i}]`, out);
    });
  } else if (map) {
    if (!isPlainObject(value)) return void out.push(`${at}: expected a map, got ${show(value)}`);
    for (const [k, v] of Object.entries(value)) walk(v, map[1], `${at}.${k}`, out);
  } else if (type === 'string') {
    if (typeof value !== 'string') out.push(`${at}: expected a string, got ${show(value)}`);
  } else if (type === 'number') {
    if (typeof value !== 'number') out.push(`${at}: expected a number, got ${show(value)}`);
  } else if (type === 'boolean') {
    if (typeof value !== 'boolean') out.push(`${at}: expected a boolean, got ${show(value)}`);
  } else if (type === 'Date') {
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) out.push(`${at}: not a valid date-time: ${show(value)}`);
  } else if (type === 'V1MicroTime') {
    // Declared a Date, but the serializer has no entry for it and leaves kube-apiserver's
    // RFC 3339 string with microseconds (metav1.MicroTime) as it came.
    const ok = value instanceof Date ? !Number.isNaN(value.getTime()) : typeof value === 'string' && MICRO_TIME.test(value);
    if (!ok) out.push(`${at}: not a MicroTime (RFC 3339, UTC, six fractional digits): ${show(value)}`);
  } else if (type === 'IntOrString') {
    if (typeof value !== 'string' && typeof value !== 'number') out.push(`${at}: expected an int or a string, got ${show(value)}`);
  } else if (isModel(type)) {
    if (!isPlainObject(value)) return void out.push(`${at}: expected an object (${type}), got ${show(value)}`);
    const attrs = models[type]!.getAttributeTypeMap();
    const required = requiredOf(type);
    const rec = value as Record<string, unknown>;
    for (const a of attrs) {
      const v = rec[a.name];
      if ((v === undefined || v === null) && required.has(a.name)) out.push(`${at}.${a.baseName}: required by ${type}, but ${v === null ? 'null' : 'absent'}`);
      else walk(v, a.type, `${at}.${a.baseName}`, out);
    }
  }
  // 'any' and enums carry no declared shape to hold the value to.
}

const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const isPlainObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
const show = (v: unknown): string => (v instanceof Date ? `Date(${v.toString()})` : JSON.stringify(v)?.slice(0, 80) ?? String(v));
