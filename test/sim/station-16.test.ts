// Simulated stations speaking OCPP 1.6J (the same charger model as the 2.0.1 ones, through the 1.6 face) to the
// simulated CSMS over real sockets: every frame either side sends is valid 1.6 (OCA schemas), the CSMS assigns integer
// transaction ids the station then uses, and smart-charging profiles combine as a 1.6 charger combines them.
import { afterEach, describe, expect, it } from 'vitest';
import { SimCsms, type CsmsMessage } from '../../src/sim/csms.js';
import { SimEv } from '../../src/sim/physics/ev.js';
import { SimStation } from '../../src/sim/physics/station.js';
import { WsStation } from '../../src/sim/ws-station.js';
import { InProcessRelay } from '../../src/sim/inprocess.js';
import type { ChargerSpec, EvSpec } from '../../src/sim/scenario-types.js';
import { VIRTUAL_EPOCH, VirtualClock } from '../../src/sim/virtual-time.js';
import { parseScenario } from '../../src/sim/scenario.js';
import { scenarioConfig } from '../../src/sim/scenario-config.js';
import { scoreScenarioDetailed } from '../../src/sim/score.js';
import { createControlLoop } from '../../src/control/loop.js';
import { createStations } from '../../src/stations/stations.js';
import type { StationEvent } from '../../src/stations/model.js';
import { check16 } from '../controller/csms16.js';

const T0 = VIRTUAL_EPOCH + 8 * 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

const charger = (over: Partial<ChargerSpec> = {}): ChargerSpec => ({ id: 'CP16', phases: 3, maxA: 32, rotation: 'L2L3L1', reactionS: 0, profiles: 'apply', meterValuesS: 10, protocol: 'ocpp1.6', ...over });
const evSpec = (over: Partial<EvSpec> = {}): EvSpec => ({ id: 'EV1', charger: 'CP16', arriveAt: T0, departAt: T0 + 8 * 3_600_000, energyWh: 20_000, maxA: 32, phases: 3, priority: 0, capacityWh: 60_000, sendsNeeds: true, ...over });

let csms: SimCsms | undefined;
let ws: WsStation | undefined;

afterEach(async () => {
  await ws?.stop();
  await csms?.stop();
  ws = undefined;
  csms = undefined;
});

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function start(over: Partial<ChargerSpec> = {}) {
  let t = T0;
  csms = new SimCsms({ now: () => t });
  const url = await csms.start();
  const got: CsmsMessage[] = [];
  const violations: string[] = [];
  csms.onMessage((m) => {
    got.push(m);
    const bad = check16(m.action, 'request', m.payload);
    if (bad) violations.push(`${m.action}: ${bad}`);
  });
  const st: SimStation = new SimStation(charger(over), { voltageV: 230, send: (a, p) => ws!.send(a, p) });
  ws = new WsStation(st, { url, now: () => t });
  ws.start();
  await ws.whenConnected();
  const c = csms;
  /** A CSMS CALL whose request and answer must both be valid 1.6. */
  const call = async (action: string, payload: Record<string, unknown>) => {
    expect(check16(action, 'request', payload)).toBe('');
    const answer = await c.call('CP16', action, payload);
    expect(check16(action, 'response', answer)).toBe('');
    return answer;
  };
  const of = (action: string) => got.filter((m) => m.action === action).map((m) => m.payload);
  return { st, csms: c, got, of, violations, call, advance: (ms: number) => { t += ms; st.step(t, ms); }, now: () => t };
}

describe('simulated OCPP 1.6J station', () => {
  it('boots, reports its connectors, and runs a transaction with the id the CSMS assigned', async () => {
    const { st, csms, of, violations, advance, now, call } = await start();
    expect(csms.protocolOf('CP16')).toBe('ocpp1.6');
    await until(() => of('StatusNotification').length >= 2, 'status of connectors 0 and 1');
    expect(of('BootNotification')[0]).toMatchObject({ chargePointVendor: 'site-controller-sim', chargePointModel: 'SimCharger' });
    expect(of('StatusNotification').map((s) => [s.connectorId, s.status])).toEqual([
      [0, 'Available'],
      [1, 'Available'],
    ]);
    st.plugIn(new SimEv(evSpec()), now());
    await until(() => of('StartTransaction').length === 1, 'StartTransaction');
    expect(of('Authorize')).toHaveLength(1);
    expect(of('StartTransaction')[0]).toMatchObject({ connectorId: 1, meterStart: 0 });
    advance(1000);
    advance(10_000);
    await until(() => of('MeterValues').length >= 1, 'MeterValues');
    const mv = of('MeterValues').at(-1)!;
    expect(typeof mv.transactionId).toBe('number');
    expect(mv.transactionId).toBeGreaterThanOrEqual(1000); // the CSMS's integer id, not the model's string
    const sampled = (mv.meterValue as { sampledValue: { measurand?: string; phase?: string; value: string }[] }[])[0].sampledValue;
    expect(sampled.filter((v) => v.measurand === 'Current.Import').map((v) => [v.phase, v.value])).toEqual([
      ['L1', '32'],
      ['L2', '32'],
      ['L3', '32'],
    ]);
    expect(sampled.map((v) => v.measurand)).toEqual(expect.arrayContaining(['Energy.Active.Import.Register', 'Power.Active.Import']));
    expect(of('StatusNotification').at(-1)).toMatchObject({ connectorId: 1, status: 'Charging' });

    // The CSMS stops it by its own id; a remote start gets a new id.
    const txId = mv.transactionId as number;
    expect(await call('RemoteStopTransaction', { transactionId: txId + 1 })).toEqual({ status: 'Rejected' });
    expect(await call('RemoteStopTransaction', { transactionId: txId })).toEqual({ status: 'Accepted' });
    advance(1000);
    await until(() => of('StopTransaction').length === 1, 'StopTransaction');
    expect(of('StopTransaction')[0]).toMatchObject({ transactionId: txId, reason: 'Remote' });
    // A remote start may bring the TxProfile of the transaction it starts (§5.11): 12 A from the start.
    const brought = { chargingProfileId: 40, stackLevel: 1, chargingProfilePurpose: 'TxProfile', chargingProfileKind: 'Relative', chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 12 }] } };
    expect(await call('RemoteStartTransaction', { connectorId: 1, idTag: 'CARD1', chargingProfile: { ...brought, chargingProfilePurpose: 'TxDefaultProfile' } })).toEqual({ status: 'Rejected' });
    expect(await call('RemoteStartTransaction', { connectorId: 2, idTag: 'CARD1' })).toEqual({ status: 'Rejected' });
    expect(await call('RemoteStartTransaction', { connectorId: 1, idTag: 'CARD1', chargingProfile: brought })).toEqual({ status: 'Accepted' });
    advance(1000);
    await until(() => of('StartTransaction').length === 2, 'the second StartTransaction');
    advance(1000);
    expect(st.currentA).toEqual([12, 12, 12]);
    st.unplug(now());
    await until(() => of('StopTransaction').length === 2, 'the second StopTransaction');
    expect(of('StopTransaction')[1].transactionId).toBe(txId + 1);
    expect(of('StopTransaction')[1].reason).toBe('EVDisconnected');
    await until(() => of('StatusNotification').at(-1)?.status === 'Available', 'Available after unplug');
    expect(violations).toEqual([]);
  });

  it('combines ChargePointMaxProfile, TxDefaultProfile and TxProfile as a 1.6 charger, in A and in W', async () => {
    const { st, of, advance, now, call } = await start();
    st.plugIn(new SimEv(evSpec()), now());
    await until(() => of('StartTransaction').length === 1, 'StartTransaction');
    advance(1000);
    const txId = await (async () => {
      await until(() => st.transactionId !== undefined, 'transaction');
      // The id the CSMS assigned, as it would name it.
      advance(10_000);
      await until(() => of('MeterValues').length >= 1, 'MeterValues');
      return of('MeterValues').at(-1)!.transactionId as number;
    })();
    const profile = (id: number, purpose: string, limit: number, extra: Record<string, unknown> = {}, schedule: Record<string, unknown> = {}) => ({
      chargingProfileId: id,
      stackLevel: 0,
      chargingProfilePurpose: purpose,
      chargingProfileKind: 'Absolute',
      ...extra,
      chargingSchedule: { startSchedule: iso(now()), chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit }], ...schedule },
    });
    expect(await call('SetChargingProfile', { connectorId: 0, csChargingProfiles: profile(1, 'TxDefaultProfile', 20) })).toEqual({ status: 'Accepted' });
    advance(1000);
    expect(st.currentA).toEqual([20, 20, 20]);
    // A higher stack level within the purpose replaces the lower one (even upward)…
    expect(await call('SetChargingProfile', { connectorId: 1, csChargingProfiles: profile(2, 'TxDefaultProfile', 25, { stackLevel: 2 }) })).toEqual({ status: 'Accepted' });
    advance(1000);
    expect(st.currentA).toEqual([25, 25, 25]);
    // …a TxProfile for the CSMS's transaction id overrides TxDefault: 6900 W over 3 phases = 10 A.
    const w = profile(3, 'TxProfile', 6900, { transactionId: txId, chargingProfileKind: 'Relative' }, { startSchedule: undefined, chargingRateUnit: 'W', chargingSchedulePeriod: [{ startPeriod: 0, limit: 6900, numberPhases: 3 }] });
    delete (w.chargingSchedule as Record<string, unknown>).startSchedule;
    expect(await call('SetChargingProfile', { connectorId: 1, csChargingProfiles: w })).toEqual({ status: 'Accepted' });
    advance(1000);
    expect(st.currentA).toEqual([10, 10, 10]);
    // A TxProfile naming another transaction is refused.
    expect(await call('SetChargingProfile', { connectorId: 1, csChargingProfiles: profile(4, 'TxProfile', 6, { transactionId: txId + 99 }) })).toEqual({ status: 'Rejected' });
    // ChargePointMaxProfile caps everything: the minimum across purposes.
    expect(await call('SetChargingProfile', { connectorId: 0, csChargingProfiles: profile(5, 'ChargePointMaxProfile', 8) })).toEqual({ status: 'Accepted' });
    advance(1000);
    expect(st.currentA).toEqual([8, 8, 8]);
    const composite = await call('GetCompositeSchedule', { connectorId: 1, duration: 600 });
    expect(composite).toMatchObject({ status: 'Accepted', connectorId: 1, chargingSchedule: { duration: 600, chargingSchedulePeriod: [{ startPeriod: 0, limit: 8 }] } });
    expect(await call('ClearChargingProfile', { chargingProfilePurpose: 'ChargePointMaxProfile' })).toEqual({ status: 'Accepted' });
    advance(1000);
    expect(st.currentA).toEqual([10, 10, 10]);
    expect(await call('ClearChargingProfile', { id: 3 })).toEqual({ status: 'Accepted' });
    advance(1000);
    expect(st.currentA).toEqual([25, 25, 25]);
    expect(await call('ClearChargingProfile', { id: 3 })).toEqual({ status: 'Unknown' });
    // Rude input changes nothing: an unknown purpose is a CALLERROR, not "clear everything".
    await expect(csms!.call('CP16', 'ClearChargingProfile', { chargingProfilePurpose: 'Bogus' })).rejects.toMatchObject({ code: 'PropertyConstraintViolation' });
    await expect(csms!.call('CP16', 'SetChargingProfile', { connectorId: 'one', csChargingProfiles: {} })).rejects.toMatchObject({ code: 'TypeConstraintViolation' });
    advance(1000);
    expect(st.currentA).toEqual([25, 25, 25]);
  });

  it('over real sockets, a quirky 1.6 firmware refuses what it refuses and declares it (watts-only + relative-only; no smart charging; an ignorer)', async () => {
    const profile = (id: number, unit: 'A' | 'W', kind: 'Absolute' | 'Relative', limit: number) => ({
      connectorId: 1,
      csChargingProfiles: {
        chargingProfileId: id,
        stackLevel: 0,
        chargingProfilePurpose: 'TxDefaultProfile',
        chargingProfileKind: kind,
        chargingSchedule: { ...(kind === 'Absolute' ? { startSchedule: iso(T0) } : {}), chargingRateUnit: unit, chargingSchedulePeriod: [{ startPeriod: 0, limit, numberPhases: 3 }] },
      },
    });
    {
      const { st, of, call, violations, advance, now } = await start({ quirks: ['watts-only', 'relative-only'], reactionS: 2 });
      const keys = (await call('GetConfiguration', { key: ['ChargingScheduleAllowedChargingRateUnit'] })) as { configurationKey: { value: string }[] };
      expect(keys.configurationKey[0].value).toBe('Power');
      st.plugIn(new SimEv(evSpec()), now());
      await until(() => of('StartTransaction').length === 1, 'StartTransaction');
      advance(1000);
      expect(await call('SetChargingProfile', profile(1, 'A', 'Relative', 10))).toEqual({ status: 'Rejected' });
      expect(await call('SetChargingProfile', profile(2, 'W', 'Absolute', 6900))).toEqual({ status: 'Rejected' });
      expect(await call('SetChargingProfile', profile(3, 'W', 'Relative', 6900))).toEqual({ status: 'Accepted' });
      advance(1000);
      expect(st.currentA).toEqual([32, 32, 32]); // within its reaction time
      advance(2000);
      expect(st.currentA).toEqual([10, 10, 10]);
      expect(violations).toEqual([]);
      await ws!.stop();
      await csms!.stop();
    }
    {
      const { call } = await start({ quirks: ['no-smart-charging'] });
      const keys = (await call('GetConfiguration', { key: ['SupportedFeatureProfiles'] })) as { configurationKey: { value: string }[] };
      expect(keys.configurationKey[0].value).toBe('Core,RemoteTrigger');
      await expect(csms!.call('CP16', 'SetChargingProfile', profile(1, 'A', 'Relative', 10))).rejects.toMatchObject({ code: 'NotSupported' });
      await ws!.stop();
      await csms!.stop();
    }
    {
      const { st, of, call, advance, now } = await start({ profiles: 'ignore' });
      st.plugIn(new SimEv(evSpec()), now());
      await until(() => of('StartTransaction').length === 1, 'StartTransaction');
      expect(await call('SetChargingProfile', profile(1, 'A', 'Relative', 10))).toEqual({ status: 'Accepted' });
      advance(60_000);
      expect(st.currentA).toEqual([32, 32, 32]);
    }
  });

  it('answers configuration, trigger, reset and the rest as a 1.6 charge point', async () => {
    const { of, call, violations } = await start({ rotation: 'L2L3L1' });
    const all = (await call('GetConfiguration', {})) as { configurationKey: { key: string; value: string; readonly: boolean }[] };
    const keys = Object.fromEntries(all.configurationKey.map((k) => [k.key, k.value]));
    expect(keys).toMatchObject({
      SupportedFeatureProfiles: 'Core,SmartCharging,RemoteTrigger',
      ChargingScheduleAllowedChargingRateUnit: 'Current,Power',
      ChargeProfileMaxStackLevel: '10',
      NumberOfConnectors: '1',
      ConnectorPhaseRotation: '1.STR',
    });
    expect(await call('GetConfiguration', { key: ['HeartbeatInterval', 'Nope'] })).toEqual({ configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '300' }], unknownKey: ['Nope'] });
    expect(await call('ChangeConfiguration', { key: 'HeartbeatInterval', value: '60' })).toEqual({ status: 'Accepted' });
    expect(await call('ChangeConfiguration', { key: 'NumberOfConnectors', value: '2' })).toEqual({ status: 'Rejected' });
    expect(await call('ChangeConfiguration', { key: 'Nope', value: '2' })).toEqual({ status: 'NotSupported' });
    expect(await call('TriggerMessage', { requestedMessage: 'MeterValues', connectorId: 1 })).toEqual({ status: 'Accepted' });
    await until(() => of('MeterValues').length === 1, 'triggered MeterValues');
    expect(await call('TriggerMessage', { requestedMessage: 'Heartbeat' })).toEqual({ status: 'Accepted' });
    await until(() => of('Heartbeat').length === 1, 'triggered Heartbeat');
    expect(await call('TriggerMessage', { requestedMessage: 'BootNotification' })).toEqual({ status: 'Accepted' });
    await until(() => of('BootNotification').length === 2, 'triggered boot');
    expect(await call('Reset', { type: 'Soft' })).toEqual({ status: 'Accepted' });
    expect(await call('DataTransfer', { vendorId: 'x' })).toEqual({ status: 'UnknownVendorId' });
    expect(violations).toEqual([]);
  });
});

describe('1.6 stations in scenarios and in-process', () => {
  it('reads chargers[].protocol and quirks (default ocpp2.0.1, none) and refuses unknown ones by key path', () => {
    const base = { name: 'p', duration: '1h', site: { limitA: [32, 32, 32] }, evs: [] };
    const s = parseScenario({ ...base, chargers: [{ id: 'A' }, { id: 'B', protocol: 'ocpp1.6', quirks: ['watts-only'] }] });
    expect(s.chargers.map((c) => [c.protocol, c.quirks])).toEqual([
      ['ocpp2.0.1', []],
      ['ocpp1.6', ['watts-only']],
    ]);
    // The score's generated config names the 1.6 charger's protocol, as an installer's would.
    expect(scenarioConfig(s).stations.list.map((x) => x.protocol)).toEqual([undefined, 'ocpp1.6']);
    expect(() => parseScenario({ ...base, chargers: [{ id: 'A', protocol: 'ocpp2.1' }] })).toThrow(/chargers\[0\]\.protocol/);
    expect(() => parseScenario({ ...base, chargers: [{ id: 'A', quirks: ['flaky'] }] })).toThrow(/chargers\[0\]\.quirks/);
  });

  it("stamps its 1.6 messages on the station's own clock, not world time", async () => {
    const relay = new InProcessRelay(new VirtualClock(T0));
    const sent: Record<string, unknown>[] = [];
    relay.calls$.subscribe((c) => c.origin === 'station' && sent.push({ action: c.action, ...c.payload }));
    const hourAhead = (t: number) => t + 3_600_000;
    const st = new SimStation(charger(), { voltageV: 230, clock: hourAhead, send: (a, p) => relay.stationSend('CP16', a, p) });
    relay.attach(new Map([['CP16', st]]));
    relay.connect('CP16');
    st.boot(T0);
    st.plugIn(new SimEv(evSpec()), T0);
    await until(() => sent.some((m) => m.action === 'StartTransaction'), 'StartTransaction');
    const stamped = sent.filter((m) => typeof m.timestamp === 'string');
    expect(stamped.length).toBeGreaterThanOrEqual(3);
    for (const m of stamped) expect(m.timestamp, String(m.action)).toBe(iso(T0 + 3_600_000));
  });

  it('speaks 1.6 through the in-process relay with CSMS-assigned ids, which the station model reads as 1.6', async () => {
    const clock = new VirtualClock(T0);
    const relay = new InProcessRelay(clock);
    const seen: { action: string; payload: Record<string, unknown>; result?: Record<string, unknown> }[] = [];
    relay.results$.subscribe((r) => r.origin === 'station' && seen.push({ action: r.action, payload: r.request, result: r.result }));
    const stations = createStations({ relay, caller: relay });
    const events: StationEvent[] = [];
    stations.events$.subscribe((e) => events.push(e));
    const st = new SimStation(charger(), { voltageV: 230, send: (a, p) => relay.stationSend('CP16', a, p) });
    relay.attach(new Map([['CP16', st]]));
    relay.connect('CP16');
    st.boot(T0);
    st.plugIn(new SimEv(evSpec()), T0);
    await until(() => seen.some((m) => m.action === 'StartTransaction'), 'StartTransaction');
    const id = seen.find((m) => m.action === 'StartTransaction')!.result!.transactionId;
    expect(Number.isInteger(id)).toBe(true);
    for (const m of seen) expect(check16(m.action, 'request', m.payload)).toBe('');
    const answer = await relay.call('CP16', 'GetConfiguration', { key: ['NumberOfConnectors'] });
    expect(answer).toEqual({ configurationKey: [{ key: 'NumberOfConnectors', readonly: true, value: '1' }] });
    // The neutral model: a 1.6 station, booted, a session with the CSMS's id (as a string), then its meter values.
    clock.advanceTo(T0 + 11_000);
    st.step(T0 + 11_000, 11_000);
    await until(() => events.some((e) => e.kind === 'session' && e.phase === 'updated'), 'a session update in the model');
    expect(stations.protocolOf('CP16')).toBe('ocpp1.6');
    expect(events.filter((e) => e.kind === 'connection')[0]).toMatchObject({ protocol: 'ocpp1.6', up: true });
    expect(events.some((e) => e.kind === 'booted')).toBe(true);
    expect(events.find((e) => e.kind === 'session' && e.phase === 'started')).toMatchObject({ evseId: 1, transactionId: String(id) });
    const update = events.find((e) => e.kind === 'session' && e.phase === 'updated') as Extract<StationEvent, { kind: 'session' }>;
    expect(update.transactionId).toBe(String(id));
    expect(update.measurement.currentA).toEqual([32, 32, 32]);
  });

  it('scores a mixed fleet through the real control loop: the 1.6 charger charges, the fuse holds', async () => {
    const mixed = parseScenario({
      name: 'mixed-fleet',
      duration: '1h',
      step: '1s',
      seed: 3,
      site: { limitA: [63, 63, 63], voltage: 230 },
      baseLoad: { shape: 'flat', peakA: [10, 10, 10] },
      chargers: [
        { id: 'N1', maxA: 32, reactionS: 3, meterValuesS: 2 },
        { id: 'N2', maxA: 32, reactionS: 3, meterValuesS: 2 },
        { id: 'O1', maxA: 16, reactionS: 3, meterValuesS: 2, protocol: 'ocpp1.6' },
      ],
      evs: ['N1', 'N2', 'O1'].map((charger) => ({ charger, arrive: '00:02', depart: '01:00', energyWh: 40000 })),
    });
    const d = await scoreScenarioDetailed(mixed, { controlLoopFactory: createControlLoop });
    expect(d.score.overload_s).toBe(0);
    const byCharger = Object.fromEntries(d.evs.controller.map((e) => [e.spec.charger, e.deliveredWh]));
    // 16 A on three phases for ~58 minutes: the 1.6 charger is limited through its 1.6 adapter, and here has room.
    expect(byCharger.O1).toBeGreaterThan(9000);
    expect(byCharger.N1).toBeGreaterThan(5000);
    expect(byCharger.N2).toBeGreaterThan(5000);
  }, 120_000);
});

