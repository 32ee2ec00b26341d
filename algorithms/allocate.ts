// allocate(): data in, limits out. Pure and deterministic: the same input (in any EVSE or node order) gives the
// same result; no clock (input.now is data), no I/O; never throws on bad data (problems are reported).
//
// Steps: tree and fixed loads -> headroom and alarms -> modes (PV pool, import ceiling, tariff) -> per priority,
// highest first: who gets their minimum (rotation, phase switching) -> water-filling above the minimum ->
// rounding to 0.1 A -> ramp and hysteresis.
import { canWaitForCheaperHours, effectiveMode, energyPicture } from './modes.js';
import { chooseOnSet, rotationOrder } from './selection.js';
import { buildSessions, Entries, sessionEntries, type Session, type SolveContext } from './session.js';
import { floorToTenth, holdReason, stabilize } from './stability.js';
import { buildTree, constraintName, nodeHeadroom, peakConstraint, poolConstraint, rootBaseA } from './tree.js';
import type { Allocation, LimitNode, AllocationInput, AllocationResult, AllocationSettings, ChargingMode } from './types.js';
import { waterFill } from './waterfill.js';

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const DEFAULT_VOLTAGE_V = 230;

function settingsOf(input: AllocationInput, problems: string[]): AllocationSettings {
  const s = (input.settings ?? {}) as Partial<AllocationSettings>;
  const mode: ChargingMode = s.mode === 'pv' || s.mode === 'minpv' || s.mode === 'fast' ? s.mode : 'fast';
  if (s.mode !== undefined && s.mode !== mode) problems.push(`settings.mode ${String(s.mode)} is unknown; fast is used`);
  return {
    mode,
    rotationPeriodMs: finite(s.rotationPeriodMs) ? s.rotationPeriodMs : 0,
    stepMs: finite(s.stepMs) ? s.stepMs : 0,
    rampAPerS: finite(s.rampAPerS) ? s.rampAPerS : 0,
    hysteresisA: finite(s.hysteresisA) ? s.hysteresisA : 0,
    holdBandA: finite(s.holdBandA) ? s.holdBandA : finite(s.hysteresisA) ? s.hysteresisA : 0,
    importCeilingW: finite(s.importCeilingW) ? s.importCeilingW : undefined,
    tariff: Array.isArray(s.tariff) ? s.tariff : undefined,
  };
}

/** Per node: the site phases (bit mask) on which some session under it is cut in this solve. */
function freedPhases(sessions: readonly Session[], tree: SolveContext['tree'], targetOf: (s: Session) => number, nodes: readonly LimitNode[]): Uint8Array {
  const out = new Uint8Array(tree.ids.length);
  for (const n of nodes) {
    const i = tree.index.get(n.id);
    if (i !== undefined && n.cutPending) for (let k = tree.chainStart[i]; k < tree.chainStart[i + 1]; k++) out[tree.chain[k]] |= 0b111;
  }
  for (const s of sessions) {
    if (!(s.previousA > 0) || targetOf(s) >= s.previousA || s.src.followsCuts) continue;
    const mask = s.previousPhases === 3 ? 0b111 : s.mask1;
    for (let k = tree.chainStart[s.node]; k < tree.chainStart[s.node + 1]; k++) out[tree.chain[k]] |= mask;
  }
  return out;
}

function waitsForRoom(s: Session, tree: SolveContext['tree'], freeing: Uint8Array): boolean {
  const mask = s.phases === 3 ? 0b111 : s.mask1;
  for (let k = tree.chainStart[s.node]; k < tree.chainStart[s.node + 1]; k++) if (freeing[tree.chain[k]] & mask) return true;
  return false;
}

export function allocate(input: AllocationInput): AllocationResult {
  const problems: string[] = [];
  if (!input || typeof input !== 'object') return { allocations: [], alarms: [], problems: ['input is not an object'] };
  const settings = settingsOf(input, problems);
  let voltageV = input.voltageV;
  if (!finite(voltageV) || voltageV <= 0) {
    problems.push(`voltageV ${String(voltageV)} is not a positive number; ${DEFAULT_VOLTAGE_V} V is used`);
    voltageV = DEFAULT_VOLTAGE_V;
  }
  const now = finite(input.now) ? input.now : 0;
  const nodes = Array.isArray(input.nodes) ? input.nodes : [];
  const evses = Array.isArray(input.evses) ? input.evses : [];

  // Nothing below depends on the order of the input: ties are broken by id, nodes are indexed by sorted id, and
  // floating-point noise from summing in another order is far below the 0.1 A rounding's margin.
  const tree = buildTree(nodes, problems);
  const { sessions, fixed } = buildSessions(evses, tree, settings.mode, problems);
  const { residual, alarms } = nodeHeadroom(tree, voltageV);
  const n = tree.ids.length;

  // Modes: each session's own mode, tariff deferral, the PV pool and the import ceiling.
  let anyPv = false;
  for (const s of sessions) {
    s.mode = effectiveMode(s.src, settings.mode);
    const maxPhases = s.phaseOptions.includes(3) ? 3 : 1;
    if (s.mode !== 'pv' && canWaitForCheaperHours(s.src, now, settings.tariff, voltageV, maxPhases)) {
      s.tariffWait = true;
      // While waiting: fast pauses; minpv keeps only the surplus part.
      if (s.mode === 'minpv') s.mode = 'pv';
    }
    if (s.mode === 'pv' || s.mode === 'minpv') anyPv = true;
  }
  const energy = energyPicture(input, voltageV, rootBaseA(tree));
  if (anyPv) residual[poolConstraint(n)] = energy.surplusW;
  if (settings.importCeilingW !== undefined) residual[peakConstraint(n)] = settings.importCeilingW - energy.importWithoutEvsW;

  const ctx: SolveContext = { tree, voltageV, residual, batteryAllowanceW: energy.batteryAllowanceW, hysteresisA: settings.hysteresisA };
  const contention = new Int32Array(residual.length);
  const entries = new Entries();
  const names: string[] = [];
  const nameOf = (c: number): string => (names[c] ??= constraintName(tree, c));

  // Highest priority first; within a priority, minimum-or-nothing then max-min fair water-filling.
  const byPriority = new Map<number, Session[]>();
  for (const s of sessions) {
    if (s.tariffWait && s.mode === 'fast') {
      s.reason = 'tariff-wait';
      continue;
    }
    const list = byPriority.get(s.priority);
    if (list) list.push(s);
    else byPriority.set(s.priority, [s]);
  }
  const priorities = [...byPriority.keys()].sort((a, b) => b - a);
  for (const priority of priorities) {
    const group = byPriority.get(priority)!;
    const classStart = residual.slice();
    chooseOnSet(rotationOrder(group, now, settings.rotationPeriodMs, voltageV), ctx, classStart);
    const on = group.filter((s) => s.on);
    const K = on.length;
    const weight = new Float64Array(K);
    const floor = new Float64Array(K);
    const cap = new Float64Array(K);
    const entStart = new Int32Array(K + 1);
    entries.length = 0;
    for (let k = 0; k < K; k++) {
      const s = on[k];
      weight[k] = s.weight;
      floor[k] = s.minA;
      cap[k] = s.maxA;
      entStart[k] = entries.length;
      sessionEntries(s, s.phases, ctx, entries);
    }
    entStart[K] = entries.length;
    const entCons = entries.cons.subarray(0, entries.length);
    for (const c of entCons) contention[c]++;
    const fill = waterFill({ count: K, weight, floor, cap, entStart, entCons, entCoef: entries.coef.subarray(0, entries.length) }, residual);
    for (let k = 0; k < K; k++) {
      const s = on[k];
      s.value = fill.value[k];
      const c = fill.boundBy[k];
      s.bound = c;
      if (c < 0) {
        s.reason = 'max';
        s.limitedBy = undefined;
      } else {
        s.limitedBy = nameOf(c);
        if (c === peakConstraint(n)) s.reason = 'peak-shaving';
        else if (c === poolConstraint(n)) s.reason = s.tariffWait ? 'tariff-wait' : 'pv-limited';
        else if ((c & 3) === 3) s.reason = 'power-limit';
        else s.reason = 'node-limit';
      }
    }
  }

  // Fair share where the binding node phase is shared with other charging sessions.
  for (const s of sessions) if (s.on && s.reason === 'node-limit' && contention[s.bound] > 1) s.reason = 'fair-share';

  // Round down to what a profile carries, then ramp and hysteresis (which only ever hold a limit lower).
  const allocations = new Array<Allocation | undefined>(evses.length);
  const hold = { ...settings, hysteresisA: settings.holdBandA ?? settings.hysteresisA };
  const targetOf = (s: Session): number => {
    const t = s.on ? floorToTenth(s.value) : 0;
    return s.on && t < s.minA ? s.minA : t; // the minimum itself fitted; rounding must not pause it
  };
  const freeing = freedPhases(sessions, tree, targetOf, nodes);
  for (const s of sessions) {
    const target = targetOf(s);
    // Make room before filling it: a rise into current that another session on the same node phase gives up in this
    // very solve, or whose cut has not landed yet (LimitNode.cutPending), waits until the cut has landed — the load
    // estimate then shows the room, or, if that station ignores its limit, does not. Raised together, a station that
    // ignores the cut overloads the node until it is found out, a MeterValues interval and a reaction later.
    const wait = target > s.previousA && s.phases === s.previousPhases && waitsForRoom(s, tree, freeing);
    const allowed = wait ? (s.previousA >= s.minA && s.previousA <= s.maxA ? s.previousA : 0) : target;
    const st = stabilize(allowed, s.phases, s.minA, s.previousA, s.previousPhases, hold);
    const held = holdReason(st, target, s.previousA, hold);
    const a: Allocation = { evseId: s.id, limitA: st, phases: s.phases, reason: held ?? s.reason };
    if (held === undefined && s.limitedBy !== undefined) a.limitedBy = s.limitedBy;
    allocations[s.inputIndex] = a;
  }
  for (const s of fixed) {
    const a: Allocation = { evseId: s.id, limitA: s.value, phases: s.phases, reason: s.reason };
    if (s.limitedBy !== undefined) a.limitedBy = s.limitedBy;
    allocations[s.inputIndex] = a;
  }
  alarms.sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : a.phase - b.phase));
  const out: AllocationResult = { allocations: allocations.filter((a): a is Allocation => a !== undefined), alarms };
  if (problems.length > 0) out.problems = [...new Set(problems)].sort();
  return out;
}
