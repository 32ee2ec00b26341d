// What an EV takes at most, learned from its own samples. A tapering EV (near full) or one whose own maximum is below
// its station's takes less than it is offered; what it leaves unused is stranded until it leaves, unless the loop
// offers it only what it takes and gives the rest to the others at once (overnight-tight at 08:25: a tapering EV
// offered 16 A took 11.4 while two sessions waited for want of 6 A). Pure: the loop keeps the cap in its history.
import type { SessionView } from './solve-input.js';

/** A learned cap for one transaction (A per phase). */
export interface EvCap {
  transactionId: string;
  a: number;
}

/** An EV is capped when a settled sample shows it this far below its limit (A): less is meter noise or calibration. */
export const EV_CAP_BELOW_A = 1;
/** It is offered what it draws plus this (A): room to show it wants more. */
export const EV_CAP_MARGIN_A = 1;
/** An EV drawing into its margin (within this of its cap) wants more: the cap rises by EV_CAP_STEP_A. */
export const EV_CAP_WANTS_MORE_A = 0.5;
/** How far a cap rises at a time (A): a ramp, one step per settled sample, not a jump into room the load estimate
 * only believes is there (a cap lifted whole at once put office-day 7 s over). */
export const EV_CAP_STEP_A = 2;

/**
 * The cap after this sample: undefined (none), the previous one, a lower one (by a whole ampere at least, each change
 * being a profile written), or a higher one when the EV draws into its margin. Only a sample taken `settleMs` after
 * the last limit change, and not older than that, counts: it shows the EV under the limit in force.
 */
export function evCapOf(v: SessionView, prev: EvCap | undefined, now: number, settleMs: number): EvCap | undefined {
  const tx = v.session.transactionId;
  const m = v.session.measuredCurrentA;
  const d = v.dispatch;
  if (!tx || !m || v.fixedReason !== undefined || d.appliedLimitA === undefined) return undefined;
  const cap = prev?.transactionId === tx ? prev : undefined;
  const last = d.appliedChanges?.[d.appliedChanges.length - 1];
  const at = v.session.measuredAt ?? -Infinity;
  if ((last && at < last.at + settleMs) || now - at > settleMs) return cap;
  const peak = Math.max(...m);
  // Paused, idle or not yet started: the idle rules' case, not a cap.
  if (peak < 1) return cap;
  if (cap && peak >= Math.min(cap.a, d.appliedLimitA) - EV_CAP_WANTS_MORE_A) {
    const a = cap.a + EV_CAP_STEP_A;
    return a >= v.station.maxA ? undefined : { transactionId: tx, a };
  }
  if (peak > d.appliedLimitA - EV_CAP_BELOW_A) return cap;
  const a = Math.ceil((peak + EV_CAP_MARGIN_A) * 10) / 10;
  return !cap || a <= cap.a - 1 ? { transactionId: tx, a } : cap;
}
