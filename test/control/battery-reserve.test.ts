// The home battery kept for the EVs (control.battery.reserveForEvs): the rule that sets its discharge limit, its refill
// from PV, the session planner that decides when it is worth using, and site runs where keeping and refilling it
// deliver more.
import { describe, expect, it } from 'vitest';
import { batteryReserveLimitW, REFILL_SPARE_A, refillW, taperW, type BatteryReserveInput, type RefillInput } from '../../algorithms/battery.js';
import type { AllocationInput } from '../../algorithms/types.js';
import type { AllocationResult } from '../../algorithms/types.js';
import { batteryCommand } from '../../src/control/battery-reserve.js';
import { createControlLoop } from '../../src/control/loop.js';
import { Measurements } from '../../src/control/measurements.js';
import { loadLpSolver, Planner } from '../../src/control/planner.js';
import { parseScenario } from '../../src/sim/scenario.js';
import { scoreScenarioDetailed } from '../../src/sim/score.js';
import { evse, node, site, V } from '../algorithms/helpers.js';
import { gridReading, makeConfig } from './helpers.js';

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

describe('the refill of a kept battery from PV', () => {
  const refill: RefillInput = { socPct: 50, maxChargeW: 10_000, chargeW: 0, pvSurplusW: 8_000, fuseA: [63, 63, 63], gridA: [40, 40, 40], marginA: 0.15, pendingRiseA: [0, 0, 0], voltageV: V };

  it('charges from the PV beyond the base load, within its power and the room the grid connection has', () => {
    expect(refillW(refill)).toBe(8_000);
    expect(refillW({ ...refill, pvSurplusW: 25_000 })).toBe(10_000);
    // 63 A less 55 A, the margin and the spare kept: 5.85 A on every phase (a 3-phase inverter), rounded down to 100 W.
    expect(refillW({ ...refill, gridA: [55, 50, 50] })).toBe(Math.floor(((63 - 55 - 0.15 - REFILL_SPARE_A) * 3 * V) / 100) * 100);
    // What it charges now is in the grid's reading and is replaced by the new command.
    expect(refillW({ ...refill, gridA: [55, 50, 50], chargeW: 6_900 })).toBe(8_000);
    // Rises still to land come first.
    expect(refillW({ ...refill, gridA: [55, 50, 50], pendingRiseA: [6, 0, 0] })).toBe(0);
    // A battery discharging now (released) takes that much import off the reading; told to charge, it stops: 20 A per
    // phase come back before the room is counted (40 A without it, not 20). It had been told to charge 28 kW on top.
    const big = { ...refill, maxChargeW: 30_000, pvSurplusW: 25_000, gridA: [20, 20, 20] as RefillInput['gridA'] };
    expect(refillW({ ...big, chargeW: -20 * 3 * V })).toBe(Math.floor(((63 - 40 - 0.15 - REFILL_SPARE_A) * 3 * V) / 100) * 100);
  });

  it('leaves the battery to itself when full, unsure of the grid or of the PV, or with too little to charge', () => {
    expect(refillW({ ...refill, socPct: 99 })).toBe(0);
    expect(refillW({ ...refill, gridA: undefined })).toBe(0);
    expect(refillW({ ...refill, pvSurplusW: undefined })).toBe(0);
    expect(refillW({ ...refill, maxChargeW: 0 })).toBe(0);
    expect(refillW({ ...refill, pvSurplusW: 400 })).toBe(0);
  });
});

describe('when the loop refills a kept battery', () => {
  const device = (id: string, role: string, unitId: number) => ({ id, role, driver: 'modbus-tcp', host: '127.0.0.1', port: 1502, unitId, map: 'sunspec', pollMs: 1000, staleMs: 5000 });
  const config = (battery: Record<string, unknown> = {}) =>
    makeConfig({ site: { limitA: [63, 63, 63] }, meters: [device('grid', 'grid', 1), device('pv', 'pv', 2), device('bat', 'battery', 3)] }, { battery: { minSocPct: 10, reserveForEvs: true, capacityWh: 40_000, ...battery } });
  const command = (opts: { pvW?: number | null; mode?: 'fast' | 'pv'; reason?: AllocationResult['allocations'][number]['reason']; limitedBy?: string; planW?: number; battery?: Record<string, unknown> } = {}) => {
    const cfg = config(opts.battery);
    const m = new Measurements(cfg);
    m.apply(gridReading(NOW, [30, 30, 30]));
    m.apply({ deviceId: 'bat', at: NOW, quality: 'good', values: { batterySocPct: 50, batteryPowerW: 0, batteryMaxChargeW: 10_000, batteryMaxDischargeW: 10_000 } });
    if (opts.pvW !== null) m.apply({ deviceId: 'pv', at: NOW, quality: 'good', values: { pvPowerW: opts.pvW ?? 9_000 } });
    const input = site([node('site', 63)], [evse('a', { maxA: 16, previousA: 16 })], { pvSurplusW: 6_000 }, { mode: opts.mode ?? 'fast' });
    const result: AllocationResult = { allocations: [{ evseId: 'a', limitA: 16, phases: 3, reason: opts.reason ?? 'max', ...(opts.limitedBy ? { limitedBy: opts.limitedBy } : {}) }], alarms: [] };
    return batteryCommand({ config: cfg, measurements: m, fuseA: [63, 63, 63], views: [], input, result, ...(opts.planW !== undefined ? { planW: opts.planW } : {}) });
  };

  it('tells the battery to charge the PV beyond the base load while every EVSE in mode fast gets what it can take', () => {
    expect(command()).toEqual({ dischargeLimitW: -6_000 });
    // An EVSE held back by a sub-board leaves the grid connection's room to the battery.
    expect(command({ reason: 'node-limit', limitedBy: 'boardA/L1' })).toEqual({ dischargeLimitW: -6_000 });
    // No more than the PV meter shows (the surplus read from the grid meter takes a rise not yet sampled as landed).
    expect(command({ pvW: 4_000 })).toEqual({ dischargeLimitW: -4_000 });
  });

  it('leaves the sun to an EVSE that wants more, to one in mode pv, and the battery to the plan or to itself when told', () => {
    // Held back by the grid connection: no refill (the battery is released, as before).
    expect(command({ reason: 'fair-share', limitedBy: 'site/L2' })).toEqual({});
    // Not told to charge (a limit of 0 or more, or released).
    const noRefill = (c: ReturnType<typeof command>) => (c?.dischargeLimitW ?? 0) >= 0;
    expect(noRefill(command({ reason: 'paused-rotation' }))).toBe(true);
    // In mode pv the sun is the EV's: the grid must not stand in for it.
    expect(noRefill(command({ mode: 'pv' }))).toBe(true);
    // The plan wants discharge now.
    expect(command({ planW: 3_000 })).toEqual({ dischargeLimitW: 3_000 });
    expect(noRefill(command({ battery: { refillFromPv: false } }))).toBe(true);
    // Without a PV meter nothing says there is sun.
    expect(noRefill(command({ pvW: null }))).toBe(true);
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
    // The LP takes a kept battery over from the start, as the controller does (it holds it until the vans come): a
    // bound on the run (taken over at the first arrival, it had been 0.1 % under it).
    expect(kept.score.energy_wh).toBeLessThanOrEqual(kept.score.energy_optimal_wh);
  }, 120_000);
});

describe('a site that refills its kept battery from PV', () => {
  // Two vans at midday on a sunny day that the grid connection can carry at their maximum, four in the evening that it
  // cannot. Left to itself the battery charges only from export: before the vans come and after they leave, while they
  // take the sun (52 % at 17:00). Refilled, the vans draw from the grid at midday while the sun fills the battery.
  const scenario = (refillFromPv: boolean) =>
    parseScenario({
      name: `refill-${refillFromPv ? 'on' : 'off'}`,
      duration: '22h',
      step: '1s',
      seed: 7,
      site: { limitA: [63, 63, 63], voltage: 230 },
      baseLoad: { shape: 'flat', peakA: [4, 4, 4] },
      pv: { peakW: 15_000, clouds: 0 },
      battery: { capacityWh: 40_000, maxW: 10_000, soc: 0.2, minSoc: 0.1, reserveForEvs: true, refillFromPv },
      chargers: ['C1', 'C2', 'C3', 'C4'].map((id) => ({ id, phases: 3, maxA: 32, reactionS: 5 })),
      evs: [
        { charger: 'C1', arrive: '09:00', depart: '16:00', energyWh: 200_000, maxA: 16, phases: 3 },
        { charger: 'C2', arrive: '09:00', depart: '16:00', energyWh: 200_000, maxA: 16, phases: 3 },
        { charger: 'C1', arrive: '17:00', depart: '21:00', energyWh: 60_000, maxA: 32, phases: 3 },
        { charger: 'C2', arrive: '17:00', depart: '21:00', energyWh: 60_000, maxA: 32, phases: 3 },
        { charger: 'C3', arrive: '17:00', depart: '21:00', energyWh: 60_000, maxA: 32, phases: 3 },
        { charger: 'C4', arrive: '17:00', depart: '21:00', energyWh: 60_000, maxA: 32, phases: 3 },
      ],
    });

  it('meets the evening with a fuller battery and delivers more then, the midday vans losing nothing and the fuse never over', async () => {
    const lpSolver = await loadLpSolver();
    const s0 = scenario(false);
    const run = async (s: ReturnType<typeof scenario>) => {
      let socAtEvening = NaN;
      const d = await scoreScenarioDetailed(s, {
        controlLoopFactory: (inputs) => createControlLoop({ ...inputs, lpSolver }),
        onStep: (snap) => {
          if (snap.at === s0.startAt + 17 * H) socAtEvening = snap.batterySoc ?? NaN;
        },
      });
      const delivered = (fromH: number, toH: number) =>
        d.evs.controller.filter((e) => e.spec.arriveAt - s0.startAt >= fromH * H && e.spec.arriveAt - s0.startAt < toH * H).reduce((a, e) => a + e.deliveredWh, 0);
      return { d, socAtEvening, midday: delivered(0, 16), evening: delivered(16, 24) };
    };
    const off = await run(s0);
    const on = await run(scenario(true));
    console.log(`refill from PV: battery at 17:00 ${(on.socAtEvening * 100).toFixed(1)} % against ${(off.socAtEvening * 100).toFixed(1)} %; midday ${Math.round(on.midday)} Wh against ${Math.round(off.midday)}, evening ${Math.round(on.evening)} against ${Math.round(off.evening)}; LP ${Math.round(on.d.score.energy_optimal_wh)}`);
    expect(on.d.score.overload_s).toBe(0);
    expect(off.d.score.overload_s).toBe(0);
    expect(on.socAtEvening).toBeGreaterThan(off.socAtEvening + 0.3);
    expect(on.midday).toBeGreaterThanOrEqual(off.midday - 50);
    expect(on.evening).toBeGreaterThan(off.evening + 8_000);
    // The LP (perfect foresight) still bounds what the refilled site delivers.
    expect(on.d.score.energy_wh).toBeLessThanOrEqual(on.d.score.energy_optimal_wh);
  }, 240_000);
});
