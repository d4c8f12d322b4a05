// A state file is only ever restored into the sandbox it came from: another
// scenario, an edited scenario, no scenario, or another format version is
// refused with KM-SANDBOX-006; a file that is not a state file, or a place
// the state cannot be written, with KM-SANDBOX-007. Nothing is half-restored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/common/clock.ts';
import { KubemendError } from '../../src/common/errors.ts';
import { Sandbox } from '../../src/sandbox/cluster.ts';
import { resolveScenario, ScenarioRunner, sandboxOptionsFor } from '../../src/sandbox/scenarios/index.ts';
import { savedVirtualTime } from '../../src/sandbox/state.ts';

const TIMEOUT = { timeout: 60_000 };
const crashloop = resolveScenario('crashloop').scenario;
const pending = resolveScenario('pending').scenario;

/** A state file of a crashloop sandbox whose runner has started. */
async function crashloopState(): Promise<string> {
  const file = join(mkdtempSync(join(tmpdir(), 'km-state-')), 'state.json');
  const sb = new Sandbox(sandboxOptionsFor(crashloop, { clock: new ManualClock(), stateFile: file })).start();
  const runner = new ScenarioRunner(sb, crashloop).start();
  runner.stop();
  await sb.stop();
  return file;
}
const clockFor = (file: string) => new ManualClock(savedVirtualTime(file));

function refused(code: string, message: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof KubemendError, String(err));
    assert.equal(err.code, code);
    assert.match(err.message, message);
    assert.match(err.fix, /delete|--state-file/);
    return true;
  };
}

test('a state file of another scenario is refused', TIMEOUT, async () => {
  const file = await crashloopState();
  assert.throws(() => new Sandbox(sandboxOptionsFor(pending, { clock: clockFor(file), stateFile: file })),
    refused('KM-SANDBOX-006', /belongs to a sandbox playing scenario "crashloop"; refusing to continue it with scenario "pending"/));
  assert.throws(() => new Sandbox({ clock: clockFor(file), stateFile: file, scenario: null }),
    refused('KM-SANDBOX-006', /refusing to continue it with no scenario/));
});

test('a sandbox that was not told its scenario refuses a runner of another one', TIMEOUT, async () => {
  const file = await crashloopState();
  const sb = new Sandbox({ clock: clockFor(file), stateFile: file });
  assert.throws(() => new ScenarioRunner(sb, pending).start(), refused('KM-SANDBOX-006', /scenario "crashloop"; refusing to continue it with scenario "pending"/));
  const runner = new ScenarioRunner(sb, crashloop).start();
  assert.ok(runner.resumed, 'the right scenario resumes');
  runner.stop();
});

test('a plain sandbox state does not become a scenario run', TIMEOUT, async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'km-state-')), 'state.json');
  await new Sandbox({ clock: new ManualClock(), stateFile: file, scenario: null }).start().stop();
  assert.throws(() => new Sandbox(sandboxOptionsFor(crashloop, { clock: clockFor(file), stateFile: file })),
    refused('KM-SANDBOX-006', /playing no scenario; refusing to continue it with scenario "crashloop"/));
});

test('an edited scenario is refused: its steps would land in the wrong places', TIMEOUT, async () => {
  const file = await crashloopState();
  const edited = structuredClone(crashloop);
  edited.spec.steps[1].at = 90_000;
  assert.throws(() => new Sandbox(sandboxOptionsFor(edited, { clock: clockFor(file), stateFile: file })),
    refused('KM-SANDBOX-006', /another version of scenario "crashloop"/));
});

test('another state format version is refused', TIMEOUT, async () => {
  const file = await crashloopState();
  writeFileSync(file, readFileSync(file, 'utf8').replace('"format":1,', '"format":2,'));
  assert.throws(() => new Sandbox(sandboxOptionsFor(crashloop, { clock: new ManualClock(), stateFile: file })),
    refused('KM-SANDBOX-006', /state format 2; this kubemend reads format 1 only/));
});

test('a file that is not a state file, or an unwritable place, is KM-SANDBOX-007', TIMEOUT, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-state-'));
  const notState = join(dir, 'kubeconfig');
  writeFileSync(notState, 'apiVersion: v1\nkind: Config\n');
  assert.throws(() => new Sandbox({ stateFile: notState }), refused('KM-SANDBOX-007', /is not a sandbox state file/));
  writeFileSync(notState, '{"kind":"Something"}');
  assert.throws(() => new Sandbox({ stateFile: notState }), refused('KM-SANDBOX-007', /is not a sandbox state file/));

  // Places that cannot hold the file (no permission tricks: the tests may run as root).
  assert.throws(() => new Sandbox({ stateFile: join(notState, 'state.json') }), refused('KM-SANDBOX-007', /cannot read the sandbox state file .*ENOTDIR/));
  const sb = new Sandbox({ clock: new ManualClock(), stateFile: join(dir, 'no-such-dir', 'state.json') });
  assert.throws(() => sb.start(), refused('KM-SANDBOX-007', /cannot write the sandbox state file .*ENOENT/));
  await sb.stop();
});

test('a clock behind the saved virtual time is a programming error, caught at construction', TIMEOUT, async () => {
  const file = await crashloopState();
  assert.throws(() => new Sandbox(sandboxOptionsFor(crashloop, { clock: new ManualClock(Date.UTC(2020, 0, 1)), stateFile: file })), /start it at savedVirtualTime/);
});
