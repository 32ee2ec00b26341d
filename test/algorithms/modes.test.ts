// Example tests: PV surplus, minimum + PV, home battery, peak shaving, tariff windows — with the arithmetic.
import { describe, expect, it } from 'vitest';
import { allocate } from '../../algorithms/index.js';
import { evse, node, of, site } from './helpers.js';

const NOW = Date.UTC(2026, 0, 1, 12); // 12:00
const H = 3_600_000;

describe('PV surplus mode', () => {
  it('switches to 1 phase when the surplus is below 3 x 6 A and charges from the surplus only', () => {
    // No grid meter: surplus = PV 4000 W - base load 0. 3 phases at 6 A need 3 x 6 x 230 = 4140 W > 4000 W.
    // 1 phase: 4000 / 230 = 17.39 A, sent as 17.3 A (rounded down).
    const r = allocate(site([node('grid', 63)], [evse('a', { canSwitchPhases: true })], { pv: { powerW: 4000 } }, { mode: 'pv' }));
    expect(of(r, 'a')).toMatchObject({ phases: 1, limitA: 17.3, reason: 'pv-limited', limitedBy: 'pv' });
  });

  it('shares the surplus evenly in power: a car that switches takes three phases only when its minimum there is within its share', () => {
    // 5.6 kW of surplus for two cars that switch: 3 x 6 A (4140 W) for one would leave the other 1460 W, a quarter of
    // the power. Both on one phase instead: 5600 / 2 / 230 = 12.17 A each, 12.1 A sent.
    const two = (pvW: number) =>
      allocate(site([node('grid', 63)], [evse('a', { canSwitchPhases: true, previousA: 6, previousPhases: 3, chargingForMs: 3_600_000 }), evse('b', { canSwitchPhases: true })], { pv: { powerW: pvW } }, { mode: 'pv' }));
    expect(of(two(5600), 'a')).toMatchObject({ phases: 1, limitA: 12.1 });
    expect(of(two(5600), 'b')).toMatchObject({ phases: 1, limitA: 12.1 });
    // 9 kW: each share (4.5 kW) holds the 3-phase minimum: both on three phases, 9000 / 6 / 230 = 6.52 A.
    expect(of(two(9000), 'a')).toMatchObject({ phases: 3, limitA: 6.5 });
    expect(of(two(9000), 'b')).toMatchObject({ phases: 3, limitA: 6.5 });
  });

  it('measures the surplus from the grid meter, adding back what the EV draws now', () => {
    // Exporting 2000 W while the EV draws 3 x 6 A = 4140 W: without the EV the surplus is 4140 + 2000 = 6140 W.
    // 3 phases: 6140 / 690 = 8.9 A -> 8.8 A after rounding down 8.898.
    const r = allocate(
      site([node('grid', 63)], [evse('a', { measuredA: [6, 6, 6], previousA: 6, chargingForMs: 60_000, mode: 'pv' })], { grid: { powerW: -2000 } }),
    );
    expect(of(r, 'a')).toMatchObject({ phases: 3, limitA: 8.8, reason: 'pv-limited' });
  });

  it('pauses a PV session when there is no surplus', () => {
    const r = allocate(site([node('grid', 63)], [evse('a', { mode: 'pv' })], { grid: { powerW: 500 } }));
    expect(of(r, 'a')).toMatchObject({ limitA: 0, reason: 'pv-limited' });
  });

  it('lets fast sessions use the grid while PV sessions stay on the surplus', () => {
    // Surplus 1380 W (PV 1380, no base load): the 1-phase PV session gets 1380 / 230 = 6 A; the fast one 32 A.
    const r = allocate(
      site([node('grid', 63)], [evse('sun', { mode: 'pv', phases: 1 }), evse('now', { mode: 'fast' })], { pv: { powerW: 1380 } }),
    );
    expect(of(r, 'sun').limitA).toBe(6);
    expect(of(r, 'now').limitA).toBe(32);
  });
});

describe('minimum + PV mode', () => {
  it('takes the minimum from the grid and only the part above it from the surplus', () => {
    // No surplus: 6 A from the grid. Surplus 1380 W: 6 + 1380 / (3 x 230) = 6 + 2 = 8 A.
    const none = allocate(site([node('grid', 63)], [evse('a')], { pv: { powerW: 0 } }, { mode: 'minpv' }));
    expect(of(none, 'a')).toMatchObject({ limitA: 6, reason: 'pv-limited' });
    const some = allocate(site([node('grid', 63)], [evse('a')], { pv: { powerW: 1380 } }, { mode: 'minpv' }));
    expect(of(some, 'a').limitA).toBe(8);
  });
});

describe('home battery', () => {
  // The EV charges at 6 A on 1 phase (1380 W) and the grid imports exactly that: no surplus left
  // (surplus = EV 1380 - grid 1380 - battery 0 = 0).
  const running = evse('a', { mode: 'pv', phases: 1, previousA: 6, previousPhases: 1, chargingForMs: 600_000 });
  const arriving = evse('b', { mode: 'pv', phases: 1 });

  it('keeps a running PV session at its minimum from the battery while SoC is above the minimum', () => {
    // Battery 60 % > 20 %, may discharge 3000 W >= 1380 W: a keeps 6 A. b is not started from the battery.
    const r = allocate(
      site([node('grid', 63)], [running, arriving], {
        grid: { powerW: 1380 },
        battery: { socPct: 60, powerW: 0, maxDischargeW: 3000, minSocPct: 20 },
      }),
    );
    expect(of(r, 'a').limitA).toBe(6);
    expect(of(r, 'b')).toMatchObject({ limitA: 0, reason: 'pv-limited' });
  });

  it('does not use the battery below its minimum SoC', () => {
    const r = allocate(
      site([node('grid', 63)], [running], { grid: { powerW: 1380 }, battery: { socPct: 15, powerW: 0, maxDischargeW: 3000, minSocPct: 20 } }),
    );
    expect(of(r, 'a')).toMatchObject({ limitA: 0, reason: 'pv-limited' });
  });
});

describe('peak shaving', () => {
  it('keeps grid import under the ceiling', () => {
    // Import without EVs 4100 W, ceiling 11 000 W: 6900 W for EVs; one 3-phase EVSE: 6900 / 690 = 10 A.
    const r = allocate(site([node('grid', 63)], [evse('a')], { grid: { powerW: 4100 } }, { importCeilingW: 11_000 }));
    expect(of(r, 'a')).toMatchObject({ limitA: 10, reason: 'peak-shaving', limitedBy: 'importCeiling' });
  });

  it('pauses when even the minimum would cross the ceiling', () => {
    // 11 000 - 7000 = 4000 W < 3 x 6 x 230 = 4140 W.
    const r = allocate(site([node('grid', 63)], [evse('a')], { grid: { powerW: 7000 } }, { importCeilingW: 11_000 }));
    expect(of(r, 'a')).toMatchObject({ limitA: 0, reason: 'peak-shaving' });
  });
});

describe('tariff windows', () => {
  // 12:00-22:00 at 0.30, 22:00-06:00 at 0.10. Departure 07:00 next day. Max 16 A x 3 x 230 = 11 040 W.
  const tariff = [
    { from: NOW, to: NOW + 10 * H, price: 0.3 },
    { from: NOW + 10 * H, to: NOW + 18 * H, price: 0.1 },
  ];
  const departureAt = NOW + 19 * H;

  it('defers a session whose departure leaves time to charge in cheaper hours', () => {
    // Cheaper hours before departure: 8 h x 11 040 W = 88.3 kWh >= 10 kWh x 1.5 margin: wait.
    const r = allocate(site([node('grid', 63)], [evse('a', { maxA: 16, energyWantedWh: 10_000, departureAt })], {}, { tariff }));
    expect(of(r, 'a')).toMatchObject({ limitA: 0, reason: 'tariff-wait' });
  });

  it('charges now when the cheaper hours cannot hold the energy, or departure is unknown', () => {
    // 88.3 kWh < 80 kWh x 1.5 = 120 kWh: charge now.
    const big = allocate(site([node('grid', 63)], [evse('a', { maxA: 16, energyWantedWh: 80_000, departureAt })], {}, { tariff }));
    expect(of(big, 'a').limitA).toBe(16);
    const unknown = allocate(site([node('grid', 63)], [evse('a', { maxA: 16, energyWantedWh: 10_000 })], {}, { tariff }));
    expect(of(unknown, 'a').limitA).toBe(16);
  });

  it('charges once the cheap window has come', () => {
    // At 23:00 the price is 0.10 and nothing cheaper follows before departure.
    const r = allocate(site([node('grid', 63)], [evse('a', { maxA: 16, energyWantedWh: 10_000, departureAt })], { now: NOW + 11 * H }, { tariff }));
    expect(of(r, 'a').limitA).toBe(16);
  });

  it('keeps a waiting minpv session on the surplus only', () => {
    // Deferred, so no grid minimum; the 2760 W surplus still charges it: 2760 / 690 = 4 A < 6 A minimum,
    // so it waits (on 3 phases); 1-phase switchable: 2760 / 230 = 12 A on 1 phase.
    const r = allocate(
      site([node('grid', 63)], [evse('a', { maxA: 16, energyWantedWh: 10_000, departureAt, mode: 'minpv', canSwitchPhases: true })], { pv: { powerW: 2760 } }, { tariff }),
    );
    expect(of(r, 'a')).toMatchObject({ phases: 1, limitA: 12, reason: 'tariff-wait' });
  });
});
