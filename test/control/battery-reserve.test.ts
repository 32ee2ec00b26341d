// The home battery kept for the EVs (control.battery.reserveForEvs): the rule that sets its discharge limit, the
// session planner that decides when it is worth using, and a site run where keeping it delivers more.
import { describe, expect, it } from 'vitest';
import { batteryReserveLimitW, taperW, type BatteryReserveInput } from '../../algorithms/battery.js';
import type { AllocationInput } from '../../algorithms/types.js';
import { createControlLoop } from '../../src/control/loop.js';
import { loadLpSolver, Planner } from '../../src/control/planner.js';
import { parseScenario } from '../../src/sim/scenario.js';
import { scoreScenarioDetailed } from '../../src/sim/score.js';
import { evse, node, site, V } from '../algorithms/helpers.js';

const NOW = Date.UTC(2026, 0, 1, 12);
const H = 3_600_000;
const silent = { warn: () => undefined } as unknown as ConstructorParameters<typeof Planner>[2];

const base: BatteryReserveInput = {
  dischargeW: 10_000,
  maxDischargeW: 20_000,
  usable: true,
  fuseA: [80, 80, 80],
  gridA: [70, 70, 70],
  marginA: 0.15,
  pendingRiseA: [0, 0, 0],
  gridBinding: false,
  voltageV: V,
};

describe('the battery discharge limit', () => {
  it('holds the battery back only by the room the grid meter shows, less the rises still to land', () => {
    // 9.85 A of room on every phase: the grid can take over 9.85 × 690 W of the 10 kW.
    expect(batteryReserveLimitW(base)).toBe(Math.round(10_000 - 9.85 * 3 * V));
    // An EVSE still rising by 5 A on L2 leaves 4.85 A there: the tightest phase decides (a 3-phase inverter).
    expect(batteryReserveLimitW({ ...base, pendingRiseA: [0, 5, 0] })).toBe(Math.round(10_000 - 4.85 * 3 * V));
    // Plenty of room: held to nothing.
    expect(batteryReserveLimitW({ ...base, gridA: [20, 20, 20] })).toBe(0);
    // The grid over its limit: the battery may give more than it does now.
    expect(batteryReserveLimitW({ ...base, gridA: [82, 70, 70] })!).toBeGreaterThan(10_000);
  });

  it('releases the battery when unsure of the grid or of its charge, and when the fuse binds without a plan', () => {
    expect(batteryReserveLimitW({ ...base, gridA: undefined })).toBeUndefined();
    expect(batteryReserveLimitW({ ...base, usable: false })).toBeUndefined();
    expect(batteryReserveLimitW({ ...base, gridBinding: true })).toBeUndefined();
    // More than it can give is no limit.
    expect(batteryReserveLimitW({ ...base, gridA: [100, 100, 100] })).toBeUndefined();
  });

  it('winds a kept battery down over the last points above its minimum instead of letting it stop at full power', () => {
    // 30 kW, minimum 10 %: full power down to 15 %, half at 13 %, nothing from 11 %.
    expect(taperW(15, 10, 30_000)).toBe(30_000);
    expect(taperW(13, 10, 30_000)).toBe(15_000);
    expect(taperW(11, 10, 30_000)).toBe(0);
    // A battery that does not say its power: all of it above 5 points, nothing below, as one left to itself.
    expect(taperW(16, 10, 0)).toBe(Infinity);
    expect(taperW(13, 10, 0)).toBe(0);
    // Held there even where it would be released (the fuse binds, no plan), and never above what the rules give.
    expect(batteryReserveLimitW({ ...base, gridBinding: true, taperW: 15_000 })).toBe(15_000);
    expect(batteryReserveLimitW({ ...base, gridA: [20, 20, 20], planW: 8_000, taperW: 15_000 })).toBe(8_000);
    expect(batteryReserveLimitW({ ...base, gridA: undefined, taperW: 15_000 })).toBeUndefined();
  });

  it('gives at least what the session plan gives now, and no more than the room needs beyond it', () => {
    expect(batteryReserveLimitW({ ...base, gridA: [20, 20, 20], planW: 8_000 })).toBe(8_000);
    // A plan that keeps the battery holds it even where the fuse binds (the plan knows what it is worth later).
    expect(batteryReserveLimitW({ ...base, gridA: [20, 20, 20], gridBinding: true, planW: 0 })).toBe(0);
  });
});

/** A 32 A connection with a 40 kWh battery (30 kWh to spare) kept for the EVs, two 3-phase EVs leaving in `stayH`. */
function twoVans(wantedWh: number, stayH: number, extra: Partial<AllocationInput> = {}): AllocationInput {
  return site(
    [node('grid', 32)],
    [
      evse('a', { energyWantedWh: wantedWh, departureAt: NOW + stayH * H }),
      evse('b', { energyWantedWh: wantedWh, departureAt: NOW + stayH * H }),
    ],
    { now: NOW, batteryReserve: { usableWh: 30_000, maxDischargeW: 10_000, creditedA: [0, 0, 0], spareA: [32, 32, 32] }, ...extra },
  );
}

describe('the session planner with the battery', () => {
  it('plans the battery for energy the grid cannot give by the departures, and keeps it where the grid can', async () => {
    const solver = await loadLpSolver();
    // 2 × 30 kWh in 2 h against 32 A × 690 W × 2 h = 44 kWh from the grid: 16 kWh must come from the battery.
    const short = new Planner(solver, 300_000, silent);
    short.planFor(twoVans(30_000, 2));
    expect(short.plannedBatteryW()).toBeGreaterThan(5_000);
    // 2 × 15 kWh in 4 h: the grid alone does it; the battery is kept for the EVs that come later.
    const easy = new Planner(solver, 300_000, silent);
    easy.planFor(twoVans(15_000, 4));
    expect(easy.plannedBatteryW()).toBe(0);
  });

  it("plans no discharge beyond what the grid connection's limit can credit (export is credited up to the limit again)", async () => {
    const solver = await loadLpSolver();
    // PV already exports enough that the root's limit credits only 5 A more per phase: 5 A × 690 W is all the battery
    // can add for the EVs; discharging more would only lower the import, at the evening's expense.
    const capped = new Planner(solver, 300_000, silent);
    capped.planFor(twoVans(30_000, 2, { batteryReserve: { usableWh: 30_000, maxDischargeW: 10_000, creditedA: [0, 0, 0], spareA: [5, 5, 5] } }));
    const w = capped.plannedBatteryW() ?? 0;
    expect(w).toBeGreaterThan(3_000);
    expect(w).toBeLessThanOrEqual(5 * 690 + 1);
  });

  it('does not drain a 3-phase battery to relieve one phase for a 1-phase EV (a third of each Wh would reach it)', async () => {
    const solver = await loadLpSolver();
    const planner = new Planner(solver, 300_000, silent);
    // L1 carries 20 A of other load: the 1-phase EV gets 12 of its 32 A there and wants more than that gives in 2 h.
    const input = site(
      [node('grid', 32, { uncontrolledA: [20, 0, 0] })],
      [evse('one', { phases: 1, maxA: 32, energyWantedWh: 12_000, departureAt: NOW + 2 * H }), evse('b', { energyWantedWh: 5_000, departureAt: NOW + 2 * H })],
      { now: NOW, batteryReserve: { usableWh: 30_000, maxDischargeW: 10_000, creditedA: [0, 0, 0], spareA: [32, 32, 32] } },
    );
    planner.planFor(input);
    expect(planner.plannedBatteryW()).toBe(0);
  });
});

describe('a site that keeps its battery for the EVs', () => {
  // Two vans at midday that the grid alone can serve, four in the afternoon that it cannot. A battery left to itself
  // discharges into the midday vans (it answers any import) and is near its minimum when the afternoon needs it.
  const scenario = (reserveForEvs: boolean) =>
    parseScenario({
      name: `battery-${reserveForEvs ? 'kept' : 'own'}`,
      duration: '8h',
      step: '1s',
      seed: 2,
      site: { limitA: [32, 32, 32], voltage: 230 },
      baseLoad: { shape: 'flat', peakA: [4, 4, 4] },
      battery: { capacityWh: 30_000, maxW: 10_000, soc: 0.9, minSoc: 0.1, reserveForEvs },
      chargers: ['C1', 'C2', 'C3', 'C4'].map((id) => ({ id, phases: 3, maxA: 32, reactionS: 5 })),
      evs: [
        { charger: 'C1', arrive: '00:30', depart: '03:00', energyWh: 12_000, maxA: 16, phases: 3 },
        { charger: 'C2', arrive: '00:30', depart: '03:00', energyWh: 12_000, maxA: 16, phases: 3 },
        { charger: 'C1', arrive: '04:00', depart: '07:00', energyWh: 30_000, maxA: 32, phases: 3 },
        { charger: 'C2', arrive: '04:00', depart: '07:00', energyWh: 30_000, maxA: 32, phases: 3 },
        { charger: 'C3', arrive: '04:00', depart: '07:00', energyWh: 30_000, maxA: 32, phases: 3 },
        { charger: 'C4', arrive: '04:00', depart: '07:00', energyWh: 30_000, maxA: 32, phases: 3 },
      ],
    });

  it('delivers more to the afternoon vans, never over the fuse beyond the reaction window', async () => {
    const lpSolver = await loadLpSolver();
    const run = (s: ReturnType<typeof scenario>) => scoreScenarioDetailed(s, { controlLoopFactory: (inputs) => createControlLoop({ ...inputs, lpSolver }) });
    const s0 = scenario(false);
    const own = await run(s0);
    const kept = await run(scenario(true));
    const afternoon = (d: Awaited<ReturnType<typeof run>>) => d.evs.controller.filter((e) => e.spec.arriveAt - s0.startAt >= 4 * H);
    const sum = (d: Awaited<ReturnType<typeof run>>) => afternoon(d).reduce((a, e) => a + e.deliveredWh, 0);
    console.log(`battery kept for the EVs: ${Math.round(kept.score.energy_wh)} Wh (afternoon ${Math.round(sum(kept))}) against ${Math.round(own.score.energy_wh)} (${Math.round(sum(own))}); LP ${Math.round(kept.score.energy_optimal_wh)}`);
    expect(kept.score.overload_s).toBe(0);
    expect(own.score.overload_s).toBe(0);
    // The midday vans are served in full either way; the afternoon gets the battery's charge.
    expect(kept.score.energy_wh).toBeGreaterThan(own.score.energy_wh + 5_000);
    expect(sum(kept)).toBeGreaterThan(sum(own) + 5_000);
  }, 120_000);
});
