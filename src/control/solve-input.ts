// Builds the optimizer's input from what the loop knows now: the node tree with limits and uncontrolled load
// (fail-safe applied), and one demand per EVSE with a transaction. Pure given its arguments.
import type { AllocationInput, EvseDemand, LimitNode, PhaseVector, TariffWindow } from '../../algorithms/types.js';
import type { Config, StationConfig } from '../config/types.js';
import type { SiteLimit } from '../controller/site-limit.js';
import type { CsmsLimit } from './csms-profiles.js';
import type { EvseDispatchState, LimitChange } from './dispatcher.js';
import { ROOT_NODE, toSitePhases, type Measurements } from './measurements.js';
import { evseKey, type EvseSession } from './sessions.js';
import type { ControlSettings, NodeState } from './types.js';

export interface EvseHistory {
  limitA: number;
  phases: 1 | 3;
  pausedSince?: number;
  chargingSince?: number;
  /**
   * The EV was offered current and did not take it (SuspendedEV, drawing nothing: full, or waiting for its own
   * timer). It keeps only its minimum, served after everyone who is charging, until it draws again.
   */
  evIdle?: boolean;
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

export function defaultSettings(config: Config): ControlSettings {
  const priorities: ControlSettings['priorities'] = {};
  const modes: ControlSettings['modes'] = {};
  for (const s of config.stations.list) {
    priorities[s.id] = s.priority;
    if (s.mode) modes[s.id] = s.mode;
  }
  return { circuitLimitsA: {}, priorities, modes, siteMode: config.control.mode, safeLimitA: config.control.safeLimitA };
}

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
 * How long a station takes to apply a new limit, as the loop assumes when it reads the meters (stations react in
 * 1-10 s; the simulated ones in 5 s). Within this time after a change either limit may be in force, and the EVSE is
 * credited the lower of the two (see drawOf).
 */
export const STATION_SETTLE_MS = 5_000;

/** The limits that may be in force at time `t`: the last accepted before t - settle, and any accepted since. */
function limitsInForce(changes: readonly LimitChange[], t: number, initialA: number): number {
  let lo = Infinity;
  let before = initialA;
  for (const c of changes) {
    if (c.at <= t - STATION_SETTLE_MS) before = c.limitA;
    else if (c.at <= t) lo = Math.min(lo, c.limitA);
  }
  return Math.min(lo, before);
}

/**
 * What an EVSE draws now (A per site phase), for subtracting from the meter above it. The meter is read every
 * second, the EVSE's MeterValues every few seconds: using its last sample as it is would take every change since for
 * base load (after a rise the meter already carries the new current, the sample still shows the old one), make the
 * others' limits drop, and the next sample raise them again (oscillation, profiles rewritten for nothing).
 * So a controllable EVSE is credited the limit in force now (the lower one while the station may still be
 * reacting: after a decrease the new one at once, after a rise the old one until STATION_SETTLE_MS has passed), unless
 * its last sample shows the EV drawing below the limit then in force (full, tapering, its own maximum): then the
 * sample, never above the limit. Crediting the limit of an EV that has just started drawing less than it errs toward
 * more room for the others until its next sample; the error is what that EV leaves unused, while its own limit holds.
 */
function drawOf(v: SessionView, now: number, defaultTxLimitA: number): PhaseVector {
  const m = v.session.measuredCurrentA;
  if (!m) return [0, 0, 0];
  const phases: 1 | 3 = v.station.phases === 1 ? 1 : (v.dispatch.appliedPhases ?? 3);
  const d = v.dispatch;
  if (v.fixedReason !== undefined || d.appliedLimitA === undefined || !d.appliedChanges) return toSitePhases(m, phases, v.station.rotation);
  const inForce = Math.min(d.appliedLimitA, limitsInForce(d.appliedChanges, now, defaultTxLimitA));
  const sampledUnder = limitsInForce(d.appliedChanges, v.session.measuredAt ?? -Infinity, defaultTxLimitA);
  const evLimited = Math.max(...m) < sampledUnder - 1;
  return toSitePhases(m.map((x) => (x <= 0.5 ? 0 : evLimited ? Math.min(x, inForce) : inForce)), phases, v.station.rotation);
}

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
  /** Share (0..1) of the measured export through a node that EVSEs may use on top of its limit. */
  exportCreditFraction: number;
  /** Tariff windows ahead (absolute), from control.tariff. */
  tariff?: TariffWindow[];
}): BuiltInput {
  const { now, config, settings, measurements, views, history } = args;
  const chain = nodeChain(config);
  const drawBelow = new Map<string, PhaseVector>();
  for (const v of views) {
    const d = drawOf(v, now, config.control.defaultTxLimitA);
    for (const n of chain(v.station.circuit ?? ROOT_NODE)) {
      const acc = drawBelow.get(n) ?? [0, 0, 0];
      drawBelow.set(n, [acc[0] + d[0], acc[1] + d[1], acc[2] + d[2]]);
    }
  }
  const limitNodes: LimitNode[] = [];
  const nodeStates: NodeState[] = [];
  const addNode = (id: string, parentId: string | undefined, limitA: PhaseVector, limitW: number | undefined) => {
    const m = measurements.nodeMeasurement(id);
    const draw = drawBelow.get(id) ?? [0, 0, 0];
    let uncontrolled: PhaseVector = [0, 0, 0];
    let limit = limitA;
    if (m?.failSafe) {
      // Unsure of the load: the EVSEs below share the safe limit, nothing more.
      limit = vmin(limitA, settings.safeLimitA);
    } else if (m?.meterA) {
      const net = m.meterA.map((a, i) => a - draw[i]);
      uncontrolled = net.map((x) => Math.max(0, x)) as PhaseVector;
      // Export through the node (PV, battery) is current the EVSEs may use on top of the fuse, because the fuse carries
      // the net current. Credited only as far as `exportCreditFraction` says (default none): if the PV drops, that
      // part of the load stays on the fuse until the stations react.
      if (args.exportCreditFraction > 0) {
        limit = limit.map((l, i) => l + Math.min(l, Math.max(0, -net[i]) * args.exportCreditFraction)) as PhaseVector;
      }
    }
    limitNodes.push({ id, ...(parentId !== undefined ? { parentId } : {}), limitA: limit, ...(limitW !== undefined ? { limitW } : {}), uncontrolledA: uncontrolled });
    nodeStates.push({ id, limitA: limitA, currentA: m?.meterA ?? draw, failSafe: m?.failSafe ?? false, ...(m?.failSafe ? { failSafeReason: m.reason, limitA: limit } : {}) });
  };
  addNode(ROOT_NODE, undefined, vmin(args.siteLimit?.limitA ?? config.site.limitA, config.site.limitA), args.siteLimit?.limitW ?? config.site.limitW);
  for (const c of config.site.circuits) {
    const override = settings.circuitLimitsA[c.id];
    addNode(c.id, c.parent ?? ROOT_NODE, override ? vmin(c.limitA, override) : c.limitA, c.limitW);
  }

  const evses: EvseDemand[] = views.map((v) => demandOf(v, now, settings, history.get(evseKey(v.session.stationId, v.session.evseId))));
  const grid = measurements.gridPowerW();
  const pv = measurements.pv();
  const battery = measurements.battery(config.control.battery?.minSocPct ?? 20);
  const input: AllocationInput = {
    now,
    voltageV: config.site.voltage,
    nodes: limitNodes,
    evses,
    ...(pv ? { pv } : {}),
    ...(battery ? { battery } : {}),
    ...(grid !== undefined ? { grid: { powerW: grid } } : {}),
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
  if (idle || (s.chargingState === 'SuspendedEV' && (m === undefined || Math.max(...m) < 1))) maxA = Math.min(maxA, st.minA);
  const minA = Math.min(Math.max(st.minA, s.evMinCurrentA ?? 0), maxA);
  const delivered = s.energyRegisterWh !== undefined && s.energyAtStartWh !== undefined ? Math.max(0, s.energyRegisterWh - s.energyAtStartWh) : 0;
  const sinceNeeds = s.energyRegisterWh !== undefined && s.energyAtNeedsWh !== undefined ? Math.max(0, s.energyRegisterWh - s.energyAtNeedsWh) : 0;
  const mode = settings.modes[st.id] ?? st.mode;
  return {
    id: evseKey(s.stationId, s.evseId),
    nodeId: st.circuit ?? ROOT_NODE,
    phases,
    rotation: st.rotation,
    minA,
    maxA,
    canSwitchPhases: v.canSwitchPhases,
    priority: idle ? IDLE_PRIORITY : settings.priorities[st.id] ?? st.priority,
    ...(s.energyAmountWh !== undefined ? { energyWantedWh: Math.max(0, s.energyAmountWh - sinceNeeds) } : {}),
    ...(s.departureAt !== undefined ? { departureAt: s.departureAt } : {}),
    energyDeliveredWh: delivered,
    controllable: v.fixedReason === undefined,
    ...(s.measuredCurrentA ? { measuredA: toSitePhases(s.measuredCurrentA, phases, st.rotation) } : {}),
    previousA: h?.limitA ?? 0,
    previousPhases: h?.phases ?? phases,
    pausedForMs: h?.pausedSince !== undefined ? now - h.pausedSince : 0,
    chargingForMs: h?.chargingSince !== undefined ? now - h.chargingSince : 0,
    ...(mode ? { mode } : {}),
  };
}
