// Builds the optimizer's input from what the loop knows now: the node tree with limits and uncontrolled load
// (fail-safe applied), and one demand per EVSE with a transaction. Pure given its arguments.
import type { AllocationInput, EvseDemand, LimitNode, PhaseVector } from '../../algorithms/types.js';
import type { Config, StationConfig } from '../config/types.js';
import type { SiteLimit } from '../controller/site-limit.js';
import type { CsmsLimit } from './csms-profiles.js';
import type { EvseDispatchState } from './dispatcher.js';
import { ROOT_NODE, toSitePhases, type Measurements } from './measurements.js';
import { evseKey, type EvseSession } from './sessions.js';
import type { ControlSettings, NodeState } from './types.js';

export interface EvseHistory {
  limitA: number;
  phases: 1 | 3;
  pausedSince?: number;
  chargingSince?: number;
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

/** What an EVSE draws now (A per site phase), for subtracting from the meter above it. */
function drawOf(v: SessionView): PhaseVector {
  const m = v.session.measuredCurrentA;
  if (!m) return [0, 0, 0];
  const phases: 1 | 3 = v.station.phases === 1 ? 1 : (v.dispatch.appliedPhases ?? 3);
  // A controllable EVSE is credited at most its latest accepted limit. Its MeterValues come every few seconds: after a
  // decrease the last reading still shows the old current, and crediting it would make the base load look smaller
  // than it is (over-allocation). Crediting the lower value errs the safe way: while the station is still reacting,
  // its old draw counts as base load for a moment.
  const cap = v.fixedReason === undefined && v.dispatch.appliedLimitA !== undefined ? v.dispatch.appliedLimitA : Infinity;
  return toSitePhases(m.map((x) => Math.min(x, cap)), phases, v.station.rotation);
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
}): BuiltInput {
  const { now, config, settings, measurements, views, history } = args;
  const chain = nodeChain(config);
  const drawBelow = new Map<string, PhaseVector>();
  for (const v of views) {
    const d = drawOf(v);
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
      ...(config.control.importCeilingW !== undefined ? { importCeilingW: config.control.importCeilingW } : {}),
    },
  };
  return { input, nodes: nodeStates };
}

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
  if (s.chargingState === 'SuspendedEV' && (m === undefined || Math.max(...m) < 1)) maxA = Math.min(maxA, st.minA);
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
    priority: settings.priorities[st.id] ?? st.priority,
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
