// The one MeterValues parser: OCPP meterValue[] (2.0.1 SampledValue; 1.6's is the same shape with string values,
// normalised by its adapter before it gets here) → samples in A, W, Wh → the neutral Measurement.
import type { Measurement } from '../model.js';

export interface Sample {
  measurand: string;
  phase?: string;
  value: number;
}

/** What a sampledValue without a measurand means (OCPP 2.0.1 SampledValueType, and 1.6). */
const MEASURAND_DEFAULT = 'Energy.Active.Import.Register';

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const obj = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

/** Flattens OCPP meterValue[] into samples with units normalised to A, W, Wh. */
export function parseMeterValues(meterValue: unknown): Sample[] {
  const out: Sample[] = [];
  if (!Array.isArray(meterValue)) return out;
  for (const mv of meterValue) {
    const sampled = obj(mv)?.sampledValue;
    if (!Array.isArray(sampled)) continue;
    for (const sv of sampled) {
      const s = obj(sv);
      const raw = num(s?.value);
      if (!s || raw === undefined) continue;
      const unit = obj(s.unitOfMeasure);
      const multiplier = num(unit?.multiplier) ?? 0;
      const u = typeof unit?.unit === 'string' ? unit.unit : undefined;
      let value = raw * 10 ** multiplier;
      // kW / kWh are allowed units: bring them to W / Wh.
      if (u === 'kW' || u === 'kWh') value *= 1000;
      out.push({ measurand: typeof s.measurand === 'string' ? s.measurand : MEASURAND_DEFAULT, phase: typeof s.phase === 'string' ? s.phase : undefined, value });
    }
  }
  return out;
}

const PHASE_INDEX: Record<string, number> = { L1: 0, L2: 1, L3: 2, 'L1-N': 0, 'L2-N': 1, 'L3-N': 2 };

/** Samples → what the EVSE measures: per-phase current, current without a phase, power and the energy register
 * (the whole-EVSE values; per-phase power and energy are not used). The last sample of a kind wins. */
export function toMeasurement(samples: Sample[]): Measurement {
  const m: Measurement = {};
  for (const x of samples) {
    if (x.measurand === 'Current.Import') {
      const i = x.phase !== undefined ? PHASE_INDEX[x.phase] : undefined;
      if (i === undefined) m.currentAnyPhaseA = x.value;
      else {
        m.currentA ??= [0, 0, 0];
        m.currentA[i] = x.value;
      }
    } else if (x.measurand === 'Power.Active.Import' && x.phase === undefined) {
      m.powerW = x.value;
    } else if (x.measurand === 'Energy.Active.Import.Register' && x.phase === undefined) {
      m.energyWh = x.value;
    }
  }
  return m;
}

/** meterValue[] → Measurement. */
export const measurementOf = (meterValue: unknown): Measurement => toMeasurement(parseMeterValues(meterValue));

/** The Energy.Active.Import.Register reading (Wh) of a payload's meterValue, if present. */
export const energyRegisterWh = (payload: Record<string, unknown>): number | undefined => measurementOf(payload.meterValue).energyWh;

/** The newest timestamp of a meterValue list (the station's clock), if any. */
export function newestTime(meterValue: unknown): number | undefined {
  let newest: number | undefined;
  for (const v of Array.isArray(meterValue) ? (meterValue as unknown[]) : []) {
    const ts = (v as { timestamp?: unknown } | null)?.timestamp;
    const t = typeof ts === 'string' ? Date.parse(ts) : NaN;
    if (Number.isFinite(t) && (newest === undefined || t > newest)) newest = t;
  }
  return newest;
}
