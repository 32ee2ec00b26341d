// energy_allowed_wh: an upper bound on the energy ANY controller could have delivered to the EVs of a scenario under the
// same limits and EV constraints. The tighter of two bounds, taken node by node up the supply tree:
//  1. per EV: what the EV takes charging alone at min(its max, the charger's max) from arrival to departure, with its
//     taper, never more than it wants (`ownMaximumWh`);
//  2. per limited node and time step: the most power the EVs plugged in below the node could draw without any phase
//     of the node exceeding its limit, given the base load below it (and, at the grid connection, PV and the home
//     battery at full discharge), each EV at most at its own maximum current, ignoring taper and whether it is full.
//     That per-step problem is solved exactly: 3-phase EVs draw equally on all phases, 1-phase EVs on their
//     (rotated) phase; raising the 3-phase draw never lowers the total, so it is as large as the tightest phase allows
//     and the 1-phase EVs fill what is left on their phase. The battery's share is capped over the run by its usable
//     charge plus what it could recharge from PV beyond the base load (it only charges from export).
//  The two are joined as a maximum flow over 5-minute slots: each EV can send at most bound_1 in all and at most its
//  max power in each slot it is present, each node at most bound_2 summed over the slot, up the tree to the grid.
// Kept beside the LP optimum (optimum.ts, energy_optimal_wh), which is tighter where PV, the battery or per-phase limits
// bind. It assumes 3-phase EVs draw 3-phase: a controller switching one to a single phase with room on it could beat it.
import { ownMaximumWh } from './physics/ev.js';
import { SiteTree, pvPowerFn } from './physics/site.js';
import { sitePhases } from './physics/station.js';
import type { Scenario } from './scenario-types.js';
import { FlowGraph } from './maxflow.js';

/** Per EV: what it takes alone at its maximum (Wh), integrated at the run's own step (as the run charges it; a finer
 * step would read the taper earlier than the run does and come out lower). */
export function evBounds(s: Scenario): Map<string, number> {
  const out = new Map<string, number>();
  for (const ev of s.evs) {
    const charger = s.chargers.find((c) => c.id === ev.charger)!;
    const phases = Math.min(ev.phases, charger.phases);
    const end = Math.min(ev.departAt, s.startAt + s.durationMs);
    const spec = { ...ev, maxA: Math.min(ev.maxA, charger.maxA), departAt: end };
    out.set(ev.id, ownMaximumWh(spec, charger.maxA, phases, s.site.voltage, s.stepMs));
  }
  return out;
}

/** Most power (W) EVs can draw under per-phase spare currents `spare` (A): 3-phase EVs' per-phase max summed in
 * `threeA`, 1-phase EVs' max summed per site phase in `oneA`. */
export function maxDrawW(spare: number[], threeA: number, oneA: number[], voltageV: number): number {
  const x = Math.max(0, Math.min(threeA, ...spare));
  let w = 3 * x;
  for (let p = 0; p < 3; p++) w += Math.max(0, Math.min(oneA[p], spare[p] - x));
  return w * voltageV;
}

/** Length of a time slot of the flow bound (ms): capacities are summed within a slot. */
const SLOT_MS = 5 * 60_000;

export function energyUpperBound(s: Scenario, perEv = evBounds(s)): number {
  const tree = new SiteTree(s);
  const V = s.site.voltage;
  const pv = s.pv ? pvPowerFn(s.pv.peakW, s.pv.clouds, s.seed, s.startAt) : () => 0;
  const children = new Map<string, string[]>();
  for (const n of tree.nodes) if (n.parent) children.set(n.parent, [...(children.get(n.parent) ?? []), n.id]);
  const below = (id: string): string[] => [id, ...(children.get(id) ?? []).flatMap(below)];
  const chargerOf = new Map(s.chargers.map((c) => [c.id, c]));
  const nodeOf = (chargerId: string) => chargerOf.get(chargerId)?.circuit ?? 'grid';
  const evInfo = s.evs.map((e) => {
    const c = chargerOf.get(e.charger)!;
    return { e, maxA: Math.min(e.maxA, c.maxA), phases: Math.min(e.phases, c.phases), phase: sitePhases(c.rotation)[0], node: nodeOf(e.charger) };
  });
  const nodes = tree.nodes.map((n) => ({ n, below: below(n.id), evs: evInfo.filter((x) => below(n.id).includes(x.node)) }));
  const end = s.startAt + s.durationMs;
  const slots = Math.ceil(s.durationMs / SLOT_MS);
  // capacity[node][slot]: Wh the EVs below the node could draw in the slot; evCap[ev][slot]: Wh the EV could take.
  const capacity = new Map(tree.nodes.map((n) => [n.id, new Array<number>(slots).fill(0)]));
  const evCap = evInfo.map(() => new Array<number>(slots).fill(0));
  const batteryExtra = new Array<number>(slots).fill(0);
  // The battery does self-consumption: it charges only from export, i.e. from PV beyond the base load (EVs only
  // lower the export), at most at its power.
  let surplusWh = 0;
  const step = Math.max(s.stepMs, 1000);
  const batteryA = s.battery ? s.battery.maxW / (3 * V) : 0;
  for (let t = s.startAt; t < end; t += step) {
    const h = Math.min(step, end - t) / 3_600_000;
    const slot = Math.floor((t - s.startAt) / SLOT_MS);
    const own = tree.ownLoads(t);
    const pvW = pv(t);
    if (s.battery) {
      let base = 0;
      for (const loads of own.values()) base += (loads[0] + loads[1] + loads[2]) * V;
      surplusWh += Math.min(s.battery.maxW, Math.max(0, pvW - base)) * h;
    }
    evInfo.forEach((x, i) => {
      if (x.e.arriveAt <= t && t < x.e.departAt) evCap[i][slot] += x.maxA * x.phases * V * h;
    });
    for (const { n, below: ids, evs } of nodes) {
      let three = 0;
      const one = [0, 0, 0];
      for (const x of evs) {
        if (x.e.arriveAt > t || t >= x.e.departAt) continue;
        if (x.phases === 3) three += x.maxA;
        else one[x.phase] += x.maxA;
      }
      if (three === 0 && one[0] + one[1] + one[2] === 0) continue;
      const spare = [0, 1, 2].map((p) => {
        let load = 0;
        for (const id of ids) load += own.get(id)![p];
        if (n.id === 'grid') load -= pvW / (3 * V);
        return Math.max(0, n.limitA[p] - load);
      });
      const w = maxDrawW(spare, three, one, V);
      capacity.get(n.id)![slot] += w * h;
      if (n.id === 'grid' && batteryA > 0) batteryExtra[slot] += (maxDrawW(spare.map((a) => a + batteryA), three, one, V) - w) * h;
    }
  }
  // The flow network: source -> EV (its own bound) -> (slot, its node) -> (slot, parent) ... -> (slot, grid) -> sink,
  // plus (slot, grid) -> battery -> sink for what the battery could add, capped over the run.
  const g = new FlowGraph();
  const source = g.node();
  const sink = g.node();
  const battery = g.node();
  if (s.battery) g.edge(battery, sink, Math.max(0, s.battery.soc - s.battery.minSoc) * s.battery.capacityWh + surplusWh);
  const slotNode = new Map<string, number[]>(tree.nodes.map((n) => [n.id, Array.from({ length: slots }, () => g.node())]));
  for (const n of tree.nodes) {
    const ids = slotNode.get(n.id)!;
    const cap = capacity.get(n.id)!;
    for (let k = 0; k < slots; k++) {
      if (n.parent) g.edge(ids[k], slotNode.get(n.parent)![k], cap[k]);
      else {
        g.edge(ids[k], sink, cap[k]);
        g.edge(ids[k], battery, batteryExtra[k]);
      }
    }
  }
  evInfo.forEach((x, i) => {
    const v = g.node();
    g.edge(source, v, perEv.get(x.e.id) ?? 0);
    const ids = slotNode.get(x.node)!;
    for (let k = 0; k < slots; k++) g.edge(v, ids[k], evCap[i][k]);
  });
  return g.maxFlow(source, sink);
}
