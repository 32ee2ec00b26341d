// SunSpec over real Modbus TCP: discovery of the simulated meter, inverter and battery, values with their scale
// factors, and a register change seen by the next poll.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevice, type Device } from '../../drivers/device.js';
import { ModbusConnection } from '../../drivers/modbus/client.js';
import { discoverSunSpec, readSunSpecIdentity, sunspecRegisterMap } from '../../drivers/sunspec/discovery.js';
import { SimModbusSite } from '../../src/sim/devices/modbus-site.js';
import { SiteModel } from '../../src/sim/devices/site-model.js';
import { isGood, nextReading } from './helpers.js';

describe('SunSpec devices on the simulated site', () => {
  const model = new SiteModel();
  const site = new SimModbusSite(model);
  const devices: Device[] = [];
  let port = 0;

  beforeAll(async () => {
    model.setGrid({ currentsA: [20.5, 12.3, 31], voltagesV: [231.2, 229.8, 230.4], importWh: 123456, exportWh: 789 });
    model.setPv({ powerW: 8400, limitPct: 70 });
    model.setBattery({ socPct: 64.5, powerW: -2500, maxChargeW: 5000, maxDischargeW: 6000 });
    port = await site.start();
  });
  afterAll(async () => {
    await Promise.all(devices.map((d) => d.close()));
    await site.close();
  });

  const open = (id: string, unitId: number, pollMs = 200): Device => {
    const d = createDevice({ id, driver: 'modbus-tcp', host: '127.0.0.1', port, unitId, map: 'sunspec', pollMs, staleMs: 3000 }, { dataDir: '/nonexistent' });
    devices.push(d);
    return d;
  };

  it('discovery finds the model chain of each unit', async () => {
    const conn = new ModbusConnection({ kind: 'tcp', host: '127.0.0.1', port }, 1000);
    await conn.connect();
    try {
      const read = (u: number) => (a: number, c: number) => conn.read(u, 'holding', a, c);
      const meter = await discoverSunSpec(read(1));
      expect(meter.base).toBe(40000);
      expect(meter.models.map((m) => m.id)).toEqual([1, 203]);
      const inverter = await discoverSunSpec(read(2));
      expect(inverter.models.map((m) => m.id)).toEqual([1, 103, 123, 160]);
      const battery = await discoverSunSpec(read(3));
      expect(battery.models.map((m) => m.id)).toEqual([1, 802, 124]);
      expect(await readSunSpecIdentity(read(2), inverter)).toMatchObject({ manufacturer: 'site-controller sim', model: 'SimInverter 30k', serial: 'I-0001' });
      const map = sunspecRegisterMap(meter);
      expect(Object.keys(map.fields).sort()).toEqual(
        ['activePowerW', 'exportEnergyWh', 'importEnergyWh', 'phaseCurrentsA', 'phasePowersW', 'phaseVoltagesV'].sort(),
      );
    } finally {
      await conn.close();
    }
  });

  it('the meter reads currents, voltages, powers and energy with scale factors', async () => {
    const meter = open('grid', 1);
    const r = await nextReading(meter, isGood);
    expect(r.values.phaseCurrentsA).toEqual([20.5, 12.3, 31]);
    expect(r.values.phaseVoltagesV).toEqual([231.2, 229.8, 230.4]);
    // W_SF = 1: 10 W resolution
    expect(r.values.activePowerW).toBeCloseTo(20.5 * 231.2 + 12.3 * 229.8 + 31 * 230.4, -1);
    expect(r.values.importEnergyWh).toBe(123456);
    expect(r.values.exportEnergyWh).toBe(789);
    expect(meter.capabilities).toContain('phaseCurrentsA');
  });

  it('the inverter reads PV power (sum of MPPT inputs) and its power limit', async () => {
    const inverter = open('pv', 2);
    const r = await nextReading(inverter, isGood);
    expect(r.values.pvPowerW).toBe(8400);
    expect(r.values.pvPowerLimitPct).toBe(70);
  });

  it('the battery reads SoC, power (discharging positive) and limits', async () => {
    const battery = open('battery', 3);
    const r = await nextReading(battery, isGood);
    expect(r.values.batterySocPct).toBe(64.5);
    expect(r.values.batteryPowerW).toBe(-2500);
    expect(r.values.batteryMaxChargeW).toBe(5000);
    expect(r.values.batteryMaxDischargeW).toBe(6000);
  });

  it('a register change is seen within one poll', async () => {
    const meter = open('grid-change', 1, 300);
    await nextReading(meter, (r) => isGood(r) && r.values.phaseCurrentsA?.[1] === 12.3);
    // Count readings, not milliseconds: a poll may be in flight when the value changes, so the change must show
    // in the first or (at the latest) the second reading that follows.
    const seen: Array<number | undefined> = [];
    const sub = meter.readings$.subscribe((r) => seen.push(r.values.phaseCurrentsA?.[1]));
    seen.length = 0; // drop the replayed latest reading
    model.setGrid({ currentsA: [40, 41.5, 42] });
    await nextReading(meter, (x) => isGood(x) && x.values.phaseCurrentsA?.[1] === 41.5);
    sub.unsubscribe();
    expect(seen.indexOf(41.5)).toBeGreaterThanOrEqual(0);
    expect(seen.indexOf(41.5)).toBeLessThanOrEqual(1);
  });

  it('finds SunSpec at base 50000 and at 0', async () => {
    for (const base of [50000, 0]) {
      const other = new SimModbusSite(model, { base });
      const p = await other.start();
      const d = createDevice({ id: `b${base}`, driver: 'modbus-tcp', host: '127.0.0.1', port: p, unitId: 1, map: 'sunspec', pollMs: 200 }, { dataDir: '/x' });
      try {
        const r = await nextReading(d, isGood);
        expect(r.values.phaseCurrentsA).toEqual(model.values.grid.currentsA);
      } finally {
        await d.close();
        await other.close();
      }
    }
  });
});
