// The session planner (algorithms/plan.ts) run with HiGHS: every few minutes, and when a session starts, ends or says
// its needs, it plans the sessions present to their departures; the loop then hands allocate() the plan for now as
// an order and weights (applyPlan). The plan only steers who is served first: every limit, minimum, ramp and
// fail-safe stays allocate()'s, so a wrong or missing plan costs energy, never a fuse.
import { batteryKeptRow, buildPlan, evenPlanLp, fairPlanLp, planEnergy, readBatteryPlan, readPlan, steadyPlanLp } from '../../algorithms/plan.js';
import type { AllocationInput, EvseDemand } from '../../algorithms/types.js';
import type { LpSolver } from '../common/highs.js';
import type { Logger } from '../common/log.js';

export { loadLpSolver, type LpSolver } from '../common/highs.js';

const OPTIONS = { output_flag: false, solver: 'simplex', time_limit: 2 };

/** A session the plan holds back now is served after every session it runs: at this much below its priority. */
export const PLANNED_WAIT_PRIORITY_STEP = 0.5;
/** Weights from the plan stay within this factor of the mean, so no session's share collapses to nothing. */
const WEIGHT_RANGE = 10;

export class Planner {
  private plan = new Map<string, number>();
  /** The home battery's discharge the plan gives now (W), when it plans the battery. */
  private batteryW: number | undefined;
  private madeAt = -Infinity;
  private failures = 0;

  constructor(
    private readonly solver: LpSolver,
    private readonly periodMs: number,
    private readonly log: Logger,
  ) {}

  /** Plan again at the next solve (a session started, ended or said its needs). */
  invalidate(): void {
    this.madeAt = -Infinity;
  }

  /** The plan for now (A per session id), made again when due; empty when there is nothing to plan. */
  planFor(input: AllocationInput): Map<string, number> {
    if (input.now - this.madeAt < this.periodMs) return this.plan;
    this.madeAt = input.now;
    try {
      this.plan = this.solve(input);
      if (this.batteryW !== undefined) this.batteryW = startOnBattery(input, this.plan, this.batteryW);
      this.failures = 0;
    } catch (err) {
      // A plan is an improvement, not a need: without one the loop allocates as it always did.
      this.plan = new Map();
      this.batteryW = undefined;
      if (this.failures++ === 0) this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'session plan failed; sessions are shared without one');
    }
    return this.plan;
  }

  /** The home battery's discharge the current plan gives now (W); undefined when no plan includes the battery. */
  plannedBatteryW(): number | undefined {
    return this.batteryW;
  }

  private solve(input: AllocationInput): Map<string, number> {
    this.batteryW = undefined;
    const p = buildPlan(input);
    if (!p) return new Map();
    const first = this.solver.solve(p.energyLp, OPTIONS);
    if (first.Status !== 'Optimal') throw new Error(`plan: HiGHS ended with ${first.Status}`);
    const best = first.ObjectiveValue ?? 0;
    const kept = batteryKeptRow(p, first.Columns);
    if (kept) p.rows.push(kept);
    const read = (columns: Record<string, { Primal?: number }>) => {
      this.batteryW = readBatteryPlan(p, columns);
      return readPlan(p, columns);
    };
    const fair = fairPlanLp(p, best);
    if (!fair) return read(first.Columns);
    const second = this.solver.solve(fair, OPTIONS);
    if (second.Status !== 'Optimal') return read(first.Columns);
    const least = second.Columns.least?.Primal ?? 0;
    const even = evenPlanLp(p, best, least);
    const third = even ? this.solver.solve(even, OPTIONS) : undefined;
    if (third?.Status !== 'Optimal') return read(second.Columns);
    const steady = steadyPlanLp(p, best, least, third.ObjectiveValue ?? 0, planEnergy(p, third.Columns));
    const fourth = steady ? this.solver.solve(steady, OPTIONS) : undefined;
    return read(fourth?.Status === 'Optimal' ? fourth.Columns : third.Columns);
  }
}

/** A planned current below this share of a session's minimum is not worth starting it for (see startOnBattery). */
export const START_ON_BATTERY_SHARE = 0.2;

/**
 * A session the plan gives less than half its minimum waits (applyPlan), and what the plan gives it is left unused:
 * the plan's currents are continuous, a session charges at its minimum or not at all (pv-depot at 12:30: 2.9 A planned
 * for one van and 2.1 A for another while five waited, and the grid connection 5 A short of its limit). Where the plan
 * discharges a battery kept for the EVs that has power to spare, the largest such session (at least
 * START_ON_BATTERY_SHARE of its minimum) gets the rest of its minimum from it, with the hysteresis a paused session
 * needs to start: `plan` is updated, and the battery's discharge for now returned. Only ever more discharge, so only
 * more room on the fuse.
 */
export function startOnBattery(input: AllocationInput, plan: Map<string, number>, batteryW: number): number {
  const b = input.batteryReserve;
  if (!b) return batteryW;
  // Its power to spare is what it does not give now: a battery released beyond the plan may already be at its maximum.
  const fromW = Math.max(batteryW, input.battery?.powerW ?? 0);
  const startA = Math.max(0, input.settings.hysteresisA ?? 0);
  let best: { e: EvseDemand; a: number; w: number } | undefined;
  for (const e of input.evses) {
    const a = plan.get(e.id);
    if (a === undefined || a >= e.minA / 2 || a < e.minA * START_ON_BATTERY_SHARE) continue;
    // The battery is 3-phase: ΔA on every phase of the grid connection costs 3 × V × ΔA.
    const w = (e.minA + startA - a) * 3 * input.voltageV;
    if (fromW + w <= b.maxDischargeW && (!best || a > best.a)) best = { e, a, w };
  }
  if (!best) return batteryW;
  plan.set(best.e.id, best.e.minA);
  return batteryW + best.w;
}

/**
 * The plan as allocate() takes it: a session the plan holds at (nearly) nothing now waits below its priority, served
 * only from what the others cannot use; the others are weighted by their planned current, so water-filling a
 * constrained phase shares it as the plan does.
 */
export function applyPlan(evses: EvseDemand[], plan: ReadonlyMap<string, number>): EvseDemand[] {
  if (plan.size === 0) return evses;
  const running = evses.filter((e) => (plan.get(e.id) ?? 0) >= e.minA / 2);
  if (running.length === 0) return evses;
  const mean = running.reduce((a, e) => a + Math.max(plan.get(e.id)!, e.minA), 0) / running.length;
  return evses.map((e) => {
    const a = plan.get(e.id);
    if (a === undefined || !e.controllable) return e;
    // Held back: only what the others cannot use, and at its minimum, so the sessions waiting do not trade large
    // steps of current among themselves every solve (each step a chance for the load estimate to be wrong).
    if (a < e.minA / 2) return { ...e, priority: e.priority - PLANNED_WAIT_PRIORITY_STEP, maxA: Math.min(e.maxA, e.minA) };
    // Planned at its maximum: it rises first and stops at its cap, not a rounding short of it.
    const w = a >= e.maxA - 0.1 ? WEIGHT_RANGE : Math.min(WEIGHT_RANGE, Math.max(1 / WEIGHT_RANGE, Math.max(a, e.minA) / mean));
    return { ...e, weight: Math.round(w * 100) / 100 };
  });
}
