// JSON values as the PATCH handlers see them, and the errors a real API
// server returns when a patch cannot be applied, in Go's wording.
import { ApiError } from '../status.ts';

export type Json = null | boolean | number | string | Json[] | JsonMap;
export interface JsonMap { [k: string]: Json }

export function isMap(v: unknown): v is JsonMap {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function goType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'object' : typeof v;
}

/** Go's %v rendering, used in the strategicpatch error messages. */
export function goFmt(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(goFmt).join(' ')}]`;
  if (isMap(v)) return `map[${Object.keys(v).sort().map((k) => `${k}:${goFmt(v[k])}`).join(' ')}]`;
  return v === null || v === undefined ? '<nil>' : String(v);
}

/** errors.NewGenericServerResponse(422, …): how the server reports a patch it could not apply. */
export function unprocessable(cause: string): ApiError {
  return new ApiError(422, 'Invalid', 'the server rejected our request due to an error in our request', {
    causes: [{ reason: 'UnexpectedServerResponse', message: cause }],
  });
}

/** Errors the server does not classify surface as 500s. */
export const internal = (message: string) => new ApiError(500, 'InternalError', message);
