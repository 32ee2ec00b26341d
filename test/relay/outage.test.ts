// CSMS outages (errata §4.13 option B): the station stays connected and is answered locally; transaction-related
// messages are queued durably and replayed in order, with their original ids, when the CSMS is back.
import { afterEach, describe, expect, it } from 'vitest';
import { connectStation, NOW, startCsms, startRelay, until, type TestCsms, type TestRelay } from './helpers.js';
import type { OcppPeer } from '../../src/ocpp/peer.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const tag1 = { idToken: 'TAG1', type: 'ISO14443' };
const tag2 = { idToken: 'TAG2', type: 'ISO14443' };
const tx = (seqNo: number, eventType: string, extra: Record<string, unknown> = {}) => ({
  eventType, timestamp: NOW, triggerReason: eventType === 'Ended' ? 'EVDeparted' : 'MeterValuePeriodic', seqNo,
  transactionInfo: { transactionId: 'T1' }, ...extra,
});

function csmsHandlers(peer: OcppPeer): void {
  peer.handle('BootNotification', () => ({ currentTime: NOW, interval: 300, status: 'Accepted' }));
  peer.handle('Authorize', (p) => ({ idTokenInfo: { status: (p.idToken as { idToken: string }).idToken === 'TAG1' ? 'Accepted' : 'Invalid' } }));
  peer.handle('TransactionEvent', () => ({}));
  peer.handle('MeterValues', () => ({}));
  peer.handle('StatusNotification', () => ({}));
}

async function setup(overrides: Record<string, unknown> = {}): Promise<{ csms: TestCsms; r: TestRelay }> {
  const csms = await startCsms();
  csms.setup = csmsHandlers;
  const r = await startRelay(csms.url, overrides);
  cleanups.push(() => r.stop());
  return { csms, r };
}

describe('store-and-forward', () => {
  it('answers locally during an outage and replays transaction messages in order with their original ids', async () => {
    const { csms, r } = await setup();
    const st = await connectStation(r.port, 'CP01');
    cleanups.push(() => st.ws.terminate());
    await csms.connected('CP01');
    await st.peer.call('BootNotification', { reason: 'PowerUp', chargingStation: { model: 'M', vendorName: 'V' } });
    expect(await st.peer.call('Authorize', { idToken: tag1 })).toEqual({ idTokenInfo: { status: 'Accepted' } });
    await st.peer.call('TransactionEvent', tx(0, 'Started', { idToken: tag1 }));
    const port = csms.port;
    await csms.close();
    await until(() => !r.relay.upstreamConnected('CP01'));

    // Still connected, answered for the CSMS.
    expect(r.relay.connectedStations()).toEqual(['CP01']);
    expect(await st.peer.call('Heartbeat', {})).toHaveProperty('currentTime');
    expect(await st.peer.call('BootNotification', { reason: 'PowerUp', chargingStation: { model: 'M', vendorName: 'V' } })).toMatchObject({ status: 'Accepted', interval: 300 });
    expect(await st.peer.call('StatusNotification', { timestamp: NOW, connectorStatus: 'Occupied', evseId: 1, connectorId: 1 })).toEqual({});
    expect(await st.peer.call('Authorize', { idToken: tag1 })).toEqual({ idTokenInfo: { status: 'Accepted' } });
    expect(await st.peer.call('Authorize', { idToken: tag2 })).toEqual({ idTokenInfo: { status: 'Unknown' } });
    for (let i = 1; i <= 20; i++) expect(await st.peer.call('TransactionEvent', tx(i, 'Updated'))).toEqual({});
    await st.peer.call('MeterValues', { evseId: 1, meterValue: [{ timestamp: NOW, sampledValue: [{ value: 1 }] }] });
    expect(await st.peer.call('TransactionEvent', tx(21, 'Ended', { idToken: tag1 }))).toEqual({ idTokenInfo: { status: 'Accepted' } });
    // 20 + 2 transaction events, MeterValues, and the connector's status (the CSMS must learn it, B04).
    expect(r.relay.queueLengths()).toEqual({ CP01: 23 });
    r.relay.journal!.flush();
    const queuedIds = r.relay.journal!.query({ stationId: 'CP01', direction: 'station->controller', limit: 1000 })
      .filter((x) => x.note?.startsWith('queued')).map((x) => x.messageId).reverse();
    expect(queuedIds).toHaveLength(23);

    // The CSMS comes back on the same address: replay in order, one at a time, then live forwarding.
    const back = await startCsms({ port });
    cleanups.push(() => back.close());
    back.setup = csmsHandlers;
    await back.connected('CP01');
    await until(() => Object.keys(r.relay.queueLengths()).length === 0);
    const live = await st.peer.call('TransactionEvent', { ...tx(0, 'Started', { idToken: tag1 }), transactionInfo: { transactionId: 'T2' } });
    expect(live).toEqual({});
    const got = back.received.get('CP01')!.map((t) => JSON.parse(t) as [number, string, string, Record<string, unknown>]);
    // The boot the station sent during the outage goes first (it would have, connected directly), then the queue.
    expect(got[0][2]).toBe('BootNotification');
    expect(got.slice(1, 24).map((f) => f[1])).toEqual(queuedIds);
    const txs = got.filter((f) => f[2] === 'TransactionEvent');
    expect(txs.map((f) => f[3].seqNo)).toEqual([...Array.from({ length: 21 }, (_, i) => i + 1), 0]);
    expect(txs.at(-1)![3].transactionInfo).toEqual({ transactionId: 'T2' });
    // Non-transaction messages answered locally were not replayed.
    expect(got.some((f) => f[2] === 'Heartbeat' || f[2] === 'Authorize')).toBe(false);
    expect(r.relay.metrics().replayed).toBe(23);
  });

  it('does not acknowledge when the queue is full (the station keeps the message)', async () => {
    const { csms, r } = await setup({ upstream: { offline: { queueLimitPerStation: 3 } } });
    const st = await connectStation(r.port, 'CP01');
    cleanups.push(() => st.ws.terminate());
    await csms.connected('CP01');
    await csms.close();
    await until(() => !r.relay.upstreamConnected('CP01'));
    for (let i = 1; i <= 3; i++) await st.peer.call('TransactionEvent', tx(i, 'Updated'));
    await expect(st.peer.call('TransactionEvent', tx(4, 'Updated'))).rejects.toMatchObject({ code: 'GenericError' });
    expect(r.relay.queueLengths()).toEqual({ CP01: 3 });
  });

  it('serves a station locally when the CSMS is unreachable at connect time, then forwards once it is up', async () => {
    const csms = await startCsms();
    const port = csms.port;
    await csms.close();
    const r = await startRelay(`ws://127.0.0.1:${port}/csms`);
    cleanups.push(() => r.stop());
    const st = await connectStation(r.port, 'CP09');
    cleanups.push(() => st.ws.terminate());
    expect(await st.peer.call('BootNotification', { reason: 'PowerUp', chargingStation: { model: 'M', vendorName: 'V' } })).toMatchObject({ status: 'Accepted' });
    await st.peer.call('TransactionEvent', tx(0, 'Started'));
    const back = await startCsms({ port });
    cleanups.push(() => back.close());
    back.setup = csmsHandlers;
    await back.connected('CP09');
    await until(() => (back.received.get('CP09') ?? []).length === 2);
    expect(back.received.get('CP09')!.map((t) => JSON.parse(t)[2])).toEqual(['BootNotification', 'TransactionEvent']);
  });
});
