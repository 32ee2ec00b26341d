// The dispatcher's types: what the loop hands it (TxTarget), what it is built with (DispatcherOptions), and what it
// keeps per station and per EVSE (split from dispatcher.ts to keep each file to one concern).
import type { SchedulerLike, Subscription } from 'rxjs';
import type { Logger } from '../common/log.js';
import type { Quirk, StationCapabilities, StationMemory, StationRequests } from '../stations/model.js';

export interface TxTarget {
  stationId: string;
  evseId: number;
  transactionId: string;
  /** A per phase, already min(CSMS limit, allocation). */
  limitA: number;
  /** Session known but nothing to send now (fixed load: station offline, CSMS profile above ours, not controllable). */
  hold?: boolean;
  phases: 1 | 3;
  /** EVSE phase to use on one phase (only with phase switching). */
  phaseToUse?: 1 | 2 | 3;
  /**
   * The limit is a fixed cap (the EVSE's or EV's maximum, or the CSMS's limit), not a share of measured headroom:
   * there is no noise in it to absorb, so a small rise carried by a renewal is sent whole (see limitToSend).
   */
  atCap?: boolean;
  /** The limit follows the PV surplus (mode pv, the pool binds): no fuse needs it, so a station slow to apply limits
   * gets no new one before the last has landed (send-policy.ts, landing). */
  followsSurplus?: boolean;
}

export interface DispatcherOptions {
  scheduler: SchedulerLike;
  requests: StationRequests;
  log: Logger;
  voltageV: number;
  validityMs: number;
  hysteresisA: number;
  /** Conservative TxDefaultProfile limit (A) installed at boot / reconnect. */
  defaultTxLimitA: number;
  callTimeoutMs: number;
  backoffMinMs: number;
  backoffMaxMs: number;
  /** Capabilities before the station answers (config). */
  fallbackCapabilities(stationId: string): StationCapabilities;
  /** The stack level the controller uses on a station (see docs/control.md). */
  stackLevel(stationId: string, caps: StationCapabilities): number;
  /** The CSMS's TxDefault / station max limit in force, so our own TxDefaultProfile never exceeds it. */
  csmsDefaultLimitA(stationId: string): number | undefined;
  /** Something the loop shows changed (applied limit, controllability, capabilities). */
  onChange(): void;
  /** The station's clock minus the controller's (ms), as measured; a session limit's validTo is on the station's
   * clock. Default 0. */
  clockOffsetMs?(stationId: string): number;
  /** Where what was learned per station is kept (quirks, capabilities, reaction time); none = memory only. */
  memory?: StationMemory;
  /** The EVSE's minimum current (A): what a station that refuses 0 A is held at. */
  minA?(stationId: string): number;
  /** The station's EVSEs (config), for a default written per connector. */
  evses?(stationId: string): number;
  /** How long a station not measured yet may take to follow a limit (ms; default CONTROL_TIMING.reactionMs). */
  reactionMs?: number;
}

export interface Sent {
  transactionId: string;
  limitA: number;
  phases: 1 | 3;
  phaseToUse?: number;
  stackLevel: number;
  sentAt: number;
  /** The station's clock offset its validTo was written with (ms). */
  offsetMs: number;
  /** What the station applies when not the limit sent (a no-zero station held at its minimum). */
  appliedA?: number;
  /** When the limit value last changed (not on a plain renewal), for the reaction-time check. */
  changedAt: number;
  /** When a sample first showed the EVSE drawing that limit (taken after the change): it has landed. */
  landedAt?: number;
  /** Accepted limit changes of this transaction, oldest first (the last minute, and the one in force before it). */
  changes: LimitChange[];
}

/** A limit the station accepted, and when. */
export interface LimitChange {
  at: number;
  limitA: number;
}

export interface EvseDispatch {
  target?: TxTarget;
  sent?: Sent;
  /** A rise of the target smaller than the hysteresis band, held since `since`; `floorA` the least target since. */
  rise?: { since: number; floorA: number };
  notControllable?: string;
  /** Marked for drawing above its limit (it may still turn out to be slow, not ignoring). */
  markedForDraw?: boolean;
  /** A new or lower limit was accepted: read the station's composite schedule back at this time (verify.ts). */
  verifyAt?: number;
  /** The last read-back showed a higher limit: read again once even the slowest station would have applied ours. */
  suspect?: boolean;
  markedAt?: number;
  /** What it drew when marked: following means coming down from it. */
  markedDrawA?: number;
  overSince?: number;
}

export interface StationDispatch {
  id: string;
  connected: boolean;
  /** Its registration is accepted (B02/B03): before that (no boot yet, Pending, Rejected) nothing of ours is sent. */
  accepted: boolean;
  inFlight?: object;
  retryAt?: number;
  retryTimer?: Subscription;
  capsRetry?: Subscription;
  backoffMs: number;
  needsSetup: boolean;
  caps?: StationCapabilities;
  defaultSent?: { limitA: number; stackLevel: number };
  notControllable?: string;
  /** Quirks it needed a fallback for (kept in memory across boots and restarts). */
  learned: Quirk[];
  /** It cannot answer GetCompositeSchedule (until it boots again): no read-back. */
  noComposite?: boolean;
  evses: Map<number, EvseDispatch>;
}

export interface EvseDispatchState {
  appliedLimitA?: number;
  appliedPhases?: 1 | 3;
  /** Recent accepted limit changes, oldest first (for judging which limit a measurement was taken under). */
  appliedChanges?: readonly LimitChange[];
  controllable: boolean;
  reason?: string;
  /** The station has been seen following a cut (a measured reaction time, reactions.ts): its cuts free room at once. */
  followsCuts?: boolean;
  /** The station's measured reaction time (ms, reactions.ts), when one was seen. */
  reactionMs?: number;
}
