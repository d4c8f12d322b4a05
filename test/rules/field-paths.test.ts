// Which fields of cached objects the rules' CEL reads: each shipped rule,
// and the expressions that are easy to get wrong — bound variables of
// macros, has(), optionals, index access, helpers that read fields of their
// own, and the things the analysis cannot follow, which must keep more.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { treePaths, type FieldTree } from '../../src/kube/index.ts';
import { expressionFields, loadRules, ruleFields, rulesFields } from '../../src/rules/index.ts';

const RULES = fileURLToPath(new URL('../../rules', import.meta.url));
const paths = (t: FieldTree | undefined) => (t ? treePaths(t) : []);

function reads(expr: string) {
  const f = expressionFields(expr);
  return { object: paths(f.object), oldObject: paths(f.oldObject), event: paths(f.event), kinds: Object.fromEntries([...f.kinds].map(([k, t]) => [k, paths(t)])), anyKind: f.anyKind };
}

test('a bound variable reads below the list it iterates', () => {
  assert.deepEqual(reads("object.status.containerStatuses.exists(c, has(c.state.waiting) && c.state.waiting.reason == 'X')").object,
    ['status.containerStatuses[].state.waiting.reason']);
  // Nested macros, each variable its own list; the outer one read inside the inner.
  assert.deepEqual(reads("object.spec.containers.exists(n, oldObject.spec.containers.exists(o, o.name == n.name && o.image != n.image))"), {
    object: ['spec.containers[].image', 'spec.containers[].name'], oldObject: ['spec.containers[].image', 'spec.containers[].name'], event: [], kinds: {}, anyKind: false,
  });
  // map/filter: the filter keeps the list's elements (and passes them on), map's transform is used whole.
  assert.deepEqual(reads("object.spec.containers.filter(c, c.name != 'x').map(c, c.image).join(',')").object, ['spec.containers[].image', 'spec.containers[].name']);
  assert.deepEqual(reads("object.spec.containers.map(c, c.name == 'a', c.ports)").object, ['spec.containers[].name', 'spec.containers[].ports']);
  // Two variables: the first is an index or a key, the second the element.
  assert.deepEqual(reads("object.metadata.annotations.all(k, v, v != '')").object, ['metadata.annotations[]']);
  // A variable with the name of a root shadows it.
  assert.deepEqual(reads("object.spec.containers.exists(object, object.name == 'a')").object, ['spec.containers[].name']);
});

test('has() and optionals keep presence; a value that is used is kept whole', () => {
  assert.deepEqual(reads('has(object.spec.template)').object, ['spec.template{}']);
  assert.deepEqual(reads('object.spec.template == oldObject.spec.template').object, ['spec.template']);
  assert.deepEqual(reads("object.metadata.?annotations['a/b'].orValue('') == 'x'").object, ['metadata.annotations["a/b"]']);
  assert.deepEqual(reads("object[?'spec'].?replicas.hasValue()").object, ['spec.replicas{}']);
  assert.deepEqual(reads("object.?spec.?selector.orValue(oldObject.spec.x) == {}"), { object: ['spec.selector'], oldObject: ['spec.x'], event: [], kinds: {}, anyKind: false });
  assert.deepEqual(reads('size(object.spec.containers) > 1').object, ['spec.containers[]{}']);
  assert.deepEqual(reads('object.spec.containers.size() > 1').object, ['spec.containers[]{}']);
});

test('index access: a literal key is a field, an index or computed key is every element', () => {
  assert.deepEqual(reads("object.metadata.labels['app'] == 'x'").object, ['metadata.labels.app']);
  assert.deepEqual(reads("object.spec.containers[0].image == 'x'").object, ['spec.containers[].image']);
  assert.deepEqual(reads('object.metadata.labels[object.spec.key] == "x"').object, ['metadata.labels[]', 'spec.key']);
});

test('helpers read what their code reads', () => {
  assert.deepEqual(reads("owner(object).kind == 'Deployment'").object,
    ['kind', 'metadata.labels.pod-template-hash', 'metadata.name', 'metadata.namespace', 'metadata.ownerReferences']);
  assert.deepEqual(reads("condition(object, 'Ready').status == 'True'").object, ['status.conditions[].status', 'status.conditions[].type']);
  assert.deepEqual(reads("conditionAge(object, 'Ready') > 60.0").object, ['status.conditions[].lastTransitionTime', 'status.conditions[].type']);
  assert.deepEqual(reads('memoryLimited(object)').object, ['spec.containers[].resources.limits.memory', 'spec.template.spec.containers[].resources.limits.memory']);
  assert.deepEqual(reads("value(object, 'spec.template.spec.containers[name=app].image') != ''").object, ['spec.template.spec.containers[].image', 'spec.template.spec.containers[].name']);
  assert.deepEqual(reads("changed(oldObject, object, 'spec.replicas')"), { object: ['spec.replicas'], oldObject: ['spec.replicas'], event: [], kinds: {}, anyKind: false });
  assert.deepEqual(reads('ageSeconds(object) > 1.0').object, ['metadata.creationTimestamp']);
  assert.deepEqual(reads("quantity(object.status.allocatable.memory) > 1.0").object, ['status.allocatable.memory']);
});

test('lookups read what is read of their elements, by kind', () => {
  assert.deepEqual(reads("podsOn(object.metadata.name).exists(p, !memoryLimited(p))").kinds, {
    Pod: ['spec.containers[].resources.limits.memory', 'spec.nodeName', 'spec.template.spec.containers[].resources.limits.memory'],
  });
  assert.deepEqual(reads("objects('ReplicaSet', object.metadata.namespace).filter(rs, rs.spec.replicas > 0).size() >= 2").kinds, { ReplicaSet: ['spec.replicas'] });
  assert.deepEqual(reads("size(objects('LimitRange', object.metadata.name)) == 0").kinds, { LimitRange: ['{}'] });
  assert.deepEqual(reads("production(object.metadata.namespace)").kinds, { Namespace: ['metadata.labels'] });
  assert.deepEqual(reads("objects('ConfigMap').exists(c, c == object)"), { object: ['(everything)'], oldObject: [], event: [], kinds: { ConfigMap: ['(everything)'] }, anyKind: false });
});

test('what the analysis cannot follow keeps more, never less', () => {
  assert.deepEqual(reads('size(changes(oldObject, object)) > 0'), { object: ['(everything)'], oldObject: ['(everything)'], event: [], kinds: {}, anyKind: false });
  assert.deepEqual(reads("object.spec.containers.exists(c, c.image.startsWith('x') && string(c.ports) != '')").object, ['spec.containers[].image', 'spec.containers[].ports']);
  assert.deepEqual(reads('object.spec.template != null ? object.spec.template : object.spec').object, ['spec']);
  assert.equal(reads("objects(object.kind).exists(o, o.x == 1)").anyKind, true, 'a kind known only at run time');
  assert.equal(reads("value(object, object.kind) == 1").object[0], '(everything)', 'a path known only at run time');
  assert.equal(reads('object.spec.').anyKind, true, 'what does not parse reads everything');
  assert.deepEqual(reads('cel.bind(cs, object.status.containerStatuses, cs.exists(c, c.ready == false))').object, ['status.containerStatuses[].ready']);
  assert.deepEqual(reads('[object.a, object.b].exists(x, x.c)').object, ['a', 'b']);
  assert.deepEqual(reads("{'k': object.spec.x}").object, ['spec.x']);
  assert.deepEqual(reads("event.involvedObject.name + ': ' + event.message").event, ['involvedObject.name', 'message']);
});

test('each shipped rule reads what it says, and nothing of kinds it does not name', () => {
  const rules = new Map(loadRules(RULES).map((lr) => [lr.rule.metadata.name, lr]));
  const of = (name: string) => {
    const f = ruleFields(rules.get(name)!);
    return Object.fromEntries(f.kinds().map((k) => [k, treePaths(f.forKind(k))]));
  };
  const owner = ['kind', 'metadata.labels.pod-template-hash', 'metadata.name', 'metadata.namespace', 'metadata.ownerReferences'];
  assert.deepEqual(of('crashloop-backoff'), {
    Pod: [...owner.slice(0, 4), 'metadata.ownerReferences', 'status.containerStatuses[].lastState.terminated.reason', 'status.containerStatuses[].state.waiting.reason'],
    ReplicaSet: ['metadata.labels.pod-template-hash', 'metadata.name'],
  });
  assert.deepEqual(of('oom-killed').Pod, [...owner, 'spec.containers[].name', 'spec.containers[].resources.limits.memory{}',
    'status.containerStatuses[].lastState.terminated.reason', 'status.containerStatuses[].name', 'status.containerStatuses[].state.terminated.reason']);
  assert.deepEqual(of('image-pull-failure').Pod, [...owner, 'status.containerStatuses[].state.waiting.reason']);
  assert.deepEqual(of('pending-too-long'), { Pod: ['metadata.deletionTimestamp{}', 'metadata.name', 'metadata.namespace', 'status.phase'] });
  assert.deepEqual(of('pod-without-memory-limit'), { Namespace: ['metadata.labels'], Pod: [...owner, 'spec.containers[].resources.limits.memory{}', 'status.phase'] });
  assert.deepEqual(of('pod-without-memory-limit-in-production'), of('pod-without-memory-limit'));
  assert.deepEqual(of('hpa-at-max-replicas'), { HorizontalPodAutoscaler: ['metadata.name', 'metadata.namespace', 'spec.maxReplicas', 'status.conditions[].reason', 'status.conditions[].status', 'status.conditions[].type'] });
  assert.deepEqual(of('hpa-max-replicas-increased'), { HorizontalPodAutoscaler: ['metadata.name', 'metadata.namespace', 'spec.maxReplicas'] });
  const template = ['kind', 'metadata.name', 'metadata.namespace', 'spec.template.spec.containers[].name', 'spec.template.spec.containers[].resources.limits.memory'];
  assert.deepEqual(of('memory-limit-changed'), { DaemonSet: template, Deployment: template, StatefulSet: template });
  assert.deepEqual(of('namespace-without-limitrange'), { LimitRange: ['{}'], Namespace: ['metadata.labels', 'metadata.name', 'status.phase'] });
  assert.deepEqual(of('node-memory-high'), {
    Node: ['metadata.name', 'status.allocatable.memory'],
    NodeMetrics: ['metadata.name', 'previous.timestamp', 'previous.usage.memory', 'timestamp', 'usage.memory'],
    Pod: ['spec.containers[].resources.limits.memory', 'spec.nodeName', 'spec.template.spec.containers[].resources.limits.memory'],
  });
  assert.deepEqual(of('node-memory-pressure'), { Node: ['metadata.name', 'status.conditions[].status', 'status.conditions[].type'] });
  assert.deepEqual(of('node-not-ready'), of('node-memory-pressure'));
  assert.deepEqual(of('rollout-stuck'), {
    Deployment: ['metadata.name', 'metadata.namespace', 'status.conditions[].reason', 'status.conditions[].status', 'status.conditions[].type'],
    ReplicaSet: ['metadata.labels.pod-template-hash', 'metadata.name'],
  });
  // An Event rule's object and event are the Event.
  assert.deepEqual(of('pod-evicted'), { Event: ['involvedObject.name', 'involvedObject.namespace', 'message'] });
  assert.deepEqual(of('system-oom'), { Event: ['involvedObject.name', 'message'] });
  // A rollout rule reads the smoke report, which is not cached: its workload needs are the watcher's (ROLLOUT_FIELDS).
  assert.deepEqual(of('rollout-regression'), {});
  assert.equal(rules.size, 18, 'a new shipped rule needs its expectation here');
});

test('the whole set adds the engine\'s own needs: Event fields and the evidence fields of every kind', () => {
  const f = rulesFields(loadRules(RULES));
  const pod = treePaths(f.forKind('Pod'));
  for (const p of ['spec.containers[].image', 'status.containerStatuses[].restartCount', 'status.conditions[].type', 'status.phase']) assert.ok(pod.includes(p), p);
  assert.ok(!pod.some((p) => p.startsWith('spec.volumes') || p.includes('env')), 'env and volumes are never cached for evidence');
  assert.ok(treePaths(f.forKind('Event')).includes('involvedObject'));
});
