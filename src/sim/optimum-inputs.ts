// What the perfect-foresight optimum (optimum.ts) knows of a scenario's run: time slots (5 minutes, split at every
// arrival and departure so an EV is either there for a whole slot or not at all), and per slot the mean of what the
// site did on its own: base load under every limited node per phase, PV, the surplus the home battery could charge
// from, and the draw of EVs on chargers that ignore limits (no controller decides that; it is load like any other).
// Means, not minima: a controller that varies its currents within a slot can use the mean headroom, so the mean keeps
// the LP an upper bound.
import type { PhaseVector } from '../../algorithms/types.js';
import { SimEv } from './physics/ev.js';
import { SimBattery, SiteTree, pvPowerFn } from './physics/site.js';
import { sitePhases } from './physics/station.js';
import type { ChargerSpec, EvSpec, Scenario } from './scenario-types.js';
import { limitable } from './quirks.js';
import { MinimumSampler, type MinimumInputs } from './optimum-minimum.js';

export const SLOT_MS = 5 * 60_000;
/** At most this many samples of the site per run (a 31-day run at 1 s steps is sampled coarser). */
const MAX_SAMPLES = 400_000;

export interface OptimumEv {
  spec: EvSpec;
  charger: ChargerSpec;
  /** Current cap per phase (A): the lower of the EV's and the charger's maximum. */
  capA: number;
  /** Site phase of a 1-phase draw: the EVSE's L1 after rotation. */
  phase: number;
  /** The EV can draw on three phases (3-phase EV on a 3-phase charger) and, on a charger that switches, on any one of them. */
  threePhase: boolean;
  /** Node (grid or circuit) the charger hangs on, and the nodes from there up to the grid. */
  path: string[];
  /** Slots the EV is plugged in for (whole slots: boundaries include arrivals and departures). */
  slots: number[];
}

export interface OptimumInputs {
  /** Slot k spans [bounds[k], bounds[k + 1]). */
  bounds: number[];
  /** Slot lengths (h). */
  hours: number[];
  nodes: { id: string; limitA: PhaseVector }[];
  /** Per node, per phase, per slot: mean current already flowing (base load below it, EVs on chargers that ignore
   * limits; at the grid connection minus PV), A. */
  loadA: Map<string, number[][]>;
  /** Per slot: mean of what the battery could charge from (PV beyond the base load, capped at its power), W. */
  surplusW: number[];
  /** Per slot: mean PV beyond the whole site's base load, never below 0 (W): all EVs get in site mode pv. */
  pvSurplusW: number[];
  /** Before the first EV plugs in, no controller has any say: the battery does self-consumption on base load and PV
   * alone. The LP takes the battery over from `fromSlot` with this state of charge. A battery kept for the EVs
   * (`reserveForEvs`) is the controller's from the start (it holds it at night), so the LP's too: from slot 0. */
  battery?: { fromSlot: number; soc: number };
  evs: OptimumEv[];
  /** With the option `minimumCurrent`: the rows' right sides for a controller that keeps the minimum current. */
  minimum?: MinimumInputs;
  /** Energy of EVs on chargers that ignore or reject limits, per EV id (Wh): fixed, not a decision. */
  fixedWh: Map<string, number>;
}

function slotBounds(s: Scenario, slotMs: number): number[] {
  const end = s.startAt + s.durationMs;
  const set = new Set<number>();
  for (let t = s.startAt; t < end; t += slotMs) set.add(t);
  for (const e of s.evs) for (const t of [e.arriveAt, e.departAt]) if (t > s.startAt && t < end) set.add(t);
  set.add(end);
  return [...set].sort((a, b) => a - b);
}

/** Index of the slot containing t (bounds sorted); -1 before the first. */
function slotOf(bounds: number[], t: number): number {
  let lo = 0;
  let hi = bounds.length - 2;
  if (t < bounds[0]) return -1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (bounds[mid] <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

interface FixedEv { spec: EvSpec; charger: ChargerSpec; ev: SimEv; phases: number; site: number[]; path: string[] }

/** EVs whose current the LP decides, and EVs on chargers that ignore or reject limits (load, not decisions). */
function splitEvs(s: Scenario, tree: SiteTree, bounds: number[]): { evs: OptimumEv[]; fixed: FixedEv[] } {
  const chargerOf = new Map(s.chargers.map((c) => [c.id, c]));
  const evs: OptimumEv[] = [];
  const fixed: FixedEv[] = [];
  for (const spec of s.evs) {
    const charger = chargerOf.get(spec.charger)!;
    const path = tree.pathToRoot(charger.circuit);
    const map = sitePhases(charger.rotation);
    if (!limitable(charger)) {
      const phases = Math.min(charger.phases, spec.phases);
      fixed.push({ spec, charger, ev: new SimEv(spec), phases, site: phases === 3 ? [0, 1, 2] : [map[0]], path });
      continue;
    }
    const slots: number[] = [];
    for (let k = 0; k < bounds.length - 1; k++) if (bounds[k] >= spec.arriveAt && bounds[k] < spec.departAt) slots.push(k);
    evs.push({ spec, charger, capA: Math.min(spec.maxA, charger.maxA), phase: map[0], threePhase: charger.phases === 3 && spec.phases === 3, path, slots });
  }
  return { evs, fixed };
}

/** `minimumCurrent`: also what the chargers' minimum current leaves of each slot (optimum-minimum.ts). */
export function optimumInputs(s: Scenario, slotMs = SLOT_MS, opts: { minimumCurrent?: boolean; batteryW?: (t: number) => number } = {}): OptimumInputs {
  const tree = new SiteTree(s);
  const V = s.site.voltage;
  const bounds = slotBounds(s, slotMs);
  const n = bounds.length - 1;
  const hours = Array.from({ length: n }, (_, k) => (bounds[k + 1] - bounds[k]) / 3_600_000);
  const end = s.startAt + s.durationMs;
  const pv = s.pv ? pvPowerFn(s.pv.peakW, s.pv.clouds, s.seed, s.startAt) : () => 0;
  const loadA = new Map(tree.nodes.map((nd) => [nd.id, [0, 1, 2].map(() => new Array<number>(n).fill(0))]));
  const surplusW = new Array<number>(n).fill(0);
  const pvSurplusW = new Array<number>(n).fill(0);
  const { evs, fixed } = splitEvs(s, tree, bounds);
  // Sample the site at its own step (coarser for very long runs): a sample at t holds until the next, as in the run.
  const sampleMs = s.stepMs * Math.max(1, Math.ceil(s.durationMs / s.stepMs / MAX_SAMPLES));
  const firstArrival = Math.min(end, ...s.evs.map((e) => e.arriveAt));
  // A battery kept for the EVs is the controller's from the start: taken over by the LP at 0 the LP stays a bound (from
  // the first arrival, a battery held all night by the controller had run down in the LP: 0.1 % over it in the run).
  const batteryFrom = s.battery?.reserveForEvs ? s.startAt : firstArrival;
  // `batteryW` (analysis): the battery as it ran (W, discharge positive) is part of the load, not the LP's to dispatch.
  const battery = s.battery && !opts.batteryW ? new SimBattery(s.battery.capacityWh, s.battery.maxW, s.battery.soc, s.battery.minSoc) : undefined;
  const below = new Map(tree.nodes.map((nd) => [nd.id, tree.nodes.filter((x) => tree.pathToRoot(x.id).includes(nd.id)).map((x) => x.id)]));
  const minimum = opts.minimumCurrent ? new MinimumSampler(s, tree.nodes, n, evs) : undefined;
  // Per node, the current already flowing there at the sample (A per phase).
  const nowA = new Map(tree.nodes.map((nd) => [nd.id, [0, 0, 0]]));
  for (let t = s.startAt; t < end; t += sampleMs) {
    const k = slotOf(bounds, t);
    const dt = Math.min(sampleMs, end - t);
    const w = dt / (bounds[k + 1] - bounds[k]);
    const own = tree.ownLoads(t);
    const pvW = pv(t);
    let baseW = 0;
    for (const nd of tree.nodes) {
      const now = nowA.get(nd.id)!.fill(0);
      for (const id of below.get(nd.id)!) {
        const a = own.get(id)!;
        for (let p = 0; p < 3; p++) now[p] += a[p];
      }
    }
    for (const a of own.values()) baseW += (a[0] + a[1] + a[2]) * V;
    const grid = nowA.get('grid')!;
    for (let p = 0; p < 3; p++) grid[p] -= pvW / (3 * V);
    pvSurplusW[k] += Math.max(0, pvW - baseW) * w;
    if (s.battery) surplusW[k] += Math.min(s.battery.maxW, Math.max(0, pvW - baseW)) * w;
    if (battery && t < batteryFrom) {
      const bW = battery.step(baseW - pvW, dt);
      for (let p = 0; p < 3; p++) grid[p] -= bW / (3 * V);
    }
    if (opts.batteryW) {
      const bW = opts.batteryW(t);
      for (let p = 0; p < 3; p++) grid[p] -= bW / (3 * V);
      pvSurplusW[k] += bW * w;
    }
    for (const f of fixed) {
      if (t < f.spec.arriveAt || t >= f.spec.departAt) continue;
      const a = f.ev.drawFor(f.charger.maxA);
      const wh = f.ev.charge(a, f.phases, V, dt);
      const mean = (wh * 3_600_000) / (f.phases * V * dt);
      for (const id of f.path) for (const p of f.site) nowA.get(id)![p] += mean;
    }
    for (const [id, now] of nowA) {
      const acc = loadA.get(id)!;
      for (let p = 0; p < 3; p++) acc[p][k] += now[p] * w;
    }
    minimum?.observe(k, w, nowA, pvW - baseW, t >= firstArrival);
  }
  return {
    bounds,
    hours,
    nodes: tree.nodes.map((nd) => ({ id: nd.id, limitA: nd.limitA })),
    loadA,
    surplusW,
    pvSurplusW,
    evs,
    fixedWh: new Map(fixed.map((f) => [f.spec.id, f.ev.deliveredWh])),
    ...(battery ? { battery: { fromSlot: Math.max(0, slotOf(bounds, batteryFrom)), soc: battery.soc } } : {}),
    ...(minimum ? { minimum: minimum.result() } : {}),
  };
}
