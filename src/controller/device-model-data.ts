// The controller's own device model as data: the OCA-standard variable definitions (data type, mutability, limits,
// defaults) from device-model/*.json, with the values that describe this controller (identity, limits it enforces,
// retry settings from the config) laid over them. No I/O beyond the bundled JSON.
import type { Config } from '../config/types.js';
import chargingStation from './device-model/ChargingStation.json' with { type: 'json' };
import deviceDataCtrlr from './device-model/DeviceDataCtrlr.json' with { type: 'json' };
import ocppCommCtrlr from './device-model/OCPPCommCtrlr.json' with { type: 'json' };
import securityCtrlr from './device-model/SecurityCtrlr.json' with { type: 'json' };
import smartChargingCtrlr from './device-model/SmartChargingCtrlr.json' with { type: 'json' };

export type DataType = 'string' | 'decimal' | 'integer' | 'dateTime' | 'boolean' | 'OptionList' | 'SequenceList' | 'MemberList';
export type Mutability = 'ReadOnly' | 'WriteOnly' | 'ReadWrite';

export interface VariableDefinition {
  component: string;
  variable: string;
  /** Variable instance, e.g. "GetVariables" for DeviceDataCtrlr.ItemsPerMessage. */
  instance?: string;
  dataType: DataType;
  unit?: string;
  minLimit?: number;
  maxLimit?: number;
  valuesList?: string;
  mutability: Mutability;
  /** Value before anything is set; absent = no value (reported without one). */
  defaultValue?: string;
  supportsMonitoring: boolean;
  /** A SetVariables of this variable is stored but only takes effect after a restart (answered RebootRequired). */
  rebootRequired?: boolean;
  /** Included in a SummaryInventory report. */
  summary?: boolean;
}

/** "Component.Variable" or "Component.Variable[instance]": the key values are stored and looked up by. */
export function variableKey(component: string, variable: string, instance?: string): string {
  return `${component}.${variable}${instance ? `[${instance}]` : ''}`;
}

interface JsonVariable {
  variable_name: string;
  instance?: string;
  characteristics: { dataType: string; unit?: string; minLimit?: number; maxLimit?: number; valuesList?: string; supportsMonitoring?: boolean };
  attributes: Array<{ type?: string; mutability?: string; value?: unknown }>;
  default?: unknown;
}
interface JsonComponent {
  name: string;
  properties: Record<string, JsonVariable>;
}

const DATA_TYPES: readonly string[] = ['string', 'decimal', 'integer', 'dateTime', 'boolean', 'OptionList', 'SequenceList', 'MemberList'];

function fromJson(component: JsonComponent): VariableDefinition[] {
  return Object.values(component.properties).map((v) => {
    const actual = v.attributes.find((a) => (a.type ?? 'Actual') === 'Actual') ?? {};
    const raw = actual.value ?? v.default;
    if (!DATA_TYPES.includes(v.characteristics.dataType)) throw new Error(`device model: ${component.name}.${v.variable_name} has unknown data type ${v.characteristics.dataType}`);
    return {
      component: component.name,
      variable: v.variable_name,
      ...(v.instance ? { instance: v.instance } : {}),
      dataType: v.characteristics.dataType as DataType,
      ...(v.characteristics.unit ? { unit: v.characteristics.unit } : {}),
      ...(v.characteristics.minLimit !== undefined ? { minLimit: v.characteristics.minLimit } : {}),
      ...(v.characteristics.maxLimit !== undefined ? { maxLimit: v.characteristics.maxLimit } : {}),
      ...(v.characteristics.valuesList ? { valuesList: v.characteristics.valuesList } : {}),
      // OCPP's default mutability is ReadWrite.
      mutability: (actual.mutability ?? 'ReadWrite') as Mutability,
      ...(raw !== undefined && raw !== null ? { defaultValue: String(raw) } : {}),
      supportsMonitoring: v.characteristics.supportsMonitoring ?? false,
    };
  });
}

type Override = Partial<Omit<VariableDefinition, 'component' | 'variable' | 'instance'>> | null;

/** What this controller is and enforces, laid over the standard definitions. `null` drops a variable. */
function overrides(config: Config): Record<string, Override> {
  const c = config.controller;
  const u = config.upstream;
  const securityProfile = u.clientCert ? 3 : u.url.startsWith('wss:') ? 2 : 1;
  return {
    'ChargingStation.Model': { defaultValue: c.model, mutability: 'ReadOnly', summary: true },
    'ChargingStation.VendorName': { defaultValue: c.vendor, mutability: 'ReadOnly', summary: true },
    'ChargingStation.AvailabilityState': { defaultValue: 'Available', summary: true },
    'ChargingStation.Available': { summary: true },
    'ChargingStation.SupplyPhases': { defaultValue: '3' },
    'ChargingStation.Problem': { mutability: 'ReadOnly', summary: true },
    'OCPPCommCtrlr.HeartbeatInterval': { defaultValue: '300', minLimit: 1, maxLimit: 86400 },
    'OCPPCommCtrlr.MessageTimeout[Default]': { defaultValue: String(Math.ceil(u.callTimeoutS)) },
    'OCPPCommCtrlr.RetryBackOffWaitMinimum': { defaultValue: String(Math.round(u.retry.waitMinimumS)), minLimit: 0, maxLimit: 86400, unit: 's' },
    'OCPPCommCtrlr.RetryBackOffRandomRange': { defaultValue: String(Math.round(u.retry.randomRangeS)), minLimit: 0, maxLimit: 86400, unit: 's' },
    'OCPPCommCtrlr.RetryBackOffRepeatTimes': { defaultValue: String(u.retry.repeatTimes), minLimit: 0, maxLimit: 100 },
    'OCPPCommCtrlr.WebSocketPingInterval': { defaultValue: '30', minLimit: 0, maxLimit: 86400 },
    'OCPPCommCtrlr.OfflineThreshold': { minLimit: 0 },
    'OCPPCommCtrlr.NetworkConfigurationPriority': { defaultValue: '1', rebootRequired: true },
    'OCPPCommCtrlr.FileTransferProtocols': { defaultValue: 'HTTPS' },
    'OCPPCommCtrlr.QueueAllMessages': { defaultValue: 'false' },
    'OCPPCommCtrlr.PublicKeyWithSignedMeterValue': { defaultValue: 'Never' },
    'OCPPCommCtrlr.FieldLength[Get15118EVCertificateResponse.exiResponse]': null,
    'SecurityCtrlr.Identity': { defaultValue: c.identity ?? '', mutability: 'ReadOnly', maxLimit: 48 },
    'SecurityCtrlr.SecurityProfile': { defaultValue: String(securityProfile) },
    'SecurityCtrlr.OrganizationName': { defaultValue: c.vendor },
    // Never expose the example password of the source data; a CSMS can set a new one (A01).
    'SecurityCtrlr.BasicAuthPassword': { defaultValue: undefined },
    'SecurityCtrlr.CertificateEntries': { defaultValue: '0' },
    'SecurityCtrlr.MaxCertificateChainSize': null,
    'SecurityCtrlr.Enabled': { defaultValue: 'true', mutability: 'ReadOnly' },
    'SmartChargingCtrlr.Available': { defaultValue: 'true', summary: true },
    'SmartChargingCtrlr.Enabled': { defaultValue: 'true', summary: true },
    'SmartChargingCtrlr.Entries[ChargingProfiles]': { maxLimit: 32 },
    'SmartChargingCtrlr.ExternalControlSignalsEnabled': { defaultValue: 'true', mutability: 'ReadOnly' },
    'SmartChargingCtrlr.LimitChangeSignificance': { defaultValue: '10', minLimit: 0, maxLimit: 100 },
    'SmartChargingCtrlr.NotifyChargingLimitWithSchedules': { defaultValue: 'true' },
    'SmartChargingCtrlr.PeriodsPerSchedule': { defaultValue: '48' },
    'SmartChargingCtrlr.ProfileStackLevel': { defaultValue: '10' },
    'SmartChargingCtrlr.RateUnit': { defaultValue: 'A,W' },
    'SmartChargingCtrlr.ACPhaseSwitchingSupported': { defaultValue: 'false' },
    'SmartChargingCtrlr.Phases3to1': { defaultValue: 'false' },
    'DeviceDataCtrlr.Enabled': { mutability: 'ReadOnly' },
    'DeviceDataCtrlr.ItemsPerMessage[GetReport]': { defaultValue: '20' },
    'DeviceDataCtrlr.ItemsPerMessage[GetVariables]': { defaultValue: '50' },
    'DeviceDataCtrlr.ItemsPerMessage[SetVariables]': { defaultValue: '50' },
    'DeviceDataCtrlr.BytesPerMessage[GetReport]': { defaultValue: '65536' },
    'DeviceDataCtrlr.BytesPerMessage[GetVariables]': { defaultValue: '65536' },
    'DeviceDataCtrlr.BytesPerMessage[SetVariables]': { defaultValue: '65536' },
    'DeviceDataCtrlr.ConfigurationValueSize': { defaultValue: '1000' },
  };
}

/** Every variable of the controller's device model, in report order. */
export function controllerVariables(config: Config): VariableDefinition[] {
  const all = [chargingStation, ocppCommCtrlr, securityCtrlr, smartChargingCtrlr, deviceDataCtrlr].flatMap((c) => fromJson(c as unknown as JsonComponent));
  const over = overrides(config);
  const out: VariableDefinition[] = [];
  for (const def of all) {
    const key = variableKey(def.component, def.variable, def.instance);
    const o = over[key];
    if (o === null) continue;
    const merged: VariableDefinition = { ...def, ...(o ?? {}) };
    if (o && 'defaultValue' in o && o.defaultValue === undefined) delete merged.defaultValue;
    out.push(merged);
  }
  return out;
}
