// energy_online_wh: what a planner with no foresight of arrivals could deliver in a scenario's run — the online
// reference beside the perfect-foresight optimum (optimum.ts). It knows what the LP knows of everything else: each
// plugged-in EV's departure, the energy it wants, its maximum current and taper; base load, PV and EVs on chargers
// that ignore limits as they will be; the home battery. At each arrival (distinct arrival slots) it solves the LP of
// optimum.ts over the EVs plugged in then, from that slot to the end of the run — energy first, then as even as it can
// be (the same max-min and least-deviation stages), then, among those plans, the one that delivers earliest (earliest
// deadline first among equals) and keeps the battery fullest (`earliest`: what an online planner should do with room
// nobody present needs, since it does not know who comes next) — and commits that plan's slots until the next arrival, carrying each EV's energy (and so
// its taper) and the battery's state of charge into the next solve. A reference, not a bound on every online policy:
// docs/sim.md says what it shows and what it does not.
import { optimumInputs, type OptimumInputs } from './optimum-inputs.js';
import { buildLp, currentVar, dischargeVar, energyVar, fmt, lpText, num, socVar, switchedVar, term, windowSlots, type Expr, type Lp, type LpWindow } from './optimum-lp.js';
import { energyThenEven, jainOf, loadHighs, solve, value, type Columns, type Highs } from './optimum.js';
import type { Scenario } from './scenario-types.js';

export interface OnlineOptions {
  /** Slot length (ms), as the optimum's (default 5 minutes). */
  slotMs?: number;
  /** Among the energy-optimal, most even plans, commit the one that delivers earliest and keeps the battery fullest
   * (default true); false commits whatever vertex the fairness stage ends on. */
  earliest?: boolean;
  /** Skip the fairness stages: energy first, then (with `earliest`) earliest. For speed comparisons. */
  energyOnly?: boolean;
}

export interface OnlineOptimum {
  energyWh: number;
  /** Per EV id, the energy the committed plan delivers (Wh; EVs on chargers that ignore limits: their fixed draw). */
  perEvWh: Map<string, number>;
  /** Jain (metrics.fairness) of the committed plan. */
  jain: number;
  /** LPs solved: one per distinct arrival slot. */
  solves: number;
  /** The committed plan per slot (the inputs' slots): each decided EV's mean current per phase (A; 0 while it is not
   * plugged in), on a charger that switches phases also its current switched to one phase, per site phase
   * (`switchedA`, [phase][slot]), and the battery's mean discharge (W, charge negative; 0 before the LP takes it over). */
  plan: { inputs: OptimumInputs; currentsA: Map<string, number[]>; switchedA: Map<string, number[][]>; dischargeW: number[] };
  /** Wall ms: inputs and every solve. */
  ms: number;
}

/** The slots at which an EV the LP decides plugs in: the planner's events. */
function arrivalSlots(x: OptimumInputs): number[] {
  return [...new Set(x.evs.filter((e) => e.slots.length).map((e) => e.slots[0]))].sort((a, b) => a - b);
}

/** Weight of the earliest-deadline tie-break against earliness: a Wh to an EV that leaves 10 h sooner is worth
 * delivering it 6 minutes later. */
const EDF_WEIGHT = 0.01;

/**
 * The last stage: keeps the previous stage's objective (`keep`) and maximizes the energy in place over the window —
 * each Wh counts the hours from its delivery to the window's end (after its EV has left too), and the battery's charge
 * the same — with a small bonus for EVs that leave sooner (earliest deadline first among otherwise equal plans).
 * Delivering a Wh an hour earlier scores one Wh·h; taking it from the battery instead of the grid scores nothing, so the
 * grid is used first and the battery kept for EVs nobody knows of yet.
 */
function earliestStage(h: Highs, lp: Lp, x: OptimumInputs, s: Scenario, rows: string[], bounds: string[], keep: string): Columns {
  const inPlace: Expr = new Map();
  const end = x.bounds[lp.window.toSlot];
  lp.totals.forEach((v, i) => {
    if (!v) return;
    const e = x.evs[i];
    for (const k of windowSlots(e, lp.window)) term(inPlace, energyVar(i, k), x.hours[k]);
    const after = Math.max(0, end - Math.min(end, e.spec.departAt)) / 3_600_000;
    term(inPlace, v, after * (1 + EDF_WEIGHT));
  });
  if (lp.battery && s.battery) for (let k = lp.battery.from; k < lp.battery.to; k++) term(inPlace, socVar(k), s.battery.capacityWh * x.hours[k]);
  return solve(h, lpText('Maximize', fmt(inPlace), [...rows, keep], bounds));
}

/** One event's plan: the window's LP through the stages the options ask for. */
function planWindow(h: Highs, x: OptimumInputs, s: Scenario, achievable: Map<string, number>, w: LpWindow, opts: OnlineOptions): { lp: Lp; cols: Columns } {
  const lp = buildLp(x, s, achievable, w, false);
  if (opts.energyOnly) {
    const { energyCols, keep } = energyThenEven(h, lp, x, achievable, false);
    return { lp, cols: opts.earliest === false ? energyCols : earliestStage(h, lp, x, s, lp.rows, lp.bounds, keep) };
  }
  const { energyCols, final, keep } = energyThenEven(h, lp, x, achievable);
  if (opts.earliest === false) return { lp, cols: final?.cols ?? energyCols };
  if (!final) return { lp, cols: earliestStage(h, lp, x, s, lp.rows, lp.bounds, keep) };
  const dev = value(final.cols, final.objective);
  return { lp, cols: earliestStage(h, lp, x, s, final.rows, final.bounds, `dev:${fmt(final.objective)} <= ${num(dev + 1e-6 + 1e-6 * Math.abs(dev))}`) };
}

interface Carry {
  deliveredWh: Map<number, number>;
  batterySoc?: number;
  currentsA: number[][];
  /** Per EV index on a charger that switches: [phase][slot]. */
  switchedA: Map<number, number[][]>;
  dischargeW: number[];
}

/** Takes the plan's slots [from, until) as done: currents, each EV's energy at the last of them, the battery. */
function commit(x: OptimumInputs, lp: Lp, cols: Columns, until: number, carry: Carry): void {
  const at = (v: string) => cols[v]?.Primal ?? 0;
  for (const i of lp.window.evs) {
    const e = x.evs[i];
    const done = windowSlots(e, lp.window).filter((k) => k < until);
    const switched = carry.switchedA.get(i);
    for (const k of done) {
      carry.currentsA[i][k] = Math.min(e.capA, Math.max(0, at(currentVar(i, k))));
      if (switched) for (let p = 0; p < 3; p++) switched[p][k] = Math.min(e.capA, Math.max(0, at(switchedVar(i, k, p))));
    }
    if (done.length) carry.deliveredWh.set(i, Math.max(lp.startWh[i], at(energyVar(i, done[done.length - 1]))));
  }
  if (!lp.battery) return;
  for (let k = lp.battery.from; k < Math.min(until, lp.battery.to); k++) carry.dischargeW[k] = at(dischargeVar(k));
  if (until > lp.battery.from) carry.batterySoc = at(socVar(Math.min(until, lp.battery.to) - 1));
}

/** The online reference of a scenario (see the head of this file). `achievable`: evBounds(s). */
export async function energyOnline(s: Scenario, achievable: Map<string, number>, opts: OnlineOptions = {}): Promise<OnlineOptimum> {
  const t0 = performance.now();
  const h = await loadHighs();
  const x = optimumInputs(s, opts.slotMs);
  const n = x.hours.length;
  const events = arrivalSlots(x);
  const zeros = () => new Array<number>(n).fill(0);
  const switching = x.evs.flatMap((e, i) => (e.threePhase && e.charger.phaseSwitching === true ? [i] : []));
  const carry: Carry = {
    deliveredWh: new Map(),
    currentsA: x.evs.map(zeros),
    switchedA: new Map(switching.map((i) => [i, [zeros(), zeros(), zeros()]])),
    dischargeW: zeros(),
  };
  events.forEach((slot, j) => {
    const present = x.evs.flatMap((e, i) => (e.slots.length && e.slots[0] <= slot && e.slots[e.slots.length - 1] >= slot ? [i] : []));
    // The battery matters to the end of the run (a fuller battery serves EVs nobody knows of yet); without one, the
    // last departure among those present ends what this plan can change.
    const to = s.battery ? n : Math.max(...present.map((i) => x.evs[i].slots[x.evs[i].slots.length - 1] + 1));
    // The first plan also takes the battery from where the LP takes it over, if an EV on an ignoring charger came first.
    const from = j === 0 ? Math.min(slot, x.battery?.fromSlot ?? slot) : slot;
    const w: LpWindow = { fromSlot: from, toSlot: to, evs: present, deliveredWh: carry.deliveredWh, batterySoc: carry.batterySoc };
    const { lp, cols } = planWindow(h, x, s, achievable, w, opts);
    commit(x, lp, cols, events[j + 1] ?? n, carry);
  });
  const perEvWh = new Map<string, number>(x.fixedWh);
  x.evs.forEach((e, i) => perEvWh.set(e.spec.id, carry.deliveredWh.get(i) ?? 0));
  const energyWh = [...perEvWh.values()].reduce((a, b) => a + b, 0);
  const currentsA = new Map(x.evs.map((e, i) => [e.spec.id, carry.currentsA[i]]));
  const switchedA = new Map([...carry.switchedA].map(([i, a]) => [x.evs[i].spec.id, a]));
  const plan = { inputs: x, currentsA, switchedA, dischargeW: carry.dischargeW };
  return { energyWh, perEvWh, jain: jainOf(s, perEvWh, achievable), solves: events.length, plan, ms: performance.now() - t0 };
}
