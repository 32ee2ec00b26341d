// The site score on a short scenario, through the product's control loop (createControlLoop) and optimizer on virtual
// time, with the two baselines in the same run.
import { describe, expect, it } from 'vitest';
import { createControlLoop } from '../../src/control/loop.js';
import { energyUpperBound, evBounds, maxDrawW } from '../../src/sim/bound.js';
import { jainIndex } from '../../src/sim/metrics.js';
import { parseScenario } from '../../src/sim/scenario.js';
import { formatScore, scoreTable } from '../../src/sim/score-report.js';
import { scoreScenarioDetailed, withinRun } from '../../src/sim/score.js';

// Four 3-phase EVs that together want more than the 63 A connection leaves beside a 20-24 A base load.
const contended = parseScenario({
  name: 'short-contended',
  duration: '2h',
  step: '1s',
  seed: 2,
  site: { limitA: [63, 63, 63], voltage: 230 },
  baseLoad: { shape: 'flat', peakA: [20, 16, 24] },
  chargers: ['A1', 'A2', 'A3', 'A4'].map((id) => ({ id, phases: 3, maxA: 32, reactionS: 3, meterValuesS: 2 })),
  evs: [
    { charger: 'A1', arrive: '00:05', depart: '02:00', energyWh: 40000 },
    { charger: 'A2', arrive: '00:05', depart: '02:00', energyWh: 40000 },
    { charger: 'A3', arrive: '00:06', depart: '02:00', energyWh: 40000 },
    { charger: 'A4', arrive: '00:06', depart: '02:00', energyWh: 40000 },
  ],
});

describe('site score', () => {
  it('keeps the site under its limit where both baselines overload, and reports the CONTRACT keys', async () => {
    const d = await scoreScenarioDetailed(contended, { controlLoopFactory: createControlLoop });
    const s = d.score;
    console.log(`${formatScore(s)}\n${d.controllerCalls} calls, ${(d.totalMs / 1000).toFixed(1)} s`);
    const keys = ['overload_s', 'worst_overload_a', 'energy_wh', 'energy_allowed_wh', 'energy_optimal_wh', 'utilization', 'jain', 'jain_optimal', 'unmet_energy_wh', 'energy_online_wh', 'utilization_online', 'jain_online'];
    expect(Object.keys(s).sort()).toEqual(['baselines', 'name', ...keys].sort());
    for (const b of [s.baselines.static, s.baselines.fcfs]) expect(Object.keys(b).sort()).toEqual([...keys].sort());
    expect(s.name).toBe('short-contended');
    // Safety first: no overload beyond the reaction window, where the meter-less baselines overload for long.
    expect(s.overload_s).toBe(0);
    expect(s.baselines.static.overload_s).toBeGreaterThan(600);
    expect(s.baselines.fcfs.overload_s).toBeGreaterThan(600);
    // The bound is an upper bound for anything that respects the limit.
    expect(s.energy_wh).toBeLessThanOrEqual(s.energy_allowed_wh);
    expect(s.energy_wh).toBeLessThanOrEqual(s.energy_optimal_wh);
    expect(s.energy_wh).toBeGreaterThan(0);
    // The online reference (no foresight of arrivals) is at most the optimum; the same figure in the three rows.
    expect(s.energy_online_wh).toBeLessThanOrEqual(s.energy_optimal_wh + 1);
    expect(s.energy_online_wh).toBeGreaterThan(0);
    expect(s.utilization_online).toBeCloseTo(s.energy_wh / s.energy_online_wh, 3);
    for (const b of [s.baselines.static, s.baselines.fcfs]) expect(b.energy_online_wh).toBe(s.energy_online_wh);
    // Targets (issue 7): utilization >= 0.97, jain >= 0.99; asserted with a margin, the exact figures are printed.
    expect(s.utilization).toBeGreaterThan(0.9);
    expect(s.jain).toBeGreaterThan(0.98);
    // Every EV got something; the unmet energy is what the EVs could have taken but did not get.
    expect(d.evs.controller.every((e) => e.deliveredWh > 1000)).toBe(true);
    expect(s.unmet_energy_wh).toBeCloseTo(d.evs.controller.reduce((a, e) => a + e.achievableWh - e.deliveredWh, 0), -1);
    expect(scoreTable([s])).toContain('| short-contended |');
    expect(scoreTable([s])).toContain('utilization_online');
    expect(formatScore(s)).toContain('energy_online_wh');
  });

  it('the static baseline never exceeds its share, FCFS serves the first comer at its maximum', async () => {
    const d = await scoreScenarioDetailed(contended, { controlLoopFactory: createControlLoop });
    const [first] = d.evs.fcfs;
    const last = d.evs.fcfs[3];
    // FCFS: the first EV charges at its maximum, the last one gets what is left of the fuse.
    expect(first.deliveredWh).toBeGreaterThan(last.deliveredWh * 1.5);
    expect(d.score.baselines.fcfs.jain).toBeLessThan(d.score.jain);
  });
});

describe('energy upper bound', () => {
  it('per step: 3-phase EVs take the tightest phase, 1-phase EVs fill their own phase', () => {
    expect(maxDrawW([10, 20, 30], 100, [0, 0, 0], 230)).toBe(30 * 230);
    expect(maxDrawW([10, 20, 30], 5, [0, 32, 0], 230)).toBe((15 + 15) * 230);
    expect(maxDrawW([10, 10, 10], 0, [16, 0, 0], 230)).toBe(10 * 230);
  });

  it('is the EVs\' own maximum when the site has room, and the site capacity when it does not', () => {
    const roomy = parseScenario({ ...baseRaw, site: { limitA: [200, 200, 200] } });
    const own = [...evBounds(roomy).values()].reduce((a, b) => a + b, 0);
    expect(energyUpperBound(roomy)).toBeCloseTo(own, 0);
    const tight = parseScenario({ ...baseRaw, site: { limitA: [16, 16, 16] } });
    // 16 A x 3 x 230 V for the hour both EVs are there.
    expect(energyUpperBound(tight)).toBeCloseTo(16 * 3 * 230, -1);
  });

  it('Jain index: 1 when equal, 1/n when one takes everything', () => {
    expect(jainIndex([0.5, 0.5, 0.5])).toBe(1);
    expect(jainIndex([1, 0, 0, 0])).toBeCloseTo(0.25, 6);
  });
});

const baseRaw = {
  name: 'bound',
  duration: '2h',
  site: { limitA: [63, 63, 63] },
  baseLoad: { shape: 'flat', peakA: [0, 0, 0], noise: 0 },
  chargers: [{ id: 'A' }, { id: 'B' }],
  evs: [
    { charger: 'A', arrive: '00:00', depart: '01:00', energyWh: 50000, maxA: 32 },
    { charger: 'B', arrive: '00:00', depart: '01:00', energyWh: 5000, maxA: 16 },
  ],
};

// A 2 h run on a 32 A connection: EV1 leaves at 01:35, EV2 would stay until 04:00, after the run has ended.
const pastTheEnd = parseScenario({
  name: 'past-the-end',
  duration: '2h',
  step: '1s',
  seed: 4,
  site: { limitA: [32, 32, 32], voltage: 230 },
  baseLoad: { shape: 'flat', peakA: [2, 2, 2] },
  chargers: ['A', 'B'].map((id) => ({ id, phases: 3, maxA: 32, reactionS: 5 })),
  evs: [
    { charger: 'A', arrive: '00:05', depart: '01:35', energyWh: 20000 },
    { charger: 'B', arrive: '00:05', depart: '04:00', energyWh: 20000 },
  ],
});

describe('the end of a scored run', () => {
  it('is the departure of an EV still plugged in then, for the controller as for the optimum', async () => {
    expect(withinRun(pastTheEnd).evs.map((e) => (e.departAt - pastTheEnd.startAt) / 60_000)).toEqual([95, 120]);
    // The product as it runs (the session planner on): told 04:00, it planned EV2's energy past the end that nobody
    // measures, and EV2 got 16.8 kWh where the optimum, which ends its stay at 02:00, gives it 19.0.
    const d = await scoreScenarioDetailed(pastTheEnd);
    const ev2 = d.evs.controller.find((e) => e.spec.id === 'EV2')!;
    console.log(`past-the-end: EV2 ${Math.round(ev2.deliveredWh)} Wh (optimum ${Math.round(d.optimum.perEvWh.get('EV2')!)}), utilization ${d.score.utilization}`);
    expect(d.score.overload_s).toBe(0);
    expect(ev2.deliveredWh).toBeGreaterThan(0.95 * d.optimum.perEvWh.get('EV2')!);
    expect(d.score.utilization).toBeGreaterThan(0.955);
  }, 120_000);
});
