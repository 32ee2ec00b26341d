// Minimum current and rotation: an EVSE charges at >= its minimum or not at all. When not everyone's minimum
// fits, sessions are taken in a fair order and each is switched on if its minimum still fits (on 3 phases, or
// on 1 phase when it can switch); the rest are paused. Rotation comes from the order: sessions short of slack before
// their departure first, then a session paused for a rotation period, then running sessions (the one charging longest
// last, so it is the one that makes room), then the others by urgency and energy received.
import { poolConstraint, peakConstraint, constraintName } from './tree.js';
import type { Session, SolveContext } from './session.js';
import { urgencyW } from './modes.js';

/**
 * A session that can still be done by its departure but only if it charges at its maximum within this much of now
 * (its slack) is offered its minimum before everyone else: pausing it any longer costs energy it can never make up,
 * while a session with hours to spare loses nothing by waiting. One with no slack left (it cannot finish anyway) is
 * not put first: that would hand the site to sessions that never finish.
 */
export const SLACK_FIRST_MS = 3_600_000;

/**
 * A session switched between 1 and 3 phases goes back to 3 only this long after its last switch: each switch pauses
 * the EV and wears the charger's contactors, and a PV surplus or a neighbour's load near the 3-phase minimum would
 * otherwise switch it every few minutes. Going down to 1 phase (or pausing) is never held: that is what fits.
 */
export const PHASE_SWITCH_DWELL_MS = 10 * 60_000;

/** Time a session can still spend paused and be done by its departure at its maximum (ms); undefined when unknown. */
export function slackMs(s: Session, now: number, voltageV: number): number | undefined {
  const e = s.src;
  if (!(e.energyWantedWh !== undefined && e.energyWantedWh > 0) || !(e.departureAt !== undefined && Number.isFinite(e.departureAt))) return undefined;
  const w = s.maxA * (s.phaseOptions.includes(3) ? 3 : 1) * voltageV;
  if (!(w > 0) || !Number.isFinite(w)) return undefined;
  return e.departureAt - now - (e.energyWantedWh / w) * 3_600_000;
}

/** Sessions of one priority in the order they are offered their minimum. */
export function rotationOrder(sessions: readonly Session[], now: number, rotationPeriodMs: number, voltageV = 230): Session[] {
  const rotate = Number.isFinite(rotationPeriodMs) && rotationPeriodMs > 0;
  const n = sessions.length;
  // Sort keys up front (group, then the group's own key, urgency, energy received): the comparator only reads numbers.
  const group = new Int8Array(n);
  // Group and the group's own key in one number (times stay far below 1e13 ms), so most comparisons are one.
  const primary = new Float64Array(n);
  const urgency = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = sessions[i];
    const charging = s.previousA > 0;
    const due = !charging && rotate && s.pausedForMs >= rotationPeriodMs;
    const slack = slackMs(s, now, voltageV);
    const tight = slack !== undefined && slack >= 0 && slack < SLACK_FIRST_MS;
    group[i] = due ? 0 : charging ? 1 : 2;
    // Due: longest waiting first. Charging: shortest charging first (the longest makes room). Others: by urgency.
    const key = due ? -Math.min(s.pausedForMs, 1e12) : charging ? Math.min(s.chargingForMs, 1e12) : 0;
    // Short of slack: before all of them, those charging before those paused (a paused one's slack shrinks while it
    // waits, so by slack alone two such sessions would swap every few seconds), each by slack.
    primary[i] = tight ? (charging ? -3e13 : -2e13) + slack : group[i] * 1e13 + key;
    urgency[i] = urgencyW(s.src, now);
  }
  const idx: number[] = new Array<number>(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  idx.sort((a, b) => {
    if (primary[a] !== primary[b]) return primary[a] - primary[b];
    if (urgency[a] !== urgency[b]) return urgency[b] - urgency[a];
    const x = sessions[a];
    const y = sessions[b];
    if (x.energyDeliveredWh !== y.energyDeliveredWh) return x.energyDeliveredWh - y.energyDeliveredWh;
    if (group[a] === 2 && x.pausedForMs !== y.pausedForMs) return y.pausedForMs - x.pausedForMs;
    return x.id < y.id ? -1 : x.id > y.id ? 1 : 0;
  });
  return idx.map((i) => sessions[i]);
}

/**
 * First constraint that does not hold `need` A per phase for this session on `phases` phases against
 * `residual`, or -1 when it fits. A running PV session may lean on the battery allowance; a minpv session takes
 * its minimum from the grid (only the part above it comes from the surplus).
 */
function blockingConstraint(s: Session, phases: 1 | 3, need: number, ctx: SolveContext, residual: Float64Array): number {
  const { tree, voltageV } = ctx;
  const mask = phases === 3 ? 0b111 : s.mask1;
  const tol = 1e-9 * Math.max(1, need);
  const needW = need * voltageV * phases;
  const tolW = 1e-9 * Math.max(1, needW);
  for (let k = tree.chainStart[s.node]; k < tree.chainStart[s.node + 1]; k++) {
    const base = 4 * tree.chain[k];
    if (mask & 1 && residual[base] < need - tol) return base;
    if (mask & 2 && residual[base + 1] < need - tol) return base + 1;
    if (mask & 4 && residual[base + 2] < need - tol) return base + 2;
    if (residual[base + 3] < needW - tolW) return base + 3;
  }
  const n = tree.ids.length;
  const peak = peakConstraint(n);
  if (residual[peak] < needW - tolW) return peak;
  if (s.mode === 'pv') {
    const pool = poolConstraint(n);
    const avail = residual[pool] + (s.previousA > 0 ? ctx.batteryAllowanceW : 0);
    if (avail < needW - tolW) return pool;
  }
  return -1;
}

/** Takes a session's minimum off the headroom it loads (Infinity stays Infinity). */
function takeMinimum(s: Session, phases: 1 | 3, ctx: SolveContext): void {
  const { tree, voltageV, residual } = ctx;
  const mask = phases === 3 ? 0b111 : s.mask1;
  const a = s.minA;
  const w = a * voltageV * phases;
  for (let k = tree.chainStart[s.node]; k < tree.chainStart[s.node + 1]; k++) {
    const base = 4 * tree.chain[k];
    if (mask & 1) residual[base] -= a;
    if (mask & 2) residual[base + 1] -= a;
    if (mask & 4) residual[base + 2] -= a;
    residual[base + 3] -= w;
  }
  const n = tree.ids.length;
  residual[peakConstraint(n)] -= w;
  if (s.mode === 'pv') residual[poolConstraint(n)] -= w;
}

/**
 * Switches sessions on in `order` while their minimum fits, subtracting each minimum from the headroom.
 * `classStart` is the headroom before this priority took anything: a session that would fit there alone is
 * paused for rotation, one that would not is paused for lack of capacity.
 */
export function chooseOnSet(order: readonly Session[], ctx: SolveContext, classStart: Float64Array): void {
  const { residual, hysteresisA } = ctx;
  const h = Number.isFinite(hysteresisA) && hysteresisA > 0 ? hysteresisA : 0;
  const n = ctx.tree.ids.length;
  // In mode pv the surplus is shared evenly in power: a session that switches takes three phases only when its minimum
  // there is within its share. At equal current a car on three phases gets three times the power of one on one phase,
  // and which car held three phases decided the day (pv-home-switching: EV2 all its 15 kWh, or EV1 0.91 of its 30).
  const pvSessions = order.filter((s) => s.mode === 'pv').length;
  const poolShareW = pvSessions > 1 ? classStart[poolConstraint(n)] / pvSessions : Infinity;
  for (const s of order) {
    const charging = s.previousA > 0;
    let chosen: 1 | 3 | 0 = 0;
    let blockedBy = -1;
    let lastOption: 1 | 3 = s.phaseOptions[s.phaseOptions.length - 1];
    let lastNeed = s.minA;
    for (const ph of s.phaseOptions) {
      // A paused session restarts only with the hysteresis margin on top of its minimum: a start/stop is the
      // costliest change for the EV. A 1-phase-switched one goes back to 3 phases once its minimum fits there, but
      // only PHASE_SWITCH_DWELL_MS after its last switch: the wait is what keeps it from switching every few minutes,
      // and a margin on top left a car on one phase at its 16 A (3.7 kW) with up to 4.8 kW of sun for it.
      const switchingUp = charging && ph === 3 && s.previousPhases === 1 && s.phaseOptions.length > 1;
      if (switchingUp && (s.src.phasesForMs ?? Infinity) < PHASE_SWITCH_DWELL_MS) continue;
      if (ph === 3 && s.mode === 'pv' && s.phaseOptions.length > 1 && s.minA * 3 * ctx.voltageV > poolShareW) continue;
      const need = s.minA + (!charging ? h : 0);
      const c = blockingConstraint(s, ph, need, ctx, residual);
      if (c < 0) {
        chosen = ph;
        break;
      }
      blockedBy = c;
      lastOption = ph;
      lastNeed = need;
    }
    if (chosen !== 0) {
      s.on = true;
      s.phases = chosen;
      takeMinimum(s, chosen, ctx);
      continue;
    }
    s.on = false;
    s.value = 0;
    const alone = blockingConstraint(s, lastOption, lastNeed, ctx, classStart);
    if (alone < 0) {
      s.reason = 'paused-rotation';
      s.limitedBy = constraintName(ctx.tree, blockedBy);
    } else {
      s.reason = alone === poolConstraint(n) ? 'pv-limited' : alone === peakConstraint(n) ? 'peak-shaving' : 'paused-no-capacity';
      s.limitedBy = constraintName(ctx.tree, alone);
    }
    if (s.tariffWait) s.reason = 'tariff-wait';
  }
}
