// The outage test with real processes: a transaction runs, the CSMS goes away, the station sends 200
// TransactionEvent Updated and an Ended; the controller is killed with SIGKILL and restarted mid-outage and again
// mid-replay; the CSMS finally receives every message in seqNo order with the original message ids.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { WebSocket } from 'ws';
import { NOW, startCsms, until, type TestCsms } from './helpers.js';

const FIXTURE = join(process.cwd(), 'dist', 'test', 'relay', 'fixtures', 'relay-process.js');
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function startController(configFile: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [FIXTURE, configFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve({ child, port: (JSON.parse(line) as { port: number }).port }));
    child.once('exit', (code) => reject(new Error(`controller exited (${code}) before listening`)));
  });
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGKILL');
  await exited;
}

/** A minimal station: raw frames with ids it chooses, each CALL awaiting its reply. */
class Station {
  private waiting = new Map<string, (f: unknown[]) => void>();
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const f = JSON.parse(d.toString()) as unknown[];
      this.waiting.get(f[1] as string)?.(f);
    });
  }
  static async connect(port: number): Promise<Station> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ocpp/CP01`, ['ocpp2.0.1']);
    await new Promise<void>((r, j) => { ws.once('open', () => r()); ws.once('error', j); });
    cleanups.push(() => ws.terminate());
    return new Station(ws);
  }
  call(id: string, action: string, payload: Record<string, unknown>): Promise<unknown[]> {
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.ws.send(JSON.stringify([2, id, action, payload]));
    });
  }
}

const tx = (seqNo: number, eventType: 'Started' | 'Updated' | 'Ended') => ({
  eventType, timestamp: NOW, seqNo, transactionInfo: { transactionId: 'T1' },
  triggerReason: eventType === 'Started' ? 'Authorized' : eventType === 'Ended' ? 'EVDeparted' : 'MeterValuePeriodic',
  ...(eventType === 'Started' ? { evse: { id: 1, connectorId: 1 } } : {}),
});

function csmsReceivedTx(csms: TestCsms): [number, string, string, Record<string, unknown>][] {
  return (csms.received.get('CP01') ?? []).map((t) => JSON.parse(t) as [number, string, string, Record<string, unknown>]).filter((f) => f[2] === 'TransactionEvent');
}

describe('outage with SIGKILL', () => {
  it('delivers every message once, in seqNo order, with the original ids, across two kills', { timeout: 60_000 }, async () => {
    expect(existsSync(FIXTURE), `${FIXTURE} missing: run "npx tsc -p ." first (npm test does)`).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'relay-kill-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    let csms = await startCsms();
    csms.setup = (peer) => peer.handle('TransactionEvent', () => ({}));
    const csmsPort = csms.port;
    const config = (port: number) => ({
      stations: { listen: { host: '127.0.0.1', port }, allowUnknown: true, pingIntervalS: 0 },
      upstream: { url: `ws://127.0.0.1:${csmsPort}/csms`, callTimeoutS: 5, retry: { waitMinimumS: 0.05, randomRangeS: 0.05, repeatTimes: 2 } },
      storage: { path: join(dir, 'controller.sqlite') },
      site: { limitA: [32, 32, 32] },
    });
    const cfgFile = join(dir, 'config.json');
    writeFileSync(cfgFile, JSON.stringify(config(0)));
    let ctl = await startController(cfgFile);
    writeFileSync(cfgFile, JSON.stringify(config(ctl.port)));
    let station = await Station.connect(ctl.port);
    await csms.connected('CP01');

    // Online: the transaction starts at the CSMS.
    expect(await station.call('tx-0', 'TransactionEvent', tx(0, 'Started'))).toEqual([3, 'tx-0', {}]);
    expect(csmsReceivedTx(csms)).toHaveLength(1);

    // Outage: the CSMS goes away; the station is answered locally.
    await csms.close();
    let hb = 0;
    for (;;) {
      const reply = await Promise.race([station.call(`hb-${hb++}`, 'Heartbeat', {}), new Promise<undefined>((r) => setTimeout(r, 300))]);
      if (reply) break;
    }
    for (let s = 1; s <= 100; s++) expect(await station.call(`tx-${s}`, 'TransactionEvent', tx(s, 'Updated'))).toEqual([3, `tx-${s}`, {}]);

    // SIGKILL mid-outage; the station reconnects to the restarted controller and goes on.
    await kill(ctl.child);
    ctl = await startController(cfgFile);
    station = await Station.connect(ctl.port);
    for (let s = 101; s <= 200; s++) expect(await station.call(`tx-${s}`, 'TransactionEvent', tx(s, 'Updated'))).toEqual([3, `tx-${s}`, {}]);
    expect(await station.call('tx-201', 'TransactionEvent', tx(201, 'Ended'))).toEqual([3, 'tx-201', {}]);

    // The CSMS comes back, slowly answering; SIGKILL mid-replay.
    csms = await startCsms({ port: csmsPort });
    cleanups.push(() => csms.close());
    csms.setup = (peer) => peer.handle('TransactionEvent', () => new Promise((r) => setTimeout(() => r({}), 5)));
    await until(() => csmsReceivedTx(csms).length >= 80, 20_000);
    await kill(ctl.child);
    // Bytes the killed process had already handed to the kernel still arrive: count them too.
    await new Promise((r) => setTimeout(r, 200));
    const atKill = csmsReceivedTx(csms).length;
    expect(atKill).toBeLessThan(201);
    ctl = await startController(cfgFile);
    station = await Station.connect(ctl.port);
    await until(() => new Set(csmsReceivedTx(csms).map((f) => f[1])).size === 201, 20_000);
    // A newer message goes after the whole queue (queued behind it if the replay is still finishing).
    expect(await station.call('tx-live', 'TransactionEvent', { ...tx(0, 'Started'), transactionInfo: { transactionId: 'T2' } })).toEqual([3, 'tx-live', {}]);
    await until(() => csmsReceivedTx(csms).some((f) => f[1] === 'tx-live'), 10_000);

    const frames = csmsReceivedTx(csms);
    const ids = frames.map((f) => f[1]);
    const firstSeen = ids.filter((id, i) => ids.indexOf(id) === i);
    const expected = [...Array.from({ length: 201 }, (_, i) => `tx-${i + 1}`), 'tx-live'];
    expect(firstSeen).toEqual(expected);
    expect(frames.filter((f) => f[3].transactionInfo && (f[3].transactionInfo as { transactionId: string }).transactionId === 'T1').map((f) => f[3].seqNo))
      .toEqual(expect.arrayContaining(Array.from({ length: 201 }, (_, i) => i + 1)));
    // Payloads unchanged.
    for (const f of frames) if (f[1].startsWith('tx-') && f[1] !== 'tx-live') expect(f[3]).toEqual(tx(Number(f[1].slice(3)), Number(f[1].slice(3)) === 201 ? 'Ended' : 'Updated'));
    // At most the one message in flight at the kill reaches the CSMS twice: a retry with the same id (Part 4 §4.1.4).
    const duplicates = ids.length - firstSeen.length;
    expect(duplicates).toBeLessThanOrEqual(1);
    // ... and that one is the message the CSMS had received last before the kill, resent with its original id and
    // payload (checked above), which is what lets a CSMS de-duplicate it.
    if (duplicates === 1) expect(ids.find((id, i) => ids.indexOf(id) !== i)).toBe(ids[atKill - 1]);
  });
});
