// An EV idle by its draw: offered current and not taking it, whatever its station says its state is. Pure given the
// time; the loop keeps the result in its history (split from solve-input.ts).
import { STATION_SETTLE_MS, type EvseHistory, type SessionView } from './solve-input.js';

/** Offered at least its minimum for this long and drawing under 1 A: idle, whatever the station says its state is. */
export const UNDRAWN_IDLE_MS = 60_000;
/** An EV judged idle by its draw is offered its minimum again after this long, to see whether it takes it now. */
export const IDLE_PROBE_MS = 15 * 60_000;

/**
 * Idle by its draw: some stations say Charging (1.6: the connector status; 2.0.1: chargingState) as long as the
 * contactor is closed, whether the EV takes current or not. An EV offered at least its minimum for UNDRAWN_IDLE_MS
 * (samples taken a settle time after its last limit change) that draws under 1 A is treated as idle like one that
 * says SuspendedEV; it is over when it draws. Every IDLE_PROBE_MS it is offered its minimum, at its own priority
 * (an EV that woke late, or one the site had paused since, gets its chance to show it wants current): it draws, and
 * has its share back; or it does not for UNDRAWN_IDLE_MS, and is idle again. A probe with its whole share cost that
 * share each time (2 h, a 32 A site: 0.953 of the optimum; with the minimum, see test/sim/quirks.test.ts).
 */
export function undrawnIdle(v: SessionView, h: EvseHistory | undefined, now: number): Pick<EvseHistory, 'idleByDrawSince' | 'undrawnSince' | 'idleProbe'> {
  const m = v.session.measuredCurrentA;
  const d = v.dispatch;
  const at = v.session.measuredAt;
  const drawing = m !== undefined && Math.max(...m) >= 1;
  // One that says SuspendedEV is idle by what it says (the loop's rule for that): no probing it.
  if (drawing || m === undefined || at === undefined || v.session.chargingState === 'SuspendedEV') return {};
  const since = h?.idleByDrawSince;
  if (since !== undefined) return now - since < IDLE_PROBE_MS ? { idleByDrawSince: since } : { idleProbe: true };
  const probe = h?.idleProbe ? { idleProbe: true as const } : {};
  const last = d.appliedChanges?.[d.appliedChanges.length - 1];
  const offered = v.fixedReason === undefined && d.appliedLimitA !== undefined && d.appliedLimitA >= v.station.minA - 0.05 && (!last || last.at <= at - STATION_SETTLE_MS);
  if (!offered) return probe;
  const undrawnSince = h?.undrawnSince ?? at;
  return at - undrawnSince >= UNDRAWN_IDLE_MS ? { idleByDrawSince: now } : { undrawnSince, ...probe };
}
