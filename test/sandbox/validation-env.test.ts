// A container's environment, checked against pkg/apis/core/validation
// (1.32): ValidateEnv (IsRelaxedEnvVarName: RelaxedEnvironmentVariableValidation
// is beta and on in 1.32), validateEnvVarValueFrom, validateObjectFieldSelector
// (podshelper.ConvertDownwardAPIFieldLabel), validateContainerResourceFieldSelector,
// validateConfigMapKeySelector / validateSecretKeySelector, ValidateEnvFrom.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { accepted, newStore, pod, podCauses } from './validation-helpers.ts';

const E = 'spec.containers[0].env';
const RELAXED = "a valid environment variable name must consist only of printable ASCII characters other than '='";

describe('env validation', { timeout: 30_000 }, () => {
  const store = newStore();

  it('names: any printable ASCII but "=", so dots, dashes, spaces and leading digits pass (IsRelaxedEnvVarName)', () => {
    accepted(store, 'pods', pod({ env: [{ name: 'my.var-1', value: 'a' }, { name: '1ST PLACE', value: 'b' }, { name: 'path:/x', value: 'c' }] }));
    assert.deepEqual(podCauses(store, { env: [{ name: 'MY=VAR', value: 'x' }, { name: 'TAB\tNAME', value: 'y' }, { name: 'CAFÉ', value: 'z' }, { name: '', value: 'v' }] }), [
      [`${E}[0].name`, 'FieldValueInvalid', `Invalid value: "MY=VAR": ${RELAXED}`],
      [`${E}[1].name`, 'FieldValueInvalid', `Invalid value: "TAB\\tNAME": ${RELAXED}`],
      [`${E}[2].name`, 'FieldValueInvalid', `Invalid value: "CAFÉ": ${RELAXED}`],
      [`${E}[3].name`, 'FieldValueRequired', 'Required value'],
    ]);
  });

  it('valueFrom: exactly one source and no value beside it (validateEnvVarValueFrom)', () => {
    assert.deepEqual(podCauses(store, {
      env: [
        { name: 'FROM_NOTHING', valueFrom: {} },
        { name: 'BOTH', value: 'x', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
        { name: 'TWO', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'a' }, secretKeyRef: { name: 's', key: 'b' } } },
      ],
    }), [
      [`${E}[0].valueFrom`, 'FieldValueInvalid', 'Invalid value: "": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'],
      [`${E}[1].valueFrom`, 'FieldValueInvalid', 'Invalid value: "": may not be specified when `value` is not empty'],
      [`${E}[2].valueFrom`, 'FieldValueInvalid', 'Invalid value: "": may not have more than one field specified at a time'],
    ]);
  });

  it('key selectors: the key is required and a config key, the name a subdomain even when empty (validateConfigMapKeySelector)', () => {
    assert.deepEqual(podCauses(store, {
      env: [
        { name: 'NOKEY', valueFrom: { configMapKeyRef: { name: 'cfg' } } },
        { name: 'BADKEY', valueFrom: { secretKeyRef: { name: 'Db', key: 'pass/word' } } },
      ],
    }), [
      [`${E}[0].valueFrom.configMapKeyRef.key`, 'FieldValueRequired', 'Required value'],
      [`${E}[1].valueFrom.secretKeyRef.name`, 'FieldValueInvalid', `Invalid value: "Db": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`],
      [`${E}[1].valueFrom.secretKeyRef.key`, 'FieldValueInvalid', `Invalid value: "pass/word": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`],
    ]);
  });

  it('fieldRef: the paths an env var may read, labels and annotations only by key (validateObjectFieldSelector)', () => {
    const stored = accepted(store, 'pods', pod({ env: [{ name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } }, { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }] }));
    assert.equal(stored.spec.containers[0].env[1].valueFrom.fieldRef.apiVersion, 'v1', 'SetDefaults_ObjectFieldSelector');
    assert.deepEqual(podCauses(store, {
      env: [
        { name: 'LABELS', valueFrom: { fieldRef: { fieldPath: 'metadata.labels' } } },
        { name: 'PHASE', valueFrom: { fieldRef: { fieldPath: 'status.phase' } } },
        { name: 'TYPO', valueFrom: { fieldRef: { fieldPath: 'metadata.nam' } } },
        { name: 'OLD', valueFrom: { fieldRef: { apiVersion: 'v2', fieldPath: 'metadata.name' } } },
        { name: 'SUB', valueFrom: { fieldRef: { fieldPath: "metadata.name['x']" } } },
      ],
    }), [
      [`${E}[0].valueFrom.fieldRef.fieldPath`, 'FieldValueNotSupported', 'Unsupported value: "metadata.labels": supported values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"'],
      [`${E}[1].valueFrom.fieldRef.fieldPath`, 'FieldValueNotSupported', 'Unsupported value: "status.phase": supported values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"'],
      [`${E}[2].valueFrom.fieldRef.fieldPath`, 'FieldValueInvalid', 'Invalid value: "metadata.nam": error converting fieldPath: field label not supported: metadata.nam'],
      [`${E}[3].valueFrom.fieldRef.fieldPath`, 'FieldValueInvalid', 'Invalid value: "metadata.name": error converting fieldPath: unsupported pod version: v2'],
      [`${E}[4].valueFrom.fieldRef.fieldPath`, 'FieldValueInvalid', `Invalid value: "metadata.name['x']": error converting fieldPath: field label does not support subscript: metadata.name['x']`],
    ]);
  });

  it('resourceFieldRef: container resources only, with the divisors each allows (validateContainerResourceFieldSelector)', () => {
    accepted(store, 'pods', pod({ env: [{ name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } }] }));
    assert.deepEqual(podCauses(store, {
      env: [
        { name: 'GPU', valueFrom: { resourceFieldRef: { resource: 'limits.gpu' } } },
        { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1k' } } },
      ],
    }), [
      [`${E}[0].valueFrom.resourceFieldRef.resource`, 'FieldValueNotSupported', 'Unsupported value: "limits.gpu": supported values: "limits.cpu", "limits.ephemeral-storage", "limits.memory", "requests.cpu", "requests.ephemeral-storage", "requests.memory"'],
      [`${E}[1].valueFrom.resourceFieldRef.divisor`, 'FieldValueInvalid', `Invalid value: "requests.cpu": only divisor's values 1m and 1 are supported with the cpu resource`],
    ]);
  });

  it('envFrom: one of configMapRef or secretRef, reported on the list; a prefix is a variable name (ValidateEnvFrom)', () => {
    accepted(store, 'pods', pod({ envFrom: [{ prefix: 'DB_', secretRef: { name: 'db-' } }] }));
    assert.deepEqual(podCauses(store, { envFrom: [{ prefix: 'A=', configMapRef: { name: 'cfg' } }, {}, { configMapRef: { name: 'a' }, secretRef: { name: 'b' } }, { secretRef: {} }] }), [
      ['spec.containers[0].envFrom[0].prefix', 'FieldValueInvalid', `Invalid value: "A=": ${RELAXED}`],
      ['spec.containers[0].envFrom', 'FieldValueInvalid', 'Invalid value: "": must specify one of: `configMapRef` or `secretRef`'],
      ['spec.containers[0].envFrom', 'FieldValueInvalid', 'Invalid value: "": may not have more than one field specified at a time'],
      ['spec.containers[0].envFrom[3].secretRef.name', 'FieldValueRequired', 'Required value'],
    ]);
  });
});
