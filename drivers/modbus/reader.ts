// Reads every value of a register map in as few requests as possible (contiguous spans merged up to 125
// registers), then decodes and scales each value. A Modbus exception spoils only the values in that span;
// a transport failure (timeout, lost connection) aborts the whole read so the device can reconnect.
import type { MeasuredValues, PhaseVector } from '../types.js';
import { decodeRegisters, registerCount, type Decoded } from './codec.js';
import { MAX_READ_REGISTERS, ModbusExceptionError, type RegisterTable } from './client.js';
import {
  SCALAR_FIELDS, VECTOR_FIELDS, type RegisterMap, type RegisterSpec, type ScalarFieldSpec,
} from './map.js';

export interface ReadSpan {
  table: RegisterTable;
  start: number;
  count: number;
}

export type ReadRegisters = (table: RegisterTable, address: number, count: number) => Promise<number[]>;

export interface MapReadResult {
  values: MeasuredValues;
  /** Why some values are missing, one line per value ("phaseCurrentsA: not implemented"). Empty when all are good. */
  problems: string[];
}

function specsOf(spec: ScalarFieldSpec): RegisterSpec[] {
  return 'sum' in spec ? spec.sum : [spec];
}

function allSpecs(map: RegisterMap): RegisterSpec[] {
  const out: RegisterSpec[] = [];
  for (const f of VECTOR_FIELDS) for (const s of map.fields[f] ?? []) out.push(...specsOf(s));
  for (const f of SCALAR_FIELDS) {
    const s = map.fields[f];
    if (s) out.push(...specsOf(s));
  }
  return out;
}

/** The reads needed for a map: spans sorted by table and address, merged while they stay within 125 registers. */
export function planReads(map: RegisterMap): ReadSpan[] {
  const maxGap = map.maxGap ?? 0;
  const raw: ReadSpan[] = [];
  for (const s of allSpecs(map)) {
    const table = s.table ?? map.table ?? 'holding';
    raw.push({ table, start: s.register, count: registerCount(s.type) });
    if (s.scaleRegister !== undefined) raw.push({ table, start: s.scaleRegister, count: 1 });
  }
  raw.sort((a, b) => (a.table === b.table ? a.start - b.start : a.table < b.table ? -1 : 1));
  const merged: ReadSpan[] = [];
  for (const span of raw) {
    const last = merged[merged.length - 1];
    if (last && last.table === span.table) {
      const lastEnd = last.start + last.count; // exclusive
      const newEnd = Math.max(lastEnd, span.start + span.count);
      if (span.start <= lastEnd + maxGap && newEnd - last.start <= MAX_READ_REGISTERS) {
        last.count = newEnd - last.start;
        continue;
      }
    }
    merged.push({ ...span });
  }
  return merged;
}

/** Reads and decodes a whole map. Throws only on transport failure. */
export async function readMap(map: RegisterMap, read: ReadRegisters, plan = planReads(map)): Promise<MapReadResult> {
  const regs = { holding: new Map<number, number>(), input: new Map<number, number>() };
  const failed: Array<{ span: ReadSpan; reason: string }> = [];
  for (const span of plan) {
    try {
      const data = await read(span.table, span.start, span.count);
      data.forEach((v, i) => regs[span.table].set(span.start + i, v));
    } catch (err) {
      if (err instanceof ModbusExceptionError) failed.push({ span, reason: err.message });
      else throw err;
    }
  }

  const decodeOne = (s: RegisterSpec): Decoded => {
    const table = s.table ?? map.table ?? 'holding';
    const n = registerCount(s.type);
    const words: number[] = [];
    for (let i = 0; i < n; i++) {
      const w = regs[table].get(s.register + i);
      if (w === undefined) {
        const f = failed.find((x) => x.span.table === table && s.register + i >= x.span.start && s.register + i < x.span.start + x.span.count);
        return { ok: false, reason: f ? f.reason : `register ${table} ${s.register + i} not read` };
      }
      words.push(w);
    }
    const markers = s.sunspecMarkers ?? map.sunspecMarkers ?? false;
    const d = decodeRegisters(words, s.type, s.byteOrder ?? map.byteOrder, s.wordOrder ?? map.wordOrder, markers);
    if (!d.ok) return d;
    let value = d.value;
    if (s.scaleRegister !== undefined) {
      const sfWord = regs[table].get(s.scaleRegister);
      if (sfWord === undefined) return { ok: false, reason: `scale factor register ${s.scaleRegister} not read` };
      const sf = decodeRegisters([sfWord], 'sunssf', 'big', 'big', true);
      if (!sf.ok) return { ok: false, reason: `scale factor ${sf.reason}` };
      // SunSpec allows -10..10; anything else is a device fault, not a number to trust.
      if (sf.value < -10 || sf.value > 10) return { ok: false, reason: `scale factor ${sf.value} out of range` };
      value *= 10 ** sf.value;
    }
    value = value * (s.scale ?? 1) + (s.offset ?? 0);
    // Float noise from 10^-n scaling (230.10000000000002) helps nobody reading logs or the page.
    return { ok: true, value: roundSignificant(value) };
  };

  const decodeScalar = (spec: ScalarFieldSpec): Decoded => {
    let total = 0;
    for (const s of specsOf(spec)) {
      const d = decodeOne(s);
      if (!d.ok) return d;
      total += d.value;
    }
    return { ok: true, value: roundSignificant(total) };
  };

  const values: MeasuredValues = {};
  const problems: string[] = [];
  for (const f of VECTOR_FIELDS) {
    const spec = map.fields[f];
    if (!spec) continue;
    const parts = spec.map(decodeScalar);
    const bad = parts.findIndex((p) => !p.ok);
    if (bad >= 0) {
      const p = parts[bad] as { ok: false; reason: string };
      problems.push(`${f}[L${bad + 1}]: ${p.reason}`);
    } else {
      values[f] = parts.map((p) => (p as { value: number }).value) as PhaseVector;
    }
  }
  for (const f of SCALAR_FIELDS) {
    const spec = map.fields[f];
    if (!spec) continue;
    const d = decodeScalar(spec);
    if (d.ok) values[f] = d.value;
    else problems.push(`${f}: ${d.reason}`);
  }
  return { values, problems };
}

function roundSignificant(v: number): number {
  if (v === 0 || !Number.isFinite(v)) return v;
  return Number(v.toPrecision(12));
}
