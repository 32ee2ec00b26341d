import { describe, expect, it } from 'vitest';
import { compositeSchedule, maxProfileAt } from '../../src/controller/profiles-schedule.js';
import type { ChargingProfile, InstalledProfile } from '../../src/controller/profiles-types.js';
import { validateProfile, type ProfileLimits } from '../../src/controller/profiles-validate.js';

const T0 = Date.parse('2026-03-02T08:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

function maxProfile(over: Partial<ChargingProfile> = {}, periods = [{ startPeriod: 0, limit: 40 }], unit: 'A' | 'W' = 'A'): ChargingProfile {
  return {
    id: 1,
    stackLevel: 0,
    chargingProfilePurpose: 'ChargingStationMaxProfile',
    chargingProfileKind: 'Absolute',
    chargingSchedule: [{ id: 1, startSchedule: iso(T0), chargingRateUnit: unit, chargingSchedulePeriod: periods }],
    ...over,
  };
}

const limits = (installed: InstalledProfile[] = []): ProfileLimits => ({ now: T0, installed, rateUnits: ['A', 'W'], periodsPerSchedule: 48, maxStackLevel: 10, maxEntries: 32 });

describe('K01 validation on the controller identity', () => {
  it('accepts a ChargingStationMaxProfile on evseId 0', () => {
    expect(validateProfile(0, maxProfile(), limits())).toBeUndefined();
  });

  it.each([
    ['ExternalConstraints from the CSMS (K01.FR.22)', 0, maxProfile({ chargingProfilePurpose: 'ChargingStationExternalConstraints' }), 'InvalidProfile'],
    ['TxProfile: no EVSEs', 1, maxProfile({ chargingProfilePurpose: 'TxProfile', transactionId: 'tx1' }), 'InvalidProfile'],
    ['TxDefaultProfile: no EVSEs', 0, maxProfile({ chargingProfilePurpose: 'TxDefaultProfile' }), 'InvalidProfile'],
    ['MaxProfile on an EVSE (K01.FR.03)', 1, maxProfile(), 'UnknownEvse'],
    ['Relative MaxProfile (K01.FR.38)', 0, maxProfile({ chargingProfileKind: 'Relative' }), 'InvalidProfile'],
    ['Recurring without recurrencyKind', 0, maxProfile({ chargingProfileKind: 'Recurring' }), 'InvalidProfile'],
    ['stackLevel above ProfileStackLevel', 0, maxProfile({ stackLevel: 11 }), 'InvalidStackLevel'],
    ['first period not at 0 (K01.FR.31)', 0, maxProfile({}, [{ startPeriod: 60, limit: 10 }]), 'InvalidSchedule'],
    ['periods out of order (K01.FR.35)', 0, maxProfile({}, [{ startPeriod: 0, limit: 10 }, { startPeriod: 600, limit: 8 }, { startPeriod: 300, limit: 6 }]), 'InvalidSchedule'],
    ['negative limit', 0, maxProfile({}, [{ startPeriod: 0, limit: -1 }]), 'InvalidSchedule'],
    ['phaseToUse without phase switching', 0, maxProfile({}, [{ startPeriod: 0, limit: 16, numberPhases: 1, phaseToUse: 2 } as never]), 'InvalidSchedule'],
    ['validTo before validFrom', 0, maxProfile({ validFrom: iso(T0 + 3600_000), validTo: iso(T0) }), 'InvalidValue'],
    ['already expired', 0, maxProfile({ validTo: iso(T0 - 1000) }), 'InvalidValue'],
  ])('rejects %s', (_what, evseId, profile, reason) => {
    expect(validateProfile(evseId, profile, limits())?.reasonCode).toBe(reason);
  });

  it('rejects a missing startSchedule (K01.FR.40), an unsupported unit (K01.FR.26) and too many periods', () => {
    const p = maxProfile();
    delete p.chargingSchedule[0].startSchedule;
    expect(validateProfile(0, p, limits())?.reasonCode).toBe('InvalidSchedule');
    expect(validateProfile(0, maxProfile({}, undefined, 'W'), { ...limits(), rateUnits: ['A'] })?.reasonCode).toBe('UnsupportedRateUnit');
    const many = Array.from({ length: 49 }, (_, i) => ({ startPeriod: i * 60, limit: 10 }));
    expect(validateProfile(0, maxProfile({}, many), limits())?.reasonCode).toBe('InvalidSchedule');
  });

  it('replaces by id but refuses a second profile on the same stack level with overlapping validity', () => {
    const installed: InstalledProfile[] = [{ evseId: 0, profile: maxProfile({ id: 1, stackLevel: 2 }), receivedAt: T0 }];
    expect(validateProfile(0, maxProfile({ id: 1, stackLevel: 2 }), limits(installed))).toBeUndefined();
    expect(validateProfile(0, maxProfile({ id: 2, stackLevel: 2 }), limits(installed))?.reasonCode).toBe('DuplicateProfile');
    expect(validateProfile(0, maxProfile({ id: 2, stackLevel: 3 }), limits(installed))).toBeUndefined();
  });
});

describe('schedule evaluation', () => {
  const installed = (p: ChargingProfile, receivedAt = T0 - 60_000): InstalledProfile => ({ evseId: 0, profile: p, receivedAt });

  it('walks through the periods of an Absolute schedule and ends with its duration', () => {
    const p = installed(maxProfile({}, [{ startPeriod: 0, limit: 40 }, { startPeriod: 3600, limit: 25 }, { startPeriod: 7200, limit: 32 }]));
    p.profile.chargingSchedule[0].duration = 10_800;
    expect(maxProfileAt([p], T0 - 1).active).toBeUndefined();
    expect(maxProfileAt([p], T0 - 1).next).toBe(T0);
    expect(maxProfileAt([p], T0).active?.limit).toBe(40);
    expect(maxProfileAt([p], T0).next).toBe(T0 + 3600_000);
    expect(maxProfileAt([p], T0 + 3600_000).active?.limit).toBe(25);
    expect(maxProfileAt([p], T0 + 7199_999).active?.limit).toBe(25);
    expect(maxProfileAt([p], T0 + 7200_000).active?.limit).toBe(32);
    expect(maxProfileAt([p], T0 + 10_800_000).active).toBeUndefined();
  });

  it('repeats a Daily Recurring schedule and lets a lower stack level show through a gap of a higher one', () => {
    const daily = installed(maxProfile({ id: 1, stackLevel: 0, chargingProfileKind: 'Recurring', recurrencyKind: 'Daily' }, [{ startPeriod: 0, limit: 20 }, { startPeriod: 3600, limit: 50 }]));
    const evening = installed(maxProfile({ id: 2, stackLevel: 5 }, [{ startPeriod: 0, limit: 10 }]));
    evening.profile.chargingSchedule[0].startSchedule = iso(T0 + 86_400_000 + 1800_000);
    evening.profile.chargingSchedule[0].duration = 600;
    const all = [daily, evening];
    expect(maxProfileAt(all, T0 + 86_400_000).active?.limit).toBe(20);
    expect(maxProfileAt(all, T0 + 86_400_000 + 1800_000).active?.limit).toBe(10);
    expect(maxProfileAt(all, T0 + 86_400_000 + 2400_000).active?.limit).toBe(20);
    expect(maxProfileAt(all, T0 + 2 * 86_400_000 + 3600_000).active?.limit).toBe(50);
  });

  it('builds the composite schedule with the fuse as ceiling, in A and in W', () => {
    const p = installed(maxProfile({}, [{ startPeriod: 0, limit: 80 }, { startPeriod: 600, limit: 20 }]));
    p.profile.chargingSchedule[0].duration = 1200;
    expect(compositeSchedule([p], T0, 1800, 'A', 230, 63, undefined)).toEqual([
      { startPeriod: 0, limit: 63, numberPhases: 3 },
      { startPeriod: 600, limit: 20, numberPhases: 3 },
      { startPeriod: 1200, limit: 63, numberPhases: 3 },
    ]);
    expect(compositeSchedule([p], T0 + 600_000, 300, 'W', 230, 63, undefined)).toEqual([{ startPeriod: 0, limit: 13800, numberPhases: 3 }]);
  });
});
