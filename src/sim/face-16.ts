// The OCPP 1.6J face of a simulated station: the same charger model as a 2.0.1 station, seen through 1.6 messages.
// Out: BootNotification, StatusNotification per connector (0 and 1), Authorize + StartTransaction (the CSMS assigns the
// integer transactionId), MeterValues with phase-resolved Current.Import, Power and Energy, StopTransaction. In:
// SetChargingProfile (ChargePointMaxProfile / TxDefaultProfile on connector 0 or 1 / TxProfile with the CSMS's
// transactionId; A or W with numberPhases) converted to the model's profiles, which it combines as a 1.6 charger does
// (highest stackLevel within a purpose; TxProfile over TxDefaultProfile; the minimum with ChargePointMaxProfile),
// ClearChargingProfile, GetCompositeSchedule, Get/ChangeConfiguration with the smart-charging keys, Remote
// Start/Stop, Reset, TriggerMessage. Messages go out one after another in the order the model made them.
import type { Logger } from '../common/log.js';
import type { ChargingProfile } from '../ocpp/charging-schedule.js';
import { profile16Problem, profileFrom16, purposeFrom16, type ChargingProfile16, type ProfilePurpose16 } from '../ocpp/charging-profile-16.js';
import { OcppCallError } from '../ocpp/errors.js';
import { ChargePointConfig16 } from './face-16-config.js';
import type { StationFace, Wire } from './faces.js';
import type { SimStation } from './physics/station.js';
import { reportedPhases, type ChargerQuirk } from './quirks.js';

const iso = (ms: number): string => new Date(ms).toISOString();
const isInt = (x: unknown): x is number => Number.isInteger(x);

/** CALLs a 1.6 charge point answers. */
export const OCPP16_CHARGE_POINT_ACTIONS = [
  'SetChargingProfile',
  'ClearChargingProfile',
  'GetCompositeSchedule',
  'GetConfiguration',
  'ChangeConfiguration',
  'RemoteStartTransaction',
  'RemoteStopTransaction',
  'Reset',
  'TriggerMessage',
  'ChangeAvailability',
  'UnlockConnector',
  'ClearCache',
  'DataTransfer',
  'GetLocalListVersion',
];


/** The CALLs of the SmartCharging feature profile (§3.13). */
const SMART_CHARGING_16 = new Set(['SetChargingProfile', 'ClearChargingProfile', 'GetCompositeSchedule']);

type Status16 = 'Available' | 'Preparing' | 'Charging' | 'SuspendedEV' | 'SuspendedEVSE' | 'Finishing';
const FROM_CHARGING_STATE: Record<string, Status16> = { EVConnected: 'Preparing', Charging: 'Charging', SuspendedEV: 'SuspendedEV', SuspendedEVSE: 'SuspendedEVSE', Idle: 'Available' };

interface SampledValue201 {
  value: number;
  measurand?: string;
  phase?: string;
  unitOfMeasure?: { unit?: string };
}

export class Face16 implements StationFace {
  readonly protocol = 'ocpp1.6' as const;
  readonly actions = OCPP16_CHARGE_POINT_ACTIONS;
  /** The model's quirks (src/sim/quirks.ts): they bend its configuration keys, answers and meter values. */
  readonly quirks: ReadonlySet<ChargerQuirk>;
  /** Model transaction id → the CSMS's integer id. */
  private readonly txIds = new Map<string, number>();
  private chain: Promise<void> = Promise.resolve();
  private status: Status16 | undefined;
  private readonly config: ChargePointConfig16;
  /** The TxProfile a RemoteStartTransaction brought, installed once its transaction has started (§5.11). */
  private remoteStartProfile: ChargingProfile | undefined;

  constructor(
    private readonly station: SimStation,
    private readonly wire: Wire,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {
    this.quirks = station.quirks;
    this.config = new ChargePointConfig16(station.spec, station.capabilities);
  }

  /** A timestamp on the station's own clock (which may differ from world time). */
  private stamp(worldMs: number): string {
    return iso(this.station.stationTime(worldMs));
  }

  private get id(): string {
    return this.station.spec.id;
  }

  /** Runs `fn` after everything sent before it (a StartTransaction's answer is needed by what follows). */
  private enqueue(fn: () => Promise<void>): void {
    this.chain = this.chain.then(fn).catch((err: unknown) => {
      this.log.debug({ stationId: this.id, err: err instanceof Error ? err.message : String(err) }, 'simulated 1.6 station message failed');
    });
  }

  private sendStatus(status: Status16, connectorId = 1, force = false): Promise<void> {
    if (connectorId === 1 && status === this.status && !force) return Promise.resolve();
    if (connectorId === 1) this.status = status;
    return this.wire('StatusNotification', { connectorId, errorCode: 'NoError', status, timestamp: this.stamp(this.now()) }).then(() => undefined);
  }

  private sampledValues(values: SampledValue201[], context: string): Record<string, unknown>[] {
    return values.map((v) => ({
      value: String(v.value),
      context,
      ...(v.measurand ? { measurand: v.measurand } : {}),
      ...(v.phase ? { phase: v.phase } : {}),
      ...(v.unitOfMeasure?.unit ? { unit: v.unitOfMeasure.unit } : {}),
      location: 'Outlet',
    }));
  }

  /** The model's meter sample now (what a triggered MeterValues reports). */
  private sampleNow(): SampledValue201[] {
    const s = this.station;
    const phases = s.spec.phases === 1 ? 1 : 3;
    return [
      { value: Math.round(s.energyRegisterWh * 10) / 10, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } },
      { value: Math.round(s.currentA.reduce((a, b) => a + b, 0) * 230 * 10) / 10, measurand: 'Power.Active.Import', unitOfMeasure: { unit: 'W' } },
      ...reportedPhases(this.quirks, phases).map((phase, i) => ({ value: Math.round(s.currentA[i] * 10) / 10, measurand: 'Current.Import', phase, unitOfMeasure: { unit: 'A' } })),
    ];
  }

  private meterValues(values: SampledValue201[], timestamp: string, context: string, modelTx: string | undefined): Promise<void> {
    const transactionId = modelTx !== undefined ? this.txIds.get(modelTx) : undefined;
    return this.wire('MeterValues', {
      connectorId: 1,
      ...(transactionId !== undefined ? { transactionId } : {}),
      meterValue: [{ timestamp, sampledValue: this.sampledValues(values, context) }],
    }).then(() => undefined);
  }

  fromModel(action: string, payload: Record<string, unknown>): void {
    switch (action) {
      case 'BootNotification':
        this.status = undefined;
        this.enqueue(async () => {
          await this.wire('BootNotification', { chargePointVendor: 'site-controller-sim', chargePointModel: 'SimCharger', firmwareVersion: '1.0.0', chargePointSerialNumber: this.id.slice(0, 25) });
          await this.sendStatus('Available', 0);
        });
        return;
      case 'StatusNotification': {
        const status: Status16 = payload.connectorStatus === 'Occupied' ? (this.station.transactionId ? 'Charging' : 'Preparing') : 'Available';
        this.enqueue(() => this.sendStatus(status));
        return;
      }
      case 'TransactionEvent':
        this.transactionEvent(payload);
        return;
      default:
        // NotifyEVChargingNeeds and the other 2.0.1-only messages have no 1.6 counterpart.
        return;
    }
  }

  private transactionEvent(payload: Record<string, unknown>): void {
    const info = payload.transactionInfo as { transactionId: string; chargingState?: string; stoppedReason?: string };
    const timestamp = payload.timestamp as string;
    const values = ((payload.meterValue as { sampledValue: SampledValue201[] }[] | undefined) ?? []).flatMap((m) => m.sampledValue);
    const energy = values.find((v) => v.measurand === 'Energy.Active.Import.Register')?.value ?? this.station.energyRegisterWh;
    const status = info.chargingState ? FROM_CHARGING_STATE[info.chargingState] : undefined;
    const modelTx = info.transactionId;
    if (payload.eventType === 'Started') {
      const brought = this.remoteStartProfile;
      this.remoteStartProfile = undefined;
      // Installed after the model's step that started the transaction (never from inside it).
      if (brought) setImmediate(() => this.station.handle('SetChargingProfile', { evseId: 1, chargingProfile: { ...brought, transactionId: modelTx } }, this.now()));
      const idTag = ((payload.idToken as { idToken?: string } | undefined)?.idToken ?? `${this.id}-REMOTE`).slice(0, 20);
      this.enqueue(async () => {
        await this.sendStatus('Preparing');
        await this.wire('Authorize', { idTag });
        const conf = await this.wire('StartTransaction', { connectorId: 1, idTag, meterStart: Math.round(energy), timestamp });
        if (isInt(conf.transactionId)) this.txIds.set(modelTx, conf.transactionId);
        if (status) await this.sendStatus(status);
      });
    } else if (payload.eventType === 'Updated') {
      this.enqueue(async () => {
        if (status) await this.sendStatus(status);
        await this.meterValues(values, timestamp, payload.triggerReason === 'MeterValuePeriodic' ? 'Sample.Periodic' : 'Other', modelTx);
      });
    } else if (payload.eventType === 'Ended') {
      const remote = info.stoppedReason === 'Remote';
      this.enqueue(async () => {
        const transactionId = this.txIds.get(modelTx);
        this.txIds.delete(modelTx);
        if (transactionId === undefined) return; // the CSMS never assigned one (it was unreachable)
        await this.wire('StopTransaction', { transactionId, meterStop: Math.round(energy), timestamp, reason: remote ? 'Remote' : 'EVDisconnected' });
        if (remote) await this.sendStatus('Finishing');
      });
    }
  }

  /** The model's transaction id for the CSMS's integer id. */
  private modelTransaction(csmsId: number): string | undefined {
    for (const [model, id] of this.txIds) if (id === csmsId) return model;
    return undefined;
  }

  private after(fn: () => Promise<unknown>): void {
    // Sent once the CALLRESULT has gone out, as a charge point does.
    setImmediate(() => this.enqueue(async () => void (await fn())));
  }

  handle(action: string, payload: Record<string, unknown>, now: number): Record<string, unknown> {
    if (!this.station.capabilities.smartCharging && SMART_CHARGING_16.has(action)) {
      // Firmware without the SmartCharging feature profile knows the action but does not support it.
      throw new OcppCallError('NotSupported', `${action}: SmartCharging is not among this charge point's feature profiles`);
    }
    switch (action) {
      case 'SetChargingProfile':
        return this.setChargingProfile(payload, now);
      case 'ClearChargingProfile':
        return this.clearChargingProfile(payload, now);
      case 'GetCompositeSchedule':
        return this.compositeSchedule(payload, now);
      case 'GetConfiguration':
        return this.config.get(payload);
      case 'ChangeConfiguration':
        return this.config.change(payload);
      case 'RemoteStartTransaction': {
        const idTag = typeof payload.idTag === 'string' ? payload.idTag : 'REMOTE';
        if (payload.connectorId !== undefined && payload.connectorId !== 1) return { status: 'Rejected' };
        const brought = payload.chargingProfile as ChargingProfile16 | undefined;
        // §5.11: a profile sent with a remote start is a TxProfile for the transaction it starts.
        if (brought !== undefined && (profile16Problem(brought) || brought.chargingProfilePurpose !== 'TxProfile')) return { status: 'Rejected' };
        // A station without SmartCharging ignores the profile; one whose firmware refuses it refuses the start.
        const taken = brought !== undefined && this.station.capabilities.smartCharging ? profileFrom16(brought) : undefined;
        if (taken && this.station.refusal(1, taken)) return { status: 'Rejected' };
        const r = this.station.handle('RequestStartTransaction', { evseId: 1, remoteStartId: 1, idToken: { idToken: idTag, type: 'Central' } }, now);
        if (r.status === 'Accepted' && taken) this.remoteStartProfile = taken;
        return { status: r.status === 'Accepted' ? 'Accepted' : 'Rejected' };
      }
      case 'RemoteStopTransaction': {
        const tx = isInt(payload.transactionId) ? this.modelTransaction(payload.transactionId) : undefined;
        if (!tx) return { status: 'Rejected' };
        const r = this.station.handle('RequestStopTransaction', { transactionId: tx }, now);
        return { status: r.status === 'Accepted' ? 'Accepted' : 'Rejected' };
      }
      case 'TriggerMessage':
        return this.trigger(payload, now);
      case 'Reset':
      case 'ChangeAvailability':
      case 'ClearCache':
        return { status: 'Accepted' };
      case 'UnlockConnector':
        return { status: 'Unlocked' };
      case 'DataTransfer':
        return { status: 'UnknownVendorId' };
      case 'GetLocalListVersion':
        return { listVersion: 0 };
      default:
        throw new OcppCallError('NotImplemented', `${action} is not implemented by this simulated charge point`);
    }
  }

  private connector(payload: Record<string, unknown>, field = 'connectorId'): number {
    const c = payload[field];
    if (!isInt(c)) throw new OcppCallError('TypeConstraintViolation', `${field} must be an integer`);
    return c;
  }

  private setChargingProfile(payload: Record<string, unknown>, now: number): Record<string, unknown> {
    const connectorId = this.connector(payload);
    const problem = profile16Problem(payload.csChargingProfiles);
    if (problem) throw new OcppCallError('PropertyConstraintViolation', `csChargingProfiles: ${problem}`);
    if (connectorId < 0 || connectorId > 1) return { status: 'Rejected' };
    const cs = payload.csChargingProfiles as ChargingProfile16;
    const profile = profileFrom16(cs);
    if (profile.chargingProfilePurpose === 'TxProfile') {
      // 1.6: a TxProfile without transactionId is for the transaction running on the connector.
      const tx = cs.transactionId !== undefined ? this.modelTransaction(cs.transactionId) : this.station.transactionId;
      if (!tx) return { status: 'Rejected' };
      profile.transactionId = tx;
    }
    // 1.6 lets an Absolute schedule leave out startSchedule: it then starts when received.
    const schedule = profile.chargingSchedule[0];
    if (profile.chargingProfileKind === 'Absolute' && schedule.startSchedule === undefined) schedule.startSchedule = this.stamp(now);
    // §5.16.2: a profile with the same purpose and stackLevel on the connector is replaced, not refused.
    const installed = this.station.installed;
    const replaced = installed.filter(
      (p) =>
        p.profile.id !== profile.id &&
        p.evseId === connectorId &&
        p.profile.chargingProfilePurpose === profile.chargingProfilePurpose &&
        p.profile.stackLevel === profile.stackLevel &&
        (profile.chargingProfilePurpose !== 'TxProfile' || p.profile.transactionId === profile.transactionId),
    );
    // Out of the way while the station validates the new one (its stack level is free for it); back in until the new
    // one is applied, so a slow station keeps applying the old profile meanwhile.
    for (const p of replaced) installed.splice(installed.indexOf(p), 1);
    const r = this.station.handle('SetChargingProfile', { evseId: connectorId, chargingProfile: profile }, now);
    installed.push(...replaced);
    if (r.status === 'Accepted' && replaced.length) {
      this.station.afterReaction(now, () => {
        for (const p of replaced) if (installed.includes(p)) installed.splice(installed.indexOf(p), 1);
      });
    }
    return { status: r.status === 'Accepted' ? 'Accepted' : 'Rejected' };
  }

  private clearChargingProfile(payload: Record<string, unknown>, now: number): Record<string, unknown> {
    if (isInt(payload.id)) return this.station.handle('ClearChargingProfile', { chargingProfileId: payload.id }, now);
    const purpose = payload.chargingProfilePurpose as ProfilePurpose16 | undefined;
    // An unknown purpose must not widen the criteria to "every purpose".
    if (purpose !== undefined && !['ChargePointMaxProfile', 'TxDefaultProfile', 'TxProfile'].includes(purpose)) {
      throw new OcppCallError('PropertyConstraintViolation', 'unknown chargingProfilePurpose');
    }
    return this.station.handle(
      'ClearChargingProfile',
      {
        chargingProfileCriteria: {
          ...(isInt(payload.connectorId) ? { evseId: payload.connectorId } : {}),
          ...(purpose !== undefined ? { chargingProfilePurpose: purposeFrom16(purpose) } : {}),
          ...(isInt(payload.stackLevel) ? { stackLevel: payload.stackLevel } : {}),
        },
      },
      now,
    );
  }

  private compositeSchedule(payload: Record<string, unknown>, now: number): Record<string, unknown> {
    const connectorId = this.connector(payload);
    if (connectorId < 0 || connectorId > 1 || !isInt(payload.duration)) return { status: 'Rejected' };
    const r = this.station.handle('GetCompositeSchedule', { evseId: connectorId, duration: payload.duration }, now) as {
      schedule: { duration: number; scheduleStart: string; chargingRateUnit: string; chargingSchedulePeriod: unknown[] };
    };
    const s = r.schedule;
    return {
      status: 'Accepted',
      connectorId,
      scheduleStart: s.scheduleStart,
      chargingSchedule: { duration: s.duration, startSchedule: s.scheduleStart, chargingRateUnit: s.chargingRateUnit, chargingSchedulePeriod: s.chargingSchedulePeriod },
    };
  }

  private trigger(payload: Record<string, unknown>, now: number): Record<string, unknown> {
    const connectorId = payload.connectorId;
    if (connectorId !== undefined && (!isInt(connectorId) || connectorId < 0 || connectorId > 1)) return { status: 'Rejected' };
    switch (payload.requestedMessage) {
      case 'BootNotification':
        setImmediate(() => this.station.boot(this.now()));
        return { status: 'Accepted' };
      case 'Heartbeat':
        this.after(() => this.wire('Heartbeat', {}));
        return { status: 'Accepted' };
      case 'StatusNotification':
        this.after(() => (connectorId === 0 ? this.sendStatus('Available', 0) : this.sendStatus(this.status ?? 'Available', 1, true)));
        return { status: 'Accepted' };
      case 'MeterValues':
        this.after(() => this.meterValues(this.sampleNow(), this.stamp(now), 'Trigger', this.station.transactionId));
        return { status: 'Accepted' };
      case 'DiagnosticsStatusNotification':
        this.after(() => this.wire('DiagnosticsStatusNotification', { status: 'Idle' }));
        return { status: 'Accepted' };
      case 'FirmwareStatusNotification':
        this.after(() => this.wire('FirmwareStatusNotification', { status: 'Idle' }));
        return { status: 'Accepted' };
      default:
        return { status: 'NotImplemented' };
    }
  }
}
