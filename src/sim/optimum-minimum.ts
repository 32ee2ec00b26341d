// The chargers' minimum current in the energy LP, for analysis (energyOptimum's option `minimumCurrent`): what the
// score's yardstick gains by dropping it (docs/sim.md, the relaxation table). A controller that keeps the IEC 61851
// minimum runs each EV at 0 or at least m per phase, so at any instant the EVs' total on a node phase is 0 or at least
// m, and within the headroom H_t there: at most g(H_t) = H_t when H_t ≥ m, 0 when 0 ≤ H_t < m (H_t itself below 0,
// so the row is never looser than the plain one). The slot mean of that over the run's samples bounds the slot's mean
// current of any controller that keeps the minimum and time-shares within a slot. Likewise in site mode pv: the EVs'
// power is 0 or at least the least minimum power of an EV present (m × its phases × V; a 3-phase EV on a charger that
// switches counts with one phase).
// One exception the EV model has: near full its taper holds its draw below its limit (max · 5 · (1 − SoC), floor
// 10 %), so a controller offering m may see an EV take less. Such draws get a variable `l` per EV and slot (power, W)
// that the cut rows do not count: at most the EV's power and the power m gives it, and in all at most the energy the EV
// takes while its taper is below m (`lowDrawWh`). Without it the rows would not bound a controller that keeps a
// tapering EV on in less than m of headroom.
// Where a home battery can add to the headroom (the grid connection, the pv row, once the LP dispatches it), the cut
// takes g(H_t + its power): the battery's variable cannot enter a row of g, and its power bounds what it adds.
import type { PhaseVector } from '../../algorithms/types.js';
import type { OptimumEv, OptimumInputs } from './optimum-inputs.js';
import { currentVar, fmt, num, SLACK_COST, switchedVar, term, windowSlots, type Expr, type Lp, type LpWindow } from './optimum-lp.js';
import { arrivalSoc, MIN_OFFER_A, TAPER_FLOOR, TAPER_FROM } from './physics/ev.js';
import type { EvSpec, Scenario } from './scenario-types.js';

/** Minimum current per phase (A) of every simulated EV and charger (physics/ev.ts); with several minima a node phase
 * would take the least of those of the EVs that can draw on it. */
export const MINIMUM_A = MIN_OFFER_A;

/** What the minimum leaves of each slot (filled from the run's samples by optimumInputs). */
export interface MinimumInputs {
  /** Per node, phase, slot: the slot mean of g(H_t) over the samples (A), H_t = the limit less what already flows
   * there (at the grid connection plus the battery's power once the LP dispatches it). */
  nodeA: Map<string, number[][]>;
  /** Per phase count of the least minimum power (1: m·V, 3: 3·m·V), per slot: the slot mean of the PV beyond the
   * site's base load (plus the battery's power once dispatched) where it reaches that power, else 0 (W). */
  pvW: Record<1 | 3, number[]>;
  /** Per EV index: the energy it can take while its taper holds it below the minimum (Wh). */
  lowWh: number[];
}

/** What of a headroom h (A or W) a draw that is 0 or at least m can use at an instant. */
export const usable = (h: number, m: number): number => (h >= m || h < 0 ? h : 0);

/**
 * The energy an EV takes while its taper keeps it below the minimum (Wh): from the SoC where max · taper falls below
 * MINIMUM_A (taper = (1 − SoC) / 0.2 above 80 %) to the SoC it ends at when it gets all it wants (as physics/ev.ts).
 * An EV whose own maximum is below the minimum draws less than it all the time.
 */
export function lowDrawWh(spec: EvSpec): number {
  if (spec.maxA * TAPER_FLOOR >= MINIMUM_A) return 0;
  const soc0 = arrivalSoc(spec);
  const end = Math.min(1, soc0 + spec.energyWh / spec.capacityWh);
  const from = spec.maxA < MINIMUM_A ? soc0 : 1 - ((1 - TAPER_FROM) * MINIMUM_A) / spec.maxA;
  return Math.max(0, end - Math.max(from, soc0)) * spec.capacityWh;
}

/** Accumulates MinimumInputs sample by sample (optimumInputs' loop over the run). */
export class MinimumSampler {
  private readonly nodeA: Map<string, number[][]>;
  private readonly pvW: Record<1 | 3, number[]>;
  private readonly batteryA: number;

  constructor(private readonly s: Scenario, private readonly nodes: { id: string; limitA: PhaseVector }[], slots: number, private readonly evs: OptimumEv[]) {
    this.nodeA = new Map(nodes.map((nd) => [nd.id, [0, 1, 2].map(() => new Array<number>(slots).fill(0))]));
    this.pvW = { 1: new Array<number>(slots).fill(0), 3: new Array<number>(slots).fill(0) };
    this.batteryA = (s.battery?.maxW ?? 0) / (3 * s.site.voltage);
  }

  /**
   * One sample in slot k of weight w: `nowA` per node the current already flowing there (A per phase), `surplusW` the
   * PV beyond the site's base load, `dispatched` whether the LP dispatches the battery then.
   */
  observe(k: number, w: number, nowA: Map<string, number[]>, surplusW: number, dispatched: boolean): void {
    const battery = dispatched && this.s.battery ? 1 : 0;
    for (const nd of this.nodes) {
      const cut = this.nodeA.get(nd.id)!;
      const now = nowA.get(nd.id)!;
      const extra = nd.id === 'grid' ? battery * this.batteryA : 0;
      for (let p = 0; p < 3; p++) cut[p][k] += usable(nd.limitA[p] - now[p] + extra, MINIMUM_A) * w;
    }
    if (this.s.mode !== 'pv') return;
    const sW = Math.max(0, surplusW) + battery * (this.s.battery?.maxW ?? 0);
    const V = this.s.site.voltage;
    for (const ph of [1, 3] as const) this.pvW[ph][k] += usable(sW, MINIMUM_A * ph * V) * w;
  }

  result(): MinimumInputs {
    return { nodeA: this.nodeA, pvW: this.pvW, lowWh: this.evs.map((e) => lowDrawWh(e.spec)) };
  }
}

/** Power (W) of EV i in slot k, and its low-draw variable. */
export const lowVar = (i: number, k: number) => `l${i}_${k}`;

function powerOf(x: OptimumInputs, i: number, k: number, V: number, switching: boolean): Expr {
  const e = x.evs[i];
  const p: Expr = new Map([[currentVar(i, k), (e.threePhase ? 3 : 1) * V]]);
  if (switching) for (let q = 0; q < 3; q++) term(p, switchedVar(i, k, q), V);
  return p;
}

/** Low draws: per tapering EV and slot at most its power and what m gives it, in all at most its lowDrawWh. */
function lowRows(lp: Lp, x: OptimumInputs, s: Scenario, w: LpWindow, switching: boolean[], lowWh: number[]): Set<number> {
  const V = s.site.voltage;
  const low = new Set<number>();
  for (const i of w.evs) {
    const slots = windowSlots(x.evs[i], w);
    if (!(lowWh[i] > 0) || !slots.length) continue;
    low.add(i);
    const energy: Expr = new Map();
    for (const k of slots) {
      const l = lowVar(i, k);
      lp.bounds.push(`0 <= ${l} <= ${num(MINIMUM_A * V * (x.evs[i].threePhase ? 3 : 1))}`);
      lp.vars++;
      const row: Expr = new Map([[l, 1]]);
      for (const [v, c] of powerOf(x, i, k, V, switching[i])) term(row, v, -c);
      lp.rows.push(`lw${i}_${k}:${fmt(row)} <= 0`);
      term(energy, l, x.hours[k]);
    }
    lp.rows.push(`le${i}:${fmt(energy)} <= ${num(lowWh[i])}`);
  }
  return low;
}

/** A cut row, with a costly slack where what already flows leaves less than nothing (as the plain rows). */
function pushCut(lp: Lp, name: string, row: Expr, rhs: number, hours: number): void {
  if (rhs < 0) {
    const z = `zm${name}`;
    term(row, z, -1);
    term(lp.slack, z, SLACK_COST * hours);
    lp.bounds.push(`${z} >= 0`);
    lp.vars++;
  }
  lp.rows.push(`mc${name}:${fmt(row)} <= ${num(rhs)}`);
}

/**
 * The minimum's rows (head of this file) over a window, on top of buildLp's: per limited node, phase and slot, and in
 * site mode pv per slot. Only where they cut: a row whose right side is no lower than the plain row's is implied by it.
 */
export function minimumRows(lp: Lp, x: OptimumInputs, s: Scenario, w: LpWindow, switching: boolean[]): void {
  const mi = x.minimum;
  if (!mi) throw new Error('energy optimum: the minimum-current rows need optimumInputs(..., { minimumCurrent: true })');
  const V = s.site.voltage;
  const low = lowRows(lp, x, s, w, switching, mi.lowWh);
  const present = new Map(w.evs.map((i) => [i, new Set(windowSlots(x.evs[i], w))]));
  const dispatched = (k: number) => (lp.battery && k >= lp.battery.from ? 1 : 0);
  for (const n of x.nodes) {
    const cut = mi.nodeA.get(n.id)!;
    const load = x.loadA.get(n.id)!;
    const below = w.evs.filter((i) => x.evs[i].path.includes(n.id));
    const extraA = n.id === 'grid' ? (s.battery?.maxW ?? 0) / (3 * V) : 0;
    for (let p = 0; p < 3; p++) {
      for (let k = w.fromSlot; k < w.toSlot; k++) {
        if (cut[p][k] >= n.limitA[p] - load[p][k] + dispatched(k) * extraA - 1e-6) continue;
        const row: Expr = new Map();
        for (const i of below) {
          const e = x.evs[i];
          if (!present.get(i)!.has(k) || (!e.threePhase && e.phase !== p)) continue;
          term(row, currentVar(i, k), 1);
          if (switching[i]) term(row, switchedVar(i, k, p), 1);
          // A low draw's current on this phase is at most its power over V (over 3 V when it has three phases).
          if (low.has(i)) term(row, lowVar(i, k), -1 / (e.threePhase && !switching[i] ? 3 * V : V));
        }
        if (row.size) pushCut(lp, `${n.id.replace(/[^A-Za-z0-9_]/g, '_')}_${p}_${k}`, row, cut[p][k], x.hours[k]);
      }
    }
  }
  if (s.mode !== 'pv') return;
  for (let k = w.fromSlot; k < w.toSlot; k++) {
    const row: Expr = new Map();
    let phases: 1 | 3 = 3;
    for (const i of w.evs) {
      if (!present.get(i)!.has(k)) continue;
      for (const [v, c] of powerOf(x, i, k, V, switching[i])) term(row, v, c);
      if (low.has(i)) term(row, lowVar(i, k), -1);
      if (!x.evs[i].threePhase || switching[i]) phases = 1;
    }
    const rhs = mi.pvW[phases][k];
    if (!row.size || rhs >= x.pvSurplusW[k] + dispatched(k) * (s.battery?.maxW ?? 0) - 1e-6) continue;
    pushCut(lp, `pv${k}`, row, rhs, x.hours[k]);
  }
}
