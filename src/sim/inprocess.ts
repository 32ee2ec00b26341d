// In-process stations for the site score: the simulated stations talk to the control loop through the same
// RelayEvents streams and StationCaller interface the real relay provides, without sockets, on virtual time.
// A station's messages appear on calls$ (origin station) with a valid CSMS answer on results$; the controller's calls
// are answered by the station model at once (its reaction delay is in the model). A 1.6J station speaks through its
// face (faces.ts), answered by a 1.6 CSMS (csms-16.ts: integer transaction ids).
import { Subject, type SchedulerLike } from 'rxjs';
import type { Reading } from '../../drivers/types.js';
import type { ConnectionEvent, OcppCallEvent, OcppResultEvent, RelayEvents, StationCaller } from '../relay/events.js';
import { OcppCallError } from '../ocpp/errors.js';
import type { OcppProtocol } from '../ocpp/protocol.js';
import { silentLogger } from '../common/log.js';
import { Csms16Answers } from './csms-16.js';
import { createFace, protocolOf, type StationFace } from './faces.js';
import type { SimStation } from './physics/station.js';
import type { SiteSnapshot } from './site-sim.js';
import type { Scenario } from './scenario-types.js';

/** What a CSMS answers to a station's CALL (valid per the OCA schemas). */
export function csmsAnswer(action: string, payload: Record<string, unknown>, now: number): Record<string, unknown> {
  switch (action) {
    case 'BootNotification':
      return { currentTime: new Date(now).toISOString(), interval: 300, status: 'Accepted' };
    case 'Heartbeat':
      return { currentTime: new Date(now).toISOString() };
    case 'Authorize':
      return { idTokenInfo: { status: 'Accepted' } };
    case 'TransactionEvent':
      return payload.idToken ? { idTokenInfo: { status: 'Accepted' } } : {};
    case 'NotifyEVChargingNeeds':
      return { status: 'Accepted' };
    case 'DataTransfer':
      return { status: 'UnknownVendorId' };
    case 'SignCertificate':
      return { status: 'Accepted' };
    case 'GetCertificateStatus':
      return { status: 'Failed' };
    case 'Get15118EVCertificate':
      return { status: 'Failed', exiResponse: '' };
    case 'FirmwareStatusNotification':
    case 'StatusNotification':
    case 'MeterValues':
    case 'NotifyReport':
    case 'NotifyEvent':
    case 'SecurityEventNotification':
    case 'ReportChargingProfiles':
    case 'NotifyChargingLimit':
    case 'ClearedChargingLimit':
    case 'NotifyEVChargingSchedule':
    case 'LogStatusNotification':
    default:
      return {};
  }
}

let seq = 0;
const nextId = (): string => `sim-${(++seq).toString(36)}`;

export class InProcessRelay implements RelayEvents, StationCaller {
  readonly connections$ = new Subject<ConnectionEvent>();
  readonly calls$ = new Subject<OcppCallEvent>();
  readonly results$ = new Subject<OcppResultEvent>();
  private readonly stations = new Map<string, SimStation>();
  private readonly connected = new Set<string>();
  private readonly faces = new Map<string, StationFace>();
  private readonly answers16 = new Csms16Answers();
  /** Calls the controller made (for the score's report). */
  controllerCalls = 0;

  constructor(private readonly scheduler: SchedulerLike) {}

  attach(stations: Map<string, SimStation>): void {
    for (const [id, s] of stations) this.stations.set(id, s);
  }

  /** `{protocol}` for a station that does not speak 2.0.1 (events without one mean 2.0.1, as from the relay). */
  private tag(stationId: string): { protocol?: OcppProtocol } {
    const station = this.stations.get(stationId);
    return station && protocolOf(station) !== 'ocpp2.0.1' ? { protocol: protocolOf(station) } : {};
  }

  connect(stationId: string): void {
    this.connected.add(stationId);
    const at = this.scheduler.now();
    this.connections$.next({ stationId, side: 'station', up: true, at, ...this.tag(stationId) });
    this.connections$.next({ stationId, side: 'upstream', up: true, at, ...this.tag(stationId) });
  }

  /** The face of a station that does not speak the model's own dialect (2.0.1), created on first use. */
  private faceOf(stationId: string): StationFace | undefined {
    const station = this.stations.get(stationId);
    if (!station || protocolOf(station) === 'ocpp2.0.1') return undefined;
    let face = this.faces.get(stationId);
    if (!face) {
      face = createFace(station, (action, payload) => Promise.resolve(this.onStationCall(stationId, action, payload, true)), () => this.scheduler.now(), silentLogger);
      this.faces.set(stationId, face);
    }
    return face;
  }

  private onStationCall(stationId: string, action: string, payload: Record<string, unknown>, is16: boolean): Record<string, unknown> {
    const at = this.scheduler.now();
    const messageId = nextId();
    const tag = this.tag(stationId);
    this.calls$.next({ stationId, origin: 'station', messageId, action, payload, at, ...tag });
    const result = is16 ? this.answers16.answer(action, payload, at) : csmsAnswer(action, payload, at);
    this.results$.next({ stationId, origin: 'station', messageId, action, request: payload, result, at, ...tag });
    return result;
  }

  /** A station-initiated message: seen on calls$, answered by the (simulated) CSMS on results$. */
  readonly stationSend = (stationId: string, action: string, payload: Record<string, unknown>): void => {
    const face = this.faceOf(stationId);
    if (face) face.fromModel(action, payload);
    else this.onStationCall(stationId, action, payload, false);
  };

  call(stationId: string, action: string, payload: Record<string, unknown>): Promise<Record<string, unknown>> {
    const station = this.stations.get(stationId);
    if (!station || !this.connected.has(stationId)) return Promise.reject(new Error(`station ${stationId} is not connected`));
    this.controllerCalls++;
    const at = this.scheduler.now();
    const messageId = nextId();
    const tag = this.tag(stationId);
    this.calls$.next({ stationId, origin: 'controller', messageId, action, payload, at, ...tag });
    try {
      const face = this.faceOf(stationId);
      const result = face ? face.handle(action, payload, at) : station.handle(action, payload, at);
      this.results$.next({ stationId, origin: 'controller', messageId, action, request: payload, result, at, ...tag });
      return Promise.resolve(result);
    } catch (err) {
      const e = err instanceof OcppCallError ? err : new OcppCallError('InternalError', err instanceof Error ? err.message : String(err));
      this.results$.next({ stationId, origin: 'controller', messageId, action, request: payload, error: { code: e.code, description: e.description }, at, ...tag });
      return Promise.reject(e);
    }
  }

  connectedStations(): string[] {
    return [...this.connected];
  }

  complete(): void {
    this.connections$.complete();
    this.calls$.complete();
    this.results$.complete();
  }
}

/** Meter ids the simulated site's devices use in the generated config. */
export const SIM_METER_IDS = { grid: 'sim-grid', pv: 'sim-pv', battery: 'sim-battery', sub: (circuit: string) => `sim-${circuit}` };

/** The readings the site's meters give for a snapshot (grid, each sub-board, PV, battery). */
export function snapshotReadings(s: Scenario, snap: SiteSnapshot): Reading[] {
  const V = s.site.voltage;
  const out: Reading[] = [];
  for (const n of snap.nodes) {
    const a = n.currentA;
    const values: Reading['values'] = {
      phaseCurrentsA: [a[0], a[1], a[2]],
      phaseVoltagesV: [V, V, V],
      phasePowersW: [a[0] * V, a[1] * V, a[2] * V],
      activePowerW: (a[0] + a[1] + a[2]) * V,
    };
    if (n.id === 'grid') {
      values.importEnergyWh = snap.importWh;
      values.exportEnergyWh = snap.exportWh;
    }
    out.push({ deviceId: n.id === 'grid' ? SIM_METER_IDS.grid : SIM_METER_IDS.sub(n.id), at: snap.at, quality: 'good', values });
  }
  if (s.pv) out.push({ deviceId: SIM_METER_IDS.pv, at: snap.at, quality: 'good', values: { pvPowerW: snap.pvW } });
  if (s.battery && snap.batterySoc !== undefined) {
    out.push({
      deviceId: SIM_METER_IDS.battery,
      at: snap.at,
      quality: 'good',
      values: { batterySocPct: snap.batterySoc * 100, batteryPowerW: snap.batteryW, batteryMaxChargeW: s.battery.maxW, batteryMaxDischargeW: s.battery.maxW },
    });
  }
  return out;
}
