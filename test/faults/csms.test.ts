// Faults on the CSMS side, through the real relay (real sockets, SQLite file in a temp dir):
// - unreachable at start: stations are accepted and served locally, transaction messages fill the queue, and are
//   replayed in order (same message ids, after the locally answered boot) once the CSMS appears;
// - accepts then stalls (socket open, no answers): after upstream.callTimeoutS the relay drops the upstream socket
//   and answers the station itself, exactly as in an outage (transaction messages queued), then reconnects and
//   replays when the CSMS answers again. The station is never left without an answer.
import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { connectStation, startRelay, until } from '../relay/helpers.js';
import { startCsmsStub } from '../fuzz/csms-stub.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const T0 = '2026-01-01T00:00:00.000Z';
const txEvent = (seqNo: number, eventType: 'Started' | 'Updated') => ({
  eventType, timestamp: T0, triggerReason: eventType === 'Started' ? 'CablePluggedIn' : 'MeterValuePeriodic', seqNo,
  transactionInfo: { transactionId: 'tx-1' }, evse: { id: 1, connectorId: 1 },
  meterValue: [{ timestamp: T0, sampledValue: [{ value: 1000 + seqNo }] }],
});

describe('CSMS faults', () => {
  it('CSMS unreachable at start: served locally, queue fills, replayed in order when the CSMS appears', async () => {
    const port = await freePort();
    const r = await startRelay(`ws://127.0.0.1:${port}/csms`);
    cleanups.push(() => r.stop());
    const s = await connectStation(r.port, 'CP1');
    cleanups.push(() => s.ws.terminate());
    const boot = await s.peer.call('BootNotification', { chargingStation: { model: 'M', vendorName: 'V' }, reason: 'PowerUp' });
    expect(boot).toMatchObject({ status: 'Accepted' });
    expect(await s.peer.call('StatusNotification', { timestamp: T0, connectorStatus: 'Occupied', evseId: 1, connectorId: 1 })).toEqual({});
    for (let i = 0; i < 5; i++) expect(await s.peer.call('TransactionEvent', txEvent(i, i === 0 ? 'Started' : 'Updated'))).toEqual({});
    expect(await s.peer.call('MeterValues', { evseId: 1, meterValue: [{ timestamp: T0, sampledValue: [{ value: 5 }] }] })).toEqual({});
    expect(r.relay.queueLengths().CP1).toBe(7);
    expect(r.relay.upstreamConnected('CP1')).toBe(false);

    const csms = await startCsmsStub(port);
    cleanups.push(() => csms.close());
    await until(() => (r.relay.queueLengths().CP1 ?? 0) === 0, 15_000);
    // The boot answered locally goes first (the CSMS learns the station rebooted), then the queue in order (the
    // connector's status included: B04).
    const got = (csms.received.get('CP1') ?? []).map((t) => JSON.parse(t) as unknown[]);
    expect(got.map((f) => f[2])).toEqual(['BootNotification', 'StatusNotification', 'TransactionEvent', 'TransactionEvent', 'TransactionEvent', 'TransactionEvent', 'TransactionEvent', 'MeterValues']);
    expect(got.slice(2, 7).map((f) => (f[3] as { seqNo: number }).seqNo)).toEqual([0, 1, 2, 3, 4]);
    // After the replay, the station's traffic goes to the CSMS again.
    expect(await s.peer.call('Heartbeat', {})).toEqual({ currentTime: new Date(0).toISOString() });
    expect(csms.received.get('CP1')!.at(-1)).toContain('Heartbeat');
  });

  it('a CSMS that answers everything but one CALL keeps its connection; the unanswered CALL is forgotten', async () => {
    const csms = await startCsmsStub();
    cleanups.push(() => csms.close());
    csms.ignore.add('DataTransfer');
    const r = await startRelay(csms.url, { upstream: { callTimeoutS: 1 } });
    cleanups.push(() => r.stop());
    const s = await connectStation(r.port, 'CP1');
    cleanups.push(() => s.ws.terminate());
    const up = await csms.connected('CP1');
    s.ws.send(JSON.stringify([2, 'ignored-1', 'DataTransfer', { vendorId: 'v' }]));
    // The CSMS keeps talking meanwhile (answers heartbeats) past the call timeout.
    const errorsBefore = r.relay.metrics().errors;
    for (let i = 0; i < 8; i++) {
      expect(await s.peer.call('Heartbeat', {})).toEqual({ currentTime: new Date(0).toISOString() });
      await new Promise((res) => setTimeout(res, 250));
    }
    await until(() => r.relay.metrics().errors > errorsBefore, 5000);
    expect(up.readyState).toBe(WebSocket.OPEN);
    expect(r.relay.upstreamConnected('CP1')).toBe(true);
    expect(s.received.some((t) => t.includes('ignored-1'))).toBe(false);
  });

  it('CSMS accepts then stalls: the station is answered locally after callTimeoutS, and the queue replays when the CSMS answers again', async () => {
    const csms = await startCsmsStub();
    cleanups.push(() => csms.close());
    const r = await startRelay(csms.url, { upstream: { callTimeoutS: 1 } });
    cleanups.push(() => r.stop());
    const s = await connectStation(r.port, 'CP1');
    cleanups.push(() => s.ws.terminate());
    expect(await s.peer.call('Heartbeat', {})).toEqual({ currentTime: new Date(0).toISOString() });
    const firstSocket = await csms.connected('CP1');

    csms.stalled = true;
    const hb = await s.peer.call('Heartbeat', {});
    // Answered by the relay with its own clock (the stub answers with 1970), after the CSMS stayed silent.
    expect(hb.currentTime).not.toBe(new Date(0).toISOString());
    expect(firstSocket.readyState === WebSocket.CLOSING || firstSocket.readyState === WebSocket.CLOSED).toBe(true);
    expect(await s.peer.call('TransactionEvent', txEvent(0, 'Started'))).toEqual({});
    expect(s.ws.readyState).toBe(WebSocket.OPEN);
    await until(() => (r.relay.queueLengths().CP1 ?? 0) >= 1, 10_000);

    csms.stalled = false;
    // A reconnect during the stall may have taken the queue head into another silent socket; once the CSMS answers
    // again the head goes through and the queue drains.
    await until(() => (r.relay.queueLengths().CP1 ?? 0) === 0 && r.relay.upstreamConnected('CP1'), 20_000);
    const tx = (csms.received.get('CP1') ?? []).filter((t) => t.includes('TransactionEvent'));
    expect(tx.length).toBeGreaterThanOrEqual(1);
    expect(new Set(tx.map((t) => (JSON.parse(t) as unknown[])[1])).size).toBe(1);
    expect(await s.peer.call('Heartbeat', {})).toEqual({ currentTime: new Date(0).toISOString() });
  });
});
