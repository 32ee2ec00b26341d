// Register decoding and read planning (pure), and reading quality over virtual time.
import { VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeRegisters, encodeValue, type RegisterType } from '../../drivers/modbus/codec.js';
import { planReads } from '../../drivers/modbus/reader.js';
import { ReadingEmitter } from '../../drivers/freshness.js';
import { checkPlausible } from '../../drivers/plausibility.js';
import { silentDriverLogger } from '../../drivers/log.js';
import type { Reading } from '../../drivers/types.js';

describe('register codec', () => {
  it('decodes each type in every byte and word order it was encoded in', () => {
    const cases: Array<[RegisterType, fc.Arbitrary<number>]> = [
      ['int16', fc.integer({ min: -32767, max: 32767 })],
      ['uint16', fc.integer({ min: 0, max: 65534 })],
      ['int32', fc.integer({ min: -0x7fffffff, max: 0x7fffffff })],
      ['uint32', fc.integer({ min: 0, max: 0xfffffffe })],
      ['int64', fc.integer({ min: -(2 ** 52), max: 2 ** 52 })],
      ['uint64', fc.integer({ min: 0, max: 2 ** 52 })],
      ['float32', fc.float({ noNaN: true, noDefaultInfinity: true }).map(Math.fround)],
    ];
    for (const [type, arb] of cases) {
      fc.assert(
        fc.property(arb, fc.constantFrom('big', 'little'), fc.constantFrom('big', 'little'), (v, bo, wo) => {
          const words = encodeValue(v, type, bo as 'big', wo as 'big');
          const d = decodeRegisters(words, type, bo as 'big', wo as 'big', true);
          return d.ok && d.value === v;
        }),
      );
    }
  });

  it('knows the word orders devices use', () => {
    expect(decodeRegisters([0x0001, 0x0002], 'uint32', 'big', 'big')).toEqual({ ok: true, value: 0x00010002 });
    expect(decodeRegisters([0x0002, 0x0001], 'uint32', 'big', 'little')).toEqual({ ok: true, value: 0x00010002 });
    expect(decodeRegisters([0x0100, 0x0200], 'uint32', 'little', 'big')).toEqual({ ok: true, value: 0x00010002 });
    expect(decodeRegisters([0x4366, 0x0000], 'float32')).toEqual({ ok: true, value: 230 });
  });

  it('SunSpec not-implemented markers and NaN are not values', () => {
    expect(decodeRegisters([0x8000], 'int16', 'big', 'big', true)).toEqual({ ok: false, reason: 'not implemented' });
    expect(decodeRegisters([0xffff], 'uint16', 'big', 'big', true).ok).toBe(false);
    expect(decodeRegisters([0x8000, 0], 'int32', 'big', 'big', true).ok).toBe(false);
    expect(decodeRegisters([0xffff, 0xffff], 'uint32', 'big', 'big', true).ok).toBe(false);
    expect(decodeRegisters([0x7fc0, 0], 'float32')).toEqual({ ok: false, reason: 'NaN' });
    // Without markers (a vendor map), 0xFFFF is just 65535.
    expect(decodeRegisters([0xffff], 'uint16')).toEqual({ ok: true, value: 65535 });
  });
});

describe('read planning', () => {
  it('merges contiguous spans per table, never beyond 125 registers', () => {
    const plan = planReads({
      name: 't',
      fields: {
        phaseCurrentsA: [{ register: 0, type: 'float32' }, { register: 2, type: 'float32' }, { register: 4, type: 'float32' }],
        activePowerW: { register: 6, type: 'int16', scaleRegister: 7 },
        importEnergyWh: { register: 200, type: 'uint32', table: 'input' },
        exportEnergyWh: { register: 150, type: 'uint32' },
        pvPowerW: { register: 20, type: 'int16' },
      },
    });
    expect(plan).toEqual([
      { table: 'holding', start: 0, count: 8 },
      { table: 'holding', start: 20, count: 1 },
      { table: 'holding', start: 150, count: 2 },
      { table: 'input', start: 200, count: 2 },
    ]);
    const wide = planReads({
      name: 'w', maxGap: 100,
      fields: { activePowerW: { register: 0, type: 'int16' }, pvPowerW: { register: 120, type: 'int32' }, importEnergyWh: { register: 126, type: 'uint32' } },
    });
    expect(wide.every((s) => s.count <= 125)).toBe(true);
    expect(wide).toHaveLength(2);
  });
});

describe('plausibility', () => {
  it('drops values no device can report and says which', () => {
    const r = checkPlausible({ phaseVoltagesV: [230, 6553.5, 231], batterySocPct: 65535, activePowerW: -4200, importEnergyWh: 10 });
    expect(r.values).toEqual({ activePowerW: -4200, importEnergyWh: 10 });
    expect(r.problems).toEqual(['phaseVoltagesV[L2]: 6553.5 out of range 0..1000', 'batterySocPct: 65535 out of range 0..100']);
  });

  it('an implausible value makes the reading bad', () => {
    const scheduler = new VirtualTimeScheduler();
    const e = new ReadingEmitter('m3', scheduler, 5000, silentDriverLogger);
    const out: Reading[] = [];
    e.readings$.subscribe((r) => out.push(r));
    e.answered({ batterySocPct: 101, batteryPowerW: 300 });
    expect(out[0]).toMatchObject({ quality: 'bad', values: { batteryPowerW: 300 }, reason: 'batterySocPct: 101 out of range 0..100' });
  });
});

describe('reading quality over time (virtual clock)', () => {
  it('bad while within staleMs, stale after it with empty values, good again on an answer', () => {
    const scheduler = new VirtualTimeScheduler();
    const e = new ReadingEmitter('m1', scheduler, 5000, silentDriverLogger);
    const out: Reading[] = [];
    e.readings$.subscribe((r) => out.push(r));
    const at = (ms: number, fn: () => void) => scheduler.schedule(fn, ms);
    at(1000, () => e.answered({ activePowerW: 1200 }));
    at(2000, () => e.failed('timeout after 1000 ms'));
    at(5999, () => e.checkStale());
    at(6000, () => e.checkStale());
    at(6500, () => e.failed('timeout after 1000 ms'));
    at(7000, () => e.answered({ activePowerW: 900 }));
    scheduler.flush();
    expect(out.map((r) => [r.at, r.quality])).toEqual([
      [1000, 'good'], [2000, 'bad'], [6000, 'stale'], [6500, 'stale'], [7000, 'good'],
    ]);
    expect(out[1].values).toEqual({});
    expect(out[2].values).toEqual({});
    expect(out[1].reason).toMatch(/timeout/);
  });

  it('a device that never answered goes stale staleMs after start', () => {
    const scheduler = new VirtualTimeScheduler();
    const e = new ReadingEmitter('m2', scheduler, 3000, silentDriverLogger);
    const out: Reading[] = [];
    e.readings$.subscribe((r) => out.push(r));
    for (let t = 500; t <= 4000; t += 500) scheduler.schedule(() => e.failed('ECONNREFUSED'), t);
    scheduler.flush();
    expect(out.filter((r) => r.quality === 'bad').map((r) => r.at)).toEqual([500, 1000, 1500, 2000, 2500]);
    expect(out.filter((r) => r.quality === 'stale').map((r) => r.at)).toEqual([3000, 3500, 4000]);
  });
});
