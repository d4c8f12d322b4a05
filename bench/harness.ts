// What a bench module exports and the measuring helper they share; run.ts
// discovers the modules and reports them. (Kept apart from run.ts so modules
// do not import the entry point while it is still evaluating.)
export interface BenchCase {
  name: string;
  /** Items processed (records, objects…). */
  n: number;
  ms: number;
  /** Resident set size after the case (MB). */
  rssMb: number;
  /** Over this many ms the bench fails. */
  budgetMs?: number;
}

export interface BenchSection {
  title: string;
  /** What the budget means, in a sentence. */
  budget: string;
  cases: BenchCase[];
  /** The goal rows this module measures (a table above the cases). */
  goals?: GoalRow[];
  notes?: string[];
}

export interface BenchModule {
  run(): Promise<BenchSection>;
}

/** Times fn and samples memory afterwards. */
export async function measure(name: string, n: number, fn: () => Promise<void>, budgetMs?: number): Promise<BenchCase> {
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  return { name, n, ms, rssMb: process.memoryUsage().rss / 2 ** 20, budgetMs };
}

/**
 * One row of an issue's goal table: a figure measured against a baseline in
 * the same run (min and median of the rounds), and whether it meets its goal.
 * `better` says which way is good: a throughput ratio wants ≥ goal, a latency
 * or memory figure ≤ goal.
 */
export interface GoalRow {
  row: string;
  /** What was compared with what, in a phrase. */
  baseline: string;
  goal: number;
  better: 'higher' | 'lower';
  /** Unit of the figure ('×', 'KiB', 'ms' …). */
  unit: string;
  min: number;
  median: number;
  /** Why a row that misses its goal cannot go further here, with the profile that shows it. */
  limit?: string;
}

/** Runs fn `n` times (3 by default) and returns its results sorted ascending. */
export async function rounds(fn: (round: number) => Promise<number> | number, n = 3): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await fn(i));
  return out.sort((a, b) => a - b);
}

/** A GoalRow from sorted round results: for `higher`, the worst round is the min; for `lower`, the max (reported as min–median of how far from the goal). */
export function goalRow(row: Omit<GoalRow, 'min' | 'median'>, sorted: number[]): GoalRow {
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  const worst = row.better === 'higher' ? sorted[0]! : sorted[sorted.length - 1]!;
  return { ...row, min: worst, median };
}

export const goalMet = (g: GoalRow): boolean => (g.better === 'higher' ? g.median >= g.goal : g.median <= g.goal);
