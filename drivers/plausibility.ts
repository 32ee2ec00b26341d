// A last line of defence: a value outside what any site device can physically report (a register read at the wrong
// address, a scale factor gone wrong, a 0xFFFF the map did not flag) is dropped and the reading made bad, so the
// controller never allocates current against 6553.5 A or a 65535 % battery.
import type { MeasuredValues } from './types.js';

type Range = readonly [number, number];

const RANGES: Record<keyof MeasuredValues, Range> = {
  phaseCurrentsA: [-10_000, 10_000],
  phaseVoltagesV: [0, 1_000],
  phasePowersW: [-1e8, 1e8],
  activePowerW: [-1e8, 1e8],
  importEnergyWh: [0, 1e15],
  exportEnergyWh: [0, 1e15],
  pvPowerW: [-1e6, 1e8],
  pvPowerLimitPct: [0, 110],
  batterySocPct: [0, 100],
  batteryPowerW: [-1e8, 1e8],
  batteryMaxChargeW: [0, 1e8],
  batteryMaxDischargeW: [0, 1e8],
};

/** Splits values into the plausible ones and a problem line per implausible value. */
export function checkPlausible(values: MeasuredValues): { values: MeasuredValues; problems: string[] } {
  const out: MeasuredValues = {};
  const problems: string[] = [];
  for (const [key, value] of Object.entries(values) as Array<[keyof MeasuredValues, number | number[] | undefined]>) {
    if (value === undefined) continue;
    const [lo, hi] = RANGES[key] ?? [-Infinity, Infinity];
    const items = Array.isArray(value) ? value : [value];
    const badIndex = items.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi);
    if (badIndex >= 0) {
      const where = Array.isArray(value) ? `${key}[L${badIndex + 1}]` : key;
      problems.push(`${where}: ${String(items[badIndex])} out of range ${lo}..${hi}`);
      continue;
    }
    (out as Record<string, unknown>)[key] = value;
  }
  return { values: out, problems };
}
