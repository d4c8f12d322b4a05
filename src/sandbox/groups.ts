// Which API groups are Kubernetes' own: their types are compiled into the API
// server (typed encoding: list items without kind, known timestamp fields);
// any other group is a custom resource, handled as unstructured JSON.
export function isBuiltInGroup(group: string): boolean {
  return group === '' || !group.includes('.') || group.endsWith('.k8s.io');
}
