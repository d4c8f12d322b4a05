// Finds scenarios by name (the shipped `scenarios/` folder) or by path.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseCel } from '@marcbachmann/cel-js';
import { ConfigError, loadConfigFile, type ConfigProblem, KubemendError, Errors } from '../../common/index.ts';
import { ScenarioSchema, type Scenario } from './schema.ts';
import { findKind } from './kinds.ts';

/** The scenarios shipped with kubemend. */
export const SCENARIO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../scenarios');

export interface LoadedScenario {
  file: string;
  scenario: Scenario;
}

export function listScenarios(dir = SCENARIO_DIR): LoadedScenario[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()
    .map((f) => loadScenarioFile(join(dir, f)));
}

/** `crashloop` → the shipped scenario; anything with a slash or .yaml → a file. */
export function resolveScenario(nameOrFile: string, dir = SCENARIO_DIR): LoadedScenario {
  const looksLikePath = nameOrFile.includes('/') || /\.ya?ml$/.test(nameOrFile);
  const file = looksLikePath ? resolve(nameOrFile) : join(dir, `${nameOrFile}.yaml`);
  if (!existsSync(file)) {
    const known = listScenarioNames(dir);
    throw new KubemendError(
      Errors.SCENARIO_NOT_FOUND,
      looksLikePath ? `scenario file ${nameOrFile} does not exist` : `no scenario named "${nameOrFile}"; known scenarios: ${known.join(', ')}`,
    );
  }
  return loadScenarioFile(file);
}

function listScenarioNames(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).map((f) => f.replace(/\.ya?ml$/, '')).sort();
}

export function loadScenarioFile(file: string): LoadedScenario {
  const docs = loadConfigFile(file, ScenarioSchema);
  if (docs.length !== 1) {
    throw new ConfigError([{ file, line: 1, column: 1, path: '', message: `a scenario file holds exactly one document, found ${docs.length}` }]);
  }
  const scenario = docs[0].value;
  checkReferences(file, docs[0].line, scenario);
  return { file, scenario };
}

/** Problems zod cannot see: unknown kinds and CEL that does not parse. */
function checkReferences(file: string, line: number, s: Scenario): void {
  const problems: ConfigProblem[] = [];
  const add = (path: string, message: string) => problems.push({ file, line, column: 1, path, message });
  s.spec.steps.forEach((step, i) => {
    step.apply?.forEach((m, j) => {
      if (!findKind(m.kind, m.apiVersion)) add(`spec.steps[${i}].apply[${j}].kind`, `the sandbox does not serve ${m.apiVersion}/${m.kind}`);
    });
    for (const ref of [step.patch, step.delete]) {
      if (ref && !findKind(ref.kind, ref.apiVersion)) add(`spec.steps[${i}]`, `unknown kind ${ref.kind}`);
    }
  });
  s.spec.milestones.forEach((m, i) => {
    if (!findKind(m.kind, m.apiVersion)) add(`spec.milestones[${i}].kind`, `unknown kind ${m.kind}`);
    try {
      parseCel(m.where);
    } catch (err) {
      add(`spec.milestones[${i}].where`, `CEL does not parse: ${(err as Error).message.split('\n')[0]}`);
    }
  });
  for (let i = 1; i < s.spec.steps.length; i++) {
    if (s.spec.steps[i].at < s.spec.steps[i - 1].at) add(`spec.steps[${i}].at`, 'steps must be in time order');
  }
  if (problems.length) throw new ConfigError(problems);
}
