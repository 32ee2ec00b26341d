// energy_optimal_wh: the energy an omniscient controller could have delivered in a scenario's run, as a linear program
// solved by HiGHS (WebAssembly). It is the score's yardstick, not the product's allocator. Per EV and slot a mean
// current (3-phase, or, on chargers that switch phases, on one phase of the charger's three); per limited node, phase and slot the
// limit minus the mean current already flowing there (optimum-inputs.ts); at the grid connection PV as it shone and the
// home battery as a resource within its power, its usable charge and what it could recharge from PV; per EV its
// maximum current, its taper near full (linear in the energy it got), the energy it wants, and its plug-in window.
// Relaxed where an LP must be (continuous currents, the 6 A minimum dropped, means within a slot), so it is a true
// upper bound on what any controller respecting the limits could deliver (docs/sim.md lists the relaxations).
// Two more solves keep that energy and make the shares delivered / achievable as even as they can be (max-min, then
// least deviation): the Jain index of that solution is the fairness an optimal controller could reach (`jain_optimal`).
import { fairness, type EvOutcome } from './metrics.js';
import { optimumInputs, type OptimumEv, type OptimumInputs } from './optimum-inputs.js';
import type { Scenario } from './scenario-types.js';
import { limitable } from './quirks.js';

/** Taper as the EV model has it (physics/ev.ts): above 80 % SoC the current falls to 10 % of its max at 100 %. */
const TAPER_FROM = 0.8;
const TAPER_FLOOR = 0.1;
/** Wh of objective a 1 A slack (a forced overload: base load or ignoring chargers alone over the limit) costs per h. */
const SLACK_COST = 1e6;

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

/** The part of highs' one-shot API used here (its ESM build's default export is the loader). */
interface Highs {
  solve(lp: string, options?: Record<string, unknown>): { Status: string; Columns: Record<string, { Primal?: number }> };
}
let highs: Promise<Highs> | undefined;
const loadHighs = (): Promise<Highs> =>
  (highs ??= import('highs').then((m) => (m as unknown as { default: () => Promise<Highs> }).default()));

const num = (v: number): string => (Math.abs(v) < 1e-12 ? '0' : String(Number(v.toPrecision(12))));

/** A linear expression: variable name -> coefficient. */
type Expr = Map<string, number>;
const term = (e: Expr, v: string, c: number) => e.set(v, (e.get(v) ?? 0) + c);
const fmt = (e: Expr): string => {
  let out = '';
  for (const [v, c] of e) if (c !== 0) out += `${c < 0 ? ' - ' : ' + '}${num(Math.abs(c))} ${v}`;
  return out || ' 0 zero';
};

interface Lp {
  rows: string[];
  bounds: string[];
  /** Per EV: its last cumulative-energy variable (the energy it got by the end), if it was there at all. */
  totals: (string | undefined)[];
  slack: Expr;
  vars: number;
}

/** The EV's own rows: cap per slot, taper against its cumulative energy, energy wanted. */
function evRows(lp: Lp, x: OptimumInputs, e: OptimumEv, i: number, V: number, ownWh: number, switching: boolean): void {
  switching &&= e.threePhase;
  const capacity = e.spec.capacityWh;
  const soc0 = Math.max(0.05, 0.9 - e.spec.energyWh / capacity);
  const finalSoc = soc0 + e.spec.energyWh / capacity;
  const tapers = finalSoc > TAPER_FROM;
  // max(floor, (1 - soc) / 0.2) <= floor + (1 - soc) / 0.2; exact (floor 0) while the SoC stays below 98 %.
  const floor = finalSoc > 1 - TAPER_FLOOR * (1 - TAPER_FROM) ? TAPER_FLOOR : 0;
  const g = 1 / (1 - TAPER_FROM);
  let prev: string | undefined;
  for (const k of e.slots) {
    const a = `a${i}_${k}`;
    const draw: Expr = new Map([[a, 1]]);
    const energy: Expr = new Map([[a, (e.threePhase ? 3 : 1) * V * x.hours[k]]]);
    lp.bounds.push(`0 <= ${a} <= ${num(e.capA)}`);
    lp.vars++;
    if (switching) {
      for (let p = 0; p < 3; p++) {
        const b = `b${i}_${k}_${p}`;
        term(draw, b, 1);
        term(energy, b, V * x.hours[k]);
        lp.bounds.push(`0 <= ${b} <= ${num(e.capA)}`);
        lp.vars++;
      }
      lp.rows.push(`cap${i}_${k}:${fmt(draw)} <= ${num(e.capA)}`);
    }
    // The EV's current (its own maximum, not the charger's) tapers with the SoC at the start of the slot.
    if (tapers) {
      const t = new Map(draw);
      if (prev) term(t, prev, (e.spec.maxA * g) / capacity);
      lp.rows.push(`tp${i}_${k}:${fmt(t)} <= ${num(e.spec.maxA * (floor + g * (1 - soc0)))}`);
    }
    const c = `c${i}_${k}`;
    const cum: Expr = new Map([[c, 1]]);
    if (prev) term(cum, prev, -1);
    for (const [v, w] of energy) term(cum, v, -w);
    lp.rows.push(`cu${i}_${k}:${fmt(cum)} = 0`);
    lp.bounds.push(`0 <= ${c} <= ${num(Math.min(e.spec.energyWh, ownWh))}`);
    lp.vars++;
    prev = c;
  }
  lp.totals[i] = prev;
}

/** Per node, phase and slot: the EVs below it plus what already flows there stay within the limit. */
function nodeRows(lp: Lp, x: OptimumInputs, s: Scenario, switching: boolean[]): void {
  const V = s.site.voltage;
  const slots = x.hours.length;
  const battery = s.battery;
  const from = x.battery?.fromSlot ?? slots;
  if (battery) {
    const soc0 = x.battery?.soc ?? battery.soc;
    let prev: string | undefined;
    for (let k = from; k < slots; k++) {
      // d: discharge (W, charge negative), only from PV beyond the base load; soc: state of charge at the slot's end.
      lp.bounds.push(`${num(-x.surplusW[k])} <= d${k} <= ${num(battery.maxW)}`);
      lp.bounds.push(`${num(Math.min(battery.minSoc, soc0))} <= q${k} <= 1`);
      const row: Expr = new Map([[`q${k}`, 1], [`d${k}`, x.hours[k] / battery.capacityWh]]);
      if (prev) term(row, prev, -1);
      lp.rows.push(`soc${k}:${fmt(row)} = ${prev ? 0 : num(soc0)}`);
      prev = `q${k}`;
      lp.vars += 2;
    }
  }
  const present = x.evs.map((e) => new Set(e.slots));
  for (const n of x.nodes) {
    const load = x.loadA.get(n.id)!;
    for (let p = 0; p < 3; p++) {
      for (let k = 0; k < slots; k++) {
        const row: Expr = new Map();
        x.evs.forEach((e, i) => {
          if (!e.path.includes(n.id) || !present[i].has(k)) return;
          if (e.threePhase) {
            term(row, `a${i}_${k}`, 1);
            if (switching[i]) term(row, `b${i}_${k}_${p}`, 1);
          } else if (e.phase === p) term(row, `a${i}_${k}`, 1);
        });
        if (n.id === 'grid' && battery && k >= from) term(row, `d${k}`, -1 / (3 * V));
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
function pvRows(lp: Lp, x: OptimumInputs, s: Scenario, switching: boolean[]): void {
  const V = s.site.voltage;
  const from = x.battery?.fromSlot ?? x.hours.length;
  const present = x.evs.map((e) => new Set(e.slots));
  for (let k = 0; k < x.hours.length; k++) {
    const row: Expr = new Map();
    x.evs.forEach((e, i) => {
      if (!present[i].has(k)) return;
      term(row, `a${i}_${k}`, e.threePhase ? 3 * V : V);
      if (switching[i]) for (let p = 0; p < 3; p++) term(row, `b${i}_${k}_${p}`, V);
    });
    if (!row.size) continue;
    if (s.battery && k >= from) term(row, `d${k}`, -1);
    lp.rows.push(`pv${k}:${fmt(row)} <= ${num(x.pvSurplusW[k])}`);
  }
}

function buildLp(x: OptimumInputs, s: Scenario, achievable: Map<string, number>, everywhere: boolean): Lp {
  const lp: Lp = { rows: [], bounds: [], totals: [], slack: new Map(), vars: 0 };
  // Per EV: a 3-phase EV may go to one phase on a charger that switches (or on any, for analysis).
  const switching = x.evs.map((e) => e.threePhase && (everywhere || e.charger.phaseSwitching === true));
  // An EV never gets more than it takes charging alone at its maximum (evBounds, integrated finer than a slot).
  x.evs.forEach((e, i) => evRows(lp, x, e, i, s.site.voltage, achievable.get(e.spec.id) ?? e.spec.energyWh, switching[i]));
  nodeRows(lp, x, s, switching);
  if (s.mode === 'pv') pvRows(lp, x, s, switching);
  return lp;
}

function energyExpr(lp: Lp, x: OptimumInputs): Expr {
  const e: Expr = new Map();
  x.evs.forEach((_, i) => {
    const v = lp.totals[i];
    if (v) term(e, v, 1);
  });
  for (const [v, c] of lp.slack) term(e, v, -c);
  return e;
}

const text = (sense: 'Maximize' | 'Minimize', obj: string, rows: string[], bounds: string[]): string =>
  `${sense}\n obj:${obj}\nSubject To\n${rows.map((r) => ` ${r}`).join('\n')}\nBounds\n${bounds.map((b) => ` ${b}`).join('\n')}\nEnd\n`;

function solve(h: Highs, lpText: string): Columns {
  const r = h.solve(lpText, { output_flag: false, solver: 'simplex', simplex_strategy: 4 });
  if (r.Status !== 'Optimal') throw new Error(`energy optimum: HiGHS ended with ${r.Status}`);
  return r.Columns;
}

type Columns = Record<string, { Primal?: number }>;

/**
 * The energy-optimal solution made as even as it can be (`keep` holds the energy): a second solve raises every
 * priority group's least share delivered / achievable as far as it goes (max-min), a third keeps those minima and
 * brings the shares as close to a common level per group as they can be (least total deviation). A simplex vertex
 * of the first solve alone can be as uneven as the constraints allow, which says nothing about fairness.
 */
function evenest(h: Highs, lp: Lp, x: OptimumInputs, achievable: Map<string, number>, keep: string): Columns | undefined {
  const rows = [...lp.rows, keep];
  const bounds = [...lp.bounds];
  const groups = new Map<number, { t: string; m: string }>();
  const members: { i: number; v: string; own: number; g: { t: string; m: string } }[] = [];
  x.evs.forEach((e, i) => {
    const v = lp.totals[i];
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
  const cols2 = solve(h, text('Maximize', fmt(least), rows, [...bounds, ...[...groups.values()].map((g) => `0 <= ${g.t} <= 1`)]));
  const deviation: Expr = new Map();
  for (const g of groups.values()) bounds.push(`${num(Math.max(0, (cols2[g.t]?.Primal ?? 0) - 1e-6))} <= ${g.t} <= 1`, `0 <= ${g.m} <= 1`);
  for (const { i, v, own, g } of members) {
    rows.push(`dh${i}: ${v} - ${num(own)} ${g.m} - ${num(own)} w${i} <= 0`, `dl${i}: - ${v} + ${num(own)} ${g.m} - ${num(own)} w${i} <= 0`);
    bounds.push(`w${i} >= 0`);
    term(deviation, `w${i}`, 1);
  }
  return solve(h, text('Minimize', fmt(deviation), rows, bounds));
}

/** The perfect-foresight optimum of a scenario (see the head of this file). `achievable`: evBounds(s). */
export async function energyOptimum(s: Scenario, achievable: Map<string, number>, opts: OptimumOptions = {}): Promise<Optimum> {
  const t0 = performance.now();
  const h = await loadHighs();
  const x = optimumInputs(s, opts.slotMs);
  const lp = buildLp(x, s, achievable, opts.phaseSwitching ?? false);
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
  const objective = energyExpr(lp, x);
  const lp1 = text('Maximize', fmt(objective), lp.rows, lp.bounds);
  const cols1 = solve(h, lp1);
  const value = (cols: Record<string, { Primal?: number }>, e: Expr) => [...e].reduce((a, [v, c]) => a + c * (cols[v]?.Primal ?? 0), 0);
  const best = value(cols1, objective);
  const cols = evenest(h, lp, x, achievable, `keep:${fmt(objective)} >= ${num(best - 1 - 1e-7 * Math.abs(best))}`) ?? cols1;
  const perEvWh = new Map<string, number>(x.fixedWh);
  x.evs.forEach((e, i) => {
    const v = lp.totals[i];
    perEvWh.set(e.spec.id, v ? Math.max(0, cols[v]?.Primal ?? 0) : 0);
  });
  const fixedWh = [...x.fixedWh.values()].reduce((a, b) => a + b, 0);
  const outcomes: EvOutcome[] = s.evs.map((spec) => ({
    spec,
    deliveredWh: perEvWh.get(spec.id) ?? 0,
    achievableWh: achievable.get(spec.id) ?? 0,
    controllable: limitable(s.chargers.find((c) => c.id === spec.charger)!),
  }));
  const evWh = x.evs.reduce((a, _, i) => a + (cols1[lp.totals[i] ?? '']?.Primal ?? 0), 0);
  return { energyWh: evWh + fixedWh, perEvWh, jain: fairness(outcomes), slots: x.hours.length, variables: lp.vars, ms: performance.now() - t0 };
}
