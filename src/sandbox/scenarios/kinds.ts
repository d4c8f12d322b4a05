// Scenario files name kinds the way manifests do (`Deployment`, optionally
// with an apiVersion); this maps them to the sandbox's storage.
import { RESOURCES, apiVersionOf, type ResourceType } from '../resources.ts';

export function findKind(kind: string, apiVersion?: string): ResourceType | undefined {
  return RESOURCES.find((t) => !t.virtual && t.kind === kind && (!apiVersion || apiVersionOf(t) === apiVersion));
}
