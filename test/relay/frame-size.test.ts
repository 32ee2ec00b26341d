// Frame size limits per side: stations.maxFrameBytes for what stations send, upstream.maxFrameBytes (default 16 MiB)
// for what the CSMS sends. An oversized CALL is answered to its sender with a CALLERROR; the socket stays open.
import { afterEach, describe, expect, it } from 'vitest';
import { connectStation, NOW, startCsms, startRelay, until } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const big = (bytes: number) => ({ vendorId: 'site', data: 'x'.repeat(bytes) });

async function setup(overrides: Record<string, unknown> = {}) {
  const csms = await startCsms();
  csms.setup = (peer) => {
    peer.handle('Heartbeat', () => ({ currentTime: NOW }));
    peer.handle('DataTransfer', () => ({ status: 'Accepted' }));
  };
  cleanups.push(() => csms.close());
  const r = await startRelay(csms.url, overrides);
  cleanups.push(() => r.stop());
  const st = await connectStation(r.port, 'CP01');
  cleanups.push(() => st.ws.terminate());
  st.peer.handle('DataTransfer', () => ({ status: 'Accepted' }));
  const peer = await csms.connected('CP01');
  return { csms, r, st, peer };
}

describe('frame size limits', () => {
  it('a station CALL above stations.maxFrameBytes is answered with a CALLERROR; the station stays connected', async () => {
    const { csms, r, st } = await setup({ stations: { maxFrameBytes: 65536 } });
    await expect(st.peer.call('DataTransfer', big(100_000))).rejects.toMatchObject({ code: 'FormatViolation' });
    expect(await st.peer.call('Heartbeat', {})).toEqual({ currentTime: NOW });
    expect((csms.received.get('CP01') ?? []).some((t) => t.includes('DataTransfer'))).toBe(false);
    expect(r.relay.connectedStations()).toEqual(['CP01']);
  });

  it('a 1 MiB CSMS frame reaches the station with the default upstream.maxFrameBytes, whatever stations.maxFrameBytes is', async () => {
    const { csms, r, peer } = await setup({ stations: { maxFrameBytes: 65536 } });
    expect(await peer.call('DataTransfer', big(1024 * 1024))).toEqual({ status: 'Accepted' });
    expect(csms.requests).toHaveLength(1);
    expect(r.relay.upstreamConnected('CP01')).toBe(true);
  });

  it('a CSMS CALL above upstream.maxFrameBytes is answered to the CSMS with a CALLERROR; the upstream socket stays open', async () => {
    const { csms, r, st, peer } = await setup({ upstream: { maxFrameBytes: 65536 } });
    const before = st.received.length;
    await expect(peer.call('DataTransfer', big(100_000))).rejects.toMatchObject({ code: 'FormatViolation' });
    expect(await peer.call('DataTransfer', big(1000))).toEqual({ status: 'Accepted' });
    await until(() => st.received.length > before);
    expect(st.received.slice(before).some((t) => t.length > 65536)).toBe(false);
    expect(csms.requests).toHaveLength(1);
    expect(r.relay.upstreamConnected('CP01')).toBe(true);
  });
});
