// `npm run bench -- modbus [--json]`: how many Modbus TCP read requests per second the simulated site's server
// answers, against modbus-serial's own ServerTCP as the baseline, and how long one full poll of the simulated
// SunSpec meter takes through the driver (connect once, then read the discovered map).
import ModbusRTUImport, { ServerTCP } from 'modbus-serial';
import type { ModbusRTU as ModbusClient } from 'modbus-serial/ModbusRTU.js';
import { ModbusConnection } from '../../drivers/modbus/client.js';
import { readMap, planReads } from '../../drivers/modbus/reader.js';
import { discoverSunSpec, sunspecRegisterMap } from '../../drivers/sunspec/discovery.js';
import { SimModbusSite } from '../../src/sim/devices/modbus-site.js';
import { SiteModel } from '../../src/sim/devices/site-model.js';
import type { Bench } from './run.js';

type Ctor = new () => ModbusClient;
const ModbusRTU: Ctor = (ModbusRTUImport as unknown as { default?: Ctor }).default ?? (ModbusRTUImport as unknown as Ctor);

async function hammer(port: number, clients: number, durationMs: number): Promise<number> {
  let done = 0;
  const until = Date.now() + durationMs;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      const c = new ModbusRTU();
      await c.connectTCP('127.0.0.1', { port });
      c.setID(1);
      c.setTimeout(2000);
      while (Date.now() < until) {
        await c.readHoldingRegisters(40000, 125);
        done++;
      }
      await new Promise<void>((r) => c.close(() => r()));
    }),
  );
  return done / (durationMs / 1000);
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

export const run: Bench = async (opts) => {
  const durationMs = Number(opts.args[0] ?? 3000);
  const clients = 4;
  const model = new SiteModel();
  model.setGrid({ currentsA: [20, 21, 22] });
  const site = new SimModbusSite(model);
  const port = await site.start();
  const ours = await hammer(port, clients, durationMs);
  opts.log(`simulated site server: ${ours.toFixed(0)} req/s (${clients} clients, 125 registers each)`);

  const bank = site.server.unit(1);
  const baseline = new ServerTCP(
    {
      getMultipleHoldingRegisters: (addr: number, length: number) => Array.from(bank.holding.subarray(addr, addr + length)),
      getHoldingRegister: (addr: number) => bank.holding[addr] ?? 0,
    },
    { host: '127.0.0.1', port: 0, unitID: 1 } as never,
  );
  await new Promise<void>((r) => baseline.on('initialized', () => r()));
  const basePort = ((baseline as unknown as { _server: { address(): { port: number } } })._server).address().port;
  const theirs = await hammer(basePort, clients, durationMs);
  await new Promise<void>((r) => baseline.close(() => r()));
  opts.log(`modbus-serial ServerTCP: ${theirs.toFixed(0)} req/s`);

  const conn = new ModbusConnection({ kind: 'tcp', host: '127.0.0.1', port }, 1000);
  await conn.connect();
  const read = (t: 'holding' | 'input', a: number, c: number) => conn.read(1, t, a, c);
  const map = sunspecRegisterMap(await discoverSunSpec((a, c) => read('holding', a, c)));
  const plan = planReads(map);
  const times: number[] = [];
  for (let i = 0; i < 500; i++) {
    const t0 = performance.now();
    await readMap(map, read, plan);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  await conn.close();
  await site.close();
  return {
    clients,
    server_req_per_s: Math.round(ours),
    baseline_servertcp_req_per_s: Math.round(theirs),
    ratio: Number((ours / theirs).toFixed(2)),
    meter_poll_requests: plan.length,
    meter_poll_p50_ms: Number(pct(times, 50).toFixed(3)),
    meter_poll_p99_ms: Number(pct(times, 99).toFixed(3)),
  };
};
