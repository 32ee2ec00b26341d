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
export function sendUrgency(e: EvseDispatch, stackLevel: number, now: number, o: { hysteresisA: number; validityMs: number }, offsetMoved: boolean, landingMs?: number): number | undefined {
  const t = e.target;
  if (!t || t.hold || e.notControllable) return undefined;
  const s = e.sent;
  const limit = floor1(t.limitA);
  if (!s || s.transactionId !== t.transactionId) return 0;
  if (landing(e, now, landingMs)) return now >= s.sentAt + o.validityMs / 2 || offsetMoved ? 2 : undefined;
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
export function limitToSend(e: EvseDispatch, t: TxTarget, now: number, hysteresisA: number, landingMs?: number): number {
  const limit = floor1(t.limitA);
  const s = e.sent;
  // A renewal while the last limit is still landing carries that limit.
  if (s && s.transactionId === t.transactionId && landing(e, now, landingMs)) return s.limitA;
  if (!s || s.transactionId !== t.transactionId || limit <= s.limitA || limit - s.limitA >= hysteresisA - 1e-9) return limit;
  if (t.atCap) return limit;
  return Math.max(s.limitA, floor1(t.limitA - hysteresisA / 2), riseDue(e, now) ?? 0);
}

/**
 * A limit that follows the PV surplus is not followed by another until it has landed: until a sample shows the EVSE
 * drawing it (`landedAt`), or for at most `landingMs` (the station's measured reaction). A station that takes half a
 * minute or more to apply a limit, given new ones meanwhile, was steered on a draw that was still the old one: the car's
 * current swung between 0 and 15 A and it stopped 36-69 times in a morning. A fast one is held the seconds it takes.
 * No fuse needs these limits: a cut the fuse needs is no `followsSurplus` target and goes out at once.
 */
function landing(e: EvseDispatch, now: number, landingMs: number | undefined): boolean {
  const t = e.target;
  const s = e.sent;
  return landingMs !== undefined && t?.followsSurplus === true && s !== undefined && t.phases === s.phases && s.landedAt === undefined && now < s.changedAt + landingMs;
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
