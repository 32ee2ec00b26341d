// OCPP 1.6J frames → the neutral station model. From the station: StatusNotification, StartTransaction (its
// transactionId comes in the CSMS's answer, so it is read from results$), MeterValues (with or without transactionId),
// StopTransaction; BootNotification accepted → booted. From the CSMS: SetChargingProfile / ClearChargingProfile the
// station accepted → csms-profile-set / -cleared, in the model's (2.0.1) words: ChargePointMaxProfile is
// ChargingStationMaxProfile, connectorId is evseId, the integer transactionId a string.
import type { OcppCallEvent, OcppResultEvent } from '../../relay/events.js';
import { ownValue } from '../../common/ids.js';
import { measurementOf, newestTime } from '../meter-values.js';
import type { ProfilePurpose, StationEvent } from '../model.js';
import { parseProfile } from '../v201/events.js';

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const obj = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
const txId = (v: unknown): string | undefined => (typeof v === 'number' && Number.isInteger(v) ? String(v) : undefined);

/** 1.6 ChargePointStatus → the model's (2.0.1) connector status. */
const STATUS: Record<string, string> = {
  Available: 'Available', Preparing: 'Occupied', Charging: 'Occupied', SuspendedEVSE: 'Occupied', SuspendedEV: 'Occupied',
  Finishing: 'Occupied', Reserved: 'Reserved', Unavailable: 'Unavailable', Faulted: 'Faulted',
};

/** 1.6 ChargePointStatus → the charging state 2.0.1 reports in TransactionEvent: without it a full EV on a 1.6 station
 * (SuspendedEV, drawing nothing) would keep its share of the site as if it were still charging. */
const CHARGING_STATE: Record<string, string> = {
  Preparing: 'EVConnected', Charging: 'Charging', SuspendedEVSE: 'SuspendedEVSE', SuspendedEV: 'SuspendedEV', Finishing: 'EVConnected',
};

/** 1.6 purposes → the model's. */
const PURPOSE: Record<string, ProfilePurpose> = {
  ChargePointMaxProfile: 'ChargingStationMaxProfile', TxDefaultProfile: 'TxDefaultProfile', TxProfile: 'TxProfile',
};

/** 1.6 sampled values carry their value as a string and a flat `unit`: made the 2.0.1 shape the one parser reads. */
export function normaliseMeterValue(meterValue: unknown): unknown {
  if (!Array.isArray(meterValue)) return meterValue;
  return meterValue.map((mv: { sampledValue?: Array<Record<string, unknown>> }) => ({
    ...mv,
    sampledValue: Array.isArray(mv?.sampledValue)
      ? mv.sampledValue.map((s) => {
          const { unit, ...rest } = s ?? {};
          return { ...rest, value: typeof s?.value === 'string' ? Number(s.value) : s?.value, ...(typeof unit === 'string' ? { unitOfMeasure: { unit } } : {}) };
        })
      : mv?.sampledValue,
  }));
}

const time = (v: unknown) => (typeof v === 'string' && Number.isFinite(Date.parse(v)) ? { time: Date.parse(v) } : {});

export function fromCall(ev: OcppCallEvent): StationEvent[] {
  if (ev.origin !== 'station') return [];
  const p = ev.payload;
  const { stationId, at } = ev;
  switch (ev.action) {
    case 'StatusNotification': {
      const evseId = num(p.connectorId);
      // Own keys only: a status named like an Object.prototype member (`constructor`) is unknown, not a function.
      const status = typeof p.status === 'string' ? ownValue(STATUS, p.status) : undefined;
      // connectorId 0 is the whole charge point, not an EVSE.
      if (!evseId || !status) return [];
      const chargingState = typeof p.status === 'string' ? ownValue(CHARGING_STATE, p.status) : undefined;
      return [{ kind: 'status', stationId, evseId, status, ...(chargingState ? { chargingState } : {}), at, ...time(p.timestamp) }];
    }
    case 'MeterValues': {
      const evseId = num(p.connectorId);
      if (!evseId) return [];
      const measurement = measurementOf(normaliseMeterValue(p.meterValue));
      const transactionId = txId(p.transactionId);
      const stamped = newestTime(p.meterValue);
      const t = stamped !== undefined ? { time: stamped } : {};
      if (transactionId) return [{ kind: 'session', phase: 'updated', stationId, evseId, transactionId, measurement, at, ...t }];
      return [{ kind: 'meter', stationId, evseId, measurement, at, ...t }];
    }
    case 'StopTransaction': {
      const transactionId = txId(p.transactionId);
      if (!transactionId) return [];
      const measurement = measurementOf(normaliseMeterValue(p.transactionData));
      if (typeof p.meterStop === 'number') measurement.energyWh = p.meterStop;
      return [{
        kind: 'session', phase: 'ended', stationId, transactionId, measurement, at, ...time(p.timestamp),
        ...(typeof p.reason === 'string' ? { stoppedReason: p.reason } : {}),
      }];
    }
    default:
      return [];
  }
}

/** A 1.6 csChargingProfiles → the model's ChargingProfile (one schedule), or undefined when unusable. */
export function profileOf(raw: unknown): ReturnType<typeof parseProfile> {
  const p = obj(raw);
  const purpose = typeof p?.chargingProfilePurpose === 'string' ? PURPOSE[p.chargingProfilePurpose] : undefined;
  const s = obj(p?.chargingSchedule);
  if (!p || !purpose || !s) return undefined;
  return parseProfile({
    id: p.chargingProfileId,
    stackLevel: p.stackLevel,
    chargingProfilePurpose: purpose,
    chargingProfileKind: p.chargingProfileKind,
    recurrencyKind: p.recurrencyKind,
    validFrom: p.validFrom,
    validTo: p.validTo,
    transactionId: txId(p.transactionId),
    chargingSchedule: [{ ...s, id: 0 }],
  });
}

function csmsResult(ev: OcppResultEvent): StationEvent[] {
  const { stationId, at } = ev;
  if (ev.action === 'SetChargingProfile') {
    const profile = profileOf(ev.request.csChargingProfiles);
    const evseId = num(ev.request.connectorId);
    if (!profile || evseId === undefined) return [];
    return [{ kind: 'csms-profile-set', stationId, evseId, profile, at }];
  }
  if (ev.action === 'ClearChargingProfile') {
    const r = ev.request;
    const purpose = typeof r.chargingProfilePurpose === 'string' ? PURPOSE[r.chargingProfilePurpose] : undefined;
    return [{
      kind: 'csms-profile-cleared', stationId, at,
      ...(typeof r.id === 'number' ? { profileId: r.id } : {}),
      ...(typeof r.connectorId === 'number' ? { evseId: r.connectorId } : {}),
      ...(purpose ? { purpose } : {}),
      ...(typeof r.stackLevel === 'number' ? { stackLevel: r.stackLevel } : {}),
    }];
  }
  return [];
}

export function fromResult(ev: OcppResultEvent): StationEvent[] {
  const { stationId, at } = ev;
  if (!ev.result) return [];
  if (ev.origin === 'csms') return ev.result.status === 'Accepted' ? csmsResult(ev) : [];
  if (ev.origin !== 'station') return [];
  if (ev.action === 'BootNotification' && ev.result.status === 'Accepted') return [{ kind: 'booted', stationId, at }];
  if (ev.action === 'StartTransaction') {
    const transactionId = txId(ev.result.transactionId);
    const evseId = num(ev.request.connectorId);
    const status = obj(ev.result.idTagInfo)?.status;
    if (!transactionId || !evseId || status !== 'Accepted') return [];
    return [{
      kind: 'session', phase: 'started', stationId, evseId, transactionId, at, ...time(ev.request.timestamp),
      measurement: typeof ev.request.meterStart === 'number' ? { energyWh: ev.request.meterStart } : {},
      ...(typeof ev.request.idTag === 'string' && ev.request.idTag !== '' ? { idToken: ev.request.idTag } : {}),
    }];
  }
  return [];
}
