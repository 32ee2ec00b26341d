// The site as the page sees it: folds the other stages' streams (readings, control state, site limit, connections)
// into one snapshot. GET /api/state returns it, the live stream (SSE) pushes it on change, the history recorder and
// /metrics sample it.
import { Subject, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import type { PhaseVector } from '../../algorithms/types.js';
import type { Quality, Reading } from '../../drivers/types.js';
import type { Config } from '../config/types.js';
import type { ControlState, EvseState, SessionNeeds, StationControlState } from '../control/types.js';
import type { LimitSourceKind, SiteLimit } from '../controller/site-limit.js';
import { DEFAULT_PROTOCOL, type OcppProtocol } from '../ocpp/protocol.js';
import type { HistorySample } from '../store/history.js';
import type { WebPorts } from './ports.js';
import { ownValue, stationRecord } from '../common/ids.js';

export interface EvseView {
  id: number;
  status: string | null;
  transactionId: string | null;
  limitA: number | null;
  measuredCurrentA: number[] | null;
  controllable: boolean;
  reason: string | null;
  limitedBy: string | null;
  controllableReason: string | null;
  appliedLimitA: number | null;
  csmsLimitA: number | null;
  measuredPowerW: number | null;
  energyWh: number | null;
  phases: number | null;
  /** What the session needs (said by the EV or entered on the page); null when nobody said. */
  needs: SessionNeeds | null;
}

export interface StationView {
  id: string;
  /** The OCPP version it speaks (the last it connected with; 'ocpp2.0.1' before it ever connected). */
  protocol: OcppProtocol;
  /** Connected to the controller. */
  connected: boolean;
  /** Its upstream socket to the CSMS is up. */
  upstreamConnected: boolean;
  known: boolean;
  circuit: string | null;
  priority: number;
  mode: string | null;
  queueLength: number;
  powerW: number;
  /** Its clock minus the controller's (s), measured from its own timestamps; null until it stamped a message. */
  clockOffsetS: number | null;
  evses: EvseView[];
  /** How the controller limits it: what it supports, the fallbacks it needed, how fast it follows (null before the
   * loop has dealt with it). */
  control: StationControlView | null;
}

export interface StationControlView {
  /** Where the capabilities came from: the station, or config (it did not say). */
  source: 'station' | 'config';
  smartCharging: boolean | null;
  rateUnits: string[];
  maxStackLevel: number | null;
  periodsPerSchedule: number | null;
  maxProfiles: number | null;
  connectors: number | null;
  phaseSwitching: boolean;
  phaseRotation: string | null;
  meter: { sampledData: string | null; intervalS: number | null; phaseResolved: boolean; note: string | null } | null;
  /** Quirks in force: config's and learned. */
  quirks: string[];
  /** Quirks it was seen to need (a fallback the controller found). */
  learned: string[];
  reactionMs: number | null;
  /** Why the whole station is a fixed load, when it is. */
  fixedReason: string | null;
}

export interface AlarmView {
  kind: 'meter-stale' | 'meter-bad' | 'overload' | 'fail-safe' | 'not-controllable' | 'csms-offline' | 'csms-refused' | 'station-clock'
    | 'implausible-report';
  severity: 'warning' | 'critical';
  target: string;
  message: string;
}

export interface MeterView { id: string; role: string; quality: Quality | 'none'; reason: string | null; at: number | null }

export interface WebState {
  at: number;
  site: {
    limitA: PhaseVector;
    gridCurrentA: PhaseVector | null;
    gridPowerW: number | null;
    pvPowerW: number | null;
    batteryPowerW: number | null;
    batterySoc: number | null;
    /** The battery kept for the EVs (control.battery.reserveForEvs): the discharge limit set now (W; null: released). */
    batteryReserve?: { dischargeLimitW: number | null };
    /** The PV forecast pushed in (PUT /api/forecast/pv): up to when it reaches (epoch ms) and who set it; null: none. */
    pvForecast?: { to: number; setBy: string } | null;
    measuredAt: number | null;
    quality: Quality | 'none';
    fuseA: PhaseVector;
    voltage: number;
    limitSource: { kind: LimitSourceKind; id: string };
    limitSources: { kind: LimitSourceKind; id: string; limitA: PhaseVector }[];
    chargingPowerW: number;
  };
  nodes: { id: string; limitA: PhaseVector; currentA: PhaseVector; failSafe: boolean; fuseA: PhaseVector | null }[];
  meters: MeterView[];
  stations: StationView[];
  csms: { connected: boolean | null; queued: number; refused: { stationId: string; action: string; messageId: string; error: string; failedAt: number }[] };
  alarms: AlarmView[];
}

interface ConnState { station: boolean; upstream: boolean }

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

const ROLE_NAMES: Record<string, string> = { grid: 'Grid meter', pv: 'PV inverter', battery: 'Battery', sub: 'Sub-meter' };
const CONNECTION_FAILURE = /ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ECONNRESET|cannot connect|timed? ?out|not connected/i;

/** Socket error codes in words; the rest of the driver's reason is kept as it is. */
function plainReason(reason: string): string {
  return reason
    .replace(/connect ECONNREFUSED \S+/g, 'connection refused')
    .replace(/(connect )?ETIMEDOUT( \S+)?/g, 'timed out')
    .replace(/(connect )?EHOSTUNREACH( \S+)?/g, 'host unreachable')
    .replace(/(read )?ECONNRESET/g, 'connection reset');
}

/** "6 A per phase" or "6 / 8 / 6 A". */
function phaseText(limitA: readonly number[]): string {
  const r = limitA.map((v) => Math.round(v * 10) / 10);
  return r.every((v) => v === r[0]) ? `${r[0]} A per phase` : `${r.join(' / ')} A`;
}
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export interface SiteView {
  snapshot(): WebState;
  /** Fires whenever an input changed. */
  readonly changed$: Observable<void>;
  historySample(): HistorySample;
  stop(): void;
}

export function createSiteView(
  config: Config,
  ports: WebPorts,
  scheduler: SchedulerLike,
  settings: () => { priorities: Record<string, number>; modes: Record<string, string> },
  onError: (stream: string, err: unknown) => void = () => {},
): SiteView {
  const started = scheduler.now();
  const readings = new Map<string, Reading>();
  const lastGood = new Map<string, Reading>();
  const conns = new Map<string, ConnState>();
  const protocols = new Map<string, OcppProtocol>();
  const configured = new Set(config.stations.list.map((s) => s.id));
  let control: ControlState | undefined;
  let siteLimit: SiteLimit | undefined;
  const changed = new Subject<void>();
  const subs: Subscription[] = [];
  const fire = () => changed.next();
  const roles = new Map(config.meters.map((m) => [m.id, m] as const));

  // A producer's stream that errors must not take the process down (rxjs would rethrow it): the page logs it and
  // keeps showing the last values, which the alarms and qualities then mark as old.
  const error = (stream: string) => (err: unknown) => onError(stream, err);
  subs.push(ports.readings$.subscribe({
    next: (r) => {
      readings.set(r.deviceId, r);
      if (r.quality === 'good') lastGood.set(r.deviceId, r);
      fire();
    },
    error: error('readings$'),
  }));
  subs.push(ports.controlState$.subscribe({ next: (s) => { control = s; fire(); }, error: error('controlState$') }));
  subs.push(ports.siteLimit$.subscribe({ next: (l) => { siteLimit = l; fire(); }, error: error('siteLimit$') }));
  let csmsUp: boolean | undefined;
  let forecast: { to: number; setBy: string } | null = null;
  if (ports.pvForecast$) {
    subs.push(ports.pvForecast$.subscribe({
      next: (f) => { forecast = f && f.points.length ? { to: f.points[f.points.length - 1].at, setBy: f.setBy } : null; fire(); },
      error: error('pvForecast$'),
    }));
  }
  if (ports.csmsConnected$) subs.push(ports.csmsConnected$.subscribe({ next: (up) => { csmsUp = up; fire(); }, error: error('csmsConnected$') }));
  subs.push(ports.connections$.subscribe({
    next: (e) => {
      const c = conns.get(e.stationId) ?? { station: false, upstream: false };
      c[e.side] = e.up;
      if (e.side === 'station' && e.protocol) protocols.set(e.stationId, e.protocol);
      // Only stations connected now (or configured) are kept: an id that came and went leaves nothing behind here.
      if (!c.station && !c.upstream) {
        conns.delete(e.stationId);
        if (!configured.has(e.stationId)) protocols.delete(e.stationId);
      } else conns.set(e.stationId, c);
      fire();
    },
    error: error('connections$'),
  }));

  /** The latest good value of a field over meters of a role (summed when several). */
  const byRole = (role: string, pick: (r: Reading) => number | undefined): { value: number | null; at: number | null } => {
    let value: number | null = null;
    let at: number | null = null;
    for (const m of config.meters) {
      if (m.role !== role) continue;
      const r = lastGood.get(m.id);
      const v = r ? pick(r) : undefined;
      if (r && finite(v)) {
        value = (value ?? 0) + v;
        at = Math.max(at ?? 0, r.at);
      }
    }
    return { value, at };
  };

  const evsePowerW = (e: EvseState): number => {
    if (finite(e.measuredPowerW)) return e.measuredPowerW;
    if (e.measuredCurrentA?.length) return sum(e.measuredCurrentA.filter(finite)) * config.site.voltage;
    return 0;
  };

  const snapshot = (): WebState => {
    const now = scheduler.now();
    // Grid: the grid meter's last good per-phase currents; quality says whether they are current.
    const gridMeters = config.meters.filter((m) => m.role === 'grid');
    let gridCurrentA: PhaseVector | null = null;
    let gridPowerW: number | null = null;
    let measuredAt: number | null = null;
    let quality: Quality | 'none' = gridMeters.length ? 'none' : 'none';
    for (const m of gridMeters) {
      const latest = readings.get(m.id);
      const good = lastGood.get(m.id);
      if (latest) quality = quality === 'none' || quality === 'good' ? latest.quality : quality;
      if (good) {
        const v = good.values;
        if (v.phaseCurrentsA) gridCurrentA = [...v.phaseCurrentsA] as PhaseVector;
        if (finite(v.activePowerW)) gridPowerW = v.activePowerW;
        else if (v.phasePowersW) gridPowerW = sum(v.phasePowersW);
        measuredAt = good.at;
      }
    }
    const root = control?.nodes.find((n) => !config.site.circuits.some((c) => c.id === n.id));
    if (!gridCurrentA && root) gridCurrentA = [...root.currentA] as PhaseVector;
    const pv = byRole('pv', (r) => r.values.pvPowerW ?? r.values.activePowerW);
    const battery = byRole('battery', (r) => r.values.batteryPowerW);
    const soc = byRole('battery', (r) => r.values.batterySocPct);

    const evses = control?.evses ?? [];
    const cfgStations = new Map(config.stations.list.map((s) => [s.id, s] as const));
    const connectedNow = ports.connectedStations ? new Set(ports.connectedStations()) : undefined;
    const connState = (id: string): ConnState => {
      const c = conns.get(id) ?? { station: false, upstream: false };
      return {
        station: connectedNow ? connectedNow.has(id) : c.station,
        upstream: ports.upstreamConnected ? ports.upstreamConnected(id) : c.upstream,
      };
    };
    const ids = new Set<string>([...cfgStations.keys(), ...conns.keys(), ...(connectedNow ?? []), ...evses.map((e) => e.stationId)]);
    const queues = ports.queueLengths?.() ?? {};
    const set = settings();
    const controlOf = new Map((control?.stations ?? []).map((x) => [x.id, x] as const));
    const stations: StationView[] = [...ids].sort().map((id) => {
      const cfg = cfgStations.get(id);
      const c = connState(id);
      const own = evses.filter((e) => e.stationId === id).sort((a, b) => a.evseId - b.evseId);
      const evseViews: EvseView[] = own.length
        ? own.map((e) => ({
            id: e.evseId, status: e.status ?? null, transactionId: e.transactionId ?? null, limitA: e.limitA ?? null,
            measuredCurrentA: e.measuredCurrentA ?? null, controllable: e.controllable, reason: e.reason ?? null,
            limitedBy: e.limitedBy ?? null, controllableReason: e.controllableReason ?? null,
            appliedLimitA: e.appliedLimitA ?? null, csmsLimitA: e.csmsLimitA ?? null,
            measuredPowerW: finite(e.measuredPowerW) ? e.measuredPowerW : (e.measuredCurrentA ? evsePowerW(e) : null),
            energyWh: e.energyWh ?? null, phases: e.phases ?? null, needs: e.needs ?? null,
          }))
        : Array.from({ length: cfg?.evses ?? 0 }, (_, i) => ({
            id: i + 1, status: null, transactionId: null, limitA: null, measuredCurrentA: null, controllable: false,
            reason: null, limitedBy: null, controllableReason: c.station ? null : 'not connected', appliedLimitA: null,
            csmsLimitA: null, measuredPowerW: null, energyWh: null, phases: null, needs: null,
          }));
      return {
        id, protocol: protocols.get(id) ?? DEFAULT_PROTOCOL, connected: c.station, upstreamConnected: c.upstream, known: cfg !== undefined, circuit: cfg?.circuit ?? null,
        priority: ownValue(set.priorities, id) ?? cfg?.priority ?? 0, mode: ownValue(set.modes, id) ?? null, queueLength: ownValue(queues, id) ?? 0,
        powerW: Math.round(sum(own.map(evsePowerW))), clockOffsetS: (control?.clockOffsetsS ? ownValue(control.clockOffsetsS, id) : undefined) ?? null, evses: evseViews, control: controlView(controlOf.get(id)),
      };
    });

    const alarms: AlarmView[] = [];
    const meters: MeterView[] = config.meters.map((m) => {
      const r = readings.get(m.id);
      const name = `${ROLE_NAMES[m.role] ?? 'Meter'} "${m.id}"`;
      const why = r?.reason ? `: ${plainReason(r.reason)}` : '';
      if (!r && now - started > m.staleMs) {
        alarms.push({ kind: 'meter-stale', severity: 'critical', target: m.id, message: `${name} has not answered since the controller started` });
      } else if (r?.quality === 'stale') {
        alarms.push({ kind: 'meter-stale', severity: 'critical', target: m.id, message: `${name} is not answering${why}` });
      } else if (r?.quality === 'bad') {
        // A driver reports an unreachable device as bad; say which of the two the manager should look at.
        const unreachable = r.reason !== undefined && CONNECTION_FAILURE.test(r.reason);
        const at = unreachable ? /^cannot connect to (\S+): (.+)$/.exec(plainReason(r.reason!)) : null;
        alarms.push({ kind: 'meter-bad', severity: 'critical', target: m.id,
          message: at ? `${name} cannot be reached at ${at[1]} (${at[2]})` : `${name} ${unreachable ? 'cannot be reached' : 'gives unusable values'}${why}` });
      }
      return { id: m.id, role: m.role, quality: r?.quality ?? 'none', reason: r?.reason ?? null, at: r?.at ?? null };
    });
    // The load left with every controllable EVSE paused includes chargers the controller cannot limit: saying "with
    // all chargers paused" then would be false (they are drawing), so name what the load is.
    const uncontrolled = (control?.evses ?? []).some((e) => !e.controllable && e.transactionId !== undefined);
    for (const a of control?.alarms ?? []) {
      const what = a.phase < 0 ? 'power limit' : `L${a.phase + 1}`;
      const unit = a.phase < 0 ? 'W' : 'A';
      const load = uncontrolled
        ? `${Math.round(a.loadWithAllPaused)} ${unit} of other load and chargers the controller cannot limit, with every controllable charger paused`
        : `${Math.round(a.loadWithAllPaused)} ${unit} with all chargers paused`;
      alarms.push({ kind: 'overload', severity: 'critical', target: a.nodeId, message: `Overload on ${a.nodeId} ${what}: ${load}, limit ${Math.round(a.limit)} ${unit}` });
    }
    for (const n of control?.nodes ?? []) {
      if (n.failSafe) {
        const where = config.site.circuits.some((c) => c.id === n.id) ? `Circuit ${n.id}` : 'The site';
        alarms.push({ kind: 'fail-safe', severity: 'warning', target: n.id,
          message: `${where} charges on its safe limit (${phaseText(n.limitA)}) until its meter answers again` });
      }
    }
    for (const s of stations) {
      if (!s.connected) continue;
      for (const e of s.evses) {
        if (!e.controllable && (control?.evses.some((x) => x.stationId === s.id && x.evseId === e.id) ?? false)) {
          alarms.push({ kind: 'not-controllable', severity: 'warning', target: `${s.id}/${e.id}`,
            message: `${s.id} EVSE ${e.id} is not controllable${e.controllableReason ? `: ${e.controllableReason}` : ''}` });
        }
      }
    }
    const clockAlarmS = config.control.clockOffsetAlarmS ?? 60;
    for (const s of stations) {
      if (s.clockOffsetS === null || Math.abs(s.clockOffsetS) <= clockAlarmS) continue;
      alarms.push({ kind: 'station-clock', severity: 'warning', target: s.id,
        message: `${s.id}'s clock is ${durationText(Math.abs(s.clockOffsetS))} ${s.clockOffsetS > 0 ? 'ahead of' : 'behind'} the controller's: its limits are sent on its clock; set its time (NTP, or from the CSMS)` });
    }
    for (const r of control?.implausible ?? []) {
      alarms.push({ kind: 'implausible-report', severity: 'warning', target: r.stationId,
        message: `${r.stationId} EVSE ${r.evseId}: ${r.reason}; not believed (bounded by its configured maxA / EVSEs / phases)` });
    }
    const queued = sum(Object.values(queues));
    const own = config.controller.identity ? csmsUp : undefined;
    const upstreamDown = stations.filter((s) => s.connected && !s.upstreamConnected).map((s) => s.id);
    const csmsConnected = own ?? (stations.some((s) => s.connected) ? upstreamDown.length === 0 : null);
    if (csmsConnected === false || upstreamDown.length) {
      // Stations keep charging while the CSMS is away (the relay answers and queues); say what waits for it.
      const waiting = queued ? `${queued} message${queued === 1 ? '' : 's'} queued` : 'nothing queued';
      alarms.push({ kind: 'csms-offline', severity: 'warning', target: 'csms',
        message: upstreamDown.length ? `CSMS unreachable for ${upstreamDown.join(', ')}: ${waiting}` : `The controller cannot reach the CSMS: ${waiting}` });
    }

    // Messages the CSMS refused on every replay attempt: kept, never silently consumed — the operator must know.
    const refused = ports.refusedMessages?.() ?? [];
    if (refused.length) {
      const ids = [...new Set(refused.map((m) => m.stationId))].join(', ');
      alarms.push({ kind: 'csms-refused', severity: 'warning', target: 'csms',
        message: `The CSMS refused ${refused.length === 20 ? '20 or more' : refused.length} queued message${refused.length === 1 ? '' : 's'} on every attempt (${ids}); kept aside, not delivered` });
    }

    const fuse = config.site.limitA;
    const limit = siteLimit?.limitA ?? fuse;
    const nodes = (control?.nodes ?? []).map((n) => ({
      id: n.id, limitA: n.limitA, currentA: n.currentA, failSafe: n.failSafe,
      fuseA: config.site.circuits.find((c) => c.id === n.id)?.limitA ?? (n === root ? fuse : null),
    }));
    return {
      at: now,
      site: {
        limitA: [...limit] as PhaseVector, gridCurrentA, gridPowerW, pvPowerW: pv.value, batteryPowerW: battery.value,
        batterySoc: soc.value, ...(control?.battery ? { batteryReserve: { dischargeLimitW: control.battery.dischargeLimitW ?? null } } : {}),
        ...(ports.pvForecast$ ? { pvForecast: forecast } : {}),
        measuredAt, quality, fuseA: fuse, voltage: config.site.voltage,
        limitSource: siteLimit ? { kind: siteLimit.binding.kind, id: siteLimit.binding.id } : { kind: 'fuse', id: 'site.limitA' },
        limitSources: (siteLimit?.sources ?? []).map((s) => ({ kind: s.kind, id: s.id, limitA: s.limitA })),
        chargingPowerW: Math.round(sum(stations.map((s) => s.powerW))),
      },
      nodes, meters, stations, csms: { connected: csmsConnected, queued, refused }, alarms,
    };
  };

  return {
    snapshot,
    changed$: changed.asObservable(),
    historySample() {
      const s = snapshot();
      const stationsW: Record<string, number> = stationRecord();
      for (const st of s.stations) if (st.connected || st.powerW) stationsW[st.id] = st.powerW;
      return {
        at: s.at, gridCurrentA: s.site.quality === 'good' ? s.site.gridCurrentA : null, limitA: s.site.limitA,
        gridPowerW: s.site.quality === 'good' ? s.site.gridPowerW : null, pvPowerW: s.site.pvPowerW,
        batteryPowerW: s.site.batteryPowerW, batterySoc: s.site.batterySoc, chargingPowerW: s.site.chargingPowerW, stations: stationsW,
      };
    },
    stop() {
      for (const s of subs) s.unsubscribe();
      changed.complete();
    },
  };
}

/** A clock offset for people: 45 s, 10 min, 2.5 h. */
function durationText(s: number): string {
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 360) / 10} h`;
}

function controlView(x: StationControlState | undefined): StationControlView | null {
  if (!x) return null;
  const c = x.capabilities;
  return {
    source: c.source, smartCharging: c.smartCharging ?? null, rateUnits: [...c.rateUnits], maxStackLevel: c.maxStackLevel ?? null,
    periodsPerSchedule: c.periodsPerSchedule ?? null, maxProfiles: c.maxProfiles ?? null, connectors: c.connectors ?? null,
    phaseSwitching: c.phaseSwitching, phaseRotation: c.phaseRotation ?? null,
    meter: c.meter ? { sampledData: c.meter.sampledData ?? null, intervalS: c.meter.intervalS ?? null, phaseResolved: c.meter.phaseResolved, note: c.meter.note ?? null } : null,
    quirks: [...(c.quirks ?? [])], learned: [...x.learned], reactionMs: x.reactionMs ?? null, fixedReason: x.fixedReason ?? null,
  };
}
