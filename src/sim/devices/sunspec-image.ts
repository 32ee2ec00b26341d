// Lays out a SunSpec device in a simulated register bank from the same model JSON the driver reads: "SunS", then
// each model's ID, L and points (unset points hold the not-implemented marker), then the 0xFFFF end marker.
// Values are written in engineering units and encoded with the scale factor chosen for each point.
import { decodeRegisters, encodeValue, notImplementedRegisters } from '../../../drivers/modbus/codec.js';
import { loadSunSpecModel, type SunSpecModel, type SunSpecPoint } from '../../../drivers/sunspec/model.js';
import type { RegisterBank } from './register-bank.js';

export interface SunSpecModelLayout {
  id: number;
  /** Repeating-group instances (e.g. MPPT inputs of model 160). */
  repeat?: number;
  /** Scale factors to write, by scale-factor point name (e.g. { A_SF: -1, W_SF: 1 }). Unlisted SFs are 0. */
  scaleFactors?: Record<string, number>;
}

interface PlacedModel {
  model: SunSpecModel;
  address: number;
  length: number;
  repeat: number;
}

export class SunSpecImage {
  private readonly placed = new Map<number, PlacedModel>();

  constructor(
    private readonly bank: RegisterBank,
    readonly base: number,
    layouts: SunSpecModelLayout[],
  ) {
    bank.write('holding', base, [0x5375, 0x6e53]);
    let address = base + 2;
    for (const l of layouts) {
      const model = loadSunSpecModel(l.id);
      if (!model) throw new Error(`SunSpec model ${l.id} is not bundled`);
      const repeat = model.repeating ? (l.repeat ?? 1) : 0;
      const length = model.fixedLength + repeat * (model.repeating?.length ?? 0);
      bank.write('holding', address, [l.id, length]);
      const placed: PlacedModel = { model, address, length, repeat };
      this.placed.set(l.id, placed);
      for (const p of model.points.values()) if (p.offset >= 2) this.clear(address, p);
      for (let i = 0; i < repeat; i++) {
        const start = address + 2 + model.fixedLength + i * (model.repeating?.length ?? 0);
        for (const p of model.repeating?.points.values() ?? []) this.clear(start, p);
      }
      for (const p of model.points.values()) {
        if (p.sunspecType === 'sunssf') bank.write('holding', address + p.offset, encodeValue(l.scaleFactors?.[p.name] ?? 0, 'sunssf'));
      }
      if (model.repeating) {
        // The repeating group's count point (N), when the model has one, tells readers how many instances follow.
        const n = model.points.get('N');
        if (n) bank.write('holding', address + n.offset, [repeat]);
      }
      address += 2 + length;
    }
    bank.write('holding', address, [0xffff, 0]);
  }

  private clear(start: number, p: SunSpecPoint): void {
    const words = p.type && p.sunspecType !== 'sunssf' ? notImplementedRegisters(p.type) : new Array<number>(p.size).fill(0);
    const padded = words.length === p.size ? words : [...words, ...new Array<number>(Math.max(0, p.size - words.length)).fill(0)].slice(0, p.size);
    this.bank.write('holding', start + p.offset, padded);
  }

  /** Address of a model's ID register. */
  modelAddress(id: number): number {
    const m = this.placed.get(id);
    if (!m) throw new Error(`model ${id} not in this image`);
    return m.address;
  }

  /** Writes a point in engineering units, applying its scale factor; `instance` selects a repeating-group entry. */
  set(modelId: number, point: string, value: number, instance?: number): void {
    const { start, p, m } = this.locate(modelId, point, instance);
    if (!p.type) throw new Error(`point ${point} of model ${modelId} is not numeric`);
    let raw = value;
    if (p.sf) {
      const sf = m.model.points.get(p.sf);
      if (sf) raw = value / 10 ** (this.bank.holding[m.address + sf.offset] << 16 >> 16);
    }
    this.bank.write('holding', start + p.offset, encodeValue(raw, p.type));
  }

  /** Reads a point back in engineering units (what a client wrote, say); undefined when not a number. */
  get(modelId: number, point: string): number | undefined {
    const { start, p, m } = this.locate(modelId, point);
    if (!p.type) return undefined;
    const d = decodeRegisters(Array.from(this.bank.holding.subarray(start + p.offset, start + p.offset + p.size)), p.type, 'big', 'big', true);
    if (!d.ok) return undefined;
    const sf = p.sf ? m.model.points.get(p.sf) : undefined;
    return sf ? d.value * 10 ** ((this.bank.holding[m.address + sf.offset] << 16) >> 16) : d.value;
  }

  /** Whether a register lies in a model's block. */
  holds(modelId: number, address: number): boolean {
    const m = this.placed.get(modelId);
    return m !== undefined && address >= m.address && address < m.address + 2 + m.length;
  }

  /** Writes raw registers to a point (e.g. a not-implemented marker or a NaN). */
  setRaw(modelId: number, point: string, words: number[], instance?: number): void {
    const { start, p } = this.locate(modelId, point, instance);
    this.bank.write('holding', start + p.offset, words);
  }

  setString(modelId: number, point: string, text: string): void {
    const { start, p } = this.locate(modelId, point);
    const bytes = Buffer.alloc(p.size * 2);
    bytes.write(text.slice(0, p.size * 2), 'latin1');
    const words: number[] = [];
    for (let i = 0; i < p.size; i++) words.push(bytes.readUInt16BE(i * 2));
    this.bank.write('holding', start + p.offset, words);
  }

  private locate(modelId: number, point: string, instance?: number): { start: number; p: SunSpecPoint; m: PlacedModel } {
    const m = this.placed.get(modelId);
    if (!m) throw new Error(`model ${modelId} not in this image`);
    if (instance !== undefined) {
      const p = m.model.repeating?.points.get(point);
      if (!p || instance >= m.repeat) throw new Error(`no point ${point}[${instance}] in model ${modelId}`);
      return { start: m.address + 2 + m.model.fixedLength + instance * (m.model.repeating?.length ?? 0), p, m };
    }
    const p = m.model.points.get(point);
    if (!p) throw new Error(`no point ${point} in model ${modelId}`);
    return { start: m.address, p, m };
  }
}
