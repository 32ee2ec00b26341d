// The configuration keys of a simulated 1.6 charge point (GetConfiguration / ChangeConfiguration): the Core keys a
// controller reads to learn a charger (NumberOfConnectors, ConnectorPhaseRotation, MeterValueSampleInterval…) and the
// Smart Charging keys it reads before sending profiles. Values a CSMS changes are kept in memory (a reboot of the
// simulated station keeps them, as a charger's flash would).
import { OcppCallError } from '../ocpp/errors.js';
import type { SmartChargingCapabilities } from './quirks.js';
import type { ChargerSpec } from './scenario-types.js';

/** ConnectorPhaseRotation letters (R S T = site L1 L2 L3) of a station rotation. */
const ROTATION: Record<string, string> = { L1L2L3: 'RST', L2L3L1: 'STR', L3L1L2: 'TRS', L1L3L2: 'RTS', L3L2L1: 'TSR', L2L1L3: 'SRT' };
const NUMERIC = new Set(['HeartbeatInterval', 'MeterValueSampleInterval']);

export class ChargePointConfig16 {
  private readonly keys = new Map<string, { value: string; readonly: boolean }>();

  constructor(spec: ChargerSpec, caps: SmartChargingCapabilities) {
    const smart = caps.smartCharging;
    const rateUnit = caps.rateUnits.map((u) => (u === 'A' ? 'Current' : 'Power')).join(',');
    const keys: [string, string, boolean][] = [
      ['AuthorizeRemoteTxRequests', 'false', false],
      ['ConnectorPhaseRotation', `1.${ROTATION[spec.rotation] ?? 'RST'}`, false],
      ['GetConfigurationMaxKeys', '50', true],
      ['HeartbeatInterval', '300', false],
      ['MeterValueSampleInterval', String(spec.meterValuesS), false],
      ['MeterValuesSampledData', 'Energy.Active.Import.Register,Power.Active.Import,Current.Import', false],
      ['NumberOfConnectors', '1', true],
      ['SupportedFeatureProfiles', smart ? 'Core,SmartCharging,RemoteTrigger' : 'Core,RemoteTrigger', true],
      ['ChargeProfileMaxStackLevel', String(caps.maxStackLevel), true],
      ['ChargingScheduleAllowedChargingRateUnit', rateUnit, true],
      ['ChargingScheduleMaxPeriods', '24', true],
      ['MaxChargingProfilesInstalled', '20', true],
      ['ConnectorSwitch3to1PhaseSupported', String(caps.phaseSwitching), true],
    ];
    for (const [key, value, readonly] of keys) this.keys.set(key, { value, readonly });
  }

  get(payload: Record<string, unknown>): Record<string, unknown> {
    const asked = Array.isArray(payload.key) ? payload.key.filter((k): k is string => typeof k === 'string') : [];
    const keys = asked.length ? asked : [...this.keys.keys()];
    const known = keys.filter((k) => this.keys.has(k));
    const unknown = keys.filter((k) => !this.keys.has(k));
    return {
      configurationKey: known.map((key) => ({ key, readonly: this.keys.get(key)!.readonly, value: this.keys.get(key)!.value })),
      ...(unknown.length ? { unknownKey: unknown } : {}),
    };
  }

  change(payload: Record<string, unknown>): Record<string, unknown> {
    if (typeof payload.key !== 'string' || typeof payload.value !== 'string') throw new OcppCallError('TypeConstraintViolation', 'key and value must be strings');
    const entry = this.keys.get(payload.key);
    if (!entry) return { status: 'NotSupported' };
    if (entry.readonly) return { status: 'Rejected' };
    if (NUMERIC.has(payload.key) && !/^\d+$/.test(payload.value)) return { status: 'Rejected' };
    entry.value = payload.value;
    return { status: 'Accepted' };
  }
}
