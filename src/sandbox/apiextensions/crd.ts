// CustomResourceDefinitions as the apiextensions registry stores them:
// defaulting and status on create/update, validation with the real messages,
// the cleanup finalizer on delete, and the types an established CRD serves.
import { k8sTime } from '../../common/index.ts';
import type { PrinterColumn, ResourceType } from '../resources.ts';
import type { StatusCause } from '../status.ts';
import type { K8sObject } from '../types.ts';
import { isDNS1035Label, isDNS1123Subdomain } from './names.ts';
import { structuralErrors } from './structural.ts';

export const CRD_STORAGE = 'apiextensions.k8s.io/customresourcedefinitions';
export const CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

const AGE_DESCRIPTION = 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';
/** serveDefaultColumnsIfEmpty: a version without printer columns shows its age. */
const DEFAULT_COLUMNS: PrinterColumn[] = [{ name: 'Age', type: 'date', description: AGE_DESCRIPTION, jsonPath: '.metadata.creationTimestamp' }];
const COLUMN_TYPES = ['boolean', 'date', 'integer', 'number', 'string'];

type Condition = { type: string; status: string; lastTransitionTime?: string; reason?: string; message?: string };

export function crdCondition(crd: K8sObject, type: string): Condition | undefined {
  return (crd.status?.conditions ?? []).find((c: Condition) => c.type === type);
}

/** apihelpers.SetCRDCondition: lastTransitionTime moves only when the status does. */
export function setCrdCondition(crd: K8sObject, cond: Condition, now: number): void {
  crd.status ??= {};
  const conditions: Condition[] = (crd.status.conditions ??= []);
  const i = conditions.findIndex((c) => c.type === cond.type);
  const old = i >= 0 ? conditions[i] : undefined;
  const next = { type: cond.type, status: cond.status, lastTransitionTime: old && old.status === cond.status ? old.lastTransitionTime : k8sTime(now), reason: cond.reason, message: cond.message };
  if (i >= 0) conditions[i] = next;
  else conditions.push(next);
}

const storageVersion = (crd: K8sObject): string | undefined => (crd.spec?.versions ?? []).find((v: any) => v?.storage === true)?.name;

/** SetDefaults_CustomResourceDefinitionSpec, and the status the registry's PrepareForCreate/Update keeps. */
export function defaultCrd(crd: K8sObject, creating: boolean): void {
  const spec = (crd.spec ??= {});
  const names = (spec.names ??= {});
  if (!names.singular && typeof names.kind === 'string') names.singular = names.kind.toLowerCase();
  if (!names.listKind && names.kind) names.listKind = `${names.kind}List`;
  spec.conversion ??= { strategy: 'None' };
  const sv = storageVersion(crd);
  if (creating) {
    crd.status = { acceptedNames: { plural: '', kind: '' }, storedVersions: sv ? [sv] : [] };
  } else if (sv) {
    crd.status ??= {};
    const stored: string[] = (crd.status.storedVersions ??= []);
    if (!stored.includes(sv)) stored.push(sv);
  }
}

/** The Go %#v rendering of spec.versions in "must have exactly one version" (abridged when not empty). */
function goVersions(vs: unknown): string {
  if (!Array.isArray(vs) || !vs.length) return '[]apiextensions.CustomResourceDefinitionVersion(nil)';
  return `[]apiextensions.CustomResourceDefinitionVersion{${vs.map((v: any) => `apiextensions.CustomResourceDefinitionVersion{Name:${JSON.stringify(String(v?.name ?? ''))}, Served:${Boolean(v?.served)}, Storage:${Boolean(v?.storage)}, ...}`).join(', ')}}`;
}

/** ValidateCustomResourceDefinition / …Update, as field errors (StatusCauses). */
export function validateCrd(crd: K8sObject, old: K8sObject | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  const invalid = (field: string, value: unknown, detail: string) => causes.push({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${detail}` });
  const required = (field: string, detail = '') => causes.push({ reason: 'FieldValueRequired', field, message: detail ? `Required value: ${detail}` : 'Required value' });
  const spec = crd.spec ?? {};
  const names = spec.names ?? {};
  const name = crd.metadata.name ?? '';
  for (const e of isDNS1123Subdomain(name)) invalid('metadata.name', name, e);
  if (name !== `${names.plural}.${spec.group}`) invalid('metadata.name', name, 'must be spec.names.plural+"."+spec.group');

  if (!spec.group) required('spec.group');
  else if (isDNS1123Subdomain(spec.group).length) invalid('spec.group', spec.group, isDNS1123Subdomain(spec.group).join(','));
  else if (spec.group.split('.').length < 2) invalid('spec.group', spec.group, 'should be a domain with at least one dot');

  if (!spec.scope) required('spec.scope');
  else if (spec.scope !== 'Cluster' && spec.scope !== 'Namespaced') causes.push({ reason: 'FieldValueNotSupported', field: 'spec.scope', message: `Unsupported value: ${JSON.stringify(spec.scope)}: supported values: "Cluster", "Namespaced"` });

  const versions: any[] = Array.isArray(spec.versions) ? spec.versions : [];
  versions.forEach((v, i) => {
    if (!v?.schema?.openAPIV3Schema) required(`spec.versions[${i}].schema.openAPIV3Schema`, 'schemas are required');
  });
  // One schema for every version is hoisted to spec.validation when converted, so errors are reported there.
  const schemas = versions.map((v) => JSON.stringify(v?.schema ?? null));
  const shared = versions.length > 0 && schemas.every((s) => s === schemas[0]) && versions[0]?.schema;
  if (shared) causes.push(...structuralErrors(versions[0].schema.openAPIV3Schema, 'spec.validation.openAPIV3Schema'));
  const seen = new Set<string>();
  let unique = true;
  versions.forEach((v, i) => {
    const vname = String(v?.name ?? '');
    if (seen.has(vname)) unique = false;
    seen.add(vname);
    const errs = isDNS1035Label(vname);
    if (errs.length) invalid(`spec.versions[${i}].name`, vname, errs.join(','));
    if (!shared && v?.schema?.openAPIV3Schema) causes.push(...structuralErrors(v.schema.openAPIV3Schema, `spec.versions[${i}].schema.openAPIV3Schema`));
    (v?.additionalPrinterColumns ?? []).forEach((c: any, j: number) => {
      const at = `spec.versions[${i}].additionalPrinterColumns[${j}]`;
      if (!c?.name) required(`${at}.name`);
      if (!c?.type) required(`${at}.type`);
      else if (!COLUMN_TYPES.includes(c.type)) causes.push({ reason: 'FieldValueNotSupported', field: `${at}.type`, message: `Unsupported value: ${JSON.stringify(c.type)}: supported values: ${COLUMN_TYPES.map((t) => JSON.stringify(t)).join(', ')}` });
      if (!c?.jsonPath) required(`${at}.JSONPath`);
    });
  });
  if (!unique) causes.push({ reason: 'FieldValueInvalid', field: 'spec.versions', message: `Invalid value: ${goVersions(versions)}: must contain unique version names` });
  if (versions.filter((v) => v?.storage === true).length !== 1) {
    causes.push({ reason: 'FieldValueInvalid', field: 'spec.versions', message: `Invalid value: ${goVersions(spec.versions)}: must have exactly one version marked as storage version` });
  }
  for (const n of ['plural', 'singular', 'kind', 'listKind']) if (!names[n]) required(`spec.names.${n}`);
  for (const n of ['plural', 'singular']) {
    const errs = names[n] ? isDNS1035Label(names[n]) : [];
    if (errs.length) invalid(`spec.names.${n}`, names[n], errs.join(','));
  }
  for (const n of ['kind', 'listKind']) {
    const errs = names[n] ? isDNS1035Label(String(names[n]).toLowerCase()) : [];
    if (errs.length) invalid(`spec.names.${n}`, names[n], `may have mixed case, but should otherwise match: ${errs.join(',')}`);
  }
  (names.shortNames ?? []).forEach((s: string, i: number) => {
    const errs = isDNS1035Label(String(s));
    if (errs.length) invalid(`spec.names.shortNames[${i}]`, s, errs.join(','));
  });
  if (names.kind && names.kind === names.listKind) invalid('spec.names.listKind', names.listKind, 'kind and listKind may not be the same');
  (names.categories ?? []).forEach((s: string, i: number) => {
    const errs = isDNS1035Label(String(s));
    if (errs.length) invalid(`spec.names.categories[${i}]`, s, errs.join(','));
  });

  if (old) {
    const immutable = (field: string, a: unknown, b: unknown) => {
      if (JSON.stringify(a) !== JSON.stringify(b)) invalid(field, a, 'field is immutable');
    };
    if (crdCondition(old, 'Established')?.status === 'True') {
      immutable('spec.scope', spec.scope, old.spec?.scope);
      immutable('spec.names.kind', names.kind, old.spec?.names?.kind);
    }
    immutable('spec.group', spec.group, old.spec?.group);
    immutable('spec.names.plural', names.plural, old.spec?.names?.plural);
    (crd.status?.storedVersions ?? []).forEach((sv: string, i: number) => {
      if (!versions.some((v) => v?.name === sv)) invalid(`status.storedVersions[${i}]`, sv, 'must appear in spec.versions');
    });
  }
  return causes;
}

/** What the registry's Delete does first: deletionTimestamp, the cleanup finalizer and a Terminating condition. */
export function markCrdDeleting(crd: K8sObject, now: number): void {
  crd.metadata.deletionTimestamp = k8sTime(now);
  crd.metadata.deletionGracePeriodSeconds = 0;
  const finalizers = crd.metadata.finalizers ?? [];
  if (!finalizers.includes(CLEANUP_FINALIZER)) crd.metadata.finalizers = [...finalizers, CLEANUP_FINALIZER];
  setCrdCondition(crd, { type: 'Terminating', status: 'True', reason: 'InstanceDeletionPending', message: 'CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon' }, now);
}

/** The types an Established CRD serves, one per served version; none before it is established. */
export function typesFromCrd(crd: K8sObject): ResourceType[] {
  if (crdCondition(crd, 'Established')?.status !== 'True') return [];
  const spec = crd.spec ?? {};
  const accepted = crd.status?.acceptedNames ?? {};
  const names = { ...spec.names, ...Object.fromEntries(Object.entries(accepted).filter(([, v]) => v !== '' && v !== undefined)) };
  const storage = `${spec.group}/${names.plural}`;
  return (spec.versions ?? []).filter((v: any) => v?.served).map((v: any): ResourceType => {
    const scale = v.subresources?.scale;
    return {
      group: spec.group,
      version: v.name,
      kind: names.kind,
      plural: names.plural,
      singular: names.singular ?? String(names.kind).toLowerCase(),
      namespaced: spec.scope === 'Namespaced',
      ...(names.shortNames?.length ? { shortNames: [...names.shortNames] } : {}),
      ...(names.categories?.length ? { categories: [...names.categories] } : {}),
      subresources: [...(v.subresources?.status ? ['status'] : []), ...(scale ? ['scale'] : [])],
      storage,
      custom: {
        crd: crd.metadata.name!,
        schema: v.schema?.openAPIV3Schema,
        ...(names.listKind ? { listKind: names.listKind } : {}),
        ...(v.selectableFields?.length ? { selectableFields: v.selectableFields.map((f: any) => String(f?.jsonPath ?? '')) } : {}),
        ...(scale ? { scale: { specReplicasPath: scale.specReplicasPath, statusReplicasPath: scale.statusReplicasPath, ...(scale.labelSelectorPath ? { labelSelectorPath: scale.labelSelectorPath } : {}) } } : {}),
        columns: v.additionalPrinterColumns?.length ? v.additionalPrinterColumns : DEFAULT_COLUMNS,
        storage: v.storage === true,
        terminating: Boolean(crd.metadata.deletionTimestamp),
      },
    };
  });
}
