// Charging modes and the site's energy picture: PV surplus (plus the home battery for running sessions), the
// import ceiling for peak shaving, tariff windows. All from data in the input; nothing is read from a clock.
import type { AllocationInput, ChargingMode, EvseDemand, PhaseVector, TariffWindow } from './types.js';

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** A session's mode: its own, else the site's; unknown strings fall back to the site mode, then to fast. */
export function effectiveMode(evse: EvseDemand, siteMode: ChargingMode): ChargingMode {
  const m = evse.mode ?? siteMode;
  return m === 'fast' || m === 'pv' || m === 'minpv' ? m : siteMode === 'pv' || siteMode === 'minpv' ? siteMode : 'fast';
}

/** What the controllable EVSEs draw now (W): measured when known, else their previous allocation. */
export function controllableDrawW(input: AllocationInput, voltageV: number): number {
  let w = 0;
  for (const e of input.evses) {
    if (!e || e.controllable !== true) continue;
    if (e.measuredA && e.measuredA.every(finite)) {
      for (let p = 0; p < 3; p++) w += Math.max(0, e.measuredA[p]) * voltageV;
    } else if (finite(e.previousA) && e.previousA > 0) {
      w += e.previousA * (e.previousPhases === 1 ? 1 : 3) * voltageV;
    }
  }
  return w;
}

export interface EnergyPicture {
  /** Site import (W) with every controllable EVSE off: negative when PV exports. */
  importWithoutEvsW: number;
  /** PV surplus available to EVs without importing (W); may be negative (a deficit the battery may cover). */
  surplusW: number;
  /** Extra the home battery may give to keep running sessions going (W): its discharge limit while SoC > min. */
  batteryAllowanceW: number;
}

/**
 * The energy picture from grid, PV and battery data.
 * With a grid meter: grid = house + EVs - PV - battery discharge, so PV beyond the house is
 * EVs - grid - battery (battery charging counts as surplus: EVs come before the home battery).
 * Without one: PV minus the root's base load (A summed over phases times V).
 */
export function energyPicture(input: AllocationInput, voltageV: number, rootBaseA: PhaseVector): EnergyPicture {
  const evW = controllableDrawW(input, voltageV);
  const battery = input.battery;
  const batteryW = battery && finite(battery.powerW) ? battery.powerW : 0;
  const baseW = (rootBaseA[0] + rootBaseA[1] + rootBaseA[2]) * voltageV;
  const pvW = input.pv && finite(input.pv.powerW) ? Math.max(0, input.pv.powerW) : 0;
  let importWithoutEvsW: number;
  let surplusW: number;
  if (input.grid && finite(input.grid.powerW)) {
    importWithoutEvsW = input.grid.powerW - evW;
    surplusW = finite(input.pvSurplusW) ? input.pvSurplusW : evW - input.grid.powerW - batteryW;
  } else {
    importWithoutEvsW = baseW - pvW - batteryW;
    surplusW = pvW - baseW;
  }
  let batteryAllowanceW = 0;
  if (battery && finite(battery.socPct) && finite(battery.minSocPct) && finite(battery.maxDischargeW) && battery.socPct > battery.minSocPct) {
    batteryAllowanceW = Math.max(0, battery.maxDischargeW);
  }
  return { importWithoutEvsW, surplusW, batteryAllowanceW };
}

function priceAt(tariff: readonly TariffWindow[], t: number): number | undefined {
  let price: number | undefined;
  for (const w of tariff) if (w.from <= t && t < w.to && (price === undefined || w.price < price)) price = w.price;
  return price;
}

/** Energy needed is planned with this margin: the EVSE may not get its maximum in the cheaper window. */
export const TARIFF_ENERGY_MARGIN = 1.5;

/**
 * True when the session can wait for cheaper hours: its departure and energy wanted are known, something cheaper
 * than now starts before it leaves, and the cheaper hours before departure hold its energy (with a margin) at
 * its maximum power. Time outside every window is priced as the dearest window.
 */
export function canWaitForCheaperHours(evse: EvseDemand, now: number, tariff: readonly TariffWindow[] | undefined, voltageV: number, phases: 1 | 3): boolean {
  if (!tariff || tariff.length === 0) return false;
  if (!finite(evse.departureAt) || !finite(evse.energyWantedWh) || evse.energyWantedWh <= 0) return false;
  if (evse.departureAt <= now) return false;
  const windows = tariff.filter((w) => w && finite(w.from) && finite(w.to) && finite(w.price) && w.to > w.from);
  if (windows.length === 0) return false;
  let dearest = -Infinity;
  for (const w of windows) dearest = Math.max(dearest, w.price);
  const priceNow = priceAt(windows, now) ?? dearest;
  // Hours before departure priced below now, counted once even where windows overlap.
  const cheaper = windows
    .filter((w) => w.price < priceNow && w.to > now && w.from < evse.departureAt!)
    .map((w) => [Math.max(w.from, now), Math.min(w.to, evse.departureAt!)] as const)
    .sort((a, b) => a[0] - b[0]);
  let cheapMs = 0;
  let end = -Infinity;
  for (const [from, to] of cheaper) {
    const start = Math.max(from, end);
    if (to > start) cheapMs += to - start;
    end = Math.max(end, to);
  }
  if (cheapMs <= 0) return false;
  const powerW = evse.maxA * phases * voltageV;
  const deliverableWh = (powerW * cheapMs) / 3_600_000;
  return deliverableWh >= evse.energyWantedWh * TARIFF_ENERGY_MARGIN;
}

/** Urgency (W): the average power the session needs to get its energy by departure; 0 when either is unknown. */
export function urgencyW(evse: EvseDemand, now: number): number {
  if (!finite(evse.energyWantedWh) || evse.energyWantedWh <= 0 || !finite(evse.departureAt)) return 0;
  const hours = Math.max((evse.departureAt - now) / 3_600_000, 1 / 60);
  return evse.energyWantedWh / hours;
}
