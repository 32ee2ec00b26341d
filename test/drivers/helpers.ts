// Shared test helpers: wait for a reading that satisfies a condition (or for any condition), and fill a simulated unit
// from a map.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filter, firstValueFrom, timeout } from 'rxjs';
import type { Device } from '../../drivers/device.js';
import { encodeValue } from '../../drivers/modbus/codec.js';
import type { RegisterMap, RegisterSpec, ScalarFieldSpec } from '../../drivers/modbus/map.js';
import type { MeasuredValues, Reading } from '../../drivers/types.js';
import type { RegisterBank } from '../../src/sim/devices/register-bank.js';

export function nextReading(device: Device, pred: (r: Reading) => boolean, ms = 10_000): Promise<Reading> {
  return firstValueFrom(device.readings$.pipe(filter(pred), timeout({ first: ms })));
}

export const isGood = (r: Reading): boolean => r.quality === 'good';

/** Polls `cond` every 50 ms until it holds; throws naming `what` after `ms`. */
export async function waitFor(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Writes engineering values into a bank the way the map says the device encodes them (inverse scale). */
export function writeMapValues(bank: RegisterBank, map: RegisterMap, values: MeasuredValues): void {
  const put = (spec: ScalarFieldSpec, value: number): void => {
    const s = ('sum' in spec ? spec.sum[0] : spec) as RegisterSpec;
    const raw = (value - (s.offset ?? 0)) / (s.scale ?? 1);
    bank.write(s.table ?? map.table ?? 'holding', s.register, encodeValue(raw, s.type, s.byteOrder ?? map.byteOrder, s.wordOrder ?? map.wordOrder));
  };
  for (const [field, value] of Object.entries(values)) {
    const spec = (map.fields as Record<string, ScalarFieldSpec | ScalarFieldSpec[] | undefined>)[field];
    if (!spec) continue;
    if (Array.isArray(spec)) spec.forEach((s, i) => put(s, (value as number[])[i] ?? 0));
    else put(spec, value as number);
  }
}
