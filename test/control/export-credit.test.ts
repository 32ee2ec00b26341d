// PV export credited on top of the grid fuse: in full while the export holds steady, less the largest fall of it seen
// within one settle time in the last minutes, so a passing cloud lands in room kept free instead of on the fuse.
import { describe, expect, it } from 'vitest';
import { createControlLoop } from '../../src/control/loop.js';
import { ExportWatch, exportCredit } from '../../src/control/export-credit.js';
import { parseScenario } from '../../src/sim/scenario.js';
import { scoreScenarioDetailed } from '../../src/sim/score.js';

// A 40 A connection, 30 kW of PV under broken clouds (seed 1: cloud edges take up to ~10 A of export within a minute
// around noon), three EVs from 10:00 that want more than the site gives.
const cloudyNoon = parseScenario({
  name: 'cloudy-noon',
  duration: '13h',
  step: '1s',
  seed: 1,
  site: { limitA: [40, 40, 40], voltage: 230 },
  baseLoad: { shape: 'flat', peakA: [4, 4, 4] },
  pv: { peakW: 30000, clouds: 0.6 },
  chargers: ['C1', 'C2', 'C3'].map((id) => ({ id, phases: 3 as const, maxA: 32, reactionS: 5, meterValuesS: 10 })),
  evs: ['C1', 'C2', 'C3'].map((charger) => ({ charger, arrive: '10:00', depart: '13:00', energyWh: 80000 })),
});

describe('export credit', () => {
  it('credits a steady export whole, and after a fall keeps that fall free for the memory window', () => {
    const w = new ExportWatch(10_000, 600_000);
    const t0 = 1_000_000;
    for (let t = 0; t <= 60_000; t += 1000) expect(w.observe('site', t0 + t, [20, 20, 20])).toEqual([0, 0, 0]);
    expect(exportCredit(20, 0, false, 30, 0, 1)).toBe(20);
    // A cloud: 20 → 12 A on L1 within 8 s.
    let fall = [0, 0, 0];
    for (let s = 1; s <= 8; s++) fall = w.observe('site', t0 + 60_000 + s * 1000, [20 - s, 20, 20]);
    expect(fall).toEqual([8, 0, 0]);
    // The sun is back: the fall is still allowed for, 8 of the 20 A are not credited.
    fall = w.observe('site', t0 + 120_000, [20, 20, 20]);
    expect(fall).toEqual([8, 0, 0]);
    expect(exportCredit(20, 0, false, 30, fall[0], 1)).toBe(12);
    // A second solve at the same instant (a station held at its minimum) does not count as a reading.
    expect(w.observe('site', t0 + 120_000, [0, 0, 0])).toEqual([8, 0, 0]);
    // Ten minutes later the fall is forgotten.
    for (let t = 130_000; t <= 700_000; t += 10_000) fall = w.observe('site', t0 + t, [20, 20, 20]);
    expect(fall).toEqual([0, 0, 0]);
    // The fraction caps; a battery's part is credited whole while it has charge to spare, not at all after.
    expect(exportCredit(20, 0, false, 30, 0, 0.5)).toBe(10);
    expect(exportCredit(20, 0, false, 30, 30, 1)).toBe(0);
    expect(exportCredit(20, 15, true, 30, 4, 1)).toBe(16);
    expect(exportCredit(20, 15, false, 30, 4, 1)).toBe(1);
    // Export no source meter accounts for (here 12 of the 20 A) is credited at half at most.
    expect(exportCredit(20, 0, false, 8, 0, 1)).toBe(14);
    expect(exportCredit(20, 0, false, 8, 0, 0.25)).toBe(5);
    expect(exportCredit(20, 0, false, 8, 8, 1)).toBe(12);
    // A meter that failed: what was learned from it is gone.
    w.observe('site', t0 + 710_000, [20, 20, 20]);
    w.observe('site', t0 + 715_000, [10, 10, 10]);
    w.forget('site');
    expect(w.observe('site', t0 + 720_000, [10, 10, 10])).toEqual([0, 0, 0]);
  });

  it('uses the PV export through passing clouds without keeping the fuse over its limit beyond the reaction window', async () => {
    const full = await scoreScenarioDetailed(cloudyNoon, { controlLoopFactory: createControlLoop });
    const half = await scoreScenarioDetailed(cloudyNoon, { controlLoopFactory: createControlLoop, configOverrides: { control: { exportCreditFraction: 0.5 } } });
    const f = full.score;
    const h = half.score;
    console.log(`cloudy-noon: full credit ${f.energy_wh} Wh (${f.utilization}), ${f.overload_s} s over, worst ${f.worst_overload_a} A; capped at 0.5 ${h.energy_wh} Wh (${h.utilization}), ${h.overload_s} s over; LP ${f.energy_optimal_wh} Wh`);
    // Full credit with nothing allowed for the falls kept the fuse over its limit for 1688 s (each cloud edge a ramp
    // the stations' cuts trail by their reaction time): now 0.
    expect(f.overload_s).toBe(0);
    expect(h.overload_s).toBe(0);
    // Measured: 106.0 kWh against 100.1 kWh at half the export. (113.3 kWh while the watch took the net export for
    // the PV: that froze while limits were in transit, which under clouds is most of the time, and missed the falls.)
    expect(f.energy_wh).toBeGreaterThan(h.energy_wh * 1.04);
    expect(f.energy_wh).toBeLessThanOrEqual(f.energy_optimal_wh);
  }, 180_000);
});

// A depot at midday under a clear sky: 80 A connection, 40 kWp of PV, a 100 kWh battery that the vans run down to
// its minimum by about 12:30, vans coming and going 10:30–16:00, the session planner on (as the product runs).
const middayDepot = parseScenario({
  name: 'midday-depot',
  duration: '16h',
  step: '1s',
  seed: 3,
  site: { limitA: [80, 80, 80], voltage: 230 },
  baseLoad: { shape: 'flat', peakA: [12, 10, 14] },
  pv: { peakW: 40000, clouds: 0 },
  battery: { capacityWh: 100000, maxW: 30000, soc: 0.5, minSoc: 0.1 },
  chargers: Array.from({ length: 10 }, (_, i) => ({ id: `D${i + 1}`, phases: 3 as const, maxA: 32, reactionS: 5 })),
  evs: [{ random: { count: 14, seed: 5, arrive: ['10:30', '13:00'], stayH: [1.5, 3], energyWh: [10000, 30000], maxA: [16, 32], onePhaseShare: 0 } }],
});

describe('export credit and the battery', () => {
  it('keeps crediting a steady PV export when the home battery starts charging or stops: neither is a fall of the PV', async () => {
    const d = await scoreScenarioDetailed(middayDepot);
    const s = d.score;
    console.log(`midday-depot: ${s.energy_wh} Wh of ${s.energy_optimal_wh} (${s.utilization}), ${s.overload_s} s over, worst ${s.worst_overload_a} A`);
    expect(s.overload_s).toBe(0);
    // Measured: 0.973 of the LP. It was 0.961 while the watch took the net export for the PV: the battery charging
    // from room a cut had just freed, or stopping at its minimum, read as the export falling by up to 43 A and held
    // that much back for ten minutes.
    expect(s.utilization).toBeGreaterThan(0.968);
  }, 180_000);
});
