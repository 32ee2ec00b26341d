// The SetChargingProfile requests the controller sends: its one TxDefaultProfile per station and one TxProfile per EVSE.
// Never ChargingStationExternalConstraints (K01.FR.22), never ChargingStationMaxProfile (the CSMS's).
import type { StationCapabilities } from './capabilities.js';

/** Profile ids the controller owns on every station (one TxDefaultProfile, one TxProfile per EVSE). High enough that
 * a CSMS's own ids are unlikely to collide; same id → the station replaces the old profile instead of piling up. */
export const DEFAULT_PROFILE_ID = 1_900_000_000;
export const txProfileId = (evseId: number): number => DEFAULT_PROFILE_ID + evseId;
export const OWN_PROFILE_IDS: ReadonlySet<number> = new Set(Array.from({ length: 33 }, (_, i) => DEFAULT_PROFILE_ID + i));

/** Profiles carry one decimal: round down, never up. */
export const floorToTenth = (x: number): number => Math.max(0, Math.floor(x * 10 + 1e-9) / 10);

function schedule(id: number, caps: StationCapabilities, voltageV: number, limitA: number, phases: 1 | 3, phaseToUse?: number): Record<string, unknown> {
  // A where the station takes it (recommended for AC); W only for stations that list W alone.
  const useW = !caps.rateUnits.includes('A') && caps.rateUnits.includes('W');
  const limit = useW ? Math.floor(limitA * voltageV * phases) : limitA;
  const period: Record<string, unknown> = { startPeriod: 0, limit, numberPhases: phases };
  if (phaseToUse !== undefined) period.phaseToUse = phaseToUse;
  return { id, chargingRateUnit: useW ? 'W' : 'A', chargingSchedulePeriod: [period] };
}

/** The conservative default for every EVSE (evseId 0), without validity: it is what the station falls back to. */
export function txDefaultRequest(a: { limitA: number; stackLevel: number; caps: StationCapabilities; voltageV: number }): Record<string, unknown> {
  return {
    evseId: 0,
    chargingProfile: {
      id: DEFAULT_PROFILE_ID,
      stackLevel: a.stackLevel,
      chargingProfilePurpose: 'TxDefaultProfile',
      chargingProfileKind: 'Relative',
      chargingSchedule: [schedule(DEFAULT_PROFILE_ID, a.caps, a.voltageV, a.limitA, 3)],
    },
  };
}

/** One session's limit: Relative, its transactionId, one period, and validTo as the watchdog (docs/control.md). */
export function txProfileRequest(a: {
  evseId: number;
  transactionId: string;
  limitA: number;
  phases: 1 | 3;
  phaseToUse?: number;
  stackLevel: number;
  validTo: number;
  caps: StationCapabilities;
  voltageV: number;
}): Record<string, unknown> {
  const id = txProfileId(a.evseId);
  return {
    evseId: a.evseId,
    chargingProfile: {
      id,
      stackLevel: a.stackLevel,
      chargingProfilePurpose: 'TxProfile',
      chargingProfileKind: 'Relative',
      transactionId: a.transactionId,
      // Without renewal the profile lapses and the station falls back to its TxDefaultProfile.
      validTo: new Date(a.validTo).toISOString(),
      chargingSchedule: [schedule(id, a.caps, a.voltageV, a.limitA, a.phases, a.phaseToUse)],
    },
  };
}
