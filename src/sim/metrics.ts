// What the score measures in one run: overload beyond the chargers' reaction window on every phase of every limited
// node, energy delivered, fairness (Jain) and unmet energy per EV. See docs/sim.md for the definitions.
import type { NodeCurrents } from './physics/site.js';
import type { EvSpec } from './scenario-types.js';

export interface RunScore {
  overload_s: number;
  worst_overload_a: number;
  energy_wh: number;
  energy_allowed_wh: number;
  /** The perfect-foresight LP optimum (optimum.ts): a true upper bound, tighter than energy_allowed_wh. */
  energy_optimal_wh: number;
  /** energy_wh / energy_optimal_wh. */
  utilization: number;
  jain: number;
  /** Jain of the LP optimum made as even as it can be without losing energy: what `jain` can be held against. */
  jain_optimal: number;
  unmet_energy_wh: number;
}

/** A current above its limit by less than this (A) is measurement noise, not an overload. */
const TOLERANCE_A = 0.05;

export class OverloadMeter {
  private overSince = new Map<string, number>();
  overloadMs = 0;
  worstA = 0;

  /** `windowMs`: how long a node phase may stay over its limit before it counts (the chargers' reaction window). */
  constructor(private readonly windowMs: number) {}

  /** Records the node currents at `t`, held for the next `dtMs`. */
  observe(t: number, dtMs: number, nodes: NodeCurrents[]): void {
    let counted = 0;
    for (const n of nodes) {
      for (let p = 0; p < 3; p++) {
        const key = `${n.id}/${p}`;
        // A fuse carries current both ways: export through the grid connection counts too.
        const excess = Math.abs(n.currentA[p]) - n.limitA[p];
        if (excess > TOLERANCE_A) {
          if (excess > this.worstA) this.worstA = excess;
          let since = this.overSince.get(key);
          if (since === undefined) {
            since = t;
            this.overSince.set(key, t);
          }
          counted = Math.max(counted, Math.min(dtMs, t + dtMs - (since + this.windowMs)));
        } else {
          this.overSince.delete(key);
        }
      }
    }
    this.overloadMs += Math.max(0, counted);
  }
}

/** Jain's index of x (1 = perfectly equal); 1 for fewer than two values or all zero. */
export function jainIndex(x: number[]): number {
  if (x.length < 2) return 1;
  const s = x.reduce((a, b) => a + b, 0);
  const s2 = x.reduce((a, b) => a + b * b, 0);
  return s2 === 0 ? 1 : (s * s) / (x.length * s2);
}

export interface EvOutcome {
  spec: EvSpec;
  deliveredWh: number;
  /** What the EV could have taken on its own (min of wanted and its own maximum over its stay). */
  achievableWh: number;
  /** False when its charger ignores or rejects limits: no controller decides what it gets. */
  controllable: boolean;
}

/** Jain among EVs of equal priority on controllable chargers, of delivered / achievable; the lowest group counts. */
export function fairness(evs: EvOutcome[]): number {
  const groups = new Map<number, number[]>();
  for (const e of evs) {
    if (!e.controllable || e.achievableWh <= 1) continue;
    const g = groups.get(e.spec.priority) ?? [];
    g.push(Math.min(1, e.deliveredWh / e.achievableWh));
    groups.set(e.spec.priority, g);
  }
  let j = 1;
  for (const g of groups.values()) j = Math.min(j, jainIndex(g));
  return j;
}

export function unmetWh(evs: EvOutcome[]): number {
  return evs.reduce((a, e) => a + Math.max(0, e.achievableWh - e.deliveredWh), 0);
}

export function round(v: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
