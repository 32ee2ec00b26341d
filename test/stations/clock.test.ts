// The station clock estimate: median of recent (station time − arrival time) samples, robust to stale or odd stamps.
import { describe, expect, it } from 'vitest';
import { StationClocks } from '../../src/stations/clock.js';

const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);

describe('station clock offset', () => {
  it('a station 10 min ahead and one 10 min behind, with transit of a few ms', () => {
    const c = new StationClocks();
    for (let i = 0; i < 10; i++) {
      const at = T0 + i * 10_000;
      c.sample('AHEAD', at + 600_000 - 5, at);
      c.sample('BEHIND', at - 600_000 - 5, at);
    }
    expect(c.offsetMs('AHEAD')).toBe(600_000 - 5);
    expect(c.offsetMs('BEHIND')).toBe(-600_000 - 5);
    expect(c.offsetMs('UNKNOWN')).toBeUndefined();
  });

  it('stale queued events and one odd timestamp do not move it; old samples are forgotten; a boot starts over', () => {
    const c = new StationClocks({ maxSamples: 9, maxAgeMs: 60_000 });
    for (let i = 0; i < 6; i++) c.sample('CP', T0 + i * 1000 + 120_000, T0 + i * 1000);
    // Three events queued while offline, delivered late, and one stamped far in the future.
    c.sample('CP', T0 - 3_600_000, T0 + 6000);
    c.sample('CP', T0 - 3_500_000, T0 + 6000);
    c.sample('CP', T0 + 86_400_000, T0 + 6000);
    expect(c.offsetMs('CP')).toBe(120_000);
    // A minute later only the new samples count: the clock was corrected by 2 min.
    for (let i = 0; i < 3; i++) c.sample('CP', T0 + 120_000 + i * 1000, T0 + 120_000 + i * 1000);
    expect(c.offsetMs('CP')).toBe(0);
    c.reset('CP');
    expect(c.offsetMs('CP')).toBeUndefined();
    c.sample('CP', NaN, T0);
    expect(c.all().size).toBe(0);
  });
});
