// Content negotiation as the API server does it: the Accept header chooses
// between the plain object, a server-side Table (kubectl get) and
// PartialObjectMetadata (metadata-only informers); the first acceptable media
// range wins. Also the small query-string parsers every handler shares.
import { ApiError } from '../status.ts';

export interface MediaRange {
  type: string;
  params: Record<string, string>;
}

export type Rendering = 'object' | 'table' | 'metadata';

export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header) return [{ type: '*/*', params: {} }];
  return header.split(',').map((part) => {
    const [type, ...rest] = part.split(';').map((s) => s.trim());
    const params: Record<string, string> = {};
    for (const p of rest) {
      const i = p.indexOf('=');
      if (i > 0) params[p.slice(0, i).trim().toLowerCase()] = p.slice(i + 1).trim().replace(/^"|"$/g, '');
    }
    return { type: type.toLowerCase(), params };
  });
}

const JSONISH = new Set(['application/json', 'application/*', '*/*']);

/**
 * How to render a response for `Accept`. `list` says whether the request is a
 * collection (PartialObjectMetadataList is only meaningful there).
 */
export function chooseRendering(accept: string | undefined, list: boolean): Rendering {
  for (const r of parseAccept(accept)) {
    if (!JSONISH.has(r.type)) continue;
    const as = r.params.as;
    if (!as) return 'object';
    if (r.params.g !== 'meta.k8s.io') continue;
    if (as === 'Table' && (r.params.v === 'v1' || r.params.v === 'v1beta1')) return 'table';
    if (r.params.v !== 'v1' && r.params.v !== 'v1beta1') continue;
    if (as === 'PartialObjectMetadata' && !list) return 'metadata';
    if (as === 'PartialObjectMetadataList' && list) return 'metadata';
    // A watch of a collection renders each event as a PartialObjectMetadata.
    if (as === 'PartialObjectMetadata' && list) return 'metadata';
  }
  throw new ApiError(406, 'NotAcceptable', 'only the following media types are accepted: application/json, application/json;as=Table;v=v1;g=meta.k8s.io, application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io');
}

/** `includeObject` for Table rows: None, Metadata (default) or Object. */
export function includeObjectParam(q: URLSearchParams): 'None' | 'Metadata' | 'Object' {
  const v = q.get('includeObject');
  if (!v) return 'Metadata';
  if (v === 'None' || v === 'Metadata' || v === 'Object') return v;
  throw ApiError.badRequest(`includeObject: Unsupported value: "${v}": supported values: "Metadata", "None", "Object"`);
}

/** runtime.Convert_Slice_string_To_bool: present and not "0" or "false" (any case) is true, so Python's `watch=True` watches. */
export function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v !== null && v !== '0' && v.toLowerCase() !== 'false';
}

/** A non-negative integer query parameter, 400 when malformed as on a real server. */
export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw ApiError.badRequest(`${name}: Invalid value: "${v}": must be an integer`);
  return Number(v);
}

/** `dryRun=All` in the query (`dryRun` may repeat); anything else is rejected. */
export function dryRunParam(values: string[] | undefined): boolean {
  if (!values?.length) return false;
  for (const v of values) {
    if (v !== 'All') throw ApiError.badRequest(`dryRun: Unsupported value: "${v}": supported values: "All"`);
  }
  return true;
}

export function fieldValidationParam(q: URLSearchParams): void {
  const v = q.get('fieldValidation');
  if (v && !['Strict', 'Warn', 'Ignore'].includes(v)) {
    throw ApiError.badRequest(`fieldValidation: Unsupported value: "${v}": supported values: "Ignore", "Strict", "Warn"`);
  }
}
