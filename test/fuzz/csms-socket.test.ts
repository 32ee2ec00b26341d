// Fuzz of the CSMS socket (fixed seed): hostile frames from the CSMS on a station's upstream socket through the real
// relay. Unreadable frames get the CALLERROR Part 4 §4 names, sent back to the CSMS; CALLs go to the station one at
// a time (schema violations forwarded by default, refused with `invalidFromCsms: reject`); replies to no pending
// station call are dropped; frames above twice upstream.maxFrameBytes and invalid UTF-8 close the upstream socket
// (1009 / 1007) while the station stays connected and is served locally;
// floods leave the heap near its baseline and other stations unaffected.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { parseFrame } from '../../src/ocpp/frames.js';
import { validatePayload } from '../../src/ocpp/validate.js';
import { connectStation, startRelay, until } from '../relay/helpers.js';
import { startCsmsStub } from './csms-stub.js';
import { heapAfterGcMb, INVALID_UTF8, NO_RATE_LIMIT, sampleFrames } from './helpers.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20260102);
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A raw station socket (no OcppPeer, which would answer CALLs itself). */
async function rawStation(port: number, id: string): Promise<{ ws: WebSocket }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ocpp/${id}`, ['ocpp2.0.1']);
  await new Promise<void>((res, rej) => { ws.once('open', () => res()); ws.once('error', rej); });
  return { ws };
}

/** A station that answers every CALL it gets with an empty CALLRESULT. */
function answerEverything(s: { ws: WebSocket }): { calls: string[]; others: string[] } {
  const seen = { calls: [] as string[], others: [] as string[] };
  s.ws.on('message', (d) => {
    const t = d.toString();
    let f: unknown;
    try { f = JSON.parse(t); } catch { seen.others.push(t); return; }
    if (Array.isArray(f) && f[0] === 2) {
      seen.calls.push(t);
      s.ws.send(JSON.stringify([3, f[1], {}]));
    } else seen.others.push(t);
  });
  return seen;
}

const GET_VARIABLES = { getVariableData: [{ component: { name: 'SmartChargingCtrlr' }, variable: { name: 'Enabled' } }] };

describe('CSMS socket fuzz', () => {
  for (const policy of ['forward', 'reject'] as const) {
    it(`answers every hostile CSMS frame as Part 4 §4 says (invalidFromCsms: ${policy})`, async () => {
      const csms = await startCsmsStub();
      cleanups.push(() => csms.close());
      const r = await startRelay(csms.url, { stations: { invalidFromCsms: policy, rateLimit: NO_RATE_LIMIT } });
      cleanups.push(() => r.stop());
      const station = await rawStation(r.port, 'S1');
      cleanups.push(() => station.ws.terminate());
      const seen = answerEverything(station);
      const other = await connectStation(r.port, 'S2');
      cleanups.push(() => other.ws.terminate());
      const up = await csms.connected('S1');
      await csms.connected('S2');
      const atCsms: string[] = [];
      up.on('message', (d) => atCsms.push(d.toString()));

      const frames = sampleFrames(SEED, RUNS);
      type Want = { to: 'csms'; key: string } | { to: 'station-call'; id: string } | { to: 'station-other' };
      const want: Want[] = frames.map(({ data }) => {
        const p = parseFrame(data);
        if (!p.ok) return { to: 'csms', key: `E ${p.error.messageId} ${p.error.code}` };
        if (p.frame.type !== 2) return { to: 'station-other' };
        const invalid = validatePayload(p.frame.action, 'request', p.frame.payload);
        if (invalid && policy === 'reject') return { to: 'csms', key: `E ${p.frame.messageId} ${invalid.code}` };
        return { to: 'station-call', id: p.frame.messageId };
      });
      for (const f of frames) up.send(f.data);
      up.send(JSON.stringify([2, 'marker-1', 'GetVariables', GET_VARIABLES]));
      // Meanwhile the other station's traffic flows.
      for (let i = 0; i < 20; i++) expect(await other.peer.call('Heartbeat', {})).toHaveProperty('currentTime');
      await until(() => atCsms.some((t) => t.includes('"marker-1"')), 20_000);

      const keyOf = (t: string): string => {
        const f = JSON.parse(t) as unknown[];
        return f[0] === 4 ? `E ${String(f[1])} ${String(f[2])}` : `R ${String(f[1])}`;
      };
      const expectedAtCsms = want.map((w) => (w.to === 'csms' ? w.key : w.to === 'station-call' ? `R ${w.id}` : undefined))
        .filter((k): k is string => k !== undefined);
      expect(atCsms.filter((t) => !t.includes('"marker-1"')).map(keyOf).sort()).toEqual(expectedAtCsms.sort());
      // The station got the CALLs in the order the CSMS sent them, and none of the stray replies.
      const callIds = seen.calls.map((t) => String((JSON.parse(t) as unknown[])[1]));
      expect(callIds).toEqual([...want.filter((w) => w.to === 'station-call').map((w) => (w as { id: string }).id), 'marker-1']);
      // Replies matching no pending station call are dropped (logged), never passed to the station.
      expect(want.some((w) => w.to === 'station-other')).toBe(true);
      expect(seen.others.length).toBe(0);
      expect(r.relay.upstreamConnected('S1')).toBe(true);
    });
  }

  it('closes the upstream socket on a frame above twice upstream.maxFrameBytes (1009) or invalid UTF-8 (1007); the station is served meanwhile', async () => {
    const csms = await startCsmsStub();
    cleanups.push(() => csms.close());
    // Up to twice the limit a CALL is answered with a CALLERROR (test/relay/frame-size.test.ts); beyond, the socket closes.
    const r = await startRelay(csms.url, { upstream: { maxFrameBytes: 65536 }, stations: { rateLimit: NO_RATE_LIMIT } });
    cleanups.push(() => r.stop());
    const station = await connectStation(r.port, 'S1');
    cleanups.push(() => station.ws.terminate());
    for (const [payload, code] of [[JSON.stringify([2, 'big', 'DataTransfer', { vendorId: 'v', data: 'x'.repeat(140_000) }]), 1009], [INVALID_UTF8, 1007]] as const) {
      const up = await csms.connected('S1');
      const closed = new Promise<[number, string]>((res) => up.once('close', (c, why) => res([c, why.toString()])));
      up.send(payload, { binary: false });
      const [c, why] = await closed;
      expect(c).toBe(code);
      expect(why.length).toBeGreaterThan(0);
      expect(station.ws.readyState).toBe(WebSocket.OPEN);
      // Answered locally or by the CSMS once the relay reconnected: either way the station gets its answer.
      expect(await station.peer.call('Heartbeat', {})).toHaveProperty('currentTime');
      await until(() => r.relay.upstreamConnected('S1'), 10_000);
    }
  });

  it('survives a flood of CSMS calls and garbage with the heap back near its baseline', async () => {
    const csms = await startCsmsStub();
    cleanups.push(() => csms.close());
    const r = await startRelay(csms.url, { stations: { rateLimit: NO_RATE_LIMIT } });
    cleanups.push(() => r.stop());
    const station = await rawStation(r.port, 'S1');
    cleanups.push(() => station.ws.terminate());
    const seen = answerEverything(station);
    const other = await connectStation(r.port, 'S2');
    cleanups.push(() => other.ws.terminate());
    const up = await csms.connected('S1');
    const atCsms: string[] = [];
    up.on('message', (d) => atCsms.push(d.toString()));
    expect(await other.peer.call('Heartbeat', {})).toHaveProperty('currentTime');
    const baseline = heapAfterGcMb();
    const N = 3000;
    const garbage = sampleFrames(SEED + 1, 200).map((f) => f.data).filter((d) => !parseFrame(d).ok);
    for (let i = 0; i < N; i++) {
      up.send(JSON.stringify([2, `c${i}`, 'GetVariables', GET_VARIABLES]));
      up.send(garbage[i % garbage.length]);
      up.send(JSON.stringify([3, `stray${i}`, {}]));
    }
    for (let i = 0; i < 10; i++) expect(await other.peer.call('Heartbeat', {})).toHaveProperty('currentTime');
    await until(() => seen.calls.length === N && atCsms.length === 2 * N, 60_000);
    const peak = process.memoryUsage().heapUsed / 1e6;
    const after = heapAfterGcMb();
    console.log(`CSMS flood: heap baseline ${baseline.toFixed(1)} MB, peak ${peak.toFixed(1)} MB, after GC ${after.toFixed(1)} MB (${3 * N} frames)`);
    expect(after - baseline).toBeLessThan(20);
    expect(r.relay.upstreamConnected('S1')).toBe(true);
  });
});
