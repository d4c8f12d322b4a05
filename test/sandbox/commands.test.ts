// The command model: what a container's command/args compile to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandKubeVars, interpretCommand, type CommandOutcome } from '../../src/sandbox/commands.ts';

const run = (command?: string[], args?: string[], env?: Record<string, string>): CommandOutcome => interpretCommand({ command, args, env, hostname: 'pod-1' });
const program = (o: CommandOutcome) => {
  assert.equal(o.kind, 'program');
  return (o as Extract<CommandOutcome, { kind: 'program' }>).program;
};

test('plain commands: sleep, true, false, echo, tail -f /dev/null', () => {
  assert.deepEqual(program(run(['sleep', '3600'])), { ops: [{ sleep: 3_600_000 }], loop: undefined, status: 0 });
  assert.deepEqual(program(run(['/bin/sleep', '1.5', '1m'])).ops, [{ sleep: 61_500 }]);
  assert.equal(program(run(['true'])).status, 0);
  assert.equal(program(run(['false'])).status, 1);
  assert.deepEqual(program(run(['echo', 'a', 'b'])).ops, [{ out: 'a b' }]);
  assert.deepEqual(program(run(['tail', '-f', '/dev/null'])).ops, [{ sleep: Infinity }]);
  assert.deepEqual(program(run(['sleep', 'infinity'])).ops, [{ sleep: Infinity }]);
  assert.deepEqual(program(run(['sleep', 'soon'])), { ops: [{ out: "sleep: invalid time interval 'soon'" }], loop: undefined, status: 1 });
});

test('sh -c: sequences, && and ||, exit codes, set -e, loops, redirections', () => {
  assert.deepEqual(program(run(undefined, ['sh', '-c', 'exit 3'])), { ops: [{ exit: 3 }], loop: undefined, status: 3 });
  assert.deepEqual(program(run(['sh', '-c', 'echo x; sleep 5'])).ops, [{ out: 'x' }, { sleep: 5000 }]);
  assert.deepEqual(program(run(['sh', '-c', 'false || echo recovered && exit 4'])).ops, [{ out: 'recovered' }, { exit: 4 }]);
  assert.deepEqual(program(run(['sh', '-c', 'false; echo $?'])).ops, [{ out: '1' }]);
  assert.deepEqual(program(run(['sh', '-ec', 'echo a; false; echo b'])).ops, [{ out: 'a' }, { exit: 1 }]);
  assert.deepEqual(program(run(['sh', '-ec', 'false || true; echo ok'])).ops, [{ out: 'ok' }], 'a failure tested by || does not trip set -e');
  assert.deepEqual(program(run(['sh', '-c', 'exit 300'])).ops, [{ exit: 44 }], 'exit codes are taken modulo 256');
  assert.deepEqual(program(run(['sh', '-c', 'while true; do echo hello; sleep 10; done'])), { ops: [{ out: 'hello' }, { sleep: 10_000 }], loop: 0, status: 0 });
  assert.deepEqual(program(run(['sh', '-c', 'echo start\nwhile :; do date; done'])), { ops: [{ out: 'start' }, { date: true }, { sleep: 1000 }], loop: 1, status: 0 }, 'a loop without sleep is paced');
  assert.deepEqual(program(run(['sh', '-c', 'until false; do exit 7; done'])).ops, [{ exit: 7 }]);
  assert.deepEqual(program(run(['/bin/bash', '-c', 'for i in 1 2; do echo "n=$i"; done; exit 2'])).ops, [{ out: 'n=1' }, { out: 'n=2' }, { exit: 2 }]);
  assert.deepEqual(program(run(['sh', '-c', 'echo hidden > /tmp/x; echo shown >&2; echo -n a; echo b'])).ops, [{ out: 'shown' }, { out: 'ab' }]);
  assert.deepEqual(program(run(['sh', '-c', 'printf "%s=%d\\n" a 1 b 2'])).ops, [{ out: 'a=1' }, { out: 'b=2' }]);
  assert.deepEqual(program(run(['sh', '-xc', 'sleep 1m; exit'])).ops, [{ out: '+ sleep 1m' }, { sleep: 60_000 }, { out: '+ exit' }, { exit: 0 }]);
  assert.deepEqual(program(run(['sh', '-c', 'echo $0 $1 "$@"', 'me', 'a', 'b'])).ops, [{ out: 'me a a b' }]);
  assert.deepEqual(program(run(['sh', '-c', 'trap "exit 0" TERM; exec sleep 10'])).ops, [{ sleep: 10_000 }, { exit: 0 }]);
  assert.deepEqual(program(run(['sh'])).ops, [], 'a shell with no script reads end-of-file');
});

test('variables: $(VAR) in command and args from env, $VAR and $HOSTNAME in scripts, field splitting', () => {
  const env = { NAME: 'n', GREETING: 'hi there' };
  assert.deepEqual(program(run(['sh', '-c', 'echo $HOSTNAME $(NAME) ${GREETING}'], undefined, env)).ops, [{ out: 'pod-1 n hi there' }]);
  assert.deepEqual(program(run(['echo', '$(NAME)', '$$(NAME)', '$(MISSING)'], undefined, env)).ops, [{ out: 'n $(NAME) $(MISSING)' }]);
  assert.deepEqual(program(run(['sh', '-c', 'for w in $GREETING; do echo "[$w]"; done'], undefined, env)).ops, [{ out: '[hi]' }, { out: '[there]' }]);
  assert.deepEqual(program(run(['sh', '-c', 'X=1; echo "$X"'])).ops, [{ out: '1' }]);
  assert.equal(expandKubeVars('$(A)-$(B)', { A: 'x' }), 'x-$(B)');
});

test('outside the model: the image keeps its behaviour; a builtin as the command cannot start', () => {
  for (const argv of [['nginx', '-g', 'daemon off;'], ['sh', '-c', 'echo x | tee y'], ['sh', '-c', 'echo $(date)'], ['sh', '-c', 'if true; then echo y; fi'], ['sh', 'script.sh'], ['sh', '-c', 'run &'], ['sh', '-c', 'echo *']]) {
    assert.deepEqual(run(argv), { kind: 'image' }, argv.join(' '));
  }
  assert.deepEqual(run(), { kind: 'image' });
  const start = run(['exit', '1']);
  assert.equal(start.kind, 'startError');
  assert.match((start as { message: string }).message, /exec: "exit": executable file not found in \$PATH: unknown$/);
});
