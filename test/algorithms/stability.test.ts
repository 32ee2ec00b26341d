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
