// Whether the real kubectl is installed: the tests that drive the sandbox
// with it are skipped when it is not on PATH.
import { execFileSync } from 'node:child_process';

export const hasKubectl: boolean = (() => {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
