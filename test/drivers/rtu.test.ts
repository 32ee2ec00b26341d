// Modbus RTU over a real serial line: a pty pair made by socat, the simulated device on one end and the driver
// (modbus-serial over serialport) on the other.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevice, type Device } from '../../drivers/device.js';
import { loadRegisterMap } from '../../drivers/modbus/map.js';
import { ModbusRtuSlave } from '../../src/sim/devices/modbus-rtu-slave.js';
import { isGood, nextReading, tempDir, writeMapValues } from './helpers.js';

const hasSocat = spawnSync('socat', ['-V']).status === 0;
if (!hasSocat) console.warn('socat not installed: skipping the Modbus RTU test (apt-get install socat)');

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('timed out waiting for the pty pair');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!hasSocat)('Modbus RTU device over a pty pair', () => {
  const tmp = tempDir('rtu-test');
  const devicePath = join(tmp.path, 'meter');
  const driverPath = join(tmp.path, 'driver');
  let socat: ChildProcess | undefined;
  const slave = new ModbusRtuSlave(devicePath, 19200);
  const devices: Device[] = [];
  const map = loadRegisterMap('eastron-sdm630');

  beforeAll(async () => {
    socat = spawn('socat', [`pty,raw,echo=0,link=${devicePath}`, `pty,raw,echo=0,link=${driverPath}`], { stdio: 'ignore' });
    await waitFor(() => existsSync(devicePath) && existsSync(driverPath), 10_000);
    const bank = slave.unit(5);
    bank.define('input', 0, 80);
    writeMapValues(bank, map, {
      phaseVoltagesV: [229.5, 230.5, 231.5], phaseCurrentsA: [7.25, 8.5, 9.75], phasePowersW: [1664, 1959, 2257],
      activePowerW: 5880, importEnergyWh: 1234500, exportEnergyWh: 67000,
    });
    await slave.start();
  });
  afterAll(async () => {
    await Promise.all(devices.map((d) => d.close()));
    await slave.stop();
    socat?.kill();
    tmp.remove();
  });

  const open = (unitId: number) => {
    const d = createDevice(
      { id: `rtu${unitId}`, driver: 'modbus-rtu', serialPort: driverPath, baudRate: 19200, parity: 'none', unitId, map: 'eastron-sdm630', pollMs: 200, timeoutMs: 500, staleMs: 3000, retries: 0 },
      { dataDir: tmp.path },
    );
    devices.push(d);
    return d;
  };

  it('reads the SDM630 map over RTU (input registers, float32, kWh -> Wh)', async () => {
    const d = open(5);
    const r = await nextReading(d, isGood);
    expect(r.values.phaseVoltagesV).toEqual([229.5, 230.5, 231.5]);
    expect(r.values.phaseCurrentsA).toEqual([7.25, 8.5, 9.75]);
    expect(r.values.activePowerW).toBe(5880);
    expect(r.values.importEnergyWh).toBe(1234500);
    expect(r.values.exportEnergyWh).toBe(67000);
    await d.close();
  });

  it('a wrong unit id on the bus gets silence: bad (timeout), no crash', async () => {
    const d = open(9);
    const r = await nextReading(d, (x) => x.quality === 'bad');
    expect(r.reason).toMatch(/timeout/);
    await d.close();
  });
});
