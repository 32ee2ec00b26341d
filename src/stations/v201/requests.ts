// Neutral requests → OCPP 2.0.1 calls: capabilities from GetVariables (SmartChargingCtrlr), the controller's
// TxDefaultProfile and TxProfiles as SetChargingProfile, GetCompositeSchedule (moved here from src/control).
// Never ChargingStationExternalConstraints (K01.FR.22), never ChargingStationMaxProfile (the CSMS's).
import { floorToTenth } from '../../../algorithms/index.js';
import { OcppCallError } from '../../ocpp/errors.js';
import type { StationCaller } from '../../relay/events.js';
import { DEFAULT_PROFILE_ID, txProfileId, type CompositeSchedule, type DefaultLimit, type LimitAnswer, type SessionLimit, type StationCapabilities, type StationRequests } from '../model.js';

const COMPONENT = 'SmartChargingCtrlr';
const VARIABLES = ['RateUnit', 'PeriodsPerSchedule', 'ProfileStackLevel', 'ACPhaseSwitchingSupported'] as const;

export function getVariablesRequest(): Record<string, unknown> {
  return { getVariableData: VARIABLES.map((name) => ({ component: { name: COMPONENT }, variable: { name } })) };
}

/** Reads the answer to getVariablesRequest(); values the station did not give keep their fallback. */
export function parseCapabilities(result: Record<string, unknown>, fallback: StationCapabilities): StationCapabilities {
  const caps: StationCapabilities = { ...fallback, source: 'station' };
  const results = Array.isArray(result.getVariableResult) ? result.getVariableResult : [];
  for (const r of results as Array<Record<string, unknown>>) {
    if (r?.attributeStatus !== 'Accepted' || typeof r.attributeValue !== 'string') continue;
    const variable = (r.variable as { name?: unknown } | undefined)?.name;
    const value = r.attributeValue.trim();
    switch (variable) {
      case 'RateUnit': {
        const units = value.split(',').map((u) => u.trim()).filter((u): u is 'A' | 'W' => u === 'A' || u === 'W');
        if (units.length) caps.rateUnits = units;
        break;
      }
      case 'PeriodsPerSchedule': {
        const n = Number.parseInt(value, 10);
        if (Number.isFinite(n) && n >= 1) caps.periodsPerSchedule = n;
        break;
      }
      case 'ProfileStackLevel': {
        const n = Number.parseInt(value, 10);
        if (Number.isFinite(n) && n >= 0) caps.maxStackLevel = n;
        break;
      }
      case 'ACPhaseSwitchingSupported':
        caps.phaseSwitching = value.toLowerCase() === 'true';
        break;
    }
  }
  return caps;
}

function schedule(id: number, caps: StationCapabilities, voltageV: number, limitA: number, phases: 1 | 3, phaseToUse?: number): Record<string, unknown> {
  // A where the station takes it (recommended for AC); W only for stations that list W alone.
  // Config quirks (docs/stations.md) pin the unit for firmware that says one thing and takes another.
  const useW = caps.quirks?.includes('watts-only') || (!caps.quirks?.includes('amps-only') && !caps.rateUnits.includes('A') && caps.rateUnits.includes('W'));
  const limit = useW ? Math.floor(limitA * voltageV * phases) : limitA;
  const period: Record<string, unknown> = { startPeriod: 0, limit, numberPhases: phases };
  if (phaseToUse !== undefined) period.phaseToUse = phaseToUse;
  return { id, chargingRateUnit: useW ? 'W' : 'A', chargingSchedulePeriod: [period] };
}

/** The conservative default for every EVSE (evseId 0), without validity: it is what the station falls back to. */
export function txDefaultRequest(a: DefaultLimit): Record<string, unknown> {
  return {
    evseId: 0,
    chargingProfile: {
      id: DEFAULT_PROFILE_ID,
      stackLevel: a.caps.quirks?.includes('stack-level-0-only') ? 0 : a.stackLevel,
      chargingProfilePurpose: 'TxDefaultProfile',
      chargingProfileKind: 'Relative',
      chargingSchedule: [schedule(DEFAULT_PROFILE_ID, a.caps, a.voltageV, a.limitA, 3)],
    },
  };
}

/** One session's limit: Relative, its transactionId, one period, and validTo as the watchdog (docs/control.md). */
export function txProfileRequest(a: SessionLimit): Record<string, unknown> {
  const id = txProfileId(a.evseId);
  return {
    evseId: a.evseId,
    chargingProfile: {
      id,
      stackLevel: a.caps.quirks?.includes('stack-level-0-only') ? 0 : a.stackLevel,
      chargingProfilePurpose: 'TxProfile',
      chargingProfileKind: 'Relative',
      transactionId: a.transactionId,
      // Without renewal the profile lapses and the station falls back to its TxDefaultProfile.
      validTo: new Date(a.validTo).toISOString(),
      chargingSchedule: [schedule(id, a.caps, a.voltageV, a.limitA, a.phases, a.phaseToUse)],
    },
  };
}

const notSupported = (err: unknown): err is OcppCallError => err instanceof OcppCallError && (err.code === 'NotImplemented' || err.code === 'NotSupported');
const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** A SetChargingProfile sent, its reply (or failure) as a LimitAnswer. */
async function setProfile(caller: StationCaller, stationId: string, payload: Record<string, unknown>, timeoutMs?: number): Promise<LimitAnswer> {
  try {
    const r = await caller.call(stationId, 'SetChargingProfile', payload, timeoutMs ? { timeoutMs } : undefined);
    if (r.status === 'Accepted') return { status: 'Accepted' };
    const info = r.statusInfo as { reasonCode?: unknown } | undefined;
    return { status: 'Rejected', ...(typeof info?.reasonCode === 'string' ? { reason: info.reasonCode } : {}) };
  } catch (err) {
    if (notSupported(err)) return { status: 'NotSupported', reason: `station answered ${err.code} to SetChargingProfile` };
    // Timeout, not connected, or a transient CALLERROR: worth another try.
    return { status: 'Timeout', reason: `SetChargingProfile failed: ${message(err)}` };
  }
}

export function requests(caller: StationCaller): StationRequests {
  return {
    /**
     * NotImplemented / NotSupported is an answer (the config fallback is final); any other failure is not (`final:
     * false`: use the fallback for now and ask again later) — SecurityError before its boot was accepted, a timeout, a
     * lost connection.
     */
    async readCapabilities(stationId, fallback, timeoutMs) {
      try {
        const result = await caller.call(stationId, 'GetVariables', getVariablesRequest(), timeoutMs ? { timeoutMs } : undefined);
        return { caps: parseCapabilities(result, fallback), final: true };
      } catch (err) {
        return { caps: fallback, final: notSupported(err) };
      }
    },
    setDefaultLimit: (stationId, limit, timeoutMs) => setProfile(caller, stationId, txDefaultRequest(limit), timeoutMs),
    async setSessionLimit(stationId, limit, timeoutMs) {
      // A station that refuses 0 A (no-zero, known or learned here) is held at its minimum instead; the loop counts it
      // there. One that rejects a limit below its minimum is asked once more with the minimum: if it takes that, it
      // has the quirk (kept), rather than being judged not controllable for a pause it cannot do.
      const min = limit.minA ?? 6;
      const atMin = async (learned: boolean): Promise<LimitAnswer> => {
        const r = await setProfile(caller, stationId, txProfileRequest({ ...limit, limitA: min }), timeoutMs);
        return r.status === 'Accepted' ? { status: 'Accepted', appliedA: min, ...(learned ? { learned: ['no-zero'] } : {}) } : r;
      };
      if (limit.caps.quirks?.includes('no-zero') && limit.limitA < min) return atMin(false);
      const r = await setProfile(caller, stationId, txProfileRequest(limit), timeoutMs);
      return r.status === 'Rejected' && limit.limitA < min ? atMin(true) : r;
    },
    async compositeSchedule(stationId, evseId, durationS, timeoutMs): Promise<CompositeSchedule | undefined> {
      try {
        const r = await caller.call(stationId, 'GetCompositeSchedule', { duration: durationS, evseId, chargingRateUnit: 'A' }, timeoutMs ? { timeoutMs } : undefined);
        const s = r.schedule as Record<string, unknown> | undefined;
        if (r.status !== 'Accepted' || !s || s.chargingRateUnit !== 'A' || !Array.isArray(s.chargingSchedulePeriod)) return undefined;
        const startAt = typeof s.scheduleStart === 'string' ? Date.parse(s.scheduleStart) : NaN;
        const periods = (s.chargingSchedulePeriod as Array<Record<string, unknown>>)
          .filter((p) => typeof p.startPeriod === 'number' && typeof p.limit === 'number')
          .map((p) => ({ startS: p.startPeriod as number, limitA: floorToTenth(p.limit as number), ...(typeof p.numberPhases === 'number' ? { phases: p.numberPhases } : {}) }));
        return Number.isFinite(startAt) ? { evseId, startAt, periods } : undefined;
      } catch {
        return undefined;
      }
    },
  };
}
