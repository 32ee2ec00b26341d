// The controller's own identity against a real ws test CSMS: boot (Accepted / Pending / Rejected), heartbeat on a
// virtual clock, reconnect without a new boot, Basic auth, Get/SetVariables and GetBaseReport paging.
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/common/log.js';
import { createControllerStation, type ControllerStation } from '../../src/controller/index.js';
import { VAR } from '../../src/controller/device-model.js';
import { backoffDelayMs } from '../../src/controller/station.js';
import { OcppCallError } from '../../src/relay/events.js';
import { makeConfig, tempDir, TestCsms, VirtualClock, type TempDir } from './helpers.js';

const T0 = Date.parse('2026-03-02T08:00:00Z');
let csms: TestCsms | undefined;
let tmp: TempDir | undefined;
let station: ControllerStation | undefined;

afterEach(async () => {
  await station?.stop();
  await csms?.stop();
  tmp?.cleanup();
  station = undefined;
  csms = undefined;
  tmp = undefined;
});

/** A CALL and its answer: everything the CSMS sent before has been handled by the controller when it returns. */
async function roundTrip(c: TestCsms): Promise<void> {
  await c.current.peer.call('GetVariables', { getVariableData: [{ component: { name: 'ChargingStation' }, variable: { name: 'Model' } }] });
}

async function setup(controller: Record<string, unknown> = {}) {
  csms = await TestCsms.start();
  tmp = tempDir();
  const clock = new VirtualClock(T0);
  const config = makeConfig({
    controller: { identity: 'LC-1', vendor: 'Acme', model: 'LC', firmwareVersion: '1.2.3', serialNumber: 'SN-7', ...controller },
    upstream: { url: csms.url, retry: { waitMinimumS: 1, randomRangeS: 0, repeatTimes: 2 } },
  });
  station = createControllerStation({ config, db: tmp.open(), log: silentLogger, scheduler: clock });
  const connected: boolean[] = [];
  station.connected$.subscribe((c) => connected.push(c));
  return { csms, clock, station, connected, last: () => connected[connected.length - 1] };
}

describe('controller identity: boot and heartbeat', () => {
  it('boots with its identity, heartbeats at the CSMS interval and reconnects without booting again', async () => {
    const { csms, clock, station, last } = await setup({ password: 'a-sixteen-char-pw' });
    station.start();
    await csms.until(() => csms.callsOf('BootNotification').length === 1 && last() === true, 'boot accepted');
    const conn = csms.current;
    expect(conn.path).toBe('/ocpp/LC-1');
    expect(conn.protocol).toBe('ocpp2.0.1');
    expect(conn.authorization).toBe(`Basic ${Buffer.from('LC-1:a-sixteen-char-pw').toString('base64')}`);
    expect(csms.callsOf('BootNotification')[0].payload).toEqual({
      reason: 'PowerUp',
      chargingStation: { model: 'LC', vendorName: 'Acme', firmwareVersion: '1.2.3', serialNumber: 'SN-7' },
    });
    expect(station.deviceModel.get(VAR.heartbeatInterval)).toBe('60');

    clock.advance(59_000);
    clock.advance(1_000);
    await csms.until(() => csms.callsOf('Heartbeat').length === 1, 'first heartbeat');
    clock.advance(60_000);
    await csms.until(() => csms.callsOf('Heartbeat').length === 2, 'second heartbeat');

    csms.dropAll();
    await csms.until(() => last() === false, 'disconnect noticed');
    clock.advance(1_000); // RetryBackOffWaitMinimum
    await csms.until(() => csms.connections.length === 2 && last() === true, 'reconnected');
    expect(csms.callsOf('BootNotification')).toHaveLength(1);
  });

  it('answers the CSMS while Pending and boots again after the interval', async () => {
    const { csms, clock, station, last } = await setup();
    let n = 0;
    csms.handlers.set('BootNotification', () => (n++ === 0 ? { status: 'Pending', interval: 30, currentTime: new Date().toISOString() } : { status: 'Accepted', interval: 120, currentTime: new Date().toISOString() }));
    station.start();
    await csms.until(() => csms.callsOf('BootNotification').length === 1, 'first boot');
    const res = await csms.current.peer.call('GetVariables', { getVariableData: [{ component: { name: 'ChargingStation' }, variable: { name: 'Model' } }] });
    expect(res).toEqual({ getVariableResult: [{ attributeStatus: 'Accepted', attributeValue: 'LC', component: { name: 'ChargingStation' }, variable: { name: 'Model' } }] });
    expect(last()).toBe(false);
    clock.advance(30_000);
    await csms.until(() => csms.callsOf('BootNotification').length === 2 && last() === true, 'second boot accepted');
    expect(station.deviceModel.get(VAR.heartbeatInterval)).toBe('120');
  });

  it('asks again after the interval when Rejected', async () => {
    const { csms, clock, station, last } = await setup();
    let n = 0;
    csms.handlers.set('BootNotification', () => (n++ < 2 ? { status: 'Rejected', interval: 10, currentTime: new Date().toISOString() } : { status: 'Accepted', interval: 60, currentTime: new Date().toISOString() }));
    station.start();
    await csms.until(() => csms.callsOf('BootNotification').length === 1, 'first boot');
    await roundTrip(csms);
    clock.advance(10_000);
    await csms.until(() => csms.callsOf('BootNotification').length === 2, 'second boot');
    await roundTrip(csms);
    expect(last()).toBe(false);
    clock.advance(10_000);
    await csms.until(() => csms.callsOf('BootNotification').length === 3 && last() === true, 'third boot accepted');
  });

  it('answers TriggerMessage, Reset and calls it has nothing for', async () => {
    const { csms, station, last } = await setup();
    station.start();
    await csms.until(() => last() === true, 'boot');
    const peer = csms.current.peer;
    expect(await peer.call('TriggerMessage', { requestedMessage: 'Heartbeat' })).toEqual({ status: 'Accepted' });
    await csms.until(() => csms.callsOf('Heartbeat').length === 1, 'triggered heartbeat');
    expect(await peer.call('TriggerMessage', { requestedMessage: 'BootNotification' })).toEqual({ status: 'Accepted' });
    await csms.until(() => csms.callsOf('BootNotification').length === 2, 'triggered boot');
    expect(csms.callsOf('BootNotification')[1].payload.reason).toBe('Triggered');
    expect(await peer.call('TriggerMessage', { requestedMessage: 'MeterValues' })).toEqual({ status: 'NotImplemented' });
    expect(await peer.call('Reset', { type: 'Immediate' })).toEqual({ status: 'Accepted' });
    expect(await peer.call('ChangeAvailability', { operationalStatus: 'Inoperative' })).toMatchObject({ status: 'Rejected' });
    await expect(peer.call('CertificateSigned', { certificateChain: 'x' })).rejects.toMatchObject({ code: 'NotImplemented' });
  });
});

describe('controller identity: device model over OCPP', () => {
  it('sets and gets variables, uses HeartbeatInterval at once, and limits items per message', async () => {
    const { csms, clock, station, last } = await setup();
    station.start();
    await csms.until(() => last() === true, 'boot');
    const peer = csms.current.peer;
    const set = await peer.call('SetVariables', {
      setVariableData: [
        { component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' }, attributeValue: '15' },
        { component: { name: 'SmartChargingCtrlr' }, variable: { name: 'RateUnit' }, attributeValue: 'A' },
        { component: { name: 'SmartChargingCtrlr' }, variable: { name: 'LimitChangeSignificance' }, attributeValue: 'x' },
      ],
    });
    expect((set.setVariableResult as Array<{ attributeStatus: string }>).map((r) => r.attributeStatus)).toEqual(['Accepted', 'Rejected', 'Rejected']);
    clock.advance(15_000);
    await csms.until(() => csms.callsOf('Heartbeat').length === 1, 'heartbeat at the new interval');

    const get = await peer.call('GetVariables', {
      getVariableData: [
        { component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } },
        { component: { name: 'SmartChargingCtrlr' }, variable: { name: 'Entries', instance: 'ChargingProfiles' } },
        { component: { name: 'EVSE' }, variable: { name: 'Available' } },
      ],
    });
    expect((get.getVariableResult as Array<{ attributeStatus: string; attributeValue?: string }>).map((r) => [r.attributeStatus, r.attributeValue])).toEqual([
      ['Accepted', '15'],
      ['Accepted', '0'],
      ['UnknownComponent', undefined],
    ]);

    const tooMany = Array.from({ length: 51 }, () => ({ component: { name: 'ChargingStation' }, variable: { name: 'Model' } }));
    const err = await peer.call('GetVariables', { getVariableData: tooMany }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OcppCallError);
    expect((err as OcppCallError).code).toBe('OccurrenceConstraintViolation');
  });

  it('sends a base report in pages of ItemsPerMessage with seqNo, tbc and the requestId', async () => {
    const { csms, station, last } = await setup();
    station.start();
    await csms.until(() => last() === true, 'boot');
    const total = station.deviceModel.report('FullInventory').length;
    const perPage = station.deviceModel.getNumber(VAR.itemsGetReport, 0);
    const pages = Math.ceil(total / perPage);
    expect(pages).toBeGreaterThan(1);
    expect(await csms.current.peer.call('GetBaseReport', { requestId: 42, reportBase: 'FullInventory' })).toEqual({ status: 'Accepted' });
    await csms.until(() => csms.callsOf('NotifyReport').length === pages, 'every page');
    const reports = csms.callsOf('NotifyReport').map((c) => c.payload as { requestId: number; seqNo: number; tbc: boolean; generatedAt: string; reportData: unknown[] });
    expect(reports.map((r) => r.seqNo)).toEqual([...Array(pages).keys()]);
    expect(reports.map((r) => r.tbc)).toEqual([...Array(pages).keys()].map((i) => i < pages - 1));
    expect(reports.every((r) => r.requestId === 42 && r.generatedAt === new Date(T0).toISOString())).toBe(true);
    expect(reports.reduce((n, r) => n + r.reportData.length, 0)).toBe(total);

    expect(await csms.current.peer.call('GetBaseReport', { requestId: 43, reportBase: 'SummaryInventory' })).toEqual({ status: 'Accepted' });
    await csms.until(() => csms.callsOf('NotifyReport').some((c) => c.payload.requestId === 43), 'summary report');
  });

  it('answers GetReport for the components and variables asked for', async () => {
    const { csms, station, last } = await setup();
    station.start();
    await csms.until(() => last() === true, 'boot');
    const peer = csms.current.peer;
    expect(
      await peer.call('GetReport', {
        requestId: 9,
        componentVariable: [{ component: { name: 'SmartChargingCtrlr' }, variable: { name: 'LimitChangeSignificance' } }, { component: { name: 'DeviceDataCtrlr' } }],
      }),
    ).toEqual({ status: 'Accepted' });
    await csms.until(() => csms.callsOf('NotifyReport').some((c) => c.payload.requestId === 9), 'custom report');
    const data = csms.callsOf('NotifyReport').filter((c) => c.payload.requestId === 9).flatMap((c) => c.payload.reportData as Array<{ component: { name: string }; variable: { name: string } }>);
    expect(data.filter((d) => d.component.name === 'SmartChargingCtrlr').map((d) => d.variable.name)).toEqual(['LimitChangeSignificance']);
    expect(data.filter((d) => d.component.name === 'DeviceDataCtrlr').length).toBeGreaterThan(5);
    expect(await peer.call('GetReport', { requestId: 10, componentVariable: [{ component: { name: 'EVSE', evse: { id: 1 } } }] })).toEqual({ status: 'EmptyResultSet' });
    expect(await peer.call('GetReport', { requestId: 11, componentCriteria: ['Problem'] })).toEqual({ status: 'EmptyResultSet' });
  });
});

describe('controller identity: credentials', () => {
  it('reconnects with a BasicAuthPassword the CSMS sets, without booting again', async () => {
    const { csms, station, last } = await setup({ password: 'the-first-password' });
    station.start();
    await csms.until(() => last() === true, 'boot');
    const res = await csms.current.peer.call('SetVariables', {
      setVariableData: [{ component: { name: 'SecurityCtrlr' }, variable: { name: 'BasicAuthPassword' }, attributeValue: 'the-second-password' }],
    });
    expect(res).toMatchObject({ setVariableResult: [{ attributeStatus: 'Accepted' }] });
    await csms.until(() => csms.connections.length === 2 && last() === true, 'reconnect with the new password');
    expect(csms.current.authorization).toBe(`Basic ${Buffer.from('LC-1:the-second-password').toString('base64')}`);
    expect(csms.callsOf('BootNotification')).toHaveLength(1);
    const get = await csms.current.peer.call('GetVariables', { getVariableData: [{ component: { name: 'SecurityCtrlr' }, variable: { name: 'BasicAuthPassword' } }] });
    expect(get).toMatchObject({ getVariableResult: [{ attributeStatus: 'Rejected' }] });
  });
});

describe('reconnect backoff (Part 4 §5.3)', () => {
  it('doubles WaitMinimum per attempt up to RepeatTimes, then holds, plus the random part', () => {
    expect([0, 1, 2, 5, 6, 20].map((a) => backoffDelayMs(a, 3, 10, 5, 0))).toEqual([3000, 6000, 12000, 96000, 96000, 96000]);
    expect(backoffDelayMs(0, 3, 10, 5, 0.5)).toBe(8000);
    expect(backoffDelayMs(0, 0, 0, 5, 0)).toBe(200);
  });
});
