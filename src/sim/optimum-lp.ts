// The energy LP of optimum.ts as text for HiGHS (CPLEX LP format), built over a window of the run: the EVs the LP
// decides, the slots it decides (from a start slot; earlier ones are committed), each EV's energy already delivered
// and the home battery's state of charge at the start. The perfect-foresight optimum is the window over the whole run
// with every EV; the online reference (online-optimum.ts) builds one window per arrival. Model in docs/sim.md.
import type { OptimumEv, OptimumInputs } from './optimum-inputs.js';
// Taper as the EV model has it: above 80 % SoC the current falls to 10 % of its max at 100 %.
import { arrivalSoc, TAPER_FLOOR, TAPER_FROM } from './physics/ev.js';
import type { Scenario } from './scenario-types.js';
/** Wh of objective a 1 A slack (a forced overload: base load or ignoring chargers alone over the limit) costs per h. */
export const SLACK_COST = 1e6;

/** What part of the run an LP decides. */
export interface LpWindow {
  /** First slot decided; the slots before are committed (their loads are in the inputs, their energy below). */
  fromSlot: number;
  /** One past the last slot decided. */
  toSlot: number;
  /** Indices into `OptimumInputs.evs` of the EVs the LP decides (the others are not there). */
  evs: number[];
  /** Energy each decided EV already got before `fromSlot` (Wh), by index; absent: 0. */
  deliveredWh?: Map<number, number>;
  /** The battery's state of charge at `fromSlot` when the LP dispatches it from there (default the inputs'). */
  batterySoc?: number;
}

/** The whole run with every EV: the perfect-foresight optimum's window. */
export const wholeRun = (x: OptimumInputs): LpWindow => ({ fromSlot: 0, toSlot: x.hours.length, evs: x.evs.map((_, i) => i) });

export const num = (v: number): string => (Math.abs(v) < 1e-12 ? '0' : String(Number(v.toPrecision(12))));

/** A linear expression: variable name -> coefficient. */
export type Expr = Map<string, number>;
export const term = (e: Expr, v: string, c: number) => e.set(v, (e.get(v) ?? 0) + c);
export const fmt = (e: Expr): string => {
  let out = '';
  for (const [v, c] of e) if (c !== 0) out += `${c < 0 ? ' - ' : ' + '}${num(Math.abs(c))} ${v}`;
  return out || ' 0 zero';
};

export interface Lp {
  window: LpWindow;
  rows: string[];
  bounds: string[];
  /** Per EV index: its last cumulative-energy variable (the energy it got by the end of the window, counting what it
   * had before), if the window decides any of its slots. */
  totals: (string | undefined)[];
  /** Per EV index: the energy it had at the start of the window (Wh; a constant of `totals`). */
  startWh: number[];
  /** Per EV index: the most it can end with (Wh): what it wants, never more than it takes charging alone. */
  capWh: number[];
  slack: Expr;
  vars: number;
  /** Slots the battery is dispatched in (its `d` and `q` variables): [from, to). */
  battery?: { from: number; to: number };
}

/** Names of the variables, for reading a solution: current of EV i in slot k (A), cumulative energy (Wh), battery. */
export const currentVar = (i: number, k: number) => `a${i}_${k}`;
export const energyVar = (i: number, k: number) => `c${i}_${k}`;
export const dischargeVar = (k: number) => `d${k}`;
export const socVar = (k: number) => `q${k}`;
/** Current of EV i in slot k switched to one phase p (A), on a charger that switches. */
export const switchedVar = (i: number, k: number, p: number) => `b${i}_${k}_${p}`;

/** The slots of an EV the window decides. */
export const windowSlots = (e: OptimumEv, w: LpWindow): number[] => e.slots.filter((k) => k >= w.fromSlot && k < w.toSlot);

/** The EV's own rows: cap per slot, taper against its cumulative energy, energy wanted. */
function evRows(lp: Lp, x: OptimumInputs, w: LpWindow, i: number, V: number, ownWh: number, switching: boolean): void {
  const e = x.evs[i];
  switching &&= e.threePhase;
  const capacity = e.spec.capacityWh;
  const soc0 = arrivalSoc(e.spec);
  const finalSoc = soc0 + e.spec.energyWh / capacity;
  const tapers = finalSoc > TAPER_FROM;
  // max(floor, (1 - soc) / 0.2) <= floor + (1 - soc) / 0.2; exact (floor 0) while the SoC stays below 98 %.
  const floor = finalSoc > 1 - TAPER_FLOOR * (1 - TAPER_FROM) ? TAPER_FLOOR : 0;
  const g = 1 / (1 - TAPER_FROM);
  const had = w.deliveredWh?.get(i) ?? 0;
  lp.startWh[i] = had;
  let prev: string | undefined;
  for (const k of windowSlots(e, w)) {
    const a = currentVar(i, k);
    const draw: Expr = new Map([[a, 1]]);
    const energy: Expr = new Map([[a, (e.threePhase ? 3 : 1) * V * x.hours[k]]]);
    lp.bounds.push(`0 <= ${a} <= ${num(e.capA)}`);
    lp.vars++;
    if (switching) {
      for (let p = 0; p < 3; p++) {
        const b = switchedVar(i, k, p);
        term(draw, b, 1);
        term(energy, b, V * x.hours[k]);
        lp.bounds.push(`0 <= ${b} <= ${num(e.capA)}`);
        lp.vars++;
      }
      lp.rows.push(`cap${i}_${k}:${fmt(draw)} <= ${num(e.capA)}`);
    }
    // The EV's current (its own maximum, not the charger's) tapers with the SoC at the start of the slot; before the
    // window's first slot that SoC comes from the energy it already had (a constant).
    if (tapers) {
      const t = new Map(draw);
      if (prev) term(t, prev, (e.spec.maxA * g) / capacity);
      const rhs = e.spec.maxA * (floor + g * (1 - soc0)) - (prev ? 0 : (e.spec.maxA * g * had) / capacity);
      lp.rows.push(`tp${i}_${k}:${fmt(t)} <= ${num(rhs)}`);
    }
    const c = energyVar(i, k);
    const cum: Expr = new Map([[c, 1]]);
    if (prev) term(cum, prev, -1);
    for (const [v, wt] of energy) term(cum, v, -wt);
    lp.rows.push(`cu${i}_${k}:${fmt(cum)} = ${prev ? 0 : num(had)}`);
    lp.capWh[i] = Math.max(had, Math.min(e.spec.energyWh, ownWh));
    lp.bounds.push(`0 <= ${c} <= ${num(lp.capWh[i])}`);
    lp.vars++;
    prev = c;
  }
  lp.totals[i] = prev;
}

/** The home battery from where the LP takes it over (or the window starts) to the window's end. */
function batteryRows(lp: Lp, x: OptimumInputs, s: Scenario, w: LpWindow): void {
  const battery = s.battery;
  if (!battery) return;
  const initial = x.battery?.soc ?? battery.soc;
  const takeover = x.battery?.fromSlot ?? x.hours.length;
  const from = Math.max(takeover, w.fromSlot);
  const soc0 = w.fromSlot > takeover ? (w.batterySoc ?? initial) : initial;
  let prev: string | undefined;
  for (let k = from; k < w.toSlot; k++) {
    // d: discharge (W, charge negative), only from PV beyond the base load; q: state of charge at the slot's end.
    lp.bounds.push(`${num(-x.surplusW[k])} <= ${dischargeVar(k)} <= ${num(battery.maxW)}`);
    lp.bounds.push(`${num(Math.min(battery.minSoc, initial, soc0))} <= ${socVar(k)} <= 1`);
    const row: Expr = new Map([[socVar(k), 1], [dischargeVar(k), x.hours[k] / battery.capacityWh]]);
    if (prev) term(row, prev, -1);
    lp.rows.push(`soc${k}:${fmt(row)} = ${prev ? 0 : num(soc0)}`);
    prev = socVar(k);
    lp.vars += 2;
  }
  if (from < w.toSlot) lp.battery = { from, to: w.toSlot };
}

/** Per node, phase and slot: the EVs below it plus what already flows there stay within the limit. */
function nodeRows(lp: Lp, x: OptimumInputs, s: Scenario, w: LpWindow, switching: boolean[]): void {
  const V = s.site.voltage;
  const present = new Map(w.evs.map((i) => [i, new Set(windowSlots(x.evs[i], w))]));
  for (const n of x.nodes) {
    const load = x.loadA.get(n.id)!;
    const below = w.evs.filter((i) => x.evs[i].path.includes(n.id));
    for (let p = 0; p < 3; p++) {
      for (let k = w.fromSlot; k < w.toSlot; k++) {
        const row: Expr = new Map();
        for (const i of below) {
          const e = x.evs[i];
          if (!present.get(i)!.has(k)) continue;
          if (e.threePhase) {
            term(row, currentVar(i, k), 1);
            if (switching[i]) term(row, switchedVar(i, k, p), 1);
          } else if (e.phase === p) term(row, currentVar(i, k), 1);
        }
        if (n.id === 'grid' && lp.battery && k >= lp.battery.from) term(row, dischargeVar(k), -1 / (3 * V));
        const rhs = n.limitA[p] - load[p][k];
        if (!row.size) continue;
        if (rhs < 0) {
          const z = `z${n.id.replace(/[^A-Za-z0-9_]/g, '_')}_${p}_${k}`;
          term(row, z, -1);
          term(lp.slack, z, SLACK_COST * x.hours[k]);
          lp.bounds.push(`${z} >= 0`);
          lp.vars++;
        }
        lp.rows.push(`n${lp.rows.length}:${fmt(row)} <= ${num(rhs)}`);
      }
    }
  }
}

/**
 * Site mode pv: per slot the EVs draw no more than the PV beyond the base load, plus what the battery gives (its
 * discharge variable; negative while it charges from PV). The slot's mean of the surplus's positive part: a controller
 * cannot take a negative surplus back, so this stays an upper bound.
 */
function pvRows(lp: Lp, x: OptimumInputs, s: Scenario, w: LpWindow, switching: boolean[]): void {
  const V = s.site.voltage;
  const present = new Map(w.evs.map((i) => [i, new Set(windowSlots(x.evs[i], w))]));
  for (let k = w.fromSlot; k < w.toSlot; k++) {
    const row: Expr = new Map();
    for (const i of w.evs) {
      const e = x.evs[i];
      if (!present.get(i)!.has(k)) continue;
      term(row, currentVar(i, k), e.threePhase ? 3 * V : V);
      if (switching[i]) for (let p = 0; p < 3; p++) term(row, switchedVar(i, k, p), V);
    }
    if (!row.size) continue;
    if (lp.battery && k >= lp.battery.from) term(row, dischargeVar(k), -1);
    lp.rows.push(`pv${k}:${fmt(row)} <= ${num(x.pvSurplusW[k])}`);
  }
}

/** Per EV index: whether it may go to one phase in the LP (`everywhere`: every 3-phase EV, for analysis). */
export const switchingOf = (x: OptimumInputs, everywhere: boolean): boolean[] =>
  x.evs.map((e) => e.threePhase && (everywhere || e.charger.phaseSwitching === true));

/**
 * The LP of a window. `achievable`: evBounds(s) — an EV never gets more than it takes charging alone at its maximum.
 * `everywhere`: every 3-phase EV may go to one phase (for analysis); otherwise only on chargers that switch.
 */
export function buildLp(x: OptimumInputs, s: Scenario, achievable: Map<string, number>, w: LpWindow, everywhere: boolean): Lp {
  const lp: Lp = { window: w, rows: [], bounds: [], totals: [], startWh: [], capWh: [], slack: new Map(), vars: 0 };
  const switching = switchingOf(x, everywhere);
  for (const i of w.evs) evRows(lp, x, w, i, s.site.voltage, achievable.get(x.evs[i].spec.id) ?? x.evs[i].spec.energyWh, switching[i]);
  batteryRows(lp, x, s, w);
  nodeRows(lp, x, s, w, switching);
  if (s.mode === 'pv') pvRows(lp, x, s, w, switching);
  return lp;
}

/** The objective: the energy the decided EVs end the window with, less the cost of forced slack. */
export function energyExpr(lp: Lp): Expr {
  const e: Expr = new Map();
  for (const v of lp.totals) if (v) term(e, v, 1);
  for (const [v, c] of lp.slack) term(e, v, -c);
  return e;
}

export const lpText = (sense: 'Maximize' | 'Minimize', obj: string, rows: string[], bounds: string[]): string =>
  `${sense}\n obj:${obj}\nSubject To\n${rows.map((r) => ` ${r}`).join('\n')}\nBounds\n${bounds.map((b) => ` ${b}`).join('\n')}\nEnd\n`;
