// The simulated world's physics: how a station combines profiles, EV taper, phase mapping, the site tree, the clock.
import { describe, expect, it } from 'vitest';
import { interval, take, toArray, firstValueFrom, timer } from 'rxjs';
import { SimEv, ownMaximumWh } from '../../src/sim/physics/ev.js';
import { effectiveLimit, validateProfile, type ChargingProfile, type InstalledProfile } from '../../src/sim/physics/profiles.js';
import { SimBattery, SiteTree, baseLoadFn, clearSky, pvPowerFn, shapeFraction } from '../../src/sim/physics/site.js';
import { SimStation, sitePhases } from '../../src/sim/physics/station.js';
import { createPrng } from '../../src/sim/prng.js';
import { parseScenario } from '../../src/sim/scenario.js';
import type { ChargerSpec, EvSpec } from '../../src/sim/scenario-types.js';
import { VIRTUAL_EPOCH, VirtualClock } from '../../src/sim/virtual-time.js';
import { OcppCallError } from '../../src/relay/events.js';

const T0 = VIRTUAL_EPOCH + 8 * 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const ctx = { evseId: 1, transactionId: 'tx1', transactionStartedAt: T0, voltageV: 230 };

function profile(p: Partial<ChargingProfile> & { limit: number; unit?: 'A' | 'W'; numberPhases?: number; startSchedule?: string; duration?: number; periods?: { startPeriod: number; limit: number }[] }): ChargingProfile {
  const kind = p.chargingProfileKind ?? 'Relative';
  return {
    id: p.id ?? 1,
    stackLevel: p.stackLevel ?? 0,
    chargingProfilePurpose: p.chargingProfilePurpose ?? 'TxProfile',
    chargingProfileKind: kind,
    ...(p.validFrom ? { validFrom: p.validFrom } : {}),
    ...(p.validTo ? { validTo: p.validTo } : {}),
    ...(p.transactionId ? { transactionId: p.transactionId } : {}),
    ...(p.recurrencyKind ? { recurrencyKind: p.recurrencyKind } : {}),
    chargingSchedule: [
      {
        id: 1,
        chargingRateUnit: p.unit ?? 'A',
        ...(p.startSchedule ? { startSchedule: p.startSchedule } : {}),
        ...(p.duration !== undefined ? { duration: p.duration } : {}),
        chargingSchedulePeriod: p.periods ?? [{ startPeriod: 0, limit: p.limit, ...(p.numberPhases ? { numberPhases: p.numberPhases } : {}) }],
      },
    ],
  };
}
const inst = (evseId: number, profile: ChargingProfile, receivedAt = T0): InstalledProfile => ({ evseId, profile, receivedAt });

describe('station profile combination', () => {
  it('takes the minimum of ChargingStationMaxProfile and the TxProfile', () => {
    const max = inst(0, profile({ id: 1, chargingProfilePurpose: 'ChargingStationMaxProfile', chargingProfileKind: 'Absolute', startSchedule: iso(T0 - 1000), limit: 20 }));
    const tx = inst(1, profile({ id: 2, transactionId: 'tx1', limit: 25 }));
    expect(effectiveLimit([max, tx], T0 + 1000, ctx)?.limitA).toBe(20);
    const tx10 = inst(1, profile({ id: 3, transactionId: 'tx1', limit: 10 }));
    expect(effectiveLimit([max, tx10], T0 + 1000, ctx)?.limitA).toBe(10);
  });

  it('uses TxDefaultProfile only when no TxProfile is in force', () => {
    const def = inst(0, profile({ id: 1, chargingProfilePurpose: 'TxDefaultProfile', limit: 6 }));
    const tx = inst(1, profile({ id: 2, transactionId: 'tx1', limit: 16 }));
    expect(effectiveLimit([def], T0, ctx)?.limitA).toBe(6);
    // The TxProfile replaces the default even though it is higher (not a minimum).
    expect(effectiveLimit([def, tx], T0, ctx)?.limitA).toBe(16);
    // A TxProfile of another transaction does not apply.
    expect(effectiveLimit([def, inst(1, profile({ id: 3, transactionId: 'other', limit: 32 }))], T0, ctx)?.limitA).toBe(6);
  });

  it('lets a higher stack level replace a lower one, even when higher', () => {
    const low = inst(1, profile({ id: 1, stackLevel: 1, transactionId: 'tx1', limit: 10 }));
    const high = inst(1, profile({ id: 2, stackLevel: 5, transactionId: 'tx1', limit: 24 }));
    expect(effectiveLimit([low, high], T0, ctx)?.limitA).toBe(24);
  });

  it('falls back to the lower stack level when the higher one has expired (validTo or duration)', () => {
    const low = inst(1, profile({ id: 1, stackLevel: 1, transactionId: 'tx1', limit: 10 }));
    const expiring = inst(1, profile({ id: 2, stackLevel: 5, transactionId: 'tx1', limit: 24, validTo: iso(T0 + 60_000) }));
    expect(effectiveLimit([low, expiring], T0 + 59_000, ctx)?.limitA).toBe(24);
    expect(effectiveLimit([low, expiring], T0 + 60_000, ctx)?.limitA).toBe(10);
    const short = inst(1, profile({ id: 3, stackLevel: 6, transactionId: 'tx1', limit: 8, duration: 30 }));
    // Relative schedules count from the transaction start (T0), not from installation.
    expect(effectiveLimit([low, short], T0 + 29_000, ctx)?.limitA).toBe(8);
    expect(effectiveLimit([low, short], T0 + 30_000, ctx)?.limitA).toBe(10);
  });

  it('honours validFrom and the periods of an Absolute schedule', () => {
    const p = inst(0, profile({ id: 1, chargingProfilePurpose: 'ChargingStationMaxProfile', chargingProfileKind: 'Absolute', startSchedule: iso(T0), validFrom: iso(T0 + 10_000), limit: 0, periods: [{ startPeriod: 0, limit: 30 }, { startPeriod: 60, limit: 12 }] }));
    expect(effectiveLimit([p], T0 + 5_000, ctx)).toBeUndefined();
    expect(effectiveLimit([p], T0 + 20_000, ctx)?.limitA).toBe(30);
    expect(effectiveLimit([p], T0 + 61_000, ctx)?.limitA).toBe(12);
  });

  it('converts W to A per phase with the nominal voltage and the period phases', () => {
    const w3 = inst(1, profile({ id: 1, transactionId: 'tx1', unit: 'W', limit: 11040 }));
    expect(effectiveLimit([w3], T0, ctx)?.limitA).toBeCloseTo(16, 5);
    const w1 = inst(1, profile({ id: 2, transactionId: 'tx1', unit: 'W', limit: 3680, numberPhases: 1 }));
    const l = effectiveLimit([w1], T0, ctx);
    expect(l?.limitA).toBeCloseTo(16, 5);
    expect(l?.numberPhases).toBe(1);
  });

  it('prefers an EVSE-specific TxDefaultProfile over one on evseId 0 at the same stack level', () => {
    const all = inst(0, profile({ id: 1, chargingProfilePurpose: 'TxDefaultProfile', limit: 6 }));
    const own = inst(1, profile({ id: 2, chargingProfilePurpose: 'TxDefaultProfile', limit: 13 }));
    expect(effectiveLimit([all, own], T0, ctx)?.limitA).toBe(13);
  });

  it('repeats a Recurring Daily profile', () => {
    const p = inst(0, profile({ id: 1, chargingProfilePurpose: 'ChargingStationMaxProfile', chargingProfileKind: 'Recurring', recurrencyKind: 'Daily', startSchedule: iso(VIRTUAL_EPOCH), limit: 0, periods: [{ startPeriod: 0, limit: 10 }, { startPeriod: 6 * 3600, limit: 32 }] }));
    expect(effectiveLimit([p], VIRTUAL_EPOCH + 86_400_000 + 3_600_000, ctx)?.limitA).toBe(10);
    expect(effectiveLimit([p], VIRTUAL_EPOCH + 86_400_000 + 7 * 3_600_000, ctx)?.limitA).toBe(32);
  });

  it('rejects what a station rejects (K01 rules)', () => {
    const opts = { evseCount: 1, activeTransactions: new Map([[1, 'tx1']]), rateUnits: ['A' as const], maxStackLevel: 10, periodsPerSchedule: 24, installed: [] };
    expect(validateProfile(1, profile({ chargingProfilePurpose: 'ChargingStationExternalConstraints', limit: 10 }), opts)).toMatch(/K01.FR.22/);
    expect(validateProfile(1, profile({ chargingProfilePurpose: 'ChargingStationMaxProfile', chargingProfileKind: 'Absolute', startSchedule: iso(T0), limit: 10 }), opts)).toMatch(/evseId 0/);
    expect(validateProfile(1, profile({ transactionId: 'nope', limit: 10 }), opts)).toMatch(/no such transaction/);
    expect(validateProfile(1, profile({ transactionId: 'tx1', limit: 10, unit: 'W' }), opts)).toMatch(/RateUnit/);
    expect(validateProfile(1, profile({ transactionId: 'tx1', limit: 10, startSchedule: iso(T0) }), opts)).toMatch(/K01.FR.41/);
    expect(validateProfile(1, profile({ transactionId: 'tx1', limit: 0, periods: [{ startPeriod: 5, limit: 1 }] }), opts)).toMatch(/K01.FR.31/);
    expect(validateProfile(1, profile({ transactionId: 'tx1', limit: 10, stackLevel: 11 }), opts)).toMatch(/stackLevel/);
    expect(validateProfile(1, profile({ transactionId: 'tx1', limit: 10 }), opts)).toBeUndefined();
  });
});

const charger = (over: Partial<ChargerSpec> = {}): ChargerSpec => ({ id: 'CP1', phases: 3, maxA: 32, rotation: 'L1L2L3', reactionS: 5, profiles: 'apply', meterValuesS: 10, ...over });
const evSpec = (over: Partial<EvSpec> = {}): EvSpec => ({ id: 'EV1', charger: 'CP1', arriveAt: T0, departAt: T0 + 8 * 3_600_000, energyWh: 20_000, maxA: 32, phases: 3, priority: 0, capacityWh: 60_000, sendsNeeds: true, ...over });

describe('station model', () => {
  function station(over: Partial<ChargerSpec> = {}) {
    const sent: { action: string; payload: Record<string, unknown> }[] = [];
    const st = new SimStation(charger(over), { voltageV: 230, send: (action, payload) => sent.push({ action, payload }) });
    return { st, sent };
  }
  const txProfile = (st: SimStation, limit: number, id = 7) => ({ evseId: 1, chargingProfile: profile({ id, stackLevel: 1, transactionId: st.transactionId, limit }) });

  it('applies a TxProfile after its reaction delay and reports the transaction', () => {
    const { st, sent } = station();
    st.boot(T0);
    st.plugIn(new SimEv(evSpec()), T0);
    st.step(T0 + 1000, 1000);
    expect(st.currentA[0]).toBe(32);
    expect(st.handle('SetChargingProfile', txProfile(st, 10), T0 + 1000)).toEqual({ status: 'Accepted' });
    st.step(T0 + 5000, 1000);
    expect(st.currentA[0]).toBe(32); // still reacting
    st.step(T0 + 6000, 1000);
    expect(st.currentA).toEqual([10, 10, 10]);
    const actions = sent.map((m) => m.action);
    expect(actions.slice(0, 4)).toEqual(['BootNotification', 'StatusNotification', 'StatusNotification', 'TransactionEvent']);
    expect(actions).toContain('NotifyEVChargingNeeds');
    st.unplug(T0 + 7000);
    const ended = sent.filter((m) => m.action === 'TransactionEvent').pop()!.payload;
    expect(ended.eventType).toBe('Ended');
    // The TxProfile ended with the transaction.
    expect(st.installed.some((p) => p.profile.chargingProfilePurpose === 'TxProfile')).toBe(false);
  });

  it('pauses below 6 A and resumes above', () => {
    const { st } = station({ reactionS: 0 });
    st.plugIn(new SimEv(evSpec()), T0);
    st.handle('SetChargingProfile', txProfile(st, 5), T0);
    st.step(T0 + 1000, 1000);
    expect(st.currentA).toEqual([0, 0, 0]);
    st.handle('SetChargingProfile', txProfile(st, 6), T0 + 1000);
    st.step(T0 + 2000, 1000);
    expect(st.currentA).toEqual([6, 6, 6]);
  });

  it('a station that ignores profiles accepts them and keeps drawing its maximum; one that rejects says Rejected', () => {
    const ign = station({ profiles: 'ignore', reactionS: 0 }).st;
    ign.plugIn(new SimEv(evSpec()), T0);
    expect(ign.handle('SetChargingProfile', txProfile(ign, 6), T0)).toEqual({ status: 'Accepted' });
    ign.step(T0 + 10_000, 1000);
    expect(ign.currentA).toEqual([32, 32, 32]);
    const rej = station({ profiles: 'reject' }).st;
    rej.plugIn(new SimEv(evSpec()), T0);
    expect(rej.handle('SetChargingProfile', txProfile(rej, 6), T0).status).toBe('Rejected');
  });

  it('a remote stop ends the transaction after the answer; a remote start begins a new one for the plugged-in EV', () => {
    const { st, sent } = station({ reactionS: 0 });
    st.plugIn(new SimEv(evSpec()), T0);
    const tx = st.transactionId!;
    expect(st.handle('RequestStopTransaction', { transactionId: 'other' }, T0).status).toBe('Rejected');
    expect(st.handle('RequestStopTransaction', { transactionId: tx }, T0)).toEqual({ status: 'Accepted' });
    st.step(T0 + 1000, 1000);
    const ended = sent.filter((m) => m.action === 'TransactionEvent').pop()!.payload;
    expect(ended).toMatchObject({ eventType: 'Ended', triggerReason: 'RemoteStop', transactionInfo: { transactionId: tx, stoppedReason: 'Remote' } });
    st.step(T0 + 2000, 1000);
    expect(st.currentA).toEqual([0, 0, 0]);
    expect(st.handle('RequestStartTransaction', { evseId: 1, remoteStartId: 7, idToken: { idToken: 'X', type: 'Central' } }, T0 + 2000)).toEqual({ status: 'Accepted' });
    st.step(T0 + 3000, 1000);
    const started = sent.filter((m) => m.action === 'TransactionEvent' && m.payload.eventType === 'Started').pop()!.payload;
    expect(started).toMatchObject({ eventType: 'Started', triggerReason: 'RemoteStart', transactionInfo: { remoteStartId: 7 } });
    expect(st.transactionId).not.toBe(tx);
    st.step(T0 + 4000, 1000);
    expect(st.currentA[0]).toBe(32);
  });

  it('answers GetVariables with its smart-charging capabilities and unknown actions with NotImplemented', () => {
    const { st } = station({ phases: 1 });
    const r = st.handle('GetVariables', { getVariableData: [{ component: { name: 'SmartChargingCtrlr' }, variable: { name: 'RateUnit' } }, { component: { name: 'Foo' }, variable: { name: 'Bar' } }] }, T0) as { getVariableResult: { attributeStatus: string; attributeValue?: string }[] };
    expect(r.getVariableResult[0]).toMatchObject({ attributeStatus: 'Accepted', attributeValue: 'A,W' });
    expect(r.getVariableResult[1].attributeStatus).toBe('UnknownVariable');
    expect(() => st.handle('DataTransfer', {}, T0)).toThrow(OcppCallError);
  });

  it('a 1-phase charger on rotation L2L3L1 loads site phase L2 only', () => {
    expect(sitePhases('L2L3L1')).toEqual([1, 2, 0]);
    const { st } = station({ phases: 1, rotation: 'L2L3L1' });
    st.plugIn(new SimEv(evSpec({ phases: 1 })), T0);
    st.step(T0 + 1000, 1000);
    expect(st.siteCurrentA()).toEqual([0, 32, 0]);
    const three = station({ rotation: 'L3L1L2' }).st;
    three.plugIn(new SimEv(evSpec({ phases: 1, maxA: 16 })), T0);
    three.step(T0 + 1000, 1000);
    // A 1-phase EV on a 3-phase charger draws on the charger's L1, wired to site L3.
    expect(three.siteCurrentA()).toEqual([0, 0, 16]);
  });
});

describe('EV', () => {
  it('tapers near full and stops at the energy it wants', () => {
    const ev = new SimEv(evSpec({ energyWh: 30_000, capacityWh: 60_000 }));
    expect(ev.soc).toBeCloseTo(0.4, 5);
    expect(ev.maxCurrentA()).toBe(32);
    ev.charge(32, 3, 230, 3_600_000 * (24_000 / (32 * 3 * 230)));
    expect(ev.soc).toBeCloseTo(0.8, 3);
    ev.charge(32, 3, 230, 60_000 * 5);
    expect(ev.maxCurrentA()).toBeLessThan(32);
    expect(ev.maxCurrentA()).toBeGreaterThan(3);
    for (let i = 0; i < 2000 && !ev.full; i++) ev.charge(ev.drawFor(32), 3, 230, 10_000);
    expect(ev.full).toBe(true);
    expect(ev.deliveredWh).toBeCloseTo(30_000, 3);
    expect(ev.drawFor(32)).toBe(0);
  });

  it('own maximum: limited by dwell time at its current, and by what it wants', () => {
    const short = evSpec({ departAt: T0 + 3_600_000, maxA: 16, energyWh: 50_000, capacityWh: 80_000 });
    expect(ownMaximumWh(short, 32, 3, 230)).toBeCloseTo(16 * 3 * 230, -1);
    expect(ownMaximumWh(evSpec({ energyWh: 5000 }), 32, 3, 230)).toBeCloseTo(5000, 3);
  });
});

describe('site', () => {
  it('shapes: office peaks mid-morning on weekdays, home in the evening; PV is zero at night', () => {
    expect(shapeFraction('office', 10, true)).toBeGreaterThan(0.8);
    expect(shapeFraction('office', 3, true)).toBeLessThan(0.25);
    expect(shapeFraction('office', 10, false)).toBeLessThan(0.25);
    expect(shapeFraction('home', 19, true)).toBeGreaterThan(shapeFraction('home', 11, true));
    expect(clearSky(2)).toBe(0);
    expect(clearSky(13.5)).toBeGreaterThan(0.95);
    const pv = pvPowerFn(30_000, 0, 1, VIRTUAL_EPOCH);
    expect(pv(VIRTUAL_EPOCH + 13.5 * 3_600_000)).toBeGreaterThan(28_000);
    expect(pv(VIRTUAL_EPOCH + 23 * 3_600_000)).toBe(0);
  });

  it('base load with noise is reproducible from the seed and near its shape', () => {
    const spec = { shape: 'flat' as const, peakA: [20, 10, 30] as [number, number, number], noise: 0.05 };
    const a = baseLoadFn(spec, 3, 0, VIRTUAL_EPOCH, '.');
    const b = baseLoadFn(spec, 3, 0, VIRTUAL_EPOCH, '.');
    const t = VIRTUAL_EPOCH + 12_345_678;
    expect(a(t)).toEqual(b(t));
    expect(a(t)[0]).toBeGreaterThan(18.9);
    expect(a(t)[0]).toBeLessThan(21.1);
  });

  it('node currents: a sub-board sees its chargers, the grid sees everything minus PV and battery', () => {
    const s = parseScenario({
      name: 't',
      duration: '1h',
      site: { limitA: [63, 63, 63] },
      baseLoad: { shape: 'flat', peakA: [10, 10, 10], noise: 0 },
      circuits: [{ id: 'boardA', limitA: [32, 32, 32] }],
      chargers: [{ id: 'CP1', circuit: 'boardA', phases: 1, rotation: 'L3L1L2' }, { id: 'CP2' }],
      evs: [],
    });
    const tree = new SiteTree(s);
    const nodes = tree.currents(s.startAt, [{ circuit: 'boardA', siteA: [0, 0, 16] }, { siteA: [8, 8, 8] }], 3 * 230 * 2, 230);
    expect(nodes.find((n) => n.id === 'boardA')!.currentA).toEqual([0, 0, 16]);
    expect(nodes.find((n) => n.id === 'grid')!.currentA).toEqual([16, 16, 32]);
  });

  it('battery: discharges against import within its limits and its minimum SoC, charges from export', () => {
    const b = new SimBattery(10_000, 5_000, 0.5, 0.1);
    expect(b.step(8_000, 3_600_000 / 10)).toBe(5_000);
    expect(b.soc).toBeCloseTo(0.45, 5);
    expect(b.step(-2_000, 1000)).toBe(-2_000);
    const low = new SimBattery(10_000, 5_000, 0.1, 0.1);
    expect(low.step(3_000, 1000)).toBe(0);
  });
});

describe('seeded PRNG and virtual time', () => {
  it('the PRNG repeats from its seed and differs between seeds', () => {
    const a = createPrng(42), b = createPrng(42), c = createPrng(43);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('the virtual clock runs timers in order only when advanced, and survives a day of 1 s intervals', async () => {
    const clock = new VirtualClock();
    const seen: number[] = [];
    const p = firstValueFrom(timer(5000, clock).pipe(take(1)));
    clock.schedule(() => seen.push(clock.now() - clock.epoch), 3000);
    clock.schedule(() => seen.push(clock.now() - clock.epoch), 1000);
    clock.advanceTo(clock.epoch + 2000);
    expect(seen).toEqual([1000]);
    clock.advanceBy(3000);
    expect(seen).toEqual([1000, 3000]);
    await expect(p).resolves.toBe(0);
    expect(clock.now()).toBe(clock.epoch + 5000);
    let n = 0;
    const sub = interval(1000, clock).subscribe(() => n++);
    const all = firstValueFrom(interval(1000, clock).pipe(take(3), toArray()));
    clock.advanceBy(86_400_000);
    expect(n).toBe(86_400);
    sub.unsubscribe();
    await expect(all).resolves.toEqual([0, 1, 2]);
    expect(clock.pending()).toBe(0);
  });
});
