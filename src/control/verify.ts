// Read-back after a limit change: the station's composite schedule (GetCompositeSchedule) must show a limit no higher
// than the one it accepted. A station that says Accepted and then does not install the profile is caught here at
// once, without waiting for its measured current; slow appliers are not (the composite schedule is what the station
// has installed, not what the EV draws yet), their reaction time is measured instead (reactions.ts).
import type { StationRequests } from '../stations/model.js';

/** Over this much above the accepted limit (A), the composite schedule is not showing ours. */
const TOLERANCE_A = 0.5;
/** How far ahead the schedule is asked for (s): only the period in force now is judged. */
const WINDOW_S = 60;

export type Verdict = { kind: 'ok' } | { kind: 'unsupported' } | { kind: 'ignored'; reason: string };

export async function verifyLimit(requests: StationRequests, stationId: string, evseId: number, acceptedA: number, now: number, timeoutMs?: number): Promise<Verdict> {
  const s = await requests.compositeSchedule(stationId, evseId, WINDOW_S, timeoutMs).catch(() => undefined);
  if (!s || !s.periods.length) return { kind: 'unsupported' };
  // The period in force now (schedule start on the station's clock is close enough: the window is the first minute).
  const elapsedS = Math.max(0, (now - s.startAt) / 1000);
  const period = [...s.periods].reverse().find((p) => p.startS <= elapsedS) ?? s.periods[0];
  if (period.limitA > acceptedA + TOLERANCE_A) {
    return { kind: 'ignored', reason: `its composite schedule shows ${period.limitA} A, above the ${acceptedA} A limit it accepted` };
  }
  return { kind: 'ok' };
}
