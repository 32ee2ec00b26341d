// Property tests over random sites: trees of 1-3 levels, loads (some already over a limit), rotations, 1/3-phase
// mixes, switchable EVSEs, priorities, weights, controllable or not.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocate } from '../../algorithms/index.js';
import { movingSite, stillSite } from './arbitraries.js';
import { byId, outOfRange, overLimits, unusedCapacity } from './check.js';

const RUNS = { numRuns: 400 };

describe('optimizer properties over random sites', () => {
  it('never puts a node over its limit on any phase or in power, unless the all-paused alarm says so', () => {
    fc.assert(
      fc.property(stillSite, (input) => {
        expect(overLimits(input, allocate(input))).toEqual([]);
      }),
      RUNS,
    );
  });

  it('gives every EVSE 0 or a current within [min, max]', () => {
    fc.assert(
      fc.property(stillSite, (input) => {
        expect(outOfRange(input, allocate(input))).toEqual([]);
      }),
      RUNS,
    );
  });

  it('leaves no capacity unused that a charging EVSE below its max, or a paused one at its minimum, could take', () => {
    fc.assert(
      fc.property(stillSite, (input) => {
        expect(unusedCapacity(input, allocate(input))).toEqual([]);
      }),
      RUNS,
    );
  });

  it('is deterministic and ignores the order of EVSEs and nodes', () => {
    fc.assert(
      fc.property(stillSite, fc.func(fc.integer()), (input, key) => {
        const first = allocate(input);
        expect(allocate(structuredClone(input))).toEqual(first);
        const shuffle = <T>(xs: T[]): T[] =>
          xs
            .map((x, i) => ({ x, k: key(i) }))
            .sort((a, b) => a.k - b.k)
            .map((r) => r.x);
        const permuted = { ...input, evses: shuffle(input.evses), nodes: shuffle(input.nodes) };
        const again = allocate(permuted);
        expect(byId(again)).toEqual(byId(first));
        expect(again.alarms).toEqual(first.alarms);
      }),
      RUNS,
    );
  });

  it('with ramp and hysteresis on: still safe, and increases stay within the ramp and outside the band', () => {
    fc.assert(
      fc.property(movingSite, (input) => {
        const result = allocate(input);
        expect(overLimits(input, result)).toEqual([]);
        expect(outOfRange(input, result)).toEqual([]);
        const s = input.settings;
        const step = (s.rampAPerS * s.stepMs) / 1000;
        for (const e of input.evses) {
          if (!e.controllable) continue;
          const a = result.allocations.find((x) => x.evseId === e.id)!;
          if (a.limitA <= e.previousA) continue;
          // An increase: at most one ramp step (a start may jump straight to the minimum)...
          expect(a.limitA).toBeLessThanOrEqual(Math.max(e.previousA + step, e.minA) + 1e-9);
          // ...and never a rise smaller than the band on the same phases.
          if (e.previousA > 0 && a.phases === e.previousPhases && e.previousA >= e.minA) {
            expect(a.limitA - e.previousA).toBeGreaterThanOrEqual(Math.min(s.hysteresisA, step) - 0.1 - 1e-9);
          }
        }
      }),
      RUNS,
    );
  });

  it('never throws on damaged input and reports the problem', () => {
    fc.assert(
      fc.property(stillSite, fc.constantFrom('nan-limit', 'unknown-node', 'cycle', 'dup-evse', 'bad-voltage'), (input, damage) => {
        const bad = structuredClone(input);
        if (damage === 'nan-limit') bad.nodes[0].limitA = [NaN, 10, 10];
        if (damage === 'unknown-node' && bad.evses[0]) bad.evses[0].nodeId = 'nowhere';
        if (damage === 'cycle') bad.nodes[0].parentId = bad.nodes[bad.nodes.length - 1].id;
        if (damage === 'dup-evse' && bad.evses[0]) bad.evses.push({ ...bad.evses[0] });
        if (damage === 'bad-voltage') bad.voltageV = -1;
        const result = allocate(bad);
        expect(result.allocations.length).toBe(bad.evses.length);
        for (const a of result.allocations) expect(Number.isFinite(a.limitA)).toBe(true);
        const touched = damage !== 'unknown-node' && damage !== 'dup-evse' ? true : bad.evses.length > 0;
        if (touched) expect(result.problems?.length ?? 0).toBeGreaterThan(0);
      }),
      { numRuns: 200 },
    );
  });
});
