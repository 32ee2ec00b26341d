// A station that boots while the CSMS is unreachable is answered locally (Accepted); when the CSMS is back, that
// BootNotification reaches it first, before the queued transaction messages, as the station would have sent it had it
// been connected directly — the CSMS cannot tell the controller is in between.
import { afterEach, describe, expect, it } from 'vitest';
import { connectStation, NOW, startCsms, startRelay, until, type TestCsms, type TestRelay } from './helpers.js';
import type { OcppPeer } from '../../src/ocpp/peer.js';
import type { OcppResultEvent } from '../../src/relay/events.js';
import { openDatabase } from '../../src/store/db.js';
import { ForwardQueue } from '../../src/store/queue.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const boot = (serialNumber: string) => ({ reason: 'PowerUp', chargingStation: { model: 'M', vendorName: 'V', serialNumber } });
const tx = (seqNo: number) => ({
  eventType: 'Updated', timestamp: NOW, triggerReason: 'MeterValuePeriodic', seqNo, transactionInfo: { transactionId: 'T1' },
});
type Call = [number, string, string, Record<string, unknown>];

async function outage(): Promise<{ csms: TestCsms; r: TestRelay; port: number; st: Awaited<ReturnType<typeof connectStation>>; sets: Record<string, unknown>[] }> {
  const csms = await startCsms();
  csms.setup = (peer: OcppPeer) => peer.handle('BootNotification', () => ({ currentTime: NOW, interval: 300, status: 'Accepted' }));
  const r = await startRelay(csms.url);
  cleanups.push(() => r.stop());
  const st = await connectStation(r.port, 'CP01');
  cleanups.push(() => st.ws.terminate());
  const sets: Record<string, unknown>[] = [];
  st.peer.handle('SetVariables', (p) => {
    sets.push(p);
    return { setVariableResult: [{ attributeStatus: 'Accepted', component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } }] };
  });
  await csms.connected('CP01');
  const port = csms.port;
  await csms.close();
  await until(() => !r.relay.upstreamConnected('CP01'));
  return { csms, r, port, st, sets };
}

function received(csms: TestCsms): Call[] {
  return (csms.received.get('CP01') ?? []).map((t) => JSON.parse(t) as Call);
}

describe('BootNotification during an outage', () => {
  it('forwards the latest locally answered boot first, then the queue, and gives the station the CSMS heartbeat interval', async () => {
    const { r, port, st, sets } = await outage();
    const bootResults: OcppResultEvent[] = [];
    r.relay.results$.subscribe((e) => { if (e.action === 'BootNotification') bootResults.push(e); });
    // The station reboots twice during the outage, then goes on charging.
    expect(await st.peer.call('BootNotification', boot('first'))).toMatchObject({ status: 'Accepted', interval: 300 });
    expect(await st.peer.call('BootNotification', boot('second'))).toMatchObject({ status: 'Accepted' });
    for (let s = 1; s <= 3; s++) await st.peer.call('TransactionEvent', tx(s));
    r.relay.journal!.flush();
    const bootId = r.relay.journal!.query({ stationId: 'CP01', action: 'BootNotification', direction: 'station->controller' })[0].messageId;

    const back = await startCsms({ port });
    cleanups.push(() => back.close());
    back.setup = (peer) => {
      peer.handle('BootNotification', () => ({ currentTime: NOW, interval: 60, status: 'Accepted' }));
      peer.handle('TransactionEvent', () => ({}));
    };
    await until(() => received(back).filter((f) => f[2] === 'TransactionEvent').length === 3);
    const got = received(back);
    expect(got.map((f) => f[2])).toEqual(['BootNotification', 'TransactionEvent', 'TransactionEvent', 'TransactionEvent']);
    // Only the latest boot, exactly as the station sent it (its own message id: the CSMS never saw it).
    expect(got[0][1]).toBe(bootId);
    expect(got[0][3]).toEqual(boot('second'));
    expect(got.slice(1).map((f) => f[3].seqNo)).toEqual([1, 2, 3]);
    // The station was told 300 s offline; the CSMS wants 60 s.
    await until(() => sets.length === 1);
    expect(sets[0]).toEqual({ setVariableData: [{ component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' }, attributeValue: '60' }] });
    // results$ told of each boot once, when it was answered locally; the CSMS's later answer is not a new boot (the
    // control loop would otherwise think the station restarted again).
    expect(bootResults.map((e) => e.answeredLocally)).toEqual([true, true]);
    // Once accepted it is not sent again on the next reconnect.
    const before = received(back).length;
    back.sockets.get('CP01')!.close();
    await until(() => r.relay.upstreamConnected('CP01') && received(back).length === before, 5000);
    await new Promise((res) => setTimeout(res, 300));
    expect(received(back).filter((f) => f[2] === 'BootNotification')).toHaveLength(1);
  });

  it('holds the queue while the CSMS answers Pending, boots again after its interval, then replays', async () => {
    const { port, st } = await outage();
    await st.peer.call('BootNotification', boot('x'));
    await st.peer.call('TransactionEvent', tx(1));
    const back = await startCsms({ port });
    cleanups.push(() => back.close());
    let boots = 0;
    back.setup = (peer) => {
      peer.handle('BootNotification', () => ({ currentTime: NOW, interval: 1, status: ++boots === 1 ? 'Pending' : 'Accepted' }));
      peer.handle('TransactionEvent', () => ({}));
    };
    await back.connected('CP01');
    await new Promise((res) => setTimeout(res, 400));
    // Pending: nothing but the boot yet.
    expect(received(back).map((f) => f[2])).toEqual(['BootNotification']);
    await until(() => received(back).some((f) => f[2] === 'TransactionEvent'), 5000);
    const got = received(back);
    expect(got.map((f) => f[2])).toEqual(['BootNotification', 'BootNotification', 'TransactionEvent']);
    // The second boot is a new CALL (new message id); the transaction message keeps its own.
    expect(got[1][1]).not.toBe(got[0][1]);
    expect(got[1][3]).toEqual(got[0][3]);
  });

  it('is not forwarded when the station booted while the CSMS was reachable', async () => {
    const csms = await startCsms();
    csms.setup = (peer: OcppPeer) => {
      peer.handle('BootNotification', () => ({ currentTime: NOW, interval: 300, status: 'Accepted' }));
      peer.handle('TransactionEvent', () => ({}));
    };
    const r = await startRelay(csms.url);
    cleanups.push(() => r.stop());
    const st = await connectStation(r.port, 'CP01');
    cleanups.push(() => st.ws.terminate());
    await csms.connected('CP01');
    await st.peer.call('BootNotification', boot('online'));
    const port = csms.port;
    await csms.close();
    await until(() => !r.relay.upstreamConnected('CP01'));
    await st.peer.call('TransactionEvent', tx(1));
    const back = await startCsms({ port });
    cleanups.push(() => back.close());
    back.setup = (peer) => peer.handle('TransactionEvent', () => ({}));
    await until(() => received(back).length === 1);
    await new Promise((res) => setTimeout(res, 200));
    expect(received(back).map((f) => f[2])).toEqual(['TransactionEvent']);
  });

  it('keeps the pending boot in SQLite (a restart does not lose it) and only the latest per station', () => {
    const dir = mkdtempSync(join(tmpdir(), 'boot-store-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'db.sqlite');
    let db = openDatabase(file);
    let q = new ForwardQueue(db, { perStation: 10, total: 10 });
    q.setBoot('CP01', 'b1', '[2,"b1","BootNotification",{}]', 1);
    q.setBoot('CP01', 'b2', '[2,"b2","BootNotification",{}]', 2);
    db.close();
    db = openDatabase(file);
    q = new ForwardQueue(db, { perStation: 10, total: 10 });
    expect(q.pendingBoot('CP01')).toEqual({ stationId: 'CP01', messageId: 'b2', frame: '[2,"b2","BootNotification",{}]', at: 2 });
    q.clearBoot('CP01', 'b1'); // an older boot's answer does not clear a newer one
    expect(q.pendingBoot('CP01')?.messageId).toBe('b2');
    q.clearBoot('CP01', 'b2');
    expect(q.pendingBoot('CP01')).toBeUndefined();
    db.close();
  });
});
