// A storage inverter told its discharge limit over real Modbus TCP (SunSpec model 124 on the simulated battery): the
// limit written as a percentage of WChaMax (negative to make it charge), released, given back when the controller stops cleanly, and dropped by the
// inverter itself when nobody renews it (a dead controller leaves the battery as it would run on its own).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevice, type Device } from '../../drivers/device.js';
import { DISCHARGE_LIMIT_REVERT_S, writeDischargeLimit } from '../../drivers/modbus/battery-control.js';
import { ModbusConnection } from '../../drivers/modbus/client.js';
import { discoverSunSpec, sunspecRegisterMap } from '../../drivers/sunspec/discovery.js';
import { SimModbusSite } from '../../src/sim/devices/modbus-site.js';
import { SiteModel } from '../../src/sim/devices/site-model.js';
import { isGood, nextReading, waitFor } from './helpers.js';

describe('battery discharge limit over SunSpec model 124', () => {
  const model = new SiteModel();
  let clock = Date.now();
  const site = new SimModbusSite(model, { now: () => clock });
  const devices: Device[] = [];
  let port = 0;

  beforeAll(async () => {
    model.setBattery({ socPct: 80, powerW: 4000, maxChargeW: 10_000, maxDischargeW: 10_000 });
    port = await site.start();
  });
  afterAll(async () => {
    await Promise.all(devices.map((d) => d.close()));
    await site.close();
  });

  /** A device on the battery's unit whose warnings are kept, once it gives a good reading. */
  const openWarned = async (id: string): Promise<{ d: Device; warnings: string[] }> => {
    const warnings: string[] = [];
    const log = { debug: () => undefined, info: () => undefined, error: () => undefined, warn: (o: object | string, m?: string) => void warnings.push(`${JSON.stringify(o)} ${m ?? ''}`) };
    const d = createDevice({ id, driver: 'modbus-tcp', host: '127.0.0.1', port, unitId: 3, map: 'sunspec', pollMs: 100, staleMs: 3000 }, { dataDir: '/nonexistent', log });
    devices.push(d);
    await nextReading(d, isGood);
    return { d, warnings };
  };

  const open = (unitId: number): Device => {
    const d = createDevice({ id: `u${unitId}`, driver: 'modbus-tcp', host: '127.0.0.1', port, unitId, map: 'sunspec', pollMs: 100, staleMs: 3000 }, { dataDir: '/nonexistent' });
    devices.push(d);
    return d;
  };

  it('writes the limit, releases it, and gives the battery back when the controller stops', async () => {
    const battery = open(3);
    await nextReading(battery, isGood);
    expect(battery.batteryDischarge?.available).toBe(true);
    expect(site.batteryDischargeLimitW()).toBeUndefined();

    battery.batteryDischarge!.setLimit(2_500);
    await waitFor('the limit in force', () => site.batteryDischargeLimitW() !== undefined);
    // 25 % of WChaMax (10 kW), rounded down to the register's 1 % step.
    expect(site.batteryDischargeLimitW()).toBe(2_500);
    expect(site.battery.get(124, 'InOutWRte_RvrtTms')).toBe(DISCHARGE_LIMIT_REVERT_S);

    battery.batteryDischarge!.setLimit(3_333);
    await waitFor('the new limit', () => site.batteryDischargeLimitW() === 3_300);

    // Told to charge (refilled from PV): a negative rate, rounded toward 0 (it charges a little less, never more).
    battery.batteryDischarge!.setLimit(-4_000);
    await waitFor('charging at least 4 kW', () => site.batteryDischargeLimitW() === -4_000);
    expect(site.battery.get(124, 'OutWRte')).toBe(-40);
    battery.batteryDischarge!.setLimit(-3_333);
    await waitFor('charging at least 3.3 kW', () => site.batteryDischargeLimitW() === -3_300);

    battery.batteryDischarge!.setLimit(undefined);
    await waitFor('the release', () => site.batteryDischargeLimitW() === undefined);
    expect(site.battery.get(124, 'OutWRte')).toBe(100);

    // Held again, then the controller stops cleanly: it gives the battery back at once.
    battery.batteryDischarge!.setLimit(0);
    await waitFor('held at 0', () => site.batteryDischargeLimitW() === 0);
    await battery.close();
    expect(site.batteryDischargeLimitW()).toBeUndefined();
  });

  it('a controller that dies leaves the battery held only until the revert time of the inverter', async () => {
    const conn = new ModbusConnection({ kind: 'tcp', host: '127.0.0.1', port }, 1000);
    await conn.connect();
    try {
      const read = (a: number, c: number) => conn.read(3, 'holding', a, c);
      const regs = sunspecRegisterMap(await discoverSunSpec(read)).controls!.batteryDischarge!;
      // One hold, written as the driver writes it, and never renewed (the controller is gone).
      await writeDischargeLimit(regs, 1_000, read, (a, v) => conn.write(3, a, v));
      expect(site.batteryDischargeLimitW()).toBe(1_000);
      clock += (DISCHARGE_LIMIT_REVERT_S - 1) * 1000;
      expect(site.batteryDischargeLimitW()).toBe(1_000);
      clock += 2_000;
      expect(site.batteryDischargeLimitW()).toBeUndefined();
    } finally {
      await conn.close();
    }
  });

  it('an inverter that refuses writes: the readings stay good, one warning, and the limit goes in once it accepts', async () => {
    const { d, warnings } = await openWarned('locked');
    site.setFault({ kind: 'read-only' }, 3);
    d.batteryDischarge!.setLimit(1_500);
    await waitFor('the refused write', () => warnings.length > 0);
    // Polls go on, with good readings, and the write is tried with each one, but warned of once.
    await new Promise((r) => setTimeout(r, 500));
    expect((await nextReading(d, isGood)).values.batterySocPct).toBe(80);
    expect(site.batteryDischargeLimitW()).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/battery discharge limit not written/);
    site.setFault({ kind: 'none' }, 3);
    await waitFor('the limit once writes are accepted', () => site.batteryDischargeLimitW() === 1_500);
    expect(warnings).toHaveLength(1);
    await d.close();
  });

  it('an inverter that refuses to be told to charge is held at 0 instead, with one warning, and still takes its discharge limits', async () => {
    const { d, warnings } = await openWarned('no-charge');
    site.setFault({ kind: 'no-negative' }, 3);
    try {
      d.batteryDischarge!.setLimit(-4_000);
      await waitFor('held at 0 instead', () => site.batteryDischargeLimitW() === 0);
      await new Promise((r) => setTimeout(r, 500));
      expect(site.batteryDischargeLimitW()).toBe(0);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/refused to be told to charge/);
      expect((await nextReading(d, isGood)).values.batterySocPct).toBe(80);
      // A discharge limit is still written as asked.
      d.batteryDischarge!.setLimit(2_000);
      await waitFor('the discharge limit', () => site.batteryDischargeLimitW() === 2_000);
      d.batteryDischarge!.setLimit(-3_000);
      await waitFor('held at 0 again', () => site.batteryDischargeLimitW() === 0);
      expect(warnings).toHaveLength(1);
    } finally {
      site.setFault({ kind: 'none' }, 3);
      await d.close();
    }
  });

  it('a meter or an inverter without storage controls cannot take a limit, and asking changes nothing', async () => {
    const meter = open(1);
    await nextReading(meter, isGood);
    expect(meter.batteryDischarge?.available).toBe(false);
    meter.batteryDischarge!.setLimit(1_000);
    const r = await nextReading(meter, isGood);
    expect(r.values.phaseCurrentsA).toBeDefined();
  });
});
