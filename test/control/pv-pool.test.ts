// The PV surplus in mode pv is read from the grid meter with each EVSE at its limits in force, not from the EVSEs'
// own MeterValues, which lag the meter by up to their interval. Read from those, a rise that had landed looked like
// house load: the car it had raised was cut, started again, raised, cut — a contactor cycle every 40 s all morning.
// And a wallbox slow to apply a limit gets no new one before the last has landed.
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/sim/scenario.js';
import { scoreScenarioDetailed } from '../../src/sim/score.js';

/** One car on a clear morning in mode pv, its wallbox applying a limit `reactionS` after it gets it: stops of the car,
 * the score, and the energy it took from the grid while charging. 4 kWp on a clear day, a small flat house load, one
 * 1-phase 16 A wallbox: the surplus grows from under the car's 1.4 kW minimum at 08:00 to about 3.7 kW by 13:00. */
async function oneCarMorning(reactionS: number) {
  const s = parseScenario({
    name: 'one-car-sun',
    duration: '13h',
    step: '1s',
    seed: 4,
    mode: 'pv',
    site: { limitA: [25, 25, 25], voltage: 230 },
    baseLoad: { shape: 'flat', peakA: [1, 1, 1] },
    pv: { peakW: 4000, clouds: 0 },
    chargers: [{ id: 'WB', phases: 1, maxA: 16, reactionS }],
    evs: [{ charger: 'WB', arrive: '08:00', depart: '13:00', energyWh: 40_000, maxA: 16, phases: 1 }],
  });
  let stops = 0;
  let charging = false;
  let importedWh = 0;
  let last: { at: number; evEnergyWh: number } | undefined;
  const d = await scoreScenarioDetailed(s, {
    onStep: (snap, sim) => {
      const now = Math.max(...sim.stations.get('WB')!.currentA) > 0.1;
      if (charging && !now) stops++;
      charging = now;
      if (last) {
        const h = (snap.at - last.at) / 3_600_000;
        const evW = (snap.evEnergyWh - last.evEnergyWh) / h;
        if (evW > 1) importedWh += Math.min(evW, Math.max(0, snap.gridW)) * h;
      }
      last = snap;
    },
  });
  return { stops, importedWh, score: d.score };
}

describe('charging on solar surplus (mode pv)', () => {
  it('keeps one car charging on a clear morning instead of stopping and restarting it, and takes nothing from the grid for it', async () => {
    const { stops, importedWh, score } = await oneCarMorning(5);
    // Read from the wallbox's samples: 124 stops, 8.1 kWh (0.73 of the LP), 58 Wh from the grid while charging.
    expect(stops).toBeLessThanOrEqual(5);
    expect(score.utilization).toBeGreaterThan(0.82);
    expect(importedWh).toBeLessThan(0.005 * score.energy_wh);
    expect(score.overload_s).toBe(0);
  }, 60_000);

  it('follows the sun as well with a wallbox that takes 45 s to apply a limit: no new limit before the last has landed', async () => {
    const { stops, importedWh, score } = await oneCarMorning(45);
    // Given new limits while the last was still landing: 36 stops, 5.3 kWh (0.48 of the LP), 133 Wh from the grid.
    expect(stops).toBeLessThanOrEqual(5);
    expect(score.utilization).toBeGreaterThan(0.8);
    expect(importedWh).toBeLessThan(0.005 * score.energy_wh);
    expect(score.overload_s).toBe(0);
  }, 60_000);
});
