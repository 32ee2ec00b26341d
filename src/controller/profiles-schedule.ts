// What a set of installed ChargingStationMaxProfiles limits at a moment, when that next changes, and the composite
// schedule over a window (K08). Pure: times are epoch ms passed in.
import type { PhaseVector } from '../../algorithms/types.js';
import type { InstalledProfile, RateUnit } from './profiles-types.js';
import { validityWindow } from './profiles-validate.js';

const DAY_MS = 86_400_000;

export interface PeriodInForce {
  installed: InstalledProfile;
  limit: number;
  unit: RateUnit;
  numberPhases: number;
  /** Index of the period in the schedule. */
  period: number;
}

export interface ProfileAt {
  active?: PeriodInForce;
  /** Next time (> t) at which this profile's contribution may change; Infinity if never. */
  next: number;
}

/** Evaluates one Absolute or Recurring profile at time t. */
export function profileAt(installed: InstalledProfile, t: number): ProfileAt {
  const [from, to] = validityWindow(installed);
  if (t >= to) return { next: Infinity };
  if (t < from) return { next: from };
  const schedule = installed.profile.chargingSchedule[0];
  if (!schedule?.startSchedule) return { next: to };
  const start0 = Date.parse(schedule.startSchedule);
  const recurrence = installed.profile.chargingProfileKind === 'Recurring' ? (installed.profile.recurrencyKind === 'Weekly' ? 7 * DAY_MS : DAY_MS) : undefined;
  // Recurring schedules repeat from startSchedule in both directions (a daily 08:00 profile applies every day).
  const start = recurrence ? start0 + Math.floor((t - start0) / recurrence) * recurrence : start0;
  if (t < start) return { next: Math.min(start, to) };
  const offset = t - start;
  let end = schedule.duration !== undefined ? start + schedule.duration * 1000 : Infinity;
  if (recurrence) end = Math.min(end, start + recurrence);
  const cycleEnd = recurrence ? start + recurrence : Infinity;
  if (t >= end) return { next: Math.min(cycleEnd, to) };
  const periods = schedule.chargingSchedulePeriod;
  let i = 0;
  while (i + 1 < periods.length && periods[i + 1].startPeriod * 1000 <= offset) i++;
  const periodEnd = i + 1 < periods.length ? start + periods[i + 1].startPeriod * 1000 : Infinity;
  const p = periods[i];
  return {
    active: { installed, limit: p.limit, unit: schedule.chargingRateUnit, numberPhases: p.numberPhases ?? 3, period: i },
    next: Math.min(periodEnd, end, to),
  };
}

/** The ChargingStationMaxProfile in force at t: the highest stackLevel that has a period at t (lower levels show
 * through where a higher one has none). Equal levels (not accepted by validation) resolve to the lower limit. */
export function maxProfileAt(profiles: readonly InstalledProfile[], t: number): { active?: PeriodInForce; next: number } {
  let best: PeriodInForce | undefined;
  let next = Infinity;
  for (const p of profiles) {
    if (p.profile.chargingProfilePurpose !== 'ChargingStationMaxProfile' || p.evseId !== 0) continue;
    const at = profileAt(p, t);
    next = Math.min(next, at.next);
    if (!at.active) continue;
    if (!best || p.profile.stackLevel > best.installed.profile.stackLevel || (p.profile.stackLevel === best.installed.profile.stackLevel && at.active.limit < best.limit)) {
      best = at.active;
    }
  }
  return { active: best, next };
}

/** A period's limit as amperes per phase (and watts when given in W). W -> A: limit / (voltage x numberPhases). */
export function periodAsCurrent(p: Pick<PeriodInForce, 'limit' | 'unit' | 'numberPhases'>, voltage: number): { limitA: PhaseVector; limitW?: number } {
  if (p.unit === 'A') return { limitA: [p.limit, p.limit, p.limit] };
  const a = p.limit / (voltage * p.numberPhases);
  return { limitA: [a, a, a], limitW: p.limit };
}

export interface CompositePeriod {
  startPeriod: number;
  limit: number;
  numberPhases: number;
}

/**
 * K08 composite schedule for evseId 0 over [start, start + durationS): per interval, the lowest of the profile in force
 * and the constant `ceilingA` (per-phase amperes: fuse and external limits) / `ceilingW`, in `unit`.
 */
export function compositeSchedule(
  profiles: readonly InstalledProfile[],
  start: number,
  durationS: number,
  unit: RateUnit,
  voltage: number,
  ceilingA: number,
  ceilingW: number | undefined,
): CompositePeriod[] {
  const end = start + durationS * 1000;
  const out: CompositePeriod[] = [];
  const round1 = (x: number) => Math.floor(x * 10) / 10;
  for (let t = start; t < end && out.length < 1024; ) {
    const { active, next } = maxProfileAt(profiles, t);
    let amps = ceilingA;
    let watts = ceilingW ?? ceilingA * voltage * 3;
    if (active) {
      const c = periodAsCurrent(active, voltage);
      amps = Math.min(amps, c.limitA[0]);
      watts = Math.min(watts, c.limitW ?? c.limitA[0] * voltage * active.numberPhases);
    }
    amps = Math.min(amps, watts / (voltage * 3));
    const limit = round1(unit === 'A' ? amps : Math.min(watts, amps * voltage * 3));
    const startPeriod = Math.round((t - start) / 1000);
    const last = out[out.length - 1];
    if (!last || last.limit !== limit) out.push({ startPeriod, limit, numberPhases: 3 });
    t = Math.max(next, t + 1000);
  }
  return out;
}
