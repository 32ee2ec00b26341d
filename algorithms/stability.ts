// Stability: decreases take effect at once; increases are limited by a ramp and skipped when smaller than the
// hysteresis band, so profiles are not rewritten for noise (stations write them to flash). Both only ever hold
// a limit *below* the freshly computed safe target, so neither can push a node over its limit.

/** Rounds down to the 0.1 A a charging profile carries (OCPP limits have one decimal): never above the target. */
export function floorToTenth(a: number): number {
  return Math.max(0, Math.floor(a * 10 + 1e-7) / 10);
}

export interface StabilitySettings {
  rampAPerS: number;
  stepMs: number;
  hysteresisA: number;
}

const band = (x: StabilitySettings): number => (Number.isFinite(x.hysteresisA) && x.hysteresisA > 0 ? x.hysteresisA : 0);

/**
 * The limit to send (A per phase) for a safe `target` (0 = paused), given the previous limit. Never above the
 * target; below it only to hold an increase back.
 */
export function stabilize(target: number, phases: 1 | 3, minA: number, previousA: number, previousPhases: 1 | 3, settings: StabilitySettings): number {
  if (!(target > 0)) return 0;
  const prev = Number.isFinite(previousA) && previousA > 0 ? previousA : 0;
  if (target <= prev) return target;

  // Keep the previous limit when the rise is smaller than the band (it is below the target, so it still fits;
  // it must also still be a valid charging current).
  if (prev > 0 && prev >= minA && phases === previousPhases && target - prev < band(settings)) return prev;

  const ramp = Number.isFinite(settings.rampAPerS) && settings.rampAPerS > 0 ? settings.rampAPerS : 0;
  if (ramp === 0) return target;
  const stepS = Number.isFinite(settings.stepMs) && settings.stepMs > 0 ? settings.stepMs / 1000 : 0;
  const reach = prev + ramp * stepS;
  if (reach >= target) return target;
  // A session cannot run below its minimum: a start goes straight to the minimum (which fits: target >= min).
  const value = Math.max(floorToTenth(reach), minA, prev);
  return value > target ? target : value;
}

/** Why a stabilized limit is below its target: the band held the previous limit, or the ramp held the rise. */
export function holdReason(value: number, target: number, previousA: number, settings: StabilitySettings): 'ramp' | 'hysteresis' | undefined {
  if (value >= target) return undefined;
  return value === previousA && target - previousA < band(settings) ? 'hysteresis' : 'ramp';
}
