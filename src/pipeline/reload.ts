// Hot reload. Each watched path (the rules and runbooks directories, the
// policy file, the service config) is fingerprinted on an interval — file
// names, sizes and content hashes, following symlinks — because a mounted
// ConfigMap changes by swapping a `..data` symlink, which polling always
// sees and file events often miss. A change is validated as a whole and
// applied, or refused: the running set stays, and both outcomes are logged
// and audited (`config.reloaded`, `config.reload.refused`).
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Clock, type TimerHandle, configReloadsTotal } from '../common/index.ts';
import type { Store } from '../store/index.ts';

export interface Watched {
  /** What it is, for logs and audit: rules, runbooks, policy, config. */
  what: string;
  path: string;
  /** Validates and applies the new content; throws (a ConfigError names file:line) to refuse it. Returns a short summary. */
  apply(): Promise<string> | string;
}

export interface ReloaderOptions {
  clock: Clock;
  store?: Store;
  intervalMs?: number;
  log?: (line: string) => void;
}

/** Content fingerprint of a file or of every file below a directory (hidden `..data`-style entries followed like any other). */
export function fingerprint(path: string): string {
  const h = createHash('sha256');
  const walk = (p: string, depth: number) => {
    let st;
    try {
      st = statSync(p);
    } catch {
      h.update(`missing:${p}\n`);
      return;
    }
    if (st.isDirectory()) {
      if (depth > 8) return;
      for (const name of readdirSync(p).sort()) {
        // A ConfigMap mount lists each file twice (name → ..data/name); the visible names are enough.
        if (name.startsWith('..')) continue;
        walk(join(p, name), depth + 1);
      }
      return;
    }
    h.update(`${p}\n`);
    try {
      h.update(readFileSync(p));
    } catch {
      h.update('unreadable');
    }
  };
  walk(path, 0);
  return h.digest('hex');
}

export class Reloader {
  private readonly o: ReloaderOptions;
  private readonly watched: { w: Watched; print: string }[] = [];
  private timer?: TimerHandle;
  private running?: Promise<void>;
  private stopped = false;

  constructor(o: ReloaderOptions) {
    this.o = o;
  }

  /** `baseline`: the fingerprint taken before the running content was loaded, so a change made in between is still seen. */
  watch(w: Watched, baseline = fingerprint(w.path)): void {
    this.watched.push({ w, print: baseline });
  }

  start(): void {
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  /** Checks every path once now (tests call this instead of waiting for the interval). */
  async check(): Promise<void> {
    if (this.running) return this.running;
    this.running = (async () => {
      for (const entry of this.watched) {
        const now = fingerprint(entry.w.path);
        if (now === entry.print) continue;
        entry.print = now;
        await this.reload(entry.w);
      }
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  private async reload(w: Watched): Promise<void> {
    const actor = { type: 'system' as const, name: 'reloader' };
    try {
      const summary = await w.apply();
      configReloadsTotal.inc({ what: w.what, result: 'applied' });
      this.o.log?.(`reloaded ${w.what} from ${w.path}: ${summary}`);
      await this.o.store?.audit.append({ time: this.o.clock.now(), actor, action: 'config.reloaded', outcome: 'success', data: { what: w.what, path: w.path, summary } });
    } catch (err) {
      configReloadsTotal.inc({ what: w.what, result: 'refused' });
      const message = (err as Error).message;
      this.o.log?.(`error: refused the change to ${w.what} (${w.path}); the running ${w.what} stay in force:\n${message}`);
      await this.o.store?.audit.append({ time: this.o.clock.now(), actor, action: 'config.reload.refused', outcome: 'failure', data: { what: w.what, path: w.path, error: message } }).catch(() => undefined);
    }
  }

  private arm(): void {
    if (this.stopped) return;
    this.timer = this.o.clock.setTimeout(() => {
      this.check().catch((err) => this.o.log?.(`warning: reload check failed: ${(err as Error).message}`)).finally(() => this.arm());
    }, this.o.intervalMs ?? 2000);
  }
}
