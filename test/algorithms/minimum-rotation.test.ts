// Example tests: minimum current (0 or >= min), who waits when not all fit, rotation, 1<->3 phase switching.
import { describe, expect, it } from 'vitest';
import { allocate } from '../../algorithms/index.js';
import { PHASE_SWITCH_DWELL_MS } from '../../algorithms/selection.js';
import { evse, limits, node, of, site } from './helpers.js';

const NOW = Date.UTC(2026, 0, 1, 12);
const H = 3_600_000;
const MIN = 60_000;

describe('minimum current', () => {
  it('makes room before filling it: nobody rises into current a cut in the same solve, or one not yet landed, frees', () => {
    // a is cut from 20 to 10 A to make room for b: b waits a solve; a cut still in transit (cutPending) holds rises too.
    const r = allocate(site([node('grid', 20)], [evse('a', { previousA: 20, maxA: 10 }), evse('b', { previousA: 0 })]));
    expect(limits(r)).toEqual({ a: 10, b: 0 });
    expect(of(r, 'b').reason).toBe('ramp');
    const landed = allocate(site([node('grid', 20)], [evse('a', { previousA: 10, maxA: 10 }), evse('b', { previousA: 0 })]));
    expect(limits(landed)).toEqual({ a: 10, b: 10 });
    const inTransit = allocate(site([node('grid', 20, { cutPending: true })], [evse('a', { previousA: 10, maxA: 10 }), evse('b', { previousA: 0 })]));
    expect(limits(inTransit)).toEqual({ a: 10, b: 0 });
  });

  it('gives 0 rather than less than the minimum', () => {
    // 5 A left is below the 6 A minimum: paused, not 5 A.
    const r = allocate(site([node('grid', 5)], [evse('a')]));
    expect(of(r, 'a')).toMatchObject({ limitA: 0, reason: 'paused-no-capacity', limitedBy: 'grid/L1' });
  });

  it('pauses some when not everyone can have the minimum, preferring urgency', () => {
    // 15 A: only floor(15 / 6) = 2 minimums fit. Urgency = energy wanted / hours left:
    // a 20 kWh in 2 h = 10 kW, b 10 kWh in 5 h = 2 kW, c unknown = 0. a and b charge at 15 / 2 = 7.5 A.
    const r = allocate(
      site(
        [node('grid', 15)],
        [
          evse('a', { energyWantedWh: 20_000, departureAt: NOW + 2 * H }),
          evse('b', { energyWantedWh: 10_000, departureAt: NOW + 5 * H }),
          evse('c'),
        ],
      ),
    );
    expect(limits(r)).toEqual({ a: 7.5, b: 7.5, c: 0 });
    expect(of(r, 'c')).toMatchObject({ reason: 'paused-rotation' });
  });

  it('breaks urgency ties by energy already received', () => {
    // Same urgency (unknown); received a 10 kWh, b 2 kWh, c 5 kWh: b and c charge, a waits.
    const r = allocate(
      site([node('grid', 15)], [evse('a', { energyDeliveredWh: 10_000 }), evse('b', { energyDeliveredWh: 2_000 }), evse('c', { energyDeliveredWh: 5_000 })]),
    );
    expect(limits(r)).toEqual({ a: 0, b: 7.5, c: 7.5 });
  });
});

describe('rotation', () => {
  const running = (id: string, chargingMin: number) => evse(id, { previousA: 7.5, chargingForMs: chargingMin * MIN });
  const waiting = (id: string, pausedMin: number) => evse(id, { previousA: 0, pausedForMs: pausedMin * MIN });

  it('keeps running sessions while the paused one has waited less than the rotation period', () => {
    // Period 15 min; c has waited 10 min: a (20 min) and b (5 min) keep charging.
    const r = allocate(site([node('grid', 15)], [running('a', 20), running('b', 5), waiting('c', 10)], {}, { rotationPeriodMs: 15 * MIN }));
    expect(limits(r)).toEqual({ a: 7.5, b: 7.5, c: 0 });
  });

  it('lets a session that has waited a rotation period take the place of the one charging longest', () => {
    // c has waited 16 min >= 15: it comes in, and a (charging 20 min, longer than b's 5) makes room.
    const r = allocate(site([node('grid', 15)], [running('a', 20), running('b', 5), waiting('c', 16)], {}, { rotationPeriodMs: 15 * MIN }));
    // Room first: a is cut now, c starts in the next solve, once a's cut has landed (a station may ignore it).
    expect(limits(r)).toEqual({ a: 0, b: 7.5, c: 0 });
    expect(of(r, 'a').reason).toBe('paused-rotation');
    expect(of(r, 'c').reason).toBe('ramp');
    const next = allocate(site([node('grid', 15)], [evse('a', { previousA: 0 }), running('b', 5), waiting('c', 16)], {}, { rotationPeriodMs: 15 * MIN }));
    expect(limits(next)).toEqual({ a: 0, b: 7.5, c: 7.5 });
  });

  it('rotates everyone over time (each waits its turn)', () => {
    // Three sessions, room for two, period 15 min, one solve per minute: over 90 minutes each one charges
    // and each one waits; nobody waits longer than the period plus one step.
    const period = 15;
    let evses = [evse('a'), evse('b'), evse('c')];
    const charged: Record<string, number> = { a: 0, b: 0, c: 0 };
    let longestWait = 0;
    for (let minute = 0; minute < 90; minute++) {
      const r = allocate(site([node('grid', 15)], evses, { now: NOW + minute * MIN }, { rotationPeriodMs: period * MIN, stepMs: MIN }));
      evses = evses.map((e) => {
        const a = of(r, e.id);
        const on = a.limitA > 0;
        if (on) charged[e.id]++;
        const next = {
          ...e,
          previousA: a.limitA,
          pausedForMs: on ? 0 : e.pausedForMs + MIN,
          chargingForMs: on ? (e.previousA > 0 ? e.chargingForMs + MIN : 0) : 0,
        };
        longestWait = Math.max(longestWait, next.pausedForMs);
        return next;
      });
    }
    // 90 minutes x 2 charging slots = 180 session-minutes, 60 each when perfectly fair.
    for (const id of ['a', 'b', 'c']) expect(charged[id]).toBeGreaterThanOrEqual(50);
    expect(longestWait).toBeLessThanOrEqual((period + 1) * MIN);
  });
});

describe('1 <-> 3 phase switching', () => {
  it('switches to 1 phase when 3 x 6 A does not fit but 1 x 6 A does', () => {
    // Headroom [20, 4, 4]: 3 phases need 6 A on L2 and L3 (only 4). On 1 phase (its L1 = site L1): 20 A.
    const r = allocate(site([node('grid', 32, { uncontrolledA: [12, 28, 28] })], [evse('sw', { canSwitchPhases: true }), evse('fixed3')]));
    expect(of(r, 'sw')).toMatchObject({ phases: 1, limitA: 20 });
    // The same EVSE without phase switching cannot charge.
    expect(of(r, 'fixed3')).toMatchObject({ phases: 3, limitA: 0, reason: 'paused-no-capacity' });
  });

  it('stays on 3 phases when the minimum fits on all three', () => {
    const r = allocate(site([node('grid', 32)], [evse('sw', { canSwitchPhases: true })]));
    expect(of(r, 'sw')).toMatchObject({ phases: 3, limitA: 32 });
  });

  it('goes back to 3 phases once its minimum fits there, without the band a paused session needs to start', () => {
    // Running on 1 phase; 7 A free per phase: 3 × 7 A is three times the power of 1 × 7 A. A paused session would need
    // 6 + 2 (band) = 8 A to start; going back to 3 phases needs only its minimum (the dwell keeps it from flapping).
    const grid = node('grid', 32, { uncontrolledA: [25, 25, 25] });
    const sw = evse('sw', { canSwitchPhases: true, previousA: 7, previousPhases: 1, chargingForMs: 60_000 });
    expect(of(allocate(site([grid], [sw], {}, { hysteresisA: 2 })), 'sw')).toMatchObject({ phases: 3, limitA: 7 });
    // 5.5 A free on L2 and L3: 3 phases do not fit, it stays on its L1 (12 A free).
    const tight = node('grid', 32, { uncontrolledA: [20, 26.5, 26.5] });
    expect(of(allocate(site([tight], [sw], {}, { hysteresisA: 2 })), 'sw')).toMatchObject({ phases: 1, limitA: 12 });
  });

  it('goes back to 3 phases only PHASE_SWITCH_DWELL_MS after its last switch; down to 1 phase at once', () => {
    // 20 A free per phase: 3 phases fit well. Switched to 1 phase a minute ago: it stays there (at 20 A on its L1)
    // until the dwell has passed, so a surplus or load near the 3-phase minimum cannot switch it every few minutes.
    const room = node('grid', 32, { uncontrolledA: [12, 12, 12] });
    const onOne = (phasesForMs?: number) => evse('sw', { canSwitchPhases: true, previousA: 10, previousPhases: 1, chargingForMs: 3_600_000, ...(phasesForMs !== undefined ? { phasesForMs } : {}) });
    expect(of(allocate(site([room], [onOne(MIN)])), 'sw')).toMatchObject({ phases: 1, limitA: 20 });
    expect(of(allocate(site([room], [onOne(PHASE_SWITCH_DWELL_MS - 1)])), 'sw')).toMatchObject({ phases: 1 });
    expect(of(allocate(site([room], [onOne(PHASE_SWITCH_DWELL_MS)])), 'sw')).toMatchObject({ phases: 3, limitA: 20 });
    expect(of(allocate(site([room], [onOne()])), 'sw')).toMatchObject({ phases: 3 });
    // Just switched up to 3 phases and the room on L2/L3 goes: down to 1 phase now, never held over a limit.
    const tight = node('grid', 32, { uncontrolledA: [12, 28, 28] });
    const onThree = evse('sw', { canSwitchPhases: true, previousA: 8, previousPhases: 3, chargingForMs: 3_600_000, phasesForMs: 1000 });
    expect(of(allocate(site([tight], [onThree])), 'sw')).toMatchObject({ phases: 1, limitA: 20 });
  });
});

describe('sessions short of slack before their departure', () => {
  // 32 A on 3 phases at 230 V is 22.08 kW: 22 080 Wh is one hour at the maximum.
  const far = { energyWantedWh: 10_000, departureAt: NOW + 8 * H };
  const running = (id: string, chargingMin: number, extra = {}) => evse(id, { previousA: 7.5, chargingForMs: chargingMin * MIN, ...extra });
  const waiting = (id: string, pausedMin: number, extra = {}) => evse(id, { previousA: 0, pausedForMs: pausedMin * MIN, ...extra });

  it('an EV that must charge now to be done when it leaves charges before EVs with hours to spare, its rotation turn or not', () => {
    // c leaves in 1.5 h wanting 1 h at its maximum (30 min of slack) and has waited only 2 of the 15 min rotation
    // period; a and b leave in 8 h wanting 10 kWh. c comes in, a (charging longest) makes room.
    const c = waiting('c', 2, { energyWantedWh: 22_080, departureAt: NOW + 1.5 * H });
    const r = allocate(site([node('grid', 15)], [running('a', 20, far), running('b', 5, far), c], {}, { rotationPeriodMs: 15 * MIN }));
    // a makes room now; c takes it in the next solve, once a's cut has landed.
    expect(limits(r)).toEqual({ a: 0, b: 7.5, c: 0 });
    const next = allocate(site([node('grid', 15)], [evse('a', { previousA: 0, ...far }), running('b', 5, far), c], {}, { rotationPeriodMs: 15 * MIN }));
    expect(limits(next)).toEqual({ a: 0, b: 7.5, c: 7.5 });
  });

  it('an EV that cannot be done by its departure anyway does not take the place of others', () => {
    // c wants 3 h at its maximum and leaves in 1.5 h: putting it first would only hand the site to a session that never
    // finishes; it waits its turn like anyone.
    const c = waiting('c', 2, { energyWantedWh: 3 * 22_080, departureAt: NOW + 1.5 * H });
    const r = allocate(site([node('grid', 15)], [running('a', 20, far), running('b', 5, far), c], {}, { rotationPeriodMs: 15 * MIN }));
    expect(limits(r)).toEqual({ a: 7.5, b: 7.5, c: 0 });
  });

  it('two EVs short of slack do not swap every solve: the one charging keeps charging', () => {
    // Room for one minimum. y (paused) has less slack than x (charging), but x keeps it: y's slack shrinks while it
    // waits, so ordering by slack alone would hand the place back and forth.
    const x = running('x', 5, { energyWantedWh: 22_080, departureAt: NOW + 1.5 * H });
    const y = waiting('y', 2, { energyWantedWh: 22_080, departureAt: NOW + 1.25 * H });
    const r = allocate(site([node('grid', 7.5)], [x, y], {}, { rotationPeriodMs: 15 * MIN }));
    expect(limits(r)).toEqual({ x: 7.5, y: 0 });
  });
});
