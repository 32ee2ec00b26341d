// End to end with real parts: test CSMS, the real relay, test stations over WebSocket, the simulated Modbus meter
// read by the real SunSpec driver, and the control loop on the real clock.
import { afterEach, describe, expect, it } from 'vitest';
import { RISE_DWELL_MS } from '../../src/control/send-policy.js';
import { startWorld, until, type World } from './world.js';

let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const good = (world: World) => world.readings.some((r) => r.quality === 'good');

describe('control loop end to end', () => {
  it('two EVs share 32 A 16/16, a third re-divides, a base-load step drops the limits', async () => {
    w = await startWorld({ stations: ['CP01', 'CP02', 'CP03'] });
    await until(() => good(w!), 10_000, 'meter discovered');
    const a = await w.addStation('CP01');
    const b = await w.addStation('CP02');
    await a.startTransaction('tx-a');
    await b.startTransaction('tx-b');
    await until(() => a.lastTxLimit() === 16 && b.lastTxLimit() === 16, 10_000, '16/16');
    await until(() => a.drawA === 16 && b.drawA === 16, 5_000, 'stations apply 16 A');

    const c = await w.addStation('CP03');
    await c.startTransaction('tx-c');
    await until(() => [a, b, c].every((s) => (s.lastTxLimit() ?? 99) <= 10.7 && (s.lastTxLimit() ?? 0) >= 10), 10_000, 'three-way split');
    await until(() => [a, b, c].every((s) => s.drawA > 0), 5_000, 'all three charging');
    const total = () => a.drawA + b.drawA + c.drawA;
    await until(() => total() <= 32 && total() >= 30, 5_000, 'site used and within its fuse');

    // 10 A of base load arrives: the stations get lower limits (the deadline, one poll plus one loop, is checked on
    // virtual time in loop.test.ts; the reaction benchmark measures it here).
    w.baseA = [10, 10, 10];
    await until(() => [a, b, c].every((s) => (s.lastTxLimit() ?? 99) <= 22 / 3 + 0.05), 10_000, 'limits dropped');
    await until(() => total() + 10 <= 32.05, 5_000, 'site back within its fuse');
  });

  it('a station answering NotImplemented is counted as fixed load and the others still fit', async () => {
    w = await startWorld({ stations: ['CP01', 'CP02', 'CP03'] });
    await until(() => good(w!), 10_000, 'meter discovered');
    const dumb = await w.addStation('CP03', { noSmartCharging: true, evMaxA: 12 });
    const a = await w.addStation('CP01');
    const b = await w.addStation('CP02');
    await dumb.startTransaction('tx-d');
    await a.startTransaction('tx-a');
    await b.startTransaction('tx-b');
    await until(() => w!.loop.state().evses.find((e) => e.stationId === 'CP03')?.controllable === false, 10_000, 'CP03 not controllable');
    expect(w.loop.state().evses.find((e) => e.stationId === 'CP03')?.controllableReason).toMatch(/NotImplemented/);
    // CP03 draws 12 A (its EV's max; the station never got a limit): 20 A left for the two others. Usually within a
    // second; but a reading taken under load can leave one a fraction of an ampere short for a moment, and a rise
    // under the hysteresis is sent once it has held RISE_DWELL_MS (send-policy.ts): one CI run on a loaded box took
    // longer than 10 s.
    await until(() => a.lastTxLimit() === 10 && b.lastTxLimit() === 10, 10_000 + RISE_DWELL_MS, '10/10 for the controllable ones');
    await until(() => a.drawA + b.drawA + dumb.drawA <= 32, 5_000, 'site within its fuse');
  }, 90_000);

  it('meter server stopped → safe limits; normal control when it returns', async () => {
    w = await startWorld({ stations: ['CP01', 'CP02'] });
    await until(() => good(w!), 10_000, 'meter discovered');
    const a = await w.addStation('CP01');
    const b = await w.addStation('CP02');
    await a.startTransaction('tx-a');
    await b.startTransaction('tx-b');
    await until(() => a.lastTxLimit() === 16 && b.lastTxLimit() === 16, 10_000, '16/16');
    await w.modbus.stop();
    // Safe limit 8 A per phase for the site node: 4 A each would be below the minimum, so the optimizer pauses one
    // or both — either way nothing above 8 A in total.
    await until(() => (a.lastTxLimit() ?? 99) + (b.lastTxLimit() ?? 99) <= 8, 10_000, 'safe limits');
    expect(w.loop.state().nodes.find((n) => n.id === 'site')?.failSafe).toBe(true);
    await w.modbus.start();
    await until(() => a.lastTxLimit() === 16 && b.lastTxLimit() === 16, 15_000, 'normal control again');
    expect(w.loop.state().nodes.find((n) => n.id === 'site')?.failSafe).toBe(false);
  });

  it('CSMS TxProfile 10 A with an allocation of 16 A → the station is limited to 10 A', async () => {
    w = await startWorld({ stations: ['CP01', 'CP02'] });
    await until(() => good(w!), 10_000, 'meter discovered');
    const a = await w.addStation('CP01');
    const b = await w.addStation('CP02');
    await a.startTransaction('tx-a');
    await b.startTransaction('tx-b');
    await until(() => a.lastTxLimit() === 16, 10_000, '16 A allocated');
    const csmsPeer = w.csms.peers.get('CP01')!;
    const answer = await csmsPeer.call('SetChargingProfile', {
      evseId: 1,
      chargingProfile: {
        id: 42, stackLevel: 0, chargingProfilePurpose: 'TxProfile', chargingProfileKind: 'Relative', transactionId: 'tx-a',
        chargingSchedule: [{ id: 42, chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 10 }] }],
      },
    });
    expect(answer.status).toBe('Accepted');
    await until(() => a.lastTxLimit() === 10, 5_000, 'controller follows the CSMS limit');
    await until(() => a.effectiveLimitA() === 10 && a.drawA === 10, 5_000, 'station applies 10 A');
    expect(w.loop.state().evses.find((e) => e.stationId === 'CP01')?.csmsLimitA).toBe(10);
    // The CSMS withdraws it: back to the fair share.
    await csmsPeer.call('ClearChargingProfile', { chargingProfileId: 42 });
    await until(() => a.lastTxLimit() === 16, 5_000, 'back to 16 A');
  });

  it('controller killed → the profiles expire on the stations and they fall back to the TxDefaultProfile', async () => {
    w = await startWorld({ stations: ['CP01'], control: { defaultTxLimitA: 6, profileValidityS: 10 } });
    await until(() => good(w!), 10_000, 'meter discovered');
    const a = await w.addStation('CP01');
    await a.startTransaction('tx-a');
    await until(() => a.drawA === 32, 10_000, 'charging at 32 A');
    await w.killController();
    // No renewal any more: within the 10 s validity the station's TxProfile lapses and its 6 A default applies.
    await until(() => a.effectiveLimitA() === 6, 12_000, 'profile expired');
    await until(() => a.drawA === 6, 2_000, 'station draws the default');
  }, 30_000);
});
