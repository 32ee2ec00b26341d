// fast-check arbitraries for random sites: trees of 1-3 levels, loads (some already over a limit), rotations,
// 1/3-phase mixes, switchable EVSEs, priorities, weights, controllable or not.
import fc from 'fast-check';
import type { AllocationInput, AllocationSettings, EvseDemand, LimitNode, PhaseVector, Rotation } from '../../algorithms/types.js';

export const ROTATIONS: Rotation[] = ['L1L2L3', 'L2L3L1', 'L3L1L2', 'L1L3L2', 'L3L2L1', 'L2L1L3'];
export const NOW = Date.UTC(2026, 5, 1, 10);

export const phaseVector = (min: number, max: number): fc.Arbitrary<PhaseVector> =>
  fc.oneof(
    fc.integer({ min, max }).map((x): PhaseVector => [x, x, x]),
    fc.tuple(fc.integer({ min, max }), fc.integer({ min, max }), fc.integer({ min, max })),
  );

const nodeArb = (id: string, parentId: string | undefined): fc.Arbitrary<LimitNode> =>
  fc
    .record({
      limitA: phaseVector(0, 100),
      limitW: fc.option(fc.integer({ min: 2_000, max: 60_000 }), { nil: undefined, freq: 4 }),
      // Mostly below the limit; sometimes over it (an alarm).
      uncontrolledA: fc.oneof({ weight: 5, arbitrary: phaseVector(0, 30) }, { weight: 1, arbitrary: phaseVector(0, 120) }),
    })
    .map((r) => {
      const n: LimitNode = { id, limitA: r.limitA, uncontrolledA: r.uncontrolledA };
      if (parentId !== undefined) n.parentId = parentId;
      if (r.limitW !== undefined) n.limitW = r.limitW;
      return n;
    });

/** A tree of 1-3 levels: the grid connection, up to 3 boards, up to 2 sub-boards each. */
export const treeArb: fc.Arbitrary<LimitNode[]> = fc
  .array(fc.integer({ min: 0, max: 2 }), { minLength: 0, maxLength: 3 })
  .chain((boards) => {
    const parts: fc.Arbitrary<LimitNode>[] = [nodeArb('grid', undefined)];
    boards.forEach((subs, b) => {
      parts.push(nodeArb(`b${b}`, 'grid'));
      for (let s = 0; s < subs; s++) parts.push(nodeArb(`b${b}s${s}`, `b${b}`));
    });
    return fc.tuple(...parts);
  });

export const evseArb = (id: string, nodeIds: string[]): fc.Arbitrary<EvseDemand> =>
  fc
    .record({
      nodeId: fc.constantFrom(...nodeIds),
      phases: fc.constantFrom<1 | 3>(1, 3),
      rotation: fc.constantFrom(...ROTATIONS),
      minA: fc.constantFrom(0, 6, 6, 6, 8),
      maxA: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 6, max: 40 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 8 }) }),
      canSwitchPhases: fc.boolean(),
      priority: fc.constantFrom(0, 0, 1, 2),
      weight: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
      energyWantedWh: fc.option(fc.integer({ min: 1_000, max: 60_000 }), { nil: undefined }),
      departureH: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
      energyDeliveredWh: fc.integer({ min: 0, max: 40_000 }),
      controllable: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      measured: fc.option(phaseVector(0, 32), { nil: undefined }),
      previousA: fc.oneof(fc.constant(0), fc.integer({ min: 6, max: 32 })),
      previousPhases: fc.constantFrom<1 | 3>(1, 3),
      pausedForMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2_000_000 })),
      chargingForMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2_000_000 })),
    })
    .map((r) => {
      const e: EvseDemand = {
        id,
        nodeId: r.nodeId,
        phases: r.phases,
        rotation: r.rotation,
        minA: r.minA,
        maxA: r.maxA,
        canSwitchPhases: r.canSwitchPhases,
        priority: r.priority,
        energyDeliveredWh: r.energyDeliveredWh,
        controllable: r.controllable,
        previousA: r.previousA,
        previousPhases: r.previousA > 0 ? r.previousPhases : r.phases,
        pausedForMs: r.previousA > 0 ? 0 : r.pausedForMs,
        chargingForMs: r.previousA > 0 ? r.chargingForMs : 0,
      };
      if (r.weight !== undefined) e.weight = r.weight;
      if (r.energyWantedWh !== undefined) e.energyWantedWh = r.energyWantedWh;
      if (r.departureH !== undefined) e.departureAt = NOW + r.departureH * 3_600_000;
      if (r.measured !== undefined) e.measuredA = r.measured;
      return e;
    });

export const STILL: AllocationSettings = { mode: 'fast', rotationPeriodMs: 600_000, stepMs: 1000, rampAPerS: 0, hysteresisA: 0 };

export const siteArb = (settings: fc.Arbitrary<AllocationSettings>): fc.Arbitrary<AllocationInput> =>
  treeArb.chain((nodes) =>
    fc.integer({ min: 0, max: 12 }).chain((count) =>
      fc.tuple(fc.tuple(...Array.from({ length: count }, (_, i) => evseArb(`cp${i}`, nodes.map((n) => n.id)))), settings).map(
        ([evses, s]): AllocationInput => ({ now: NOW, voltageV: 230, nodes, evses, settings: s }),
      ),
    ),
  );

export const stillSite = siteArb(fc.constant(STILL));
export const movingSite = siteArb(
  fc.record({
    mode: fc.constant<'fast'>('fast'),
    rotationPeriodMs: fc.constantFrom(0, 600_000),
    stepMs: fc.constantFrom(500, 1000, 5000),
    rampAPerS: fc.constantFrom(0.5, 1, 4),
    hysteresisA: fc.constantFrom(0, 0.5, 2),
  }),
);

