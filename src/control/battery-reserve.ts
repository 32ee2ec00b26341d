// The loop's side of keeping the home battery for the EVs (algorithms/battery.ts): reads the grid meter, the battery
// and the allocation just made, and says how much the battery may discharge, or that it is to be refilled from PV.
import { batteryReserveLimitW, keptFloorPct, refillW, taperW } from '../../algorithms/battery.js';
import { drawOnSitePhases, evseToSitePhases } from '../../algorithms/phases.js';
import { effectiveMode } from '../../algorithms/modes.js';
import type { AllocationInput, AllocationResult, PhaseVector } from '../../algorithms/types.js';
import type { Config } from '../config/types.js';
import { ROOT_NODE, type Measurements, type NodeMeasurement } from './measurements.js';
import { evseKey } from './sessions.js';
import { MEASURED_MARGIN_A, type SessionView } from './solve-input.js';

export interface BatteryCommand {
  /** The most the battery may discharge (W); negative: it charges at least that much (refilled from PV); absent:
   * released, it discharges as it would on its own. */
  dischargeLimitW?: number;
}

/**
 * Whether the kept battery may be refilled from PV now: some EVSE charges in mode fast (without one the battery's own
 * self-consumption charges from the same export; in a PV mode the sun is the EVs', and the grid must not stand in for
 * it), and every EVSE gets what it can take: none held back by the grid connection, the import ceiling, the PV surplus,
 * a pause or a rise still held (one held back by a sub-board leaves the grid connection's room to others).
 */
function refillAllowed(input: AllocationInput, result: AllocationResult): boolean {
  const controllable = input.evses.filter((e) => e.controllable);
  if (controllable.some((e) => effectiveMode(e, input.settings.mode) !== 'fast')) return false;
  const ids = new Set(controllable.map((e) => e.id));
  if (!result.allocations.some((a) => ids.has(a.evseId) && a.limitA > 0)) return false;
  return result.allocations.every((a) => {
    if (a.reason === 'node-limit' || a.reason === 'fair-share' || a.reason === 'power-limit') return !a.limitedBy?.startsWith(`${ROOT_NODE}/`);
    return a.reason === 'max' || a.reason === 'not-controllable' || a.reason === 'tariff-wait';
  });
}

/** What the battery may discharge after this solve; undefined when the site does not keep it for the EVs or has none. */
export function batteryCommand(args: {
  config: Config;
  measurements: Measurements;
  /** The grid connection's limit in force, not credited (the root's NodeState from buildInput). */
  fuseA: PhaseVector;
  views: readonly SessionView[];
  result: AllocationResult;
  /** The discharge the session plan gives now (W), when it plans the battery. */
  planW?: number;
  /** The allocation's input: the EVSEs' modes, and the PV beyond the site's base load (pvSurplusW), what the battery may
   * be refilled from. */
  input: AllocationInput;
}): BatteryCommand | undefined {
  const { config, measurements } = args;
  if (!config.control.battery?.reserveForEvs || !config.meters.some((m) => m.role === 'battery')) return undefined;
  const minSocPct = config.control.battery.minSocPct;
  const battery = measurements.battery(minSocPct);
  const grid = measurements.nodeMeasurement(ROOT_NODE);
  const byId = new Map(args.result.allocations.map((a) => [a.evseId, a]));
  const pendingRiseA: PhaseVector = [0, 0, 0];
  for (const v of args.views) {
    const a = byId.get(evseKey(v.session.stationId, v.session.evseId));
    if (!a || v.fixedReason !== undefined) continue;
    const to = drawOnSitePhases(v.station.rotation, a.phases, a.limitA);
    const now = evseToSitePhases(v.station.rotation, v.session.measuredCurrentA ?? [0, 0, 0]);
    for (let i = 0; i < 3; i++) pendingRiseA[i] += Math.max(0, to[i] - now[i]);
  }
  const gridA = grid?.failSafe === false ? grid.meterA : undefined;
  const marginA = config.control.marginA ?? MEASURED_MARGIN_A;
  // Refilled from PV while every EVSE gets what it can take and the plan wants no discharge now (algorithms/battery.ts).
  if (battery && (config.control.battery.refillFromPv ?? true) && !((args.planW ?? 0) > 0) && refillAllowed(args.input, args.result)) {
    // The surplus read from the grid meter counts a rise not yet sampled as landed: at night that read as sun. So only
    // what a PV meter shows, and no refill without one.
    const pv = measurements.pv()?.powerW;
    const surplus = args.input.pvSurplusW;
    const pvSurplusW = pv !== undefined && surplus !== undefined ? Math.min(pv, surplus) : undefined;
    const chargeW = refillW({ socPct: battery.socPct, maxChargeW: battery.maxChargeW, chargeW: -battery.powerW, pvSurplusW, fuseA: args.fuseA, gridA, marginA, pendingRiseA, voltageV: config.site.voltage });
    if (chargeW > 0) return { dischargeLimitW: -chargeW };
  }
  // Near its minimum it is wound down (taperW); one that does not say its power is counted whole or not at all.
  const mostW = battery ? taperW(battery.socPct, battery.minSocPct, battery.maxDischargeW) : 0;
  const gridBinding = args.result.allocations.some((a) => a.limitedBy?.startsWith(`${ROOT_NODE}/`) || a.limitedBy === 'importCeiling');
  const limit = batteryReserveLimitW({
    dischargeW: battery?.powerW ?? 0,
    maxDischargeW: battery?.maxDischargeW || Infinity,
    usable: mostW > 0,
    ...(Number.isFinite(mostW) ? { taperW: mostW } : {}),
    fuseA: args.fuseA,
    gridA,
    marginA,
    pendingRiseA,
    gridBinding,
    voltageV: config.site.voltage,
    ...(args.planW !== undefined ? { planW: args.planW } : {}),
  });
  return limit !== undefined ? { dischargeLimitW: limit } : {};
}

type BatteryReading = ReturnType<Measurements['battery']>;

/**
 * The battery as the loop counts it when it is kept for the EVs: of what it discharges, the part the session plan
 * gives now is counted on top of the fuse (`countedA`, A per phase); the rest (`excessA`) is read as if it were not
 * there, so the EVSEs are cut to the plan before the battery is held back to it. `reserve` is what the planner may plan
 * from (its energy above the minimum, its power); `firmOk`: it is counted at all (not at the end of its wind-down).
 * Undefined when the battery is not kept for the EVs.
 */
export function keptBattery(config: Config, battery: BatteryReading, planW: number | undefined): { countedA: number; excessA: number; firmOk: boolean; reserve?: { usableWh: number; maxDischargeW: number } } | undefined {
  const cfg = config.control.battery;
  if (!cfg?.reserveForEvs || !battery) return undefined;
  const perPhase = 3 * config.site.voltage;
  const dischargeW = Math.max(0, battery.powerW);
  // Counted: what the plan gives, and near the minimum no more than the battery is wound down to (taperW).
  const mostW = taperW(battery.socPct, battery.minSocPct, battery.maxDischargeW);
  const countedW = Math.min(dischargeW, planW ?? Infinity, mostW);
  // The plan may count on the energy down to the taper's end, at no more than the power the taper allows now.
  const spareWh = cfg.capacityWh !== undefined ? ((battery.socPct - battery.minSocPct - keptFloorPct(battery.maxDischargeW)) / 100) * cfg.capacityWh : 0;
  const countedA = countedW / perPhase;
  return {
    countedA: (cfg.creditDischarge ?? true) ? countedA : 0,
    excessA: (dischargeW - countedW) / perPhase,
    firmOk: mostW > 0,
    ...(spareWh > 0 && battery.maxDischargeW > 0 && mostW > 0 ? { reserve: { usableWh: spareWh, maxDischargeW: mostW } } : {}),
  };
}

/** The grid meter's reading with the battery's unplanned discharge taken off it (A per phase added). */
export function withoutUnplanned(m: NodeMeasurement | undefined, excessA: number): NodeMeasurement | undefined {
  if (!m?.meterA || excessA <= 0) return m;
  return { ...m, meterA: m.meterA.map((a) => a + excessA) as PhaseVector };
}
