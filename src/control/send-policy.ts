// When the dispatcher writes a session limit, and which: decreases and new sessions at once, rises of a hysteresis band
// or more at once, smaller rises once they have held (RISE_DWELL_MS), renewals at half the profile's validity. Pure
// given the time (split from dispatcher.ts, which does the sending).
import { floorToTenth as floor1 } from '../../algorithms/index.js';
import type { EvseDispatch, TxTarget } from './dispatch-types.js';

/** How long a rise below the hysteresis band must hold before it is sent on its own (see riseDue). */
export const RISE_DWELL_MS = 30_000;
/** The least such rise worth a write (A). */
export const RISE_STEP_A = 0.2;

/**
 * What the EVSE needs sent now, most urgent first: 0 decrease / new, 1 increase or phase change, 2 renewal; undefined
 * when nothing. `offsetMoved`: the station's clock turned out other than assumed (the first timestamps after a boot),
 * so its limit may lapse early or late on that clock: renewed now rather than at the half-life.
 */
export function sendUrgency(e: EvseDispatch, stackLevel: number, now: number, o: { hysteresisA: number; validityMs: number }, offsetMoved: boolean): number | undefined {
  const t = e.target;
  if (!t || t.hold || e.notControllable) return undefined;
  const s = e.sent;
  const limit = floor1(t.limitA);
  if (!s || s.transactionId !== t.transactionId) return 0;
  if (limit < s.limitA - 0.05) return 0;
  if (t.phases !== s.phases || (t.phaseToUse ?? 0) !== (s.phaseToUse ?? 0) || s.stackLevel !== stackLevel) return 1;
  if (limit > s.limitA + 0.05 && limit - s.limitA >= o.hysteresisA - 1e-9) return 1;
  if (riseDue(e, now) !== undefined) return 1;
  if (now >= s.sentAt + o.validityMs / 2) return 2;
  if (offsetMoved) return 2;
  return undefined;
}

/**
 * The limit to send for a target. A rise smaller than the hysteresis band is sent once it has held (riseDue); a
 * renewal before that carries it less half the band, so that noise in the target does not turn straight into a
 * decrease and another write. A target at a fixed cap has no noise: it is sent whole, otherwise a rise of up to half
 * the band (31.9 A after a transient, then 32 A at the EVSE's maximum) would never be sent.
 */
export function limitToSend(e: EvseDispatch, t: TxTarget, now: number, hysteresisA: number): number {
  const limit = floor1(t.limitA);
  const s = e.sent;
  if (!s || s.transactionId !== t.transactionId || limit <= s.limitA || limit - s.limitA >= hysteresisA - 1e-9) return limit;
  if (t.atCap) return limit;
  return Math.max(s.limitA, floor1(t.limitA - hysteresisA / 2), riseDue(e, now) ?? 0);
}

/** Follows a rise of the target below the hysteresis band (on every new target): since when, and its least value. */
export function trackRise(e: EvseDispatch, t: TxTarget, now: number): void {
  const s = e.sent;
  if (!s || s.transactionId !== t.transactionId || t.hold || floor1(t.limitA) <= s.limitA + 0.05) {
    e.rise = undefined;
    return;
  }
  e.rise = e.rise ? { since: e.rise.since, floorA: Math.min(e.rise.floorA, t.limitA) } : { since: now, floorA: t.limitA };
}

/**
 * A small rise that has held for RISE_DWELL_MS is sent as its least value over that time: noise in the target (a
 * meter step, a sample) does not hold that long, while a real rise below the band (PV surplus growing, a fuse's
 * headroom shared out to the last tenth) would otherwise wait for the next renewal and then be sent half a band
 * short, for good: a steady 0.5 A per phase left unused at every EVSE whose share is not at its cap.
 */
function riseDue(e: EvseDispatch, now: number): number | undefined {
  const r = e.rise;
  const s = e.sent;
  if (!r || !s || now - r.since < RISE_DWELL_MS) return undefined;
  const a = floor1(r.floorA);
  return a >= s.limitA + RISE_STEP_A - 1e-9 ? a : undefined;
}
