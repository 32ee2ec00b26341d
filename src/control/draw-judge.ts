// Does an EVSE follow the limit it accepted? Judged on its measured current, after the station's reaction time; and
// one judged not following that later comes down to its limit was slow, not ignoring (split from dispatcher.ts).
import type { EvseDispatch } from './dispatch-types.js';
import { MAX_REACTION_MS } from './reactions.js';

/**
 * `marked`: it keeps drawing above every limit that may be in force past half its reaction time: not controllable.
 * `recovered`: it was marked for that and now draws its limit: controllable again. Mutates the EVSE's state.
 */
export function judgeDraw(e: EvseDispatch, measuredMaxA: number, measuredAt: number, now: number, reactionMs: number): 'marked' | 'recovered' | 'none' {
  const sent = e.sent;
  if (!sent) return 'none';
  if (e.notControllable) {
    // Marked for drawing above its limit, and now following it after all: a slow applier, not an ignorer (its reaction
    // time was just learned, reactions.ts). It must have come down from what it drew when marked to the limit itself
    // (not below: an ignorer whose EV tapers is not following), within the longest reaction believed of that limit.
    const limit = sent.appliedA ?? sent.limitA;
    const tolerance = Math.max(1, 0.1 * limit);
    const cameDown = measuredMaxA < (e.markedDrawA ?? 0) - tolerance && Math.abs(measuredMaxA - limit) <= tolerance;
    if (!e.markedForDraw || measuredAt <= (e.markedAt ?? Infinity) || measuredAt - sent.changedAt > MAX_REACTION_MS || !cameDown) return 'none';
    e.notControllable = undefined;
    e.markedForDraw = false;
    e.overSince = undefined;
    return 'recovered';
  }
  // The highest limit that may be in force when the sample was taken: one accepted at least half the reaction
  // allowance before it (the allowance covers the station's reaction, a MeterValues interval and a loop period),
  // or any accepted since. A sample inside the reaction time of the first limit proves nothing. Limits that keep
  // changing do not stop the judgement: the sample is held against the highest of them.
  let before: number | undefined;
  let since = -Infinity;
  for (const c of sent.changes) {
    if (c.at <= measuredAt - reactionMs / 2) before = c.limitA;
    else if (c.at <= measuredAt) since = Math.max(since, c.limitA);
  }
  if (before === undefined) return 'none';
  const limit = Math.max(before, since);
  if (measuredMaxA <= limit + Math.max(1, 0.1 * limit)) {
    e.overSince = undefined;
    return 'none';
  }
  e.overSince ??= measuredAt;
  if (now - e.overSince < reactionMs / 2) return 'none';
  e.notControllable = `draws ${measuredMaxA.toFixed(1)} A, above its ${sent.appliedA ?? sent.limitA} A limit, ${Math.round((now - sent.changes[0].at) / 1000)} s after it was first set`;
  e.markedForDraw = true;
  e.markedAt = now;
  e.markedDrawA = measuredMaxA;
  return 'marked';
}
