// Property tests with the energy picture switched on: random modes (fast / pv / minpv per site and per EVSE),
// grid, PV and battery readings, an import ceiling and tariff windows. The fuse promises must still hold, and
// the import ceiling and "PV only from the surplus" too.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocate } from '../../algorithms/index.js';
import type { AllocationInput, ChargingMode } from '../../algorithms/types.js';
import { NOW, STILL, siteArb } from './arbitraries.js';
import { nodeLoads, outOfRange, overLimits, sitePhases } from './check.js';

const H = 3_600_000;
const MODES: ChargingMode[] = ['fast', 'pv', 'minpv'];

const energySite: fc.Arbitrary<AllocationInput> = fc
  .tuple(
    siteArb(fc.constantFrom(...MODES).map((mode) => ({ ...STILL, mode }))),
    fc.array(fc.option(fc.constantFrom(...MODES), { nil: undefined }), { minLength: 12, maxLength: 12 }),
    fc.option(fc.integer({ min: -20_000, max: 20_000 }), { nil: undefined }),
    fc.option(fc.integer({ min: 0, max: 30_000 }), { nil: undefined }),
    fc.option(
      fc.record({ socPct: fc.integer({ min: 0, max: 100 }), powerW: fc.integer({ min: -5000, max: 5000 }), maxDischargeW: fc.integer({ min: 0, max: 10_000 }), minSocPct: fc.constant(20) }),
      { nil: undefined },
    ),
    fc.option(fc.integer({ min: 0, max: 40_000 }), { nil: undefined }),
    fc.boolean(),
  )
  .map(([input, modes, gridW, pvW, battery, ceiling, withTariff]) => {
    const out: AllocationInput = { ...input, evses: input.evses.map((e, i) => (modes[i] ? { ...e, mode: modes[i] } : e)) };
    if (gridW !== undefined) out.grid = { powerW: gridW };
    if (pvW !== undefined) out.pv = { powerW: pvW };
    if (battery !== undefined) out.battery = battery;
    out.settings = { ...out.settings };
    if (ceiling !== undefined) out.settings.importCeilingW = ceiling;
    if (withTariff) out.settings.tariff = [{ from: NOW, to: NOW + 4 * H, price: 0.3 }, { from: NOW + 4 * H, to: NOW + 10 * H, price: 0.1 }];
    return out;
  });

/** What the controllable EVSEs draw now, as the contract defines it (measured, else the previous limit). */
function evDrawW(input: AllocationInput): number {
  let w = 0;
  for (const e of input.evses) {
    if (!e.controllable) continue;
    if (e.measuredA) w += (Math.max(0, e.measuredA[0]) + Math.max(0, e.measuredA[1]) + Math.max(0, e.measuredA[2])) * input.voltageV;
    else if (e.previousA > 0) w += e.previousA * e.previousPhases * input.voltageV;
  }
  return w;
}

function rootBaseW(input: AllocationInput): number {
  const nothing = { allocations: input.evses.map((e) => ({ evseId: e.id, limitA: 0, phases: e.phases, reason: 'max' as const })), alarms: [] };
  const root = nodeLoads(input, nothing).get('grid')!;
  return (root.base[0] + root.base[1] + root.base[2]) * input.voltageV;
}

function allocatedW(input: AllocationInput, result: ReturnType<typeof allocate>, which: (mode: ChargingMode) => boolean): number {
  let w = 0;
  for (const e of input.evses) {
    if (!e.controllable || !which(e.mode ?? input.settings.mode)) continue;
    const a = result.allocations.find((x) => x.evseId === e.id)!;
    w += a.limitA * sitePhases(e.rotation, a.phases).length * input.voltageV;
  }
  return w;
}

describe('optimizer properties with modes, PV, battery, import ceiling and tariffs', () => {
  it('keeps every node within its limits and every EVSE at 0 or within [min, max]', () => {
    fc.assert(
      fc.property(energySite, (input) => {
        const result = allocate(input);
        expect(overLimits(input, result)).toEqual([]);
        expect(outOfRange(input, result)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps grid import under the ceiling (or pauses everyone when the site alone is over it)', () => {
    fc.assert(
      fc.property(energySite, (input) => {
        fc.pre(input.settings.importCeilingW !== undefined);
        const result = allocate(input);
        const pvW = Math.max(0, input.pv?.powerW ?? 0);
        const batteryW = input.battery?.powerW ?? 0;
        const importWithoutEvs = input.grid ? input.grid.powerW - evDrawW(input) : rootBaseW(input) - pvW - batteryW;
        const room = input.settings.importCeilingW! - importWithoutEvs;
        expect(allocatedW(input, result, () => true)).toBeLessThanOrEqual(Math.max(0, room) + 1e-6);
      }),
      { numRuns: 300 },
    );
  });

  it('charges PV-only sessions from the surplus alone when there is no battery', () => {
    fc.assert(
      fc.property(energySite, (input) => {
        fc.pre(input.battery === undefined && input.evses.every((e) => (e.mode ?? input.settings.mode) === 'pv'));
        const result = allocate(input);
        const pvW = Math.max(0, input.pv?.powerW ?? 0);
        const surplus = input.grid ? evDrawW(input) - input.grid.powerW : pvW - rootBaseW(input);
        expect(allocatedW(input, result, (m) => m === 'pv')).toBeLessThanOrEqual(Math.max(0, surplus) + 1e-6);
      }),
      { numRuns: 300 },
    );
  });
});
