// The demo world over real sockets, briefly: stations speak OCPP 2.0.1 to a WebSocket endpoint (here the simulated
// CSMS itself stands in for the controller), EVs arrive, a profile set over the socket lowers the EV's current after
// the station's reaction delay, and the real Modbus driver reads the grid meter the physics feeds.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { createDevice } from '../../drivers/index.js';
import { waitFor } from '../drivers/helpers.js';
import { parseConfig } from '../../src/config/load.js';
import { validatePayload } from '../../src/ocpp/validate.js';
import { parseScenario } from '../../src/sim/scenario.js';
import { startSimulatedSite, type SimulatedSite } from '../../src/sim/world.js';

const dir = mkdtempSync(join(tmpdir(), 'sim-world-'));
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

describe('simulated site over real sockets', () => {
  it('stations boot, EVs charge, profiles apply after the reaction delay, the Modbus meter follows the physics', async () => {
    const config = parseConfig({
      controller: { identity: 'ctl' },
      stations: { listen: { host: '127.0.0.1', port: 0 }, allowUnknown: true },
      upstream: { url: 'ws://127.0.0.1:0/ocpp' },
      storage: { path: join(dir, 'db.sqlite') },
      site: { limitA: [63, 63, 63] },
      meters: [
        { id: 'grid', role: 'grid', driver: 'modbus-tcp', host: '127.0.0.1', port: 0, unitId: 1, map: 'sunspec', pollMs: 200, staleMs: 2000 },
        { id: 'pv', role: 'pv', driver: 'modbus-tcp', host: '127.0.0.1', port: 0, unitId: 2, map: 'sunspec', pollMs: 200, staleMs: 2000 },
      ],
    });
    const scenario = parseScenario({
      name: 'world',
      duration: '24h',
      seed: 1,
      site: { limitA: [63, 63, 63] },
      baseLoad: { shape: 'flat', peakA: [10, 10, 10], noise: 0 },
      chargers: [
        { id: 'W1', phases: 3, maxA: 16, reactionS: 20 },
        { id: 'W2', phases: 1, maxA: 32, rotation: 'L2L3L1', reactionS: 2 },
      ],
      evs: [
        { charger: 'W1', arrive: '10:00', depart: '20:00', energyWh: 30000, maxA: 16 },
        { charger: 'W2', arrive: '10:00', depart: '20:00', energyWh: 30000, maxA: 32, phases: 1 },
      ],
    });
    const site: SimulatedSite = await startSimulatedSite({ config, scenario, speed: 20, tickMs: 100 });
    cleanups.push(() => site.stop());
    expect(config.upstream.url).toBe(site.csmsUrl);
    expect(config.meters[0].port).toBe(site.modbus[0].port);
    expect(config.meters[0].port).not.toBe(0);

    // Every message a station sends is valid OCPP 2.0.1 (the relay rejects invalid ones).
    const invalid: string[] = [];
    site.csms.onMessage((m) => {
      const bad = validatePayload(m.action, 'request', m.payload);
      if (bad) invalid.push(`${m.action}: ${bad.description}`);
    });
    await site.connectStations(site.csmsUrl);
    expect(site.csms.connected().sort()).toEqual(['W1', 'W2']);
    const seen = (id: string, action: string, pred: (p: Record<string, unknown>) => boolean = () => true) =>
      site.csms.received.some((m) => m.stationId === id && m.action === action && pred(m.payload));
    await waitFor('boot', () => seen('W1', 'BootNotification') && seen('W2', 'StatusNotification'));

    // The EVs arrive one virtual minute after the start (3 s here) and start charging at the station maximum.
    await waitFor('transactions', () => seen('W1', 'TransactionEvent', (p) => p.eventType === 'Started') && seen('W2', 'NotifyEVChargingNeeds'));
    await waitFor('charging', () => site.sim.stations.get('W1')!.currentA[0] === 16 && site.sim.stations.get('W2')!.currentA[0] === 32);

    // The real Modbus driver (SunSpec discovery) reads the grid meter: base load + 16 A on every phase + 32 A on L2.
    const grid = createDevice({ ...config.meters[0], map: 'sunspec' }, { dataDir: dir });
    cleanups.push(() => grid.close());
    const good = (pred: (a: number[]) => boolean) =>
      firstValueFrom(grid.readings$.pipe(filter((r) => r.quality === 'good' && !!r.values.phaseCurrentsA && pred(r.values.phaseCurrentsA)), timeout(20_000)));
    const before = await good((a) => a[1] > 50);
    expect(before.values.phaseCurrentsA![0]).toBeCloseTo(26, 0);
    expect(before.values.phaseCurrentsA![1]).toBeCloseTo(58, 0);

    // A TxProfile of 8 A sent over the socket: W2 (2 s reaction) follows within a second of real time at speed 20.
    const tx2 = site.sim.stations.get('W2')!.transactionId!;
    const r = await site.csms.call('W2', 'SetChargingProfile', {
      evseId: 1,
      chargingProfile: { id: 9, stackLevel: 1, chargingProfilePurpose: 'TxProfile', chargingProfileKind: 'Relative', transactionId: tx2, chargingSchedule: [{ id: 9, chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 8 }] }] },
    });
    expect(r.status).toBe('Accepted');
    const after = await good((a) => a[1] < 40);
    expect(after.values.phaseCurrentsA![1]).toBeCloseTo(34, 0);
    // A profile that breaks K01 is refused by the station, and an unknown action gets NotImplemented.
    const bad = await site.csms.call('W1', 'SetChargingProfile', {
      evseId: 1,
      chargingProfile: { id: 10, stackLevel: 1, chargingProfilePurpose: 'TxProfile', chargingProfileKind: 'Relative', transactionId: 'nope', chargingSchedule: [{ id: 10, chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 8 }] }] },
    });
    expect(bad.status).toBe('Rejected');
    await expect(site.csms.call('W1', 'DataTransfer', { vendorId: 'x' })).rejects.toThrow(/NotImplemented/);
    // The CSMS starts and stops transactions as an operator would.
    const tx1 = site.sim.stations.get('W1')!.transactionId!;
    expect((await site.csms.stopTransaction('W1', tx1)).status).toBe('Accepted');
    await waitFor('remote stop', () => seen('W1', 'TransactionEvent', (p) => p.eventType === 'Ended' && p.triggerReason === 'RemoteStop'));
    expect((await site.csms.startTransaction('W1')).status).toBe('Accepted');
    await waitFor('remote start', () => seen('W1', 'TransactionEvent', (p) => p.eventType === 'Started' && p.triggerReason === 'RemoteStart'));
    expect(site.sim.stations.get('W1')!.transactionId).not.toBe(tx1);
    expect(invalid).toEqual([]);
  });
});
