// Where a pod may run, checked against pkg/apis/core/validation (1.32):
// validateAffinity, ValidateNodeSelector / ValidateNodeSelectorRequirement
// (no label-value check on values before 1.33), ValidatePreferredSchedulingTerms,
// validatePodAffinityTerm, validateWeightedPodAffinityTerms, ValidateTolerations,
// validateTopologySpreadConstraints; metav1 ValidateLabelSelector and
// ValidateLabels (nodeSelector).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { accepted, newStore, pod, podCauses } from './validation-helpers.ts';

const NA = 'spec.affinity.nodeAffinity';
const PA = 'spec.affinity.podAntiAffinity';
const QN_EMPTY = `name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`;

describe('scheduling validation', { timeout: 30_000 }, () => {
  const store = newStore();

  it('node affinity: operators and their value counts, at least one term, weights 1-100 (ValidateNodeSelectorRequirement)', () => {
    const term = `${NA}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]`;
    assert.deepEqual(podCauses(store, {}, {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{
            matchExpressions: [
              { key: 'zone', operator: 'in', values: ['a'] },
              { key: 'disk', operator: 'In' },
              { key: 'gpu', operator: 'Exists', values: ['true'] },
              { key: 'cores', operator: 'Gt', values: ['2', '4'] },
            ],
            matchFields: [{ key: 'metadata.labels', operator: 'In', values: ['a', 'b'] }],
          }] },
          preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 0, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] } }],
        },
      },
    }), [
      [`${term}.matchExpressions[0].operator`, 'FieldValueInvalid', 'Invalid value: "in": not a valid selector operator'],
      [`${term}.matchExpressions[1].values`, 'FieldValueRequired', "Required value: must be specified when `operator` is 'In' or 'NotIn'"],
      [`${term}.matchExpressions[2].values`, 'FieldValueForbidden', "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"],
      [`${term}.matchExpressions[3].values`, 'FieldValueRequired', "Required value: must be specified single value when `operator` is 'Lt' or 'Gt'"],
      [`${term}.matchFields[0].values`, 'FieldValueRequired', "Required value: must be only one value when `operator` is 'In' or 'NotIn' for node field selector"],
      [`${term}.matchFields[0].key`, 'FieldValueInvalid', 'Invalid value: "metadata.labels": not a valid field selector key'],
      [`${NA}.preferredDuringSchedulingIgnoredDuringExecution[0].weight`, 'FieldValueInvalid', 'Invalid value: 0: must be in the range 1-100'],
    ]);
    assert.deepEqual(podCauses(store, {}, { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } } }), [
      [`${NA}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`, 'FieldValueRequired', 'Required value: must have at least one node selector term'],
    ]);
    // 1.32 does not check node affinity values as label values (kubernetes#128212 came in 1.33).
    accepted(store, 'pods', pod({}, { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['eu west'] }] }] } } } }));
  });

  it('pod (anti-)affinity: selectors, a topologyKey, weights (validatePodAffinityTerm, ValidateLabelSelectorRequirement)', () => {
    assert.deepEqual(podCauses(store, {}, {
      affinity: {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchExpressions: [{ key: 'app', operator: 'Equals', values: ['web'] }] }, namespaces: ['Prod'] }],
          preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 101, podAffinityTerm: { labelSelector: { matchLabels: { app: 'web server' } }, topologyKey: 'kubernetes.io/hostname' } }],
        },
      },
    }), [
      [`${PA}.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchExpressions[0].operator`, 'FieldValueInvalid', 'Invalid value: "Equals": not a valid selector operator'],
      [`${PA}.requiredDuringSchedulingIgnoredDuringExecution[0].namespace`, 'FieldValueInvalid', `Invalid value: "Prod": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`],
      [`${PA}.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey`, 'FieldValueRequired', 'Required value: can not be empty'],
      [`${PA}.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey`, 'FieldValueInvalid', 'Invalid value: "": name part must be non-empty'],
      [`${PA}.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey`, 'FieldValueInvalid', `Invalid value: "": ${QN_EMPTY}`],
      [`${PA}.preferredDuringSchedulingIgnoredDuringExecution[0].weight`, 'FieldValueInvalid', 'Invalid value: 101: must be in the range 1-100'],
      [`${PA}.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.labelSelector.matchLabels`, 'FieldValueInvalid', `Invalid value: "web server": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`],
    ]);
  });

  it('tolerations: Exists without a key, no value with Exists, NoExecute with seconds, known effects (ValidateTolerations)', () => {
    const causes = podCauses(store, {}, {
      tolerations: [
        { operator: 'Equal', value: 'x' },
        { key: 'dedicated', operator: 'Exists', value: 'gpu' },
        { key: 'k', operator: 'Equal', value: 'v', tolerationSeconds: 30, effect: 'NoSchedule' },
        { key: 'k2', effect: 'NoScheduled' },
        { key: 'k3', operator: 'In', value: 'v' },
      ],
    });
    assert.deepEqual(causes, [
      ['spec.tolerations[0].operator', 'FieldValueInvalid', 'Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match all values and all keys"'],
      ['spec.tolerations[1].operator', 'FieldValueInvalid', `Invalid value: core.Toleration{Key:"dedicated", Operator:"Exists", Value:"gpu", Effect:"", TolerationSeconds:(*int64)(nil)}: value must be empty when \`operator\` is 'Exists'`],
      ['spec.tolerations[2].effect', 'FieldValueInvalid', `Invalid value: "NoSchedule": effect must be 'NoExecute' when \`tolerationSeconds\` is set`],
      ['spec.tolerations[3].effect', 'FieldValueNotSupported', 'Unsupported value: "NoScheduled": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"'],
      ['spec.tolerations[4].operator', 'FieldValueNotSupported', 'Unsupported value: "In": supported values: "Equal", "Exists"'],
    ]);
  });

  it('nodeSelector labels and topology spread constraints (ValidateLabels, validateTopologySpreadConstraints)', () => {
    assert.deepEqual(podCauses(store, {}, {
      nodeSelector: { 'disk type': 'ssd' },
      topologySpreadConstraints: [
        { maxSkew: 0, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule' },
        { maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule' },
        { maxSkew: 1, topologyKey: '', whenUnsatisfiable: 'Schedule', minDomains: 2 },
      ],
    }), [
      ['spec.nodeSelector', 'FieldValueInvalid', `Invalid value: "disk type": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`],
      ['spec.topologySpreadConstraints[0].maxSkew', 'FieldValueInvalid', 'Invalid value: 0: must be greater than zero'],
      ['spec.topologySpreadConstraints[0].{topologyKey, whenUnsatisfiable}', 'FieldValueDuplicate', 'Duplicate value: "{zone, DoNotSchedule}"'],
      ['spec.topologySpreadConstraints[2].topologyKey', 'FieldValueRequired', 'Required value: can not be empty'],
      ['spec.topologySpreadConstraints[2].whenUnsatisfiable', 'FieldValueNotSupported', 'Unsupported value: "Schedule": supported values: "DoNotSchedule", "ScheduleAnyway"'],
      ['spec.topologySpreadConstraints[2].minDomains', 'FieldValueInvalid', 'Invalid value: 2: can only use minDomains if whenUnsatisfiable=DoNotSchedule, not Schedule'],
    ]);
  });
});
