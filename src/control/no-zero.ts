// Stations that refuse 0 A (quirk no-zero): a session the allocation pauses there is held at its minimum instead, and
// the next solve counts it as a fixed load drawing that much, so the others share what is really left.
import type { AllocationResult } from '../../algorithms/types.js';
import type { StationCapabilities } from '../stations/model.js';
import { evseKey } from './sessions.js';
import type { SessionView } from './solve-input.js';

/** Controllable EVSEs of stations that refuse 0 A which the allocation pauses. */
export function heldAtMinimum(vs: SessionView[], result: AllocationResult, capabilities: (stationId: string) => StationCapabilities): Set<string> {
  const paused = new Set(result.allocations.filter((a) => a.limitA <= 0).map((a) => a.evseId));
  const out = new Set<string>();
  for (const v of vs) {
    const key = evseKey(v.session.stationId, v.session.evseId);
    if (v.fixedReason === undefined && paused.has(key) && capabilities(v.session.stationId).quirks?.includes('no-zero')) out.add(key);
  }
  return out;
}

/** The view of an EVSE held at its minimum: a fixed load drawing at least that on its phases. */
export function atMinimum(v: SessionView): SessionView {
  const min = v.station.minA;
  const phases = v.station.phases === 1 || v.session.phasesUsed === 1 ? 1 : 3;
  const m = v.session.measuredCurrentA ?? [0, 0, 0];
  const measuredCurrentA = [0, 1, 2].map((i) => (i < phases ? Math.max(m[i] ?? 0, min) : (m[i] ?? 0)));
  return { ...v, fixedReason: 'held at its minimum: the station refuses 0 A', session: { ...v.session, measuredCurrentA } };
}
