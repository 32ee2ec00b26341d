// OCPP 1.6 through a CSMS outage: StartTransaction answered with a local (negative) transaction id, the transaction's
// messages queued and replayed in order, and the CSMS's own id — given in its answer to the replayed StartTransaction
// — put in place of the local id in every message it receives afterwards; CSMS calls naming its id reach the station
// with the station's id; the mapping survives a controller restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { OcppCallEvent, OcppResultEvent } from '../../src/relay/events.js';
import { NOW, startRelay, until } from './helpers.js';
import { callsAt, connectRawStation, startRawCsms, stationCall, type RawCsms, type RawStation } from './raw-peers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A 1.6 central system that numbers transactions from `firstId`. */
function csms16(csms: RawCsms, firstId: number): void {
  let next = firstId;
  csms.answer = (_id, f) => {
    const [, messageId, action, payload] = f as [number, string, string, Record<string, unknown>];
    const reply = (p: unknown): string => JSON.stringify([3, messageId, p]);
    switch (action) {
      case 'BootNotification': return reply({ currentTime: NOW, interval: 300, status: 'Accepted' });
      case 'Heartbeat': return reply({ currentTime: NOW });
      case 'Authorize': return reply({ idTagInfo: { status: payload.idTag === 'TAG1' ? 'Accepted' : 'Invalid' } });
      case 'StartTransaction': return reply({ idTagInfo: { status: 'Accepted' }, transactionId: next++ });
      case 'StopTransaction': return reply({ idTagInfo: { status: 'Accepted' } });
      default: return reply({});
    }
  };
}

const mv = (transactionId: number, wh: number) => ({ connectorId: 1, transactionId, meterValue: [{ timestamp: NOW, sampledValue: [{ value: String(wh), measurand: 'Energy.Active.Import.Register' }] }] });

describe('OCPP 1.6 store-and-forward', () => {
  it('answers StartTransaction with a local id, replays with the CSMS id in its place both ways, and keeps the mapping across a restart', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay16-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    let csms = await startRawCsms();
    csms16(csms, 900);
    const port = Number(new URL(csms.url).port);
    let r = await startRelay(csms.url, {}, dir);
    const results: OcppResultEvent[] = [];
    const calls: OcppCallEvent[] = [];
    r.relay.results$.subscribe((e) => results.push(e));
    r.relay.calls$.subscribe((e) => calls.push(e));
    let st = await connectRawStation(r.port, 'CP16', ['ocpp1.6']);
    cleanups.push(() => st.ws.terminate());
    await csms.connected('CP16');
    expect(await stationCall(st, 'a0', 'Authorize', { idTag: 'TAG1' })).toEqual([3, 'a0', { idTagInfo: { status: 'Accepted' } }]);

    await csms.close();
    await until(() => !r.relay.upstreamConnected('CP16'));
    // Answered for the CSMS: boot, heartbeat, status, authorize from the cache (TAG1) or the policy (TAG2).
    expect((await stationCall(st, 'b1', 'BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' }))[2]).toMatchObject({ status: 'Accepted', interval: 300 });
    expect((await stationCall(st, 'h1', 'Heartbeat', {}))[2]).toHaveProperty('currentTime');
    expect(await stationCall(st, 's1', 'StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing' })).toEqual([3, 's1', {}]);
    expect(await stationCall(st, 'a1', 'Authorize', { idTag: 'TAG1' })).toEqual([3, 'a1', { idTagInfo: { status: 'Accepted' } }]);
    expect(await stationCall(st, 'a2', 'Authorize', { idTag: 'TAG2' })).toEqual([3, 'a2', { idTagInfo: { status: 'Invalid' } }]);
    // Transaction A: started, metered and stopped during the outage.
    const startA = await stationCall(st, 'startA', 'StartTransaction', { connectorId: 1, idTag: 'TAG1', meterStart: 0, timestamp: NOW });
    const localA = (startA[2] as { transactionId: number }).transactionId;
    expect(startA[2]).toEqual({ idTagInfo: { status: 'Accepted' }, transactionId: localA });
    expect(localA).toBeLessThan(0);
    for (let i = 1; i <= 5; i++) expect(await stationCall(st, `mvA${i}`, 'MeterValues', mv(localA, i * 100))).toEqual([3, `mvA${i}`, {}]);
    expect(await stationCall(st, 'stopA', 'StopTransaction', { transactionId: localA, meterStop: 600, timestamp: NOW, idTag: 'TAG1' }))
      .toEqual([3, 'stopA', { idTagInfo: { status: 'Accepted' } }]);
    // Transaction B: started during the outage, still running when the CSMS is back.
    const startB = await stationCall(st, 'startB', 'StartTransaction', { connectorId: 2, idTag: 'TAG1', meterStart: 0, timestamp: NOW });
    const localB = (startB[2] as { transactionId: number }).transactionId;
    expect(localB).toBeLessThan(0);
    expect(localB).not.toBe(localA);
    expect(await stationCall(st, 'mvB1', 'MeterValues', { ...mv(localB, 50), connectorId: 2 })).toEqual([3, 'mvB1', {}]);
    // Meter values outside a transaction are kept too (the forward rules keep every 1.6 MeterValues), with no id to translate.
    expect(await stationCall(st, 'mv0', 'MeterValues', { connectorId: 0, meterValue: mv(0, 1).meterValue })).toEqual([3, 'mv0', {}]);
    // The status (latest per connector), 9 transaction messages and the meter values outside a transaction.
    expect(r.relay.queueLengths()).toEqual({ CP16: 11 });

    // The CSMS is back: the queue goes first, in order, each message with the CSMS's transaction id.
    csms = await startRawCsms('/csms', port);
    cleanups.push(() => csms.close());
    csms16(csms, 900);
    await until(() => Object.keys(r.relay.queueLengths()).length === 0, 20_000);
    const replayed = callsAt(csms, 'CP16');
    expect(replayed.map((f) => f[1])).toEqual(['b1', 's1', 'startA', 'mvA1', 'mvA2', 'mvA3', 'mvA4', 'mvA5', 'stopA', 'startB', 'mvB1', 'mv0']);
    expect(replayed.filter((f) => f[2] === 'MeterValues' || f[2] === 'StopTransaction').map((f) => f[3].transactionId)).toEqual([900, 900, 900, 900, 900, 900, 901, undefined]);
    // Everything but the id is what the station sent.
    expect(replayed[3][3]).toEqual(mv(900, 100));
    expect(replayed[2][3]).toEqual({ connectorId: 1, idTag: 'TAG1', meterStart: 0, timestamp: NOW });

    // Live: the station still names B by its local id; the CSMS hears its own.
    expect(await stationCall(st, 'mvB2', 'MeterValues', { ...mv(localB, 80), connectorId: 2 })).toEqual([3, 'mvB2', {}]);
    expect(callsAt(csms, 'CP16').at(-1)).toEqual([2, 'mvB2', 'MeterValues', { ...mv(901, 80), connectorId: 2 }]);
    // The CSMS names B by its id; the station hears its own.
    st.answer = (f) => JSON.stringify([3, f[1], { status: 'Accepted' }]);
    csms.send('CP16', JSON.stringify([2, 'sp', 'SetChargingProfile', { connectorId: 2, csChargingProfiles: {
      chargingProfileId: 5, transactionId: 901, stackLevel: 0, chargingProfilePurpose: 'TxProfile', chargingProfileKind: 'Relative',
      chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 10.5 }] },
    } }]));
    await until(() => (csms.received.get('CP16') ?? []).some((t) => t.startsWith('[3,"sp"')));
    const sp = st.received.map((t) => JSON.parse(t) as unknown[]).find((f) => f[1] === 'sp')!;
    expect((sp[3] as { csChargingProfiles: { transactionId: number } }).csChargingProfiles.transactionId).toBe(localB);
    // Subscribers know each transaction by the id its station uses: one start each, with the local id, never the
    // CSMS's (its answer on replay is not published as a second start), and the CSMS's profile names the local id.
    const starts = results.filter((e) => e.action === 'StartTransaction');
    expect(starts.map((e) => [e.messageId, e.result?.transactionId, e.answeredLocally])).toEqual([['startA', localA, true], ['startB', localB, true]]);
    expect(calls.find((c) => c.messageId === 'sp')?.payload).toMatchObject({ csChargingProfiles: { transactionId: localB } });
    expect(calls.filter((c) => c.action === 'MeterValues' && c.messageId === 'mvB2').map((c) => c.payload.transactionId)).toEqual([localB]);
    expect(results.every((e) => e.protocol === 'ocpp1.6')).toBe(true);

    // A controller restart: the mapping is still there.
    st.ws.terminate();
    await r.stop();
    r = await startRelay(csms.url, {}, dir);
    cleanups.push(() => r.stop());
    st = await connectRawStation(r.port, 'CP16', ['ocpp1.6']);
    cleanups.push(() => st.ws.terminate());
    st.answer = (f) => JSON.stringify([3, f[1], { status: 'Accepted' }]);
    await csms.connected('CP16');
    await until(() => r.relay.upstreamConnected('CP16'));
    csms.send('CP16', JSON.stringify([2, 'rs', 'RemoteStopTransaction', { transactionId: 901 }]));
    await until(() => st.received.some((t) => t.includes('"rs"')));
    expect(JSON.parse(st.received.find((t) => t.includes('"rs"'))!)).toEqual([2, 'rs', 'RemoteStopTransaction', { transactionId: localB }]);
    expect(await stationCall(st, 'stopB', 'StopTransaction', { transactionId: localB, meterStop: 90, timestamp: NOW, reason: 'Remote' })).toEqual([3, 'stopB', { idTagInfo: { status: 'Accepted' } }]);
    expect(callsAt(csms, 'CP16').at(-1)).toEqual([2, 'stopB', 'StopTransaction', { transactionId: 901, meterStop: 90, timestamp: NOW, reason: 'Remote' }]);
    // A transaction started while the CSMS is reachable keeps the CSMS's id untouched.
    const live = await stationCall(st, 'startC', 'StartTransaction', { connectorId: 1, idTag: 'TAG1', meterStart: 0, timestamp: NOW });
    expect(live[2]).toEqual({ idTagInfo: { status: 'Accepted' }, transactionId: 902 });
  });

  it('goes on when the CSMS refuses the replayed StartTransaction: the queue drains, the transaction keeps its local id', { timeout: 30_000 }, async () => {
    let csms = await startRawCsms();
    csms16(csms, 700);
    const port = Number(new URL(csms.url).port);
    // One attempt: a refused message is kept aside at once (no E13 retries to wait for).
    const r = await startRelay(csms.url, { upstream: { offline: { messageAttempts: 1 } } });
    cleanups.push(() => r.stop());
    const st = await connectRawStation(r.port, 'CP16', ['ocpp1.6']);
    cleanups.push(() => st.ws.terminate());
    await csms.connected('CP16');
    await csms.close();
    await until(() => !r.relay.upstreamConnected('CP16'));
    const start = await stationCall(st, 'start', 'StartTransaction', { connectorId: 1, idTag: 'TAG9', meterStart: 0, timestamp: NOW });
    const local = (start[2] as { transactionId: number; idTagInfo: { status: string } }).transactionId;
    // TAG9 was never accepted by the CSMS here: the default policy refuses it, yet the id is given.
    expect((start[2] as { idTagInfo: { status: string } }).idTagInfo.status).toBe('Invalid');
    await stationCall(st, 'mv1', 'MeterValues', mv(local, 1));
    await stationCall(st, 'stop', 'StopTransaction', { transactionId: local, meterStop: 2, timestamp: NOW });
    csms = await startRawCsms('/csms', port);
    cleanups.push(() => csms.close());
    csms16(csms, 700);
    const ok = csms.answer;
    csms.answer = (id, f, t) => (f[2] === 'StartTransaction' ? JSON.stringify([4, f[1], 'GenericError', 'no such idTag', {}]) : ok(id, f, t));
    await until(() => Object.keys(r.relay.queueLengths()).length === 0, 20_000);
    expect(callsAt(csms, 'CP16').map((f) => [f[1], f[3].transactionId])).toEqual([['start', undefined], ['mv1', local], ['stop', local]]);
    // Live traffic goes on.
    expect((await stationCall(st, 'hb', 'Heartbeat', {}))[0]).toBe(3);
  });

  it('forwards a boot the 1.6 station sent during the outage first, and sets the CSMS\'s heartbeat interval with ChangeConfiguration', { timeout: 30_000 }, async () => {
    let csms = await startRawCsms();
    const port = Number(new URL(csms.url).port);
    const r = await startRelay(csms.url);
    cleanups.push(() => r.stop());
    const st = await connectRawStation(r.port, 'CP16', ['ocpp1.6']);
    cleanups.push(() => st.ws.terminate());
    await csms.connected('CP16');
    await csms.close();
    await until(() => !r.relay.upstreamConnected('CP16'));
    expect((await stationCall(st, 'boot', 'BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' }))[2]).toMatchObject({ interval: 300 });
    st.answer = (f) => JSON.stringify([3, f[1], { status: 'Accepted' }]);
    csms = await startRawCsms('/csms', port);
    cleanups.push(() => csms.close());
    csms.answer = (_id, f) => JSON.stringify([3, f[1], { currentTime: NOW, interval: 60, status: 'Accepted' }]);
    await until(() => st.received.some((t) => t.includes('ChangeConfiguration')), 20_000);
    const cc = JSON.parse(st.received.find((t) => t.includes('ChangeConfiguration'))!) as unknown[];
    expect(cc[3]).toEqual({ key: 'HeartbeatInterval', value: '60' });
    expect(callsAt(csms, 'CP16').map((f) => f[1])).toEqual(['boot']);
  });

  it('tells a resent StartTransaction from a new one that reuses its message id (stations that count ids from 1 after a reboot)', { timeout: 30_000 }, async () => {
    let csms = await startRawCsms();
    const port = Number(new URL(csms.url).port);
    const r = await startRelay(csms.url);
    cleanups.push(() => r.stop());
    const st = await connectRawStation(r.port, 'CP16', ['ocpp1.6']);
    cleanups.push(() => st.ws.terminate());
    await csms.connected('CP16');
    await csms.close();
    await until(() => !r.relay.upstreamConnected('CP16'));
    const startPayload = (timestamp: string) => ({ connectorId: 1, idTag: 'TAG1', meterStart: 0, timestamp });
    const first = ((await stationCall(st, '1', 'StartTransaction', startPayload('2026-01-01T10:00:00.000Z')))[2] as { transactionId: number }).transactionId;
    // The same frame again (no answer reached the station, say): same local id, queued once.
    expect(((await stationCall(st, '1', 'StartTransaction', startPayload('2026-01-01T10:00:00.000Z')))[2] as { transactionId: number }).transactionId).toBe(first);
    await stationCall(st, '2', 'StopTransaction', { transactionId: first, meterStop: 5, timestamp: NOW });
    // Rebooted, counting from 1 again: a new transaction.
    const second = ((await stationCall(st, '1', 'StartTransaction', startPayload('2026-01-01T11:00:00.000Z')))[2] as { transactionId: number }).transactionId;
    expect(second).not.toBe(first);
    await stationCall(st, '2b', 'MeterValues', mv(second, 7));
    csms = await startRawCsms('/csms', port);
    cleanups.push(() => csms.close());
    csms16(csms, 300);
    await until(() => Object.keys(r.relay.queueLengths()).length === 0, 20_000);
    expect(callsAt(csms, 'CP16').map((f) => [f[1], f[2], f[3].transactionId])).toEqual([
      ['1', 'StartTransaction', undefined], ['2', 'StopTransaction', 300], ['1', 'StartTransaction', undefined], ['2b', 'MeterValues', 301],
    ]);
  });
});
