// The home battery kept for the EVs (control.battery.reserveForEvs): a battery doing self-consumption discharges against
// any import, so on a site whose grid connection has room it drains into load the grid could have carried, and is
// empty when the fuse binds (pv-depot: 30 kW from 11:05 until its minimum at 12:18, then the evening vans without it).
// Kept for the EVs, it discharges only what the grid connection cannot carry: the controller sets the most it may
// discharge, and the battery still covers less than that when there is less import.
//
// The limit follows what was measured, not what was allocated: EVSEs take up to a minute to follow a lower limit, and
// a battery held back at once would put their current on the fuse meanwhile. So it is lowered only by the room the
// grid meter shows now, less what the EVSEs may still rise by to reach their allocations. It is never below what the
// session plan gives it now (the plan knows what the battery is worth to the sessions later); without a plan for it,
// it is released whole as soon as the grid connection is what holds an EVSE back (the battery answers in seconds, the
// EVSEs then rise into the discharge credited). Unsure of the grid (no good reading) or of the battery's charge, it is
// released: a battery discharging more only ever takes load off the fuse.
import type { PhaseVector } from './types.js';

export interface BatteryReserveInput {
  /** What the battery discharges now (W, charging negative) and the most it can (W). */
  dischargeW: number;
  maxDischargeW: number;
  /** Charge to spare above its minimum (the controller credits its discharge only then; kept, down to the taper's end). */
  usable: boolean;
  /** The grid connection: its limit and what its meter shows now (A per site phase); undefined when not good. */
  fuseA: PhaseVector;
  gridA: PhaseVector | undefined;
  /** Kept free below the fuse (A), as on any measured load. */
  marginA: number;
  /** Per site phase, what the EVSEs may still rise by to reach the limits just allocated (A). */
  pendingRiseA: PhaseVector;
  /** An EVSE got less than it could take because of the grid connection. */
  gridBinding: boolean;
  /** The discharge the session plan gives now (W), when it plans the battery: then at least that, and no more than
   * the grid's room needs, whatever binds (the plan knows what the battery is worth later). */
  planW?: number;
  /** Near its minimum, the most it may discharge as it is wound down (taperW). */
  taperW?: number;
  voltageV: number;
}

/**
 * Near its minimum a battery stops on its own, all at once, so a battery left to itself is not counted for the last
 * TAPER_FROM_PCT points above its minimum. One kept for the EVs is wound down instead: over those points its limit,
 * and what the loop counts of it, fall from its full power to nothing at TAPER_TO_PCT above the minimum, so the EVSEs
 * are cut in small steps with it and the energy of those points goes to them, not to the import after a cut.
 */
export const TAPER_FROM_PCT = 5;
export const TAPER_TO_PCT = 1;

/** The most a kept battery may discharge at this state of charge (W): its full power above the taper, 0 below it.
 * A battery that does not say its power cannot be wound down: all of it above TAPER_FROM_PCT, nothing below. */
export function taperW(socPct: number, minSocPct: number, maxDischargeW: number): number {
  if (!(maxDischargeW > 0)) return socPct > minSocPct + TAPER_FROM_PCT ? Infinity : 0;
  const f = (socPct - minSocPct - TAPER_TO_PCT) / (TAPER_FROM_PCT - TAPER_TO_PCT);
  return f >= 1 ? maxDischargeW : f > 0 ? maxDischargeW * f : 0;
}

/** Points above its minimum down to which a kept battery is counted: the taper's end, or without a known power where
 * the taper would start. */
export const keptFloorPct = (maxDischargeW: number): number => (maxDischargeW > 0 ? TAPER_TO_PCT : TAPER_FROM_PCT);

/** The most the battery may discharge now (W, below maxDischargeW), or undefined: released, as much as it can. */
export function batteryReserveLimitW(x: BatteryReserveInput): number | undefined {
  const free = freeLimitW(x);
  if (x.taperW === undefined || !x.usable || !x.gridA || !(x.taperW < (free ?? x.maxDischargeW))) return free;
  return Math.round(x.taperW);
}

/**
 * A battery doing self-consumption charges only from what the site exports. While EVs charge from PV it stays where it
 * is even when the grid connection has room to carry them, and is then short when the fuse binds (pv-depot: 88 % when
 * the evening vans came, after a sunny day). One kept for the EVs is refilled from PV instead whenever every EVSE gets
 * what it can take: it is told to charge at least the PV beyond the site's base load, and the EVSEs draw from the grid
 * in its place, as far as the grid connection's room allows (REFILL_SPARE_A kept free on every phase).
 */
export interface RefillInput {
  socPct: number;
  /** The most it can charge (W); 0 when not known. */
  maxChargeW: number;
  /** What it charges now (W; negative while it discharges): taken off the grid's reading, as the new command replaces
   * it. */
  chargeW: number;
  /** PV beyond the site's base load (W): what it may be told to charge from. */
  pvSurplusW: number | undefined;
  fuseA: PhaseVector;
  /** The grid meter now (A per site phase); undefined when not good. */
  gridA: PhaseVector | undefined;
  marginA: number;
  pendingRiseA: PhaseVector;
  voltageV: number;
}

/** Kept free on every phase while the battery is refilled (A): a base load drifting up must not hold an EVSE back. */
export const REFILL_SPARE_A = 2;
/** Charge below this is not worth telling the inverter (W): self-consumption charges from export anyway. */
export const REFILL_MIN_W = 500;
/** Refilled up to this state of charge (%): above it a battery charges slowly on its own. */
export const REFILL_FULL_PCT = 99;

/** What the kept battery should be told to charge at least (W, rounded down to 100 W), or 0: left to itself. */
export function refillW(x: RefillInput): number {
  if (!x.gridA || x.pvSurplusW === undefined || !(x.maxChargeW > 0) || x.socPct >= REFILL_FULL_PCT) return 0;
  // The grid's reading without the battery: its charge taken off, a discharge added back (the command ends it: a
  // battery released into a discharge read as that much room, and was told to charge it on top of the EVs).
  const chargeA = x.chargeW / (3 * x.voltageV);
  let room = Infinity;
  for (let i = 0; i < 3; i++) room = Math.min(room, x.fuseA[i] - (x.gridA[i] - chargeA) - x.marginA - REFILL_SPARE_A - x.pendingRiseA[i]);
  const w = Math.min(x.maxChargeW, x.pvSurplusW, room * 3 * x.voltageV);
  return w >= REFILL_MIN_W ? Math.floor(w / 100) * 100 : 0;
}

function freeLimitW(x: BatteryReserveInput): number | undefined {
  if (!x.usable || !x.gridA || (x.gridBinding && x.planW === undefined)) return undefined;
  // Room per phase the grid can take over from the battery: its limit less what it carries, the margin and the rises
  // still to land. The battery is 3-phase: giving ΔW less puts ΔW/(3V) on every phase, so the tightest phase decides.
  let room = Infinity;
  for (let i = 0; i < 3; i++) room = Math.min(room, x.fuseA[i] - x.gridA[i] - x.marginA - x.pendingRiseA[i]);
  const need = Math.max(x.planW ?? 0, Math.max(0, x.dischargeW) - room * 3 * x.voltageV);
  return need < x.maxDischargeW ? Math.round(need) : undefined;
}
