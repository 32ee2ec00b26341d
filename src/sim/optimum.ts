// energy_optimal_wh: the energy an omniscient controller could have delivered in a scenario's run, as a linear program
// solved by HiGHS (WebAssembly). It is the score's yardstick, not the product's allocator. Per EV and slot a mean
// current (3-phase, or, on chargers that switch phases, on one phase of the charger's three); per limited node, phase and slot the
// limit minus the mean current already flowing there (optimum-inputs.ts); at the grid connection PV as it shone and the
// home battery as a resource within its power, its usable charge and what it could recharge from PV; per EV its
// maximum current, its taper near full (linear in the energy it got), the energy it wants, and its plug-in window.
// Relaxed where an LP must be (continuous currents, the 6 A minimum dropped, means within a slot), so it is a true
// upper bound on what any controller respecting the limits could deliver (docs/sim.md lists the relaxations; the
// option `minimumCurrent` measures what dropping the minimum is worth, optimum-minimum.ts).
// Two more solves keep that energy and make the shares delivered / achievable as even as they can be (max-min, then
// least deviation): the Jain index of that solution is the fairness an optimal controller could reach (`jain_optimal`).
import { loadLpSolver, type LpSolver } from '../common/highs.js';
import { fairness, type EvOutcome } from './metrics.js';
import { optimumInputs, type OptimumInputs } from './optimum-inputs.js';
import { buildLp, energyExpr, fmt, lpText, num, switchingOf, term, wholeRun, type Expr, type Lp } from './optimum-lp.js';
import { minimumRows } from './optimum-minimum.js';
import type { Scenario } from './scenario-types.js';
import { limitable } from './quirks.js';

export interface OptimumOptions {
  /** Let every 3-phase EV on a 3-phase charger switch to one phase (any of the three) within a slot, for analysis (what
   * switching chargers everywhere would be worth). Without it only chargers whose scenario says `phaseSwitching: true`
   * switch (those report ACPhaseSwitchingSupported, so a controller can do it too). */
  phaseSwitching?: boolean;
  /** Every controllable EV gets at least this share of what it could take alone (0..1): the price of fairness, for
   * analysis (docs/sim.md). Infeasible shares are lowered to what the site allows. */
  minShare?: number;
  /** Slot length (ms), default 5 minutes; shorter slots follow the base load closer (docs/sim.md: what that costs). */
  slotMs?: number;
  /** Tighten the LP by the chargers' 6 A minimum (optimum-minimum.ts), for analysis: what dropping it is worth. Still
   * an upper bound for any controller that keeps the minimum and time-shares within a slot. */
  minimumCurrent?: boolean;
  /** The home battery as it ran (W, discharge positive, at virtual time t), for analysis: not dispatched by the LP but
   * taken as part of the site's load, as for a controller that does not control the battery (docs/sim.md). */
  batteryW?: (t: number) => number;
}

export interface Optimum {
  energyWh: number;
  /** Per EV id, the energy of the energy-optimal and most even solution (Wh). */
  perEvWh: Map<string, number>;
  /** Jain (metrics.fairness) of that solution. */
  jain: number;
  slots: number;
  variables: number;
  /** Wall ms: inputs, both solves. */
  ms: number;
}

/** HiGHS, shared with the control loop's planner (src/common/highs.ts). */
export type Highs = LpSolver;
export const loadHighs = loadLpSolver;

export type Columns = Record<string, { Primal?: number }>;

export function solve(h: Highs, text: string): Columns {
  const r = h.solve(text, { output_flag: false, solver: 'simplex', simplex_strategy: 4 });
  if (r.Status !== 'Optimal') throw new Error(`energy optimum: HiGHS ended with ${r.Status}`);
  return r.Columns;
}

/** The value of an expression in a solution. */
export const value = (cols: Columns, e: Expr): number => [...e].reduce((a, [v, c]) => a + c * (cols[v]?.Primal ?? 0), 0);

/** The last stage solved by `evenest`: its problem and objective, for a further stage to keep. */
export interface Stage {
  cols: Columns;
  rows: string[];
  bounds: string[];
  objective: Expr;
}

/**
 * The energy-optimal solution made as even as it can be (`keep` holds the energy): a second solve raises every
 * priority group's least share delivered / achievable as far as it goes (max-min), a third keeps those minima and
 * brings the shares as close to a common level per group as they can be (least total deviation). A simplex vertex
 * of the first solve alone can be as uneven as the constraints allow, which says nothing about fairness.
 */
export function evenest(h: Highs, lp: Lp, x: OptimumInputs, achievable: Map<string, number>, keep: string): Stage | undefined {
  const rows = [...lp.rows, keep];
  const bounds = [...lp.bounds];
  const groups = new Map<number, { t: string; m: string }>();
  const members: { i: number; v: string; own: number; g: { t: string; m: string } }[] = [];
  lp.totals.forEach((v, i) => {
    const e = x.evs[i];
    const own = achievable.get(e.spec.id) ?? 0;
    if (!v || own <= 1) return;
    let g = groups.get(e.spec.priority);
    if (!g) {
      const id = groups.size;
      g = { t: `t${id}`, m: `m${id}` };
      groups.set(e.spec.priority, g);
    }
    members.push({ i, v, own, g });
    rows.push(`f${i}: ${v} - ${num(own)} ${g.t} >= 0`);
  });
  if (!members.length) return undefined;
  const least: Expr = new Map([...groups.values()].map((g) => [g.t, 1]));
  const cols2 = solve(h, lpText('Maximize', fmt(least), rows, [...bounds, ...[...groups.values()].map((g) => `0 <= ${g.t} <= 1`)]));
  const deviation: Expr = new Map();
  for (const g of groups.values()) bounds.push(`${num(Math.max(0, (cols2[g.t]?.Primal ?? 0) - 1e-6))} <= ${g.t} <= 1`, `0 <= ${g.m} <= 1`);
  for (const { i, v, own, g } of members) {
    rows.push(`dh${i}: ${v} - ${num(own)} ${g.m} - ${num(own)} w${i} <= 0`, `dl${i}: - ${v} + ${num(own)} ${g.m} - ${num(own)} w${i} <= 0`);
    bounds.push(`w${i} >= 0`);
    term(deviation, `w${i}`, 1);
  }
  return { cols: solve(h, lpText('Minimize', fmt(deviation), rows, bounds)), rows, bounds, objective: deviation };
}

/** Solves a window's LP for energy, then (`even`) makes it as even as it can be. `keep`: the row that holds the energy. */
export function energyThenEven(h: Highs, lp: Lp, x: OptimumInputs, achievable: Map<string, number>, even = true): { best: number; energyCols: Columns; final: Stage | undefined; keep: string } {
  const objective = energyExpr(lp);
  const energyCols = solve(h, lpText('Maximize', fmt(objective), lp.rows, lp.bounds));
  const best = value(energyCols, objective);
  const keep = `keep:${fmt(objective)} >= ${num(best - 1 - 1e-7 * Math.abs(best))}`;
  // Every EV gets all it can: the shares are fixed, nothing to make more even.
  const full = lp.totals.every((v, i) => !v || (energyCols[v]?.Primal ?? 0) >= lp.capWh[i] - 1e-3);
  return { best, energyCols, final: even && !full ? evenest(h, lp, x, achievable, keep) : undefined, keep };
}

/** The perfect-foresight optimum of a scenario (see the head of this file). `achievable`: evBounds(s). */
export async function energyOptimum(s: Scenario, achievable: Map<string, number>, opts: OptimumOptions = {}): Promise<Optimum> {
  const t0 = performance.now();
  const h = await loadHighs();
  const x = optimumInputs(s, opts.slotMs, { minimumCurrent: opts.minimumCurrent, ...(opts.batteryW ? { batteryW: opts.batteryW } : {}) });
  const lp = buildLp(x, s, achievable, wholeRun(x), opts.phaseSwitching ?? false);
  if (opts.minimumCurrent) minimumRows(lp, x, s, wholeRun(x), switchingOf(x, opts.phaseSwitching ?? false));
  if (opts.minShare) {
    // A floor variable per run, as high as minShare where the site allows it: floor ≤ minShare, share ≥ floor,
    // and the floor is worth more than any energy (it comes first).
    lp.bounds.push(`0 <= floor <= ${num(Math.min(1, opts.minShare))}`);
    x.evs.forEach((e, i) => {
      const v = lp.totals[i];
      const own = achievable.get(e.spec.id) ?? 0;
      if (v && own > 1) lp.rows.push(`ms${i}: ${v} - ${num(own)} floor >= 0`);
    });
    term(lp.slack, 'floor', -1e9);
  }
  const { energyCols, final } = energyThenEven(h, lp, x, achievable);
  const cols = final?.cols ?? energyCols;
  const perEvWh = new Map<string, number>(x.fixedWh);
  x.evs.forEach((e, i) => {
    const v = lp.totals[i];
    perEvWh.set(e.spec.id, v ? Math.max(0, cols[v]?.Primal ?? 0) : 0);
  });
  const fixedWh = [...x.fixedWh.values()].reduce((a, b) => a + b, 0);
  const evWh = x.evs.reduce((a, _, i) => a + (energyCols[lp.totals[i] ?? '']?.Primal ?? 0), 0);
  return { energyWh: evWh + fixedWh, perEvWh, jain: jainOf(s, perEvWh, achievable), slots: x.hours.length, variables: lp.vars, ms: performance.now() - t0 };
}

/** Jain (metrics.fairness) of energies per EV id. */
export function jainOf(s: Scenario, perEvWh: Map<string, number>, achievable: Map<string, number>): number {
  const outcomes: EvOutcome[] = s.evs.map((spec) => ({
    spec,
    deliveredWh: perEvWh.get(spec.id) ?? 0,
    achievableWh: achievable.get(spec.id) ?? 0,
    controllable: limitable(s.chargers.find((c) => c.id === spec.charger)!),
  }));
  return fairness(outcomes);
}
