// Silences made from the CLI live in the data directory until the store
// (issue 5) holds them: one JSON file, replaced atomically so a reader never
// sees half a write, re-read by a running `kubemend watch` when it changes.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync, watch, type FSWatcher } from 'node:fs';
import { dirname, join } from 'node:path';
import { dataDir } from '../common/index.ts';
import type { Silence } from './types.ts';

export function silencesPath(dir?: string): string {
  return join(dataDir(dir), 'silences.json');
}

export function readSilences(file: string): Silence[] {
  if (!existsSync(file)) return [];
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { silences?: Silence[] };
  return parsed.silences ?? [];
}

export function writeSilences(file: string, silences: Silence[]): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ silences }, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

/** Calls `onChange` with the file's silences now and whenever it is replaced. */
export function followSilences(file: string, onChange: (s: Silence[]) => void): FSWatcher {
  mkdirSync(dirname(file), { recursive: true });
  onChange(readSilences(file));
  return watch(dirname(file), (_ev, name) => {
    if (name === 'silences.json') {
      try {
        onChange(readSilences(file));
      } catch {
        /* a concurrent replace; the next event re-reads */
      }
    }
  });
}
