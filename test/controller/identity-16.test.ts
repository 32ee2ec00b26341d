// controller.protocol: ocpp1.6 — the controller's own identity toward a CSMS that speaks only OCPP 1.6J (written here,
// checking every frame against the OCA 1.6 schemas): boot, heartbeat, connector-0 status, its configuration keys, and
// the site limit from a ChargePointMaxProfile on connector 0 on the same stream as the 2.0.1 ChargingStationMaxProfile.
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/common/log.js';
import { createControllerStation, type ControllerStation } from '../../src/controller/index.js';
import type { SiteLimit } from '../../src/controller/site-limit.js';
import { ConfigError } from '../../src/config/load.js';
import { OcppCallError } from '../../src/ocpp/errors.js';
import { SimCsms } from '../../src/sim/csms.js';
import { TestCsms16 } from './csms16.js';
import { makeConfig, tempDir, VirtualClock, type TempDir } from './helpers.js';

const T0 = Date.parse('2026-03-02T08:00:00Z');
const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

let csms: TestCsms16 | undefined;
let tmp: TempDir | undefined;
const stations: ControllerStation[] = [];

afterEach(async () => {
  for (const s of stations.splice(0)) await s.stop();
  await csms?.stop();
  tmp?.cleanup();
  csms = undefined;
  tmp = undefined;
});

/** The virtual clock of the latest boot(). */
let lastClock: VirtualClock | undefined;

async function boot(controller: Record<string, unknown> = {}, upstream: Record<string, unknown> = {}) {
  csms ??= await TestCsms16.start();
  tmp ??= tempDir();
  const clock = new VirtualClock(T0);
  lastClock = clock;
  const cfg = makeConfig({
    controller: { identity: 'LC-16', protocol: 'ocpp1.6', vendor: 'Acme', model: 'LC', firmwareVersion: '1.2.3', serialNumber: 'SN-7', ...controller },
    upstream: { url: csms.url, retry: { waitMinimumS: 1, randomRangeS: 0, repeatTimes: 0 }, ...upstream },
  });
  const station = createControllerStation({ config: cfg, db: tmp.open(), log: silentLogger, scheduler: clock });
  stations.push(station);
  const limits: SiteLimit[] = [];
  station.siteLimit$.subscribe((l) => limits.push(l));
  let connected = false;
  station.connected$.subscribe((c) => (connected = c));
  const c = csms;
  station.start();
  await c.until(() => connected && c.callsOf('StatusNotification').length > 0, 'registered and connector 0 reported');
  return { csms: c, clock, station, limits };
}

const maxProfile = (id: number, limit: number, extra: Record<string, unknown> = {}, schedule: Record<string, unknown> = {}) => ({
  connectorId: 0,
  csChargingProfiles: {
    chargingProfileId: id,
    stackLevel: 0,
    chargingProfilePurpose: 'ChargePointMaxProfile',
    chargingProfileKind: 'Absolute',
    ...extra,
    chargingSchedule: { startSchedule: iso(T0), chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit }], ...schedule },
  },
});

describe('controller identity as an OCPP 1.6J charge point', () => {
  it('connects with ocpp1.6, boots with the 1.6 fields, reports connector 0 and heartbeats at the CSMS interval', async () => {
    const { csms, clock } = await boot();
    expect(csms.sockets[0].protocol).toBe('ocpp1.6');
    expect(csms.callsOf('BootNotification').map((c) => c.payload)).toEqual([
      { chargePointVendor: 'Acme', chargePointModel: 'LC', firmwareVersion: '1.2.3', chargePointSerialNumber: 'SN-7' },
    ]);
    expect(csms.callsOf('StatusNotification')[0].payload).toMatchObject({ connectorId: 0, errorCode: 'NoError', status: 'Available' });
    clock.advance(60_000);
    await csms.until(() => csms.callsOf('Heartbeat').length === 1, 'a heartbeat after the 60 s interval');
    expect(csms.callsOf('Heartbeat')[0].payload).toEqual({});
    expect(csms.violations).toEqual([]);
  });

  it('answers GetConfiguration with its 1.6 keys and ChangeConfiguration by the key rules', async () => {
    const { csms, clock } = await boot();
    const all = (await csms.call('GetConfiguration', {})) as { configurationKey: { key: string; readonly: boolean; value: string }[] };
    const keys = Object.fromEntries(all.configurationKey.map((k) => [k.key, k]));
    expect(keys.NumberOfConnectors).toEqual({ key: 'NumberOfConnectors', readonly: true, value: '0' });
    expect(keys.SupportedFeatureProfiles.value.split(',')).toContain('SmartCharging');
    expect(keys.ChargingScheduleAllowedChargingRateUnit.value).toBe('Current,Power');
    expect(keys.HeartbeatInterval).toEqual({ key: 'HeartbeatInterval', readonly: false, value: '60' });
    for (const k of ['ChargeProfileMaxStackLevel', 'ChargingScheduleMaxPeriods', 'MaxChargingProfilesInstalled']) expect(Number(keys[k].value)).toBeGreaterThan(0);
    expect(keys.AuthorizationKey).toBeUndefined(); // write-only

    expect(await csms.call('GetConfiguration', { key: ['heartbeatinterval', 'NoSuchKey'] })).toEqual({
      configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '60' }],
      unknownKey: ['NoSuchKey'],
    });
    expect(await csms.call('ChangeConfiguration', { key: 'NumberOfConnectors', value: '2' })).toEqual({ status: 'Rejected' });
    expect(await csms.call('ChangeConfiguration', { key: 'ChargeProfileMaxStackLevel', value: '99' })).toEqual({ status: 'Rejected' });
    expect(await csms.call('ChangeConfiguration', { key: 'NoSuchKey', value: '1' })).toEqual({ status: 'NotSupported' });
    expect(await csms.call('ChangeConfiguration', { key: 'HeartbeatInterval', value: 'soon' })).toEqual({ status: 'Rejected' });
    expect(await csms.call('ChangeConfiguration', { key: 'HeartbeatInterval', value: '10' })).toEqual({ status: 'Accepted' });
    expect(await csms.call('GetConfiguration', { key: ['HeartbeatInterval'] })).toEqual({ configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '10' }] });
    // The new interval is used at once.
    clock.advance(10_000);
    await csms.until(() => csms.callsOf('Heartbeat').length === 1, 'a heartbeat after the new 10 s interval');
    expect(csms.violations).toEqual([]);
  });

  it('takes the site limit from a ChargePointMaxProfile on connector 0 (A, W with numberPhases), replaces the same stack level, and clears it', async () => {
    const { csms, clock, limits } = await boot();
    expect(await csms.call('SetChargingProfile', maxProfile(7, 40, { validTo: iso(T0 + 60 * MIN) }))).toEqual({ status: 'Accepted' });
    expect(limits.at(-1)).toMatchObject({ limitA: [40, 40, 40], binding: { kind: 'csms', id: 'csms profile 7' } });
    // Same purpose and stack level, another id: 1.6 replaces (7 is gone), here 7360 W on one phase = 32 A.
    const w = maxProfile(8, 7360, {}, { chargingRateUnit: 'W', chargingSchedulePeriod: [{ startPeriod: 0, limit: 7360, numberPhases: 1 }] });
    expect(await csms.call('SetChargingProfile', w)).toEqual({ status: 'Accepted' });
    expect(limits.at(-1)).toMatchObject({ limitA: [32, 32, 32], limitW: 7360, binding: { id: 'csms profile 8' } });
    expect(limits.at(-1)!.sources.map((s) => s.id)).toEqual(['site.limitA', 'csms profile 8']);

    // A higher stack level that ends after 10 minutes.
    expect(await csms.call('SetChargingProfile', maxProfile(9, 20, { stackLevel: 3 }, { duration: 600 }))).toEqual({ status: 'Accepted' });
    expect(limits.at(-1)!.limitA).toEqual([20, 20, 20]);
    clock.advance(10 * MIN);
    expect(limits.at(-1)!.limitA).toEqual([32, 32, 32]);

    // The composite schedule is three-phase: 7360 W is 10.6 A per phase (rounded down), as for the 2.0.1 identity.
    const composite = await csms.call('GetCompositeSchedule', { connectorId: 0, duration: 3600, chargingRateUnit: 'A' });
    expect(composite).toMatchObject({ status: 'Accepted', connectorId: 0, chargingSchedule: { duration: 3600, chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 10.6, numberPhases: 3 }] } });
    expect(await csms.call('GetCompositeSchedule', { connectorId: 1, duration: 60 })).toEqual({ status: 'Rejected' });

    expect(await csms.call('ClearChargingProfile', { id: 77 })).toEqual({ status: 'Unknown' });
    expect(await csms.call('ClearChargingProfile', { connectorId: 0, chargingProfilePurpose: 'ChargePointMaxProfile' })).toEqual({ status: 'Accepted' });
    expect(limits.at(-1)).toMatchObject({ limitA: [63, 63, 63], binding: { kind: 'fuse' } });
    expect(csms.violations).toEqual([]);
  });

  it('rejects what a charge point without connectors cannot honour, and keeps the limit it had', async () => {
    const { csms, limits } = await boot();
    expect(await csms.call('SetChargingProfile', maxProfile(1, 30))).toEqual({ status: 'Accepted' });
    const refused = [
      { ...maxProfile(2, 10), connectorId: 1 },
      maxProfile(3, 10, { chargingProfilePurpose: 'TxDefaultProfile' }),
      maxProfile(4, 10, { chargingProfilePurpose: 'TxProfile', transactionId: 5 }),
      maxProfile(5, 10, { chargingProfileKind: 'Relative' }),
      maxProfile(6, 10, { stackLevel: 99 }),
      maxProfile(7, 10, { validFrom: iso(T0 + MIN), validTo: iso(T0) }),
      maxProfile(8, 10, {}, { chargingSchedulePeriod: [{ startPeriod: 60, limit: 10 }] }),
    ];
    for (const p of refused) expect(await csms.call('SetChargingProfile', p)).toEqual({ status: 'Rejected' });
    // Not valid 1.6 on the wire (a strict CSMS never sends it; a lenient one might): a CALLERROR, nothing installed.
    await expect(csms.peer!.call('SetChargingProfile', { connectorId: 0, csChargingProfiles: { chargingProfileId: 'x' } })).rejects.toBeInstanceOf(OcppCallError);
    expect(limits.at(-1)!.limitA).toEqual([30, 30, 30]);
    expect(csms.violations).toEqual([]);
  });

  it('answers TriggerMessage, Reset, DataTransfer, and NotSupported / NotImplemented for what it is not', async () => {
    const { csms } = await boot();
    expect(await csms.call('TriggerMessage', { requestedMessage: 'Heartbeat' })).toEqual({ status: 'Accepted' });
    await csms.until(() => csms.callsOf('Heartbeat').length === 1, 'the triggered heartbeat');
    expect(await csms.call('TriggerMessage', { requestedMessage: 'StatusNotification', connectorId: 0 })).toEqual({ status: 'Accepted' });
    await csms.until(() => csms.callsOf('StatusNotification').length === 2, 'the triggered status');
    expect(await csms.call('TriggerMessage', { requestedMessage: 'BootNotification' })).toEqual({ status: 'Accepted' });
    await csms.until(() => csms.callsOf('BootNotification').length === 2, 'the triggered boot');
    expect(await csms.call('TriggerMessage', { requestedMessage: 'MeterValues' })).toEqual({ status: 'NotImplemented' });
    expect(await csms.call('TriggerMessage', { requestedMessage: 'Heartbeat', connectorId: 1 })).toEqual({ status: 'Rejected' });
    expect(await csms.call('Reset', { type: 'Soft' })).toEqual({ status: 'Accepted' });
    expect(await csms.call('DataTransfer', { vendorId: 'acme' })).toEqual({ status: 'UnknownVendorId' });
    expect(await csms.call('RemoteStartTransaction', { idTag: 'T1' })).toEqual({ status: 'Rejected' });
    expect(await csms.call('UnlockConnector', { connectorId: 1 })).toEqual({ status: 'NotSupported' });
    await expect(csms.call('SendLocalList', { listVersion: 1, updateType: 'Full' })).rejects.toMatchObject({ code: 'NotSupported' });
    await expect(csms.call('GetLog', { logType: 'DiagnosticsLog', requestId: 1, log: { remoteLocation: 'https://x.example/' } })).rejects.toMatchObject({ code: 'NotImplemented' });
    expect(csms.violations).toEqual([]);
  });

  it('survives a CSMS answering BootNotification with nonsense, and uses a new AuthorizationKey at once', async () => {
    csms = await TestCsms16.start();
    let answers = 0;
    csms.handlers.set('BootNotification', () => (++answers === 1 ? { status: 'Maybe', interval: 'x' } : { status: 'Accepted', interval: 60, currentTime: new Date().toISOString() }));
    const booting = boot({ password: 'first-password-0123' });
    await csms.until(() => csms!.callsOf('BootNotification').length === 1, 'the first boot');
    // The retry after the nonsense answer waits RetryBackOffWaitMinimum (1 s) on the virtual clock.
    for (let i = 0; i < 100 && csms.callsOf('BootNotification').length < 2; i++) {
      lastClock!.advance(1000);
      await new Promise((r) => setTimeout(r, 20));
    }
    const { csms: c } = await booting;
    expect(c.callsOf('BootNotification')).toHaveLength(2);
    const basic = (pw: string) => `Basic ${Buffer.from(`LC-16:${pw}`).toString('base64')}`;
    expect(c.authorizations).toEqual([basic('first-password-0123')]);
    expect(await c.call('ChangeConfiguration', { key: 'AuthorizationKey', value: 'short' })).toEqual({ status: 'Rejected' });
    expect(await c.call('ChangeConfiguration', { key: 'AuthorizationKey', value: 'second-password-456' })).toEqual({ status: 'Accepted' });
    await c.until(() => c.authorizations.length === 2, 'a reconnect with the new key');
    expect(c.authorizations[1]).toBe(basic('second-password-456'));
    expect(c.violations).toEqual([]);
  });

  it('goes to upstream.url16 when the CSMS serves 1.6 elsewhere', async () => {
    csms = await TestCsms16.start();
    const { csms: c } = await boot({}, { url: 'ws://127.0.0.1:1/ocpp201', url16: csms.url });
    expect(c.sockets).toHaveLength(1);
    expect(c.callsOf('BootNotification')).toHaveLength(1);
  });

  it('keeps a 1.6 ChargePointMaxProfile through a restart of the controller', async () => {
    const first = await boot();
    expect(await first.csms.call('SetChargingProfile', maxProfile(11, 25))).toEqual({ status: 'Accepted' });
    await first.station.stop();
    stations.splice(0);
    const again = await boot();
    expect(again.limits.at(-1)).toMatchObject({ limitA: [25, 25, 25], binding: { id: 'csms profile 11' } });
  });
});

describe('controller identity (1.6) and the simulated CSMS', () => {
  it('takes the site limit the simulated CSMS sets as a ChargePointMaxProfile', async () => {
    const sim = new SimCsms();
    const url = await sim.start();
    tmp ??= tempDir();
    const cfg = makeConfig({ controller: { identity: 'LC-SIM', protocol: 'ocpp1.6' }, upstream: { url, retry: { waitMinimumS: 1, randomRangeS: 0, repeatTimes: 0 } } });
    // Real time: the simulated CSMS stamps startSchedule with its own (real) clock.
    const station = createControllerStation({ config: cfg, db: tmp.open(), log: silentLogger });
    stations.push(station);
    const limits: SiteLimit[] = [];
    station.siteLimit$.subscribe((l) => limits.push(l));
    try {
      station.start();
      const deadline = Date.now() + 10_000;
      while (!sim.received.some((m) => m.stationId === 'LC-SIM' && m.action === 'StatusNotification') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(sim.protocolOf('LC-SIM')).toBe('ocpp1.6');
      expect(await sim.setSiteLimit('LC-SIM', 45)).toEqual({ status: 'Accepted' });
      const until = Date.now() + 10_000;
      while (limits.at(-1)?.limitA[0] !== 45 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      expect(limits.at(-1)).toMatchObject({ limitA: [45, 45, 45], binding: { kind: 'csms' } });
    } finally {
      await station.stop();
      await sim.stop();
    }
  });
});

describe('controller.protocol in the config', () => {
  it('defaults to ocpp2.0.1, accepts ocpp1.6 and names bad values and 1.6 field lengths by key path', () => {
    expect(makeConfig({ controller: { identity: 'X' } }).controller.protocol).toBe('ocpp2.0.1');
    expect(makeConfig({ controller: { identity: 'X', protocol: 'ocpp1.6' } }).controller.protocol).toBe('ocpp1.6');
    expect(() => makeConfig({ controller: { protocol: 'ocpp2.1' } })).toThrow(ConfigError);
    try {
      makeConfig({ controller: { identity: 'X', protocol: 'ocpp1.6', vendor: 'A vendor name longer than twenty' } });
      expect.unreachable();
    } catch (err) {
      expect((err as ConfigError).message).toMatch(/controller\.vendor: at most 20 characters/);
    }
  });
});
