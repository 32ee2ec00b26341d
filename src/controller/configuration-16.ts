// The controller identity's OCPP 1.6 configuration keys (GetConfiguration / ChangeConfiguration) as a view over the
// same device model the 2.0.1 identity uses: HeartbeatInterval is OCPPCommCtrlr.HeartbeatInterval, the smart-charging
// keys are SmartChargingCtrlr's, AuthorizationKey is SecurityCtrlr.BasicAuthPassword. So a value set through either
// protocol is the one the connection and the profile checks read, and nothing is stored twice. Keys that describe
// connectors or transactions (which the controller has none of) are read-only constants.
import { variableKey } from './device-model-data.js';
import { VAR, type DeviceModel } from './device-model.js';

interface ConfigKey16 {
  key: string;
  readonly: boolean;
  /** Never reported (AuthorizationKey, security whitepaper). */
  writeOnly?: boolean;
  /** The device-model variable behind the key (component, variable): writable keys go through its checks. */
  variable?: { component: string; name: string; instance?: string };
  value: (dm: DeviceModel) => string;
}

const constant = (key: string, value: string): ConfigKey16 => ({ key, readonly: true, value: () => value });
const fromModel = (key: string, component: string, name: string, readonly: boolean, map: (v: string) => string = (v) => v, instance?: string): ConfigKey16 => ({
  key,
  readonly,
  variable: { component, name, ...(instance ? { instance } : {}) },
  value: (dm) => map(dm.get(variableKey(component, name, instance)) ?? ''),
});

/** 1.6 names the rate units Current and Power (ChargingScheduleAllowedChargingRateUnit). */
const rateUnits16 = (v: string): string =>
  v
    .split(',')
    .map((u) => (u.trim() === 'A' ? 'Current' : u.trim() === 'W' ? 'Power' : u.trim()))
    .join(',');

export const SUPPORTED_FEATURE_PROFILES = 'Core,SmartCharging,RemoteTrigger';
const MAX_KEYS = 50;

const KEYS: readonly ConfigKey16[] = [
  // Core profile (OCPP 1.6 §9.1)
  constant('AuthorizeRemoteTxRequests', 'false'),
  constant('ClockAlignedDataInterval', '0'),
  constant('ConnectionTimeOut', '0'),
  constant('ConnectorPhaseRotation', '0.NotApplicable'),
  constant('GetConfigurationMaxKeys', String(MAX_KEYS)),
  fromModel('HeartbeatInterval', 'OCPPCommCtrlr', 'HeartbeatInterval', false),
  constant('LocalAuthorizeOffline', 'false'),
  constant('LocalPreAuthorize', 'false'),
  constant('MeterValuesAlignedData', ''),
  constant('MeterValuesSampledData', ''),
  constant('MeterValueSampleInterval', '0'),
  constant('NumberOfConnectors', '0'),
  constant('ResetRetries', '0'),
  constant('StopTransactionOnEVSideDisconnect', 'true'),
  constant('StopTransactionOnInvalidId', 'false'),
  constant('StopTxnAlignedData', ''),
  constant('StopTxnSampledData', ''),
  constant('SupportedFeatureProfiles', SUPPORTED_FEATURE_PROFILES),
  constant('TransactionMessageAttempts', '0'),
  constant('TransactionMessageRetryInterval', '0'),
  constant('UnlockConnectorOnEVSideDisconnect', 'false'),
  fromModel('WebSocketPingInterval', 'OCPPCommCtrlr', 'WebSocketPingInterval', false),
  // Smart Charging profile (§9.4)
  fromModel('ChargeProfileMaxStackLevel', 'SmartChargingCtrlr', 'ProfileStackLevel', true),
  fromModel('ChargingScheduleAllowedChargingRateUnit', 'SmartChargingCtrlr', 'RateUnit', true, rateUnits16),
  fromModel('ChargingScheduleMaxPeriods', 'SmartChargingCtrlr', 'PeriodsPerSchedule', true),
  constant('ConnectorSwitch3to1PhaseSupported', 'false'),
  {
    key: 'MaxChargingProfilesInstalled',
    readonly: true,
    value: (dm) => String(dm.definition(VAR.profileEntries)?.maxLimit ?? 32),
  },
  // Security whitepaper (Edition 2)
  fromModel('SecurityProfile', 'SecurityCtrlr', 'SecurityProfile', true),
  { key: 'AuthorizationKey', readonly: false, writeOnly: true, variable: { component: 'SecurityCtrlr', name: 'BasicAuthPassword' }, value: () => '' },
];

const byKey = new Map(KEYS.map((k) => [k.key.toLowerCase(), k]));

/** 1.6 keys are CiString: matched without regard to case. */
function find(key: string): ConfigKey16 | undefined {
  return byKey.get(key.toLowerCase());
}

export interface GetConfigurationResult {
  configurationKey: Array<{ key: string; readonly: boolean; value?: string }>;
  unknownKey?: string[];
}

export function getConfiguration(dm: DeviceModel, request: { key?: unknown }): GetConfigurationResult {
  const asked = Array.isArray(request.key) ? request.key.filter((k): k is string => typeof k === 'string') : undefined;
  const selected: ConfigKey16[] = [];
  const unknown: string[] = [];
  if (asked && asked.length > 0) {
    for (const k of asked.slice(0, MAX_KEYS)) {
      const def = find(k);
      if (def && !def.writeOnly) selected.push(def);
      else unknown.push(k.slice(0, 50));
    }
  } else selected.push(...KEYS.filter((k) => !k.writeOnly));
  return {
    configurationKey: selected.map((k) => ({ key: k.key, readonly: k.readonly, value: k.value(dm).slice(0, 500) })),
    ...(unknown.length ? { unknownKey: unknown } : {}),
  };
}

export type ChangeConfigurationStatus = 'Accepted' | 'Rejected' | 'RebootRequired' | 'NotSupported';

export function changeConfiguration(dm: DeviceModel, key: string, value: string): { status: ChangeConfigurationStatus; reason?: string } {
  const def = find(key);
  if (!def) return { status: 'NotSupported', reason: `unknown key ${key}` };
  if (def.readonly || !def.variable) return { status: 'Rejected', reason: `${def.key} is read-only` };
  const [result] = dm.setVariables({
    setVariableData: [{ component: { name: def.variable.component }, variable: { name: def.variable.name, ...(def.variable.instance ? { instance: def.variable.instance } : {}) }, attributeValue: value }],
  }).setVariableResult;
  if (result.attributeStatus === 'Accepted') return { status: 'Accepted' };
  if (result.attributeStatus === 'RebootRequired') return { status: 'RebootRequired' };
  return { status: 'Rejected', reason: result.attributeStatusInfo?.additionalInfo ?? result.attributeStatusInfo?.reasonCode ?? result.attributeStatus };
}
