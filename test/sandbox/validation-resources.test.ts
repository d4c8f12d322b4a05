// Resource requirements and quantities, checked against
// pkg/apis/core/validation (1.32) validateResourceRequirements,
// validateContainerResourceName, ValidateResourceQuantityValue; against
// apimachinery's resource.Quantity (ParseQuantity, CanonicalizeBytes,
// RoundUp) for the canonical form messages quote and objects are stored in;
// and SetDefaults_ResourceList (rounded up to milli units).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalQuantity, canonicalText, compareQuantities, parseQuantityExact } from '../../src/sandbox/quantity-canonical.ts';
import { accepted, newStore, pod, podCauses } from './validation-helpers.ts';

const R = 'spec.containers[0].resources';

describe('quantities in canonical form (resource.Quantity.String)', { timeout: 30_000 }, () => {
  it('prints values the way apimachinery does', () => {
    const cases: [unknown, string][] = [
      ['0', '0'], ['0m', '0'], ['1', '1'], ['1000m', '1'], ['0.5', '500m'], ['.5', '500m'], ['1.5', '1500m'], ['2.50', '2500m'],
      ['100m', '100m'], ['0.1m', '100u'], ['1000000000n', '1'], ['1000k', '1M'], ['1M', '1M'], ['1024', '1024'],
      ['1Ki', '1Ki'], ['1024Ki', '1Mi'], ['1536Ki', '1536Ki'], ['1.5Gi', '1536Mi'], ['0.5Ki', '512'], ['2048Mi', '2Gi'], ['5000Mi', '5000Mi'],
      ['1e3', '1e3'], ['1E3', '1e3'], ['12e-3', '12e-3'], ['1200e0', '1200'], ['-64Mi', '-64Mi'], ['-1', '-1'], ['+2', '2'],
      [2, '2'], [0.25, '250m'], [1.5e9, '1500M'],
    ];
    for (const [input, want] of cases) assert.equal(canonicalText(input), want, `canonical of ${JSON.stringify(input)}`);
    assert.equal(canonicalText('1Gb'), '1Gb', 'what does not parse is left alone (the decoder refuses it first)');
  });

  it('compares by value, whatever the form', () => {
    const q = (s: string) => parseQuantityExact(s)!;
    assert.equal(compareQuantities(q('1Gi'), q('1024Mi')), 0);
    assert.equal(compareQuantities(q('2000m'), q('1')), 1);
    assert.equal(compareQuantities(q('1G'), q('1Gi')), -1);
    assert.equal(compareQuantities(q('-1'), q('0')), -1);
    assert.equal(canonicalQuantity(q('1G')), '1G');
  });
});

describe('resource requirement validation', { timeout: 30_000 }, () => {
  const store = newStore();

  it('stores quantities rounded up to milli units, in canonical form (SetDefaults_ResourceList)', () => {
    const stored = accepted(store, 'pods', pod({ resources: { requests: { cpu: '0.5', memory: '1024Mi', 'ephemeral-storage': '0.0001' }, limits: { cpu: 1.5, memory: '1.5Gi' } } }));
    assert.deepEqual(stored.spec.containers[0].resources, { requests: { cpu: '500m', memory: '1Gi', 'ephemeral-storage': '1m' }, limits: { cpu: '1500m', memory: '1536Mi' } });
  });

  it('requests may not exceed limits; the message quotes both in canonical form (validateResourceRequirements)', () => {
    assert.deepEqual(podCauses(store, { resources: { requests: { cpu: '2000m', memory: '1Gi' }, limits: { cpu: '1', memory: '1024Mi' } } }), [
      [`${R}.requests`, 'FieldValueInvalid', 'Invalid value: "2": must be less than or equal to cpu limit of 1'],
    ]);
  });

  it('no negative quantities, only container resources, extended resources requested as limited (ValidateResourceQuantityValue, validateContainerResourceName)', () => {
    assert.deepEqual(podCauses(store, { resources: { limits: { 'example.com/gpu': '1', 'nvidia.com/gpu': '1' }, requests: { memory: '-64Mi', mem: '1Gi', pods: '1', 'example.com/gpu': '2', 'nvidia.com/gpu': '1', 'example.com/fpga': '1' } } }), [
      [`${R}.requests[memory]`, 'FieldValueInvalid', 'Invalid value: "-64Mi": must be greater than or equal to 0'],
      [`${R}.requests[mem]`, 'FieldValueInvalid', 'Invalid value: "mem": must be a standard resource type or fully qualified'],
      [`${R}.requests[mem]`, 'FieldValueInvalid', 'Invalid value: "mem": must be a standard resource for containers'],
      [`${R}.requests[pods]`, 'FieldValueInvalid', 'Invalid value: "pods": must be a standard resource for containers'],
      [`${R}.requests`, 'FieldValueInvalid', 'Invalid value: "2": must be equal to example.com/gpu limit of 1'],
      [`${R}.limits`, 'FieldValueRequired', 'Required value: Limit must be set for non overcommitable resources'],
    ]);
    assert.deepEqual(podCauses(store, { resources: { limits: { 'hugepages-2Mi': '2Mi' } } }), [
      [R, 'FieldValueForbidden', 'Forbidden: HugePages require cpu or memory'],
    ]);
    assert.deepEqual(podCauses(store, {}, { overhead: { cpu: '-250m' } }), [
      ['spec.overhead.limits[cpu]', 'FieldValueInvalid', 'Invalid value: "-250m": must be greater than or equal to 0'],
    ]);
  });
});
