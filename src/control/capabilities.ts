// What a station can do with charging profiles, read from the station itself after boot (GetVariables on
// SmartChargingCtrlr) and cached; config fills in what the station does not say.
import type { StationConfig } from '../config/types.js';
import { OcppCallError, type StationCaller } from '../relay/events.js';

export interface StationCapabilities {
  /** Units the station accepts in charging schedules (SmartChargingCtrlr.RateUnit). */
  rateUnits: Array<'A' | 'W'>;
  /** SmartChargingCtrlr.PeriodsPerSchedule, when the station said. */
  periodsPerSchedule?: number;
  /** SmartChargingCtrlr.ProfileStackLevel: the highest stack level it accepts, when the station said. */
  maxStackLevel?: number;
  /** SmartChargingCtrlr.ACPhaseSwitchingSupported, else stations.list[].phaseSwitching. */
  phaseSwitching: boolean;
  /** Where the values came from. */
  source: 'station' | 'config';
}

const COMPONENT = 'SmartChargingCtrlr';
const VARIABLES = ['RateUnit', 'PeriodsPerSchedule', 'ProfileStackLevel', 'ACPhaseSwitchingSupported'] as const;

/** What we assume before (or without) an answer: amperes, and phase switching only when config says so. */
export function fallbackCapabilities(station: Pick<StationConfig, 'phaseSwitching'> | undefined): StationCapabilities {
  return { rateUnits: ['A'], phaseSwitching: station?.phaseSwitching ?? false, source: 'config' };
}

export function getVariablesRequest(): Record<string, unknown> {
  return { getVariableData: VARIABLES.map((name) => ({ component: { name: COMPONENT }, variable: { name } })) };
}

/** Reads the answer to getVariablesRequest(); values the station did not give keep their fallback. */
export function parseCapabilities(result: Record<string, unknown>, fallback: StationCapabilities): StationCapabilities {
  const caps: StationCapabilities = { ...fallback, source: 'station' };
  const results = Array.isArray(result.getVariableResult) ? result.getVariableResult : [];
  for (const r of results as Array<Record<string, unknown>>) {
    if (r?.attributeStatus !== 'Accepted' || typeof r.attributeValue !== 'string') continue;
    const variable = (r.variable as { name?: unknown } | undefined)?.name;
    const value = r.attributeValue.trim();
    switch (variable) {
      case 'RateUnit': {
        const units = value.split(',').map((u) => u.trim()).filter((u): u is 'A' | 'W' => u === 'A' || u === 'W');
        if (units.length) caps.rateUnits = units;
        break;
      }
      case 'PeriodsPerSchedule': {
        const n = Number.parseInt(value, 10);
        if (Number.isFinite(n) && n >= 1) caps.periodsPerSchedule = n;
        break;
      }
      case 'ProfileStackLevel': {
        const n = Number.parseInt(value, 10);
        if (Number.isFinite(n) && n >= 0) caps.maxStackLevel = n;
        break;
      }
      case 'ACPhaseSwitchingSupported':
        caps.phaseSwitching = value.toLowerCase() === 'true';
        break;
    }
  }
  return caps;
}

/**
 * Asks the station. NotImplemented / NotSupported is an answer (the config fallback is final); any other failure is
 * not (`final: false`: use the fallback for now and ask again later).
 */
export async function readCapabilities(
  caller: StationCaller,
  stationId: string,
  fallback: StationCapabilities,
  timeoutMs?: number,
): Promise<{ caps: StationCapabilities; final: boolean }> {
  try {
    const result = await caller.call(stationId, 'GetVariables', getVariablesRequest(), timeoutMs ? { timeoutMs } : undefined);
    return { caps: parseCapabilities(result, fallback), final: true };
  } catch (err) {
    // NotImplemented / NotSupported is the station's real answer; anything else (SecurityError before its boot was
    // accepted, a timeout, a lost connection) is worth asking again.
    return { caps: fallback, final: err instanceof OcppCallError && (err.code === 'NotImplemented' || err.code === 'NotSupported') };
  }
}
