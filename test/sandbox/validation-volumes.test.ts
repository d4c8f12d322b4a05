// Volumes and mounts, checked against pkg/apis/core/validation (1.32):
// ValidateVolumes, validateVolumeSource, validateSecretVolumeSource,
// validateConfigMapVolumeSource, validateKeyToPath, ValidateLocalNonReservedPath,
// validateHostPathVolumeSource, validateNFSVolumeSource,
// validateProjectionSources, ValidateVolumeMounts; and SetDefaults_Volume and
// the mode defaults.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { accepted, newStore, pod, podCauses } from './validation-helpers.ts';

const DNS_LABEL = `a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`;

describe('volume validation', { timeout: 30_000 }, () => {
  const store = newStore();

  it('volumes: DNS labels, unique, one source each; only valid ones count as existing (ValidateVolumes, validateVolumeSource)', () => {
    assert.deepEqual(podCauses(store, {}, {
      volumes: [
        { name: 'Data_Vol', emptyDir: {} },
        { name: 'config', secret: { secretName: 's' }, configMap: { name: 'c' }, downwardAPI: {} },
        { name: 'cache', emptyDir: { sizeLimit: '-1Gi' } },
        { name: 'cache' },
        { name: 'logs' },
        { name: 'logs', hostPath: { path: '/var/log' } },
      ],
    }), [
      ['spec.volumes[0].name', 'FieldValueInvalid', `Invalid value: "Data_Vol": ${DNS_LABEL}`],
      // validateVolumeSource's order (downwardAPI before configMap) and its own path for the downward API (sic).
      ['spec.volumes[1].downwarAPI', 'FieldValueForbidden', 'Forbidden: may not specify more than 1 volume type'],
      ['spec.volumes[1].configMap', 'FieldValueForbidden', 'Forbidden: may not specify more than 1 volume type'],
      ['spec.volumes[2].emptyDir.sizeLimit', 'FieldValueForbidden', 'Forbidden: SizeLimit field must be a valid resource quantity'],
      // volumes[3] repeats "cache", but volumes[2] was invalid so never counted.
      ['spec.volumes[5].name', 'FieldValueDuplicate', 'Duplicate value: "logs"'],
    ]);
  });

  it('a volume without a source is an emptyDir; modes default to 0644 (SetDefaults_Volume, SetDefaults_SecretVolumeSource …)', () => {
    const stored = accepted(store, 'pods', pod({}, { volumes: [{ name: 'scratch' }, { name: 'cfg', configMap: { name: 'cfg' } }, { name: 'tok', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }, { name: 'h', hostPath: { path: '/data' } }] }));
    assert.deepEqual(stored.spec.volumes, [
      { name: 'scratch', emptyDir: {} },
      { name: 'cfg', configMap: { name: 'cfg', defaultMode: 420 } },
      { name: 'tok', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3600 } }], defaultMode: 420 } },
      { name: 'h', hostPath: { path: '/data', type: '' } },
    ]);
  });

  it('secret and configMap sources: a name, items with a key and a relative path, modes up to 0777 (validateKeyToPath)', () => {
    assert.deepEqual(podCauses(store, {}, {
      volumes: [
        { name: 'creds', secret: { defaultMode: 0o1000, items: [{ key: '', path: '/etc/creds' }, { key: 'k', path: '../up' }, { key: 'k2', path: '..data', mode: -1 }] } },
        { name: 'cfg', configMap: { name: 'cfg', items: [{ key: 'a', path: 'x/../../y' }] } },
      ],
    }), [
      ['spec.volumes[0].secret.secretName', 'FieldValueRequired', 'Required value'],
      ['spec.volumes[0].secret.defaultMode', 'FieldValueInvalid', 'Invalid value: 512: must be a number between 0 and 0777 (octal), both inclusive'],
      ['spec.volumes[0].secret.items[0].key', 'FieldValueRequired', 'Required value'],
      ['spec.volumes[0].secret.items[0].path', 'FieldValueInvalid', 'Invalid value: "/etc/creds": must be a relative path'],
      ['spec.volumes[0].secret.items[1].path', 'FieldValueInvalid', `Invalid value: "../up": must not contain '..'`],
      ['spec.volumes[0].secret.items[2].path', 'FieldValueInvalid', `Invalid value: "..data": must not start with '..'`],
      ['spec.volumes[0].secret.items[2].mode', 'FieldValueInvalid', 'Invalid value: -1: must be a number between 0 and 0777 (octal), both inclusive'],
      ['spec.volumes[1].configMap.items[0].path', 'FieldValueInvalid', `Invalid value: "x/../../y": must not contain '..'`],
    ]);
  });

  it('hostPath types, nfs paths, claims, projected sources (validateHostPathVolumeSource, validateNFSVolumeSource, validateProjectionSources)', () => {
    assert.deepEqual(podCauses(store, {}, {
      volumes: [
        { name: 'host', hostPath: { path: '/var/../etc', type: 'Dir' } },
        { name: 'share', nfs: { server: 'nfs.local', path: 'exports/data' } },
        { name: 'claim', persistentVolumeClaim: { claimName: '' } },
        { name: 'all', projected: { sources: [{ configMap: { name: 'a', items: [{ key: 'k', path: 'same' }] }, secret: { name: 'b' } }, { secret: { name: 'c', items: [{ key: 'k', path: 'same' }] } }, { serviceAccountToken: { path: 'token', expirationSeconds: 60 } }] } },
      ],
    }), [
      ['spec.volumes[0].hostPath.path', 'FieldValueInvalid', `Invalid value: "/var/../etc": must not contain '..'`],
      ['spec.volumes[0].hostPath.type', 'FieldValueNotSupported', 'Unsupported value: "Dir": supported values: "", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"'],
      ['spec.volumes[1].nfs.path', 'FieldValueInvalid', 'Invalid value: "exports/data": must be an absolute path'],
      ['spec.volumes[2].persistentVolumeClaim.claimName', 'FieldValueRequired', 'Required value'],
      ['spec.volumes[3].projected.sources[0]', 'FieldValueForbidden', 'Forbidden: may not specify more than 1 volume type per source'],
      ['spec.volumes[3].projected', 'FieldValueInvalid', 'Invalid value: "c": conflicting duplicate paths'],
      ['spec.volumes[3].projected.sources[2].serviceAccountToken.expirationSeconds', 'FieldValueInvalid', 'Invalid value: 60: may not specify a duration less than 10 minutes'],
    ]);
  });

  it('mounts: an existing valid volume, a unique non-empty path; subPath errors name the list (ValidateVolumeMounts)', () => {
    assert.deepEqual(podCauses(store, {
      volumeMounts: [
        { name: 'nope', mountPath: '/a' },
        { name: 'Data_Vol', mountPath: '/data' },
        { name: 'logs', mountPath: '/a', subPath: '/abs' },
        { name: 'logs', mountPath: '' },
        { name: 'logs', mountPath: '/b', subPath: 'x', subPathExpr: '$(POD)/../y' },
        { name: 'logs', mountPath: '/c', mountPropagation: 'Bidirectional' },
        { name: 'logs', mountPath: '/d', recursiveReadOnly: 'Enabled' },
      ],
    }, { volumes: [{ name: 'Data_Vol' }, { name: 'logs' }] }), [
      ['spec.volumes[0].name', 'FieldValueInvalid', `Invalid value: "Data_Vol": ${DNS_LABEL}`],
      ['spec.containers[0].volumeMounts[0].name', 'FieldValueNotFound', 'Not found: "nope"'],
      ['spec.containers[0].volumeMounts[1].name', 'FieldValueNotFound', 'Not found: "Data_Vol"'],
      ['spec.containers[0].volumeMounts[2].mountPath', 'FieldValueInvalid', 'Invalid value: "/a": must be unique'],
      ['spec.containers[0].volumeMounts.subPath', 'FieldValueInvalid', 'Invalid value: "/abs": must be a relative path'],
      ['spec.containers[0].volumeMounts[3].mountPath', 'FieldValueRequired', 'Required value'],
      ['spec.containers[0].volumeMounts[4].subPathExpr', 'FieldValueInvalid', 'Invalid value: "$(POD)/../y": subPathExpr and subPath are mutually exclusive'],
      ['spec.containers[0].volumeMounts.subPathExpr', 'FieldValueInvalid', `Invalid value: "$(POD)/../y": must not contain '..'`],
      ['spec.containers[0].volumeMounts.mountPropagation', 'FieldValueForbidden', 'Forbidden: Bidirectional mount propagation is available only to privileged containers'],
      ['spec.containers[0].volumeMounts.recursiveReadOnly', 'FieldValueForbidden', 'Forbidden: may only be specified when readOnly is true'],
    ]);
    // A relative mountPath is not refused (only Windows paths are checked, by the kubelet).
    accepted(store, 'pods', pod({ volumeMounts: [{ name: 'v', mountPath: 'data' }] }, { volumes: [{ name: 'v' }] }));
  });
});
