import { afterEach, describe, expect, it } from 'vitest';
import { controllerVariables, variableKey } from '../../src/controller/device-model-data.js';
import { DeviceModel, VAR } from '../../src/controller/device-model.js';
import { OcppCallError } from '../../src/relay/events.js';
import { openDeviceModelStore } from '../../src/store/device-model.js';
import { makeConfig, tempDir, type TempDir } from './helpers.js';

let tmp: TempDir;
afterEach(() => tmp?.cleanup());

function model(config = makeConfig({ controller: { identity: 'LC-1', vendor: 'Acme', model: 'LC' } })): DeviceModel {
  const db = tmp.open();
  return new DeviceModel(controllerVariables(config), openDeviceModelStore(db), () => Date.parse('2026-01-01T00:00:00Z'));
}

const get = (component: string, variable: string, instance?: string, attributeType?: 'Actual' | 'Target') => ({
  component: { name: component },
  variable: { name: variable, ...(instance ? { instance } : {}) },
  ...(attributeType ? { attributeType } : {}),
});

describe('device model of the controller identity', () => {
  it('has the required components and no non-OCA additions', () => {
    tmp = tempDir();
    const defs = controllerVariables(makeConfig({ controller: { identity: 'LC-1' } }));
    const keys = new Set(defs.map((d) => variableKey(d.component, d.variable, d.instance)));
    for (const k of [
      'ChargingStation.Model',
      'OCPPCommCtrlr.HeartbeatInterval',
      'OCPPCommCtrlr.RetryBackOffWaitMinimum',
      'SecurityCtrlr.SecurityProfile',
      'SmartChargingCtrlr.Enabled',
      'SmartChargingCtrlr.RateUnit',
      'SmartChargingCtrlr.LimitChangeSignificance',
      'SmartChargingCtrlr.PeriodsPerSchedule',
      'SmartChargingCtrlr.ProfileStackLevel',
      'SmartChargingCtrlr.Entries[ChargingProfiles]',
      'DeviceDataCtrlr.ItemsPerMessage[GetVariables]',
      'DeviceDataCtrlr.BytesPerMessage[SetVariables]',
    ]) {
      expect(keys.has(k), k).toBe(true);
    }
    expect([...keys].some((k) => k.includes('CompositeScheduleDefault') || k.includes('IgnoredProfilePurposesOffline') || k.includes('SupplyVoltage'))).toBe(false);
  });

  it('answers GetVariables with every status', () => {
    tmp = tempDir();
    const dm = model();
    const res = dm.getVariables({
      getVariableData: [
        get('ChargingStation', 'VendorName'),
        get('SmartChargingCtrlr', 'RateUnit'),
        get('NoSuchCtrlr', 'Enabled'),
        get('SmartChargingCtrlr', 'NoSuchVariable'),
        get('SmartChargingCtrlr', 'Enabled', undefined, 'Target'),
        get('SecurityCtrlr', 'BasicAuthPassword'),
        get('SecurityCtrlr', 'Identity'),
        { component: { name: 'SmartChargingCtrlr', evse: { id: 1 } }, variable: { name: 'Enabled' } },
      ],
    });
    expect(res.getVariableResult.map((r) => [r.attributeStatus, r.attributeValue])).toEqual([
      ['Accepted', 'Acme'],
      ['Accepted', 'A,W'],
      ['UnknownComponent', undefined],
      ['UnknownVariable', undefined],
      ['NotSupportedAttributeType', undefined],
      ['Rejected', undefined],
      ['Accepted', 'LC-1'],
      ['UnknownComponent', undefined],
    ]);
    expect(res.getVariableResult[5].attributeStatusInfo?.reasonCode).toBe('WriteOnly');
  });

  it('enforces mutability, data types and limits on SetVariables, and persists accepted values', () => {
    tmp = tempDir();
    const dm = model();
    const set = (component: string, variable: string, attributeValue: string, instance?: string) => ({ ...get(component, variable, instance), attributeValue });
    const res = dm.setVariables({
      setVariableData: [
        set('OCPPCommCtrlr', 'HeartbeatInterval', '120'),
        set('OCPPCommCtrlr', 'HeartbeatInterval', 'soon'),
        set('OCPPCommCtrlr', 'RetryBackOffRepeatTimes', '-1'),
        set('SmartChargingCtrlr', 'LimitChangeSignificance', '12.5'),
        set('SmartChargingCtrlr', 'LimitChangeSignificance', '250'),
        set('SmartChargingCtrlr', 'Enabled', 'maybe'),
        set('SmartChargingCtrlr', 'Enabled', 'FALSE'),
        set('SmartChargingCtrlr', 'RateUnit', 'A'),
        set('SecurityCtrlr', 'BasicAuthPassword', 'short'),
        set('SecurityCtrlr', 'BasicAuthPassword', 'a-new-password-of-24ch'),
        set('OCPPCommCtrlr', 'NetworkConfigurationPriority', '2'),
        set('OCPPCommCtrlr', 'NetworkConfigurationPriority', '7'),
        set('Nope', 'HeartbeatInterval', '1'),
        set('OCPPCommCtrlr', 'Nope', '1'),
        { ...set('OCPPCommCtrlr', 'HeartbeatInterval', '1'), attributeType: 'MaxSet' as const },
      ],
    });
    expect(res.setVariableResult.map((r) => r.attributeStatus)).toEqual([
      'Accepted',
      'Rejected',
      'Rejected',
      'Accepted',
      'Rejected',
      'Rejected',
      'Accepted',
      'Rejected',
      'Rejected',
      'Accepted',
      'RebootRequired',
      'Rejected',
      'UnknownComponent',
      'UnknownVariable',
      'NotSupportedAttributeType',
    ]);
    expect(res.setVariableResult.map((r) => r.attributeStatusInfo?.reasonCode)).toEqual([
      undefined, 'InvalidValue', 'ValueTooLow', undefined, 'ValueTooHigh', 'InvalidValue', undefined, 'ReadOnly', 'ValueTooLow', undefined, undefined, 'InvalidValue', undefined, undefined, undefined,
    ]);
    expect(dm.getNumber(VAR.heartbeatInterval, 0)).toBe(120);
    expect(dm.getBoolean(VAR.smartChargingEnabled, true)).toBe(false);
    expect(dm.get(VAR.basicAuthPassword)).toBe('a-new-password-of-24ch');

    // A fresh model on the same database file sees the values the CSMS set.
    const again = model();
    expect(again.getNumber(VAR.heartbeatInterval, 0)).toBe(120);
    expect(again.getNumber(VAR.limitChangeSignificance, 0)).toBe(12.5);
    expect(again.get(variableKey('OCPPCommCtrlr', 'NetworkConfigurationPriority'))).toBe('2');
  });

  it('refuses a request with more items than ItemsPerMessage', () => {
    tmp = tempDir();
    const dm = model();
    const max = dm.getNumber(VAR.itemsGetVariables, 0);
    const data = Array.from({ length: max + 1 }, () => get('ChargingStation', 'Model'));
    expect(() => dm.getVariables({ getVariableData: data })).toThrow(OcppCallError);
    try {
      dm.getVariables({ getVariableData: data });
    } catch (err) {
      expect((err as OcppCallError).code).toBe('OccurrenceConstraintViolation');
    }
    expect(dm.getVariables({ getVariableData: data.slice(0, max) }).getVariableResult).toHaveLength(max);
  });

  it('takes retry settings and identity from the config', () => {
    tmp = tempDir();
    const dm = model(makeConfig({ controller: { identity: 'LC-9' }, upstream: { url: 'wss://csms.example/ocpp', retry: { waitMinimumS: 7, randomRangeS: 3, repeatTimes: 4 } } }));
    expect(dm.get(VAR.retryWaitMinimum)).toBe('7');
    expect(dm.get(VAR.retryRandomRange)).toBe('3');
    expect(dm.get(VAR.retryRepeatTimes)).toBe('4');
    expect(dm.get(variableKey('SecurityCtrlr', 'Identity'))).toBe('LC-9');
    expect(dm.get(variableKey('SecurityCtrlr', 'SecurityProfile'))).toBe('2');
  });

  it('builds base reports: full, configuration (writable only) and summary', () => {
    tmp = tempDir();
    const dm = model();
    const full = dm.report('FullInventory');
    const config = dm.report('ConfigurationInventory');
    const summary = dm.report('SummaryInventory');
    expect(full.length).toBeGreaterThan(config.length);
    expect(config.every((r) => r.variableAttribute[0].mutability !== 'ReadOnly')).toBe(true);
    expect(summary.length).toBeGreaterThan(0);
    const password = full.find((r) => r.variable.name === 'BasicAuthPassword');
    expect(password?.variableAttribute[0].value).toBeUndefined();
    const entries = full.find((r) => r.variable.name === 'Entries');
    expect(entries?.variable.instance).toBe('ChargingProfiles');
    expect(full.every((r) => r.variableAttribute[0].mutability === 'WriteOnly' || typeof r.variableAttribute[0].value === 'string')).toBe(true);
  });
});
