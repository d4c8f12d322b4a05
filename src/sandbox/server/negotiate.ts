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

/**
 * A boolean query parameter as runtime.Convert_Slice_string_To_bool reads it:
 * absent is false; otherwise its first value is true unless it is "0" or
 * "false" in any case (an empty value is true). The Python client sends `True`.
 */
export function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null) return false;
  return v !== '0' && v.toLowerCase() !== 'false';
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * An integer query parameter as strconv.ParseInt(v, 10, 64) reads it (the
 * first value; present but empty is an error), refused with Go's message in
 * a 400, as the API server's parameter decoding does.
 */
export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (!/^[+-]?\d+$/.test(v)) throw ApiError.badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  const n = BigInt(v);
  if (n < INT64_MIN || n > INT64_MAX) throw ApiError.badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: value out of range`);
  return Number(n);
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
