// GET of one object, rendered for the Accept header (object, Table row, or
// PartialObjectMetadata).
import { ApiError } from '../status.ts';
import type { Call, Outcome, ResourceRequest, ServerContext } from './context.ts';
import { respond } from './write.ts';

export function handleGet(ctx: ServerContext, call: Call, r: ResourceRequest): Outcome {
  const obj = ctx.store.get(r.type.storage, r.namespace, r.name!);
  if (!obj) throw ApiError.notFound(r.type.group, r.type.plural, r.name!);
  return respond(ctx, call, r.type, 200, obj);
}
