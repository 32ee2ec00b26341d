// A rude OCPP 1.6 station for control tests, in process on virtual time (behind FakeRelay's answer hook): firmware
// quirks as real ones have them (rejects A or W, Absolute, stack levels above 0, connectorId 0, TxProfile, 0 A; no
// SmartCharging; reports phases as L1-N or one phase only), accepts-and-ignores, and applies a profile only after its
// reaction time. Its EV draws min(EV maximum, the limit the station applies); it reports MeterValues like 1.6 does
// (string values, flat unit).
import type { Quirk } from '../../src/stations/model.js';
import { OcppCallError } from '../../src/relay/events.js';
import type { Clock, FakeRelay, RecordedCall } from './helpers.js';

export interface Rude16Options {
  quirks?: Quirk[];
  /** Accepts every profile and applies none. */
  ignores?: boolean;
  /** Answers GetCompositeSchedule with NotImplemented (default: its installed profiles; an ignorer shows none). */
  noComposite?: boolean;
  /** Its composite schedule shows a profile only once applied (after its reaction time), as some firmwares do. */
  compositeAfterApply?: boolean;
  /** How long it takes to apply a profile (ms). */
  reactionMs?: number;
  evMaxA?: number;
  minA?: number;
  /** ChargingScheduleAllowedChargingRateUnit as the firmware says it. */
  rateUnitKey?: string;
  stackMax?: number;
  meterEveryMs?: number;
  /** What it draws with no profile at all (A). */
  maxA?: number;
}

interface Held {
  connectorId: number;
  purpose: string;
  stackLevel: number;
  txId?: number;
  limitA: number;
  validTo?: number;
  /** When the station starts applying it. */
  activeFrom: number;
  id: number;
}

/** The firmware: its configuration keys, its profile table and quirks, its EV, its MeterValues; clock given. */
export class Firmware16 {
  /** Every profile version accepted, oldest first (a newer version of an id replaces the older once active). */
  readonly accepted: Held[] = [];
  readonly rejected: Array<Record<string, unknown>> = [];
  readonly configChanges: Array<{ key: string; value: string }> = [];
  txId?: number;
  drawA = 0;
  /** Its EV is full (or waits on its own timer): draws nothing whatever it is offered. */
  evSuspended = false;

  constructor(private readonly now: () => number, private readonly o: Rude16Options = {}) {}

  has(q: Quirk): boolean {
    return this.o.quirks?.includes(q) ?? false;
  }

  /** The limit (A per phase) the station applies at `now` (`installed`: as its profile table says, before its
   * reaction time has passed). */
  appliedA(now = this.now(), installed = false): number {
    const latest = new Map<number, Held>();
    for (const p of this.accepted) if (installed || p.activeFrom <= now) latest.set(p.id * 100 + p.connectorId, p);
    const valid = [...latest.values()].filter((p) => (p.validTo === undefined || now < p.validTo) && (p.connectorId === 0 || p.connectorId === 1));
    const top = (f: (p: Held) => boolean) => valid.filter(f).sort((a, b) => b.stackLevel - a.stackLevel || b.connectorId - a.connectorId)[0];
    const tx = this.txId !== undefined ? top((p) => p.purpose === 'TxProfile' && p.txId === this.txId) : undefined;
    const def = top((p) => p.purpose === 'TxDefaultProfile');
    const max = top((p) => p.purpose === 'ChargePointMaxProfile');
    return Math.min((tx ?? def)?.limitA ?? this.o.maxA ?? 32, max?.limitA ?? Infinity);
  }

  /** The EV follows what the station applies (or not, for an ignorer). */
  advance(): void {
    this.drawA = this.txId === undefined || this.evSuspended ? 0 : this.o.ignores ? (this.o.evMaxA ?? 32) : Math.min(this.o.evMaxA ?? 32, this.appliedA());
  }

  /** A 1.6 MeterValues.req of the transaction now. */
  meterValues(): Record<string, unknown> {
    const now = this.now();
    const phases = this.has('single-phase-report') ? ['L1'] : this.has('phase-l1-n') ? ['L1-N', 'L2-N', 'L3-N'] : ['L1', 'L2', 'L3'];
    const sampledValue = [
      ...phases.map((phase) => ({ value: this.drawA.toFixed(1), measurand: 'Current.Import', phase, unit: 'A' })),
      { value: ((this.drawA * 230 * 3) / 1000).toFixed(3), measurand: 'Power.Active.Import', unit: 'kW' },
    ];
    return { connectorId: 1, transactionId: this.txId, meterValue: [{ timestamp: new Date(now).toISOString(), sampledValue }] };
  }

  /** Its answer to a CALL of the controller (throws OcppCallError for a CALLERROR). */
  answer(action: string, payload: Record<string, unknown>): Record<string, unknown> {
    switch (action) {
      case 'GetConfiguration':
        return this.configuration();
      case 'ChangeConfiguration':
        this.configChanges.push(payload as { key: string; value: string });
        return { status: 'Accepted' };
      case 'SetChargingProfile':
        return this.setProfile(payload);
      case 'ClearChargingProfile':
        return { status: 'Accepted' };
      case 'GetCompositeSchedule': {
        if (this.o.noComposite) throw new OcppCallError('NotImplemented', action);
        const limit = this.o.ignores ? (this.o.maxA ?? 32) : this.appliedA(this.now(), !this.o.compositeAfterApply);
        const start = new Date(this.now()).toISOString();
        return { status: 'Accepted', connectorId: payload.connectorId, scheduleStart: start, chargingSchedule: { chargingRateUnit: 'A', startSchedule: start, duration: payload.duration, chargingSchedulePeriod: [{ startPeriod: 0, limit }] } };
      }
      default:
        throw new OcppCallError('NotImplemented', action);
    }
  }

  private configuration(): Record<string, unknown> {
    const kv: Record<string, string> = {
      SupportedFeatureProfiles: this.has('no-smart-charging') ? 'Core,FirmwareManagement' : 'Core,SmartCharging',
      ChargingScheduleAllowedChargingRateUnit: this.o.rateUnitKey ?? (this.has('watts-only') ? 'Power' : this.has('amps-only') ? 'Current' : 'Current,Power'),
      ChargeProfileMaxStackLevel: String(this.o.stackMax ?? 8),
      ChargingScheduleMaxPeriods: '24',
      MaxChargingProfilesInstalled: '10',
      NumberOfConnectors: '1',
      MeterValuesSampledData: 'Energy.Active.Import.Register',
      MeterValueSampleInterval: '60',
    };
    return { configurationKey: Object.entries(kv).map(([key, value]) => ({ key, readonly: false, value })) };
  }

  private setProfile(payload: Record<string, unknown>): Record<string, unknown> {
    if (this.has('no-smart-charging')) throw new OcppCallError('NotImplemented', 'SmartCharging not supported');
    const connectorId = payload.connectorId as number;
    const p = payload.csChargingProfiles as Record<string, unknown>;
    const s = p.chargingSchedule as { chargingRateUnit: string; chargingSchedulePeriod: Array<{ limit: number; numberPhases?: number }>; startSchedule?: string };
    const period = s.chargingSchedulePeriod[0];
    const limitA = s.chargingRateUnit === 'W' ? period.limit / (230 * (period.numberPhases ?? 3)) : period.limit;
    const reject =
      (this.has('watts-only') && s.chargingRateUnit === 'A') ||
      (this.has('amps-only') && s.chargingRateUnit === 'W') ||
      (this.has('relative-only') && p.chargingProfileKind === 'Absolute') ||
      (this.has('no-zero') && limitA < (this.o.minA ?? 6)) ||
      (this.has('connector-0-rejected') && connectorId === 0) ||
      (this.has('stack-level-0-only') && (p.stackLevel as number) > 0) ||
      (this.has('tx-default-only') && p.chargingProfilePurpose === 'TxProfile') ||
      (p.chargingProfilePurpose === 'TxProfile' && p.transactionId !== this.txId) ||
      (p.chargingProfileKind === 'Absolute' && !s.startSchedule);
    if (reject) {
      this.rejected.push(payload);
      return { status: 'Rejected' };
    }
    const now = this.now();
    this.accepted.push({
      id: p.chargingProfileId as number, connectorId, purpose: p.chargingProfilePurpose as string, stackLevel: p.stackLevel as number,
      ...(typeof p.transactionId === 'number' ? { txId: p.transactionId } : {}),
      limitA: Math.round(limitA * 10) / 10,
      ...(typeof p.validTo === 'string' ? { validTo: Date.parse(p.validTo) } : {}),
      activeFrom: now + (this.o.reactionMs ?? 2000),
    });
    return { status: 'Accepted' };
  }
}

/** The firmware behind FakeRelay (in process, virtual time): boots, starts a transaction, reports on step(). */
export class Rude16 extends Firmware16 {
  private seq = 0;
  private lastMeterAt = 0;

  constructor(readonly id: string, private readonly relay: FakeRelay, private readonly clock: Clock, private readonly opts: Rude16Options = {}) {
    super(() => clock.now(), opts);
    relay.answers.set(id, (c: RecordedCall) => this.answer(c.action, c.payload));
  }

  /** Connects, boots (accepted by the CSMS) and starts a transaction with the EV plugged in. */
  start(txId: number): void {
    const at = this.clock.now();
    this.relay.connected.add(this.id);
    this.relay.connections$.next({ stationId: this.id, side: 'station', up: true, at, protocol: 'ocpp1.6' });
    this.result('BootNotification', { chargePointVendor: 'rude', chargePointModel: '16' }, { status: 'Accepted', currentTime: new Date(at).toISOString(), interval: 300 });
    this.call('StatusNotification', { connectorId: 1, status: 'Charging', errorCode: 'NoError' });
    this.txId = txId;
    this.result('StartTransaction', { connectorId: 1, idTag: 'CARD', meterStart: 0, timestamp: new Date(at).toISOString() }, { transactionId: txId, idTagInfo: { status: 'Accepted' } });
  }

  /** The EV stops taking current (full) or takes it again, and the station says so as 1.6 does: a connector status. */
  evState(state: 'SuspendedEV' | 'Charging'): void {
    this.evSuspended = state === 'SuspendedEV';
    this.advance();
    this.call('StatusNotification', { connectorId: 1, status: state, errorCode: 'NoError' });
    this.call('MeterValues', this.meterValues());
  }

  /** Advance the EV and report MeterValues when due; call on every clock step. */
  step(): void {
    this.advance();
    const now = this.clock.now();
    if (this.txId === undefined || now - this.lastMeterAt < (this.opts.meterEveryMs ?? 1000)) return;
    this.lastMeterAt = now;
    this.call('MeterValues', this.meterValues());
  }

  private call(action: string, payload: Record<string, unknown>): void {
    this.relay.calls$.next({ stationId: this.id, origin: 'station', messageId: `s${++this.seq}`, action, payload, at: this.clock.now(), protocol: 'ocpp1.6' });
  }

  private result(action: string, request: Record<string, unknown>, result: Record<string, unknown>): void {
    this.relay.results$.next({ stationId: this.id, origin: 'station', messageId: `s${++this.seq}`, action, request, result, at: this.clock.now(), protocol: 'ocpp1.6' });
  }
}
