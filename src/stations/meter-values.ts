// The one MeterValues parser, for every protocol: OCPP meterValue[] (2.0.1 SampledValue; 1.6's is the same shape with
// string values and a flat `unit`, normalised by its adapter before it gets here) → samples in A, W, Wh → the neutral
// Measurement. Units are read with mathjs (kW, kWh, W, Wh, A, any SI prefix a firmware sends); each unit's factor is
// worked out once and cached, so the per-frame cost is a Map lookup (bench: `npm run bench -- meter-values`).
import { unit as mathUnit } from 'mathjs';
import type { Measurement } from './model.js';

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

/** The base units the model keeps; OCPP's unit names that mathjs spells differently. */
const BASE = ['A', 'W', 'Wh', 'V', 'VA', 'VAh', 'var', 'varh', 'Hz', 'K', 'degC', 'Percent'] as const;
const ALIASES: Record<string, string> = { Celsius: 'degC', Celcius: 'degC', Fahrenheit: 'degF', Kelvin: 'K', kvar: 'kVAR', kvarh: 'kVARh' };
/** Factor to the base unit, by unit name as sent (undefined = not a unit we convert: the value is kept as sent). */
const factors = new Map<string, number | undefined>();

/** How much one `u` is in the model's base unit of its kind (kW → 1000 W, mA → 0.001 A), cached per name. */
export function unitFactor(u: string): number | undefined {
  if (factors.has(u)) return factors.get(u);
  let f: number | undefined;
  if ((BASE as readonly string[]).includes(u)) f = 1;
  else if (factors.size < 256) {
    // A bounded cache: a station inventing unit names cannot make the process hold more.
    try {
      const parsed = mathUnit(1, ALIASES[u] ?? u);
      const to = ['A', 'W', 'Wh'].find((b) => parsed.equalBase(mathUnit(1, b)));
      f = to ? parsed.toNumber(to) : undefined;
    } catch {
      f = undefined;
    }
  }
  if (factors.size < 256) factors.set(u, f);
  return f;
}

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
      const value = raw * 10 ** multiplier * (u !== undefined ? (unitFactor(u) ?? 1) : 1);
      out.push({ measurand: typeof s.measurand === 'string' ? s.measurand : MEASURAND_DEFAULT, phase: typeof s.phase === 'string' ? s.phase : undefined, value });
    }
  }
  return out;
}

/** A phase as stations write it → the EVSE's phase index. N (the neutral) and line-to-line values are not a phase's
 * draw; `L1-N` is L1 measured against neutral (some firmwares write every current that way). */
const PHASE_INDEX: Record<string, number> = { L1: 0, L2: 1, L3: 2, 'L1-N': 0, 'L2-N': 1, 'L3-N': 2 };
const NOT_A_PHASE = new Set(['N', 'L1-L2', 'L2-L3', 'L3-L1']);

/** Samples → what the EVSE measures: per-phase current, current without a phase, the current offered, power and the
 * energy register (the whole-EVSE values; per-phase power and energy are not used). The last sample of a kind wins. */
export function toMeasurement(samples: Sample[]): Measurement {
  const m: Measurement = {};
  let seen: Set<number> | undefined;
  for (const x of samples) {
    if (x.measurand === 'Current.Import') {
      if (x.phase !== undefined && NOT_A_PHASE.has(x.phase)) continue;
      const i = x.phase !== undefined ? PHASE_INDEX[x.phase] : undefined;
      if (i === undefined) m.currentAnyPhaseA = x.value;
      else {
        m.currentA ??= [0, 0, 0];
        m.currentA[i] = x.value;
        (seen ??= new Set()).add(i);
      }
    } else if (x.measurand === 'Current.Offered') {
      // What the station offers the EV now: the limit it really applies (per phase; the highest phase when split).
      if (x.phase === undefined || !NOT_A_PHASE.has(x.phase)) m.offeredA = Math.max(m.offeredA ?? 0, x.value);
    } else if (x.measurand === 'Power.Active.Import' && x.phase === undefined) {
      m.powerW = x.value;
    } else if (x.measurand === 'Energy.Active.Import.Register' && x.phase === undefined) {
      m.energyWh = x.value;
    }
  }
  if (seen && seen.size < 3) m.currentPhases = seen.size;
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
