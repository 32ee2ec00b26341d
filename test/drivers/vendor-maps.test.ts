// The bundled vendor maps against a real Modbus TCP server: each device's registers are laid out as the vendor
// documents them (raw words written by hand for one value per map, to pin down types, word order and scaling),
// and the driver must read back the engineering values.
import { readdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevice, DeviceConfigError, type Device } from '../../drivers/device.js';
import { bundledMapsDir, loadRegisterMap, validateRegisterMap } from '../../drivers/modbus/map.js';
import { planReads } from '../../drivers/modbus/reader.js';
import type { MeasuredValues } from '../../drivers/types.js';
import { ModbusTcpServer } from '../../src/sim/devices/modbus-tcp-server.js';
import { isGood, nextReading, tempDir, writeMapValues } from './helpers.js';

const meterValues: MeasuredValues = {
  phaseVoltagesV: [230.1, 229.4, 231.7],
  phaseCurrentsA: [12.345, 0.5, 31.25],
  phasePowersW: [2840.5, -115, 7200],
  activePowerW: 9925.5,
  importEnergyWh: 4567800,
  exportEnergyWh: 12300,
};

describe('vendor register maps', () => {
  const server = new ModbusTcpServer();
  const devices: Device[] = [];
  let port = 0;
  beforeAll(async () => {
    port = await server.start();
  });
  afterAll(async () => {
    await Promise.all(devices.map((d) => d.close()));
    await server.stop();
  });

  const open = (map: string, unitId: number) => {
    const d = createDevice({ id: map, driver: 'modbus-tcp', host: '127.0.0.1', port, unitId, map, pollMs: 200 }, { dataDir: '/x' });
    devices.push(d);
    return d;
  };

  it('every bundled map file is valid and names its source', () => {
    const files = readdirSync(bundledMapsDir()).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) {
      const map = loadRegisterMap(f.replace(/\.json$/, ''));
      expect(map.description?.length ?? 0).toBeGreaterThan(40);
      for (const span of planReads(map)) expect(span.count).toBeLessThanOrEqual(125);
    }
  });

  it('Eastron SDM630: float32 input registers, kWh scaled to Wh', async () => {
    const map = loadRegisterMap('eastron-sdm630');
    const bank = server.unit(11);
    bank.define('input', 0, 80);
    writeMapValues(bank, map, meterValues);
    bank.write('input', 6, [0x4145, 0x851f]); // 12.345 A as the datasheet's IEEE-754 big-endian float
    const r = await nextReading(open('eastron-sdm630', 11), isGood);
    expect(r.values.phaseCurrentsA?.[0]).toBeCloseTo(12.345, 4);
    expect(r.values.phaseVoltagesV?.[1]).toBeCloseTo(229.4, 4);
    expect(r.values.activePowerW).toBeCloseTo(9925.5, 2);
    expect(r.values.importEnergyWh).toBeCloseTo(4567800, -1);
    expect(r.values.exportEnergyWh).toBeCloseTo(12300, 0);
  });

  it('Carlo Gavazzi EM24: INT32 low word first, fixed scale factors', async () => {
    const map = loadRegisterMap('carlo-gavazzi-em24');
    const bank = server.unit(12);
    bank.define('holding', 0, 0x50);
    writeMapValues(bank, map, meterValues);
    bank.write('holding', 0, [2301, 0]); // V L1-N = 230.1 V: LSW 2301, MSW 0
    bank.write('holding', 0x14, [0xfb82, 0xffff]); // W L2 = -1150 (x0.1) = -115 W, LSW first
    const r = await nextReading(open('carlo-gavazzi-em24', 12), isGood);
    expect(r.values.phaseVoltagesV).toEqual([230.1, 229.4, 231.7]);
    expect(r.values.phaseCurrentsA).toEqual([12.345, 0.5, 31.25]);
    expect(r.values.phasePowersW).toEqual([2840.5, -115, 7200]);
    expect(r.values.activePowerW).toBe(9925.5);
    expect(r.values.importEnergyWh).toBe(4567800);
    expect(r.values.exportEnergyWh).toBe(12300);
  });

  it('Janitza UMG 604: float32 holding registers', async () => {
    const map = loadRegisterMap('janitza-umg604');
    const bank = server.unit(13);
    bank.define('holding', 1317, 60);
    bank.define('holding', 9851, 20);
    writeMapValues(bank, map, meterValues);
    const r = await nextReading(open('janitza-umg604', 13), isGood);
    expect(r.values.phaseCurrentsA?.[2]).toBe(31.25);
    expect(r.values.phasePowersW?.[1]).toBe(-115);
    expect(r.values.activePowerW).toBe(9925.5);
    expect(r.values.importEnergyWh).toBe(4567800);
  });

  it('Huawei SUN2000 hybrid: battery sign flipped to discharging-positive, SoC in 0.1 %', async () => {
    const map = loadRegisterMap('huawei-sun2000-hybrid');
    const bank = server.unit(14);
    bank.define('holding', 32064, 2);
    bank.define('holding', 37001, 4);
    bank.define('holding', 37113, 2);
    bank.write('holding', 32064, [0, 6500]); // PV input 6500 W
    bank.write('holding', 37001, [0, 3000]); // +3000 W = charging in Huawei's convention
    bank.write('holding', 37004, [873]); // 87.3 %
    bank.write('holding', 37113, [0xffff, 0xfc18]); // -1000 W = drawing from the grid in Huawei's convention
    const r = await nextReading(open('huawei-sun2000-hybrid', 14), isGood);
    expect(r.values.pvPowerW).toBe(6500);
    expect(r.values.batteryPowerW).toBe(-3000);
    expect(r.values.batterySocPct).toBe(87.3);
    expect(r.values.activePowerW).toBe(1000);
  });

  it('a user map file by path works; a broken one is refused naming the key', () => {
    const tmp = tempDir('maps');
    try {
      const good = `${tmp.path}/my-meter.json`;
      const bad = `${tmp.path}/broken.json`;
      writeFileSync(good, JSON.stringify({ name: 'mine', fields: { activePowerW: { register: 10, type: 'int32', wordOrder: 'little' } } }));
      writeFileSync(bad, JSON.stringify({ name: 'bad', fields: { phaseCurrentsA: [{ register: 1, type: 'float33' }] } }));
      expect(loadRegisterMap(good).fields.activePowerW).toBeTruthy();
      expect(() => loadRegisterMap(bad)).toThrow(/fields\.phaseCurrentsA must be a list of 3/);
      expect(() => validateRegisterMap({ name: 'x', fields: { activePowerW: { register: 1, type: 'float33' } } })).toThrow(
        /fields\.activePowerW\.type must be one of/,
      );
      expect(() => createDevice({ id: 'm', driver: 'modbus-tcp', host: 'h', map: 'no-such-map' }, { dataDir: '/x' })).toThrow(DeviceConfigError);
      expect(() => createDevice({ id: 'm', driver: 'modbus-tcp', host: 'h', map: bad }, { dataDir: '/x' })).toThrow(/meter m: .*broken\.json/);
      expect(() => createDevice({ id: 'm', driver: 'modbus-tcp', map: 'sunspec' }, { dataDir: '/x' })).toThrow(/host is required/);
      expect(() => createDevice({ id: 'm', driver: 'modbus-rtu', map: 'sunspec' }, { dataDir: '/x' })).toThrow(/serialPort is required/);
    } finally {
      tmp.remove();
    }
  });
});
