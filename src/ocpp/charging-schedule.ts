// OCPP 2.0.1 charging schedules: the ChargingProfile types (from the OCA schema types) and what one profile limits at a
// moment. Shared by the controller (its own ChargingStationMaxProfiles, K08 composite schedule), the control loop (the
// CSMS's profiles on each station) and the simulated station. Each caller keeps its own policy of how several profiles
// combine (stack levels, purposes); this module only answers "which period of this profile is in force at t, until when,
// and how many amperes per phase is that". Pure: time is a parameter (epoch ms), nothing reads a clock.
//
// Semantics (OCPP 2.0.1 Part 2 K01 / ChargingProfileType, ChargingScheduleType; EVerest libocpp's profile.cpp as the
// reference implementation where the text is silent):
// - validFrom absent = valid from when the station received the profile; validTo absent = valid until replaced. A
//   profile applies in [validFrom, validTo).
// - Absolute: periods count from startSchedule.
// - Recurring: startSchedule anchors a cycle of one day (Daily) or 7 days (Weekly) that repeats in both directions, so a
//   daily 08:00 profile received at 10:00 on its first day applies from then (libocpp does the same); validFrom/validTo
//   only bound it. A schedule's duration ends it within each cycle; a cycle never runs into the next one.
// - Relative: periods count from the start of the transaction. Without a transaction the schedule starts "now" (as for a
//   transaction starting at t: its first period), as libocpp does.
// - startSchedule absent on an Absolute/Recurring profile (K01.FR.40 forbids it, so only a lenient station keeps one):
//   the schema says "relative to start of charging", so it is treated as Relative.
// - duration absent: the last period runs on (until validTo, or the transaction's end for a TxProfile).
// - numberPhases absent = 3 (K01.FR.49). A limit in W is A per phase = W / (nominal voltage x numberPhases).
import type { SetChargingProfileRequest } from './messages.js';

type OcaChargingProfile = SetChargingProfileRequest['chargingProfile'];
type OcaChargingSchedule = OcaChargingProfile['chargingSchedule'][number];

export type ChargingSchedulePeriod = OcaChargingSchedule['chargingSchedulePeriod'][number];
/** A ChargingScheduleType (OCA), unchanged. */
export type ChargingSchedule = OcaChargingSchedule;
/** A ChargingProfileType (OCA) whose 1..3 schedules are a plain array (the schema check bounds the count on the wire). */
export type ChargingProfile = Omit<OcaChargingProfile, 'chargingSchedule'> & { chargingSchedule: ChargingSchedule[] };
export type ProfilePurpose = ChargingProfile['chargingProfilePurpose'];
export type ProfileKind = ChargingProfile['chargingProfileKind'];
export type RecurrencyKind = NonNullable<ChargingProfile['recurrencyKind']>;
export type RateUnit = ChargingSchedule['chargingRateUnit'];

/** A profile as a charging station holds it: the EVSE it was set on and when the station accepted it (epoch ms). */
export interface InstalledProfile {
  evseId: number;
  profile: ChargingProfile;
  /** Epoch ms it was received: an absent validFrom means valid from then. */
  receivedAt: number;
}

const DAY_MS = 86_400_000;

/** Epoch ms of an OCPP date-time, or undefined when absent or not a date. */
export function parseTime(iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}

/** [from, to) in epoch ms during which a profile may apply. */
export function validityWindow(p: { profile: Pick<ChargingProfile, 'validFrom' | 'validTo'>; receivedAt: number }): [number, number] {
  return [parseTime(p.profile.validFrom) ?? p.receivedAt, parseTime(p.profile.validTo) ?? Infinity];
}

/** Length of one recurrence cycle in ms; undefined for Absolute and Relative profiles. */
export function recurrenceMs(profile: Pick<ChargingProfile, 'chargingProfileKind' | 'recurrencyKind'>): number | undefined {
  if (profile.chargingProfileKind !== 'Recurring') return undefined;
  // A Recurring profile without recurrencyKind is invalid (stations reject it); Daily is the shorter, safer guess.
  return profile.recurrencyKind === 'Weekly' ? 7 * DAY_MS : DAY_MS;
}

export interface ScheduleContext {
  /** When the station received the profile (epoch ms). */
  receivedAt: number;
  /** Start of the transaction the profile applies to (epoch ms), for Relative schedules; absent = no transaction. */
  transactionStartedAt?: number;
}

/**
 * Where a schedule's periods count from for the cycle that contains t (epoch ms), and whether that start moves with t
 * (a Relative schedule without a transaction always starts at t).
 */
export function scheduleStart(
  profile: Pick<ChargingProfile, 'chargingProfileKind' | 'recurrencyKind'>,
  schedule: Pick<ChargingSchedule, 'startSchedule'>,
  t: number,
  transactionStartedAt?: number,
): { start: number; floating: boolean } {
  const anchor = profile.chargingProfileKind === 'Relative' ? undefined : parseTime(schedule.startSchedule);
  if (anchor === undefined) return transactionStartedAt !== undefined ? { start: transactionStartedAt, floating: false } : { start: t, floating: true };
  const cycle = recurrenceMs(profile);
  return { start: cycle ? anchor + Math.floor((t - anchor) / cycle) * cycle : anchor, floating: false };
}

export interface PeriodInForce {
  /** Index of the schedule in the profile and of the period in that schedule. */
  schedule: number;
  period: number;
  limit: number;
  unit: RateUnit;
  /** 1..3; 3 when the period does not say. */
  numberPhases: number;
  phaseToUse?: number;
  /** Epoch ms the period's schedule (this cycle of it) started. */
  scheduleStart: number;
}

export interface ProfileAt {
  /** The period in force at t; absent when the profile puts no limit then (not valid, not started, or over). */
  active?: PeriodInForce;
  /** Next time (> t, epoch ms) at which the result may change; Infinity when never. */
  next: number;
}

/** Evaluates one schedule (default: the first) of a profile at t. */
export function profileAt(profile: ChargingProfile, t: number, ctx: ScheduleContext, scheduleIndex = 0): ProfileAt {
  const [from, to] = validityWindow({ profile, receivedAt: ctx.receivedAt });
  if (t >= to) return { next: Infinity };
  if (t < from) return { next: from };
  const schedule = profile.chargingSchedule[scheduleIndex];
  if (!schedule || schedule.chargingSchedulePeriod.length === 0) return { next: to };
  const { start, floating } = scheduleStart(profile, schedule, t, ctx.transactionStartedAt);
  if (t < start) return { next: Math.min(start, to) };
  const cycle = recurrenceMs(profile);
  const cycleEnd = cycle !== undefined ? start + cycle : Infinity;
  const end = Math.min(schedule.duration !== undefined ? start + schedule.duration * 1000 : Infinity, cycleEnd);
  if (t >= end) return { next: Math.min(cycleEnd, to) };
  // The period in force is the one with the latest startPeriod not after t (periods ascend, K01.FR.35, but a lenient
  // sender's order is not relied on).
  const offset = t - start;
  const periods = schedule.chargingSchedulePeriod;
  let i = -1;
  let nextStart = Infinity;
  for (let k = 0; k < periods.length; k++) {
    const s = periods[k].startPeriod * 1000;
    if (s <= offset) {
      if (i < 0 || s >= periods[i].startPeriod * 1000) i = k;
    } else nextStart = Math.min(nextStart, start + s);
  }
  // A schedule whose first period starts after 0 (invalid, K01.FR.31) puts no limit before it.
  if (i < 0) return { next: floating ? to : Math.min(nextStart, end, to) };
  const p = periods[i];
  return {
    active: {
      schedule: scheduleIndex,
      period: i,
      limit: p.limit,
      unit: schedule.chargingRateUnit,
      numberPhases: p.numberPhases ?? 3,
      ...(p.phaseToUse !== undefined ? { phaseToUse: p.phaseToUse } : {}),
      scheduleStart: start,
    },
    // A floating start (Relative, no transaction) keeps the first period until the profile stops being valid.
    next: floating ? to : Math.min(nextStart, end, to),
  };
}

/**
 * A period's limit as amperes per phase (and the watts when it was given in W), with the nominal phase-to-neutral
 * voltage: W -> A = limit / (voltage x numberPhases). Never negative.
 */
export function periodAsCurrent(p: Pick<PeriodInForce, 'limit' | 'unit' | 'numberPhases'>, voltageV: number): { limitA: number; limitW?: number } {
  const limit = Math.max(0, p.limit);
  if (p.unit === 'A') return { limitA: limit };
  return { limitA: limit / (voltageV * p.numberPhases), limitW: limit };
}
