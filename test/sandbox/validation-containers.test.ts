// Containers and their ports, checked against pkg/apis/core/validation
// (1.32): validateContainers, validateInitContainers,
// validateContainerCommon, validateContainerPorts (IsValidPortName,
// IsValidPortNum), AccumulateUniqueHostPorts, validatePodHostNetworkDeps,
// validatePullPolicy, validateContainerOnlyForPod.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { accepted, newStore, pod, podCauses } from './validation-helpers.ts';

const P = 'spec.containers[0].ports';

describe('container and port validation', { timeout: 30_000 }, () => {
  const store = newStore();

  it('container ports: IANA names, unique names, 1-65535, a protocol (validateContainerPorts)', () => {
    assert.deepEqual(podCauses(store, {
      ports: [
        { containerPort: 80, name: 'HTTP' },
        { name: 'metrics-endpoint-port', containerPort: 9090 },
        { name: 'web', containerPort: 8080, protocol: 'tcp' },
        { name: 'web', containerPort: 80000, hostPort: 70000 },
        { name: 'dns--udp' },
        { name: '-grpc', containerPort: 50051 },
      ],
    }), [
      [`${P}[0].name`, 'FieldValueInvalid', 'Invalid value: "HTTP": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)'],
      [`${P}[0].name`, 'FieldValueInvalid', 'Invalid value: "HTTP": must contain at least one letter (a-z)'],
      [`${P}[1].name`, 'FieldValueInvalid', 'Invalid value: "metrics-endpoint-port": must be no more than 15 characters'],
      [`${P}[2].protocol`, 'FieldValueNotSupported', 'Unsupported value: "tcp": supported values: "SCTP", "TCP", "UDP"'],
      [`${P}[3].name`, 'FieldValueDuplicate', 'Duplicate value: "web"'],
      [`${P}[3].containerPort`, 'FieldValueInvalid', 'Invalid value: 80000: must be between 1 and 65535, inclusive'],
      [`${P}[3].hostPort`, 'FieldValueInvalid', 'Invalid value: 70000: must be between 1 and 65535, inclusive'],
      [`${P}[4].name`, 'FieldValueInvalid', 'Invalid value: "dns--udp": must not contain consecutive hyphens'],
      [`${P}[4].containerPort`, 'FieldValueRequired', 'Required value'],
      [`${P}[5].name`, 'FieldValueInvalid', 'Invalid value: "-grpc": must not begin or end with a hyphen'],
    ]);
  });

  it('a port without a protocol is TCP (SetObjectDefaults_Pod)', () => {
    const stored = accepted(store, 'pods', pod({ ports: [{ containerPort: 53, protocol: 'UDP' }, { containerPort: 8080, name: 'http' }] }));
    assert.deepEqual(stored.spec.containers[0].ports, [{ containerPort: 53, protocol: 'UDP' }, { containerPort: 8080, name: 'http', protocol: 'TCP' }]);
  });

  it('host ports are unique per protocol and IP across containers; init containers each on their own (AccumulateUniqueHostPorts)', () => {
    assert.deepEqual(podCauses(store, { ports: [{ containerPort: 80, hostPort: 8080 }] }, {
      containers: [{ name: 'a', image: 'nginx', ports: [{ containerPort: 80, hostPort: 8080 }] }, { name: 'b', image: 'nginx', ports: [{ containerPort: 81, hostPort: 8080 }, { containerPort: 82, hostPort: 8080, protocol: 'UDP' }] }],
      initContainers: [{ name: 'i', image: 'busybox', ports: [{ containerPort: 1, hostPort: 9000 }, { containerPort: 2, hostPort: 9000 }] }, { name: 'j', image: 'busybox', ports: [{ containerPort: 1, hostPort: 9000 }] }],
    }), [
      ['spec.containers[1].ports[0].hostPort', 'FieldValueDuplicate', 'Duplicate value: "TCP//8080"'],
      // Go checks each init container alone, as a list of one: the index is always 0.
      ['spec.initContainers[0].ports[1].hostPort', 'FieldValueDuplicate', 'Duplicate value: "TCP//9000"'],
    ]);
  });

  it('with hostNetwork a pod\'s hostPort is its containerPort, defaulted so; a template may leave it 0 (validatePodHostNetworkDeps)', () => {
    const stored = accepted(store, 'pods', pod({ ports: [{ containerPort: 9100 }] }, { hostNetwork: true }));
    assert.equal(stored.spec.containers[0].ports[0].hostPort, 9100);
    assert.deepEqual(podCauses(store, { ports: [{ containerPort: 9100, hostPort: 9200 }] }, { hostNetwork: true }), [
      ['spec.containers[0].ports[0].hostPort', 'FieldValueInvalid', 'Invalid value: 9200: must match `containerPort` when `hostNetwork` is true'],
    ]);
  });

  it('regular containers come first; init names must differ from them; restart policies per kind (validateContainers, validateInitContainers)', () => {
    assert.deepEqual(podCauses(store, { restartPolicy: 'Always' }, {
      initContainers: [{ name: 'app', image: 'busybox' }, { name: 'proxy', image: 'envoy', restartPolicy: 'OnFailure' }, { name: 'proxy', image: 'envoy' }],
    }), [
      ['spec.containers[0].restartPolicy', 'FieldValueForbidden', 'Forbidden: may not be set for non-init containers'],
      ['spec.initContainers[0].name', 'FieldValueDuplicate', 'Duplicate value: "app"'],
      ['spec.initContainers[1].restartPolicy', 'FieldValueNotSupported', 'Unsupported value: "OnFailure": supported values: "Always"'],
      ['spec.initContainers[2].name', 'FieldValueDuplicate', 'Duplicate value: "proxy"'],
    ]);
  });

  it('pull and termination message policies are enumerations; a Pod\'s image may not be padded (validateContainerCommon, validateContainerOnlyForPod)', () => {
    assert.deepEqual(podCauses(store, { imagePullPolicy: 'always', terminationMessagePolicy: 'Logs', image: ' nginx:1.27' }), [
      ['spec.containers[0].terminationMessagePolicy', 'FieldValueNotSupported', 'Unsupported value: "Logs": supported values: "File", "FallbackToLogsOnError"'],
      ['spec.containers[0].imagePullPolicy', 'FieldValueNotSupported', 'Unsupported value: "always": supported values: "Always", "IfNotPresent", "Never"'],
      ['spec.containers[0].image', 'FieldValueInvalid', 'Invalid value: " nginx:1.27": must not have leading or trailing whitespace'],
    ]);
  });

  it('pod-level fields: dnsPolicy, hostname, activeDeadlineSeconds, preemptionPolicy (ValidatePodSpec)', () => {
    assert.deepEqual(podCauses(store, {}, { dnsPolicy: 'ClusterFirstWithHostNetwork', hostname: 'Web_1', activeDeadlineSeconds: 0, preemptionPolicy: 'Always' }).map((c) => c[0]), [
      'spec.dnsPolicy', 'spec.activeDeadlineSeconds', 'spec.hostname', 'spec.preemptionPolicy',
    ]);
    assert.deepEqual(podCauses(store, {}, { dnsPolicy: 'None' }), [['spec.dnsConfig', 'FieldValueRequired', 'Required value: must provide `dnsConfig` when `dnsPolicy` is None']]);
  });
});
