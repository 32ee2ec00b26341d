// The published site limit: a CSMS ChargingStationMaxProfile with three periods changes it at exactly the right
// virtual times; invalid profiles are rejected; profiles survive a restart; external limits are reported (K14).
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/common/log.js';
import { createControllerStation, type ControllerStation } from '../../src/controller/index.js';
import type { SiteLimit } from '../../src/controller/site-limit.js';
import type { Config } from '../../src/config/types.js';
import { makeConfig, tempDir, TestCsms, VirtualClock, type TempDir } from './helpers.js';

const T0 = Date.parse('2026-03-02T08:00:00Z');
const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

let csms: TestCsms | undefined;
let tmp: TempDir | undefined;
const stations: ControllerStation[] = [];

afterEach(async () => {
  for (const s of stations.splice(0)) await s.stop();
  await csms?.stop();
  tmp?.cleanup();
  csms = undefined;
  tmp = undefined;
});

function threePeriodProfile(id = 12) {
  return {
    evseId: 0,
    chargingProfile: {
      id,
      stackLevel: 1,
      chargingProfilePurpose: 'ChargingStationMaxProfile',
      chargingProfileKind: 'Absolute',
      validTo: iso(T0 + 200 * MIN),
      chargingSchedule: [
        {
          id: 1,
          startSchedule: iso(T0 + 10 * MIN),
          duration: 90 * 60,
          chargingRateUnit: 'A',
          chargingSchedulePeriod: [
            { startPeriod: 0, limit: 40 },
            { startPeriod: 30 * 60, limit: 25 },
            { startPeriod: 60 * 60, limit: 70 },
          ],
        },
      ],
    },
  };
}

async function boot(config?: Partial<Config>) {
  csms ??= await TestCsms.start();
  tmp ??= tempDir();
  const clock = new VirtualClock(T0);
  const cfg = makeConfig({ controller: { identity: 'LC-1' }, upstream: { url: csms.url, retry: { waitMinimumS: 1, randomRangeS: 0, repeatTimes: 0 } }, ...config });
  const station = createControllerStation({ config: cfg, db: tmp.open(), log: silentLogger, scheduler: clock });
  stations.push(station);
  const limits: SiteLimit[] = [];
  station.siteLimit$.subscribe((l) => limits.push(l));
  let connected = false;
  station.connected$.subscribe((c) => (connected = c));
  const c = csms;
  const before = c.connections.length;
  station.start();
  await c.until(() => connected && c.connections.length > before, 'registered');
  return { csms: c, clock, station, limits, peer: c.current.peer, isConnected: () => connected };
}

const summary = (l: SiteLimit) => ({ at: l.at, limitA: l.limitA, binding: l.binding.kind, sources: l.sources.map((s) => s.id) });

describe('site limit from a ChargingStationMaxProfile', () => {
  it('follows three periods at exactly the right times on a virtual clock', async () => {
    const { clock, limits, peer } = await boot();
    expect(await peer.call('SetChargingProfile', threePeriodProfile())).toEqual({ status: 'Accepted' });
    clock.advanceTo(T0 + 150 * MIN);
    expect(limits.map(summary)).toEqual([
      { at: T0, limitA: [63, 63, 63], binding: 'fuse', sources: ['site.limitA'] },
      { at: T0 + 10 * MIN, limitA: [40, 40, 40], binding: 'csms', sources: ['site.limitA', 'csms profile 12'] },
      { at: T0 + 40 * MIN, limitA: [25, 25, 25], binding: 'csms', sources: ['site.limitA', 'csms profile 12'] },
      // 70 A is above the fuse: the fuse binds again while the profile is still in force.
      { at: T0 + 70 * MIN, limitA: [63, 63, 63], binding: 'fuse', sources: ['site.limitA', 'csms profile 12'] },
      { at: T0 + 100 * MIN, limitA: [63, 63, 63], binding: 'fuse', sources: ['site.limitA'] },
    ]);
  });

  it('converts a W profile to amperes per phase, honours validFrom/validTo and a higher stack level', async () => {
    const { clock, limits, peer } = await boot();
    const w = {
      evseId: 0,
      chargingProfile: {
        id: 3,
        stackLevel: 0,
        chargingProfilePurpose: 'ChargingStationMaxProfile',
        chargingProfileKind: 'Recurring',
        recurrencyKind: 'Daily',
        validFrom: iso(T0 + 5 * MIN),
        validTo: iso(T0 + 20 * MIN),
        chargingSchedule: [{ id: 1, startSchedule: iso(T0 - 86_400_000), chargingRateUnit: 'W', chargingSchedulePeriod: [{ startPeriod: 0, limit: 22080, numberPhases: 3 }] }],
      },
    };
    const top = {
      evseId: 0,
      chargingProfile: {
        id: 4,
        stackLevel: 5,
        chargingProfilePurpose: 'ChargingStationMaxProfile',
        chargingProfileKind: 'Absolute',
        chargingSchedule: [{ id: 1, startSchedule: iso(T0 + 10 * MIN), duration: 120, chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 50 }] }],
      },
    };
    expect(await peer.call('SetChargingProfile', w)).toEqual({ status: 'Accepted' });
    expect(await peer.call('SetChargingProfile', top)).toEqual({ status: 'Accepted' });
    clock.advanceTo(T0 + 30 * MIN);
    expect(limits.map((l) => [(l.at - T0) / MIN, l.limitA[0], l.limitW ?? null, l.binding.id])).toEqual([
      [0, 63, null, 'site.limitA'],
      [5, 32, 22080, 'csms profile 3'], // 22080 W / (230 V x 3)
      [10, 50, null, 'csms profile 4'], // the higher stack level replaces the lower one, even when higher
      [12, 32, 22080, 'csms profile 3'],
      [20, 63, null, 'site.limitA'],
    ]);
  });

  it('rejects invalid profiles and leaves the limit alone', async () => {
    const { limits, peer } = await boot();
    const p = threePeriodProfile();
    const variants: Array<[string, (x: ReturnType<typeof threePeriodProfile>) => void]> = [
      ['ExternalConstraints', (x) => (x.chargingProfile.chargingProfilePurpose = 'ChargingStationExternalConstraints')],
      ['TxProfile', (x) => Object.assign(x, { evseId: 1 }, { chargingProfile: { ...x.chargingProfile, chargingProfilePurpose: 'TxProfile', transactionId: 't1' } })],
      ['evse 1', (x) => (x.evseId = 1)],
      ['Relative', (x) => (x.chargingProfile.chargingProfileKind = 'Relative')],
      ['no startSchedule', (x) => delete (x.chargingProfile.chargingSchedule[0] as { startSchedule?: string }).startSchedule],
      ['first period not 0', (x) => (x.chargingProfile.chargingSchedule[0].chargingSchedulePeriod[0].startPeriod = 5)],
      ['periods out of order', (x) => (x.chargingProfile.chargingSchedule[0].chargingSchedulePeriod[2].startPeriod = 60)],
      ['stack level too high', (x) => (x.chargingProfile.stackLevel = 99)],
    ];
    for (const [what, mutate] of variants) {
      const x = structuredClone(p);
      mutate(x);
      const res = (await peer.call('SetChargingProfile', x)) as { status: string; statusInfo?: { reasonCode: string } };
      expect(res.status, what).toBe('Rejected');
      expect(res.statusInfo?.reasonCode, what).toBeTruthy();
    }
    expect(await peer.call('GetChargingProfiles', { requestId: 1, chargingProfile: {} })).toEqual({ status: 'NoProfiles' });
    expect(limits).toHaveLength(1);
  });

  it('reports, composes and clears profiles', async () => {
    const { csms, clock, limits, peer } = await boot();
    await peer.call('SetChargingProfile', threePeriodProfile(12));
    expect(await peer.call('GetChargingProfiles', { requestId: 77, evseId: 0, chargingProfile: { chargingProfilePurpose: 'ChargingStationMaxProfile' } })).toEqual({ status: 'Accepted' });
    await csms.until(() => csms.callsOf('ReportChargingProfiles').length === 1, 'report');
    const report = csms.callsOf('ReportChargingProfiles')[0].payload as { requestId: number; chargingLimitSource: string; evseId: number; chargingProfile: Array<{ id: number }>; tbc?: boolean };
    expect(report).toMatchObject({ requestId: 77, chargingLimitSource: 'CSO', evseId: 0 });
    expect(report.chargingProfile.map((x) => x.id)).toEqual([12]);
    expect(report.tbc).toBeUndefined();

    const composite = (await peer.call('GetCompositeSchedule', { duration: 3 * 3600, evseId: 0, chargingRateUnit: 'A' })) as {
      status: string;
      schedule: { evseId: number; chargingRateUnit: string; chargingSchedulePeriod: Array<{ startPeriod: number; limit: number }> };
    };
    expect(composite.status).toBe('Accepted');
    expect(composite.schedule.chargingSchedulePeriod.map((x) => [x.startPeriod / 60, x.limit])).toEqual([
      [0, 63],
      [10, 40],
      [40, 25],
      [70, 63],
    ]);
    expect(await peer.call('GetCompositeSchedule', { duration: 60, evseId: 1 })).toMatchObject({ status: 'Rejected', statusInfo: { reasonCode: 'UnknownEvse' } });

    clock.advanceTo(T0 + 15 * MIN);
    expect(limits[limits.length - 1].limitA).toEqual([40, 40, 40]);
    expect(await peer.call('ClearChargingProfile', { chargingProfileId: 99 })).toEqual({ status: 'Unknown' });
    expect(await peer.call('ClearChargingProfile', { chargingProfileId: 12 })).toEqual({ status: 'Accepted' });
    expect(limits[limits.length - 1]).toMatchObject({ at: T0 + 15 * MIN, limitA: [63, 63, 63], binding: { kind: 'fuse' } });
  });

  it('keeps profiles and variables across a restart', async () => {
    const first = await boot();
    await first.peer.call('SetChargingProfile', threePeriodProfile(12));
    await first.peer.call('SetVariables', { setVariableData: [{ component: { name: 'SmartChargingCtrlr' }, variable: { name: 'LimitChangeSignificance' }, attributeValue: '25' }] });
    await stations.shift()!.stop();

    const second = await boot();
    second.clock.advanceTo(T0 + 45 * MIN);
    expect(second.limits.map((l) => [(l.at - T0) / MIN, l.limitA[0]])).toEqual([
      [0, 63],
      [10, 40],
      [40, 25],
    ]);
    const get = (await second.peer.call('GetVariables', {
      getVariableData: [
        { component: { name: 'SmartChargingCtrlr' }, variable: { name: 'LimitChangeSignificance' } },
        { component: { name: 'SmartChargingCtrlr' }, variable: { name: 'Entries', instance: 'ChargingProfiles' } },
      ],
    })) as { getVariableResult: Array<{ attributeValue: string }> };
    expect(get.getVariableResult.map((r) => r.attributeValue)).toEqual(['25', '1']);
  });
});

describe('external limits (K14)', () => {
  it('notifies the CSMS of significant changes, clears on withdrawal and catches up after an outage', async () => {
    const { csms, clock, station, limits, isConnected } = await boot();
    const notified = () => csms.callsOf('NotifyChargingLimit').map((c) => {
      const p = c.payload as { chargingLimit: { chargingLimitSource: string }; chargingSchedule?: Array<{ chargingSchedulePeriod: Array<{ limit: number }> }> };
      return [p.chargingLimit.chargingLimitSource, p.chargingSchedule?.[0].chargingSchedulePeriod[0].limit];
    });
    station.setExternalLimit({ id: 'dso-signal', kind: 'SO' }, 32);
    await csms.until(() => notified().length === 1, 'first notify');
    expect(limits[limits.length - 1]).toMatchObject({ limitA: [32, 32, 32], binding: { kind: 'external', id: 'external:dso-signal' } });

    station.setExternalLimit({ id: 'dso-signal', kind: 'SO' }, 31); // 3 % < LimitChangeSignificance (10 %)
    station.setExternalLimit({ id: 'ems', kind: 'EMS' }, [40, 35, 40]);
    await csms.until(() => notified().length === 2, 'EMS notify');
    station.setExternalLimit({ id: 'dso-signal', kind: 'SO' }, 20);
    await csms.until(() => notified().length === 3, 'significant SO change');
    expect(notified()).toEqual([
      ['SO', 32],
      ['EMS', 35],
      ['SO', 20],
    ]);
    expect(limits[limits.length - 1].limitA).toEqual([20, 20, 20]);

    station.setExternalLimit({ id: 'dso-signal', kind: 'SO' }, null);
    await csms.until(() => csms.callsOf('ClearedChargingLimit').length === 1, 'cleared');
    expect(csms.callsOf('ClearedChargingLimit')[0].payload).toEqual({ chargingLimitSource: 'SO' });
    expect(limits[limits.length - 1]).toMatchObject({ limitA: [40, 35, 40], binding: { id: 'external:ems' } });

    csms.dropAll();
    await csms.until(() => !isConnected(), 'outage');
    station.setExternalLimit({ id: 'ems', kind: 'EMS' }, 16);
    station.setExternalLimit({ id: 'page', kind: 'Other', page: true }, 50);
    expect(limits[limits.length - 1]).toMatchObject({ limitA: [16, 16, 16], binding: { kind: 'external' } });
    clock.advance(1_000);
    await csms.until(() => notified().length === 5, 'catch-up after reconnect');
    expect(notified().slice(3)).toEqual([
      ['EMS', 16],
      ['Other', 50],
    ]);
  });

  it('without controller.identity publishes fuse and external limits only, and refuses bad input', async () => {
    tmp = tempDir();
    const clock = new VirtualClock(T0);
    const station = createControllerStation({ config: makeConfig(), db: tmp.open(), log: silentLogger, scheduler: clock });
    stations.push(station);
    const limits: SiteLimit[] = [];
    const connected: boolean[] = [];
    station.siteLimit$.subscribe((l) => limits.push(l));
    station.connected$.subscribe((c) => connected.push(c));
    station.start();
    station.setExternalLimit({ id: 'ems', kind: 'EMS' }, [30, 63, 63]);
    expect(() => station.setExternalLimit({ id: 'ems', kind: 'EMS' }, -1)).toThrow(RangeError);
    expect(() => station.setExternalLimit({ id: 'ems', kind: 'EMS' }, Number.NaN)).toThrow(RangeError);
    expect(() => station.setExternalLimit({ id: 'x', kind: 'CSO' as never }, 10)).toThrow(RangeError);
    station.setExternalLimit({ id: 'ems', kind: 'EMS' }, null);
    expect(limits.map((l) => [l.limitA, l.binding.kind])).toEqual([
      [[63, 63, 63], 'fuse'],
      [[30, 63, 63], 'external'],
      [[63, 63, 63], 'fuse'],
    ]);
    expect(connected).toEqual([false]);
  });
});
