// Replay after an outage against a CSMS as rude as real ones: it refuses a replayed message with
// "Call already in progress" (E13.FR.02/03: the controller retries, since the station was answered long ago), and
// what the station reported during the outage besides transactions (status, security events) reaches it too.
import { afterEach, describe, expect, it } from 'vitest';
import { OcppCallError } from '../../src/relay/events.js';
import type { OcppPeer } from '../../src/ocpp/peer.js';
import { connectStation, NOW, startCsms, startRelay, until, type TestCsms, type TestRelay, type TestStation } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const tx = (seqNo: number, eventType = 'Updated') => ({
  eventType, timestamp: NOW, triggerReason: eventType === 'Ended' ? 'EVDeparted' : 'MeterValuePeriodic', seqNo,
  transactionInfo: { transactionId: 'T1' },
});
const status = (connectorId: number, connectorStatus: string) => ({ timestamp: NOW, connectorStatus, evseId: 1, connectorId });
const security = (type: string) => ({ type, timestamp: NOW });

/** What a CSMS stores: the payloads it answered with a CALLRESULT, per action, in order. */
interface Stored { [action: string]: Record<string, unknown>[] }

/** A CSMS that refuses the first attempt at the listed seqNos (and every attempt at `always`). */
function rudeCsms(stored: Stored, refuseFirst: Set<number>, always = new Set<number>()): (peer: OcppPeer) => void {
  const refusedOnce = new Set<number>();
  const keep = (action: string) => (p: Record<string, unknown>) => {
    (stored[action] ??= []).push(p);
    return {};
  };
  return (peer) => {
    peer.handle('BootNotification', () => ({ currentTime: NOW, interval: 300, status: 'Accepted' }));
    peer.handle('TransactionEvent', (p) => {
      const seqNo = p.seqNo as number;
      if (always.has(seqNo) || (refuseFirst.has(seqNo) && !refusedOnce.has(seqNo))) {
        refusedOnce.add(seqNo);
        throw new OcppCallError('RpcFrameworkError', 'Call already in progress');
      }
      return keep('TransactionEvent')(p);
    });
    for (const a of ['StatusNotification', 'SecurityEventNotification', 'NotifyEvent', 'MeterValues']) peer.handle(a, keep(a));
  };
}

async function outage(overrides: Record<string, unknown> = {}): Promise<{ csms: TestCsms; r: TestRelay; st: TestStation; port: number }> {
  const csms = await startCsms();
  csms.setup = rudeCsms({}, new Set());
  const r = await startRelay(csms.url, { upstream: { offline: { messageAttempts: 3, messageAttemptIntervalS: 0.05 } }, ...overrides });
  cleanups.push(() => r.stop());
  const st = await connectStation(r.port, 'CP01');
  cleanups.push(() => st.ws.terminate());
  await csms.connected('CP01');
  const port = csms.port;
  await csms.close();
  await until(() => !r.relay.upstreamConnected('CP01'));
  return { csms, r, st, port };
}

async function csmsBack(port: number, setup: (peer: OcppPeer) => void): Promise<TestCsms> {
  const back = await startCsms({ port });
  cleanups.push(() => back.close());
  back.setup = setup;
  return back;
}

describe('replay against a busy CSMS', () => {
  it('"Call already in progress" on the first attempt: retried, and the CSMS ends with every seqNo exactly once, in order', async () => {
    const { r, st, port } = await outage();
    for (let i = 0; i <= 9; i++) expect(await st.peer.call('TransactionEvent', tx(i, i === 0 ? 'Started' : i === 9 ? 'Ended' : 'Updated'))).toEqual({});
    expect(r.relay.queueLengths()).toEqual({ CP01: 10 });

    const stored: Stored = {};
    const back = await csmsBack(port, rudeCsms(stored, new Set([2, 5, 6, 9])));
    await back.connected('CP01');
    await until(() => Object.keys(r.relay.queueLengths()).length === 0, 15_000);
    expect(stored.TransactionEvent.map((p) => p.seqNo)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Refused attempts were separate CALLs (the CSMS answered their ids); nothing was set aside.
    const sent = back.received.get('CP01')!.map((t) => JSON.parse(t) as [number, string, string, Record<string, unknown>]);
    expect(sent.filter((f) => f[2] === 'TransactionEvent')).toHaveLength(14);
    expect(new Set(sent.map((f) => f[1])).size).toBe(sent.length);
    expect(r.relay.metrics().forwardFailed).toBe(0);
    expect(r.relay.refusedMessages()).toEqual([]);
  });

  it('a message refused on every attempt is kept aside, counted and listed — never silently consumed — and the queue goes on', async () => {
    const { r, st, port } = await outage();
    for (let i = 0; i <= 4; i++) await st.peer.call('TransactionEvent', tx(i));
    const stored: Stored = {};
    const back = await csmsBack(port, rudeCsms(stored, new Set(), new Set([2])));
    await back.connected('CP01');
    await until(() => Object.keys(r.relay.queueLengths()).length === 0, 15_000);
    expect(stored.TransactionEvent.map((p) => p.seqNo)).toEqual([0, 1, 3, 4]);
    const attempts = back.received.get('CP01')!.map((t) => JSON.parse(t) as [number, string, string, Record<string, unknown>])
      .filter((f) => f[2] === 'TransactionEvent' && f[3].seqNo === 2);
    expect(attempts).toHaveLength(3); // upstream.offline.messageAttempts
    expect(r.relay.metrics().forwardFailed).toBe(1);
    expect(r.relay.refusedMessages()).toMatchObject([{ stationId: 'CP01', action: 'TransactionEvent', error: 'RpcFrameworkError: Call already in progress' }]);
    // Still in the database: the operator (or a later tool) has the frame.
    const row = r.db.prepare('SELECT frame FROM forward_queue WHERE failed_at IS NOT NULL').get() as { frame: string };
    expect(JSON.parse(row.frame)[3].seqNo).toBe(2);
  });
});

describe('what else the station reported during the outage', () => {
  it('the CSMS gets the latest status of every connector that changed and every security event, in order', async () => {
    const { r, st, port } = await outage();
    await st.peer.call('StatusNotification', status(1, 'Occupied'));
    await st.peer.call('SecurityEventNotification', security('FirmwareUpdated'));
    await st.peer.call('TransactionEvent', tx(0, 'Started'));
    await st.peer.call('StatusNotification', status(2, 'Faulted'));
    await st.peer.call('NotifyEvent', { generatedAt: NOW, seqNo: 0, eventData: [{ eventId: 1, timestamp: NOW, trigger: 'Delta', actualValue: 'Faulted', eventNotificationType: 'HardWiredNotification', component: { name: 'Connector' }, variable: { name: 'AvailabilityState' } }] });
    await st.peer.call('SecurityEventNotification', security('TamperDetectionActivated'));
    await st.peer.call('StatusNotification', status(1, 'Available'));
    expect(r.relay.queueLengths()).toEqual({ CP01: 6 });

    const stored: Stored = {};
    const back = await csmsBack(port, rudeCsms(stored, new Set()));
    await back.connected('CP01');
    await until(() => Object.keys(r.relay.queueLengths()).length === 0, 15_000);
    expect(stored.StatusNotification.map((p) => [p.connectorId, p.connectorStatus])).toEqual([[2, 'Faulted'], [1, 'Available']]);
    expect(stored.SecurityEventNotification.map((p) => p.type)).toEqual(['FirmwareUpdated', 'TamperDetectionActivated']);
    expect(stored.NotifyEvent).toHaveLength(1);
    const order = back.received.get('CP01')!.map((t) => (JSON.parse(t) as [number, string, string])[2]);
    expect(order).toEqual(['SecurityEventNotification', 'TransactionEvent', 'StatusNotification', 'NotifyEvent', 'SecurityEventNotification', 'StatusNotification']);
  });
});
