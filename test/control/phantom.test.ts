// Phantom load (issue 16 #5): what a station reports is bounded by what is configured for it, and a station that went
// away does not keep its sessions' draw forever. On virtual time with the real control loop and optimizer.
import { afterEach, describe, expect, it } from 'vitest';
import { gridReading, harness, makeConfig, type Harness } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.loop.stop();
  h = undefined;
});

describe('phantom load', () => {
  it('throwaway ids that start transactions and leave stop counting after goneSessionTimeoutS', async () => {
    const config = makeConfig({ stations: { listen: { port: 0 }, allowUnknown: true, goneSessionTimeoutS: 120, list: [{ id: 'CP01' }] } });
    h = harness(config);
    h.relay.connect('CP01');
    await h.clock.advance(100);
    h.relay.startTx('CP01', 1, 'real');
    await h.clock.advance(1000);
    const alone = h.relay.lastTxLimit('CP01')!;
    for (const id of ['GHOST1', 'GHOST2']) {
      h.relay.connect(id);
      await h.clock.advance(100);
      h.relay.startTx(id, 1, `tx-${id}`, 16);
      await h.clock.advance(500);
      h.relay.disconnect(id);
    }
    await h.clock.advance(5000);
    const during = h.relay.lastTxLimit('CP01')!;
    expect(during).toBeLessThan(alone);
    await h.clock.advance(125_000, 1000);
    expect(h.relay.lastTxLimit('CP01')).toBe(alone);
    expect(h.loop.state().evses.map((e) => e.stationId)).toEqual(['CP01']);
  });

  it('a station claiming EVSE 999 and 5000 A per phase is not believed; the others keep charging', async () => {
    const config = makeConfig({ stations: { listen: { port: 0 }, list: [{ id: 'CP01' }, { id: 'EVIL', maxA: 16 }] } });
    h = harness(config);
    for (const id of ['CP01', 'EVIL']) h.relay.connect(id);
    await h.clock.advance(100);
    h.relay.startTx('CP01', 1, 'real');
    await h.clock.advance(1000);
    const before = h.relay.lastTxLimit('CP01')!;
    h.relay.startTx('EVIL', 999, 'evil-999', 5000);
    h.relay.stationCall('EVIL', 'StatusNotification', { timestamp: new Date(h.clock.now()).toISOString(), connectorStatus: 'Occupied', evseId: 999, connectorId: 1 });
    h.relay.startTx('EVIL', 1, 'evil-1', 5000);
    h.relay.meter('EVIL', 1, 5000);
    h.readings$.next(gridReading(h.clock.now(), [20, 20, 20]));
    await h.clock.advance(3000);
    const st = h.loop.state();
    expect(st.evses.some((e) => e.stationId === 'EVIL' && e.evseId === 999)).toBe(false);
    const evil = st.evses.find((e) => e.stationId === 'EVIL' && e.evseId === 1)!;
    expect(Math.max(...evil.measuredCurrentA!)).toBeLessThanOrEqual(16);
    expect(st.implausible?.map((r) => r.stationId)).toEqual(['EVIL']);
    // CP01 still gets a charging limit: the site has 32 A, EVIL can count for at most its 16 A.
    expect(h.relay.lastTxLimit('CP01')).toBeGreaterThanOrEqual(6);
    expect(before).toBeGreaterThan(0);
  });
});
