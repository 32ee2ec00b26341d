// The control stage's contract: what it consumes and what it publishes. main.ts (production, demo) and the site
// score (src/sim, virtual time, in-process stations) build the same loop from these inputs.
import type { LpSolver } from './planner.js';
import type { BatteryCommand } from './battery-reserve.js';
import type { Observable, SchedulerLike } from 'rxjs';
import type { Allocation, AllocationInput, AllocationResult, ChargingMode, OverloadAlarm, PhaseVector, PvForecastPoint } from '../../algorithms/types.js';
import type { Reading } from '../../drivers/types.js';
import type { Logger } from '../common/log.js';
import type { Config } from '../config/types.js';
import type { SiteLimit } from '../controller/site-limit.js';
import type { Quirk, StationCapabilities, StationMemory, Stations } from '../stations/model.js';

/** Settings a facility manager can change at run time (page), persisted by the store; start from config. */
export interface ControlSettings {
  /** Per-circuit limit override (A per phase), never above the circuit's configured fuse. */
  circuitLimitsA: Record<string, PhaseVector>;
  /** Per-station priority (higher first). */
  priorities: Record<string, number>;
  /** Per-station mode; the site mode when absent. */
  modes: Record<string, ChargingMode>;
  siteMode: ChargingMode;
  /** Fail-safe limit per phase (A) for nodes whose meter is stale or bad. */
  safeLimitA: PhaseVector;
}

/**
 * Energy and departure a person entered on the page for one session, for an EV that cannot say them itself (a 1.6
 * station, an EV without ISO 15118). Bound to the transaction: a new session on the EVSE does not inherit it.
 */
export interface EnteredNeeds {
  stationId: string;
  evseId: number;
  transactionId: string;
  /** Energy the session should deliver in all, counted from its start (Wh). */
  energyWh: number;
  /** When the EV leaves (epoch ms, controller clock). */
  departureAt: number;
  /** Who entered it, and when (epoch ms). */
  enteredBy: string;
  enteredAt: number;
}

/** A session's needs as the controller uses them, and where they come from. */
export interface SessionNeeds {
  source: 'ev' | 'page';
  departureAt?: number;
  /** Energy still wanted now (Wh). */
  remainingWh?: number;
  /** Page entries: the session's energy in all (Wh), and who entered it. */
  energyWh?: number;
  enteredBy?: string;
}

export interface ControlInputs {
  /** The clock: production uses asyncScheduler, the score a virtual-time scheduler. */
  scheduler: SchedulerLike;
  config: Config;
  /** The site's stations in the neutral model (src/stations createStations over the relay, or the score's own). */
  stations: Stations;
  /** Readings of every configured meter (roles from config.meters by deviceId). */
  readings$: Observable<Reading>;
  siteLimit$: Observable<SiteLimit>;
  settings$: Observable<ControlSettings>;
  /** Needs entered on the page (src/store/entered-needs.ts); each emission is the whole current list. */
  enteredNeeds$?: Observable<readonly EnteredNeeds[]>;
  /** The PV forecast in force (src/store/pv-forecast.ts), undefined when none: the planner refills a kept battery
   * from it. */
  pvForecast$?: Observable<readonly PvForecastPoint[] | undefined>;
  log: Logger;
  /** The optimizer; default `allocate` from algorithms/ (tests and the score's baselines may pass another). */
  allocate?: (input: AllocationInput) => AllocationResult;
  /** How long a station may take to follow a new limit before it counts as not controllable (ms, default
   * CONTROL_TIMING.reactionMs). */
  reactionMs?: number;
  /** Reply timeout for the controller's own calls to stations (ms, default 10000). */
  callTimeoutMs?: number;
  /** Where what was learned per station is kept (src/store/station-notes.ts); none = kept in memory only. */
  memory?: StationMemory;
  /** Share (0..1) of the export measured through a node (PV, battery) that EVSEs may use on top of its fuse; default 0. */
  exportCreditFraction?: number;
  /** The LP solver for the session planner (src/control/planner.ts loadLpSolver); none = no planning. */
  lpSolver?: LpSolver;
}

export interface EvseState {
  stationId: string;
  evseId: number;
  status?: string; // connector status (station model)
  transactionId?: string;
  /** The limit the controller has allocated (A per phase); undefined when no session. */
  limitA?: number;
  phases?: 1 | 3;
  reason?: Allocation['reason'];
  limitedBy?: string;
  /** The limit the station last accepted (A per phase). */
  appliedLimitA?: number;
  /** Measured current per EVSE phase (A), from the station's measurements. */
  measuredCurrentA?: number[];
  measuredPowerW?: number;
  energyWh?: number;
  controllable: boolean;
  /** Why it is not controllable, when it is not. */
  controllableReason?: string;
  /** The CSMS's own session / default limit for this EVSE now (A), if any. */
  csmsLimitA?: number;
  /** What the session needs (energy, departure), said by the EV or entered on the page; absent when nobody said. */
  needs?: SessionNeeds;
}

export interface NodeState {
  id: string;
  limitA: PhaseVector;
  /** Measured (or estimated) current through the node now. */
  currentA: PhaseVector;
  /** True while the node runs on its safe limit because a meter it depends on is stale or bad. */
  failSafe: boolean;
  /** Why the node runs on its safe limit (which meter, stale or bad). */
  failSafeReason?: string;
}

/** A station report the loop did not believe (plausibility.ts): the latest per station. */
export interface ImplausibleReport { stationId: string; evseId: number; reason: string; at: number }

/** What the loop knows of a station's ways: what it supports, the fallbacks it needed, how fast it follows. */
export interface StationControlState {
  id: string;
  /** What the station said (or config assumed). */
  capabilities: StationCapabilities;
  /** Quirks it was seen to need (a fallback), beside those config assumes. */
  learned: Quirk[];
  /** Measured reaction time (ms), once seen. */
  reactionMs?: number;
  /** Why the whole station is a fixed load (no smart charging, NotImplemented), when it is. */
  fixedReason?: string;
}

export interface ControlState {
  at: number;
  nodes: NodeState[];
  evses: EvseState[];
  /** Per station the loop has dealt with. */
  stations?: StationControlState[];
  alarms: OverloadAlarm[];
  /** Station reports not believed (EVSE ids it does not have, currents beyond its maxA …). */
  implausible?: ImplausibleReport[];
  /** Duration of the last solve (ms, wall clock; 0 on virtual time). */
  lastSolveMs: number;
  /** Each station's clock minus the controller's (s), measured from its timestamps; absent until it stamped one. */
  clockOffsetsS?: Record<string, number>;
  /** The home battery kept for the EVs (control.battery.reserveForEvs): what it may discharge after this solve. */
  battery?: BatteryCommand;
}

export interface ControlLoop {
  state$: Observable<ControlState>;
  /** Latest state, synchronously. */
  state(): ControlState;
  stop(): Promise<void>;
}
