// What a meter or inverter gives, as small capability types (after evcc's api/api.go): a device is the set of
// capabilities it has. Drivers know devices, not the site: the role a device plays (grid, pv, battery, sub-circuit
// meter, charger meter) comes from config and is applied by the caller.
//
// Units are normalised: A, V, W, Wh, %. Sign conventions:
// - active power at a grid or sub-circuit meter: import (from the grid into the site) positive, export negative;
// - PV power: production positive;
// - battery power: discharging positive, charging negative (the battery as a source, like PV).

export type { PhaseVector } from '../algorithms/types.js';
import type { PhaseVector } from '../algorithms/types.js';

export type Quality = 'good' | 'stale' | 'bad';

/** Per-phase currents (A). */
export interface PhaseCurrents { phaseCurrentsA: PhaseVector }
/** Per-phase voltages (V, line to neutral). */
export interface PhaseVoltages { phaseVoltagesV: PhaseVector }
/** Per-phase active powers (W, import positive). */
export interface PhasePowers { phasePowersW: PhaseVector }
/** Total active power (W, import positive). */
export interface ActivePower { activePowerW: number }
/** Energy counters (Wh). */
export interface EnergyCounters { importEnergyWh: number; exportEnergyWh: number }
/** PV production (W, positive). */
export interface PvPower { pvPowerW: number }
/** PV power limit in percent of the nameplate, where the inverter allows it. */
export interface PvPowerLimit { pvPowerLimitPct: number }
/** Battery state of charge (%). */
export interface BatterySoc { batterySocPct: number }
/** Battery power (W, discharging positive). */
export interface BatteryPower { batteryPowerW: number }
/** Battery charge/discharge limits (W, both positive). */
export interface BatteryLimits { batteryMaxChargeW: number; batteryMaxDischargeW: number }

/** All values a reading may carry; each field belongs to one capability above. */
export type MeasuredValues = Partial<
  PhaseCurrents & PhaseVoltages & PhasePowers & ActivePower & EnergyCounters & PvPower & PvPowerLimit &
    BatterySoc & BatteryPower & BatteryLimits
>;

export type CapabilityName = keyof MeasuredValues;

/**
 * One reading of one device. `quality` says whether the values can be used:
 * - good: read just now, all values valid;
 * - stale: the device has not answered within its stale time; `values` is empty (never the last good values);
 * - bad: the device answered but the values cannot be trusted (exception, not-implemented marker, NaN, out of
 *   range); `reason` says why and `values` holds only the fields that were valid, if any.
 */
export interface Reading {
  deviceId: string;
  /** When the values were read (epoch ms, from the injected scheduler's clock). */
  at: number;
  quality: Quality;
  reason?: string;
  values: MeasuredValues;
}
