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
