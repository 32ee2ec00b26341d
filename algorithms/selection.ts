// Minimum current and rotation: an EVSE charges at >= its minimum or not at all. When not everyone's minimum
// fits, sessions are taken in a fair order and each is switched on if its minimum still fits (on 3 phases, or
// on 1 phase when it can switch); the rest are paused. Rotation comes from the order: a session paused for a
// rotation period goes first, then running sessions (the one charging longest last, so it is the one that
// makes room), then the others by urgency and energy received.
import { poolConstraint, peakConstraint, constraintName } from './tree.js';
import { sessionEntries, type Session, type SolveContext } from './session.js';
import { urgencyW } from './modes.js';

interface Ranked {
  s: Session;
  group: number;
  urgency: number;
}

/** Sessions of one priority in the order they are offered their minimum. */
export function rotationOrder(sessions: readonly Session[], now: number, rotationPeriodMs: number): Session[] {
  const rotate = Number.isFinite(rotationPeriodMs) && rotationPeriodMs > 0;
  const ranked: Ranked[] = sessions.map((s) => {
    const charging = s.previousA > 0;
    const due = !charging && rotate && s.pausedForMs >= rotationPeriodMs;
    return { s, group: due ? 0 : charging ? 1 : 2, urgency: urgencyW(s.src, now) };
  });
  ranked.sort((a, b) => {
    if (a.group !== b.group) return a.group - b.group;
    const x = a.s;
    const y = b.s;
    if (a.group === 0 && x.pausedForMs !== y.pausedForMs) return y.pausedForMs - x.pausedForMs;
    if (a.group === 1 && x.chargingForMs !== y.chargingForMs) return x.chargingForMs - y.chargingForMs;
    if (a.urgency !== b.urgency) return b.urgency - a.urgency;
    if (x.energyDeliveredWh !== y.energyDeliveredWh) return x.energyDeliveredWh - y.energyDeliveredWh;
    if (a.group === 2 && x.pausedForMs !== y.pausedForMs) return y.pausedForMs - x.pausedForMs;
    return x.id < y.id ? -1 : x.id > y.id ? 1 : 0;
  });
  return ranked.map((r) => r.s);
}

const cons: number[] = [];
const coef: number[] = [];

/**
 * First constraint that does not hold `need` A per phase for this session on `phases` phases against
 * `residual`, or -1 when it fits. A running PV session may lean on the battery allowance.
 */
function blockingConstraint(s: Session, phases: 1 | 3, need: number, ctx: SolveContext, residual: Float64Array): number {
  cons.length = 0;
  coef.length = 0;
  sessionEntries(s, phases, ctx, cons, coef);
  const pool = poolConstraint(ctx.tree.ids.length);
  for (let i = 0; i < cons.length; i++) {
    const c = cons[i];
    let avail = residual[c];
    if (c === pool) {
      // minpv takes its minimum from the grid; only the part above it comes from the surplus.
      if (s.mode === 'minpv') continue;
      if (s.previousA > 0) avail += ctx.batteryAllowanceW;
    }
    const want = coef[i] * need;
    if (avail < want - 1e-9 * Math.max(1, want)) return c;
  }
  return -1;
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
  for (const s of order) {
    const charging = s.previousA > 0;
    let chosen: 1 | 3 | 0 = 0;
    let blockedBy = -1;
    let lastOption: 1 | 3 = s.phaseOptions[s.phaseOptions.length - 1];
    let lastNeed = s.minA;
    for (const ph of s.phaseOptions) {
      // A paused session restarts, and a 1-phase-switched one goes back to 3 phases, only with the hysteresis
      // margin on top of its minimum: a start/stop or phase switch is the costliest change for the EV.
      const switchingUp = charging && ph === 3 && s.previousPhases === 1 && s.phaseOptions.length > 1;
      const need = s.minA + (!charging || switchingUp ? h : 0);
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
      cons.length = 0;
      coef.length = 0;
      sessionEntries(s, chosen, ctx, cons, coef);
      const pool = poolConstraint(n);
      for (let i = 0; i < cons.length; i++) {
        if (cons[i] === pool && s.mode === 'minpv') continue;
        residual[cons[i]] -= coef[i] * s.minA;
      }
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
