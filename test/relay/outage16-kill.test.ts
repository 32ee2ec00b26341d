// The OCPP 1.6 outage with the real controller CLI (`node dist/src/main.js run --config FILE`): the CSMS goes away, a transaction is started (local transaction id),
// metered and stopped, another started; the controller is killed with SIGKILL mid-outage and again mid-replay; the
// CSMS finally receives every queued message once (at most the one in flight at a kill twice), in order, every one
// after the StartTransaction carrying the CSMS's transaction id; a RemoteStopTransaction naming the CSMS's id stops
// the right transaction on the station.
import { afterEach, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseConfig, CLI, startCli } from '../faults/cli.js';
import { NOW, until } from './helpers.js';
import { callsAt, connectRawStation, startRawCsms, stationCall, type RawCsms, type RawStation } from './raw-peers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startController(dir: string, csmsUrl: string): Promise<{ child: ChildProcess; port: number }> {
  const cli = await startCli(dir, baseConfig(dir, csmsUrl, {
    upstream: { url: csmsUrl, callTimeoutS: 5, retry: { waitMinimumS: 0.05, randomRangeS: 0.05, repeatTimes: 2 } },
  }), { timeoutMs: 60_000 });
  cleanups.push(() => { if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL'); });
  return { child: cli.child, port: cli.stationsPort };
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGKILL');
  await exited;
}

async function station(port: number): Promise<RawStation> {
  const st = await connectRawStation(port, 'CP16', ['ocpp1.6']);
  cleanups.push(() => st.ws.terminate());
  st.answer = (f) => JSON.stringify([3, f[1], { status: 'Accepted' }]);
  return st;
}

/**
 * A 1.6 CSMS that numbers transactions from 500 and, like a careful CSMS, gives a StartTransaction it has seen
 * before (same message id, resent after a kill) the id it gave the first time. `delayMs` slows its answers.
 */
function csms16(csms: RawCsms, delayMs: number): void {
  const given = new Map<string, number>();
  csms.answer = (id, f) => {
    const [, messageId, action] = f as [number, string, string];
    let payload: Record<string, unknown> = {};
    if (action === 'StartTransaction') {
      if (!given.has(messageId)) given.set(messageId, 500 + given.size);
      payload = { idTagInfo: { status: 'Accepted' }, transactionId: given.get(messageId) };
    } else if (action === 'BootNotification') payload = { currentTime: NOW, interval: 300, status: 'Accepted' };
    else if (action === 'Heartbeat') payload = { currentTime: NOW };
    const text = JSON.stringify([3, messageId, payload]);
    if (delayMs === 0) return text;
    setTimeout(() => csms.sockets.get(id)?.send(text), delayMs);
    return undefined;
  };
}

const mv = (transactionId: number, wh: number, connectorId = 1) => ({
  connectorId, transactionId, meterValue: [{ timestamp: NOW, sampledValue: [{ value: String(wh), measurand: 'Energy.Active.Import.Register' }] }],
});

describe('OCPP 1.6 outage with SIGKILL', () => {
  it('delivers every queued message once, in order, with the CSMS transaction id, across two kills', { timeout: 90_000 }, async () => {
    expect(existsSync(CLI), `${CLI} missing: run "npx tsc -p ." first (npm test does)`).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'relay16-kill-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    let csms = await startRawCsms();
    csms16(csms, 0);
    const csmsPort = Number(new URL(csms.url).port);
    let ctl = await startController(dir, csms.url);
    let st = await station(ctl.port);
    await csms.connected('CP16');
    expect((await stationCall(st, 'boot', 'BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' }))[2]).toMatchObject({ status: 'Accepted' });

    // Outage: transaction A starts with a local id and is metered.
    await csms.close();
    for (let hb = 0; ; hb++) {
      const reply = await Promise.race([stationCall(st, `hb-${hb}`, 'Heartbeat', {}, 60_000).catch(() => undefined), new Promise<undefined>((r) => setTimeout(r, 300))]);
      if (reply) break;
    }
    const startA = await stationCall(st, 'startA', 'StartTransaction', { connectorId: 1, idTag: 'TAG1', meterStart: 0, timestamp: NOW });
    const localA = (startA[2] as { transactionId: number }).transactionId;
    expect(localA).toBeLessThan(0);
    for (let i = 1; i <= 60; i++) expect(await stationCall(st, `mvA-${i}`, 'MeterValues', mv(localA, i))).toEqual([3, `mvA-${i}`, {}]);

    // SIGKILL mid-outage; the station reconnects to the restarted controller and goes on with its local id.
    await kill(ctl.child);
    ctl = await startController(dir, csms.url);
    st = await station(ctl.port);
    for (let i = 61; i <= 120; i++) expect(await stationCall(st, `mvA-${i}`, 'MeterValues', mv(localA, i))).toEqual([3, `mvA-${i}`, {}]);
    expect((await stationCall(st, 'stopA', 'StopTransaction', { transactionId: localA, meterStop: 121, timestamp: NOW }))[0]).toBe(3);
    // Transaction B starts during the outage and is still running at the end.
    const startB = await stationCall(st, 'startB', 'StartTransaction', { connectorId: 2, idTag: 'TAG1', meterStart: 0, timestamp: NOW });
    const localB = (startB[2] as { transactionId: number }).transactionId;
    expect(localB).toBeLessThan(0);
    expect(localB).not.toBe(localA);
    for (let i = 1; i <= 20; i++) expect(await stationCall(st, `mvB-${i}`, 'MeterValues', mv(localB, i, 2))).toEqual([3, `mvB-${i}`, {}]);

    // The CSMS comes back, answering slowly; SIGKILL mid-replay.
    csms = await startRawCsms('/csms', csmsPort);
    cleanups.push(() => csms.close());
    csms16(csms, 5);
    await until(() => callsAt(csms, 'CP16').length >= 60, 30_000);
    await kill(ctl.child);
    // Bytes the killed process had already handed to the kernel still arrive: count them too.
    await new Promise((r) => setTimeout(r, 200));
    const atKill = callsAt(csms, 'CP16').length;
    expect(atKill).toBeLessThan(143);
    ctl = await startController(dir, csms.url);
    st = await station(ctl.port);
    const expected = [
      'startA', ...Array.from({ length: 120 }, (_, i) => `mvA-${i + 1}`), 'stopA', 'startB', ...Array.from({ length: 20 }, (_, i) => `mvB-${i + 1}`),
    ];
    const queuedIds = new Set(expected);
    const replayedIds = () => callsAt(csms, 'CP16').map((f) => f[1]).filter((id) => queuedIds.has(id));
    await until(() => new Set(replayedIds()).size === expected.length, 30_000);

    const frames = callsAt(csms, 'CP16').filter((f) => queuedIds.has(f[1]));
    const ids = frames.map((f) => f[1]);
    const firstSeen = ids.filter((id, i) => ids.indexOf(id) === i);
    expect(firstSeen).toEqual(expected);
    // At most the message in flight at the (second) kill reaches the CSMS twice, with its id unchanged.
    const duplicates = ids.length - firstSeen.length;
    expect(duplicates).toBeLessThanOrEqual(1);
    if (duplicates === 1) expect(ids.find((id, i) => ids.indexOf(id) !== i)).toBe(callsAt(csms, 'CP16')[atKill - 1][1]);
    // Every message after each StartTransaction carries the CSMS's id, never the local one.
    for (const f of frames) {
      if (f[1].startsWith('mvA') || f[1] === 'stopA') expect(f[3].transactionId).toBe(500);
      if (f[1].startsWith('mvB')) expect(f[3].transactionId).toBe(501);
    }
    expect(frames.find((f) => f[1] === 'mvA-7')![3]).toEqual(mv(500, 7));

    // Live after the replay: the CSMS stops B by its id; the station hears its own id, and its StopTransaction reaches
    // the CSMS with the CSMS's id.
    await csms.connected('CP16');
    const before = st.received.length;
    csms.send('CP16', JSON.stringify([2, 'rst', 'RemoteStopTransaction', { transactionId: 501 }]));
    await until(() => st.received.slice(before).some((t) => t.includes('"rst"')), 10_000);
    expect(JSON.parse(st.received.slice(before).find((t) => t.includes('"rst"'))!)).toEqual([2, 'rst', 'RemoteStopTransaction', { transactionId: localB }]);
    await until(() => (csms.received.get('CP16') ?? []).some((t) => t.startsWith('[3,"rst"')));
    await stationCall(st, 'stopB', 'StopTransaction', { transactionId: localB, meterStop: 21, timestamp: NOW, reason: 'Remote' }, 20_000);
    expect(callsAt(csms, 'CP16').find((f) => f[1] === 'stopB')?.[3]).toEqual({ transactionId: 501, meterStop: 21, timestamp: NOW, reason: 'Remote' });
  });
});
