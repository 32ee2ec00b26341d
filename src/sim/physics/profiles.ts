// How a charging station combines the charging profiles installed on it into the limit it applies now, as OCPP 2.0.1
// stations do (K01, errata 2025-09 §2.40/§2.41; EVerest libocpp's composite schedule as the reference implementation):
//   effective = ChargingStationMaxProfile  ∧  (TxProfile of the running transaction, else TxDefaultProfile)
// Within one purpose the profile with the highest stackLevel that has a period in force *replaces* the lower ones (it is
// not a minimum); validFrom/validTo bound a profile; Relative schedules start at the transaction start (now when there
// is no transaction); Absolute at startSchedule; Recurring repeats daily/weekly around startSchedule.
// ChargingStationExternalConstraints are combined like a second Max limit (a station receives them from an EMS).
// One profile's evaluation (schedule start, period in force, W -> A) is src/ocpp/charging-schedule.ts.
// Pure: time is a parameter.
import { parseTime as ms, periodAsCurrent, profileAt, type ChargingProfile, type InstalledProfile, type ProfilePurpose } from '../../ocpp/charging-schedule.js';

export type { ChargingProfile, InstalledProfile };

/** A limit in force: per-phase current (A) and the phases allowed. */
export interface PhaseLimit {
  limitA: number;
  numberPhases: 1 | 3;
  phaseToUse?: number;
}

export interface EvseContext {
  evseId: number;
  transactionId?: string;
  /** Epoch ms of the transaction start (for Relative schedules). */
  transactionStartedAt?: number;
  voltageV: number;
}

/** The limit one profile's schedule gives at `now`, or undefined when it has no period in force then. */
export function scheduleLimitAt(p: InstalledProfile, now: number, ctx: EvseContext): PhaseLimit | undefined {
  // A Relative schedule counts from this EVSE's transaction start; without a transaction it starts now.
  const { active } = profileAt(p.profile, now, { receivedAt: p.receivedAt, ...(ctx.transactionStartedAt !== undefined ? { transactionStartedAt: ctx.transactionStartedAt } : {}) });
  if (!active) return undefined;
  // The simulated EV draws on one phase or on three: a 2-phase period is offered as 3 phases at its per-phase current.
  const numberPhases: 1 | 3 = active.numberPhases === 1 ? 1 : 3;
  return { limitA: periodAsCurrent(active, ctx.voltageV).limitA, numberPhases, phaseToUse: active.phaseToUse };
}

/** Highest stackLevel with a period in force wins; on equal levels an EVSE-specific profile beats one on evseId 0. */
function winner(profiles: InstalledProfile[], now: number, ctx: EvseContext): PhaseLimit | undefined {
  const sorted = [...profiles].sort((a, b) => b.profile.stackLevel - a.profile.stackLevel || b.evseId - a.evseId);
  for (const p of sorted) {
    const l = scheduleLimitAt(p, now, ctx);
    if (l) return l;
  }
  return undefined;
}

function combine(a: PhaseLimit | undefined, b: PhaseLimit | undefined): PhaseLimit | undefined {
  if (!a) return b;
  if (!b) return a;
  const numberPhases: 1 | 3 = a.numberPhases === 1 || b.numberPhases === 1 ? 1 : 3;
  return { limitA: Math.min(a.limitA, b.limitA), numberPhases, phaseToUse: a.phaseToUse ?? b.phaseToUse };
}

/**
 * The limit the station applies on one EVSE now, or undefined when no profile is in force (the station's own
 * maximum then applies).
 */
export function effectiveLimit(installed: InstalledProfile[], now: number, ctx: EvseContext): PhaseLimit | undefined {
  const on = (purpose: ProfilePurpose, evseMatch: (e: number) => boolean) =>
    installed.filter((p) => p.profile.chargingProfilePurpose === purpose && evseMatch(p.evseId));
  const max = winner(on('ChargingStationMaxProfile', (e) => e === 0), now, ctx);
  const external = winner(on('ChargingStationExternalConstraints', (e) => e === 0 || e === ctx.evseId), now, ctx);
  let tx: PhaseLimit | undefined;
  if (ctx.transactionId !== undefined) {
    const txProfiles = installed.filter(
      (p) => p.profile.chargingProfilePurpose === 'TxProfile' && p.evseId === ctx.evseId && p.profile.transactionId === ctx.transactionId,
    );
    tx = winner(txProfiles, now, ctx);
  }
  // TxDefaultProfile applies only when no TxProfile is in force for the transaction.
  if (!tx) tx = winner(on('TxDefaultProfile', (e) => e === 0 || e === ctx.evseId), now, ctx);
  return combine(combine(max, external), tx);
}

/** Whether two profiles' validFrom..validTo windows overlap (absent = unbounded). */
function overlaps(a: ChargingProfile, b: ChargingProfile): boolean {
  const lo = (p: ChargingProfile) => ms(p.validFrom) ?? -Infinity;
  const hi = (p: ChargingProfile) => ms(p.validTo) ?? Infinity;
  return lo(a) < hi(b) && lo(b) < hi(a);
}

/** Why a station would refuse a profile (K01 validity rules), or undefined when it is acceptable. */
export function validateProfile(
  evseId: number,
  profile: ChargingProfile,
  opts: { evseCount: number; activeTransactions: Map<number, string>; rateUnits: ('A' | 'W')[]; maxStackLevel: number; periodsPerSchedule: number; installed: InstalledProfile[] },
): string | undefined {
  const purpose = profile.chargingProfilePurpose;
  const schedule = profile.chargingSchedule[0];
  if (evseId < 0 || evseId > opts.evseCount) return `unknown evseId ${evseId}`;
  if (purpose === 'ChargingStationExternalConstraints') return 'ChargingStationExternalConstraints cannot be set by SetChargingProfile (K01.FR.22)';
  if (purpose === 'ChargingStationMaxProfile' && evseId !== 0) return 'ChargingStationMaxProfile needs evseId 0 (K01.FR.38)';
  if (purpose === 'ChargingStationMaxProfile' && profile.chargingProfileKind === 'Relative') return 'ChargingStationMaxProfile cannot be Relative (K01.FR.38)';
  if (purpose === 'TxProfile') {
    if (evseId === 0) return 'TxProfile needs an evseId > 0 (K01.FR.16)';
    if (!profile.transactionId) return 'TxProfile needs a transactionId (K01.FR.03)';
    if (opts.activeTransactions.get(evseId) !== profile.transactionId) return 'no such transaction on that EVSE (K01.FR.09)';
  } else if (profile.transactionId !== undefined) {
    return 'transactionId only on a TxProfile';
  }
  if (profile.stackLevel < 0 || profile.stackLevel > opts.maxStackLevel) return `stackLevel above ProfileStackLevel (${opts.maxStackLevel})`;
  if (!schedule) return 'no chargingSchedule';
  const periods = schedule.chargingSchedulePeriod;
  if (!periods.length || periods[0].startPeriod !== 0) return 'first startPeriod must be 0 (K01.FR.31)';
  if (periods.length > opts.periodsPerSchedule) return `more periods than PeriodsPerSchedule (${opts.periodsPerSchedule})`;
  for (let i = 1; i < periods.length; i++) if (periods[i].startPeriod <= periods[i - 1].startPeriod) return 'startPeriod must ascend (K01.FR.35)';
  if (periods.some((p) => p.limit < 0)) return 'negative limit';
  if (!opts.rateUnits.includes(schedule.chargingRateUnit)) return `unit ${schedule.chargingRateUnit} not in RateUnit (K01.FR.26)`;
  if (profile.chargingProfileKind === 'Relative' && schedule.startSchedule !== undefined) return 'Relative schedule must not have startSchedule (K01.FR.41)';
  if (profile.chargingProfileKind !== 'Relative' && schedule.startSchedule === undefined) return 'Absolute/Recurring schedule needs startSchedule (K01.FR.40)';
  if (profile.chargingProfileKind === 'Recurring' && !profile.recurrencyKind) return 'Recurring profile needs recurrencyKind';
  // (stackLevel, purpose, evse) must be unique, except that the same id replaces itself (K01.FR.05/.39).
  const clash = opts.installed.find(
    (p) =>
      p.profile.id !== profile.id &&
      p.evseId === evseId &&
      p.profile.chargingProfilePurpose === purpose &&
      p.profile.stackLevel === profile.stackLevel &&
      (purpose === 'TxProfile' ? p.profile.transactionId === profile.transactionId : overlaps(p.profile, profile)),
  );
  if (clash) return `stackLevel ${profile.stackLevel} already used by profile ${clash.profile.id} (K01.FR.39)`;
  return undefined;
}
