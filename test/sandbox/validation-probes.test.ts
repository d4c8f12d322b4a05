// Probes and lifecycle hooks, checked against pkg/apis/core/validation
// (1.32): validateHandler, validateProbe, validateLivenessProbe,
// validateReadinessProbe, validateStartupProbe, validateHTTPGetAction,
// ValidatePortNumOrName, validateGRPCAction, validateLifecycle,
// validateSleepAction; and the defaults (SetDefaults_Probe,
// SetDefaults_HTTPGetAction) they rely on.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { accepted, newStore, pod, podCauses } from './validation-helpers.ts';

const C = 'spec.containers[0]';

describe('probe and lifecycle validation', { timeout: 30_000 }, () => {
  const store = newStore();

  it('a probe needs exactly one handler; the first given is validated, later ones are Forbidden (validateHandler)', () => {
    assert.deepEqual(podCauses(store, { livenessProbe: { exec: { command: ['true'] }, httpGet: { port: 80 }, tcpSocket: { port: 80 } }, readinessProbe: { periodSeconds: 5 } }), [
      [`${C}.livenessProbe.httpGet`, 'FieldValueForbidden', 'Forbidden: may not specify more than 1 handler type'],
      [`${C}.livenessProbe.tcpSocket`, 'FieldValueForbidden', 'Forbidden: may not specify more than 1 handler type'],
      [`${C}.readinessProbe`, 'FieldValueRequired', 'Required value: must specify a handler type'],
    ]);
    // The Forbidden one is not validated itself: its bad port goes unreported.
    assert.deepEqual(podCauses(store, { startupProbe: { exec: { command: [] }, grpc: { port: 0 } } }), [
      [`${C}.startupProbe.exec.command`, 'FieldValueRequired', 'Required value'],
      [`${C}.startupProbe.grpc`, 'FieldValueForbidden', 'Forbidden: may not specify more than 1 handler type'],
    ]);
  });

  it('numbers may not be negative; liveness and startup need successThreshold 1; readiness no grace period (validateProbe & co.)', () => {
    assert.deepEqual(podCauses(store, {
      livenessProbe: { tcpSocket: { port: 8080 }, successThreshold: 3, timeoutSeconds: -1, initialDelaySeconds: -5 },
      readinessProbe: { httpGet: { port: 8080 }, terminationGracePeriodSeconds: 10, periodSeconds: -10 },
      startupProbe: { exec: { command: ['true'] }, failureThreshold: -3, successThreshold: -1, terminationGracePeriodSeconds: 0 },
    }), [
      [`${C}.livenessProbe.initialDelaySeconds`, 'FieldValueInvalid', 'Invalid value: -5: must be greater than or equal to 0'],
      [`${C}.livenessProbe.timeoutSeconds`, 'FieldValueInvalid', 'Invalid value: -1: must be greater than or equal to 0'],
      [`${C}.livenessProbe.successThreshold`, 'FieldValueInvalid', 'Invalid value: 3: must be 1'],
      [`${C}.readinessProbe.periodSeconds`, 'FieldValueInvalid', 'Invalid value: -10: must be greater than or equal to 0'],
      [`${C}.readinessProbe.terminationGracePeriodSeconds`, 'FieldValueInvalid', 'Invalid value: 10: must not be set for readinessProbes'],
      [`${C}.startupProbe.successThreshold`, 'FieldValueInvalid', 'Invalid value: -1: must be greater than or equal to 0'],
      [`${C}.startupProbe.failureThreshold`, 'FieldValueInvalid', 'Invalid value: -3: must be greater than or equal to 0'],
      [`${C}.startupProbe.terminationGracePeriodSeconds`, 'FieldValueInvalid', 'Invalid value: 0: must be greater than 0'],
      [`${C}.startupProbe.successThreshold`, 'FieldValueInvalid', 'Invalid value: -1: must be 1'],
    ]);
  });

  it('ports are 1-65535 or an IANA_SVC_NAME; httpGet schemes HTTP or HTTPS; header names (ValidatePortNumOrName, validateHTTPGetAction)', () => {
    assert.deepEqual(podCauses(store, {
      livenessProbe: { httpGet: { port: 70000, scheme: 'https', httpHeaders: [{ name: 'X Custom', value: '1' }] } },
      readinessProbe: { tcpSocket: { port: 'HTTP_PORT' } },
      startupProbe: { grpc: { port: 0 } },
    }), [
      [`${C}.livenessProbe.httpGet.port`, 'FieldValueInvalid', 'Invalid value: 70000: must be between 1 and 65535, inclusive'],
      [`${C}.livenessProbe.httpGet.scheme`, 'FieldValueNotSupported', 'Unsupported value: "https": supported values: "HTTP", "HTTPS"'],
      [`${C}.livenessProbe.httpGet.httpHeaders`, 'FieldValueInvalid', `Invalid value: "X Custom": a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')`],
      [`${C}.readinessProbe.tcpSocket.port`, 'FieldValueInvalid', 'Invalid value: "HTTP_PORT": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)'],
      [`${C}.readinessProbe.tcpSocket.port`, 'FieldValueInvalid', 'Invalid value: "HTTP_PORT": must contain at least one letter (a-z)'],
      [`${C}.startupProbe.grpc.port`, 'FieldValueInvalid', 'Invalid value: 0: must be between 1 and 65535, inclusive'],
    ]);
    assert.deepEqual(podCauses(store, { livenessProbe: { tcpSocket: { port: 'metrics-endpoint-port' } } }), [
      [`${C}.livenessProbe.tcpSocket.port`, 'FieldValueInvalid', 'Invalid value: "metrics-endpoint-port": must be no more than 15 characters'],
    ]);
  });

  it('zero timings are defaults, not errors: the stored probe carries them (SetDefaults_Probe, SetDefaults_HTTPGetAction)', () => {
    const stored = accepted(store, 'pods', pod({
      livenessProbe: { httpGet: { port: 'http' }, periodSeconds: 0 },
      readinessProbe: { grpc: { port: 9000 } },
      ports: [{ name: 'http', containerPort: 8080 }],
    }));
    const c = stored.spec.containers[0];
    assert.deepEqual(c.livenessProbe, { httpGet: { port: 'http', path: '/', scheme: 'HTTP' }, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 });
    assert.deepEqual(c.readinessProbe, { grpc: { port: 9000, service: '' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
  });

  it('lifecycle hooks are handlers too, with sleep bounded by the grace period (validateLifecycle, validateSleepAction)', () => {
    assert.deepEqual(podCauses(store, { lifecycle: { postStart: {}, preStop: { sleep: { seconds: 60 } } } }, { terminationGracePeriodSeconds: 30 }), [
      [`${C}.lifecycle.postStart`, 'FieldValueRequired', 'Required value: must specify a handler type'],
      [`${C}.lifecycle.preStop.sleep`, 'FieldValueInvalid', 'Invalid value: 60: must be greater than 0 and less than terminationGracePeriodSeconds (30). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep.'],
    ]);
    accepted(store, 'pods', pod({ lifecycle: { preStop: { sleep: { seconds: 5 } }, postStart: { exec: { command: ['true'] } } } }));
  });

  it('init containers may have probes only as restartable sidecars (validateInitContainers)', () => {
    assert.deepEqual(podCauses(store, {}, { initContainers: [{ name: 'migrate', image: 'busybox', livenessProbe: { exec: { command: ['true'] } }, lifecycle: { preStop: { exec: { command: ['x'] } } } }] }), [
      ['spec.initContainers[0].lifecycle', 'FieldValueForbidden', 'Forbidden: may not be set for init containers without restartPolicy=Always'],
      ['spec.initContainers[0].livenessProbe', 'FieldValueForbidden', 'Forbidden: may not be set for init containers without restartPolicy=Always'],
    ]);
    assert.deepEqual(podCauses(store, {}, { initContainers: [{ name: 'mesh', image: 'envoy', restartPolicy: 'Always', readinessProbe: { tcpSocket: { port: 0 } } }] }), [
      ['spec.initContainers[0].readinessProbe.tcpSocket.port', 'FieldValueInvalid', 'Invalid value: 0: must be between 1 and 65535, inclusive'],
    ]);
  });
});
