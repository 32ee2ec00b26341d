// Test-side stand-ins for the first layer of control tests: a virtual clock, relay events from Subjects, and a
// StationCaller that records the controller's calls and answers them like a station would.
import { BehaviorSubject, Subject, VirtualTimeScheduler } from 'rxjs';
import type { PhaseVector } from '../../algorithms/types.js';
import type { Reading } from '../../drivers/types.js';
import { silentLogger } from '../../src/common/log.js';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import type { SiteLimit } from '../../src/controller/site-limit.js';
import { createControlLoop } from '../../src/control/loop.js';
import { createStations } from '../../src/stations/stations.js';
import type { ControlInputs, ControlLoop, ControlSettings } from '../../src/control/types.js';
import {
  OcppCallError,
  type ConnectionEvent,
  type OcppCallEvent,
  type OcppResultEvent,
  type RelayEvents,
  type StationCaller,
} from '../../src/relay/events.js';

export function makeConfig(extra: Record<string, unknown> = {}, control: Record<string, unknown> = {}): Config {
  const raw = {
    stations: { listen: { port: 0 }, allowUnknown: true, list: [] },
    upstream: { url: 'ws://127.0.0.1:1/ocpp' },
    site: { limitA: [32, 32, 32] },
    ...extra,
    control: { loopMs: 1000, rampAPerS: 100, hysteresisA: 1, profileValidityS: 60, marginA: 0, ...control },
  };
  return parseConfig(raw);
}

/** A virtual clock stepping in small increments, letting promise callbacks run between steps. */
export class Clock {
  readonly scheduler = new VirtualTimeScheduler();
  constructor(start = 1_700_000_000_000) {
    this.scheduler.frame = start;
    this.scheduler.maxFrames = start;
  }
  now(): number {
    return this.scheduler.now();
  }
  async settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  }
  async advance(ms: number, stepMs = 50): Promise<void> {
    const target = this.scheduler.frame + ms;
    await this.settle();
    while (this.scheduler.frame < target) {
      const next = Math.min(target, this.scheduler.frame + stepMs);
      this.scheduler.maxFrames = next;
      this.scheduler.flush();
      this.scheduler.frame = next;
      await this.settle();
    }
  }
}

export interface RecordedCall {
  stationId: string;
  action: string;
  payload: Record<string, unknown>;
  at: number;
}

type Answer = (call: RecordedCall) => Record<string, unknown> | Promise<Record<string, unknown>>;

/** Relay events from Subjects plus a recording caller; station behaviour per station via `answer`. */
export class FakeRelay implements StationCaller {
  readonly connections$ = new Subject<ConnectionEvent>();
  readonly calls$ = new Subject<OcppCallEvent>();
  readonly results$ = new Subject<OcppResultEvent>();
  readonly calls: RecordedCall[] = [];
  readonly connected = new Set<string>();
  readonly answers = new Map<string, Answer>();
  private seq = 0;

  constructor(private readonly clock: Clock) {}

  events(): RelayEvents {
    return { connections$: this.connections$, calls$: this.calls$, results$: this.results$ };
  }

  connectedStations(): string[] {
    return [...this.connected];
  }

  async call(stationId: string, action: string, payload: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (!this.connected.has(stationId)) throw new Error('station not connected');
    const c = { stationId, action, payload, at: this.clock.now() };
    this.calls.push(c);
    const custom = this.answers.get(stationId);
    if (custom) return custom(c);
    if (action === 'GetVariables') return stationVariables(payload, { RateUnit: 'A', ProfileStackLevel: '8', PeriodsPerSchedule: '24', ACPhaseSwitchingSupported: 'false' });
    return { status: 'Accepted' };
  }

  connect(stationId: string): void {
    this.connected.add(stationId);
    this.connections$.next({ stationId, side: 'station', up: true, at: this.clock.now() });
  }

  disconnect(stationId: string): void {
    this.connected.delete(stationId);
    this.connections$.next({ stationId, side: 'station', up: false, at: this.clock.now() });
  }

  stationCall(stationId: string, action: string, payload: Record<string, unknown>): void {
    this.calls$.next({ stationId, origin: 'station', messageId: `m${++this.seq}`, action, payload, at: this.clock.now() });
  }

  startTx(stationId: string, evseId: number, transactionId: string, currentA?: number): void {
    this.stationCall(stationId, 'TransactionEvent', {
      eventType: 'Started',
      timestamp: new Date(this.clock.now()).toISOString(),
      triggerReason: 'CablePluggedIn',
      seqNo: 0,
      transactionInfo: { transactionId, chargingState: 'Charging' },
      evse: { id: evseId, connectorId: 1 },
      ...(currentA !== undefined ? { meterValue: [meterValue(this.clock.now(), currentA)] } : {}),
    });
  }

  endTx(stationId: string, evseId: number, transactionId: string): void {
    this.stationCall(stationId, 'TransactionEvent', {
      eventType: 'Ended',
      timestamp: new Date(this.clock.now()).toISOString(),
      triggerReason: 'EVCommunicationLost',
      seqNo: 9,
      transactionInfo: { transactionId, stoppedReason: 'EVDisconnected' },
      evse: { id: evseId },
    });
  }

  meter(stationId: string, evseId: number, currentA: number): void {
    this.stationCall(stationId, 'MeterValues', { evseId, meterValue: [meterValue(this.clock.now(), currentA)] });
  }

  csmsResult(stationId: string, action: string, request: Record<string, unknown>, result: Record<string, unknown>): void {
    this.results$.next({ stationId, origin: 'csms', messageId: `c${++this.seq}`, action, request, result, at: this.clock.now() });
  }

  /** SetChargingProfile calls to a station, oldest first. */
  profiles(stationId?: string): RecordedCall[] {
    return this.calls.filter((c) => c.action === 'SetChargingProfile' && (stationId === undefined || c.stationId === stationId));
  }

  /** The last TxProfile limit sent to a station's EVSE. */
  lastTxLimit(stationId: string, evseId = 1): number | undefined {
    const p = this.profiles(stationId).filter((c) => c.payload.evseId === evseId && profileOf(c).chargingProfilePurpose === 'TxProfile').at(-1);
    return p ? limitOf(p) : undefined;
  }
}

export function profileOf(c: RecordedCall): Record<string, unknown> {
  return c.payload.chargingProfile as Record<string, unknown>;
}

export function limitOf(c: RecordedCall): number {
  const s = (profileOf(c).chargingSchedule as Array<{ chargingSchedulePeriod: Array<{ limit: number }> }>)[0];
  return s.chargingSchedulePeriod[0].limit;
}

export function meterValue(at: number, currentA: number, phases = 3): Record<string, unknown> {
  const phaseNames = ['L1', 'L2', 'L3'].slice(0, phases);
  return {
    timestamp: new Date(at).toISOString(),
    sampledValue: phaseNames.map((phase) => ({ value: currentA, measurand: 'Current.Import', phase, unitOfMeasure: { unit: 'A' } })),
  };
}

export function stationVariables(payload: Record<string, unknown>, values: Record<string, string>): Record<string, unknown> {
  const data = payload.getVariableData as Array<{ component: { name: string }; variable: { name: string } }>;
  return {
    getVariableResult: data.map((d) =>
      values[d.variable.name] !== undefined
        ? { attributeStatus: 'Accepted', attributeValue: values[d.variable.name], component: d.component, variable: d.variable }
        : { attributeStatus: 'UnknownVariable', component: d.component, variable: d.variable },
    ),
  };
}

export function notImplemented(): never {
  throw new OcppCallError('NotImplemented', 'no smart charging');
}

export function gridReading(at: number, currentsA: PhaseVector, quality: Reading['quality'] = 'good', deviceId = 'grid'): Reading {
  return quality === 'good' ? { deviceId, at, quality, values: { phaseCurrentsA: currentsA } } : { deviceId, at, quality, reason: 'test', values: {} };
}

export interface Harness {
  clock: Clock;
  relay: FakeRelay;
  readings$: Subject<Reading>;
  siteLimit$: BehaviorSubject<SiteLimit>;
  settings$: Subject<ControlSettings>;
  loop: ControlLoop;
  config: Config;
}

export function harness(config: Config, opts: Partial<ControlInputs> = {}): Harness {
  const clock = new Clock();
  const relay = new FakeRelay(clock);
  const readings$ = new Subject<Reading>();
  const fuse = { kind: 'fuse' as const, id: 'site.limitA', limitA: config.site.limitA };
  const siteLimit$ = new BehaviorSubject<SiteLimit>({ at: clock.now(), limitA: config.site.limitA, binding: fuse, sources: [fuse] });
  const settings$ = new Subject<ControlSettings>();
  const loop = createControlLoop({
    scheduler: clock.scheduler,
    config,
    stations: createStations({ relay: relay.events(), caller: relay }),
    readings$,
    siteLimit$,
    settings$: opts.settings$ ?? settings$,
    log: silentLogger,
    ...opts,
  });
  return { clock, relay, readings$, siteLimit$, settings$, loop, config };
}

