// What a set of installed ChargingStationMaxProfiles limits at a moment, when that next changes, and the composite
// schedule over a window (K08). One profile's evaluation is src/ocpp/charging-schedule.ts; this file is the controller's
// stack-level merge on top of it. Pure: times are epoch ms passed in.
import { periodAsCurrent, profileAt, type PeriodInForce as SchedulePeriodInForce } from '../ocpp/charging-schedule.js';
import type { InstalledProfile, RateUnit } from './profiles-types.js';

export interface PeriodInForce extends SchedulePeriodInForce {
  installed: InstalledProfile;
}

/** The ChargingStationMaxProfile in force at t: the highest stackLevel that has a period at t (lower levels show
 * through where a higher one has none). Equal levels (not accepted by validation) resolve to the lower limit. */
export function maxProfileAt(profiles: readonly InstalledProfile[], t: number): { active?: PeriodInForce; next: number } {
  let best: PeriodInForce | undefined;
  let next = Infinity;
  for (const p of profiles) {
    if (p.profile.chargingProfilePurpose !== 'ChargingStationMaxProfile' || p.evseId !== 0) continue;
    const at = profileAt(p.profile, t, { receivedAt: p.receivedAt });
    next = Math.min(next, at.next);
    if (!at.active) continue;
    if (!best || p.profile.stackLevel > best.installed.profile.stackLevel || (p.profile.stackLevel === best.installed.profile.stackLevel && at.active.limit < best.limit)) {
      best = { ...at.active, installed: p };
    }
  }
  return { active: best, next };
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
      amps = Math.min(amps, c.limitA);
      watts = Math.min(watts, c.limitW ?? c.limitA * voltage * active.numberPhases);
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
