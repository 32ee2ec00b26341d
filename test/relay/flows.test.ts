// Every kind of OCPP flow through the relay, with a real station client and a real test CSMS: each side receives
// exactly what the other sent.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectStation, NOW, startCsms, startRelay, until, type TestCsms, type TestRelay, type TestStation } from './helpers.js';
import type { OcppCallEvent, OcppResultEvent, ConnectionEvent } from '../../src/relay/events.js';

let csms: TestCsms;
let r: TestRelay;
const stations: TestStation[] = [];

beforeEach(async () => {
  csms = await startCsms();
  r = await startRelay(csms.url);
});

afterEach(async () => {
  for (const s of stations.splice(0)) s.ws.terminate();
  await r.stop();
  await csms.close();
});

async function station(id: string): Promise<TestStation> {
  const s = await connectStation(r.port, id);
  stations.push(s);
  await csms.connected(id);
  return s;
}

const boot = { reason: 'PowerUp', chargingStation: { model: 'M1', vendorName: 'V' } };
const idToken = { idToken: 'TAG1', type: 'ISO14443' };

describe('relay flows', () => {
  it('relays station-initiated flows unchanged and publishes session events', async () => {
    const calls: OcppCallEvent[] = [];
    const results: OcppResultEvent[] = [];
    const conns: ConnectionEvent[] = [];
    r.relay.calls$.subscribe((c) => calls.push(c));
    r.relay.results$.subscribe((e) => results.push(e));
    r.relay.connections$.subscribe((e) => conns.push(e));
    csms.setup = (peer) => {
      peer.handle('BootNotification', () => ({ currentTime: NOW, interval: 300, status: 'Accepted' }));
      peer.handle('Heartbeat', () => ({ currentTime: NOW }));
      peer.handle('StatusNotification', () => ({}));
      peer.handle('Authorize', () => ({ idTokenInfo: { status: 'Accepted' } }));
      peer.handle('TransactionEvent', () => ({ idTokenInfo: { status: 'Accepted' } }));
      peer.handle('MeterValues', () => ({}));
      peer.handle('NotifyEVChargingNeeds', () => ({ status: 'Accepted' }));
    };
    const st = await station('CP01');
    const sent: [string, Record<string, unknown>][] = [
      ['BootNotification', boot],
      ['Heartbeat', {}],
      ['StatusNotification', { timestamp: NOW, connectorStatus: 'Occupied', evseId: 1, connectorId: 1 }],
      ['Authorize', { idToken }],
      ['TransactionEvent', { eventType: 'Started', timestamp: NOW, triggerReason: 'Authorized', seqNo: 0, transactionInfo: { transactionId: 'T1' }, evse: { id: 1, connectorId: 1 }, idToken }],
      ['MeterValues', { evseId: 1, meterValue: [{ timestamp: NOW, sampledValue: [{ value: 7200, measurand: 'Power.Active.Import' }] }] }],
      ['NotifyEVChargingNeeds', { evseId: 1, chargingNeeds: { requestedEnergyTransfer: 'AC_three_phase', acChargingParameters: { energyAmount: 20000, evMinCurrent: 6, evMaxCurrent: 32, evMaxVoltage: 400 } } }],
      ['TransactionEvent', { eventType: 'Updated', timestamp: NOW, triggerReason: 'MeterValuePeriodic', seqNo: 1, transactionInfo: { transactionId: 'T1', chargingState: 'Charging' } }],
      ['TransactionEvent', { eventType: 'Ended', timestamp: NOW, triggerReason: 'EVDeparted', seqNo: 2, transactionInfo: { transactionId: 'T1', stoppedReason: 'EVDisconnected' } }],
    ];
    for (const [action, payload] of sent) await st.peer.call(action, payload);
    // The CSMS received exactly the frames the station sent, in order.
    const stationSent = csms.received.get('CP01')!.map((t) => JSON.parse(t) as unknown[]);
    expect(stationSent.map((f) => [f[2], f[3]])).toEqual(sent);
    // The station received exactly the CSMS's replies, byte for byte.
    expect(st.received).toHaveLength(sent.length);
    expect(st.received[0]).toBe(`[3,${JSON.stringify(stationSent[0][1])},${JSON.stringify({ currentTime: NOW, interval: 300, status: 'Accepted' })}]`);
    await until(() => results.length === sent.length);
    expect(calls.map((c) => c.action)).toEqual(sent.map((s) => s[0]));
    expect(calls.every((c) => c.origin === 'station' && c.stationId === 'CP01')).toBe(true);
    const tx = results.filter((e) => e.action === 'TransactionEvent');
    expect(tx.map((e) => e.request.eventType)).toEqual(['Started', 'Updated', 'Ended']);
    expect(tx[0].result).toEqual({ idTokenInfo: { status: 'Accepted' } });
    expect(conns.filter((c) => c.up).map((c) => c.side).sort()).toEqual(['station', 'upstream']);
    // The journal saw every frame.
    r.relay.journal!.flush();
    const rows = r.relay.journal!.query({ stationId: 'CP01', limit: 100 });
    expect(rows.filter((x) => x.direction === 'station->csms')).toHaveLength(sent.length);
    expect(rows.filter((x) => x.direction === 'csms->station')).toHaveLength(sent.length);
    expect(r.relay.journal!.query({ stationId: 'CP01', action: 'TransactionEvent', direction: 'station->csms' })).toHaveLength(3);
  });

  it('relays CSMS-initiated calls and the station replies unchanged', async () => {
    const st = await station('CP02');
    st.peer.handle('GetVariables', (p) => ({ getVariableResult: (p.getVariableData as { component: unknown; variable: unknown }[]).map((d) => ({ attributeStatus: 'Accepted', attributeValue: '42', ...d })) }));
    st.peer.handle('SetVariables', (p) => ({ setVariableResult: (p.setVariableData as { component: unknown; variable: unknown }[]).map((d) => ({ attributeStatus: 'Accepted', component: d.component, variable: d.variable })) }));
    st.peer.handle('RequestStartTransaction', () => ({ status: 'Accepted' }));
    st.peer.handle('RequestStopTransaction', () => ({ status: 'Accepted' }));
    st.peer.handle('SetChargingProfile', () => ({ status: 'Accepted' }));
    st.peer.handle('Reset', () => ({ status: 'Scheduled' }));
    st.peer.handle('DataTransfer', (p) => ({ status: 'Accepted', data: p.data }));
    const peer = await csms.connected('CP02');
    const profile = { id: 1, stackLevel: 0, chargingProfilePurpose: 'TxDefaultProfile', chargingProfileKind: 'Absolute', chargingSchedule: [{ id: 1, startSchedule: NOW, chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 16 }] }] };
    const component = { name: 'OCPPCommCtrlr' };
    const variable = { name: 'HeartbeatInterval' };
    expect(await peer.call('GetVariables', { getVariableData: [{ component, variable }] })).toEqual({ getVariableResult: [{ attributeStatus: 'Accepted', attributeValue: '42', component, variable }] });
    expect(await peer.call('SetVariables', { setVariableData: [{ attributeValue: '60', component, variable }] })).toEqual({ setVariableResult: [{ attributeStatus: 'Accepted', component, variable }] });
    expect(await peer.call('RequestStartTransaction', { idToken, remoteStartId: 7, evseId: 1 })).toEqual({ status: 'Accepted' });
    expect(await peer.call('RequestStopTransaction', { transactionId: 'T1' })).toEqual({ status: 'Accepted' });
    expect(await peer.call('SetChargingProfile', { evseId: 0, chargingProfile: profile })).toEqual({ status: 'Accepted' });
    expect(await peer.call('Reset', { type: 'OnIdle' })).toEqual({ status: 'Scheduled' });
    expect(await peer.call('DataTransfer', { vendorId: 'acme', data: 'x' })).toEqual({ status: 'Accepted', data: 'x' });
    // What the station received is what the CSMS sent, frame for frame.
    expect(st.received.map((t) => (JSON.parse(t) as unknown[])[2])).toEqual(['GetVariables', 'SetVariables', 'RequestStartTransaction', 'RequestStopTransaction', 'SetChargingProfile', 'Reset', 'DataTransfer']);
    expect(JSON.parse(st.received[4])[3]).toEqual({ evseId: 0, chargingProfile: profile });
  });

  it('consumes the reply to an injected call locally and never forwards it', async () => {
    const st = await station('CP03');
    st.peer.handle('SetChargingProfile', () => ({ status: 'Accepted' }));
    const profile = { id: 9, stackLevel: 1, chargingProfilePurpose: 'TxProfile', chargingProfileKind: 'Relative', transactionId: 'T9', chargingSchedule: [{ id: 1, chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 10 }] }] };
    expect(await r.relay.call('CP03', 'SetChargingProfile', { evseId: 1, chargingProfile: profile })).toEqual({ status: 'Accepted' });
    const id = (JSON.parse(st.received[0]) as unknown[])[1] as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await new Promise((res) => setTimeout(res, 100));
    expect(csms.received.get('CP03') ?? []).toEqual([]);
    expect(r.relay.connectedStations()).toEqual(['CP03']);
    // A CALLERROR from the station rejects with OcppCallError; an unknown station rejects at once.
    st.peer.handle('ClearChargingProfile', () => { throw new Error('x'); });
    await expect(r.relay.call('CP03', 'ClearChargingProfile', { chargingProfileId: 9 })).rejects.toMatchObject({ name: 'OcppCallError', code: 'InternalError' });
    await expect(r.relay.call('nope', 'Reset', { type: 'OnIdle' })).rejects.toThrow(/not connected/);
    await expect(r.relay.call('CP03', 'Reset', { type: 'Soon' })).rejects.toMatchObject({ code: 'PropertyConstraintViolation' });
  });

  it('queues calls toward a station: one outstanding, CSMS calls first', async () => {
    const st = await station('CP04');
    const order: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const release: (() => void)[] = [];
    const slow = (name: string) => async () => {
      order.push(name);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise<void>((res) => release.push(res));
      inFlight--;
      return { status: 'Accepted' };
    };
    st.peer.handle('DataTransfer', async (p) => slow(String(p.messageId))());
    const peer = await csms.connected('CP04');
    // An own call goes first (nothing in flight); then a CSMS call and another own call arrive while it is in flight.
    const own1 = r.relay.call('CP04', 'DataTransfer', { vendorId: 'lc', messageId: 'own1' });
    await until(() => order.length === 1);
    const own2 = r.relay.call('CP04', 'DataTransfer', { vendorId: 'lc', messageId: 'own2' });
    const csms1 = peer.call('DataTransfer', { vendorId: 'csms', messageId: 'csms1' });
    await new Promise((res) => setTimeout(res, 50));
    expect(order).toEqual(['own1']);
    const pump = setInterval(() => release.shift()?.(), 20);
    await Promise.all([own1, own2, csms1]);
    clearInterval(pump);
    expect(order).toEqual(['own1', 'csms1', 'own2']);
    expect(maxInFlight).toBe(1);
    // Only the CSMS's call's reply reached the CSMS.
    const toCsms = csms.received.get('CP04')!.map((t) => JSON.parse(t) as unknown[]);
    expect(toCsms).toHaveLength(1);
    expect(toCsms[0][0]).toBe(3);
  });

  it('closes the upstream socket when the station disconnects', async () => {
    const st = await station('CP05');
    const csmsSide = csms.sockets.get('CP05')!;
    const closed = new Promise<number>((res) => csmsSide.once('close', (c) => res(c)));
    st.ws.close();
    expect(await closed).toBe(1000);
    await until(() => r.relay.connectedStations().length === 0);
  });

  it('uses the same identity path upstream, percent-encoded, with permessage-deflate', async () => {
    // Every character the identity rule allows beyond letters and digits (spaces, '/', unicode are refused).
    await station('CP*06|a=b+c@d.e_f-g');
    const req = csms.requests.at(-1)!;
    expect(req.url).toBe(`/csms/${encodeURIComponent('CP*06|a=b+c@d.e_f-g')}`);
    expect(req.headers['sec-websocket-protocol']).toBe('ocpp2.0.1');
    expect(String(req.headers['sec-websocket-extensions'])).toContain('permessage-deflate');
    expect(csms.sockets.get('CP*06|a=b+c@d.e_f-g')!.extensions).toContain('permessage-deflate');
  });
});

describe('keep-alive', () => {
  it('pings stations at the configured interval', async () => {
    const c = await startCsms();
    const rr = await startRelay(c.url, { stations: { pingIntervalS: 0.05 } });
    try {
      const st = await connectStation(rr.port, 'CP01');
      let pings = 0;
      st.ws.on('ping', () => pings++);
      await until(() => pings >= 2);
      // ws answers pings itself, so the station stays connected.
      expect(rr.relay.connectedStations()).toEqual(['CP01']);
      st.ws.terminate();
    } finally {
      await rr.stop();
      await c.close();
    }
  });
});
