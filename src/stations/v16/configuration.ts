// A 1.6 station's capabilities, read at every accepted boot and reconnect with GetConfiguration, and the meter setup
// the control loop needs asked for with ChangeConfiguration where the station allows it.
import type { Rotation } from '../../../algorithms/types.js';
import type { MeterSetup, StationCapabilities } from '../model.js';

export const CONFIG_KEYS = [
  'SupportedFeatureProfiles', 'ChargingScheduleAllowedChargingRateUnit', 'ChargeProfileMaxStackLevel', 'ChargingScheduleMaxPeriods',
  'MaxChargingProfilesInstalled', 'ConnectorSwitch3to1PhaseSupported', 'NumberOfConnectors', 'ConnectorPhaseRotation',
  'MeterValuesSampledData', 'MeterValueSampleInterval',
] as const;

/** What the loop reads from MeterValues: current (per phase where the station can), the current it offers, power,
 * the energy register. */
export const WANTED_MEASURANDS = ['Current.Import', 'Current.Offered', 'Power.Active.Import', 'Energy.Active.Import.Register'] as const;

export interface ConfigValue {
  value?: string;
  readonly: boolean;
}

/** GetConfiguration.conf → key → value (unknown keys absent). */
export function configValues(result: Record<string, unknown>): Map<string, ConfigValue> {
  const out = new Map<string, ConfigValue>();
  for (const k of Array.isArray(result.configurationKey) ? (result.configurationKey as Array<Record<string, unknown>>) : []) {
    if (typeof k?.key !== 'string') continue;
    out.set(k.key, { readonly: k.readonly === true, ...(typeof k.value === 'string' ? { value: k.value } : {}) });
  }
  return out;
}

const int = (v: string | undefined, min: number): number | undefined => {
  const n = v === undefined ? NaN : Number.parseInt(v.trim(), 10);
  return Number.isFinite(n) && n >= min ? n : undefined;
};
const list = (v: string | undefined): string[] => (v ?? '').split(',').map((x) => x.trim()).filter(Boolean);

/** 1.6 rotations (R, S, T = the site's L1, L2, L3 wired to the station's L1, L2, L3) → the site's Rotation names. */
const ROTATION: Record<string, Rotation> = { RST: 'L1L2L3', STR: 'L2L3L1', TRS: 'L3L1L2', RTS: 'L1L3L2', SRT: 'L2L1L3', TSR: 'L3L2L1' };

/** ConnectorPhaseRotation ("0.RST,1.RST" or a bare "RST") → the rotation of connector 1 (else the station's). */
export function rotationOf(v: string | undefined): Rotation | undefined {
  let fallback: Rotation | undefined;
  for (const item of list(v)) {
    const [a, b] = item.includes('.') ? item.split('.', 2) : ['0', item];
    const r = ROTATION[b.trim().toUpperCase()] ?? (Object.values(ROTATION) as string[]).find((x) => x === b.trim().toUpperCase()) as Rotation | undefined;
    if (!r) continue;
    if (a.trim() === '1') return r;
    fallback ??= r;
  }
  return fallback;
}

/** Rate units as 1.6 says them (Current / Power; some firmwares "A" / "W"). */
function rateUnits(v: string | undefined): Array<'A' | 'W'> {
  const out = new Set<'A' | 'W'>();
  for (const u of list(v).map((x) => x.toLowerCase())) {
    if (u === 'current' || u === 'a') out.add('A');
    if (u === 'power' || u === 'w') out.add('W');
  }
  return [...out];
}

/** GetConfiguration values → capabilities; what the station did not say keeps its fallback. */
export function capabilitiesOf(values: Map<string, ConfigValue>, fallback: StationCapabilities): StationCapabilities {
  const caps: StationCapabilities = { ...fallback, source: 'station' };
  const v = (k: string) => values.get(k)?.value;
  const profiles = v('SupportedFeatureProfiles');
  if (profiles !== undefined) caps.smartCharging = list(profiles).some((p) => p.toLowerCase() === 'smartcharging');
  const units = rateUnits(v('ChargingScheduleAllowedChargingRateUnit'));
  if (units.length) caps.rateUnits = units;
  const level = int(v('ChargeProfileMaxStackLevel'), 0);
  if (level !== undefined) caps.maxStackLevel = level;
  const periods = int(v('ChargingScheduleMaxPeriods'), 1);
  if (periods !== undefined) caps.periodsPerSchedule = periods;
  const installed = int(v('MaxChargingProfilesInstalled'), 1);
  if (installed !== undefined) caps.maxProfiles = installed;
  const sw = v('ConnectorSwitch3to1PhaseSupported');
  if (sw !== undefined) caps.phaseSwitching = sw.trim().toLowerCase() === 'true';
  const connectors = int(v('NumberOfConnectors'), 1);
  if (connectors !== undefined) caps.connectors = connectors;
  const rotation = rotationOf(v('ConnectorPhaseRotation'));
  if (rotation) caps.phaseRotation = rotation;
  return caps;
}

/** The ChangeConfiguration requests that would give the loop what it needs, and the meter setup as it stands. */
export function meterPlan(values: Map<string, ConfigValue>, intervalS: number): { changes: Array<{ key: string; value: string }>; setup: MeterSetup; blocked: string[] } {
  const data = values.get('MeterValuesSampledData');
  const interval = values.get('MeterValueSampleInterval');
  const have = list(data?.value);
  const missing = WANTED_MEASURANDS.filter((m) => !have.includes(m));
  const changes: Array<{ key: string; value: string }> = [];
  const blocked: string[] = [];
  if (data && missing.length) {
    if (data.readonly) blocked.push(`MeterValuesSampledData is read-only (${data.value || 'empty'}): no ${missing.join(', ')}`);
    else changes.push({ key: 'MeterValuesSampledData', value: [...have, ...missing].join(',') });
  }
  const currentS = int(interval?.value, 0);
  if (interval && (currentS === undefined || currentS === 0 || currentS > intervalS)) {
    if (interval.readonly) blocked.push(`MeterValueSampleInterval is read-only (${interval.value ?? '?'} s)`);
    else changes.push({ key: 'MeterValueSampleInterval', value: String(intervalS) });
  }
  const setup: MeterSetup = {
    ...(data?.value !== undefined ? { sampledData: data.value } : {}),
    ...(currentS !== undefined ? { intervalS: currentS } : {}),
    phaseResolved: have.includes('Current.Import'),
  };
  return { changes, setup, blocked };
}
