// The real CLI (`site-controller run`) over real sockets with rude OCPP 1.6 stations: a station that says it takes A
// and W but only takes W, one that rejects Absolute profiles, and one that accepts every profile and ignores it. The
// controller converges to a way that limits the first two (kept in SQLite) and counts the third as a fixed load, and
// the site's fuse holds. (Needs the relay to speak ocpp1.6.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/db.js';
import { openStationNotes } from '../../src/store/station-notes.js';
import { baseConfig, startCli, type RunningCli } from '../faults/cli.js';
import { until } from './world.js';
import { startCsms16, WsStation16, type TestCsms16 } from './world16.js';

let cli: RunningCli | undefined;
let csms: TestCsms16 | undefined;
let dir: string | undefined;
const stations: WsStation16[] = [];

afterEach(async () => {
  for (const s of stations.splice(0)) s.close();
  if (cli && cli.child.exitCode === null) {
    cli.child.kill('SIGTERM');
    await Promise.race([cli.exited(), new Promise((r) => setTimeout(r, 5000))]);
    if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
  }
  await csms?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  cli = csms = dir = undefined;
});

async function site(limitA: number, ids: string[]): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), 'cli16-'));
  csms = await startCsms16();
  cli = await startCli(dir, baseConfig(dir, csms.url, {
    site: { limitA: [limitA, limitA, limitA] },
    stations: { listen: { host: '127.0.0.1', port: 0 }, allowUnknown: true, pingIntervalS: 0, list: ids.map((id) => ({ id })) },
    control: { loopMs: 500, rampAPerS: 100, hysteresisA: 0.5 },
    log: { level: 'info' },
  }));
}

async function station(id: string, opts: ConstructorParameters<typeof WsStation16>[1]): Promise<WsStation16> {
  const s = new WsStation16(id, opts);
  stations.push(s);
  await s.connect(cli!.stationsPort);
  await s.startTransaction();
  return s;
}

const learned = (id: string): string[] => {
  const db = openDatabase(join(dir!, 'site.sqlite'));
  try {
    return openStationNotes(db).load(id)?.learned ?? [];
  } finally {
    db.close();
  }
};

/** Samples the stations' total draw for `ms` and returns the highest. */
async function worstDraw(ms: number): Promise<number> {
  let worst = 0;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    stations.forEach((s) => s.advance());
    worst = Math.max(worst, stations.reduce((a, s) => a + s.drawA, 0));
    await new Promise((r) => setTimeout(r, 100));
  }
  return worst;
}

describe('site-controller run with rude 1.6 stations (real CLI, real sockets)', () => {
  it('W-only (while claiming A and W): limited in W, the fallback learned and kept, the fuse holds', async () => {
    await site(20, ['W16']);
    const s = await station('W16', { quirks: ['watts-only'], rateUnitKey: 'Current,Power', reactionMs: 500, evMaxA: 32 });
    await until(() => s.appliedA() >= 19 && s.appliedA() <= 20, 60_000, `W16 limited to the site's 20 A (now ${s.appliedA()} A)\n${cli!.output().slice(-2000)}`);
    expect(s.rejected.length).toBeGreaterThan(0);
    expect(s.accepted.every((p) => p.connectorId === 0 || p.limitA <= 20)).toBe(true);
    expect(await worstDraw(3000)).toBeLessThanOrEqual(20);
    await until(() => learned('W16').includes('watts-only'), 10_000, 'watts-only kept in SQLite');
  }, 120_000);

  it('Relative-only: limited with Relative profiles, learned and kept, the fuse holds', async () => {
    await site(20, ['R16']);
    const s = await station('R16', { quirks: ['relative-only'], reactionMs: 500, evMaxA: 32 });
    await until(() => s.appliedA() >= 19 && s.appliedA() <= 20, 60_000, `R16 limited to the site's 20 A (now ${s.appliedA()} A)\n${cli!.output().slice(-2000)}`);
    const kinds = s.received.map((r) => (r.payload.csChargingProfiles as { chargingProfileKind: string }).chargingProfileKind);
    expect(kinds).toContain('Absolute'); // tried first …
    expect(kinds.at(-1)).toBe('Relative'); // … and Relative since
    expect(await worstDraw(3000)).toBeLessThanOrEqual(20);
    await until(() => learned('R16').includes('relative-only'), 10_000, 'relative-only kept in SQLite');
  }, 120_000);

  it('accepts and ignores: judged not controllable, a fixed load, and the other station makes room', async () => {
    await site(40, ['IGN', 'OK16']);
    const ign = await station('IGN', { ignores: true, evMaxA: 30 });
    const ok = await station('OK16', { reactionMs: 500, evMaxA: 32 });
    // 40 A for two: 20 A each until the ignorer is found out, then it counts at its 30 A and the other gets 10 A.
    await until(() => (ok.lastSessionLimitA() ?? 0) >= 19, 60_000, `OK16 ramped to its 20 A share (now ${ok.lastSessionLimitA()} A)`);
    const marked = () => cli!.lines().some((l) => l.stationId === 'IGN' && typeof l.msg === 'string' && l.msg.startsWith('not controllable'));
    await until(marked, 90_000, `IGN judged not controllable\n${cli!.output().slice(-3000)}`);
    await until(() => (ok.lastSessionLimitA() ?? 99) <= 10, 30_000, `OK16 down to 10 A (now ${ok.lastSessionLimitA()} A)\n${cli!.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 1500)); // the ok station applies its limit
    expect(await worstDraw(3000)).toBeLessThanOrEqual(40);
    expect(ign.drawA).toBe(30);
  }, 150_000);
});
