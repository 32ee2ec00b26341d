// The 1.6 adapter on its own: capabilities from GetConfiguration (and the meter setup asked with ChangeConfiguration),
// its profiles (Absolute a little in the past, integer transactionId, validTo + duration, A or W with numberPhases,
// 0.1 A), the fallbacks tried on Rejected, the CSMS's 1.6 profiles into the model, and 1.6 MeterValues normalised.
import { describe, expect, it } from 'vitest';
import type { OcppResultEvent, StationCaller } from '../../src/relay/events.js';
import { measurementOf, unitFactor } from '../../src/stations/meter-values.js';
import type { StationCapabilities } from '../../src/stations/model.js';
import { v16 } from '../../src/stations/v16/index.js';
import { capabilitiesOf, configValues, meterPlan, rotationOf } from '../../src/stations/v16/configuration.js';
import { fromCall, normaliseMeterValue } from '../../src/stations/v16/events.js';

const base: StationCapabilities = { rateUnits: ['A'], phaseSwitching: false, source: 'config' };
const conf = (kv: Record<string, string>, readonly: string[] = []) =>
  configValues({ configurationKey: Object.entries(kv).map(([key, value]) => ({ key, value, readonly: readonly.includes(key) })), unknownKey: [] });

function recorder(answer: (action: string, payload: Record<string, unknown>) => Record<string, unknown>) {
  const calls: Array<{ action: string; payload: Record<string, unknown> }> = [];
  const caller: StationCaller = {
    call: async (_id, action, payload) => (calls.push({ action, payload }), answer(action, payload)),
    connectedStations: () => ['S'],
  };
  return { calls, requests: v16.requests(caller) };
}

describe('1.6 capabilities (GetConfiguration)', () => {
  it('reads units in both spellings, stack level, periods, profiles, connectors, phase switching and rotation', () => {
    const caps = capabilitiesOf(conf({
      SupportedFeatureProfiles: 'Core,FirmwareManagement,SmartCharging', ChargingScheduleAllowedChargingRateUnit: 'Current,Power',
      ChargeProfileMaxStackLevel: '3', ChargingScheduleMaxPeriods: '12', MaxChargingProfilesInstalled: '4',
      ConnectorSwitch3to1PhaseSupported: 'true', NumberOfConnectors: '2', ConnectorPhaseRotation: '0.RST,1.STR,2.TRS',
    }), base);
    expect(caps).toMatchObject({ source: 'station', smartCharging: true, rateUnits: ['A', 'W'], maxStackLevel: 3, periodsPerSchedule: 12, maxProfiles: 4, phaseSwitching: true, connectors: 2, phaseRotation: 'L2L3L1' });
    expect(capabilitiesOf(conf({ ChargingScheduleAllowedChargingRateUnit: 'W' }), base).rateUnits).toEqual(['W']);
    expect(capabilitiesOf(conf({ ChargingScheduleAllowedChargingRateUnit: 'A' }), base).rateUnits).toEqual(['A']);
    expect(capabilitiesOf(conf({ SupportedFeatureProfiles: 'Core,Reservation' }), base).smartCharging).toBe(false);
    expect(rotationOf('RST')).toBe('L1L2L3');
    expect(rotationOf('0.NotApplicable,1.Unknown')).toBeUndefined();
  });

  it('asks for the measurands and the interval the loop needs; says when the station will not', () => {
    const plan = meterPlan(conf({ MeterValuesSampledData: 'Energy.Active.Import.Register', MeterValueSampleInterval: '60' }), 10);
    expect(plan.changes).toEqual([
      { key: 'MeterValuesSampledData', value: 'Energy.Active.Import.Register,Current.Import,Current.Offered,Power.Active.Import' },
      { key: 'MeterValueSampleInterval', value: '10' },
    ]);
    const ro = meterPlan(conf({ MeterValuesSampledData: 'Energy.Active.Import.Register', MeterValueSampleInterval: '60' }, ['MeterValuesSampledData', 'MeterValueSampleInterval']), 10);
    expect(ro.changes).toEqual([]);
    expect(ro.blocked.join('; ')).toMatch(/read-only.*no Current.Import/);
    expect(ro.setup.phaseResolved).toBe(false);
  });

  it('readCapabilities: GetConfiguration then ChangeConfiguration; a refused change is noted for the page', async () => {
    const { calls, requests } = recorder((action) => (action === 'GetConfiguration'
      ? { configurationKey: [{ key: 'MeterValuesSampledData', readonly: false, value: 'Energy.Active.Import.Register' }, { key: 'MeterValueSampleInterval', readonly: false, value: '0' }] }
      : { status: (calls.at(-1)?.payload.key === 'MeterValueSampleInterval' ? 'Rejected' : 'Accepted') }));
    const { caps, final } = await requests.readCapabilities('S', base);
    expect(final).toBe(true);
    expect(calls.map((c) => c.action)).toEqual(['GetConfiguration', 'ChangeConfiguration', 'ChangeConfiguration']);
    expect(caps.meter).toMatchObject({ phaseResolved: true, note: 'MeterValueSampleInterval could not be set to 10 (Rejected)' });
  });
});

describe('1.6 profiles', () => {
  const at = Date.parse('2026-01-01T12:00:00Z');
  it('a session limit: Absolute starting a minute back, integer transactionId, validTo and duration, A rounded to 0.1', async () => {
    const { calls, requests } = recorder(() => ({ status: 'Accepted' }));
    const r = await requests.setSessionLimit('S', { evseId: 1, transactionId: '42', limitA: 13.37, phases: 3, stackLevel: 2, validTo: at + 120_000, at, caps: base, voltageV: 230 });
    expect(r).toEqual({ status: 'Accepted' });
    expect(calls[0].payload).toEqual({
      connectorId: 1,
      csChargingProfiles: {
        chargingProfileId: 1_900_000_001, transactionId: 42, stackLevel: 2, chargingProfilePurpose: 'TxProfile', chargingProfileKind: 'Absolute',
        validTo: '2026-01-01T12:02:00.000Z',
        chargingSchedule: { chargingRateUnit: 'A', startSchedule: '2026-01-01T11:59:00.000Z', duration: 180, chargingSchedulePeriod: [{ startPeriod: 0, limit: 13.3, numberPhases: 3 }] },
      },
    });
  });

  it('in W with numberPhases for a station that only takes W', async () => {
    const { calls, requests } = recorder(() => ({ status: 'Accepted' }));
    await requests.setSessionLimit('S', { evseId: 1, transactionId: '7', limitA: 16, phases: 1, stackLevel: 1, validTo: at + 1000, at, caps: { ...base, rateUnits: ['W'] }, voltageV: 230 });
    const s = (calls[0].payload.csChargingProfiles as { chargingSchedule: Record<string, unknown> }).chargingSchedule;
    expect(s).toMatchObject({ chargingRateUnit: 'W', chargingSchedulePeriod: [{ startPeriod: 0, limit: 3680, numberPhases: 1 }] });
  });

  it('the fail-safe default on connectorId 0 at the controller\'s stack level, without validity', async () => {
    const { calls, requests } = recorder(() => ({ status: 'Accepted' }));
    await requests.setDefaultLimit('S', { limitA: 6, stackLevel: 3, caps: base, voltageV: 230, at });
    expect(calls[0].payload).toMatchObject({ connectorId: 0, csChargingProfiles: { chargingProfileId: 1_900_000_000, stackLevel: 3, chargingProfilePurpose: 'TxDefaultProfile' } });
    expect(calls[0].payload.csChargingProfiles).not.toHaveProperty('validTo');
  });

  it('Rejected: tries the nearest other ways, one change first, and reports what worked (stack level rejected → 0)', async () => {
    const { calls, requests } = recorder((_a, p) => ({ status: (p.csChargingProfiles as { stackLevel: number }).stackLevel > 0 ? 'Rejected' : 'Accepted' }));
    const r = await requests.setSessionLimit('S', { evseId: 1, transactionId: '7', limitA: 16, phases: 3, stackLevel: 5, validTo: at + 1000, at, caps: base, voltageV: 230 });
    expect(r).toEqual({ status: 'Accepted', learned: ['stack-level-0-only'] });
    expect(calls.length).toBeLessThanOrEqual(4); // the first, then single changes: W, Relative, level 0
  });

  it('a station rejecting every way answers Rejected after a bounded number of tries', async () => {
    const { calls, requests } = recorder(() => ({ status: 'Rejected' }));
    const r = await requests.setSessionLimit('S', { evseId: 1, transactionId: '7', limitA: 16, phases: 3, stackLevel: 5, validTo: at + 1000, at, caps: base, voltageV: 230 });
    expect(r.status).toBe('Rejected');
    expect(calls.length).toBeLessThanOrEqual(16);
  });

  it('NotImplemented or NotSupported: not controllable', async () => {
    const { requests } = recorder(() => ({ status: 'NotSupported' }));
    expect((await requests.setDefaultLimit('S', { limitA: 6, stackLevel: 1, caps: base, voltageV: 230 })).status).toBe('NotSupported');
  });
});

describe('1.6 CSMS profiles into the model', () => {
  const result = (action: string, request: Record<string, unknown>): OcppResultEvent => ({ stationId: 'S', origin: 'csms', messageId: 'c1', action, request, result: { status: 'Accepted' }, at: 5, protocol: 'ocpp1.6' });
  it('ChargePointMaxProfile → ChargingStationMaxProfile; TxProfile keeps its transaction; a clear by criteria', () => {
    const [set] = v16.fromResult(result('SetChargingProfile', {
      connectorId: 0,
      csChargingProfiles: { chargingProfileId: 5, stackLevel: 0, chargingProfilePurpose: 'ChargePointMaxProfile', chargingProfileKind: 'Absolute', chargingSchedule: { startSchedule: '2026-01-01T00:00:00Z', chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 20 }] } },
    }));
    expect(set).toMatchObject({ kind: 'csms-profile-set', evseId: 0, profile: { id: 5, chargingProfilePurpose: 'ChargingStationMaxProfile', chargingSchedule: [{ chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 20 }] }] } });
    const [tx] = v16.fromResult(result('SetChargingProfile', {
      connectorId: 1,
      csChargingProfiles: { chargingProfileId: 6, transactionId: 42, stackLevel: 1, chargingProfilePurpose: 'TxProfile', chargingProfileKind: 'Relative', chargingSchedule: { chargingRateUnit: 'W', chargingSchedulePeriod: [{ startPeriod: 0, limit: 7000, numberPhases: 3 }] } },
    }));
    expect(tx).toMatchObject({ evseId: 1, profile: { transactionId: '42', chargingProfilePurpose: 'TxProfile', chargingProfileKind: 'Relative' } });
    expect(v16.fromResult(result('ClearChargingProfile', { connectorId: 1, chargingProfilePurpose: 'TxDefaultProfile', stackLevel: 2 }))).toEqual([
      { kind: 'csms-profile-cleared', stationId: 'S', at: 5, evseId: 1, purpose: 'TxDefaultProfile', stackLevel: 2 },
    ]);
    expect(v16.fromResult({ ...result('SetChargingProfile', {}), result: { status: 'Rejected' } })).toEqual([]);
  });
});

describe('MeterValues in both protocols', () => {
  it('phases as L1, L1-N, N or missing; units A, W/kW, Wh/kWh; Current.Offered', () => {
    const m16 = measurementOf(normaliseMeterValue([{ timestamp: 'x', sampledValue: [
      { value: '15.9', measurand: 'Current.Import', phase: 'L1-N', unit: 'A' }, { value: '16.1', measurand: 'Current.Import', phase: 'L2-N', unit: 'A' },
      { value: '0.4', measurand: 'Current.Import', phase: 'N', unit: 'A' }, { value: '16', measurand: 'Current.Offered', unit: 'A' },
      { value: '7.4', measurand: 'Power.Active.Import', unit: 'kW' }, { value: '12.5', unit: 'kWh' },
    ] }]));
    expect(m16).toEqual({ currentA: [15.9, 16.1, 0], currentPhases: 2, offeredA: 16, powerW: 7400, energyWh: 12500 });
    expect(measurementOf([{ sampledValue: [{ value: 10, measurand: 'Current.Import' }, { value: 3000, unitOfMeasure: { unit: 'Wh' } }] }])).toEqual({ currentAnyPhaseA: 10, energyWh: 3000 });
    expect(measurementOf([{ sampledValue: [{ value: 16000, measurand: 'Current.Import', phase: 'L3', unitOfMeasure: { unit: 'mA' } }] }])).toEqual({ currentA: [0, 0, 16], currentPhases: 1 });
    expect(measurementOf([{ sampledValue: [{ value: 7.4, measurand: 'Power.Active.Import', unitOfMeasure: { unit: 'kW', multiplier: 0 } }] }])).toEqual({ powerW: 7400 });
  });

  it('units are converted with cached factors; an unknown unit keeps its value, and made-up names are bounded', () => {
    expect(unitFactor('kWh')).toBe(1000);
    expect(unitFactor('W')).toBe(1);
    expect(unitFactor('Celsius')).toBeUndefined(); // not a unit the model converts: kept as sent
    expect(unitFactor('nonsense-unit')).toBeUndefined();
    for (let i = 0; i < 1000; i++) unitFactor(`made-up-${i}`);
    expect(measurementOf([{ sampledValue: [{ value: 5, measurand: 'Power.Active.Import', unitOfMeasure: { unit: 'kW' } }] }])).toEqual({ powerW: 5000 });
  });
});

describe('1.6 StatusNotification into the model', () => {
  const status = (s: unknown) =>
    fromCall({ origin: 'station', stationId: 'S', messageId: '1', action: 'StatusNotification', payload: { connectorId: 1, status: s, errorCode: 'NoError' }, at: 1 });
  it('carries the charging state a 1.6 station says in its status; an unknown status, or one named like an object member, is nothing', () => {
    expect(status('SuspendedEV')).toEqual([{ kind: 'status', stationId: 'S', evseId: 1, status: 'Occupied', chargingState: 'SuspendedEV', at: 1 }]);
    expect(status('Available')).toEqual([{ kind: 'status', stationId: 'S', evseId: 1, status: 'Available', at: 1 }]);
    for (const bad of ['constructor', '__proto__', 'toString', 'Bogus', 7, null]) expect(status(bad)).toEqual([]);
  });
});
