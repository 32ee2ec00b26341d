// Example tests: ramp and hysteresis (and that neither ever holds a limit that no longer fits); bad input.
import { describe, expect, it } from 'vitest';
import { allocate } from '../../algorithms/index.js';
import type { AllocationInput } from '../../algorithms/types.js';
import { evse, node, of, site } from './helpers.js';

describe('ramp', () => {
  it('limits an increase to rampAPerS x stepMs', () => {
    // Target 21 A (63 A / 3), previous 10 A, ramp 1 A/s over a 1 s step: 11 A now.
    const r = allocate(
      site([node('grid', 63)], [evse('a', { previousA: 10 }), evse('b', { previousA: 21 }), evse('c', { previousA: 21 })], {}, { rampAPerS: 1, stepMs: 1000 }),
    );
    expect(of(r, 'a')).toMatchObject({ limitA: 11, reason: 'ramp' });
    expect(of(r, 'b').limitA).toBe(21);
  });

  it('starts a paused session at its minimum, not below it', () => {
    // From 0 with 1 A/s the ramp would allow 1 A: below the 6 A minimum, so it starts at 6 A.
    const r = allocate(site([node('grid', 63)], [evse('a')], {}, { rampAPerS: 1, stepMs: 1000 }));
    expect(of(r, 'a')).toMatchObject({ limitA: 6, reason: 'ramp' });
  });

  it('applies a decrease at once', () => {
    // Was 30 A; a 21 A share is all that fits now: 21 A, whatever the ramp.
    const r = allocate(
      site([node('grid', 63)], [evse('a', { previousA: 30 }), evse('b', { previousA: 21 }), evse('c', { previousA: 12 })], {}, { rampAPerS: 0.1, stepMs: 1000 }),
    );
    expect(of(r, 'a').limitA).toBe(21);
  });
});

describe('hysteresis', () => {
  it('skips an increase smaller than the band', () => {
    // Target 20.4 A, previous 20 A, band 1 A: stays at 20 A.
    const r = allocate(site([node('grid', 20.4)], [evse('a', { previousA: 20 })], {}, { hysteresisA: 1 }));
    expect(of(r, 'a')).toMatchObject({ limitA: 20, reason: 'hysteresis' });
    // Target 21.5 A: 1.5 A >= 1 A, made.
    const up = allocate(site([node('grid', 21.5)], [evse('a', { previousA: 20 })], {}, { hysteresisA: 1 }));
    expect(up.allocations[0].limitA).toBe(21.5);
  });

  it('holdBandA 0 lets the allocation follow small rises while the start margin stays', () => {
    // The control loop passes holdBandA 0 (its dispatcher sends small rises with the next renewal): 20 -> 20.4 A.
    const r = allocate(site([node('grid', 20.4)], [evse('a', { previousA: 20 })], {}, { hysteresisA: 1, holdBandA: 0 }));
    expect(of(r, 'a').limitA).toBe(20.4);
    // A paused session still needs its minimum plus hysteresisA: 6.5 A free is not enough.
    const p = allocate(site([node('grid', 6.5)], [evse('a', { pausedForMs: 60_000 })], {}, { hysteresisA: 1, holdBandA: 0 }));
    expect(of(p, 'a').limitA).toBe(0);
  });

  it('never keeps a previous limit that no longer fits', () => {
    // Previous 20 A, now only 19.8 A fits: 19.8 A at once, even though the change is inside the 1 A band.
    const r = allocate(site([node('grid', 19.8)], [evse('a', { previousA: 20 })], {}, { hysteresisA: 1, rampAPerS: 1 }));
    expect(of(r, 'a').limitA).toBe(19.8);
  });

  it('needs the minimum plus the band free before starting a paused session', () => {
    // 6.5 A free < 6 + 1: the paused session does not start (it would stop again at the next dip).
    const r = allocate(site([node('grid', 6.5)], [evse('a', { pausedForMs: 60_000 })], {}, { hysteresisA: 1 }));
    expect(of(r, 'a')).toMatchObject({ limitA: 0, reason: 'paused-no-capacity' });
  });
});

describe('bad input', () => {
  it('pauses an EVSE under an unknown node and says why', () => {
    const r = allocate(site([node('grid', 63)], [evse('a', { nodeId: 'nowhere' }), evse('b')]));
    expect(of(r, 'a')).toMatchObject({ limitA: 0, limitedBy: 'input' });
    expect(of(r, 'b').limitA).toBe(32);
    expect(r.problems).toEqual(['EVSE a: node nowhere is unknown or invalid; paused']);
  });

  it('takes a non-numeric limit as 0 and an unknown load as filling the phase', () => {
    const r = allocate(site([node('grid', [Number.NaN, 32, 32])], [evse('a'), evse('onL2', { phases: 1, rotation: 'L2L3L1' })]));
    expect(of(r, 'a').limitA).toBe(0);
    expect(of(r, 'onL2').limitA).toBe(32);
    expect(r.problems).toContain('node grid: limitA[0] is not a number; taken as 0');
  });

  it('pauses everything when no node is known (no limit is no permission)', () => {
    const r = allocate(site([], [evse('a')]));
    expect(of(r, 'a').limitA).toBe(0);
  });

  it('returns a problem instead of throwing on a missing input', () => {
    expect(allocate(undefined as unknown as AllocationInput)).toEqual({ allocations: [], alarms: [], problems: ['input is not an object'] });
  });

  it('finds a parent cycle', () => {
    const r = allocate(site([node('a', 32, { parentId: 'b' }), node('b', 32, { parentId: 'a' })], [evse('x', { nodeId: 'a' })]));
    expect(of(r, 'x').limitA).toBe(0);
    expect(r.problems?.some((p) => p.includes('cycle'))).toBe(true);
  });
});

describe('closed loop with a grid meter', () => {
  it('follows a PV ramp up and down without flapping', () => {
    // PV rises 0 -> 8000 W over 5 min and falls back over 5 min; the house takes 500 W; the EV draws exactly its
    // limit; the grid meter reads house + EV - PV. A switchable EVSE in PV mode should start once, go to 3 phases
    // once, come back to 1 phase once and stop once — not start/stop or switch phases with every reading.
    const houseW = 500;
    let e = evse('a', { mode: 'pv', maxA: 16, canSwitchPhases: true });
    let starts = 0;
    let stops = 0;
    let switches = 0;
    let importedWh = 0;
    let houseOnlyWh = 0;
    for (let s = 0; s < 600; s++) {
      const pvW = s < 300 ? (8000 * s) / 300 : (8000 * (600 - s)) / 300;
      const drawW = e.previousA * e.previousPhases * 230;
      const r = allocate(site([node('grid', 63)], [e], { now: s * 1000, grid: { powerW: houseW + drawW - pvW } }, { rampAPerS: 2, hysteresisA: 1 }));
      const a = of(r, 'a');
      if (a.limitA > 0 && e.previousA === 0) starts++;
      if (a.limitA === 0 && e.previousA > 0) stops++;
      if (a.limitA > 0 && e.previousA > 0 && a.phases !== e.previousPhases) switches++;
      const measuredA = a.phases === 3 ? ([a.limitA, a.limitA, a.limitA] as [number, number, number]) : ([a.limitA, 0, 0] as [number, number, number]);
      importedWh += Math.max(0, houseW + a.limitA * a.phases * 230 - pvW) / 3600;
      houseOnlyWh += Math.max(0, houseW - pvW) / 3600;
      e = { ...e, previousA: a.limitA, previousPhases: a.phases, measuredA };
    }
    expect(starts).toBe(1);
    expect(stops).toBe(1);
    expect(switches).toBeLessThanOrEqual(2);
    // The EV imports (almost) nothing: it follows the surplus down at once and up within the ramp.
    expect(importedWh - houseOnlyWh).toBeLessThan(1);
  });
});
