// Security contexts, checked against pkg/apis/core/validation (1.32):
// ValidateSecurityContext, validatePodSpecSecurityContext,
// validateSeccompProfileField, ValidateAppArmorProfileField, validateSysctls,
// validateHostUsers, ValidateProcMountType; IsValidUserID / IsValidGroupID.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { accepted, newStore, pod, podCauses } from './validation-helpers.ts';

const RANGE = 'must be between 0 and 2147483647, inclusive';

describe('security context validation', { timeout: 30_000 }, () => {
  const store = newStore();

  it('user and group ids are 0 … 2^31-1, in the container and the pod (IsValidUserID, IsValidGroupID)', () => {
    assert.deepEqual(podCauses(store, { securityContext: { runAsUser: 2147483648, runAsGroup: -5 } }, { securityContext: { runAsUser: -1, fsGroup: -2, supplementalGroups: [1000, -3], runAsGroup: 1000 } }), [
      ['spec.containers[0].securityContext.runAsUser', 'FieldValueInvalid', `Invalid value: 2147483648: ${RANGE}`],
      ['spec.containers[0].securityContext.runAsGroup', 'FieldValueInvalid', `Invalid value: -5: ${RANGE}`],
      ['spec.securityContext.fsGroup', 'FieldValueInvalid', `Invalid value: -2: ${RANGE}`],
      ['spec.securityContext.runAsUser', 'FieldValueInvalid', `Invalid value: -1: ${RANGE}`],
      ['spec.securityContext.supplementalGroups[1]', 'FieldValueInvalid', `Invalid value: -3: ${RANGE}`],
    ]);
  });

  it('privileged with allowPrivilegeEscalation false, and CAP_SYS_ADMIN with it, print the whole context as Go\'s %#v (ValidateSecurityContext)', () => {
    const causes = podCauses(store, {}, {
      containers: [
        { name: 'priv', image: 'nginx', securityContext: { privileged: true, allowPrivilegeEscalation: false } },
        { name: 'admin', image: 'nginx', securityContext: { allowPrivilegeEscalation: false, capabilities: { add: ['NET_ADMIN', 'CAP_SYS_ADMIN'] } } },
      ],
    });
    assert.deepEqual(causes.map((c) => [c[0], c[1]]), [['spec.containers[0].securityContext', 'FieldValueInvalid'], ['spec.containers[1].securityContext', 'FieldValueInvalid']]);
    // Pointer fields print as addresses on a real server too (they differ per request there).
    assert.match(causes[0][2], /^Invalid value: core\.SecurityContext\{Capabilities:\(\*core\.Capabilities\)\(nil\), Privileged:\(\*bool\)\(0xc[0-9a-f]+\), SELinuxOptions:\(\*core\.SELinuxOptions\)\(nil\), WindowsOptions:\(\*core\.WindowsSecurityContextOptions\)\(nil\), RunAsUser:\(\*int64\)\(nil\), RunAsGroup:\(\*int64\)\(nil\), RunAsNonRoot:\(\*bool\)\(nil\), ReadOnlyRootFilesystem:\(\*bool\)\(nil\), AllowPrivilegeEscalation:\(\*bool\)\(0xc[0-9a-f]+\), ProcMount:\(\*core\.ProcMountType\)\(nil\), SeccompProfile:\(\*core\.SeccompProfile\)\(nil\), AppArmorProfile:\(\*core\.AppArmorProfile\)\(nil\)\}: cannot set `allowPrivilegeEscalation` to false and `privileged` to true$/);
    assert.match(causes[1][2], /^Invalid value: core\.SecurityContext\{Capabilities:\(\*core\.Capabilities\)\(0xc[0-9a-f]+\), Privileged:\(\*bool\)\(nil\), .*\}: cannot set `allowPrivilegeEscalation` to false and `capabilities\.Add` CAP_SYS_ADMIN$/);
    accepted(store, 'pods', pod({ securityContext: { privileged: true, capabilities: { add: ['SYS_ADMIN'], drop: ['ALL'] } } }));
  });

  it('seccomp: a type from the list; a localhost profile only, and always, with Localhost (validateSeccompProfileField)', () => {
    const causes = podCauses(store, { securityContext: { seccompProfile: { type: 'runtime/default' } } }, {
      securityContext: { seccompProfile: { type: 'Localhost' } },
      initContainers: [{ name: 'init', image: 'busybox', securityContext: { seccompProfile: { type: 'RuntimeDefault', localhostProfile: 'p.json' } } }],
      containers: [{ name: 'app', image: 'nginx', securityContext: { seccompProfile: { type: 'runtime/default' } } }, { name: 'b', image: 'nginx', securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: '/etc/p.json' } } }],
    });
    assert.deepEqual(causes.filter((c) => !c[2].includes('core.SeccompProfile')), [
      ['spec.containers[0].securityContext.seccompProfile.type', 'FieldValueNotSupported', 'Unsupported value: "runtime/default": supported values: "Localhost", "RuntimeDefault", "Unconfined"'],
      ['spec.containers[1].securityContext.seccompProfile.localhostProfile', 'FieldValueInvalid', 'Invalid value: "/etc/p.json": must be a relative path'],
      ['spec.securityContext.seccompProfile.localhostProfile', 'FieldValueRequired', 'Required value: must be set when seccomp type is Localhost'],
    ]);
    const struct = causes.find((c) => c[2].includes('core.SeccompProfile'))!;
    assert.equal(struct[0], 'spec.initContainers[0].securityContext.seccompProfile.localhostProfile');
    assert.match(struct[2], /^Invalid value: core\.SeccompProfile\{Type:"RuntimeDefault", LocalhostProfile:\(\*string\)\(0xc[0-9a-f]+\)\}: can only be set when seccomp type is Localhost$/);
  });

  it('procMount Unmasked needs hostUsers false; a user namespace may not share the host\'s (ValidateSecurityContext, validateHostUsers)', () => {
    assert.deepEqual(podCauses(store, { securityContext: { procMount: 'Unmasked' } }), [
      ['spec.containers[0].securityContext.procMount', 'FieldValueInvalid', 'Invalid value: "Unmasked": `hostUsers` must be false to use `Unmasked`'],
    ]);
    assert.deepEqual(podCauses(store, { securityContext: { procMount: 'Masked' } }, { hostUsers: false, hostNetwork: true, hostPID: true }), [
      ['spec.containers[0].securityContext.procMount', 'FieldValueNotSupported', 'Unsupported value: "Masked": supported values: "Default", "Unmasked"'],
      ['spec.hostNetwork', 'FieldValueForbidden', 'Forbidden: when `pod.Spec.HostUsers` is false'],
      ['spec.HostPID', 'FieldValueForbidden', 'Forbidden: when `pod.Spec.HostUsers` is false'],
    ]);
  });

  it('pod-level: fsGroupChangePolicy, shareProcessNamespace with hostPID, sysctls, AppArmor (validatePodSpecSecurityContext)', () => {
    assert.deepEqual(podCauses(store, { securityContext: { appArmorProfile: { type: 'Localhost' } } }, {
      shareProcessNamespace: true,
      hostPID: true,
      hostNetwork: true,
      securityContext: { fsGroupChangePolicy: 'Sometimes', sysctls: [{ name: 'net.core.somaxconn', value: '1024' }, { name: 'Kernel.Shm', value: '1' }, { name: '', value: '1' }], appArmorProfile: { type: 'Unconfined', localhostProfile: 'x' } },
    }), [
      ['spec.containers[0].securityContext.appArmorProfile.localhostProfile', 'FieldValueRequired', 'Required value: must be set when AppArmor type is Localhost'],
      ['spec.securityContext.shareProcessNamespace', 'FieldValueInvalid', 'Invalid value: true: ShareProcessNamespace and HostPID cannot both be enabled'],
      ['spec.securityContext.sysctls[0].name', 'FieldValueInvalid', `Invalid value: "net.core.somaxconn": may not be specified when 'hostNetwork' is true`],
      ['spec.securityContext.sysctls[1].name', 'FieldValueInvalid', 'Invalid value: "Kernel.Shm": must have at most 253 characters and match regex ^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$'],
      ['spec.securityContext.sysctls[2].name', 'FieldValueRequired', 'Required value'],
      ['spec.securityContext.fsGroupChangePolicy', 'FieldValueNotSupported', 'Unsupported value: "Sometimes": supported values: "Always", "OnRootMismatch"'],
      ['spec.securityContext.appArmorProfile.localhostProfile', 'FieldValueInvalid', 'Invalid value: "x": can only be set when AppArmor type is Localhost'],
    ]);
  });
});
