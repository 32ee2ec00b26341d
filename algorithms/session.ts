// One controllable charging session as the solver sees it: checked numbers, its place in the tree, the phase
// options it has, and the constraints it loads. Non-controllable EVSEs become fixed loads on the tree.
import { drawOnSitePhases, isRotation, sitePhaseOfL1 } from './phases.js';
import { addFixedLoad, peakConstraint, poolConstraint, type SiteTree } from './tree.js';
import type { AllocationReason, ChargingMode, EvseDemand, PhaseVector } from './types.js';

export interface Session {
  src: EvseDemand;
  /** Position in the input's evses (the result keeps the input order). */
  inputIndex: number;
  id: string;
  /** Tree node number; -1 when the node is unknown or invalid (paused). */
  node: number;
  minA: number;
  maxA: number;
  weight: number;
  priority: number;
  /** Phase counts it may use, preferred first (shared, never mutated). */
  phaseOptions: readonly (1 | 3)[];
  /** Site phases it loads on 1 phase (a bit mask; all three when the rotation is unknown, to stay safe). */
  mask1: number;
  previousA: number;
  previousPhases: 1 | 3;
  pausedForMs: number;
  chargingForMs: number;
  energyDeliveredWh: number;
  mode: ChargingMode;
  /** Waiting for cheaper hours (fast: paused; minpv: surplus only). */
  tariffWait: boolean;
  // Outcome
  on: boolean;
  phases: 1 | 3;
  value: number;
  reason: AllocationReason;
  limitedBy?: string;
  /** The constraint that stopped its water-filling, -1 at its maximum or when paused. */
  bound: number;
}

export interface SolveContext {
  tree: SiteTree;
  voltageV: number;
  /** Remaining headroom per constraint (see tree.ts for the numbering). */
  residual: Float64Array;
  batteryAllowanceW: number;
  hysteresisA: number;
}

const SWITCHABLE: readonly (1 | 3)[] = [3, 1];
const THREE: readonly (1 | 3)[] = [3];
const ONE: readonly (1 | 3)[] = [1];

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

function num(x: unknown, fallback: number): number {
  return finite(x) ? x : fallback;
}

/**
 * Builds the sessions of controllable EVSEs (in input order; nothing downstream depends on it) and adds non-controllable ones to the tree as
 * fixed loads. Returns sessions plus allocations already decided (not controllable, bad input).
 */
export function buildSessions(
  evses: readonly EvseDemand[],
  tree: SiteTree,
  siteMode: ChargingMode,
  problems: string[],
): { sessions: Session[]; fixed: Session[] } {
  const sessions: Session[] = [];
  const fixed: Session[] = [];
  const seen = new Set<string>();
  const duplicated = new Set<string>();
  for (const e of evses) {
    if (!e || typeof e.id !== 'string') continue;
    if (seen.has(e.id)) duplicated.add(e.id);
    else seen.add(e.id);
  }
  const isDuplicate = (i: number): boolean => duplicated.size > 0 && duplicated.has(evses[i].id);
  const roots: number[] = [];
  for (let i = 0; i < tree.ids.length; i++) if (tree.valid[i] && tree.chainStart[i + 1] - tree.chainStart[i] === 1) roots.push(i);

  for (let i = 0; i < evses.length; i++) {
    const e = evses[i];
    if (!e || typeof e.id !== 'string') {
      problems.push('an EVSE without a string id was ignored');
      continue;
    }
    const nodeIdx = tree.index.get(e.nodeId);
    const node = nodeIdx !== undefined && tree.valid[nodeIdx] ? nodeIdx : -1;
    const rotationOk = isRotation(e.rotation);
    const phasesOk = e.phases === 1 || e.phases === 3;
    const phases: 1 | 3 = e.phases === 1 ? 1 : 3;
    const s: Session = {
      src: e,
      inputIndex: i,
      id: e.id,
      node,
      minA: num(e.minA, NaN),
      maxA: num(e.maxA, NaN),
      weight: finite(e.weight) && e.weight > 0 ? e.weight : 1,
      priority: finite(e.priority) ? e.priority : 0,
      phaseOptions: e.canSwitchPhases === true ? SWITCHABLE : phases === 3 ? THREE : ONE,
      mask1: rotationOk ? 1 << sitePhaseOfL1(e.rotation) : 0b111,
      previousA: finite(e.previousA) && e.previousA > 0 ? e.previousA : 0,
      previousPhases: e.previousPhases === 1 ? 1 : 3,
      pausedForMs: finite(e.pausedForMs) && e.pausedForMs > 0 ? e.pausedForMs : 0,
      chargingForMs: finite(e.chargingForMs) && e.chargingForMs > 0 ? e.chargingForMs : 0,
      energyDeliveredWh: num(e.energyDeliveredWh, 0),
      mode: siteMode,
      tariffWait: false,
      on: false,
      phases,
      value: 0,
      reason: 'paused-no-capacity',
      bound: -1,
    };
    if (!phasesOk) problems.push(`EVSE ${e.id}: phases must be 1 or 3; taken as 3`);
    if (!rotationOk && phases === 1) problems.push(`EVSE ${e.id}: rotation ${String(e.rotation)} is unknown; all phases are reserved`);

    if (e.controllable !== true) {
      if (isDuplicate(i)) problems.push(`EVSE ${e.id} is listed more than once; its controllable entries are paused`);
      // A fixed load: its measured draw when known, else its maximum on its phases.
      s.reason = 'not-controllable';
      let load: PhaseVector;
      if (Array.isArray(e.measuredA) && e.measuredA.length === 3 && e.measuredA.every(finite)) {
        load = [Math.max(0, e.measuredA[0]), Math.max(0, e.measuredA[1]), Math.max(0, e.measuredA[2])];
      } else if (finite(e.maxA) && e.maxA >= 0) {
        load = rotationOk ? drawOnSitePhases(e.rotation, phases, e.maxA) : [e.maxA, e.maxA, e.maxA];
      } else {
        problems.push(`EVSE ${e.id}: not controllable and neither measuredA nor maxA is known; its node's limit is reserved`);
        const at = node >= 0 ? node : roots[0];
        load = at === undefined ? [0, 0, 0] : [tree.limitA[3 * at], tree.limitA[3 * at + 1], tree.limitA[3 * at + 2]];
      }
      if (node >= 0) addFixedLoad(tree, node, load);
      else {
        // Unknown place in the tree: it still loads the grid connection.
        problems.push(`EVSE ${e.id}: node ${String(e.nodeId)} is unknown or invalid; its load is counted at the root`);
        for (const r of roots) addFixedLoad(tree, r, load);
      }
      s.value = Math.max(load[0], load[1], load[2]);
      s.phases = phases;
      fixed.push(s);
      continue;
    }

    if (isDuplicate(i)) {
      problems.push(`EVSE ${e.id} is listed more than once; its controllable entries are paused`);
      s.limitedBy = 'input';
      fixed.push(s);
      continue;
    }
    if (node < 0) {
      problems.push(`EVSE ${e.id}: node ${String(e.nodeId)} is unknown or invalid; paused`);
      s.limitedBy = 'input';
      fixed.push(s);
      continue;
    }
    if (!finite(s.minA) || !finite(s.maxA) || s.minA < 0 || s.maxA < 0) {
      problems.push(`EVSE ${e.id}: minA/maxA must be non-negative numbers; paused`);
      s.limitedBy = 'input';
      fixed.push(s);
      continue;
    }
    if (s.maxA <= 0 || s.maxA < s.minA) {
      // The EV or station allows nothing now (full, or its maximum is below the minimum current).
      s.reason = s.maxA <= 0 ? 'max' : 'paused-no-capacity';
      if (s.maxA > 0) s.limitedBy = `${e.id}/maxA<minA`;
      fixed.push(s);
      continue;
    }
    sessions.push(s);
  }
  return { sessions, fixed };
}

/** Growable constraint entries on typed arrays (the solve path allocates as little as it can). */
export class Entries {
  cons = new Int32Array(1024);
  coef = new Float64Array(1024);
  length = 0;

  push(c: number, a: number): void {
    if (this.length === this.cons.length) {
      const cons = new Int32Array(this.cons.length * 2);
      cons.set(this.cons);
      const coef = new Float64Array(this.coef.length * 2);
      coef.set(this.coef);
      this.cons = cons;
      this.coef = coef;
    }
    this.cons[this.length] = c;
    this.coef[this.length++] = a;
  }
}

/**
 * Appends the constraints a session loads on `phases` phases (constraint number and coefficient: 1 per A for a
 * phase, V x phases per A for a power limit). Constraints with infinite headroom are left out: they never bind.
 */
export function sessionEntries(s: Session, phases: 1 | 3, ctx: SolveContext, out: Entries): void {
  const { tree, residual, voltageV } = ctx;
  const mask = phases === 3 ? 0b111 : s.mask1;
  const wPerA = voltageV * phases;
  for (let k = tree.chainStart[s.node]; k < tree.chainStart[s.node + 1]; k++) {
    const base = 4 * tree.chain[k];
    if (mask & 1 && residual[base] !== Infinity) out.push(base, 1);
    if (mask & 2 && residual[base + 1] !== Infinity) out.push(base + 1, 1);
    if (mask & 4 && residual[base + 2] !== Infinity) out.push(base + 2, 1);
    if (residual[base + 3] !== Infinity) out.push(base + 3, wPerA);
  }
  const n = tree.ids.length;
  const peak = peakConstraint(n);
  if (residual[peak] !== Infinity) out.push(peak, wPerA);
  if (s.mode === 'pv' || s.mode === 'minpv') {
    const pool = poolConstraint(n);
    if (residual[pool] !== Infinity) out.push(pool, wPerA);
  }
}
