// OCPP 2.0.1 frames → the neutral station model: TransactionEvent, StatusNotification, MeterValues and
// NotifyEVChargingNeeds from the station; BootNotification accepted; the CSMS's SetChargingProfile /
// ClearChargingProfile once the station accepted them (moved here from src/control and src/store).
import type { ChargingProfile, ChargingSchedule, ProfilePurpose } from '../../ocpp/charging-schedule.js';
import type { OcppCallEvent, OcppResultEvent } from '../../relay/events.js';
import type { EvNeeds, SessionEvent, StationEvent } from '../model.js';
import { measurementOf, newestTime } from './meter-values.js';

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const obj = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

const PHASES: Record<string, SessionEvent['phase']> = { Started: 'started', Updated: 'updated', Ended: 'ended' };

function transactionEvent(stationId: string, p: Record<string, unknown>, at: number): StationEvent[] {
  const info = obj(p.transactionInfo);
  const transactionId = typeof info?.transactionId === 'string' ? info.transactionId : undefined;
  const phase = typeof p.eventType === 'string' ? PHASES[p.eventType] : undefined;
  if (!transactionId || !phase) return [];
  const evseId = num(obj(p.evse)?.id);
  const token = obj(p.idToken)?.idToken;
  const time = typeof p.timestamp === 'string' ? Date.parse(p.timestamp) : NaN;
  const phases = num(p.numberOfPhasesUsed);
  const cable = num(p.cableMaxCurrent);
  const ev: SessionEvent = {
    kind: 'session', phase, stationId, transactionId, measurement: measurementOf(p.meterValue), at,
    ...(evseId !== undefined ? { evseId } : {}),
    ...(typeof info?.chargingState === 'string' ? { chargingState: info.chargingState } : {}),
    ...(typeof token === 'string' && token !== '' ? { idToken: token } : {}),
    ...(typeof info?.stoppedReason === 'string' ? { stoppedReason: info.stoppedReason } : {}),
    ...(phases !== undefined ? { phasesUsed: phases } : {}),
    ...(cable !== undefined ? { cableMaxCurrentA: cable } : {}),
    ...(Number.isFinite(time) ? { time } : {}),
    ...(p.offline === true ? { offline: true } : {}),
  };
  return [ev];
}

function chargingNeeds(p: Record<string, unknown>): EvNeeds | undefined {
  const needs = obj(p.chargingNeeds);
  if (!needs) return undefined;
  const departure = typeof needs.departureTime === 'string' ? Date.parse(needs.departureTime) : NaN;
  const ac = obj(needs.acChargingParameters);
  const dc = obj(needs.dcChargingParameters);
  const phases = needs.requestedEnergyTransfer === 'AC_single_phase' ? 1 : needs.requestedEnergyTransfer === 'AC_three_phase' ? 3 : undefined;
  const energy = num(ac?.energyAmount) ?? num(dc?.energyAmount);
  const max = num(ac?.evMaxCurrent);
  const min = num(ac?.evMinCurrent);
  return {
    ...(Number.isFinite(departure) ? { departureAt: departure } : {}),
    ...(energy !== undefined ? { energyAmountWh: energy } : {}),
    ...(max !== undefined ? { evMaxCurrentA: max } : {}),
    ...(min !== undefined ? { evMinCurrentA: min } : {}),
    ...(phases !== undefined ? { phases: phases as 1 | 3 } : {}),
  };
}

/** A CALL the station sent → neutral events. */
export function fromCall(ev: OcppCallEvent): StationEvent[] {
  if (ev.origin !== 'station') return [];
  const p = ev.payload;
  const { stationId, at } = ev;
  switch (ev.action) {
    case 'TransactionEvent':
      return transactionEvent(stationId, p, at);
    case 'MeterValues': {
      const evseId = num(p.evseId);
      if (evseId === undefined || evseId === 0) return [];
      const time = newestTime(p.meterValue);
      return [{ kind: 'meter', stationId, evseId, measurement: measurementOf(p.meterValue), at, ...(time !== undefined ? { time } : {}) }];
    }
    case 'StatusNotification': {
      const evseId = num(p.evseId);
      if (evseId === undefined || typeof p.connectorStatus !== 'string') return [];
      const time = typeof p.timestamp === 'string' ? Date.parse(p.timestamp) : NaN;
      return [{ kind: 'status', stationId, evseId, status: p.connectorStatus, at, ...(Number.isFinite(time) ? { time } : {}) }];
    }
    case 'NotifyEVChargingNeeds': {
      const evseId = num(p.evseId);
      const needs = chargingNeeds(p);
      if (evseId === undefined || !needs) return [];
      return [{ kind: 'needs', stationId, evseId, needs, at }];
    }
    default:
      return [];
  }
}

const PURPOSES: readonly ProfilePurpose[] = ['TxProfile', 'TxDefaultProfile', 'ChargingStationMaxProfile', 'ChargingStationExternalConstraints'];

/** The profile of an accepted SetChargingProfile, keeping only what can be evaluated (the station already took it). */
export function parseProfile(raw: unknown): ChargingProfile | undefined {
  const p = obj(raw);
  if (!p || typeof p.id !== 'number' || typeof p.stackLevel !== 'number') return undefined;
  const schedules: ChargingSchedule[] = [];
  for (const s of Array.isArray(p.chargingSchedule) ? (p.chargingSchedule as Array<Record<string, unknown>>) : []) {
    const periods = (Array.isArray(s.chargingSchedulePeriod) ? (s.chargingSchedulePeriod as Array<Record<string, unknown>>) : [])
      .filter((x) => typeof x.startPeriod === 'number' && typeof x.limit === 'number')
      .map((x) => ({ startPeriod: x.startPeriod as number, limit: x.limit as number, ...(typeof x.numberPhases === 'number' ? { numberPhases: x.numberPhases } : {}) }))
      .sort((a, b) => a.startPeriod - b.startPeriod);
    if (!periods.length) continue;
    schedules.push({
      id: typeof s.id === 'number' ? s.id : schedules.length,
      ...(typeof s.startSchedule === 'string' ? { startSchedule: s.startSchedule } : {}),
      ...(typeof s.duration === 'number' ? { duration: s.duration } : {}),
      chargingRateUnit: s.chargingRateUnit === 'W' ? 'W' : 'A',
      chargingSchedulePeriod: periods,
    });
  }
  const purpose = PURPOSES.find((x) => x === p.chargingProfilePurpose);
  if (!purpose) return undefined;
  const kind = p.chargingProfileKind === 'Recurring' || p.chargingProfileKind === 'Relative' ? p.chargingProfileKind : 'Absolute';
  return {
    id: p.id,
    stackLevel: p.stackLevel,
    chargingProfilePurpose: purpose,
    chargingProfileKind: kind,
    ...(p.recurrencyKind === 'Weekly' || p.recurrencyKind === 'Daily' ? { recurrencyKind: p.recurrencyKind } : {}),
    ...(typeof p.validFrom === 'string' ? { validFrom: p.validFrom } : {}),
    ...(typeof p.validTo === 'string' ? { validTo: p.validTo } : {}),
    ...(typeof p.transactionId === 'string' ? { transactionId: p.transactionId } : {}),
    chargingSchedule: schedules,
  };
}

/** A CALL's end → neutral events: the station's boot accepted, a CSMS profile the station accepted or cleared. */
export function fromResult(ev: OcppResultEvent): StationEvent[] {
  const { stationId, at } = ev;
  if (ev.origin === 'station' && ev.action === 'BootNotification' && ev.result?.status === 'Accepted') return [{ kind: 'booted', stationId, at }];
  if (ev.origin !== 'csms' || ev.result?.status !== 'Accepted') return [];
  if (ev.action === 'SetChargingProfile') {
    const profile = parseProfile(ev.request.chargingProfile);
    if (!profile) return [];
    return [{ kind: 'csms-profile-set', stationId, evseId: typeof ev.request.evseId === 'number' ? ev.request.evseId : 0, profile, at }];
  }
  if (ev.action === 'ClearChargingProfile') {
    const c = obj(ev.request.chargingProfileCriteria) ?? {};
    const purpose = PURPOSES.find((x) => x === c.chargingProfilePurpose);
    return [{
      kind: 'csms-profile-cleared', stationId, at,
      ...(typeof ev.request.chargingProfileId === 'number' ? { profileId: ev.request.chargingProfileId } : {}),
      ...(typeof c.evseId === 'number' ? { evseId: c.evseId } : {}),
      ...(purpose ? { purpose } : {}),
      ...(typeof c.stackLevel === 'number' ? { stackLevel: c.stackLevel } : {}),
    }];
  }
  return [];
}
