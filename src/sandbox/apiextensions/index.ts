// apiextensions.k8s.io inside the sandbox: CustomResourceDefinitions (their
// registry strategy and the types they serve) and the custom resource
// strategy (schema pruning, defaulting, validation, Tables).
export { CRD_STORAGE, CLEANUP_FINALIZER, crdCondition, defaultCrd, markCrdDeleting, setCrdCondition, typesFromCrd, validateCrd } from './crd.ts';
export { getPath, prepareCustomResource, setPath, strictDecodingError, unknownFields, validateCustomResource } from './custom-resources.ts';
export { customTable, evalJsonPath } from './printer.ts';
export { applySchemaDefaults, prune, validateValue, type FieldError, type Schema } from './schema.ts';
