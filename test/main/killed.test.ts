// Issue 6, "controller killed → profiles expire on the test stations", with a real process: the compiled CLI
// (`node dist/src/main.js run --config FILE`) controls two test stations through a test CSMS; it is SIGKILLed
// mid-charge; each station's TxProfile lapses at its validTo (at most control.profileValidityS after the last
// renewal) and the station falls back to its TxDefaultProfile (6 A).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCsms, TestStation, until } from '../control/world.js';
import { baseConfig, startCli } from '../faults/cli.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The TxProfile a station holds now for its transaction (the newest), with its validTo. */
function heldTxProfile(s: TestStation): { limitA: number; validTo?: number } | undefined {
  return [...s.profiles.values()].filter((p) => p.purpose === 'TxProfile' && p.transactionId === s.transactionId).sort((a, b) => b.id - a.id)[0];
}

describe('controller process killed', () => {
  it('SIGKILL mid-charge: the stations keep their allocation until validTo, then fall back to the 6 A default', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'killed-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const csms = await startCsms();
    cleanups.push(() => csms.close());
    const validityS = 10;
    const cli = await startCli(dir, baseConfig(dir, csms.url, {
      stations: { listen: { host: '127.0.0.1', port: 0 }, allowUnknown: false, pingIntervalS: 0, list: [{ id: 'CP01' }, { id: 'CP02' }] },
      control: { loopMs: 500, rampAPerS: 100, hysteresisA: 0.5, profileValidityS: validityS, defaultTxLimitA: 6 },
    }));
    cleanups.push(() => { cli.child.kill('SIGKILL'); });
    const stations = [new TestStation('CP01', { lagMs: 50 }), new TestStation('CP02', { lagMs: 50 })];
    for (const s of stations) cleanups.push(() => s.close());
    for (const s of stations) await s.connect(cli.stationsPort);
    // The default installed at boot: 6 A before any allocation.
    await until(() => stations.every((s) => [...s.profiles.values()].some((p) => p.purpose === 'TxDefaultProfile' && p.limitA === 6)), 15_000, 'TxDefaultProfile installed');
    await stations[0].startTransaction('tx-1');
    await stations[1].startTransaction('tx-2');
    // 32 A site fuse shared by two EVs: 16 A each, as TxProfiles with a validTo.
    await until(() => stations.every((s) => heldTxProfile(s)?.limitA === 16 && s.drawA === 16), 15_000, 'allocated 16/16');
    for (const s of stations) expect(heldTxProfile(s)!.validTo).toBeDefined();

    const killedAt = Date.now();
    cli.child.kill('SIGKILL');
    expect(await cli.exited()).toBe('SIGKILL');

    // Each station's last profile runs out at most profileValidityS after the kill (it was renewed before).
    const lapse = stations.map((s) => heldTxProfile(s)!.validTo!);
    for (const v of lapse) expect(v - killedAt).toBeLessThanOrEqual(validityS * 1000 + 1000);
    // Just before validTo the station still applies its allocation; from validTo on, its TxDefaultProfile.
    stations.forEach((s, i) => {
      expect(s.effectiveLimitA(lapse[i] - 1)).toBe(16);
      expect(s.effectiveLimitA(lapse[i] + 1)).toBe(6);
    });
    // And it really happens on the stations as time passes: every station ends up drawing 6 A.
    const series: string[] = [];
    await until(() => {
      series.push(stations.map((s) => s.effectiveLimitA()).join('/'));
      return stations.every((s) => s.effectiveLimitA() === 6 && s.drawA === 6);
    }, validityS * 1000 + 5000, 'fallback to the TxDefaultProfile');
    expect(series[0]).toBe('16/16');
    expect(series.at(-1)).toBe('6/6');
  }, 60_000);
});
