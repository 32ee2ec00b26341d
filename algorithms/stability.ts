// Stability: decreases take effect at once; increases are limited by a ramp and skipped when smaller than the
// hysteresis band, so profiles are not rewritten for noise (stations write them to flash). Both only ever hold
// a limit *below* the freshly computed safe target, so neither can push a node over its limit.
import type { AllocationReason } from './types.js';

/** Rounds down to the 0.1 A a charging profile carries (OCPP limits have one decimal): never above the target. */
export function floorToTenth(a: number): number {
  return Math.floor(a * 10 + 1e-7) / 10;
}

export interface StabilityInput {
  /** Safe target (A per phase), 0 = paused. */
  target: number;
  phases: 1 | 3;
  minA: number;
  previousA: number;
  previousPhases: 1 | 3;
  rampAPerS: number;
  stepMs: number;
  hysteresisA: number;
}

export function stabilize(x: StabilityInput): { value: number; held?: Extract<AllocationReason, 'ramp' | 'hysteresis'> } {
  const target = x.target;
  if (!(target > 0)) return { value: 0 };
  const prev = Number.isFinite(x.previousA) && x.previousA > 0 ? x.previousA : 0;
  if (target <= prev) return { value: target };

  // Keep the previous limit when the rise is smaller than the band (it is below the target, so it still fits;
  // it must also still be a valid charging current).
  const band = Number.isFinite(x.hysteresisA) && x.hysteresisA > 0 ? x.hysteresisA : 0;
  if (prev > 0 && prev >= x.minA && x.phases === x.previousPhases && target - prev < band) return { value: prev, held: 'hysteresis' };

  const ramp = Number.isFinite(x.rampAPerS) && x.rampAPerS > 0 ? x.rampAPerS : 0;
  if (ramp === 0) return { value: target };
  const stepS = Number.isFinite(x.stepMs) && x.stepMs > 0 ? x.stepMs / 1000 : 0;
  const reach = prev + ramp * stepS;
  if (reach >= target) return { value: target };
  // A session cannot run below its minimum: a start goes straight to the minimum (which fits: target >= min).
  let value = Math.max(floorToTenth(reach), x.minA, prev);
  if (value > target) value = target;
  return value < target ? { value, held: 'ramp' } : { value };
}
