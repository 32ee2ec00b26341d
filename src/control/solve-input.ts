// Builds the optimizer's input from what the loop knows now: the node tree with limits and uncontrolled load
// (fail-safe applied), and one demand per EVSE with a transaction. Pure given its arguments.
import type { AllocationInput, BatteryRefillForecast, EvseDemand, LimitNode, PhaseVector, PvForecastPoint, TariffWindow } from '../../algorithms/types.js';
import type { Config, StationConfig } from '../config/types.js';
import type { SiteLimit } from '../controller/site-limit.js';
import type { CsmsLimit } from './csms-profiles.js';
import type { EvseDispatchState } from './dispatcher.js';
import { drawOf, type DrawRange } from './draw-range.js';
import { exportCredit, type ExportWatch } from './export-credit.js';
import { ROOT_NODE, toSitePhases, type Measurements } from './measurements.js';
import { keptBattery, withoutUnplanned } from './battery-reserve.js';
import { TAPER_FROM_PCT } from '../../algorithms/battery.js';
import { evseKey, stillWantedWh, type EvseSession } from './sessions.js';
import { CONTROL_TIMING } from './settings.js';
import type { ControlSettings, NodeState } from './types.js';
import { ownValue } from '../common/ids.js';
import type { EvCap } from './ev-cap.js';

export interface EvseHistory {
  limitA: number;
  phases: 1 | 3;
  pausedSince?: number;
  chargingSince?: number;
  /** When its phase count last changed (an EVSE that can switch): a switch back up waits (algorithms/selection.ts). */
  phasesSince?: number;
  /**
   * The EV was offered current and did not take it (SuspendedEV, drawing nothing: full, or waiting for its own
   * timer). It keeps only its minimum, served after everyone who is charging, until it draws again.
   */
  evIdle?: boolean;
  /** Idle as its station says (SuspendedEV), until it says Charging or draws. */
  idleByState?: boolean;
  /** Idle judged by its draw alone (undrawnIdle): the station may say Charging all along; since when. */
  idleByDrawSince?: number;
  /** The first sample since which it has drawn under 1 A of a limit in force of at least its minimum. */
  undrawnSince?: number;
  /** Idle by its draw for IDLE_PROBE_MS: offered its minimum again (not its share), to see whether it takes it now. */
  idleProbe?: boolean;
  /** What the EV takes at most, learned in this transaction (ev-cap.ts): it is offered no more. */
  evCap?: EvCap;
}

/** Everything the loop knows about one EVSE with a session, resolved. */
export interface SessionView {
  session: EvseSession;
  station: StationConfig;
  dispatch: EvseDispatchState;
  csms: CsmsLimit;
  connected: boolean;
  canSwitchPhases: boolean;
  /** Why it is a fixed load, when it is one. */
  fixedReason?: string;
}

export function defaultStation(id: string): StationConfig {
  return { id, phases: 3, rotation: 'L1L2L3', maxA: 32, minA: 6, priority: 0, evses: 1, phaseSwitching: false };
}

export { defaultSettings } from './settings.js';

const vmin = (a: PhaseVector, b: PhaseVector): PhaseVector => [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.min(a[2], b[2])];

/** Which node an EVSE hangs on, and each node's ancestors-or-self. */
export function nodeChain(config: Config): (nodeId: string) => string[] {
  const parent = new Map(config.site.circuits.map((c) => [c.id, c.parent ?? ROOT_NODE]));
  return (nodeId) => {
    const out: string[] = [];
    for (let n: string | undefined = nodeId; n !== undefined; n = n === ROOT_NODE ? undefined : parent.get(n) ?? ROOT_NODE) out.push(n);
    return out;
  };
}

/**
 * How long after a limit change either limit may be in force, as the loop assumes when it reads the meters: the
 * station's reaction (1-10 s; the simulated ones 5 s) plus a meter poll. Too short reads a rise that has not landed
 * yet as room (overshoot, then a cut: a limit cycle); longer only holds the load estimate steady a little longer.
 */
export const STATION_SETTLE_MS = CONTROL_TIMING.stationSettleMs;

/** Headroom kept free on a node whose load is measured (A per phase), when control.marginA is not given. */
export const MEASURED_MARGIN_A = 0.15;
/** The load a node's meter showed when nothing was in transit, and when. */
export interface SettledLoad {
  net: PhaseVector;
  at: number;
}

/** How long a settled load is held while limits stay in transit: three settle times. */
export const SETTLED_MAX_AGE_MS = 3 * STATION_SETTLE_MS;

export interface BuiltInput {
  input: AllocationInput;
  nodes: NodeState[];
}

export function buildInput(args: {
  now: number;
  config: Config;
  settings: ControlSettings;
  siteLimit?: SiteLimit;
  measurements: Measurements;
  views: SessionView[];
  history: Map<string, EvseHistory>;
  stepMs: number;
  /** At most this share (0..1) of the measured export through a node is credited on top of its limit. */
  exportCreditFraction: number;
  /** The falls of export seen per node, kept by the loop: the credit allows for them (export-credit.ts). */
  exportWatch?: ExportWatch;
  /** Per node: the net load (meter minus EVSEs) last measured with no station in transit; kept by the loop. */
  settledNet?: Map<string, SettledLoad>;
  /** Tariff windows ahead (absolute), from control.tariff. */
  tariff?: TariffWindow[];
  /** The home battery's discharge the session plan gives now (W), when it plans the battery (battery-reserve.ts). */
  batteryPlanW?: number;
  /** The PV forecast in force (points in time, W), when one is set (PUT /api/forecast/pv). */
  pvForecast?: readonly PvForecastPoint[];
}): BuiltInput {
  const { now, config, settings, measurements, views, history } = args;
  const chain = nodeChain(config);
  const drawBelow = new Map<string, DrawRange>();
  for (const v of views) {
    const d = drawOf(v, now, config.control.defaultTxLimitA, history.get(evseKey(v.session.stationId, v.session.evseId))?.limitA);
    for (const n of chain(v.station.circuit ?? ROOT_NODE)) {
      const acc = drawBelow.get(n) ?? { lo: [0, 0, 0], hi: [0, 0, 0], seen: [0, 0, 0] };
      if (d.unsampled) acc.unsampled = true;
      if (d.cutPending) acc.cutPending = true;
      for (let i = 0; i < 3; i++) {
        acc.lo[i] += d.lo[i];
        acc.hi[i] += d.hi[i];
        acc.seen[i] += d.seen[i];
      }
      drawBelow.set(n, acc);
    }
  }
  const battery = measurements.battery(config.control.battery?.minSocPct ?? 20);
  // Per phase (A, a 3-phase inverter): what the battery discharges now (a good reading only: measurements.battery).
  const kept = keptBattery(config, battery, args.batteryPlanW);
  const batteryDischargeA = kept?.countedA ?? (battery && (config.control.battery?.creditDischarge ?? true) && battery.powerW > 0 ? battery.powerW / (3 * config.site.voltage) : 0);
  // Charge to spare: 5 points above the minimum the config sets. Below that the battery is about to stop, and its part
  // of the export is not credited at all (it would become load on the fuse at once when it stops). One kept for the
  // EVs is wound down over those points instead (taperW) and counted as it is.
  const batteryOk = kept ? kept.firmOk : battery !== undefined && battery.socPct > battery.minSocPct + TAPER_FROM_PCT;
  // Per phase (A): what the metered sources behind the grid meter give now (PV inverter and battery, 3-phase).
  const pvNow = measurements.pv();
  // A battery kept for the EVs counts only with the part the plan gives (keptBattery).
  const sourceA = ((pvNow?.powerW ?? 0) + (kept ? kept.countedA * 3 * config.site.voltage : Math.max(0, battery?.powerW ?? 0))) / (3 * config.site.voltage);
  const limitNodes: LimitNode[] = [];
  const nodeStates: NodeState[] = [];
  // The load at the root without the EVSEs as the PV pool reads it (A per phase, export negative; drawOf's `seen`).
  let rootNet: PhaseVector | undefined;
  // The kept battery's share of the root's credited limit and the credit still below its cap (for the planner).
  let batteryCredit: { creditedA: PhaseVector; spareA: PhaseVector } = { creditedA: [0, 0, 0], spareA: [0, 0, 0] };
  const addNode = (id: string, parentId: string | undefined, limitA: PhaseVector, limitW: number | undefined) => {
    const m = id === ROOT_NODE ? withoutUnplanned(measurements.nodeMeasurement(id), kept?.excessA ?? 0) : measurements.nodeMeasurement(id);
    const draw = drawBelow.get(id) ?? { lo: [0, 0, 0], hi: [0, 0, 0], seen: [0, 0, 0] };
    let uncontrolled: PhaseVector = [0, 0, 0];
    let limit = limitA;
    let settleFirst = false;
    if (m?.failSafe) {
      // Unsure of the load: the EVSEs below share the safe limit, nothing more.
      limit = vmin(limitA, settings.safeLimitA);
      args.settledNet?.delete(id);
      args.exportWatch?.forget(id);
      args.exportWatch?.forget(`${id}/sources`);
    } else if (m?.meterA) {
      // While stations below are still reacting to a change, the meter minus what they may draw gives a range for
      // the rest of the load: `high` (crediting the lower limits) is safe, `low` (crediting the higher ones) cannot
      // be beaten. Taking `high` after a rise would read the rise itself as new base load, cut everyone's limits, and
      // raise them again a few seconds later (oscillation, profiles rewritten for nothing). So within the range the
      // loop keeps the load it measured when nothing was in transit, unless even `low` is above it (a real step up,
      // seen at once, less at most the part of the rises not yet drawn, for at most STATION_SETTLE_MS).
      const high = m.meterA.map((a, i) => a - draw.lo[i]) as PhaseVector;
      const low = m.meterA.map((a, i) => a - draw.hi[i]) as PhaseVector;
      const settled = !draw.unsampled && high.every((x, i) => x - low[i] < 0.05);
      // A load settled long ago says nothing of now: when limits have been in transit for longer than
      // SETTLED_MAX_AGE_MS (each change restarting the wait), the safe reading is taken. Otherwise a loop whose own
      // changes never let it settle kept crediting the higher of every pair of limits in transit and read that as
      // room: under a creeping base load, 4.4 A allocated beyond the room (test/control/settle.test.ts); with the
      // planner's steady stage (branch steady-plan), subboard-1phase's grid 1.5 A over for a minute.
      const settledAt = args.settledNet?.get(id);
      const prev = settledAt && now - settledAt.at <= SETTLED_MAX_AGE_MS ? settledAt.net : undefined;
      // Held past its age, the load is read the safe way: each rise that lands then reads as base load and is cut, and
      // the cut's room is risen into again before it shows — a loop that never settles (demo-site when CP08 arrives:
      // CP07 10 ↔ 14.6 A every 7 s for minutes). So no session under the node rises until a reading has settled
      // (cuts still go out): the transit ends within a settle time, and rises resume from a load measured whole.
      if (!settled && settledAt && !prev) settleFirst = true;
      const held: PhaseVector = settled || !prev ? high : (high.map((h, i) => Math.min(h, Math.max(prev[i], low[i]))) as PhaseVector);
      // Over its limit on a phase credited export while limits below are in transit, the export held from before may
      // be gone: no session under the node rises until a reading has settled (the cut below still goes out). Raised
      // again while over, demo-site's grid connection ran 0.5-2.9 A over its 63 A for 17 s at a plan handover. (Held
      // for any overload, a creeping load that kept the meter over cut two EVs to nothing: test/control/settle.test.ts.)
      if (!settled && m.meterA.some((a, i) => a > limitA[i] && held[i] < 0)) settleFirst = true;
      // But on a phase credited export (held load below zero) that the meter shows above its limit, the held load is
      // evidently too low, and at full credit all of that error is on the fuse: it is raised by what the meter shows
      // over the limit (at most to the safe reading, `high`), so the cut is whole in this solve. (A load held from a
      // settle that had credited an EV which had just stopped let demo-site's fuse carry 1.5 A too much for 5 s.) The
      // safe reading itself was taken before: it credits the lower limits of every station in transit, so each cut
      // read as more base load, and one ampere over the fuse paused every EV of the demo, again every 15 s. Without
      // export the held load stays: there it cost energy (mixed-fleet 428 Wh) and the reaction window covers the error.
      const meterA = m.meterA;
      const net = held.map((x, i) => (x < 0 && meterA[i] > limitA[i] ? Math.min(high[i], x + meterA[i] - limitA[i]) : x)) as PhaseVector;
      if (settled) args.settledNet?.set(id, { net: high, at: now });
      if (id === ROOT_NODE) rootNet = m.meterA.map((a, i) => a - draw.seen[i]) as PhaseVector;
      // A small margin on a measured load: it drifts between readings, and a limit filled to the last 0.1 A would be
      // crossed by every upward drift for the stations' reaction time.
      uncontrolled = net.map((x) => Math.max(0, x) + (config.control.marginA ?? MEASURED_MARGIN_A)) as PhaseVector;
      // Export through the node (PV, battery) is current the EVSEs may use on top of the fuse, because the fuse carries
      // the net current. If the export falls (a cloud), the part credited becomes load on the fuse until the stations
      // react: so the credit is the export less the largest fall of it seen within one settle time in the last
      // minutes, stretched by the reading's age (a fall may have begun since), at most `exportCreditFraction` of it.
      // At the grid connection the part that is the home battery discharging is credited whole while the battery has
      // charge to spare (unlike PV it does not pass with a cloud) and not at all once it is near its minimum (it stops
      // then, all at once); only the rest, PV, as above (docs/control.md).
      // The watch sees the load as held, not the safe reading of an overload: that reading's jump is the stations
      // in transit, not the export falling.
      const exportA = net.map((x) => Math.max(0, -x)) as PhaseVector;
      // Where a PV meter accounts for the export, the falls to allow for are the PV's own. A load stepping up (an EV
      // starting on its default profile before the loop has seen it, a session's rise landing) is no fall of the
      // export: the meter shows it and it is cut as on any site. Read as one, every arrival held most of the export
      // back for the watch's memory (pv-depot at midday: falls of 23–43 A seen against the PV's own ≤ 1.1 A).
      // A battery credited on its own (firm) is left out: its stop is allowed for by not crediting it near its minimum.
      // So is a battery kept for the EVs: its steps are the controller's own commands, not falls of the export.
      const sourcesA = id === ROOT_NODE && pvNow ? (batteryDischargeA > 0 || kept ? pvNow.powerW / (3 * config.site.voltage) : sourceA) : undefined;
      const watched = sourcesA !== undefined ? ([sourcesA, sourcesA, sourcesA] as PhaseVector) : (held.map((x) => Math.max(0, -x)) as PhaseVector);
      const fall = args.exportWatch?.observe(sourcesA !== undefined ? `${id}/sources` : id, now, watched) ?? [0, 0, 0];
      const horizon = args.exportWatch?.horizonMs ?? 1;
      const stretch = (horizon + Math.max(0, now - (m.at ?? now))) / horizon;
      const firm = id === ROOT_NODE ? batteryDischargeA : 0;
      const source = id === ROOT_NODE ? sourceA : 0;
      // Never more than the limit again (at most doubling it): sources that trip all at once put their whole credit on
      // the fuse until the stations react.
      const credit = (exportOf: number, firmOf: number, sourceOf: number, i: number): number =>
        Math.min(limitA[i], exportCredit(exportOf, firmOf, batteryOk, sourceOf, fall[i] * stretch, args.exportCreditFraction));
      const credited = limitA.map((_, i) => credit(exportA[i], firm, source, i)) as PhaseVector;
      if (id === ROOT_NODE && kept) {
        // Without the battery's counted part the export, the firm part and the sources are that much less.
        const without = limitA.map((_, i) => credit(Math.max(0, exportA[i] - firm), 0, Math.max(0, source - firm), i));
        batteryCredit = {
          creditedA: credited.map((c, i) => Math.max(0, c - without[i])) as PhaseVector,
          spareA: credited.map((c, i) => Math.max(0, limitA[i] - c)) as PhaseVector,
        };
      }
      limit = limit.map((l, i) => l + credited[i]) as PhaseVector;
    }
    limitNodes.push({ id, ...(parentId !== undefined ? { parentId } : {}), limitA: limit, ...(limitW !== undefined ? { limitW } : {}), uncontrolledA: uncontrolled, ...(draw.cutPending || settleFirst ? { cutPending: true } : {}) });
    nodeStates.push({ id, limitA: limitA, currentA: m?.meterA ?? draw.lo, failSafe: m?.failSafe ?? false, ...(m?.failSafe ? { failSafeReason: m.reason, limitA: limit } : {}) });
  };
  addNode(ROOT_NODE, undefined, vmin(args.siteLimit?.limitA ?? config.site.limitA, config.site.limitA), args.siteLimit?.limitW ?? config.site.limitW);
  for (const c of config.site.circuits) {
    const override = ownValue(settings.circuitLimitsA, c.id);
    addNode(c.id, c.parent ?? ROOT_NODE, override ? vmin(c.limitA, override) : c.limitA, c.limitW);
  }

  const evses: EvseDemand[] = needWeights(
    views.map((v) => demandOf(v, now, settings, history.get(evseKey(v.session.stationId, v.session.evseId)))),
    now,
    config.site.voltage,
  );
  const grid = measurements.gridPowerW();
  const pv = pvNow;
  // PV beyond the house (W): the export the root's meter shows without the EVSEs, less the battery's discharge (its
  // charging is surplus: EVs before the home battery). The EVSEs' own MeterValues lag the grid meter by up to their
  // interval; read from them, a rise that had landed read as house load and cut the car it had raised (pv-home-switching
  // at 09:00: one car on a steady 2.5 kW of sun, 0 → 9.6 → 0 A every 40 s; 165 stops a day, 79 now). So an EVSE whose
  // limit changed after its last sample counts with the higher limit that may be in force, as if the change had landed,
  // until a sample taken a settle time after it says what it draws (a station that takes 30-60 s to apply a limit is
  // then read as it is, not as landed): the error is a few seconds of import in PV mode, never load on the fuse, which
  // reads the load held for it (above).
  // A kept battery's unplanned discharge is already off the meter's reading (withoutUnplanned): the rest of it is left.
  const batteryPartW = (battery?.powerW ?? 0) - (kept ? kept.excessA * 3 * config.site.voltage : 0);
  const pvSurplusW = rootNet ? -(rootNet[0] + rootNet[1] + rootNet[2]) * config.site.voltage - batteryPartW : undefined;
  const input: AllocationInput = {
    now,
    voltageV: config.site.voltage,
    nodes: limitNodes,
    evses,
    ...(pv ? { pv } : {}),
    ...(battery ? { battery } : {}),
    ...(kept?.reserve ? { batteryReserve: { ...kept.reserve, ...batteryCredit, ...refillForecast(config, battery, args.pvForecast, pv?.powerW, pvSurplusW) } } : {}),
    ...(grid !== undefined ? { grid: { powerW: grid } } : {}),
    ...(pvSurplusW !== undefined ? { pvSurplusW } : {}),
    settings: {
      mode: settings.siteMode,
      rotationPeriodMs: config.control.rotationPeriodS * 1000,
      stepMs: args.stepMs,
      rampAPerS: config.control.rampAPerS,
      hysteresisA: config.control.hysteresisA,
      // The dispatcher holds small rises back and carries them with the next renewal; the allocation itself is not held.
      holdBandA: 0,
      ...(args.tariff && args.tariff.length > 0 ? { tariff: args.tariff } : {}),
      ...(config.control.importCeilingW !== undefined ? { importCeilingW: config.control.importCeilingW } : {}),
    },
  };
  return { input, nodes: nodeStates };
}

/** Below any priority a site configures: an idle EV gets its minimum only from what nobody charging can use. */
export const IDLE_PRIORITY = -1_000_000;

function demandOf(v: SessionView, now: number, settings: ControlSettings, h: EvseHistory | undefined): EvseDemand {
  const s = v.session;
  const st = v.station;
  // A 1-phase EV on a 3-phase EVSE: said so (charging needs, numberOfPhasesUsed) or seen drawing on L1 only.
  const m = s.measuredCurrentA;
  const seenOnePhase = m !== undefined && m.length === 3 && m[0] > 1 && m[1] < 0.5 && m[2] < 0.5;
  const evOnePhase = s.evPhases === 1 || s.phasesUsed === 1 || (s.evPhases === undefined && seenOnePhase);
  const phases: 1 | 3 = st.phases === 1 || (evOnePhase && !v.canSwitchPhases) ? 1 : v.canSwitchPhases ? (h?.phases ?? 3) : 3;
  const caps = [st.maxA, s.evMaxCurrentA, s.cableMaxCurrentA, v.csms.limitA].filter((x): x is number => x !== undefined);
  let maxA = Math.max(0, Math.min(...caps));
  // An EV that suspended itself (full, or waiting) and draws nothing keeps only its minimum reserved, so it can resume;
  // the rest goes to others until it says Charging again.
  // An EV that was offered current and did not take it keeps only its minimum, and only after every session that is
  // charging (lowest priority): reserving it on a full site would strand that current for nothing.
  const idle = h?.evIdle === true;
  if (idle || h?.idleProbe || (s.chargingState === 'SuspendedEV' && (m === undefined || Math.max(...m) < 1))) maxA = Math.min(maxA, st.minA);
  // An EV that takes less than it is offered is offered what it takes, + 1 A (ev-cap.ts); never below its minimum.
  if (h?.evCap !== undefined && h.evCap.transactionId === s.transactionId) maxA = Math.min(maxA, Math.max(st.minA, h.evCap.a));
  const minA = Math.min(Math.max(st.minA, s.evMinCurrentA ?? 0), maxA);
  const delivered = s.energyRegisterWh !== undefined && s.energyAtStartWh !== undefined ? Math.max(0, s.energyRegisterWh - s.energyAtStartWh) : 0;
  const wantedWh = stillWantedWh(s);
  const mode = ownValue(settings.modes, st.id) ?? st.mode;
  return {
    id: evseKey(s.stationId, s.evseId),
    nodeId: st.circuit ?? ROOT_NODE,
    phases,
    rotation: st.rotation,
    minA,
    maxA,
    canSwitchPhases: v.canSwitchPhases,
    ...(v.dispatch.followsCuts ? { followsCuts: true } : {}),
    priority: idle ? IDLE_PRIORITY : ownValue(settings.priorities, st.id) ?? st.priority,
    ...(wantedWh !== undefined ? { energyWantedWh: wantedWh } : {}),
    ...(s.departureAt !== undefined ? { departureAt: s.departureAt } : {}),
    energyDeliveredWh: delivered,
    controllable: v.fixedReason === undefined,
    ...(s.measuredCurrentA ? { measuredA: toSitePhases(s.measuredCurrentA, phases, st.rotation) } : {}),
    previousA: h?.limitA ?? 0,
    previousPhases: h?.phases ?? phases,
    pausedForMs: h?.pausedSince !== undefined ? now - h.pausedSince : 0,
    chargingForMs: h?.chargingSince !== undefined ? now - h.chargingSince : 0,
    ...(v.canSwitchPhases && h?.phasesSince !== undefined ? { phasesForMs: now - h.phasesSince } : {}),
    ...(mode ? { mode } : {}),
  };
}

/** The current (A per phase) a session needs on average to get what it wants by its departure; undefined if unknown. */
function neededA(e: EvseDemand, now: number, voltageV: number): number | undefined {
  if (e.energyWantedWh === undefined || e.departureAt === undefined) return undefined;
  // A departure already past (or minutes away) counts as a quarter of an hour: urgent, not infinite.
  const hours = Math.max(0.25, (e.departureAt - now) / 3_600_000);
  return e.energyWantedWh / (hours * voltageV * e.phases);
}

/**
 * Weights for the optimizer's water-filling within a priority: a session's share grows with the current it needs to
 * be done by its departure (NotifyEVChargingNeeds), relative to the average need of the sessions that said theirs.
 * Equal current is not equal service: a 1-phase EV or one that leaves early needs more amperes for the same share of
 * what it asked for. Bounded to 1/4..4 so no session is starved by another's claim; sessions that said nothing weigh 1.
 */
export function needWeights(evses: EvseDemand[], now: number, voltageV: number): EvseDemand[] {
  const need = evses.map((e) => (e.controllable ? neededA(e, now, voltageV) : undefined));
  const known = need.filter((x): x is number => x !== undefined && x > 0);
  if (known.length < 2) return evses;
  const mean = known.reduce((a, b) => a + b, 0) / known.length;
  return evses.map((e, i) => {
    const n = need[i];
    if (n === undefined) return e;
    const w = Math.min(4, Math.max(0.25, n / mean));
    return { ...e, weight: Math.round(w * 100) / 100 };
  });
}

/** What the session planner may count on to refill a kept battery: the PV forecast less the site's own load now (the
 * PV measured less the PV beyond the site's load), the battery's room and charge power. None without a forecast, a PV
 * meter or the battery's capacity. */
function refillForecast(config: Config, battery: ReturnType<Measurements['battery']>, pvW: readonly PvForecastPoint[] | undefined, pvNowW: number | undefined, pvSurplusW: number | undefined): { refill?: BatteryRefillForecast } {
  const capacityWh = config.control.battery?.capacityWh;
  if (!pvW || pvW.length < 2 || !battery || !capacityWh || pvNowW === undefined || pvSurplusW === undefined || !(battery.maxChargeW > 0)) return {};
  return { refill: { roomWh: Math.max(0, ((100 - battery.socPct) / 100) * capacityWh), maxChargeW: battery.maxChargeW, pvW, baseW: Math.max(0, pvNowW - pvSurplusW) } };
}
