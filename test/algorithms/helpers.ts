// Builders for optimizer inputs: small, explicit sites for the example tests and the property tests.
import type { AllocationInput, AllocationResult, AllocationSettings, EvseDemand, LimitNode, PhaseVector } from '../../algorithms/types.js';

export const V = 230;

export function node(id: string, limitA: PhaseVector | number, extra: Partial<LimitNode> = {}): LimitNode {
  const limit: PhaseVector = typeof limitA === 'number' ? [limitA, limitA, limitA] : limitA;
  return { id, limitA: limit, uncontrolledA: [0, 0, 0], ...extra };
}

export function evse(id: string, extra: Partial<EvseDemand> = {}): EvseDemand {
  return {
    id,
    nodeId: 'grid',
    phases: 3,
    rotation: 'L1L2L3',
    minA: 6,
    maxA: 32,
    canSwitchPhases: false,
    priority: 0,
    energyDeliveredWh: 0,
    controllable: true,
    previousA: 0,
    previousPhases: 3,
    pausedForMs: 0,
    chargingForMs: 0,
    ...extra,
  };
}

export const STILL: AllocationSettings = { mode: 'fast', rotationPeriodMs: 15 * 60_000, stepMs: 1000, rampAPerS: 0, hysteresisA: 0 };

export function site(nodes: LimitNode[], evses: EvseDemand[], extra: Partial<AllocationInput> = {}, settings: Partial<AllocationSettings> = {}): AllocationInput {
  return { now: Date.UTC(2026, 0, 1, 12), voltageV: V, nodes, evses, ...extra, settings: { ...STILL, ...settings } };
}

/** Allocation of one EVSE by id. */
export function of(result: AllocationResult, id: string) {
  const a = result.allocations.find((x) => x.evseId === id);
  if (!a) throw new Error(`no allocation for ${id}`);
  return a;
}

/** Limit per EVSE id, for compact assertions. */
export function limits(result: AllocationResult): Record<string, number> {
  return Object.fromEntries(result.allocations.map((a) => [a.evseId, a.limitA]));
}
