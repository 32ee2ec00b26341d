// HiGHS, the LP solver (npm `highs`, WebAssembly): one instance per process, shared by the control loop's session
// planner and the site score's optimum.

/** The part of highs' one-shot API used here; synchronous once loaded. */
export interface LpSolver {
  solve(lp: string, options?: Record<string, unknown>): { Status: string; ObjectiveValue?: number; Columns: Record<string, { Primal?: number }> };
}

let loading: Promise<LpSolver> | undefined;
/** Loads HiGHS once per process (tens of ms; the WebAssembly module is part of the package). Its ESM build's default
 * export is the loader. */
export const loadLpSolver = (): Promise<LpSolver> =>
  (loading ??= import('highs').then((m) => (m as unknown as { default: () => Promise<LpSolver> }).default()));
