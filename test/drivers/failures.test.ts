// What a user must never see: a dead or confused device reported as good. Exceptions, timeouts, NaN and
// not-implemented values, a wrong unit id -> bad readings with a reason; a device that goes away -> stale within
// its stale time, and good again once it is back. None of it may crash the process.
import { afterEach, describe, expect, it } from 'vitest';
import { createDevice, type Device } from '../../drivers/device.js';
import { SimModbusSite } from '../../src/sim/devices/modbus-site.js';
import { SiteModel } from '../../src/sim/devices/site-model.js';
import type { Reading } from '../../drivers/types.js';
import { isGood, nextReading } from './helpers.js';

describe('Modbus device failures', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()?.();
  });

  async function setup(opts: { unitId?: number; staleMs?: number; timeoutMs?: number; map?: string } = {}) {
    const model = new SiteModel();
    model.setGrid({ currentsA: [10, 11, 12] });
    const site = new SimModbusSite(model);
    const port = await site.start();
    cleanups.push(() => site.close());
    const device = createDevice(
      {
        id: 'grid', driver: 'modbus-tcp', host: '127.0.0.1', port, unitId: opts.unitId ?? 1, map: opts.map ?? 'sunspec',
        pollMs: 100, staleMs: opts.staleMs ?? 1500, timeoutMs: opts.timeoutMs ?? 300, retries: 0, backoffMinMs: 100, backoffMaxMs: 400,
      },
      { dataDir: '/unused' },
    );
    cleanups.push(() => device.close());
    return { model, site, device, port };
  }

  it('a Modbus exception gives a bad reading naming the exception, then good again', async () => {
    const { site, device } = await setup();
    await nextReading(device, isGood);
    site.setFault({ kind: 'exception', code: 4 });
    const bad = await nextReading(device, (r) => r.quality === 'bad');
    expect(bad.reason).toMatch(/Modbus exception 4 \(server device failure\)/);
    expect(bad.values).toEqual({});
    site.setFault({ kind: 'none' });
    const good = await nextReading(device, isGood);
    expect(good.values.phaseCurrentsA).toEqual([10, 11, 12]);
  });

  it('a device that stops answering gives timeouts (bad), then stale within staleMs, never its last value', async () => {
    const { site, device } = await setup({ staleMs: 1200, timeoutMs: 250 });
    await nextReading(device, isGood);
    const seen: Reading[] = [];
    const sub = device.readings$.subscribe((r) => seen.push(r));
    seen.length = 0;
    site.setFault({ kind: 'silent' });
    const bad = await nextReading(device, (r) => r.quality === 'bad');
    expect(bad.reason).toMatch(/timeout/);
    const stale = await nextReading(device, (r) => r.quality === 'stale', 5000);
    expect(stale.values).toEqual({});
    site.setFault({ kind: 'none' });
    await nextReading(device, isGood);
    sub.unsubscribe();
    // Between the fault and the recovery nothing claimed to be good.
    const firstBadIndex = seen.findIndex((r) => r.quality !== 'good');
    const recoveredIndex = seen.findIndex((r, i) => i > firstBadIndex && r.quality === 'good');
    expect(seen.slice(firstBadIndex, recoveredIndex).every((r) => r.quality !== 'good')).toBe(true);
  });

  it('server stopped -> stale within the configured time -> good again after it returns', async () => {
    const { site, device, model } = await setup({ staleMs: 1000 });
    await nextReading(device, isGood);
    await site.stop();
    const stale = await nextReading(device, (r) => r.quality === 'stale', 5000);
    expect(stale.values).toEqual({});
    expect(stale.reason).toBeTruthy();
    model.setGrid({ currentsA: [5, 6, 7] });
    await site.start();
    const good = await nextReading(device, (r) => isGood(r) && r.values.phaseCurrentsA?.[0] === 5, 10_000);
    expect(good.values.phaseCurrentsA).toEqual([5, 6, 7]);
  });

  it('not-implemented and NaN values make the reading bad with the value named, the rest still delivered', async () => {
    const { site, device } = await setup();
    await nextReading(device, isGood);
    site.meter.setRaw(203, 'AphB', [0x8000]); // int16 not implemented
    const bad = await nextReading(device, (r) => r.quality === 'bad');
    expect(bad.reason).toMatch(/phaseCurrentsA\[L2\]: not implemented/);
    expect(bad.values.phaseCurrentsA).toBeUndefined();
    expect(bad.values.phaseVoltagesV).toEqual([230, 230, 230]);
    site.meter.set(203, 'AphB', 11);
    site.meter.setRaw(203, 'A_SF', [0x8000]); // scale factor not implemented spoils every current
    const badSf = await nextReading(device, (r) => r.quality === 'bad' && /scale factor/.test(r.reason ?? ''));
    expect(badSf.reason).toMatch(/phaseCurrentsA\[L1\]: scale factor not implemented/);
  });

  it('NaN in a float register (SDM630 map) is a bad value, not a number', async () => {
    const { site, device } = await setup({ unitId: 7, map: 'eastron-sdm630' });
    const bank = site.server.unit(7);
    for (let a = 0; a < 80; a += 2) bank.write('input', a, [0x4366, 0x0000]); // 230.0
    await nextReading(device, isGood);
    bank.write('input', 52, [0x7fc0, 0x0000]); // NaN total power
    const bad = await nextReading(device, (r) => r.quality === 'bad');
    expect(bad.reason).toMatch(/activePowerW: NaN/);
    expect(bad.values.phaseVoltagesV).toEqual([230, 230, 230]);
  });

  it('a wrong unit id gives a bad reading saying so, and nothing crashes', async () => {
    const { device } = await setup({ unitId: 42 });
    const bad = await nextReading(device, (r) => r.quality === 'bad');
    expect(bad.reason).toMatch(/no SunSpec device found.*exception 11/);
    const dev2 = await setup({ unitId: 42, map: 'janitza-umg604' });
    const bad2 = await nextReading(dev2.device, (r) => r.quality === 'bad');
    expect(bad2.reason).toMatch(/exception 11 \(gateway target device failed to respond \(wrong unit id\?\)\)/);
  });

  it('nobody listening on the port: bad (refused), then stale; the device keeps retrying', async () => {
    const { site, device, port } = await setup({ staleMs: 800 });
    await site.stop();
    expect(port).toBeGreaterThan(0);
    const stale = await nextReading(device, (r) => r.quality === 'stale', 5000);
    expect(stale.reason).toMatch(/ECONNREFUSED|connect|disconnected|closed|Port Not Open/i);
    await site.start();
    await nextReading(device, isGood, 10_000);
  });
});
