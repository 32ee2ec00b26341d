// The optimizer's contract: data in, limits out. No clock, no I/O.
// Everything here is plain data so that a test, the control loop and the site score build the same input.
//
// Conventions
// - Currents are amperes per phase, indexed by *site* phase: [L1, L2, L3] of the grid connection.
// - An EVSE's own phases map onto site phases by its rotation: rotation "L2L3L1" means the EVSE's L1 is wired
//   to site L2, its L2 to site L3 and its L3 to site L1. A 1-phase EVSE on rotation "L2L3L1" draws on site L2 only.
// - Powers are watts, import positive.

export type PhaseVector = [number, number, number];

/** How an EVSE's L1/L2/L3 are wired to the site's L1/L2/L3 (the site phase of EVSE L1 first). */
export type Rotation = 'L1L2L3' | 'L2L3L1' | 'L3L1L2' | 'L1L3L2' | 'L3L2L1' | 'L2L1L3';

/** A limited node of the site's supply tree: the grid connection (root) or a sub-board. */
export interface LimitNode {
  id: string;
  /** Absent for the root (grid connection); otherwise the id of the node that feeds it. */
  parentId?: string;
  /** Per-site-phase current limit (A). May differ per phase. */
  limitA: PhaseVector;
  /** Optional total active power limit (W) over all three phases. */
  limitW?: number;
  /**
   * Measured current through this node (A per site phase) of everything that is NOT an EVSE listed in
   * `AllocationInput.evses`: base load, heat pumps, chargers without a session record, etc. The optimizer adds
   * each listed non-controllable EVSE itself (at its `measuredA`, or `maxA` on its phases when unknown), so the
   * caller subtracts every listed EVSE's measured draw from the meter (if it does not, that draw is counted twice:
   * wasteful but safe). Inclusive of the node's sub-nodes (a meter at the node sees everything below it); a parent
   * is taken to carry at least the sum of its children. Negative values (export through a node) count as 0.
   */
  uncontrolledA: PhaseVector;
  /** A limit cut of an EVSE below this node has not landed yet (the control loop's load estimate cannot see it), or
   * the node's load has not settled for longer than the loop holds one: no session below rises until it has (allocate:
   * make room before filling it). */
  cutPending?: boolean;
}

export type ChargingMode = 'fast' | 'pv' | 'minpv';

/** One EVSE with an active session (EV connected). */
export interface EvseDemand {
  /** Unique key, e.g. "CP01/1" (station id / evse id). */
  id: string;
  /** The limited node it is connected under. */
  nodeId: string;
  /** Phases the EVSE (and EV) currently draw on: 1 or 3. */
  phases: 1 | 3;
  rotation: Rotation;
  /** Minimum current per phase when charging (usually 6 A); below it the EVSE is paused (0). */
  minA: number;
  /** Maximum current per phase: min(station, cable, EV, EV charging needs). */
  maxA: number;
  /** The EVSE can switch between 1 and 3 phases while charging (ACPhaseSwitchingSupported). */
  canSwitchPhases: boolean;
  /** Its station has been seen following a cut: room it gives up is free at once (allocate: make room first). */
  followsCuts?: boolean;
  /** Higher is served first. Default 0. */
  priority: number;
  /** Relative weight within the same priority (default 1). */
  weight?: number;
  /** Energy the EV still wants (Wh), from NotifyEVChargingNeeds or the user; absent = unknown. */
  energyWantedWh?: number;
  /** Departure time (epoch ms), from NotifyEVChargingNeeds or the user; absent = unknown. */
  departureAt?: number;
  /** Energy delivered in this session so far (Wh). */
  energyDeliveredWh: number;
  /**
   * False for a station that rejected or ignores profiles: it is a fixed load at `measuredA` (or maxA when
   * unknown) and gets no allocation of its own.
   */
  controllable: boolean;
  /** Measured current per site phase (A), when known. */
  measuredA?: PhaseVector;
  /** The previous allocation per phase (A); 0 = paused. */
  previousA: number;
  previousPhases: 1 | 3;
  /** How long this session has been paused by the optimizer (ms); 0 when charging. */
  pausedForMs: number;
  /** How long this session has been charging without pause (ms); 0 when paused. */
  chargingForMs: number;
  /** How long since its phase count last changed (ms), for an EVSE that can switch; absent = long enough. */
  phasesForMs?: number;
  /** Per-EVSE mode; the site mode applies when absent. */
  mode?: ChargingMode;
}

export interface TariffWindow {
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, exclusive. */
  to: number;
  /** Relative price; lower is cheaper. */
  price: number;
}

export interface AllocationSettings {
  /** Site-wide mode for EVSEs without their own. */
  mode: ChargingMode;
  /** How long an EVSE may be paused before it is rotated back in when not all can get their minimum (ms); 0 = no rotation. */
  rotationPeriodMs: number;
  /** Time since the previous solve (ms), for the ramp. */
  stepMs: number;
  /** Maximum increase per EVSE per second (A/s); decreases are immediate. 0 = no ramp (jump to the target). */
  rampAPerS: number;
  /**
   * An increase smaller than this (A) is not made; limits do not flap. A paused EVSE also (re)starts only when its
   * minimum plus this band fits, and a 1-phase-switched EVSE goes back to 3 phases only with this margin. 0 = off.
   */
  hysteresisA: number;
  /**
   * Increases of a running session smaller than this (A) are held at the previous limit. Default: `hysteresisA`.
   * A caller that writes small rises out later by itself (the control loop carries them with the next profile
   * renewal) passes 0, so the allocation itself does not strand up to one band per session unused.
   */
  holdBandA?: number;
  /** Peak shaving: grid import ceiling (W) at the root, if configured. */
  importCeilingW?: number;
  /** Tariff windows ahead, for sessions whose departure allows waiting for cheaper hours. */
  tariff?: TariffWindow[];
}

export interface AllocationInput {
  /** Time of this solve (epoch ms) as data: used for urgency and tariff windows, never read from a clock. */
  now: number;
  /** Nominal phase voltage (V) for W <-> A. */
  voltageV: number;
  nodes: LimitNode[];
  evses: EvseDemand[];
  /** PV production now (W, positive), when a PV inverter is configured. */
  pv?: { powerW: number };
  /** Home battery, when configured. powerW positive = discharging. */
  battery?: { socPct: number; powerW: number; maxDischargeW: number; minSocPct: number };
  /** Grid power at the root now (W, import positive), when metered. */
  grid?: { powerW: number };
  /** PV beyond the house's load now (W; negative when the house takes more), as the loop reads it from the grid meter
   * with the EVSEs' limits in force; taken before grid − the EVSEs' samples, which lag the meter. */
  pvSurplusW?: number;
  /** The home battery kept for the EVs (control.battery.reserveForEvs), for the session planner: the energy it has to
   * spare (Wh), the most it may discharge (W), the part of the root's limit that is its discharge credited now (A per
   * phase, `creditedA`), which the plan replaces with its own, and how much more export the root's limit would credit
   * (`spareA`, A per phase): the credit is capped, so discharge beyond that is no room for the EVs. */
  batteryReserve?: { usableWh: number; maxDischargeW: number; creditedA: PhaseVector; spareA: PhaseVector; refill?: BatteryRefillForecast };
  settings: AllocationSettings;
}

/** What a kept battery can be refilled with later, for the session planner: the room it has (Wh), the most it can
 * charge (W), the PV expected (`pvW`: points in time, W, linear between them; nothing expected outside them) and the
 * site's own load now (`baseW`), which the PV serves first. */
export interface BatteryRefillForecast {
  roomWh: number;
  maxChargeW: number;
  pvW: readonly PvForecastPoint[];
  baseW: number;
}

export type AllocationReason =
  | 'max' // at its own maximum
  | 'node-limit' // limited by a node's phase limit (see limitedBy)
  | 'power-limit' // limited by a node's power limit
  | 'fair-share' // got its fair share of a contended node
  | 'ramp' // increase held back by the ramp
  | 'hysteresis' // increase below the hysteresis band, previous kept
  | 'paused-rotation' // paused so others can reach their minimum; rotates
  | 'paused-no-capacity' // not even the minimum fits
  | 'pv-limited' // PV surplus mode, limited by surplus
  | 'peak-shaving' // limited by the import ceiling
  | 'tariff-wait' // waiting for a cheaper window, departure allows it
  | 'not-controllable'; // fixed load, no allocation sent

export interface Allocation {
  evseId: string;
  /** Current per phase (A); 0 = paused. */
  limitA: number;
  phases: 1 | 3;
  reason: AllocationReason;
  /** For node-limit / power-limit: which node and site phase bound it, e.g. "boardA/L2". */
  limitedBy?: string;
}

export interface OverloadAlarm {
  nodeId: string;
  /** Site phase index 0..2, or -1 for the power limit. */
  phase: number;
  /** Load with every controllable EVSE paused (A, or W for the power limit). */
  loadWithAllPaused: number;
  limit: number;
}

export interface AllocationResult {
  allocations: Allocation[];
  /** Nodes that are over their limit even with every controllable EVSE paused. */
  alarms: OverloadAlarm[];
  /**
   * Input problems found (unknown node, cycle, non-finite numbers, duplicate ids), each in one line. The affected
   * EVSEs are paused (a limit the optimizer is unsure of is lower); allocate() never throws on bad data.
   */
  problems?: string[];
}

/** One point of a PV forecast: the PV power expected at a time (a site's integrator pushes these in). */
export interface PvForecastPoint { /** epoch ms */ at: number; /** PV power expected (W) */ w: number }
