// K01 validity rules for a SetChargingProfile on the controller's own identity (a charging station without EVSEs).
// Pure: the caller passes the time and what is installed.
import { validityWindow } from '../ocpp/charging-schedule.js';
import type { ChargingProfile, InstalledProfile, ProfileRejection } from './profiles-types.js';

export interface ProfileLimits {
  now: number;
  installed: readonly InstalledProfile[];
  /** SmartChargingCtrlr.RateUnit members. */
  rateUnits: readonly string[];
  /** SmartChargingCtrlr.PeriodsPerSchedule. */
  periodsPerSchedule: number;
  /** SmartChargingCtrlr.ProfileStackLevel. */
  maxStackLevel: number;
  /** SmartChargingCtrlr.Entries[ChargingProfiles] maxLimit. */
  maxEntries: number;
}

function reject(reasonCode: string, additionalInfo: string): ProfileRejection {
  return { reasonCode, additionalInfo };
}

function isDate(s: string): boolean {
  return /^\d{4}-\d{2}-\d{2}T/.test(s) && !Number.isNaN(Date.parse(s));
}

/** Returns why the profile must be Rejected, or undefined when it may be installed. */
export function validateProfile(evseId: number, profile: ChargingProfile, limits: ProfileLimits): ProfileRejection | undefined {
  const purpose = profile.chargingProfilePurpose;
  // K01.FR.22: the CSMS SHALL NOT set ExternalConstraints; that purpose reports limits from other systems (here: K14).
  if (purpose === 'ChargingStationExternalConstraints') return reject('InvalidProfile', 'ChargingStationExternalConstraints cannot be set by the CSMS (K01.FR.22)');
  // The controller's identity is a charging station without EVSEs (Part 1 §8.3): nothing for Tx profiles to act on.
  if (purpose === 'TxProfile' || purpose === 'TxDefaultProfile') return reject('InvalidProfile', `${purpose}: this station has no EVSEs`);
  if (purpose !== 'ChargingStationMaxProfile') return reject('InvalidProfile', `unknown purpose ${String(purpose)}`);
  // K01.FR.03 / K01.FR.28
  if (evseId !== 0) return reject('UnknownEvse', `ChargingStationMaxProfile needs evseId 0; this station has no EVSE ${evseId}`);
  // K01.FR.38
  if (profile.chargingProfileKind === 'Relative') return reject('InvalidProfile', 'a ChargingStationMaxProfile cannot be Relative (K01.FR.38)');
  if (profile.chargingProfileKind === 'Recurring' && profile.recurrencyKind === undefined) return reject('InvalidProfile', 'a Recurring profile needs recurrencyKind');
  if (profile.transactionId !== undefined) return reject('InvalidProfile', 'transactionId is only for TxProfile');
  if (!Number.isInteger(profile.stackLevel) || profile.stackLevel < 0 || profile.stackLevel > limits.maxStackLevel) {
    return reject('InvalidStackLevel', `stackLevel must be 0..${limits.maxStackLevel} (SmartChargingCtrlr.ProfileStackLevel)`);
  }
  // Several schedules are only for ISO 15118 TxProfiles.
  if (profile.chargingSchedule.length !== 1) return reject('InvalidSchedule', 'a ChargingStationMaxProfile has exactly one chargingSchedule');
  const schedule = profile.chargingSchedule[0];
  // K01.FR.40
  if (schedule.startSchedule === undefined) return reject('InvalidSchedule', 'Absolute and Recurring profiles need startSchedule (K01.FR.40)');
  if (!isDate(schedule.startSchedule)) return reject('InvalidSchedule', 'startSchedule is not a date-time');
  // K01.FR.26
  if (!limits.rateUnits.includes(schedule.chargingRateUnit)) return reject('UnsupportedRateUnit', `chargingRateUnit ${schedule.chargingRateUnit} is not in SmartChargingCtrlr.RateUnit`);
  if (schedule.duration !== undefined && schedule.duration <= 0) return reject('InvalidSchedule', 'duration must be positive');
  const periods = schedule.chargingSchedulePeriod;
  if (periods.length === 0) return reject('InvalidSchedule', 'no chargingSchedulePeriod');
  if (periods.length > limits.periodsPerSchedule) return reject('InvalidSchedule', `at most ${limits.periodsPerSchedule} periods (SmartChargingCtrlr.PeriodsPerSchedule)`);
  // K01.FR.31
  if (periods[0].startPeriod !== 0) return reject('InvalidSchedule', 'the first period must start at 0 (K01.FR.31)');
  for (let i = 0; i < periods.length; i++) {
    const p = periods[i];
    // K01.FR.35
    if (i > 0 && !(p.startPeriod > periods[i - 1].startPeriod)) return reject('InvalidSchedule', `period ${i}: startPeriod must increase (K01.FR.35)`);
    if (!Number.isFinite(p.limit) || p.limit < 0) return reject('InvalidSchedule', `period ${i}: limit must be 0 or more`);
    if (p.numberPhases !== undefined && (p.numberPhases < 1 || p.numberPhases > 3)) return reject('InvalidSchedule', `period ${i}: numberPhases must be 1..3`);
    // K01.FR.19/20: phaseToUse needs ACPhaseSwitchingSupported, which this controller does not have.
    if (p.phaseToUse !== undefined) return reject('InvalidSchedule', `period ${i}: phaseToUse is not supported (ACPhaseSwitchingSupported is false)`);
  }
  if (profile.validFrom !== undefined && !isDate(profile.validFrom)) return reject('InvalidValue', 'validFrom is not a date-time');
  if (profile.validTo !== undefined && !isDate(profile.validTo)) return reject('InvalidValue', 'validTo is not a date-time');
  const candidate: InstalledProfile = { evseId, profile, receivedAt: limits.now };
  const [from, to] = validityWindow(candidate);
  if (to <= from) return reject('InvalidValue', 'validTo is not after validFrom');
  if (to <= limits.now) return reject('InvalidValue', 'validTo has already passed');
  // K01.FR.05: same id replaces. Otherwise two profiles of one purpose and stack level must not be valid at the same time.
  for (const other of limits.installed) {
    if (other.profile.id === profile.id) continue;
    if (other.evseId !== evseId || other.profile.chargingProfilePurpose !== purpose || other.profile.stackLevel !== profile.stackLevel) continue;
    const [ofrom, oto] = validityWindow(other);
    if (from < oto && ofrom < to) return reject('DuplicateProfile', `profile ${other.profile.id} has the same purpose and stackLevel ${profile.stackLevel} in an overlapping validity period`);
  }
  const replaces = limits.installed.some((o) => o.profile.id === profile.id);
  if (!replaces && limits.installed.length >= limits.maxEntries) return reject('OutOfStorage', `at most ${limits.maxEntries} profiles can be installed`);
  return undefined;
}
