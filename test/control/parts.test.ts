// The loop's parts on their own: session state from station messages (through the 2.0.1 adapter, as in production),
// CSMS profile arbitration.
import { describe, expect, it } from 'vitest';
import { CsmsProfiles, profileLimitAt, type CsmsProfile } from '../../src/control/csms-profiles.js';
import { rotationIndex, toSitePhases } from '../../src/control/measurements.js';
import { SessionTracker, type SessionChange } from '../../src/control/sessions.js';
import type { OcppCallEvent } from '../../src/relay/events.js';
import { OWN_PROFILE_IDS } from '../../src/stations/model.js';
import { v201 } from '../../src/stations/v201/index.js';

const call = (action: string, payload: Record<string, unknown>, stationId = 'CP01'): OcppCallEvent => ({ stationId, origin: 'station', messageId: 'm', action, payload, at: 0 });

/** What a tracker makes of one 2.0.1 CALL: the change of the last event the adapter produced ('none' for none). */
const feed = (t: SessionTracker, ev: OcppCallEvent, now: number): SessionChange =>
  v201.fromCall(ev).reduce<SessionChange>((_, e) => t.apply(e, now), 'none');

describe('sessions', () => {
  it('tracks a transaction from Started through charging needs and meter values to Ended', () => {
    const t = new SessionTracker(() => 1);
    const started = feed(t, call('TransactionEvent', {
      eventType: 'Started', transactionInfo: { transactionId: 'T1', chargingState: 'Charging' }, evse: { id: 1 },
      meterValue: [{ timestamp: 'x', sampledValue: [{ value: 1000, context: 'Transaction.Begin' }] }],
    }), 5);
    expect(started).toBe('start');
    expect(feed(t, call('NotifyEVChargingNeeds', {
      evseId: 1,
      chargingNeeds: { requestedEnergyTransfer: 'AC_single_phase', departureTime: '2026-01-01T17:00:00Z', acChargingParameters: { energyAmount: 20000, evMinCurrent: 6, evMaxCurrent: 16, evMaxVoltage: 230 } },
    }), 6)).toBe('needs');
    // An Updated event without evse still lands on the right EVSE (by transaction id).
    feed(t, call('TransactionEvent', { eventType: 'Updated', transactionInfo: { transactionId: 'T1' }, meterValue: [{ timestamp: 'x', sampledValue: [{ value: 3500 }, { value: 15.5, measurand: 'Current.Import', phase: 'L1' }] }] }), 7);
    const s = t.get('CP01', 1)!;
    expect(s).toMatchObject({ transactionId: 'T1', startedAt: 5, energyAtStartWh: 1000, energyRegisterWh: 3500, evMaxCurrentA: 16, evPhases: 1, energyAmountWh: 20000, departureAt: Date.parse('2026-01-01T17:00:00Z') });
    expect(s.measuredCurrentA).toEqual([15.5, 0, 0]);
    expect(feed(t, call('TransactionEvent', { eventType: 'Ended', transactionInfo: { transactionId: 'T1' }, evse: { id: 1 } }), 8)).toBe('end');
    expect(t.active()).toHaveLength(0);
  });

  it('derives per-phase current from power when a station reports power only', () => {
    const t = new SessionTracker(() => 1, () => 3, 230);
    feed(t, call('TransactionEvent', { eventType: 'Started', transactionInfo: { transactionId: 'T1' }, evse: { id: 1 } }), 0);
    feed(t, call('MeterValues', { evseId: 1, meterValue: [{ timestamp: 'x', sampledValue: [{ value: 11.04, measurand: 'Power.Active.Import', unitOfMeasure: { unit: 'kW' } }] }] }), 1);
    expect(t.get('CP01', 1)!.measuredCurrentA!.map((a) => Math.round(a * 10) / 10)).toEqual([16, 16, 16]);
  });

  it('ignores messages it cannot place instead of failing', () => {
    const t = new SessionTracker(() => 2);
    expect(feed(t, call('TransactionEvent', { eventType: 'Updated', transactionInfo: { transactionId: 'X' } }), 0)).toBe('none');
    expect(feed(t, call('MeterValues', { evseId: 'one', meterValue: 'nope' }), 0)).toBe('none');
    expect(feed(t, call('StatusNotification', { evseId: 1 }), 0)).toBe('none');
  });
});

describe('phase mapping', () => {
  it('maps EVSE phases onto site phases by rotation', () => {
    expect(rotationIndex('L2L3L1')).toEqual([1, 2, 0]);
    expect(toSitePhases([10, 11, 12], 3, 'L3L1L2')).toEqual([11, 12, 10]);
    expect(toSitePhases([10, 0, 0], 1, 'L2L3L1')).toEqual([0, 10, 0]);
  });
});

describe('CSMS profiles', () => {
  type Over = Partial<CsmsProfile['profile']> & { receivedAt?: number };
  const profile = (over: Over): CsmsProfile => {
    const { receivedAt = 0, ...p } = over;
    return {
      evseId: 1,
      receivedAt,
      profile: {
        id: 1, stackLevel: 0, chargingProfilePurpose: 'TxProfile', chargingProfileKind: 'Relative',
        chargingSchedule: [{ id: 1, chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 16 }, { startPeriod: 600, limit: 8 }] }],
        ...p,
      },
    };
  };

  it('evaluates Relative, Absolute and Recurring schedules at a time, in A and in W', () => {
    expect(profileLimitAt(profile({}), 300_000, 230, 0)).toBe(16);
    expect(profileLimitAt(profile({}), 700_000, 230, 0)).toBe(8);
    const start = Date.parse('2026-01-01T00:00:00Z');
    const abs = profile({ chargingProfileKind: 'Absolute', chargingSchedule: [{ id: 1, startSchedule: '2026-01-01T00:00:00Z', duration: 3600, chargingRateUnit: 'W', chargingSchedulePeriod: [{ startPeriod: 0, limit: 6900, numberPhases: 3 }] }] });
    expect(profileLimitAt(abs, start + 1000, 230, 0)).toBeCloseTo(10);
    expect(profileLimitAt(abs, start + 3_700_000, 230, 0)).toBeUndefined();
    expect(profileLimitAt(abs, start - 1000, 230, 0)).toBeUndefined();
    const daily = profile({ chargingProfileKind: 'Recurring', recurrencyKind: 'Daily', chargingSchedule: [{ id: 1, startSchedule: '2026-01-01T00:00:00Z', chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 32 }, { startPeriod: 8 * 3600, limit: 10 }] }] });
    expect(profileLimitAt(daily, start + 3 * 86_400_000 + 9 * 3_600_000, 230, 0)).toBe(10);
    expect(profileLimitAt(daily, start + 3 * 86_400_000 + 1 * 3_600_000, 230, 0)).toBe(32);
    expect(profileLimitAt(profile({ validTo: new Date(1000).toISOString() }), 2000, 230, 0)).toBeUndefined();
    // No transaction: a Relative schedule starts now (its first period), whenever it was received.
    expect(profileLimitAt(profile({}), 700_000, 230)).toBe(16);
  });

  it('takes the TxProfile over the TxDefaultProfile, capped by the station max, after the station accepted them', () => {
    const c = new CsmsProfiles();
    const result = (action: string, request: Record<string, unknown>, status = 'Accepted') =>
      v201.fromResult({ stationId: 'CP01', origin: 'csms', messageId: 'x', action, request, result: { status }, at: 0 })
        .reduce<'changed' | 'cleared' | 'none'>((_, e) => (e.kind === 'csms-profile-set' || e.kind === 'csms-profile-cleared' ? c.onEvent(e, 0, OWN_PROFILE_IDS, 8) : 'none'), 'none');
    const set = (id: number, purpose: string, limit: number, evseId = 1, extra: Record<string, unknown> = {}) =>
      result('SetChargingProfile', { evseId, chargingProfile: { id, stackLevel: 0, chargingProfilePurpose: purpose, chargingProfileKind: 'Relative', chargingSchedule: [{ id: 1, chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit }] }], ...extra } });
    expect(set(1, 'TxDefaultProfile', 20, 0)).toBe('changed');
    expect(c.limitFor('CP01', 1, 'T1', 0, 230).limitA).toBe(20);
    set(2, 'TxProfile', 12, 1, { transactionId: 'T1' });
    expect(c.limitFor('CP01', 1, 'T1', 0, 230)).toEqual({ limitA: 12, txStackLevel: 0 });
    expect(c.limitFor('CP01', 1, 'T2', 0, 230).limitA).toBe(20);
    result('SetChargingProfile', { evseId: 0, chargingProfile: { id: 3, stackLevel: 0, chargingProfilePurpose: 'ChargingStationMaxProfile', chargingProfileKind: 'Absolute', chargingSchedule: [{ id: 1, startSchedule: '2020-01-01T00:00:00Z', chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 10 }] }] } });
    expect(c.limitFor('CP01', 1, 'T1', Date.parse('2026-01-01T00:00:00Z'), 230).limitA).toBe(10);
    // A rejected profile changes nothing; a clear by id removes one; a clear that may hit ours says so.
    expect(result('SetChargingProfile', { evseId: 1, chargingProfile: { id: 4, stackLevel: 0, chargingProfilePurpose: 'TxProfile', chargingProfileKind: 'Relative', transactionId: 'T1', chargingSchedule: [{ id: 1, chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 2 }] }] } }, 'Rejected')).toBe('none');
    expect(c.limitFor('CP01', 1, 'T1', 0, 230).limitA).toBe(12);
    expect(result('ClearChargingProfile', { chargingProfileId: 3 })).toBe('changed');
    expect(result('ClearChargingProfile', { chargingProfileCriteria: { chargingProfilePurpose: 'TxProfile' } })).toBe('cleared');
    expect(c.limitFor('CP01', 1, 'T1', 0, 230).limitA).toBe(20);
    c.transactionEnded('CP01', 'T1');
  });
});
