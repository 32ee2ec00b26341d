// The session planner's linear program: who should charge now so that, by their departures, the sessions present get
// the most energy they asked for, and as evenly as that allows. Pure: builds LP text (CPLEX LP format, as HiGHS reads
// it) from an AllocationInput and reads a solution back; the solver runs in src/control/planner.ts.
//
// Why: the water-filling of allocate() is fair at each instant and blind to time. On a contended site that keeps every
// session at its minimum and starves the one that must charge at its maximum all day to be done (a 1-phase EV on the
// busiest phase), while sessions with hours to spare could have waited and caught up once others leave. The planner
// knows each session's departure and energy wanted (NotifyEVChargingNeeds), holds the headroom of every node phase
// as it is now (no forecast of arrivals or base load, and of PV only the refill of a kept battery, when a forecast is
// given: it plans again every few minutes), and prefers energy
// sooner (a small discount per hour) so that nothing waits that need not: deferral pays only where a deadline needs it.
// Relaxed as an LP must be: continuous currents, the minimum current dropped. Its answer only orders and weighs the
// sessions for allocate(), which still enforces every limit and minimum (solve-input.ts applies it).
import { sitePhasesOf } from './phases.js';
import { buildSessions } from './session.js';
import { buildTree, nodeHeadroom, type SiteTree } from './tree.js';
import type { AllocationInput, BatteryRefillForecast, EvseDemand, PhaseVector } from './types.js';

/** Slot lengths (ms): fine near now, where the plan is used, coarse far ahead, where it is only a promise. */
export const PLAN_SLOTS: readonly { untilMs: number; lengthMs: number }[] = [
  { untilMs: 3_600_000, lengthMs: 300_000 },
  { untilMs: 4 * 3_600_000, lengthMs: 900_000 },
  { untilMs: 24 * 3_600_000, lengthMs: 3_600_000 },
];
/** Above this many sessions there is no plan: the solve runs on the one event loop the relay shares (measured on the
 * 2-core box, four stages, after warm-up: 12 sessions ~55 ms, 20 ~100 ms, 40 ~145 ms; the first plans after a start
 * 0.1-0.25 s). Bigger sites share as before. */
export const PLAN_MAX_SESSIONS = 40;
/** Energy later is worth a little less (per hour ahead): among equally large plans, the one that delivers sooner. */
export const PLAN_DISCOUNT_PER_H = 0.01;
/** How close to the best discounted energy the fair stage must stay (a share of it): 0.99 leaves room to be fair;
 * closer to 1 the plan is as unfair as the energy-optimal vertex (overnight-tight: jain 0.887 at 0.999; office-day 0.943
 * of the optimum at 0.995), lower costs energy (0.97: pv-depot 3 kWh less; 0.9: overnight-tight 0.923 of the optimum
 * instead of 0.957). */
export const PLAN_KEEP = 0.99;
/** The steady stage's preference for sessions charging now, in the first slot (a share of the weight of a Wh there). */
export const PLAN_KEEP_RUNNING = 0.001;
/** A session keeps the steady stage's preference for the first slot only this long into a stretch of charging: ties
 * stop flipping every re-plan, but no session holds the first slot for good on a forecast that may not come true. */
export const PLAN_INCUMBENT_MS = 60 * 60_000;
/** A Wh from the home battery kept for the EVs costs this much of a Wh delivered: the plan takes it only for energy the
 * grid cannot give the sessions by their departures, not to deliver sooner (the discount is worth less than this over
 * a day), nor where a 3-phase battery relieves one phase for one 1-phase EV (a third of a Wh per Wh). What it keeps
 * serves the EVs that come later. */
export const PLAN_BATTERY_COST = 0.5;

export interface PlanSession {
  id: string;
  /** W per A per phase (phases × V). */
  wPerA: number;
  maxA: number;
  /** Slots it is plugged in for, and the share of the last one. */
  slots: number;
  lastFraction: number;
  /** Energy it asked for (Wh). */
  wantedWh?: number;
  /** Energy it got so far in this session (Wh). */
  deliveredWh: number;
  /** The base of its share (Wh): what it got so far plus what it still asks for, at most what its maximum gives by its
   * departure. The fair stage evens whole sessions, not the rest of them: one that got little so far comes first. */
  ownWh?: number;
  /** It is charging now (allocated at least its minimum). */
  running: boolean;
}

export interface PlanProblem {
  sessions: PlanSession[];
  /** Slot lengths (ms) from now. */
  slotMs: number[];
  /** LP text of the energy stage. */
  energyLp: string;
  rows: string[];
  bounds: string[];
  objective: string;
  /** Per slot the hours of its battery variable (`b_k`, W), when the plan may use the battery. */
  batteryHours?: number[];
}

const num = (v: number): string => (Math.abs(v) < 1e-12 ? '0' : String(Number(v.toPrecision(12))));
const aVar = (i: number, k: number): string => `a${i}_${k}`;
const bVar = (k: number): string => `b_${k}`;
const cVar = (k: number): string => `c_${k}`;
const lpText = (sense: 'Maximize' | 'Minimize', obj: string, rows: string[], bounds: string[]): string =>
  `${sense}\n obj: ${obj || '0 zero'}\nSubject To\n${rows.map((r) => ` ${r}`).join('\n')}\nBounds\n${bounds.map((b) => ` ${b}`).join('\n')}\nEnd\n`;
const sum = (terms: string[]): string => terms.join(' + ').replace(/\+ -/g, '- ');

/** Slot lengths from now to `horizonMs` ahead. */
export function planSlots(horizonMs: number): number[] {
  const out: number[] = [];
  let t = 0;
  for (const band of PLAN_SLOTS) {
    while (t < Math.min(horizonMs, band.untilMs)) {
      out.push(band.lengthMs);
      t += band.lengthMs;
    }
  }
  return out;
}

/** The sessions a plan is made for: controllable, charging fast, all of one priority; undefined when there is nothing
 * to plan (fewer than two sessions or more than PLAN_MAX_SESSIONS, none that said when it leaves, PV modes, several
 * priorities). */
function plannable(input: AllocationInput): EvseDemand[] | undefined {
  const evses = input.evses.filter((e) => e.controllable && e.maxA > 0);
  if (evses.length < 2 || evses.length > PLAN_MAX_SESSIONS) return undefined;
  if (evses.some((e) => (e.mode ?? input.settings.mode) !== 'fast' || e.priority !== evses[0].priority)) return undefined;
  if (!evses.some((e) => e.departureAt !== undefined && e.energyWantedWh !== undefined)) return undefined;
  return evses;
}

/** Headroom per constraint (4·node + site phase, tree.ts) for the controllable sessions, as allocate() sees it: the
 * limit less uncontrolled load and fixed EVSEs (buildSessions adds those to the tree), from the same tree. */
function siteHeadroom(input: AllocationInput): { tree: SiteTree; residual: Float64Array } {
  const problems: string[] = [];
  const tree = buildTree(input.nodes, problems);
  buildSessions(input.evses, tree, input.settings.mode, problems);
  return { tree, residual: nodeHeadroom(tree, input.voltageV).residual };
}

/** Constraints (4·node + site phase) a session of `phases` on `rotation` under node `node` loads. */
function constraintsOf(tree: SiteTree, node: number, phases: 1 | 3, rotation: EvseDemand['rotation']): number[] {
  const ps = phases === 3 ? [0, 1, 2] : [sitePhasesOf(rotation)[0]];
  const out: number[] = [];
  for (let k = tree.chainStart[node]; k < tree.chainStart[node + 1]; k++) for (const p of ps) out.push(4 * tree.chain[k] + p);
  return out;
}

/** What a session that said nothing of its needs is taken to draw in every slot: it keeps its share (it may leave
 * any minute, so the plan never makes it wait), and the planned sessions share what is left. */
function unplannedDraw(e: EvseDemand): number {
  return Math.min(e.maxA, Math.max(e.previousA, e.minA));
}

/** The LP text being written: rows, bounds, objective terms, and per node, phase and slot the sessions' currents. */
interface LpParts {
  rows: string[];
  bounds: string[];
  objective: string[];
  /** Per constraint (4·node + site phase) and slot: the sessions' current variables. */
  nodeTerms: Map<number, string[]>;
}

/** Slots from now, where each starts (ms from now), and the node chain of every node. */
interface PlanFrame {
  slotMs: number[];
  starts: number[];
  tree: SiteTree;
  voltageV: number;
  now: number;
}

/** One session's variables and rows: a current per slot to its departure, its maximum, its energy wanted, and its
 * terms in the rows of every node phase above it. */
function sessionRows(e: EvseDemand, i: number, f: PlanFrame, lp: LpParts): PlanSession {
  const stay = e.departureAt! - f.now;
  let slots = 0;
  while (slots < f.slotMs.length && f.starts[slots] < stay) slots++;
  const lastFraction = slots === 0 ? 0 : Math.min(1, (stay - f.starts[slots - 1]) / f.slotMs[slots - 1]);
  const wPerA = e.phases * f.voltageV;
  const s: PlanSession = { id: e.id, wPerA, maxA: e.maxA, slots, lastFraction, deliveredWh: Math.max(0, e.energyDeliveredWh), running: e.previousA >= e.minA && e.chargingForMs < PLAN_INCUMBENT_MS };
  const node = f.tree.index.get(e.nodeId);
  const cons = node === undefined ? [] : constraintsOf(f.tree, node, e.phases, e.rotation);
  const energy: string[] = [];
  let maxWh = 0;
  for (let k = 0; k < slots; k++) {
    const whPerA = (wPerA * (k === slots - 1 ? lastFraction : 1) * f.slotMs[k]) / 3_600_000;
    maxWh += whPerA * e.maxA;
    energy.push(`${num(whPerA)} ${aVar(i, k)}`);
    const midH = (f.starts[k] + f.slotMs[k] / 2) / 3_600_000;
    lp.objective.push(`${num(whPerA * (1 - PLAN_DISCOUNT_PER_H * midH))} ${aVar(i, k)}`);
    lp.bounds.push(`0 <= ${aVar(i, k)} <= ${num(e.maxA)}`);
    for (const c of cons) {
      const key = c * f.slotMs.length + k;
      const t = lp.nodeTerms.get(key);
      if (t) t.push(aVar(i, k));
      else lp.nodeTerms.set(key, [aVar(i, k)]);
    }
  }
  if (slots > 0) {
    s.wantedWh = Math.max(0, e.energyWantedWh!);
    s.ownWh = s.deliveredWh + Math.min(s.wantedWh, maxWh);
    lp.rows.push(`w${i}: ${sum(energy)} <= ${num(s.wantedWh)}`);
  }
  return s;
}

export function buildPlan(input: AllocationInput): PlanProblem | undefined {
  const all = plannable(input);
  if (!all) return undefined;
  const evses = all.filter((e) => e.departureAt !== undefined && e.energyWantedWh !== undefined);
  const now = input.now;
  // With a PV forecast the plan looks past the departures, to the refill the battery can count on.
  const forecastEnd = refillOf(input)?.pvW.at(-1)?.at ?? now;
  const horizon = Math.min(24 * 3_600_000, Math.max(3_600_000, forecastEnd - now, ...evses.map((e) => e.departureAt! - now)));
  const slotMs = planSlots(horizon);
  const { tree, residual } = siteHeadroom(input);
  const frame: PlanFrame = { slotMs, starts: slotMs.map((_, k) => slotMs.slice(0, k).reduce((a, b) => a + b, 0)), tree, voltageV: input.voltageV, now };
  for (const e of all) {
    const node = tree.index.get(e.nodeId);
    if (evses.includes(e) || node === undefined) continue;
    for (const c of constraintsOf(tree, node, e.phases, e.rotation)) residual[c] -= unplannedDraw(e);
  }
  const lp: LpParts = { rows: [], bounds: [], objective: [], nodeTerms: new Map() };
  const sessions = evses.map((e, i) => sessionRows(e, i, frame, lp));
  const battery = batteryTerms(input, frame, lp);
  let r = 0;
  for (const [key, terms] of lp.nodeTerms) {
    const c = Math.floor(key / slotMs.length);
    const bat = battery?.constraints.has(c) ? battery : undefined;
    const phase = c % 4;
    const k = key % slotMs.length;
    const perA = num(1 / (3 * input.voltageV));
    const extra = bat ? ` - ${perA} ${bVar(k)}${bat.refill ? ` + ${perA} ${cVar(k)}` : ''}` : '';
    lp.rows.push(`n${r++}: ${sum(terms)}${extra} <= ${num(Math.max(0, residual[c] - (bat ? bat.creditedA[phase] : 0)))}`);
    // The root's limit credits export only up to a cap: discharge beyond it gives the EVs nothing.
    if (bat && bat.spareA[phase] * 3 * input.voltageV < bat.maxDischargeW) lp.rows.push(`n${r++}: ${sum(terms)} <= ${num(Math.max(0, residual[c] + bat.spareA[phase]))}`);
  }
  if (lp.rows.length === 0) return undefined;
  const obj = sum(lp.objective);
  return { sessions, slotMs, rows: lp.rows, bounds: lp.bounds, objective: obj, energyLp: lpText('Maximize', obj, lp.rows, lp.bounds), ...(battery ? { batteryHours: battery.hours } : {}) };
}

/** The battery kept for the EVs: a discharge per slot (W) that adds to the room of the grid connection's three phases
 * (a 3-phase inverter) in place of the discharge credited now, within its power and the energy it has to spare. With a
 * PV forecast also a charge per slot from the PV beyond the site's load (refillRows); without one it plans to recharge
 * nothing. */
function batteryTerms(input: AllocationInput, f: PlanFrame, lp: LpParts): { constraints: Set<number>; creditedA: PhaseVector; spareA: PhaseVector; maxDischargeW: number; hours: number[]; refill: boolean } | undefined {
  const b = input.batteryReserve;
  const root = input.nodes.find((n) => n.parentId === undefined);
  const node = root && f.tree.index.get(root.id);
  if (!b || node === undefined || !(b.usableWh > 0) || !(b.maxDischargeW > 0)) return undefined;
  const hours = f.slotMs.map((ms) => ms / 3_600_000);
  hours.forEach((h, k) => {
    lp.bounds.push(`0 <= ${bVar(k)} <= ${num(b.maxDischargeW)}`);
    lp.objective.push(`${num(-PLAN_BATTERY_COST * h)} ${bVar(k)}`);
  });
  const refill = refillOf(input);
  if (refill) refillRows(refill, b.usableWh, f, hours, lp);
  else lp.rows.push(`bat: ${batteryWhTerms(hours)} <= ${num(b.usableWh)}`);
  const nonNegative = (v: PhaseVector): PhaseVector => v.map((x) => (x > 0 ? x : 0)) as PhaseVector;
  return { constraints: new Set([4 * node, 4 * node + 1, 4 * node + 2]), creditedA: nonNegative(b.creditedA), spareA: nonNegative(b.spareA), maxDischargeW: b.maxDischargeW, hours, refill: refill !== undefined };
}

/** The refill forecast, when the battery can take a charge and some PV is expected. */
function refillOf(input: AllocationInput): BatteryRefillForecast | undefined {
  const r = input.batteryReserve?.refill;
  return r && r.maxChargeW > 0 && r.roomWh >= 0 && r.pvW.length >= 2 ? r : undefined;
}

/** PV expected at `t` (W): linear between the forecast's points, nothing outside them. */
export function forecastAt(points: readonly { at: number; w: number }[], t: number): number {
  if (points.length < 2 || t < points[0].at || t > points[points.length - 1].at) return 0;
  let i = 1;
  while (points[i].at < t) i++;
  const a = points[i - 1];
  const b = points[i];
  return b.at === a.at ? b.w : a.w + ((b.w - a.w) * (t - a.at)) / (b.at - a.at);
}

/**
 * The battery refilled from the PV forecast: per slot a charge (W) of at most the PV expected beyond the site's load
 * now, which loads the grid connection's phases as the EVs do (they come first: a Wh charged is worth what a Wh
 * discharged costs, less than a Wh delivered), and its charge over the plan kept between empty and full at the end of
 * every slot. A battery that PV will refill after the sessions present have left is then worth using for them now:
 * pv-depot's battery was full by 16:00 while 25 kW went to the grid for an hour. The sessions that come later are not
 * known (no forecast of arrivals), so the plan may count on a refill they would have taken.
 */
function refillRows(r: BatteryRefillForecast, usableWh: number, f: PlanFrame, hours: readonly number[], lp: LpParts): void {
  hours.forEach((h, k) => {
    const expected = forecastAt(r.pvW, f.now + f.starts[k] + f.slotMs[k] / 2) - r.baseW;
    lp.bounds.push(`0 <= ${cVar(k)} <= ${num(Math.min(r.maxChargeW, Math.max(0, expected)))}`);
    lp.objective.push(`${num(PLAN_BATTERY_COST * h)} ${cVar(k)}`);
    // q_k: the energy taken from it by the end of slot k (Wh), one row per slot (sums written out per slot were k²
    // terms, and the plan with a forecast took twice as long).
    lp.rows.push(`soc${k}: q_${k}${k > 0 ? ` - q_${k - 1}` : ''} - ${num(h)} ${bVar(k)} + ${num(h)} ${cVar(k)} = 0`);
    lp.bounds.push(`${num(-r.roomWh)} <= q_${k} <= ${num(usableWh)}`);
  });
}

/** The battery's energy over the plan (Wh) as LP terms. */
function batteryWhTerms(hours: readonly number[]): string {
  return sum(hours.map((h, k) => `${num(h)} ${bVar(k)}`));
}

/** The fair, even and steady stages may share the energy differently, not take more from the battery than the energy
 * stage (its solution `columns`) found worth it: a row for `p.rows`, or undefined without a battery. */
export function batteryKeptRow(p: PlanProblem, columns: Record<string, { Primal?: number }>): string | undefined {
  if (!p.batteryHours) return undefined;
  const used = p.batteryHours.reduce((a, h, k) => a + h * (columns[bVar(k)]?.Primal ?? 0), 0);
  return `bkeep: ${batteryWhTerms(p.batteryHours)} <= ${num(used * (1 + 1e-6) + 1e-3)}`;
}

/** The terms of the energy (Wh) the plan gives session `i` by its departure. */
function plannedEnergy(p: PlanProblem, s: PlanSession, i: number): string[] {
  const terms: string[] = [];
  for (let k = 0; k < s.slots; k++) terms.push(`${num((s.wPerA * (k === s.slots - 1 ? s.lastFraction : 1) * p.slotMs[k]) / 3_600_000)} ${aVar(i, k)}`);
  return terms;
}

/** The fair stage: keep the discounted energy within PLAN_KEEP of `best` and raise the least share of what the
 * sessions that said their needs asked for (max-min). Undefined when no session has a share to raise. */
export function fairPlanLp(p: PlanProblem, best: number): string | undefined {
  const rows = [...p.rows, `keep: ${p.objective} >= ${num(best * PLAN_KEEP)}`];
  let any = false;
  p.sessions.forEach((s, i) => {
    if (s.ownWh === undefined || s.ownWh <= 1) return;
    any = true;
    const terms = plannedEnergy(p, s, i);
    rows.push(`f${i}: ${sum(terms)} - ${num(s.ownWh)} least >= ${num(-s.deliveredWh)}`);
  });
  if (!any) return undefined;
  return lpText('Maximize', 'least', rows, [...p.bounds, '0 <= least <= 1']);
}

/** The even stage: keep the energy and the least share `least`, and bring the whole sessions' shares as close to a
 * common level as they can be (least total deviation): max-min alone raises one session and leaves the rest where the
 * energy-first vertex put them. Undefined when no session has a share. */
export function evenPlanLp(p: PlanProblem, best: number, least: number): string | undefined {
  const even = evenRows(p, best, least);
  return even && lpText('Minimize', sum(even.deviation), even.rows, even.bounds);
}

/** The even stage's rows: the energy kept, the least share kept, and each session's deviation from a common level. */
function evenRows(p: PlanProblem, best: number, least: number): { rows: string[]; bounds: string[]; deviation: string[] } | undefined {
  const rows = [...p.rows, `keep: ${p.objective} >= ${num(best * PLAN_KEEP)}`];
  const bounds = [...p.bounds, '0 <= level <= 1'];
  const deviation: string[] = [];
  p.sessions.forEach((s, i) => {
    if (s.ownWh === undefined || s.ownWh <= 1) return;
    const terms = plannedEnergy(p, s, i);
    const e = sum(terms);
    const neg = terms.map((t) => `- ${t}`).join(' ');
    rows.push(`f${i}: ${e} >= ${num(s.ownWh * Math.max(0, least - 1e-6) - s.deliveredWh)}`);
    rows.push(`dh${i}: ${e} - ${num(s.ownWh)} level - ${num(s.ownWh)} d${i} <= ${num(-s.deliveredWh)}`);
    rows.push(`dl${i}: ${neg} + ${num(s.ownWh)} level - ${num(s.ownWh)} d${i} <= ${num(s.deliveredWh)}`);
    bounds.push(`d${i} >= 0`);
    deviation.push(`d${i}`);
  });
  if (!deviation.length) return undefined;
  return { rows, bounds, deviation };
}

/**
 * The steady stage: among plans as even as the even stage's (`deviation`, its least total deviation) that deliver as
 * much as it does (`energy`, its discounted energy), the one that delivers soonest (each Wh counts the hours from its
 * slot to the plan's end), the sessions charging now keeping the first slot for up to PLAN_INCUMBENT_MS. Which of two
 * sessions takes the first slot is otherwise often a tie, and a plan that flips it at every re-plan hands current over
 * every few minutes, each handover a cut to wait for (ignoring-station: X01 and X02 traded 32 A every 5 minutes).
 * Earliest departure first as the tie-break was tried and overserved the early leaver (docs/sim.md, Scores).
 */
export function steadyPlanLp(p: PlanProblem, best: number, least: number, deviation: number, energy: number): string | undefined {
  const even = evenRows(p, best, least);
  if (!even) return undefined;
  const rows = [...even.rows, `dev: ${sum(even.deviation)} <= ${num(deviation * (1 + 1e-6) + 1e-6)}`, `kept: ${p.objective} >= ${num(energy * (1 - 1e-6))}`];
  const endMs = p.slotMs.reduce((a, b) => a + b, 0);
  const inPlace: string[] = [];
  let start = 0;
  const starts = p.slotMs.map((ms) => ((start += ms), start - ms));
  p.sessions.forEach((s, i) => {
    for (let k = 0; k < s.slots; k++) {
      const whPerA = (s.wPerA * (k === s.slots - 1 ? s.lastFraction : 1) * p.slotMs[k]) / 3_600_000;
      // Among sessions equally served by the plan, those charging now keep the first slot: a tie-breaker.
      const hours = ((endMs - starts[k] - p.slotMs[k] / 2) / 3_600_000) * (k === 0 && s.running ? 1 + PLAN_KEEP_RUNNING : 1);
      inPlace.push(`${num(whPerA * hours)} ${aVar(i, k)}`);
    }
  });
  return inPlace.length ? lpText('Maximize', sum(inPlace), rows, even.bounds) : undefined;
}

/** The discounted energy (the energy stage's objective) of a solution. */
export function planEnergy(p: PlanProblem, columns: Record<string, { Primal?: number }>): number {
  let e = 0;
  for (const m of p.objective.matchAll(/([+-]?)\s*([0-9.e+-]+) (a\d+_\d+|[bc]_\d+)/g)) e += (m[1] === '-' ? -1 : 1) * Number(m[2]) * (columns[m[3]]?.Primal ?? 0);
  return e;
}

/** The battery's discharge the plan gives the first slot (W), less what it plans to charge there; undefined when it
 * plans none. */
export function readBatteryPlan(p: PlanProblem, columns: Record<string, { Primal?: number }>): number | undefined {
  return p.batteryHours ? Math.max(0, Math.round((columns[bVar(0)]?.Primal ?? 0) - (columns[cVar(0)]?.Primal ?? 0))) : undefined;
}

/** The plan for the first slot: per session, its mean current (A per phase). */
export function readPlan(p: PlanProblem, columns: Record<string, { Primal?: number }>): Map<string, number> {
  const out = new Map<string, number>();
  p.sessions.forEach((s, i) => out.set(s.id, s.slots > 0 ? Math.max(0, columns[aVar(i, 0)]?.Primal ?? 0) : 0));
  return out;
}
