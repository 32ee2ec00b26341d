// The control loop drives OCPP 1.6 stations with real firmware quirks through the station model: each rude station
// converges to a way of limiting it that works (the fallback it needed is learned and kept), or is counted as a fixed
// load, and the fuse holds. In process, on virtual time.
import { afterEach, describe, expect, it } from 'vitest';
import type { Quirk, StationMemory, StationNotes } from '../../src/stations/model.js';
import { harness, makeConfig, type Harness } from './helpers.js';
import { Rude16, type Rude16Options } from './station16.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.loop.stop();
  h = undefined;
});

class MapMemory implements StationMemory {
  readonly notes = new Map<string, StationNotes>();
  load(id: string) {
    return this.notes.get(id);
  }
  save(id: string, n: StationNotes) {
    this.notes.set(id, structuredClone(n));
  }
}

/** Runs the site for `ms`, stepping the stations; returns the highest total draw seen after `settleMs`. */
async function run(h: Harness, stations: Rude16[], ms: number, settleMs: number): Promise<number> {
  const start = h.clock.now();
  let worst = 0;
  while (h.clock.now() - start < ms) {
    await h.clock.advance(250, 250);
    for (const s of stations) s.step();
    if (h.clock.now() - start >= settleMs) worst = Math.max(worst, stations.reduce((a, s) => a + s.drawA, 0));
  }
  return worst;
}

function site(limitA: number, list: Array<Record<string, unknown>>, memory?: StationMemory): Harness {
  const config = makeConfig({ site: { limitA: [limitA, limitA, limitA] }, stations: { listen: { port: 0 }, list } }, { rampAPerS: 100 });
  return harness(config, memory ? { memory } : {});
}

const learnedOf = (h: Harness, id: string) => h.loop.state().stations?.find((s) => s.id === id)?.learned ?? [];
const evseOf = (h: Harness, id: string) => h.loop.state().evses.find((e) => e.stationId === id && e.evseId === 1);

describe('1.6 stations with firmware quirks', () => {
  const cases: Array<{ quirk: Quirk; learned: Quirk[]; opts?: Rude16Options }> = [
    // Says it takes A and W, but only W works.
    { quirk: 'watts-only', learned: ['watts-only'], opts: { rateUnitKey: 'A,W' } },
    { quirk: 'amps-only', learned: [], opts: { rateUnitKey: 'Current' } },
    { quirk: 'relative-only', learned: ['relative-only'] },
    { quirk: 'stack-level-0-only', learned: ['stack-level-0-only'] },
    { quirk: 'tx-default-only', learned: ['tx-default-only'] },
    { quirk: 'connector-0-rejected', learned: ['connector-0-rejected'] },
  ];
  for (const c of cases) {
    it(`${c.quirk}: converges to a way that works, learns it, and the fuse holds`, async () => {
      h = site(20, [{ id: 'S16', evses: 1 }]);
      const st = new Rude16('S16', h.relay, h.clock, { quirks: [c.quirk], evMaxA: 32, ...c.opts });
      st.start(7);
      const worst = await run(h, [st], 60_000, 10_000);
      expect(worst).toBeLessThanOrEqual(20);
      expect(st.drawA).toBeGreaterThanOrEqual(19); // limited, not starved: it got the site's 20 A
      expect(evseOf(h, 'S16')?.controllable).toBe(true);
      for (const q of c.learned) expect(learnedOf(h, 'S16')).toContain(q);
    });
  }

  it('two quirks at once (watts-only and relative-only, the firmware claiming A): found together', async () => {
    h = site(20, [{ id: 'S16' }]);
    const st = new Rude16('S16', h.relay, h.clock, { quirks: ['watts-only', 'relative-only'], rateUnitKey: 'Current,Power' });
    st.start(7);
    expect(await run(h, [st], 60_000, 10_000)).toBeLessThanOrEqual(20);
    expect(st.drawA).toBeGreaterThanOrEqual(19);
    expect(learnedOf(h, 'S16')).toEqual(['watts-only', 'relative-only']);
  });

  it('no-zero: a paused session is held at the station\'s minimum instead, counted so, and the fuse holds', async () => {
    // 16 A for two: the high-priority one takes it all and the other would be paused; this one refuses 0 A, so it is
    // held at its 6 A minimum and the other gets the remaining 10 A.
    h = site(16, [{ id: 'S16', priority: 0 }, { id: 'VIP', priority: 5 }]);
    const st = new Rude16('S16', h.relay, h.clock, { quirks: ['no-zero'], evMaxA: 32 });
    const vip = new Rude16('VIP', h.relay, h.clock, { evMaxA: 32 });
    st.start(7);
    vip.start(8);
    const worst = await run(h, [st, vip], 60_000, 15_000);
    expect(st.rejected.length).toBeGreaterThan(0);
    expect(learnedOf(h, 'S16')).toContain('no-zero');
    expect(st.appliedA()).toBe(6);
    expect(evseOf(h, 'S16')?.appliedLimitA).toBe(6);
    expect(worst).toBeLessThanOrEqual(16);
    expect(vip.drawA).toBeGreaterThanOrEqual(9.5);
  });

  it('no-smart-charging: a fixed load shown as such, never sent a profile, and the others make room', async () => {
    h = site(32, [{ id: 'S16' }, { id: 'OK16' }]);
    const fixed = new Rude16('S16', h.relay, h.clock, { quirks: ['no-smart-charging'], evMaxA: 16 });
    const ok = new Rude16('OK16', h.relay, h.clock, { evMaxA: 32 });
    fixed.start(1);
    ok.start(2);
    const worst = await run(h, [fixed, ok], 60_000, 15_000);
    expect(worst).toBeLessThanOrEqual(32);
    expect(h.relay.calls.filter((c) => c.stationId === 'S16' && c.action === 'SetChargingProfile')).toEqual([]);
    expect(h.loop.state().stations?.find((s) => s.id === 'S16')?.fixedReason).toMatch(/SmartCharging/);
    expect(evseOf(h, 'S16')?.controllable).toBe(false);
    expect(ok.drawA).toBeGreaterThanOrEqual(15);
  });

  it('accepts and ignores, drawing under its limit, and its composite schedule shows it: judged by the read-back', async () => {
    h = site(40, [{ id: 'IGN' }, { id: 'OK16' }]);
    // Its EV takes 10 A of its 20 A share: its current proves nothing; its composite schedule shows no limit of ours.
    const ign = new Rude16('IGN', h.relay, h.clock, { ignores: true, evMaxA: 10 });
    const ok = new Rude16('OK16', h.relay, h.clock, { evMaxA: 32 });
    ign.start(1);
    ok.start(2);
    await run(h, [ign, ok], 30_000, 0);
    // Read back once it had its reaction time: a higher limit shown, but some stations show a profile only once
    // applied, so it is asked again after the longest reaction believed (120 s) before it is judged.
    expect(h.relay.calls.filter((c) => c.stationId === 'IGN' && c.action === 'GetCompositeSchedule')).toHaveLength(1);
    expect(evseOf(h, 'IGN')?.controllable).toBe(true);
    await run(h, [ign, ok], 120_000, 0);
    expect(h.relay.calls.filter((c) => c.stationId === 'IGN' && c.action === 'GetCompositeSchedule')).toHaveLength(2);
    expect(evseOf(h, 'IGN')?.controllable).toBe(false);
    expect(evseOf(h, 'IGN')?.controllableReason).toMatch(/composite schedule shows 32 A/);
    expect(evseOf(h, 'OK16')?.controllable).toBe(true); // its read-back showed its own limit
  });

  it('accepts and ignores (no read-back): judged by its current, counted as a fixed load, the fuse holds', async () => {
    h = site(40, [{ id: 'IGN' }, { id: 'OK16' }]);
    const ign = new Rude16('IGN', h.relay, h.clock, { ignores: true, noComposite: true, evMaxA: 30 });
    const ok = new Rude16('OK16', h.relay, h.clock, { evMaxA: 32 });
    ign.start(1);
    ok.start(2);
    const worst = await run(h, [ign, ok], 120_000, 60_000);
    expect(evseOf(h, 'IGN')?.controllable).toBe(false);
    expect(evseOf(h, 'IGN')?.controllableReason).toMatch(/above its/);
    expect(worst).toBeLessThanOrEqual(40);
    expect(ok.drawA).toBeLessThanOrEqual(10);
  });

  it('a slow applier (45 s) gets its reaction time learned and stays controllable; kept for the next start', async () => {
    const memory = new MapMemory();
    h = site(20, [{ id: 'SLOW' }, { id: 'OK16' }], memory);
    // Its composite schedule, too, shows a new limit only once applied: the read-back must not judge it either.
    const slow = new Rude16('SLOW', h.relay, h.clock, { reactionMs: 45_000, evMaxA: 32, compositeAfterApply: true });
    const ok = new Rude16('OK16', h.relay, h.clock, { evMaxA: 32 });
    slow.start(1);
    await run(h, [slow], 20_000, 0);
    ok.start(2); // the slow one must come down to share
    await run(h, [slow, ok], 180_000, 0);
    expect(evseOf(h, 'SLOW')?.controllable).toBe(true);
    const r = h.loop.state().stations?.find((s) => s.id === 'SLOW')?.reactionMs;
    expect(r).toBeGreaterThanOrEqual(40_000);
    expect(r).toBeLessThanOrEqual(60_000);
    expect(memory.notes.get('SLOW')?.reactionMs).toBe(r);
  });

  it('learned fallbacks are kept: the next start writes the way that works at once', async () => {
    const memory = new MapMemory();
    h = site(20, [{ id: 'S16' }], memory);
    let st = new Rude16('S16', h.relay, h.clock, { quirks: ['relative-only'] });
    st.start(7);
    await run(h, [st], 20_000, 0);
    expect(memory.notes.get('S16')?.learned).toEqual(['relative-only']);
    await h.loop.stop();
    h = site(20, [{ id: 'S16' }], memory);
    st = new Rude16('S16', h.relay, h.clock, { quirks: ['relative-only'] });
    st.start(8);
    await run(h, [st], 20_000, 0);
    expect(st.rejected).toEqual([]);
    expect(st.drawA).toBeGreaterThanOrEqual(19);
  });

  it('config quirks are assumed from the start: nothing is rejected', async () => {
    h = site(20, [{ id: 'S16', quirks: ['watts-only', 'stack-level-0-only'] }]);
    const st = new Rude16('S16', h.relay, h.clock, { quirks: ['watts-only', 'stack-level-0-only'], rateUnitKey: 'Current,Power' });
    st.start(7);
    await run(h, [st], 20_000, 0);
    expect(st.rejected).toEqual([]);
    expect(st.drawA).toBeGreaterThanOrEqual(19);
    expect(learnedOf(h, 'S16')).toEqual([]);
  });

  it('phase-l1-n and single-phase-report: measurements read so the fuse holds', async () => {
    for (const quirk of ['phase-l1-n', 'single-phase-report'] as const) {
      h = site(32, [{ id: 'S16', quirks: [quirk] }, { id: 'OK16' }]);
      const a = new Rude16('S16', h.relay, h.clock, { quirks: [quirk], evMaxA: 16 });
      const b = new Rude16('OK16', h.relay, h.clock, { evMaxA: 32 });
      a.start(1);
      b.start(2);
      expect(await run(h, [a, b], 40_000, 10_000)).toBeLessThanOrEqual(32);
      expect(evseOf(h, 'S16')?.measuredCurrentA).toEqual([16, 16, 16]);
      await h.loop.stop();
    }
  });
  it('single-phase-report not configured: a 3-phase station reporting L1 only is learned, read on every phase, its EV keeps 3 phases', async () => {
    h = site(32, [{ id: 'S16' }, { id: 'OK16' }]);
    const a = new Rude16('S16', h.relay, h.clock, { quirks: ['single-phase-report'], evMaxA: 16 });
    const b = new Rude16('OK16', h.relay, h.clock, { evMaxA: 32 });
    a.start(1);
    b.start(2);
    expect(await run(h, [a, b], 40_000, 10_000)).toBeLessThanOrEqual(32);
    expect(learnedOf(h, 'S16')).toContain('single-phase-report');
    expect(evseOf(h, 'S16')?.measuredCurrentA).toEqual([16, 16, 16]);
    // Read as [16, 0, 0], the absent phases made it a 1-phase session and its limits were written for one phase.
    const profiles = h.relay.calls.filter((c) => c.stationId === 'S16' && c.action === 'SetChargingProfile' && c.payload.connectorId === 1);
    const phasesOf = (c: (typeof profiles)[number]) =>
      ((c.payload.csChargingProfiles as { chargingSchedule: { chargingSchedulePeriod: Array<{ numberPhases?: number }> } }).chargingSchedule.chargingSchedulePeriod[0].numberPhases);
    expect(profiles.length).toBeGreaterThan(0);
    expect(profiles.map(phasesOf).every((n) => n === 3)).toBe(true);
  });
});

describe('CSMS arbitration on a relayed 1.6 station', () => {
  const csms = (h: Harness, action: string, request: Record<string, unknown>) =>
    h.relay.results$.next({ stationId: 'S16', origin: 'csms', messageId: `c${Math.random()}`, action, request, result: { status: 'Accepted' }, at: h.clock.now(), protocol: 'ocpp1.6' });
  const schedule = (limit: number) => ({ chargingRateUnit: 'A', startSchedule: new Date(0).toISOString(), chargingSchedulePeriod: [{ startPeriod: 0, limit }] });

  it('a CSMS ChargePointMaxProfile, TxDefaultProfile and TxProfile: what the station applies never exceeds min(CSMS, allocation)', async () => {
    h = site(32, [{ id: 'S16' }]);
    const st = new Rude16('S16', h.relay, h.clock, { evMaxA: 32 });
    st.start(7);
    await run(h, [st], 10_000, 0);
    expect(st.appliedA()).toBe(32);
    csms(h, 'SetChargingProfile', { connectorId: 0, csChargingProfiles: { chargingProfileId: 1, stackLevel: 0, chargingProfilePurpose: 'ChargePointMaxProfile', chargingProfileKind: 'Absolute', chargingSchedule: schedule(20) } });
    await run(h, [st], 10_000, 0);
    expect(st.appliedA()).toBeLessThanOrEqual(20);
    csms(h, 'SetChargingProfile', { connectorId: 1, csChargingProfiles: { chargingProfileId: 2, transactionId: 7, stackLevel: 0, chargingProfilePurpose: 'TxProfile', chargingProfileKind: 'Absolute', chargingSchedule: schedule(12) } });
    await run(h, [st], 10_000, 0);
    expect(st.appliedA()).toBeLessThanOrEqual(12);
    expect(evseOf(h, 'S16')?.csmsLimitA).toBe(12);
    csms(h, 'ClearChargingProfile', { id: 2 });
    await run(h, [st], 10_000, 0);
    expect(st.appliedA()).toBe(20);
  });

  it('a full EV says so in its connector status (SuspendedEV): its share goes to the EV still charging, and comes back when it charges again', async () => {
    h = site(32, [{ id: 'A16', evses: 1 }, { id: 'B16', evses: 1 }]);
    const a = new Rude16('A16', h.relay, h.clock, { evMaxA: 32 });
    const b = new Rude16('B16', h.relay, h.clock, { evMaxA: 32 });
    a.start(1);
    b.start(2);
    await run(h, [a, b], 30_000, 0);
    expect([evseOf(h, 'A16')?.limitA, evseOf(h, 'B16')?.limitA]).toEqual([16, 16]);
    b.evState('SuspendedEV');
    await run(h, [a, b], 30_000, 0);
    // 2.0.1 says this in TransactionEvent's chargingState; 1.6 only in StatusNotification. Missed, B16 kept 16 A.
    expect(evseOf(h, 'A16')?.limitA).toBe(32);
    expect(evseOf(h, 'B16')?.limitA).toBe(0);
    expect(a.drawA).toBe(32);
    b.evState('Charging');
    await run(h, [a, b], 30_000, 0);
    expect([evseOf(h, 'A16')?.limitA, evseOf(h, 'B16')?.limitA]).toEqual([16, 16]);
  });
});
