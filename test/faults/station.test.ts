// A slow station: it keeps its socket open and keeps sending, but stops reading. The relay must not buffer for it
// without bound: once more than the send-buffer limit (1 MiB or 4 × maxFrameBytes) is unsent, the station is cut
// off. Other stations on the same relay keep their flow throughout.
import { afterEach, describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { connectStation, startRelay, until } from '../relay/helpers.js';
import { startCsmsStub } from '../fuzz/csms-stub.js';
import { heapAfterGcMb } from '../fuzz/helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('slow station', () => {
  it('is disconnected when it stops reading, without disturbing the others', async () => {
    const csms = await startCsmsStub();
    cleanups.push(() => csms.close());
    // Big answers from the CSMS (60 kB each) fill the slow station's path quickly.
    const big = 'x'.repeat(60_000);
    csms.answer = (action) => (action === 'DataTransfer' ? { status: 'Accepted', data: big } : undefined);
    const r = await startRelay(csms.url);
    cleanups.push(() => r.stop());
    const good = await connectStation(r.port, 'GOOD');
    cleanups.push(() => good.ws.terminate());
    const baseline = heapAfterGcMb();

    const slow = new WebSocket(`ws://127.0.0.1:${r.port}/ocpp/SLOW`, ['ocpp2.0.1'], { perMessageDeflate: false });
    await new Promise<void>((res, rej) => { slow.once('open', () => res()); slow.once('error', rej); });
    cleanups.push(() => slow.terminate());
    const downs: string[] = [];
    const sub = r.relay.connections$.subscribe((e) => { if (e.stationId === 'SLOW' && e.side === 'station' && !e.up) downs.push(e.reason ?? ''); });
    cleanups.push(() => sub.unsubscribe());
    // Stop reading: the kernel buffers fill, then the relay's own send buffer grows.
    (slow as unknown as { _socket: Socket })._socket.pause();
    for (let i = 0; i < 800; i++) slow.send(JSON.stringify([2, `d${i}`, 'DataTransfer', { vendorId: 'v' }]));

    // The good station keeps working while this happens.
    for (let i = 0; i < 20; i++) expect(await good.peer.call('Heartbeat', {})).toHaveProperty('currentTime');
    await until(() => downs.length > 0, 20_000);
    expect(r.relay.connectedStations()).not.toContain('SLOW');
    expect(r.relay.connectedStations()).toContain('GOOD');
    expect(await good.peer.call('Heartbeat', {})).toHaveProperty('currentTime');
    // Let the relay finish the CSMS answers already on their way, then measure.
    let frames = -1;
    await until(() => { const n = r.relay.metrics().framesIn; const still = n === frames; frames = n; return still; }, 10_000);
    // Sockets of the dropped station are released over a few turns of the event loop: measure until settled.
    let after = heapAfterGcMb();
    for (let i = 0; i < 50 && after - baseline >= 20; i++) {
      await new Promise((res) => setTimeout(res, 100));
      after = heapAfterGcMb();
    }
    console.log(`slow station: heap baseline ${baseline.toFixed(1)} MB, after the drop ${after.toFixed(1)} MB; CSMS answered ${(csms.received.get('SLOW') ?? []).length} of 800 calls`);
    expect(after - baseline).toBeLessThan(20);
  });
});
