// An independent checker of the optimizer's promises, written from the contract (types.ts), not from the code:
// per node and site phase, what the allocations put on it, and how much headroom is left.
import type { Allocation, AllocationInput, AllocationResult, EvseDemand, PhaseVector, Rotation } from '../../algorithms/types.js';

const L1_SITE_PHASE: Record<Rotation, number> = { L1L2L3: 0, L1L3L2: 0, L2L3L1: 1, L2L1L3: 1, L3L1L2: 2, L3L2L1: 2 };

export function sitePhases(rotation: Rotation, phases: 1 | 3): number[] {
  return phases === 3 ? [0, 1, 2] : [L1_SITE_PHASE[rotation]];
}

/** Node ids from the EVSE's node up to the root. */
export function chainOf(input: AllocationInput, nodeId: string): string[] {
  const byId = new Map(input.nodes.map((n) => [n.id, n]));
  const out: string[] = [];
  let cur = byId.get(nodeId);
  while (cur && out.length <= input.nodes.length) {
    out.push(cur.id);
    cur = cur.parentId === undefined ? undefined : byId.get(cur.parentId);
  }
  return out;
}

export interface NodeLoad {
  /** Load per site phase without controllable EVSEs (uncontrolled, not below the children's, + fixed loads). */
  base: PhaseVector;
  /** What the controllable EVSEs were allocated on each site phase. */
  allocated: PhaseVector;
  /** Number of charging controllable EVSEs per site phase (and of those with no minimum whose share was rounded down to
   * 0 A): each may leave up to 0.1 A of rounding. */
  charging: PhaseVector;
  limit: PhaseVector;
  limitW?: number;
}

function fixedLoad(e: EvseDemand): PhaseVector {
  if (e.measuredA) return e.measuredA.map((x) => Math.max(0, x)) as PhaseVector;
  const out: PhaseVector = [0, 0, 0];
  for (const p of sitePhases(e.rotation, e.phases)) out[p] = e.maxA;
  return out;
}

export function nodeLoads(input: AllocationInput, result: AllocationResult): Map<string, NodeLoad> {
  const loads = new Map<string, NodeLoad>();
  for (const n of input.nodes) {
    loads.set(n.id, {
      base: n.uncontrolledA.map((x) => Math.max(0, x)) as PhaseVector,
      allocated: [0, 0, 0],
      charging: [0, 0, 0],
      limit: [...n.limitA],
      limitW: n.limitW,
    });
  }
  // A parent carries at least its children's uncontrolled load (the optimizer's documented safe reading).
  const depth = (id: string) => chainOf(input, id).length;
  const deepestFirst = [...input.nodes].sort((a, b) => depth(b.id) - depth(a.id));
  const childSum = new Map<string, PhaseVector>();
  for (const n of deepestFirst) {
    const l = loads.get(n.id)!;
    const s = childSum.get(n.id) ?? [0, 0, 0];
    l.base = l.base.map((x, p) => Math.max(x, s[p])) as PhaseVector;
    if (n.parentId !== undefined) {
      const ps = childSum.get(n.parentId) ?? [0, 0, 0];
      childSum.set(n.parentId, ps.map((x, p) => x + l.base[p]) as PhaseVector);
    }
  }
  const allocById = new Map(result.allocations.map((a) => [a.evseId, a]));
  for (const e of input.evses) {
    const chain = chainOf(input, e.nodeId);
    if (!e.controllable) {
      const f = fixedLoad(e);
      for (const id of chain) loads.get(id)!.base.forEach((_, p, arr) => (arr[p] += f[p]));
      continue;
    }
    const a = allocById.get(e.id)!;
    if (a.limitA <= 0) {
      // A share under 0.1 A of a session with no minimum is rounded down to 0 and leaves that much of the room unused
      // (a fast-check counterexample: 0.08 A and 0.16 A of a 0.24 A power limit became 0 and 0.1 A).
      const rounded = e.minA < 0.1 && e.maxA > 0 && (a.reason === 'node-limit' || a.reason === 'fair-share' || a.reason === 'power-limit');
      if (rounded) for (const id of chain) for (const p of sitePhases(e.rotation, a.phases)) loads.get(id)!.charging[p] += 1;
      continue;
    }
    for (const id of chain) {
      const l = loads.get(id)!;
      for (const p of sitePhases(e.rotation, a.phases)) {
        l.allocated[p] += a.limitA;
        l.charging[p] += 1;
      }
    }
  }
  return loads;
}

const EPS = 1e-6;

/** Violations of "no node over its limit on any phase or in power", except where an alarm says so. */
export function overLimits(input: AllocationInput, result: AllocationResult): string[] {
  const out: string[] = [];
  const loads = nodeLoads(input, result);
  for (const [id, l] of loads) {
    let totalA = 0;
    for (let p = 0; p < 3; p++) {
      const load = l.base[p] + l.allocated[p];
      totalA += load;
      const alarmed = result.alarms.some((a) => a.nodeId === id && a.phase === p);
      if (alarmed) {
        if (l.allocated[p] > 0) out.push(`${id}/L${p + 1} alarmed but ${l.allocated[p]} A allocated on it`);
      } else if (load > l.limit[p] + EPS) out.push(`${id}/L${p + 1}: ${load} A > ${l.limit[p]} A`);
    }
    if (l.limitW !== undefined) {
      const w = totalA * input.voltageV;
      const alarmed = result.alarms.some((a) => a.nodeId === id && a.phase === -1);
      if (alarmed) {
        if (l.allocated.some((x) => x > 0)) out.push(`${id}/W alarmed but EVSEs allocated`);
      } else if (w > l.limitW + 1e-3) out.push(`${id}/W: ${w} W > ${l.limitW} W`);
    }
  }
  return out;
}

/** Every controllable EVSE at 0 or within [minA, maxA]. */
export function outOfRange(input: AllocationInput, result: AllocationResult): string[] {
  const out: string[] = [];
  const allocById = new Map(result.allocations.map((a) => [a.evseId, a]));
  for (const e of input.evses) {
    if (!e.controllable) continue;
    const a = allocById.get(e.id);
    if (!a) {
      out.push(`${e.id}: no allocation`);
      continue;
    }
    if (a.limitA !== 0 && (a.limitA < e.minA - EPS || a.limitA > e.maxA + EPS)) out.push(`${e.id}: ${a.limitA} A outside [${e.minA}, ${e.maxA}]`);
  }
  return out;
}

/**
 * Headroom left on the tightest constraint an EVSE loads (A per phase; a power limit converted at its phases),
 * with the tolerance the 0.1 A rounding of everyone on it allows.
 */
export function tightestSlack(input: AllocationInput, result: AllocationResult, loads: Map<string, NodeLoad>, e: EvseDemand, phases: 1 | 3): { slack: number; tolerance: number } {
  let slack = Infinity;
  let tolerance = 0;
  for (const id of chainOf(input, e.nodeId)) {
    const l = loads.get(id)!;
    for (const p of sitePhases(e.rotation, phases)) {
      const s = l.limit[p] - l.base[p] - l.allocated[p];
      if (s < slack) {
        slack = s;
        tolerance = 0.1 * l.charging[p] + EPS;
      }
    }
    if (l.limitW !== undefined) {
      const used = (l.base[0] + l.base[1] + l.base[2] + l.allocated[0] + l.allocated[1] + l.allocated[2]) * input.voltageV;
      const s = (l.limitW - used) / (input.voltageV * phases);
      if (s < slack) {
        slack = s;
        tolerance = (0.1 * (l.charging[0] + l.charging[1] + l.charging[2])) / phases + EPS;
      }
    }
  }
  return { slack, tolerance };
}

/**
 * "No capacity left unused": every charging EVSE below its maximum has a constraint with no headroom left
 * (within rounding); every EVSE paused for capacity or rotation could not get its minimum in what is left.
 */
export function unusedCapacity(input: AllocationInput, result: AllocationResult): string[] {
  const out: string[] = [];
  // A solve that holds rises back to make room first ('ramp' on a site without a ramp) leaves that room for the next
  // solve, once the cuts it would take from have landed: judged there, not here.
  if (result.allocations.some((a) => a.reason === 'ramp')) return out;
  const loads = nodeLoads(input, result);
  const allocById = new Map(result.allocations.map((a) => [a.evseId, a]));
  for (const e of input.evses) {
    if (!e.controllable) continue;
    const a: Allocation = allocById.get(e.id)!;
    if (a.limitA > 0) {
      if (a.limitA >= e.maxA - 0.1 - EPS) continue;
      const { slack, tolerance } = tightestSlack(input, result, loads, e, a.phases);
      if (slack > tolerance) out.push(`${e.id} at ${a.limitA} A < max ${e.maxA} A while ${slack} A is free (reason ${a.reason})`);
    } else if (a.reason === 'paused-rotation' || a.reason === 'paused-no-capacity') {
      if (e.maxA < e.minA || e.maxA <= 0) continue;
      const options: (1 | 3)[] = e.canSwitchPhases ? [3, 1] : [e.phases];
      for (const ph of options) {
        const { slack, tolerance } = tightestSlack(input, result, loads, e, ph);
        if (slack >= e.minA + tolerance) out.push(`${e.id} paused (${a.reason}) but its minimum ${e.minA} A fits on ${ph} phase(s): ${slack} A free`);
      }
    }
  }
  return out;
}

/** Allocations keyed by EVSE id, for order-independent comparison. */
export function byId(result: AllocationResult): Record<string, Allocation> {
  return Object.fromEntries(result.allocations.map((a) => [a.evseId, a]));
}
