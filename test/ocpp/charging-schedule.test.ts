// What one OCPP 2.0.1 ChargingProfile limits at a moment: the evaluator shared by the controller, the control loop and
// the simulated station.
import { describe, expect, it } from 'vitest';
import {
  periodAsCurrent,
  profileAt,
  scheduleStart,
  validityWindow,
  type ChargingProfile,
  type ChargingSchedulePeriod,
  type ScheduleContext,
} from '../../src/ocpp/charging-schedule.js';

const at = (iso: string) => Date.parse(iso);
const H = 3_600_000;
const D = 24 * H;

function profile(over: Partial<ChargingProfile> & { startSchedule?: string; duration?: number; unit?: 'A' | 'W'; periods: ChargingSchedulePeriod[] }): ChargingProfile {
  const { startSchedule, duration, unit, periods, ...rest } = over;
  return {
    id: 1,
    stackLevel: 0,
    chargingProfilePurpose: 'TxDefaultProfile',
    chargingProfileKind: 'Absolute',
    chargingSchedule: [
      {
        id: 1,
        chargingRateUnit: unit ?? 'A',
        ...(startSchedule !== undefined ? { startSchedule } : {}),
        ...(duration !== undefined ? { duration } : {}),
        chargingSchedulePeriod: periods,
      },
    ],
    ...rest,
  };
}

const RECEIVED = at('2026-01-01T00:00:00Z');
const ctx: ScheduleContext = { receivedAt: RECEIVED };
const limitAt = (p: ChargingProfile, t: number, c: ScheduleContext = ctx) => profileAt(p, t, c).active?.limit;

describe('Absolute', () => {
  const p = profile({ startSchedule: '2026-01-02T08:00:00Z', periods: [{ startPeriod: 0, limit: 16 }, { startPeriod: 3600, limit: 10 }] });

  it('puts no limit before startSchedule and says when it starts', () => {
    expect(profileAt(p, at('2026-01-02T07:00:00Z'), ctx)).toEqual({ next: at('2026-01-02T08:00:00Z') });
  });

  it('follows the periods from startSchedule, the last one running on without a duration', () => {
    const r = profileAt(p, at('2026-01-02T08:30:00Z'), ctx);
    expect(r.active).toMatchObject({ limit: 16, unit: 'A', numberPhases: 3, period: 0, scheduleStart: at('2026-01-02T08:00:00Z') });
    expect(r.next).toBe(at('2026-01-02T09:00:00Z'));
    expect(limitAt(p, at('2026-01-02T09:00:00Z'))).toBe(10);
    const late = profileAt(p, at('2026-03-01T00:00:00Z'), ctx);
    expect(late.active?.limit).toBe(10);
    expect(late.next).toBe(Infinity);
  });

  it('finds the period in force even when a lenient sender listed the periods out of order', () => {
    const unsorted = profile({ startSchedule: '2026-01-02T08:00:00Z', periods: [{ startPeriod: 0, limit: 16 }, { startPeriod: 7200, limit: 6 }, { startPeriod: 3600, limit: 10 }] });
    expect(limitAt(unsorted, at('2026-01-02T09:30:00Z'))).toBe(10);
    expect(profileAt(unsorted, at('2026-01-02T09:30:00Z'), ctx).next).toBe(at('2026-01-02T10:00:00Z'));
    expect(limitAt(unsorted, at('2026-01-02T10:30:00Z'))).toBe(6);
  });

  it('without startSchedule (K01.FR.40 violation) counts like a Relative schedule', () => {
    const loose = profile({ periods: [{ startPeriod: 0, limit: 20 }, { startPeriod: 60, limit: 8 }] });
    expect(limitAt(loose, RECEIVED + D)).toBe(20);
    expect(limitAt(loose, RECEIVED + D, { receivedAt: RECEIVED, transactionStartedAt: RECEIVED + D - 120_000 })).toBe(8);
  });
});

describe('duration', () => {
  it('ends the schedule after duration seconds', () => {
    const p = profile({ startSchedule: '2026-01-02T08:00:00Z', duration: 1800, periods: [{ startPeriod: 0, limit: 16 }, { startPeriod: 3600, limit: 10 }] });
    expect(profileAt(p, at('2026-01-02T08:10:00Z'), ctx).next).toBe(at('2026-01-02T08:30:00Z'));
    expect(limitAt(p, at('2026-01-02T08:29:59Z'))).toBe(16);
    expect(profileAt(p, at('2026-01-02T08:30:00Z'), ctx)).toEqual({ next: Infinity });
    // The period after the duration never applies.
    expect(limitAt(p, at('2026-01-02T09:30:00Z'))).toBeUndefined();
  });
});

describe('Recurring', () => {
  it('Daily: a schedule starting at 22:00 runs across midnight, every day', () => {
    // 6 A from 22:00, 32 A from 02:00 until the next 22:00.
    const p = profile({ chargingProfileKind: 'Recurring', recurrencyKind: 'Daily', startSchedule: '2026-01-01T22:00:00Z', periods: [{ startPeriod: 0, limit: 6 }, { startPeriod: 4 * 3600, limit: 32 }] });
    expect(limitAt(p, at('2026-01-04T23:30:00Z'))).toBe(6);
    const afterMidnight = profileAt(p, at('2026-01-05T01:00:00Z'), ctx);
    expect(afterMidnight.active).toMatchObject({ limit: 6, scheduleStart: at('2026-01-04T22:00:00Z') });
    expect(afterMidnight.next).toBe(at('2026-01-05T02:00:00Z'));
    const day = profileAt(p, at('2026-01-05T03:00:00Z'), ctx);
    expect(day.active?.limit).toBe(32);
    // The last period ends where the next cycle begins.
    expect(day.next).toBe(at('2026-01-05T22:00:00Z'));
    expect(limitAt(p, at('2026-01-05T21:59:59Z'))).toBe(32);
    expect(limitAt(p, at('2026-01-05T22:00:00Z'))).toBe(6);
  });

  it('Daily with a duration: nothing between the end of one day\'s window and the next start', () => {
    const p = profile({ chargingProfileKind: 'Recurring', recurrencyKind: 'Daily', startSchedule: '2026-01-01T22:00:00Z', duration: 8 * 3600, periods: [{ startPeriod: 0, limit: 10 }] });
    expect(limitAt(p, at('2026-01-03T05:59:00Z'))).toBe(10);
    expect(profileAt(p, at('2026-01-03T06:00:00Z'), ctx)).toEqual({ next: at('2026-01-03T22:00:00Z') });
  });

  it('Weekly: a Sunday-evening window runs into Monday and comes back a week later', () => {
    // 2026-01-04 is a Sunday. 10 A from Sunday 20:00 for 8 hours.
    const p = profile({ chargingProfileKind: 'Recurring', recurrencyKind: 'Weekly', startSchedule: '2026-01-04T20:00:00Z', duration: 8 * 3600, periods: [{ startPeriod: 0, limit: 10 }] });
    expect(limitAt(p, at('2026-01-11T23:00:00Z'))).toBe(10);
    expect(limitAt(p, at('2026-01-12T03:59:59Z'))).toBe(10);
    expect(profileAt(p, at('2026-01-12T04:00:00Z'), ctx)).toEqual({ next: at('2026-01-18T20:00:00Z') });
    expect(limitAt(p, at('2026-01-17T12:00:00Z'))).toBeUndefined();
    expect(limitAt(p, at('2026-01-18T20:00:00Z'))).toBe(10);
  });

  it('repeats before its startSchedule too: startSchedule sets the time of day, validFrom when it may apply', () => {
    const p = profile({ chargingProfileKind: 'Recurring', recurrencyKind: 'Daily', startSchedule: '2026-01-10T08:00:00Z', periods: [{ startPeriod: 0, limit: 11 }, { startPeriod: 10 * 3600, limit: 22 }] });
    expect(limitAt(p, at('2026-01-03T09:00:00Z'))).toBe(11);
    expect(limitAt(p, at('2026-01-03T19:00:00Z'))).toBe(22);
    // validFrom bounds it without moving the daily anchor.
    const bounded = { ...p, validFrom: '2026-01-05T12:00:00Z' };
    expect(profileAt(bounded, at('2026-01-05T09:00:00Z'), ctx)).toEqual({ next: at('2026-01-05T12:00:00Z') });
    expect(profileAt(bounded, at('2026-01-05T12:00:00Z'), ctx).active).toMatchObject({ limit: 11, scheduleStart: at('2026-01-05T08:00:00Z') });
    expect(limitAt(bounded, at('2026-01-05T18:00:00Z'))).toBe(22);
  });

  it('computes the cycle start for Daily and Weekly', () => {
    const daily = { chargingProfileKind: 'Recurring' as const, recurrencyKind: 'Daily' as const };
    expect(scheduleStart(daily, { startSchedule: '2026-01-01T22:00:00Z' }, at('2026-01-07T03:00:00Z'))).toEqual({ start: at('2026-01-06T22:00:00Z'), floating: false });
    const weekly = { chargingProfileKind: 'Recurring' as const, recurrencyKind: 'Weekly' as const };
    expect(scheduleStart(weekly, { startSchedule: '2026-01-04T20:00:00Z' }, at('2026-01-04T19:00:00Z'))).toEqual({ start: at('2025-12-28T20:00:00Z'), floating: false });
  });
});

describe('Relative', () => {
  const p = profile({ chargingProfilePurpose: 'TxProfile', chargingProfileKind: 'Relative', transactionId: 'T1', periods: [{ startPeriod: 0, limit: 16 }, { startPeriod: 600, limit: 8 }] });

  it('counts from the transaction start, not from when the profile arrived', () => {
    const txStart = RECEIVED + H;
    const c = { receivedAt: RECEIVED + H + 300_000, transactionStartedAt: txStart };
    const r = profileAt(p, txStart + 400_000, c);
    expect(r.active?.limit).toBe(16);
    expect(r.next).toBe(txStart + 600_000);
    expect(limitAt(p, txStart + 600_000, c)).toBe(8);
  });

  it('starts now when there is no transaction: the first period, for as long as the profile is valid', () => {
    const r = profileAt({ ...p, validTo: '2026-02-01T00:00:00Z' }, RECEIVED + 5 * D, ctx);
    expect(r.active).toMatchObject({ limit: 16, scheduleStart: RECEIVED + 5 * D });
    expect(r.next).toBe(at('2026-02-01T00:00:00Z'));
  });
});

describe('validFrom / validTo', () => {
  const base = profile({ startSchedule: '2026-01-01T00:00:00Z', periods: [{ startPeriod: 0, limit: 16 }] });

  it('applies in [validFrom, validTo)', () => {
    const p = { ...base, validFrom: '2026-01-02T00:00:00Z', validTo: '2026-01-03T00:00:00Z' };
    expect(profileAt(p, at('2026-01-01T12:00:00Z'), ctx)).toEqual({ next: at('2026-01-02T00:00:00Z') });
    const inside = profileAt(p, at('2026-01-02T00:00:00Z'), ctx);
    expect(inside.active?.limit).toBe(16);
    expect(inside.next).toBe(at('2026-01-03T00:00:00Z'));
    expect(profileAt(p, at('2026-01-03T00:00:00Z'), ctx)).toEqual({ next: Infinity });
  });

  it('absent validFrom means valid from receipt, absent validTo until replaced', () => {
    expect(validityWindow({ profile: base, receivedAt: RECEIVED + H })).toEqual([RECEIVED + H, Infinity]);
    expect(profileAt(base, RECEIVED + H - 1, { receivedAt: RECEIVED + H })).toEqual({ next: RECEIVED + H });
    expect(limitAt(base, RECEIVED + H, { receivedAt: RECEIVED + H })).toBe(16);
  });
});

describe('A and W', () => {
  it('converts W to A per phase with the nominal voltage and the period\'s phases (3 when absent)', () => {
    const w3 = profile({ startSchedule: '2026-01-01T00:00:00Z', unit: 'W', periods: [{ startPeriod: 0, limit: 11_040 }] });
    const a3 = profileAt(w3, RECEIVED + H, ctx).active!;
    expect(a3.numberPhases).toBe(3);
    expect(periodAsCurrent(a3, 230).limitA).toBeCloseTo(16, 6);
    expect(periodAsCurrent(a3, 230).limitW).toBe(11_040);
    const w1 = profile({ startSchedule: '2026-01-01T00:00:00Z', unit: 'W', periods: [{ startPeriod: 0, limit: 3680, numberPhases: 1, phaseToUse: 2 }] });
    const a1 = profileAt(w1, RECEIVED + H, ctx).active!;
    expect(a1).toMatchObject({ numberPhases: 1, phaseToUse: 2 });
    expect(periodAsCurrent(a1, 230).limitA).toBeCloseTo(16, 6);
  });

  it('keeps A as it is, never below zero', () => {
    expect(periodAsCurrent({ limit: 25, unit: 'A', numberPhases: 1 }, 230)).toEqual({ limitA: 25 });
    expect(periodAsCurrent({ limit: -3, unit: 'A', numberPhases: 3 }, 230)).toEqual({ limitA: 0 });
  });
});

describe('several schedules', () => {
  it('evaluates the schedule asked for (the first by default)', () => {
    const p = profile({ startSchedule: '2026-01-01T00:00:00Z', periods: [{ startPeriod: 0, limit: 16 }] });
    p.chargingSchedule.push({ id: 2, startSchedule: '2026-01-01T00:00:00Z', chargingRateUnit: 'W', chargingSchedulePeriod: [{ startPeriod: 0, limit: 4000 }] });
    expect(profileAt(p, RECEIVED + H, ctx).active).toMatchObject({ schedule: 0, limit: 16, unit: 'A' });
    expect(profileAt(p, RECEIVED + H, ctx, 1).active).toMatchObject({ schedule: 1, limit: 4000, unit: 'W' });
    expect(profileAt(p, RECEIVED + H, ctx, 2)).toEqual({ next: Infinity });
  });
});
