// The session planner with the real HiGHS solver: who waits so that everyone can be done by their departures.
import { describe, expect, it } from 'vitest';
import { allocate } from '../../algorithms/index.js';
import { buildPlan, PLAN_INCUMBENT_MS } from '../../algorithms/plan.js';
import { applyPlan, loadLpSolver, Planner, type LpSolver } from '../../src/control/planner.js';
import { evse, limits, node, site, V } from '../algorithms/helpers.js';
import type { AllocationInput } from '../../algorithms/types.js';
import { createControlLoop } from '../../src/control/loop.js';
import { parseScenario } from '../../src/sim/scenario.js';
import { scoreScenarioDetailed } from '../../src/sim/score.js';

const NOW = Date.UTC(2026, 0, 1, 12);
const H = 3_600_000;
const silent = { warn: () => undefined } as unknown as ConstructorParameters<typeof Planner>[2];

/**
 * A 24 A connection; a 1-phase EV on L1 that must charge at its 16 A maximum for all of its 8 h to get what it asked
 * for, and two 3-phase EVs that want 11 kWh each and stay 10 h: they can wait, and catch up once it has left.
 */
function busyL1(): AllocationInput {
  const need16 = 16 * V * 8;
  return site(
    [node('grid', 24)],
    [
      evse('one', { phases: 1, maxA: 16, energyWantedWh: need16, departureAt: NOW + 8 * H }),
      evse('a', { energyWantedWh: 11_000, departureAt: NOW + 10 * H }),
      evse('b', { energyWantedWh: 11_000, departureAt: NOW + 10 * H }),
    ],
  );
}

describe('session planner', () => {
  it('gives the EV that needs its maximum all day its maximum, where sharing by the instant gives it less', async () => {
    const solver = await loadLpSolver();
    const input = busyL1();
    const without = limits(allocate(input));
    expect(without.one).toBeLessThan(16);
    const plan = new Planner(solver, 300_000, silent).planFor(input);
    const withPlan = limits(allocate({ ...input, evses: applyPlan(input.evses, plan) }));
    expect(withPlan.one).toBe(16);
    // L1 keeps its limit: what is left of it goes to one 3-phase EV at its minimum or more, the other waits.
    expect(withPlan.one + withPlan.a + withPlan.b).toBeLessThanOrEqual(24);
    expect([withPlan.a, withPlan.b].filter((x) => x >= 6)).toHaveLength(1);
  });

  it('never holds back a session that did not say when it leaves (it may leave any minute)', async () => {
    const solver = await loadLpSolver();
    const input = busyL1();
    input.evses.push(evse('unknown', { previousA: 6 }));
    const plan = new Planner(solver, 300_000, silent).planFor(input);
    expect(plan.has('unknown')).toBe(false);
    const r = limits(allocate({ ...input, evses: applyPlan(input.evses, plan) }));
    expect(r.unknown).toBeGreaterThanOrEqual(6);
    expect(r.one + r.a + r.b + r.unknown).toBeLessThanOrEqual(24);
  });

  it('plans again only when due or told to, and shares without a plan when the solver fails', async () => {
    let calls = 0;
    const real = await loadLpSolver();
    const counting: LpSolver = { solve: (lp, o) => (calls++, real.solve(lp, o)) };
    const planner = new Planner(counting, 300_000, silent);
    const input = busyL1();
    planner.planFor(input);
    const after = calls;
    planner.planFor({ ...input, now: NOW + 60_000 });
    expect(calls).toBe(after);
    planner.invalidate();
    planner.planFor({ ...input, now: NOW + 61_000 });
    expect(calls).toBeGreaterThan(after);
    const broken = new Planner({ solve: () => { throw new Error('wasm trap'); } }, 300_000, silent);
    const plan = broken.planFor(input);
    expect(plan.size).toBe(0);
    expect(applyPlan(input.evses, plan)).toEqual(input.evses);
  });

  it('keeps the first slot with the session charging now where the sessions are otherwise served alike', async () => {
    // Room for one at 32 A (34 A free); both can be done by their departures whoever goes first. Without the steady
    // stage the plan's vertex flipped from one re-plan to the next, and every flip was a handover of 32 A: a cut to
    // wait for (ignoring-station: 0.960 → 0.971 of the optimum with it).
    const solver = await loadLpSolver();
    const two = (running: 'a' | 'b'): AllocationInput =>
      site(
        [node('grid', 34)],
        [
          evse('a', { energyWantedWh: 17_000, energyDeliveredWh: 13_000, departureAt: NOW + 4 * H, previousA: running === 'a' ? 32 : 0 }),
          evse('b', { energyWantedWh: 25_000, departureAt: NOW + 4.5 * H, previousA: running === 'b' ? 32 : 0 }),
        ],
      );
    for (const running of ['a', 'b'] as const) {
      for (let step = 0; step < 6; step++) {
        const input = { ...two(running), now: NOW + step * 300_000 };
        const plan = new Planner(solver, 300_000, silent).planFor(input);
        expect(plan.get(running)).toBeGreaterThanOrEqual(30);
        const r = limits(allocate({ ...input, evses: applyPlan(input.evses, plan) }));
        expect(r[running]).toBeGreaterThanOrEqual(27);
      }
    }
    // Not for good: a session charging for PLAN_INCUMBENT_MS loses the preference (a plan whose forecast does not come
    // true must not starve the other: garage-1phase's G07 got 8.0 kWh of the optimum's 16.6 when it kept it).
    const long = two('a');
    long.evses = long.evses.map((e) => (e.id === 'a' ? { ...e, chargingForMs: PLAN_INCUMBENT_MS } : e));
    const plans = ['a', 'b'].map((r) => new Planner(solver, 300_000, silent).planFor(r === 'a' ? long : two('b')));
    expect(plans.map((p) => (p.get('a')! >= 30 ? 'a' : 'b'))).toEqual(['b', 'b']);
  });

  it('plans nothing for PV modes, several priorities, or sessions that said nothing of their needs', () => {
    const input = busyL1();
    expect(buildPlan(input)).toBeDefined();
    expect(buildPlan({ ...input, settings: { ...input.settings, mode: 'pv' } })).toBeUndefined();
    expect(buildPlan({ ...input, evses: input.evses.map((e, i) => ({ ...e, priority: i })) })).toBeUndefined();
    expect(buildPlan({ ...input, evses: input.evses.map(({ departureAt: _d, ...e }) => e) })).toBeUndefined();
  });
});

describe('session planner in the control loop (site score, virtual time)', () => {
  // The office-day loss in miniature: a 1-phase EV that must charge at its 16 A maximum from 08:00 until it leaves at
  // 14:00, beside two 3-phase EVs that stay till 16:00 and can catch up once it has left, on a 24 A connection.
  const site = parseScenario({
    name: 'busy-l1',
    duration: '16h',
    step: '1s',
    seed: 1,
    site: { limitA: [24, 24, 24], voltage: 230 },
    baseLoad: { shape: 'flat', peakA: [0, 0, 0] },
    chargers: [
      { id: 'C1', phases: 3, maxA: 32, reactionS: 5 },
      { id: 'C2', phases: 3, maxA: 32, reactionS: 5 },
      { id: 'C3', phases: 3, maxA: 32, reactionS: 5 },
    ],
    evs: [
      { charger: 'C1', arrive: '08:00', depart: '14:00', energyWh: 22_080, maxA: 16, phases: 1 },
      { charger: 'C2', arrive: '08:00', depart: '16:00', energyWh: 20_000, maxA: 16, phases: 3 },
      { charger: 'C3', arrive: '08:00', depart: '16:00', energyWh: 20_000, maxA: 16, phases: 3 },
    ],
  });
  const run = async (enabled: boolean) => {
    const lpSolver = await loadLpSolver();
    const d = await scoreScenarioDetailed(site, {
      controlLoopFactory: (inputs) => createControlLoop({ ...inputs, lpSolver }),
      configOverrides: { control: { safeLimitA: [6, 6, 6], planner: { enabled, periodS: 300 } } },
    });
    return { score: d.score, oneWh: d.evs.controller.find((e) => e.spec.charger === 'C1')!.deliveredWh };
  };

  it('gets the 1-phase EV what it asked for where sharing by the instant leaves it short, and keeps the fuse', async () => {
    const without = await run(false);
    const planned = await run(true);
    // Without the plan it gets ~17.3 kWh of its 22.1; with it ~20.8 (the rest is its start and the limit's steps), and
    // the site as a whole gets 0.99 of the perfect-foresight optimum.
    expect(without.oneWh).toBeLessThan(18_500);
    expect(planned.oneWh).toBeGreaterThan(20_000);
    expect(planned.score.energy_wh).toBeGreaterThan(without.score.energy_wh + 2_000);
    expect(planned.score.utilization).toBeGreaterThan(0.99);
    expect(planned.score.overload_s).toBe(0);
  }, 120_000);
});
