// OCPP 1.6 charging profiles ↔ the 2.0.1 shape the schedule evaluation reads: a round trip keeps every field, the
// purposes map both ways, and what 1.6 cannot express is refused rather than guessed.
import { describe, expect, it } from 'vitest';
import { profile16Problem, profileFrom16, profileTo16, purposeTo16, type ChargingProfile16 } from '../../src/ocpp/charging-profile-16.js';
import { validatePayload } from '../../src/ocpp/validate.js';

const p16: ChargingProfile16 = {
  chargingProfileId: 12,
  transactionId: 4711,
  stackLevel: 2,
  chargingProfilePurpose: 'TxProfile',
  chargingProfileKind: 'Absolute',
  validFrom: '2026-03-02T08:00:00.000Z',
  validTo: '2026-03-02T20:00:00.000Z',
  chargingSchedule: {
    duration: 3600,
    startSchedule: '2026-03-02T08:00:00.000Z',
    chargingRateUnit: 'W',
    minChargingRate: 1380,
    chargingSchedulePeriod: [
      { startPeriod: 0, limit: 7360, numberPhases: 1 },
      { startPeriod: 900, limit: 11000.5 },
    ],
  },
};

describe('1.6 charging profiles', () => {
  it('convert to the 2.0.1 shape and back unchanged, valid on the wire both ways', () => {
    const p201 = profileFrom16(p16);
    expect(p201).toMatchObject({ id: 12, transactionId: '4711', chargingProfilePurpose: 'TxProfile', chargingSchedule: [{ id: 12, chargingRateUnit: 'W' }] });
    expect(validatePayload('SetChargingProfile', 'request', { evseId: 1, chargingProfile: p201 })).toBeUndefined();
    expect(profileTo16(p201)).toEqual(p16);
    expect(validatePayload('SetChargingProfile', 'request', { connectorId: 1, csChargingProfiles: profileTo16(p201) }, 'ocpp1.6')).toBeUndefined();
  });

  it('map ChargePointMaxProfile to ChargingStationMaxProfile and refuse what 1.6 lacks', () => {
    expect(profileFrom16({ ...p16, transactionId: undefined, chargingProfilePurpose: 'ChargePointMaxProfile' }).chargingProfilePurpose).toBe('ChargingStationMaxProfile');
    expect(purposeTo16('ChargingStationExternalConstraints')).toBeUndefined();
    expect(profileTo16({ ...profileFrom16(p16), transactionId: 'not-an-integer' })).toBeUndefined();
    expect(profile16Problem({ ...p16, chargingProfileId: 'x' })).toMatch(/chargingProfileId/);
    expect(profile16Problem({ ...p16, chargingSchedule: { ...p16.chargingSchedule, chargingRateUnit: 'kW' } })).toMatch(/chargingRateUnit/);
    expect(profile16Problem(p16)).toBeUndefined();
  });
});
