// Example tests: fair sharing, phases, the tree, power limits, fixed loads and alarms — with the arithmetic.
import { describe, expect, it } from 'vitest';
import { allocate } from '../../algorithms/index.js';
import { evse, limits, node, of, site } from './helpers.js';

describe('max-min fair sharing', () => {
  it('splits a 63 A connection evenly between three 3-phase EVSEs', () => {
    // 63 A / 3 = 21 A each, below their 32 A maximum.
    const r = allocate(site([node('grid', 63)], [evse('a'), evse('b'), evse('c')]));
    expect(limits(r)).toEqual({ a: 21, b: 21, c: 21 });
    expect(of(r, 'a')).toMatchObject({ phases: 3, reason: 'fair-share', limitedBy: 'grid/L1' });
    expect(r.alarms).toEqual([]);
  });

  it('counts uncontrolled load per phase; the most loaded phase binds', () => {
    // Headroom per phase: 63-20 = 43, 63-10 = 53, 63-5 = 58. Two 3-phase EVSEs share L1: 43 / 2 = 21.5 A.
    const r = allocate(site([node('grid', 63, { uncontrolledA: [20, 10, 5] })], [evse('a'), evse('b')]));
    expect(limits(r)).toEqual({ a: 21.5, b: 21.5 });
    expect(of(r, 'a').limitedBy).toBe('grid/L1');
  });

  it('gives what an EVSE at its maximum leaves to the others', () => {
    // a stops at its 10 A maximum; b and c share the rest: (63 - 10) / 2 = 26.5 A.
    const r = allocate(site([node('grid', 63)], [evse('a', { maxA: 10 }), evse('b'), evse('c')]));
    expect(limits(r)).toEqual({ a: 10, b: 26.5, c: 26.5 });
    expect(of(r, 'a').reason).toBe('max');
  });

  it('shares in proportion to weights within a priority', () => {
    // Water level t: a = 1t, b = 2t. 45 A: 3t = 45 -> t = 15 -> a 15 A, b 30 A.
    const r1 = allocate(site([node('grid', 45)], [evse('a', { weight: 1 }), evse('b', { weight: 2 })]));
    expect(limits(r1)).toEqual({ a: 15, b: 30 });
    // 60 A: b reaches its 32 A cap at t = 16; a then takes the rest alone: 60 - 32 = 28 A.
    const r2 = allocate(site([node('grid', 60)], [evse('a', { weight: 1 }), evse('b', { weight: 2 })]));
    expect(limits(r2)).toEqual({ a: 28, b: 32 });
  });

  it('serves a higher priority first', () => {
    // 40 A: the priority-1 EVSE takes its 32 A maximum; 8 A remain for the two priority-0 EVSEs: only one
    // minimum (6 A) fits, so one gets all 8 A and the other waits. c has received less energy, so c charges.
    const r = allocate(
      site(
        [node('grid', 40)],
        [evse('vip', { priority: 1 }), evse('b', { energyDeliveredWh: 5000 }), evse('c', { energyDeliveredWh: 1000 })],
      ),
    );
    expect(limits(r)).toEqual({ vip: 32, b: 0, c: 8 });
    expect(of(r, 'b').reason).toBe('paused-rotation');
  });
});

describe('the supply tree', () => {
  it('keeps a sub-board under its own fuse and gives the rest of the connection to others', () => {
    // Board 32 A: its two EVSEs get 32 / 2 = 16 A. The grid has 63 - 32 = 31 A left for d (max 32): 31 A.
    const r = allocate(
      site(
        [node('grid', 63), node('board', 32, { parentId: 'grid' })],
        [evse('b1', { nodeId: 'board' }), evse('b2', { nodeId: 'board' }), evse('d')],
      ),
    );
    expect(limits(r)).toEqual({ b1: 16, b2: 16, d: 31 });
    expect(of(r, 'b1')).toMatchObject({ reason: 'fair-share', limitedBy: 'board/L1' });
    expect(of(r, 'd').limitedBy).toBe('grid/L1');
  });

  it('takes a parent as carrying at least what its children carry', () => {
    // The board meter reads 20 A, the grid meter only 5 A (sampled at another moment): the grid is taken to
    // carry 20 A, leaving 32 - 20 = 12 A for the EVSE directly under it.
    const r = allocate(
      site([node('grid', 32, { uncontrolledA: [5, 5, 5] }), node('board', 63, { parentId: 'grid', uncontrolledA: [20, 20, 20] })], [evse('a')]),
    );
    expect(of(r, 'a').limitA).toBe(12);
  });

  it('enforces a node power limit over all three phases', () => {
    // 11 040 W / 230 V = 48 A summed over phases; one 3-phase EVSE: 48 / 3 = 16 A.
    const r = allocate(site([node('grid', 63, { limitW: 11_040 })], [evse('a')]));
    expect(of(r, 'a')).toMatchObject({ limitA: 16, reason: 'power-limit', limitedBy: 'grid/W' });
  });
});

describe('phases and rotation', () => {
  it('puts a 1-phase EVSE on the site phase its rotation wires its L1 to', () => {
    // Site L2 already carries 20 A of 32 A. x is 1-phase on rotation L2L3L1 (its L1 on site L2), y 1-phase on
    // L1L2L3 (site L1), z 3-phase. At the 6 A minimum, L2 has 32 - 20 - 6 (x) - 6 (z) = 0 left: x and z stay
    // at 6 A. y rises alone on L1: 32 - 6 (z) = 26 A.
    const r = allocate(
      site(
        [node('grid', 32, { uncontrolledA: [0, 20, 0] })],
        [evse('x', { phases: 1, rotation: 'L2L3L1' }), evse('y', { phases: 1, rotation: 'L1L2L3' }), evse('z')],
      ),
    );
    expect(limits(r)).toEqual({ x: 6, y: 26, z: 6 });
    expect(of(r, 'x').limitedBy).toBe('grid/L2');
  });

  it('lets 1-phase EVSEs on different phases each use their own phase fully', () => {
    // Three 1-phase EVSEs on L1, L2, L3 under a 16 A board: each gets the whole 16 A of its phase.
    const r = allocate(
      site(
        [node('grid', 16)],
        [evse('p1', { phases: 1, rotation: 'L1L2L3' }), evse('p2', { phases: 1, rotation: 'L2L1L3' }), evse('p3', { phases: 1, rotation: 'L3L2L1' })],
      ),
    );
    expect(limits(r)).toEqual({ p1: 16, p2: 16, p3: 16 });
  });
});

describe('fixed loads and alarms', () => {
  it('counts a non-controllable EVSE at its maximum when its draw is unknown, at its measurement otherwise', () => {
    // Unknown draw: 16 A reserved on every phase -> 32 - 16 = 16 A for the controllable one.
    const unknown = allocate(site([node('grid', 32)], [evse('fixed', { controllable: false, maxA: 16 }), evse('a')]));
    expect(of(unknown, 'a').limitA).toBe(16);
    expect(of(unknown, 'fixed')).toMatchObject({ reason: 'not-controllable', limitA: 16 });
    // Measured 10 A per phase -> 32 - 10 = 22 A.
    const measured = allocate(site([node('grid', 32)], [evse('fixed', { controllable: false, maxA: 16, measuredA: [10, 10, 10] }), evse('a')]));
    expect(of(measured, 'a').limitA).toBe(22);
  });

  it('raises an alarm when a node is over its limit with everything paused, and pauses what loads it', () => {
    // L1 carries 40 A of 32 A without any EVSE: alarm. A 3-phase EVSE would load L1: paused. A 1-phase EVSE on
    // site L2 (rotation L2L3L1) still charges: 32 - 10 = 22 A.
    const r = allocate(
      site([node('grid', 32, { uncontrolledA: [40, 10, 10] })], [evse('three'), evse('onL2', { phases: 1, rotation: 'L2L3L1' })]),
    );
    expect(r.alarms).toEqual([{ nodeId: 'grid', phase: 0, loadWithAllPaused: 40, limit: 32 }]);
    expect(of(r, 'three')).toMatchObject({ limitA: 0, reason: 'paused-no-capacity', limitedBy: 'grid/L1' });
    expect(of(r, 'onL2').limitA).toBe(22);
  });

  it('raises a power alarm too', () => {
    // 3 x 20 A x 230 V = 13 800 W > 11 000 W.
    const r = allocate(site([node('grid', 63, { limitW: 11_000, uncontrolledA: [20, 20, 20] })], [evse('a')]));
    expect(r.alarms).toEqual([{ nodeId: 'grid', phase: -1, loadWithAllPaused: 13_800, limit: 11_000 }]);
    expect(of(r, 'a').limitA).toBe(0);
  });
});
