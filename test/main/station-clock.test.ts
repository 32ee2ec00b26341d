// Limits in force on the station's own clock (issue 14): the real CLI controls two test stations whose clocks are
// 10 minutes ahead and 10 minutes behind. Each applies the controller's limits (not its 6 A default), the page's
// state shows each clock's offset with an alarm, and when the controller is SIGKILLed each falls back to its default
// within control.profileValidityS — on its own clock and on the real one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hashPasswordSync } from '../../src/common/passwords.js';
import { startCsms, TestStation, until } from '../control/world.js';
import { baseConfig, startCli } from '../faults/cli.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const MIN = 60_000;

/** The TxProfile a station holds now for its transaction, with its validTo (on the station's clock). */
function heldTxProfile(s: TestStation): { limitA: number; validTo?: number } | undefined {
  return [...s.profiles.values()].filter((p) => p.purpose === 'TxProfile' && p.transactionId === s.transactionId).sort((a, b) => b.id - a.id)[0];
}

interface StationState { id: string; clockOffsetS: number | null }

describe('station clocks 10 minutes off', () => {
  it('the station applies the controller limits on its own clock, the page shows the offset, and a dead controller lapses within profileValidityS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'station-clock-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const csms = await startCsms();
    cleanups.push(() => csms.close());
    const validityS = 10;
    const cli = await startCli(dir, baseConfig(dir, csms.url, {
      stations: { listen: { host: '127.0.0.1', port: 0 }, allowUnknown: false, pingIntervalS: 0, list: [{ id: 'AHEAD' }, { id: 'BEHIND' }] },
      control: { loopMs: 500, rampAPerS: 100, hysteresisA: 0.5, profileValidityS: validityS, defaultTxLimitA: 6, clockOffsetAlarmS: 60 },
      web: { host: '127.0.0.1', port: 0, users: [{ username: 'fm', passwordHash: hashPasswordSync('clock-test-password') }] },
    }));
    cleanups.push(() => void cli.child.kill('SIGKILL'));
    const stations = [
      new TestStation('AHEAD', { lagMs: 50, clockOffsetMs: 10 * MIN }),
      new TestStation('BEHIND', { lagMs: 50, clockOffsetMs: -10 * MIN }),
    ];
    for (const s of stations) cleanups.push(() => s.close());
    for (const s of stations) await s.connect(cli.stationsPort);
    await until(() => stations.every((s) => [...s.profiles.values()].some((p) => p.purpose === 'TxDefaultProfile' && p.limitA === 6)), 15_000, 'TxDefaultProfile installed');
    await stations[0].startTransaction('tx-ahead');
    await stations[1].startTransaction('tx-behind');

    // 32 A shared by two EVs: 16 A each — in force on each station's own clock, so each draws 16 A, not its 6 A default.
    const draws = () => stations.map((s) => `${s.id} ${s.drawA} A (held ${heldTxProfile(s)?.limitA ?? '-'} A, validTo ${heldTxProfile(s)?.validTo !== undefined ? Math.round((heldTxProfile(s)!.validTo! - s.clock()) / 1000) : '-'} s ahead on its clock)`).join(', ');
    try {
      await until(() => stations.every((s) => heldTxProfile(s)?.limitA === 16 && s.effectiveLimitA() === 16 && s.drawA === 16), 20_000, 'allocated 16/16 applied');
    } catch (err) {
      throw new Error(`${(err as Error).message}: ${draws()}`);
    }
    for (const s of stations) {
      const ahead = heldTxProfile(s)!.validTo! - s.clock();
      expect(ahead, `${s.id}: validTo on its clock`).toBeGreaterThan(0);
      expect(ahead).toBeLessThanOrEqual(validityS * 1000 + 1000);
    }

    // The page's state: each clock's offset, and an alarm naming both.
    const url = cli.lines().find((l) => typeof l.msg === 'string' && l.msg.startsWith('facility manager page at'))?.url as string;
    const login = await fetch(`${url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'fm', password: 'clock-test-password' }) });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
    const state = (await (await fetch(`${url}/api/state`, { headers: { cookie } })).json()) as { stations: StationState[]; alarms: { kind: string; target: string; message: string }[] };
    const offset = (id: string) => state.stations.find((s) => s.id === id)?.clockOffsetS;
    expect(offset('AHEAD')).toBeGreaterThan(595);
    expect(offset('AHEAD')).toBeLessThanOrEqual(600.5);
    expect(offset('BEHIND')).toBeGreaterThan(-605);
    expect(offset('BEHIND')).toBeLessThanOrEqual(-599.5);
    const clockAlarms = state.alarms.filter((a) => a.kind === 'station-clock');
    expect(clockAlarms.map((a) => a.target).sort()).toEqual(['AHEAD', 'BEHIND']);
    expect(clockAlarms.find((a) => a.target === 'AHEAD')!.message).toMatch(/10 min ahead/);
    expect(clockAlarms.find((a) => a.target === 'BEHIND')!.message).toMatch(/10 min behind/);

    // The EV behind leaves in two hours and says so through its station, which writes the departure on its own clock
    // (10 minutes behind): the controller plans (and the page shows) it two hours from now on the controller's clock,
    // not 1 h 50. (One EV only: the other saying nothing keeps its share, so the 16/16 below still holds.)
    await stations[1].peer.call('NotifyEVChargingNeeds', { evseId: 1, chargingNeeds: { requestedEnergyTransfer: 'AC_three_phase', departureTime: new Date(stations[1].clock() + 120 * MIN).toISOString(), acChargingParameters: { energyAmount: 20000, evMinCurrent: 6, evMaxCurrent: 32, evMaxVoltage: 400 } } });
    const departure = async () => {
      const st = (await (await fetch(`${url}/api/state`, { headers: { cookie } })).json()) as { stations: { id: string; evses: { needs: { departureAt?: number } | null }[] }[] };
      const at = st.stations.find((s) => s.id === 'BEHIND')?.evses[0]?.needs?.departureAt;
      return at === undefined ? undefined : at - Date.now();
    };
    await expect.poll(departure, { timeout: 10_000 }).toBeDefined();
    expect(await departure()).toBeGreaterThan(119 * MIN);
    expect(await departure()).toBeLessThan(121 * MIN);
    await until(() => stations.every((s) => s.effectiveLimitA() === 16), 10_000, 'still 16/16');

    // The controller dies: each station's last limit runs out within profileValidityS of the kill, on its own clock.
    const killedAt = stations.map((s) => s.clock());
    const killedReal = Date.now();
    cli.child.kill('SIGKILL');
    expect(await cli.exited()).toBe('SIGKILL');
    stations.forEach((s, i) => {
      const lapse = heldTxProfile(s)!.validTo!;
      expect(lapse - killedAt[i], `${s.id}: its limit lapses within profileValidityS on its clock`).toBeLessThanOrEqual(validityS * 1000 + 1000);
      expect(s.effectiveLimitA(lapse - 1)).toBe(16);
      expect(s.effectiveLimitA(lapse + 1)).toBe(6);
    });
    await until(() => stations.every((s) => s.effectiveLimitA() === 6 && s.drawA === 6), validityS * 1000 + 5000, 'fallback to the TxDefaultProfile');
    expect(Date.now() - killedReal).toBeLessThanOrEqual(validityS * 1000 + 5000);
  }, 90_000);
});
