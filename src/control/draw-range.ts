// What an EVSE may be drawing now, for subtracting from the meter above it (solve-input.ts): its limits in force and
// its last sample, as a range while a station may still be reacting to a change, and the one figure the PV pool takes.
import { drawOnSitePhases } from '../../algorithms/phases.js';
import type { PhaseVector } from '../../algorithms/types.js';
import type { LimitChange } from './dispatcher.js';
import { toSitePhases } from './measurements.js';
import { CONTROL_TIMING } from './settings.js';
import type { SessionView } from './solve-input.js';

const STATION_SETTLE_MS = CONTROL_TIMING.stationSettleMs;

/** A sample this far below the limit in force shows the EV taking less than it may: it is credited the sample. Half an
 * ampere left up to 0.5 A per such EV read as room, more than the margin: with learned EV maximums, overnight-tight's
 * L2 was 0.1 A over for 8 s when N11 (16.1 A under 16.6) was cut and the error came back as base load. */
export const EV_LIMITED_BELOW_A = 0.25;

/** The range of limits that may be in force at time `t`: the last accepted before t - settle, and any since. */
function limitsInForce(changes: readonly LimitChange[], t: number, initialA: number): { lo: number; hi: number } {
  let before = initialA;
  let lo = Infinity;
  let hi = -Infinity;
  for (const c of changes) {
    if (c.at <= t - STATION_SETTLE_MS) before = c.limitA;
    else if (c.at <= t) {
      lo = Math.min(lo, c.limitA);
      hi = Math.max(hi, c.limitA);
    }
  }
  return { lo: Math.min(lo, before), hi: Math.max(hi, before) };
}

/** What an EVSE may be drawing now (A per site phase): `lo` and `hi` differ while a station may still be reacting. */
export interface DrawRange {
  lo: PhaseVector;
  hi: PhaseVector;
  /** What it draws now is not known from its samples (none yet, or only one taken while paused): not settled. */
  unsampled?: boolean;
  /** Its limit was cut less than STATION_SETTLE_MS ago and no sample shows the cut yet: no one rises into that room. */
  cutPending?: boolean;
  /** What the PV pool counts it drawing (solve-input.ts): its last sample once one was taken a settle time after its
   * last limit change, else the higher limit that may be in force — a change not yet sampled is taken as landed. */
  seen: PhaseVector;
}

/**
 * What an EVSE draws now, for subtracting from the meter above it. The meter is read every second, the EVSE's
 * MeterValues come every few seconds: its last sample, taken as it is, would turn every change since into apparent
 * base load. So a controllable EVSE is credited the limit in force now, unless its last sample shows the EV drawing
 * below the limit then in force (full, tapering, at its own maximum): then the sample, never above the limit.
 * Within STATION_SETTLE_MS of a change (unless a sample already shows the new limit) either limit may be in force:
 * the range says so and buildInput decides (see there).
 */
export function drawOf(v: SessionView, now: number, defaultTxLimitA: number, allocatedA: number | undefined): DrawRange {
  const m = v.session.measuredCurrentA;
  const phases: 1 | 3 = v.station.phases === 1 ? 1 : (v.dispatch.appliedPhases ?? 3);
  const d = v.dispatch;
  const rot = v.station.rotation;
  if (!m) {
    // No sample yet: credited nothing, so whatever it already draws counts as base load (the safe side). But for
    // STATION_SETTLE_MS after the start its first MeterValues may still be on the way, and a meter reading that
    // includes its draw must not become the settled base load: the loop would hold that transient for a whole settle
    // window once the samples arrive (both stations stuck below 32 A for 10 s in the web e2e under load).
    const started = v.session.startedAt;
    const unsampled = started !== undefined && now - started < STATION_SETTLE_MS;
    const seen = v.fixedReason === undefined && d.appliedLimitA !== undefined ? drawOnSitePhases(rot, phases, d.appliedLimitA) : ([0, 0, 0] as PhaseVector);
    return { lo: [0, 0, 0], hi: [0, 0, 0], seen, ...(unsampled ? { unsampled } : {}) };
  }
  if (v.fixedReason !== undefined || d.appliedLimitA === undefined || !d.appliedChanges) {
    const x = toSitePhases(m, phases, rot);
    return { lo: x, hi: x, seen: x };
  }
  const measuredAt = v.session.measuredAt ?? -Infinity;
  const last = d.appliedChanges[d.appliedChanges.length - 1];
  const peak = Math.max(...m);
  // A sample taken after the last change that already shows its limit: the station has applied it.
  const before = d.appliedChanges.length > 1 ? d.appliedChanges[d.appliedChanges.length - 2].limitA : defaultTxLimitA;
  const confirmed = last !== undefined && measuredAt >= last.at && Math.abs(peak - d.appliedLimitA) <= 0.3 && Math.abs(peak - before) > 0.3;
  const now$ = confirmed ? { lo: d.appliedLimitA, hi: d.appliedLimitA } : limitsInForce(d.appliedChanges, now, defaultTxLimitA);
  const lo = Math.min(d.appliedLimitA, now$.lo);
  const hi = Math.max(lo, now$.hi);
  const sampled = confirmed ? { lo: d.appliedLimitA, hi: d.appliedLimitA } : limitsInForce(d.appliedChanges, measuredAt, defaultTxLimitA);
  // Drawing above every limit that may have been in force: not following (yet). It is credited only the lowest
  // limit that may be in force, so its excess counts as base load (the others make room) and no change in transit
  // can hide it, until the dispatcher marks it not controllable and it becomes a fixed load.
  if (peak > sampled.hi + Math.max(1, 0.1 * sampled.hi)) {
    const x = toSitePhases(m.map((a) => Math.min(a, lo)), phases, rot);
    return { lo: x, hi: x, seen: toSitePhases(m, phases, rot) };
  }
  // An EV held just under its limit (tapering, or at its own maximum) must be credited what it draws, or the difference
  // is read as room and comes back as an overload when its limit is cut: EV_LIMITED_BELOW_A, not more.
  const evLimited = peak < sampled.lo - EV_LIMITED_BELOW_A;
  const at = (limit: number) => toSitePhases(m.map((x) => (x <= 0.5 ? 0 : evLimited ? Math.min(x, limit) : limit)), phases, rot);
  // A sample of nothing taken while a pause (0 A) may have been in force says nothing about what the EV draws now
  // that it may draw again: like no sample, it is credited nothing (the safe side) and the reading is not settled.
  const unsampled = peak <= 0.5 && sampled.lo <= 0.5 && hi > 0.5;
  // A cut of 1 A or more (less costs at most that much if it never lands, and blocking rises for it costs more), by a
  // station not yet seen following one (one that has is trusted to: its cuts free room at once).
  // Pending from the moment it is allocated: until the station accepts it, it is not even among the applied changes.
  const notSent = allocatedA !== undefined && allocatedA <= d.appliedLimitA - 1;
  const cutPending = !d.followsCuts && (notSent || (!confirmed && last !== undefined && now - last.at < STATION_SETTLE_MS && last.limitA <= before - 1));
  // A sample says what the EVSE draws once taken after its station had the time to apply the last change: the settle
  // time, or its measured reaction when slower (a 45 s station sampled 10 s after a rise still shows the old current).
  const seen = last === undefined || confirmed || measuredAt >= last.at + Math.max(STATION_SETTLE_MS, d.reactionMs ?? 0) ? toSitePhases(m, phases, rot) : at(hi);
  return { lo: at(lo), hi: at(hi), seen, ...(unsampled ? { unsampled } : {}), ...(cutPending ? { cutPending } : {}) };
}
