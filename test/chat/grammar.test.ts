// The command grammar: what parses into what, and that every mistake gets a
// message naming the problem plus the usage line of the command meant.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommand, tokenize, helpText, USAGE, type Parsed } from '../../src/chat/grammar.ts';

const ok = (text: string) => {
  const p = parseCommand(text);
  assert.ok(p.ok, `${text}: ${!p.ok ? p.error : ''}`);
  return p.command;
};
const bad = (text: string): Extract<Parsed, { ok: false }> => {
  const p = parseCommand(text);
  assert.ok(!p.ok, `${text} should not parse`);
  return p;
};

test('the five workload commands parse, with kind/name or kind name, short kinds and flag spellings', () => {
  assert.deepEqual(ok('restart deployment/web -n shop --cluster prod'), { type: 'action', action: 'restart', kind: 'Deployment', name: 'web', namespace: 'shop', cluster: 'prod' });
  assert.deepEqual(ok('rollback deployment/web -n shop --to-revision 3'), { type: 'action', action: 'rollback', kind: 'Deployment', name: 'web', namespace: 'shop', toRevision: 3 });
  assert.deepEqual(ok('promote deploy web --namespace prod --from staging --from-cluster c2'), { type: 'action', action: 'promote', kind: 'Deployment', name: 'web', namespace: 'prod', fromNamespace: 'staging', fromCluster: 'c2' });
  assert.deepEqual(ok('scale sts/db -n data --replicas=5'), { type: 'action', action: 'scale', kind: 'StatefulSet', name: 'db', namespace: 'data', replicas: 5 });
  assert.deepEqual(ok('status ds/node-agent -n kube-system'), { type: 'action', action: 'status', kind: 'DaemonSet', name: 'node-agent', namespace: 'kube-system' });
  assert.equal((ok('scale deployment/web -n shop --replicas 0') as { replicas: number }).replicas, 0);
});

test('justification flags, quotes (including chat clients\' smart quotes) and Slack links', () => {
  const c = ok('scale deployment/web -n shop --replicas 5 --reason "sale traffic, see alert" --link <https://alertmanager.example.com/#/alerts|alert>');
  assert.equal((c as { reason: string }).reason, 'sale traffic, see alert');
  assert.equal((c as { link: string }).link, 'https://alertmanager.example.com/#/alerts');
  assert.equal((ok('restart deployment/web -n shop --reason “pods wedged after deploy” --link OPS-12') as { reason: string }).reason, 'pods wedged after deploy');
  assert.equal((ok("restart deployment/web -n shop --reason='single quoted'") as { reason: string }).reason, 'single quoted');
  assert.deepEqual(tokenize('a "b c" d=\'e f\''), ['a', 'b c', "d=e f"]);
});

test('a leading bot mention is ignored: @kubemend, kubemend:, Slack <@U123>', () => {
  for (const prefix of ['@kubemend', 'kubemend:', '<@U024BE7LH>', '@KubeMend,']) {
    assert.equal(ok(`${prefix} status deployment/web -n shop`).type, 'action', prefix);
  }
  assert.deepEqual(parseCommand('@opsbot status deployment/web -n shop', { botNames: ['opsbot'] }).ok, true);
});

test('conversation commands take a 6-character request id', () => {
  assert.deepEqual(ok('confirm 3f2a9c'), { type: 'confirm', id: '3f2a9c' });
  assert.deepEqual(ok('cancel 3F2A9C'), { type: 'cancel', id: '3f2a9c' });
  assert.deepEqual(ok('approve 3f2a9c looks right'), { type: 'approve', id: '3f2a9c', comment: 'looks right' });
  assert.deepEqual(ok('deny 3f2a9c not during the freeze'), { type: 'deny', id: '3f2a9c', comment: 'not during the freeze' });
  assert.deepEqual(ok('justify 3f2a9c --link OPS-1 checkout is down since 10:02'), { type: 'justify', id: '3f2a9c', link: 'OPS-1', reason: 'checkout is down since 10:02' });
  assert.deepEqual(ok('help'), { type: 'help', topic: undefined });
  assert.deepEqual(ok(''), { type: 'help' });
  assert.deepEqual(ok('help scale'), { type: 'help', topic: 'scale' });
});

test('mistakes name the problem and show the usage of the command meant', () => {
  const cases: [string, RegExp, string][] = [
    ['resart deployment/web -n shop', /unknown command "resart" \(did you mean "restart"\?\)/, 'commands:'],
    ['restart deployment/web', /say which namespace with -n NAMESPACE/, USAGE.restart],
    ['restart pod/web -n shop', /restart works on deployment, statefulset, daemonset, not "pod"/, USAGE.restart],
    ['rollback statefulset/db -n data', /rollback works on deployment, not statefulset/, USAGE.rollback],
    ['scale ds/agent -n x --replicas 2', /scale works on deployment, statefulset, not daemonset/, USAGE.scale],
    ['scale deployment/web -n shop', /scale needs --replicas N/, USAGE.scale],
    ['scale deployment/web -n shop --replicas five', /--replicas takes a whole number, not "five"/, USAGE.scale],
    ['scale deployment/web -n shop --replicas -1', /--replicas takes a whole number, not "-1"/, USAGE.scale],
    ['scale deployment/web -n shop --replicas', /--replicas needs a value/, USAGE.scale],
    ['scale deployment/web -n shop --replica 3', /scale has no flag --replica \(did you mean "replicas"\?\)/, USAGE.scale],
    ['restart deployment/web -n shop -n shop', /--namespace is given twice/, USAGE.restart],
    ['restart deployment/web -n Shop_1', /"Shop_1" is not a namespace name/, USAGE.restart],
    ['restart deployment/Web -n shop', /"Web" is not a valid deployment name/, USAGE.restart],
    ['restart -n shop', /restart needs a workload, like restart deployment\/web -n shop/, USAGE.restart],
    ['restart deployment -n shop', /which deployment\? write deployment\/NAME/, USAGE.restart],
    ['restart deployment/web -n shop --reason sale traffic', /unexpected "traffic"; quote text that has spaces/, USAGE.restart],
    ['promote deployment/web -n prod', /promote needs the source: --from NAMESPACE/, USAGE.promote],
    ['promote deployment/web -n prod --from prod', /the source is the target itself/, USAGE.promote],
    ['rollback deployment/web -n shop --to-revision 0', /--to-revision must be at least 1/, USAGE.rollback],
    ['confirm', /confirm needs the request id/, USAGE.confirm],
    ['confirm 12', /"12" is not a request id/, USAGE.confirm],
    ['confirm 3f2a9c now', /confirm takes only the request id/, USAGE.confirm],
    ['justify 3f2a9c --ticket OPS-1', /justify takes --reason and --link, not --ticket/, USAGE.justify],
    ['restart deployment/web -n shop --reason "unclosed', /a quote is not closed/, 'quote text with "…"'],
  ];
  for (const [text, error, usage] of cases) {
    const p = bad(text);
    assert.match(p.error, error, text);
    assert.ok(p.usage.includes(usage), `${text}: usage ${p.usage}`);
  }
});

test('help lists every command; help for one command shows its usage', () => {
  const all = helpText();
  for (const verb of ['restart', 'rollback', 'promote', 'scale', 'status', 'justify', 'confirm', 'approve', 'deny']) assert.match(all, new RegExp(`\\b${verb}\\b`));
  assert.equal(helpText('scale'), `usage: ${USAGE.scale}`);
  assert.match(helpText('sclae'), /no command "sclae" \(did you mean "scale"\?\)/);
});

test('promote --force is a switch: it takes no value, and only promote has it', () => {
  assert.deepEqual(ok('promote deployment/web -n prod --from staging --force --reason "hotfix" --link CHG-1'), { type: 'action', action: 'promote', kind: 'Deployment', name: 'web', namespace: 'prod', fromNamespace: 'staging', force: true, reason: 'hotfix', link: 'CHG-1' });
  // The switch does not swallow the next word as its value.
  assert.equal((ok('promote deployment/web --force -n prod --from staging') as { namespace: string }).namespace, 'prod');
  assert.match(bad('promote deployment/web -n prod --from staging --force=yes').error, /--force takes no value/);
  assert.match(bad('promote deployment/web -n prod --from staging --force --force').error, /--force is given twice/);
  assert.match(bad('restart deployment/web -n prod --force').error, /restart has no flag --force/);
  assert.match(USAGE.promote, /\[--force\]/);
});
