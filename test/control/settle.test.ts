// The load a node's meter showed when nothing was in transit is held while limits are in transit, so that a rise that
// has landed is not read as new base load. Held for too long it says nothing of now: a loop whose own changes never
// let it settle went on crediting the higher of every pair of limits in transit. After SETTLED_MAX_AGE_MS in transit
// the safe reading is taken.
import { afterEach, describe, expect, it } from 'vitest';
import { gridReading, harness, limitOf, makeConfig, profileOf, type Harness } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.loop.stop();
  h = undefined;
});

/** Two stations on a 40 A site behind a grid meter, looping every 500 ms with no band; `applied(id)` is what a station
 * draws: the TxProfile it got 5 s ago (stations apply a limit 5 s after it was sent and report every 10 s, as real ones
 * do). */
function lateStations(): { hh: Harness; applied: (id: string) => number } {
  const meters = [{ id: 'grid', role: 'grid', driver: 'modbus-tcp', host: '127.0.0.1', port: 1, map: 'sunspec', pollMs: 100, staleMs: 60_000 }];
  const list = [{ id: 'CP01' }, { id: 'CP02' }];
  const hh = harness(makeConfig({ site: { limitA: [40, 40, 40] }, stations: { listen: { port: 0 }, list }, meters }, { loopMs: 500, hysteresisA: 0, meterStepA: 0 }));
  h = hh;
  const applied = (id: string): number => {
    const sent = hh.relay.profiles(id).filter((c) => profileOf(c).chargingProfilePurpose === 'TxProfile' && c.at <= hh.clock.now() - 5000).at(-1);
    return sent ? Math.min(32, limitOf(sent)) : 6;
  };
  return { hh, applied };
}

describe('the load held while limits are in transit', () => {
  it('gives way to the safe reading when a creeping load keeps the loop from settling for three settle times', async () => {
    const { hh, applied } = lateStations();
    let base = 4;
    let over = 0;
    let worstHeadroomError = 0;
    const tick = async (ms: number, ramp = 0) => {
      for (let t = 0; t < ms; t += 100) {
        const now = hh.clock.now();
        base += (ramp * 100) / 1000;
        const a = applied('CP01');
        const b = applied('CP02');
        if (now % 10_000 < 100) {
          hh.relay.meter('CP01', 1, a);
          hh.relay.meter('CP02', 1, b);
        }
        const grid = base + a + b;
        if (grid > 40.3) over += 100;
        hh.readings$.next(gridReading(now, [grid, grid, grid]));
        await hh.clock.advance(100);
        // What the loop has allocated beyond the room there is now.
        const allocated = (hh.relay.lastTxLimit('CP01') ?? 0) + (hh.relay.lastTxLimit('CP02') ?? 0);
        worstHeadroomError = Math.max(worstHeadroomError, allocated - (40 - base));
      }
    };
    hh.relay.connect('CP01');
    hh.relay.connect('CP02');
    await tick(100);
    hh.relay.startTx('CP01', 1, 'tx1', 6);
    hh.relay.startTx('CP02', 1, 'tx2', 6);
    await tick(40_000);
    over = 0;
    worstHeadroomError = 0;
    // A load that keeps creeping up (a heat pump's compressor ramping) keeps the loop cutting every second or two.
    await tick(120_000, 0.08);
    console.log(`creeping load: ${over / 1000} s over by more than 0.3 A, worst allocation beyond the room ${worstHeadroomError.toFixed(2)} A, limits ${hh.relay.lastTxLimit('CP01')}/${hh.relay.lastTxLimit('CP02')}, base ${base.toFixed(1)}`);
    // Before, the load settled 2 minutes earlier was held all along (every cut restarted the wait): the loop allocated
    // up to 4.4 A beyond the room, ended at 15.4 A each on 13.2 A of room, and the grid was over its limit for 110 s
    // of the 120. Some excess is the stations' 5 s reaction to a load that keeps rising; none is the estimate's.
    expect(worstHeadroomError).toBeLessThan(2);
    expect((hh.relay.lastTxLimit('CP01') ?? 0) + (hh.relay.lastTxLimit('CP02') ?? 0)).toBeLessThanOrEqual(40 - base + 0.5);
    expect(over).toBeLessThan(60_000);
  });
});

describe('a loop that never settles', () => {
  it('stops raising once the held load has expired, until a reading settles: a jumping load is not chased', async () => {
    // Base load jumping 4 A up and down every 6 s, stations that apply limits 5 s late and report every 10 s: every
    // change is in transit when the next comes, the held load expires, and the safe reading reads each landed rise as
    // base load. Raising again at once, the loop chased the load with a profile every couple of seconds.
    const { hh, applied } = lateStations();
    // Time over the limit beyond the stations' reaction (5 s) and a loop: what a fuse would notice.
    let over = 0;
    let overSince: number | undefined;
    const tick = async (ms: number, jump: boolean) => {
      for (let t = 0; t < ms; t += 100) {
        const now = hh.clock.now();
        const base = jump && Math.floor(now / 6000) % 2 === 0 ? 8 : 4;
        const a = applied('CP01');
        const b = applied('CP02');
        if (now % 10_000 < 100) {
          hh.relay.meter('CP01', 1, a);
          hh.relay.meter('CP02', 1, b);
        }
        if (base + a + b > 40.3) {
          overSince ??= now;
          if (now - overSince >= 6000) over += 100;
        } else overSince = undefined;
        hh.readings$.next(gridReading(now, [base + a + b, base + a + b, base + a + b]));
        await hh.clock.advance(100);
      }
    };
    hh.relay.connect('CP01');
    hh.relay.connect('CP02');
    await tick(100, false);
    hh.relay.startTx('CP01', 1, 'tx1', 6);
    hh.relay.startTx('CP02', 1, 'tx2', 6);
    await tick(40_000, false);
    const before = hh.relay.profiles('CP01').length + hh.relay.profiles('CP02').length;
    over = 0;
    await tick(180_000, true);
    const writes = hh.relay.profiles('CP01').length + hh.relay.profiles('CP02').length - before;
    console.log(`jumping load: ${writes} profiles in 3 minutes, ${over / 1000} s over by more than 0.3 A beyond 6 s`);
    // Measured: 217 profiles raising at once, 102 waiting for a settled reading; 0.5 s over beyond the reaction in both.
    expect(writes).toBeLessThan(150);
    expect(over).toBeLessThanOrEqual(1000);
  });
});
