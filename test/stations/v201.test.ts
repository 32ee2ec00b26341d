// The 2.0.1 adapter on its own: MeterValues units, capabilities from GetVariables, frames → neutral events,
// requests → SetChargingProfile payloads and their answers.
import { describe, expect, it } from 'vitest';
import { fallbackCapabilities } from '../../src/control/capabilities.js';
import { OcppCallError } from '../../src/ocpp/errors.js';
import type { StationCaller } from '../../src/relay/events.js';
import { DEFAULT_PROFILE_ID } from '../../src/stations/model.js';
import { energyRegisterWh, parseCapabilities, parseMeterValues, v201 } from '../../src/stations/v201/index.js';

describe('2.0.1 MeterValues', () => {
  it('normalises units: kW, kWh and multipliers', () => {
    const s = parseMeterValues([
      {
        timestamp: '2026-01-01T00:00:00Z',
        sampledValue: [
          { value: 7.4, measurand: 'Power.Active.Import', unitOfMeasure: { unit: 'kW' } },
          { value: 123, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh', multiplier: 3 } },
          { value: 16, measurand: 'Current.Import', phase: 'L2' },
        ],
      },
    ]);
    expect(s).toEqual([
      { measurand: 'Power.Active.Import', phase: undefined, value: 7400 },
      { measurand: 'Energy.Active.Import.Register', phase: undefined, value: 123000 },
      { measurand: 'Current.Import', phase: 'L2', value: 16 },
    ]);
  });

  it('reads the energy register in Wh/kWh with multipliers, ignores per-phase and other measurands', () => {
    expect(energyRegisterWh({ meterValue: [{ sampledValue: [{ value: 12.5, unitOfMeasure: { unit: 'kWh' } }] }] })).toBe(12500);
    expect(energyRegisterWh({ meterValue: [{ sampledValue: [{ value: 12, unitOfMeasure: { unit: 'Wh', multiplier: 3 } }] }] })).toBe(12000);
    expect(energyRegisterWh({ meterValue: [{ sampledValue: [{ value: 16, measurand: 'Current.Import', phase: 'L1' }, { value: 7, phase: 'L1' }] }] })).toBeUndefined();
    expect(energyRegisterWh({})).toBeUndefined();
  });
});

describe('2.0.1 frames → station events', () => {
  const call = (action: string, payload: Record<string, unknown>, origin: 'station' | 'csms' = 'station') => ({ stationId: 'CP01', origin, messageId: 'm', action, payload, at: 5 });

  it('carries the station\'s own timestamps for its clock: StatusNotification, newest MeterValues sample, offline TransactionEvents marked', () => {
    const [status] = v201.fromCall(call('StatusNotification', { timestamp: '2026-01-01T00:10:00Z', connectorStatus: 'Occupied', evseId: 1, connectorId: 1 }));
    expect(status).toMatchObject({ kind: 'status', time: Date.parse('2026-01-01T00:10:00Z'), at: 5 });
    const [meter] = v201.fromCall(call('MeterValues', { evseId: 1, meterValue: [
      { timestamp: '2026-01-01T00:09:00Z', sampledValue: [{ value: 1 }] },
      { timestamp: '2026-01-01T00:09:30Z', sampledValue: [{ value: 2 }] },
    ] }));
    expect(meter).toMatchObject({ kind: 'meter', time: Date.parse('2026-01-01T00:09:30Z') });
    const [late] = v201.fromCall(call('TransactionEvent', { eventType: 'Updated', timestamp: '2026-01-01T00:01:00Z', triggerReason: 'MeterValuePeriodic', seqNo: 3, offline: true, transactionInfo: { transactionId: 'T' }, evse: { id: 1 } }));
    expect(late).toMatchObject({ kind: 'session', offline: true, time: Date.parse('2026-01-01T00:01:00Z') });
    const [bad] = v201.fromCall(call('StatusNotification', { timestamp: 'not a time', connectorStatus: 'Available', evseId: 1, connectorId: 1 }));
    expect(bad).not.toHaveProperty('time');
  });

  it('turns a TransactionEvent into a session event with the string transaction id, token, time and measurement', () => {
    expect(v201.fromCall(call('TransactionEvent', {
      eventType: 'Ended', timestamp: '2026-01-01T10:00:00Z', evse: { id: 2 }, idToken: { idToken: 'CARD1', type: 'ISO14443' },
      transactionInfo: { transactionId: 'T1', stoppedReason: 'EVDisconnected' }, numberOfPhasesUsed: 1,
      meterValue: [{ timestamp: 'x', sampledValue: [{ value: 3.1, unitOfMeasure: { unit: 'kWh' } }, { value: 15.5, measurand: 'Current.Import', phase: 'L1' }] }],
    }))).toEqual([{
      kind: 'session', phase: 'ended', stationId: 'CP01', evseId: 2, transactionId: 'T1', idToken: 'CARD1', stoppedReason: 'EVDisconnected',
      phasesUsed: 1, time: Date.parse('2026-01-01T10:00:00Z'), at: 5, measurement: { energyWh: 3100, currentA: [15.5, 0, 0], currentPhases: 1 },
    }]);
  });

  it('ignores what it cannot place and what the CSMS sent', () => {
    expect(v201.fromCall(call('TransactionEvent', { eventType: 'Nope', transactionInfo: { transactionId: 'T' } }))).toEqual([]);
    expect(v201.fromCall(call('MeterValues', { evseId: 0, meterValue: [] }))).toEqual([]);
    expect(v201.fromCall(call('StatusNotification', { evseId: 1 }))).toEqual([]);
    expect(v201.fromCall(call('TransactionEvent', { eventType: 'Started', transactionInfo: { transactionId: 'T' } }, 'csms'))).toEqual([]);
  });

  it('maps an accepted boot and a CSMS profile the station accepted; a rejected one is nothing', () => {
    const result = (origin: 'station' | 'csms', action: string, request: Record<string, unknown>, status: string) =>
      v201.fromResult({ stationId: 'CP01', origin, messageId: 'x', action, request, result: { status }, at: 1 });
    expect(result('station', 'BootNotification', {}, 'Accepted')).toEqual([{ kind: 'booted', stationId: 'CP01', at: 1 }]);
    expect(result('station', 'BootNotification', {}, 'Pending')).toEqual([]);
    const profile = { id: 7, stackLevel: 1, chargingProfilePurpose: 'TxDefaultProfile', chargingProfileKind: 'Relative', chargingSchedule: [{ id: 1, chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 10 }] }] };
    expect(result('csms', 'SetChargingProfile', { evseId: 0, chargingProfile: profile }, 'Accepted')).toEqual([{ kind: 'csms-profile-set', stationId: 'CP01', evseId: 0, profile, at: 1 }]);
    expect(result('csms', 'SetChargingProfile', { evseId: 0, chargingProfile: profile }, 'Rejected')).toEqual([]);
    expect(result('csms', 'ClearChargingProfile', { chargingProfileCriteria: { chargingProfilePurpose: 'TxProfile', evseId: 1 } }, 'Accepted'))
      .toEqual([{ kind: 'csms-profile-cleared', stationId: 'CP01', evseId: 1, purpose: 'TxProfile', at: 1 }]);
  });
});

describe('2.0.1 requests', () => {
  it('reads the SmartChargingCtrlr variables and keeps config fallbacks for the rest', () => {
    const caps = parseCapabilities(
      {
        getVariableResult: [
          { attributeStatus: 'Accepted', attributeValue: 'A,W', component: { name: 'SmartChargingCtrlr' }, variable: { name: 'RateUnit' } },
          { attributeStatus: 'Accepted', attributeValue: '5', component: { name: 'SmartChargingCtrlr' }, variable: { name: 'ProfileStackLevel' } },
          { attributeStatus: 'UnknownVariable', component: { name: 'SmartChargingCtrlr' }, variable: { name: 'ACPhaseSwitchingSupported' } },
        ],
      },
      fallbackCapabilities({ phaseSwitching: true }),
    );
    expect(caps).toEqual({ rateUnits: ['A', 'W'], maxStackLevel: 5, phaseSwitching: true, source: 'station' });
  });

  it('sends a default limit as a TxDefaultProfile and turns every kind of answer into a LimitAnswer', async () => {
    const sent: Array<{ action: string; payload: Record<string, unknown> }> = [];
    let answer: () => Promise<Record<string, unknown>> = async () => ({ status: 'Accepted' });
    const caller: StationCaller = { call: (_id, action, payload) => (sent.push({ action, payload }), answer()), connectedStations: () => [] };
    const r = v201.requests(caller);
    const caps = fallbackCapabilities(undefined);
    expect(await r.setDefaultLimit('CP01', { limitA: 6, stackLevel: 2, caps, voltageV: 230 })).toEqual({ status: 'Accepted' });
    expect(sent[0]).toMatchObject({ action: 'SetChargingProfile', payload: { evseId: 0, chargingProfile: { id: DEFAULT_PROFILE_ID, chargingProfilePurpose: 'TxDefaultProfile', stackLevel: 2 } } });
    answer = async () => ({ status: 'Rejected', statusInfo: { reasonCode: 'NoTx' } });
    const limit = { evseId: 1, transactionId: 'T1', limitA: 10, phases: 3 as const, stackLevel: 2, validTo: 0, caps, voltageV: 230 };
    expect(await r.setSessionLimit('CP01', limit)).toEqual({ status: 'Rejected', reason: 'NoTx' });
    answer = () => Promise.reject(new OcppCallError('NotImplemented', 'no'));
    expect(await r.setSessionLimit('CP01', limit)).toEqual({ status: 'NotSupported', reason: 'station answered NotImplemented to SetChargingProfile' });
    answer = () => Promise.reject(new Error('timeout'));
    expect((await r.setSessionLimit('CP01', limit)).status).toBe('Timeout');
  });

  it('config quirks on a 2.0.1 station: watts-only writes W, stack-level-0-only writes level 0', async () => {
    const sent: Array<Record<string, unknown>> = [];
    const caller: StationCaller = { call: async (_id, _a, payload) => (sent.push(payload), { status: 'Accepted' }), connectedStations: () => [] };
    const caps = fallbackCapabilities({ phaseSwitching: false, quirks: ['watts-only', 'stack-level-0-only'] });
    await v201.requests(caller).setSessionLimit('CP01', { evseId: 1, transactionId: 'T1', limitA: 10, phases: 3, stackLevel: 4, validTo: 0, caps, voltageV: 230 });
    expect(sent[0]).toMatchObject({ chargingProfile: { stackLevel: 0, chargingSchedule: [{ chargingRateUnit: 'W', chargingSchedulePeriod: [{ limit: 6900 }] }] } });
  });
});
