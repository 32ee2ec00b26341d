// The protocol-neutral station model: what the control loop, the store and the page know about a station, and what
// they may ask of it. One adapter per OCPP version (v201/, v16/) turns frames into these events and these requests
// into frames; nothing outside src/stations and src/relay reads an OCPP action name or payload of a station.
// Like EVerest's one EVSE-manager interface over its protocol modules, and evcc's api.go (one small type per ability).
import type { Observable } from 'rxjs';
import type { Rotation } from '../../algorithms/types.js';
import type { ChargingProfile, ProfilePurpose } from '../ocpp/charging-schedule.js';
import type { OcppProtocol } from '../ocpp/protocol.js';

export type { OcppProtocol } from '../ocpp/protocol.js';
/** A charging profile in the model's terms (2.0.1 purpose names; a 1.6 ChargePointMaxProfile maps to
 * ChargingStationMaxProfile, connectorId to evseId). */
export type { ChargingProfile, ProfilePurpose } from '../ocpp/charging-schedule.js';

/** Per-phase values of an EVSE (index 0 = the EVSE's L1), as measured. */
export type PhaseAmperes = number[];

/** What an EVSE measures now; each field only when the station said it (units normalised to A, W, Wh). */
export interface Measurement {
  /** Current per EVSE phase (A). */
  currentA?: PhaseAmperes;
  /** How many EVSE phases the report gave a current for, when fewer than 3 (`currentA`'s others were absent, not
   * measured 0). */
  currentPhases?: number;
  /** Current without a phase: the per-phase current of every phase in use (A). */
  currentAnyPhaseA?: number;
  /** Active power imported (W). */
  powerW?: number;
  /** Energy register (Wh). */
  energyWh?: number;
  /** The current the station offers the EV now (Current.Offered, A per phase): the limit it really applies. */
  offeredA?: number;
}

/** What the EV said it needs (ISO 15118 through the station). */
export interface EvNeeds {
  departureAt?: number;
  energyAmountWh?: number;
  evMaxCurrentA?: number;
  evMinCurrentA?: number;
  /** Phases the EV asked for. */
  phases?: 1 | 3;
}

/** The station's connection to the controller. */
export interface StationConnected {
  kind: 'connection';
  stationId: string;
  protocol: OcppProtocol;
  up: boolean;
  /** Up only: whether its registration is accepted now; false = not booted yet, Pending or Rejected. Absent = accepted. */
  accepted?: boolean;
  at: number;
}

/**
 * The station's registration changed (what its BootNotificationResponse said, or inferred from its traffic). Only an
 * accepted station is called by the controller: stations refuse calls before acceptance, and while Pending only the
 * CSMS may call them (B02).
 */
export interface StationRegistration {
  kind: 'registration';
  stationId: string;
  accepted: boolean;
  at: number;
}

/** The station's boot was accepted: transactions it had may be gone; it needs its profiles again. */
export interface StationBooted {
  kind: 'booted';
  stationId: string;
  at: number;
}

/** An EVSE's connector status (the 2.0.1 ConnectorStatus names: Available, Occupied, Reserved, Unavailable, Faulted). */
export interface EvseStatus {
  kind: 'status';
  stationId: string;
  evseId: number;
  status: string;
  /** The charging state within a session (the 2.0.1 ChargingStateEnum names), where the protocol says it in the status:
   * 1.6 has Charging, SuspendedEV and SuspendedEVSE as connector statuses, where 2.0.1 puts them in TransactionEvent. */
  chargingState?: string;
  /** The station's own timestamp of the status, when it gave one (its clock; see StationClocks). */
  time?: number;
  at: number;
}

/** A session started, changed or ended. `evseId` is absent when the station did not say (the tracker finds it by
 * transaction id). `time` is the station's own timestamp of the event, when it gave one. */
export interface SessionEvent {
  kind: 'session';
  phase: 'started' | 'updated' | 'ended';
  stationId: string;
  evseId?: number;
  transactionId: string;
  chargingState?: string;
  idToken?: string;
  stoppedReason?: string;
  phasesUsed?: number;
  cableMaxCurrentA?: number;
  measurement: Measurement;
  time?: number;
  /** The station sent it late, from its offline queue (2.0.1 `offline`): its time says nothing of its clock now. */
  offline?: boolean;
  at: number;
}

/** A periodic measurement of an EVSE outside session events. */
export interface MeterEvent {
  kind: 'meter';
  stationId: string;
  evseId: number;
  measurement: Measurement;
  /** The station's timestamp of the newest sample, when it gave one (its clock). */
  time?: number;
  at: number;
}

export interface NeedsEvent {
  kind: 'needs';
  stationId: string;
  evseId: number;
  needs: EvNeeds;
  at: number;
}

/** The station accepted a charging profile the CSMS set. */
export interface CsmsProfileSet {
  kind: 'csms-profile-set';
  stationId: string;
  evseId: number;
  profile: ChargingProfile;
  at: number;
}

/** The station accepted a CSMS clear: by id, or by criteria (absent criteria match everything). */
export interface CsmsProfileCleared {
  kind: 'csms-profile-cleared';
  stationId: string;
  profileId?: number;
  evseId?: number;
  purpose?: ProfilePurpose;
  stackLevel?: number;
  at: number;
}

export type StationEvent = StationConnected | StationRegistration | StationBooted | EvseStatus | SessionEvent | MeterEvent | NeedsEvent | CsmsProfileSet | CsmsProfileCleared;

/** Firmware quirks: ways a station departs from what the protocol promises, each with the way around it the adapter
 * takes (docs/stations.md, "Quirks"). Assumed from the start (config stations.list[].quirks) or learned (fallbacks). */
export const QUIRKS = [
  'watts-only', 'amps-only', 'relative-only', 'no-zero', 'connector-0-rejected', 'stack-level-0-only', 'tx-default-only',
  'phase-l1-n', 'single-phase-report', 'no-smart-charging',
] as const;
export type Quirk = (typeof QUIRKS)[number];
export const isQuirk = (v: unknown): v is Quirk => typeof v === 'string' && (QUIRKS as readonly string[]).includes(v);

/** How the station reports its measurements, and whether the loop got what it needs (phase-resolved current). */
export interface MeterSetup {
  /** The measurands it samples (1.6 MeterValuesSampledData), as it said. */
  sampledData?: string;
  /** Its sample interval (s). */
  intervalS?: number;
  /** It reports current per phase. */
  phaseResolved: boolean;
  /** Why it could not be set up as the loop needs (shown on the page). */
  note?: string;
}

/** What a station can do with limits, read from the station after boot; config fills in what it does not say. */
export interface StationCapabilities {
  /** Units the station accepts in charging schedules. */
  rateUnits: Array<'A' | 'W'>;
  periodsPerSchedule?: number;
  /** The highest stack level it accepts, when the station said. */
  maxStackLevel?: number;
  /** Switches between one and three phases, from the station or stations.list[].phaseSwitching. */
  phaseSwitching: boolean;
  /** Where the values came from. */
  source: 'station' | 'config';
  /** False when the station said it has no smart charging (1.6 SupportedFeatureProfiles): a fixed load. */
  smartCharging?: boolean;
  /** Connectors (EVSEs) the station said it has. */
  connectors?: number;
  /** How many profiles it holds at once. */
  maxProfiles?: number;
  /** The station's phase rotation as it said (1.6 ConnectorPhaseRotation of connector 1: RST → L1L2L3 …); config
   * `rotation` wins when the file sets it. */
  phaseRotation?: Rotation;
  meter?: MeterSetup;
  /** Quirks assumed (config) or learned (a fallback it needed); the adapter works around each. */
  quirks?: Quirk[];
}

/** The station's answer to a limit. NotSupported: it cannot take limits at all (not controllable); Timeout: no
 * usable answer (timeout, not connected, a transient error) — worth trying again. */
export type LimitAnswer =
  /** `learned`: quirks found on the way (a fallback it needed, to keep); `appliedA`: what the station will apply when
   * not the limit asked (a no-zero station held at its minimum instead of 0). */
  | { status: 'Accepted'; learned?: Quirk[]; appliedA?: number }
  | { status: 'Rejected'; reason?: string }
  | { status: 'NotSupported'; reason: string }
  | { status: 'Timeout'; reason: string };

/** The controller's fallback limit for every EVSE of a station, in force when no session limit is. */
export interface DefaultLimit {
  limitA: number;
  /** The controller's clock now (epoch ms), for Absolute schedules; absent = Date.now(). */
  at?: number;
  /** EVSEs of the station (for a default sent per connector when connectorId 0 is rejected). */
  evses?: number;
  stackLevel: number;
  caps: StationCapabilities;
  voltageV: number;
}

/** One session's limit, with an expiry as the watchdog. */
export interface SessionLimit {
  evseId: number;
  transactionId: string;
  limitA: number;
  phases: 1 | 3;
  phaseToUse?: number;
  stackLevel: number;
  /** Epoch ms on the station's own clock after which it falls back to the default limit (the dispatcher adds the
   * station's measured clock offset, so the limit lapses `profileValidityS` after it was sent on any clock). */
  validTo: number;
  /** The controller's clock now (epoch ms), for Absolute schedules; absent = Date.now(). */
  at?: number;
  /** The EVSE's minimum current (A): what a station that refuses 0 A is held at instead. */
  minA?: number;
  caps: StationCapabilities;
  voltageV: number;
}

/** The limit schedule a station says it will apply (GetCompositeSchedule), in amperes per phase. */
export interface CompositeSchedule {
  evseId: number;
  startAt: number;
  periods: Array<{ startS: number; limitA: number; phases?: number }>;
}

/** What the control loop may ask of a station. Requests never throw: failures are answers. */
export interface StationRequests {
  /** Reads the station's capabilities; `final: false` when it did not answer (ask again later). */
  readCapabilities(stationId: string, fallback: StationCapabilities, timeoutMs?: number): Promise<{ caps: StationCapabilities; final: boolean }>;
  setDefaultLimit(stationId: string, limit: DefaultLimit, timeoutMs?: number): Promise<LimitAnswer>;
  setSessionLimit(stationId: string, limit: SessionLimit, timeoutMs?: number): Promise<LimitAnswer>;
  /** The station's composite schedule for an EVSE over `durationS`; undefined when it cannot say. */
  compositeSchedule(stationId: string, evseId: number, durationS: number, timeoutMs?: number): Promise<CompositeSchedule | undefined>;
}

/** What was learned about a station, kept across restarts (src/store/station-notes.ts). */
export interface StationNotes {
  caps?: StationCapabilities;
  /** Quirks it needed a fallback for. */
  learned: Quirk[];
  /** How long it took to follow a new limit, measured (ms). */
  reactionMs?: number;
  updatedAt: number;
}

/** Where the control loop keeps what it learned per station (SQLite in production, a Map in tests). */
export interface StationMemory {
  load(stationId: string): StationNotes | undefined;
  save(stationId: string, notes: StationNotes): void;
}

/** The site's stations as the control loop, the store and the page see them. */
export interface Stations {
  events$: Observable<StationEvent>;
  requests: StationRequests;
  /** Ids of the stations connected now. */
  connectedStations(): string[];
  /** Whether a connected station's registration is accepted now; undefined when not known (treat as accepted). */
  accepted?(stationId: string): boolean | undefined;
  /** The protocol a station speaks (the last it connected with; 'ocpp2.0.1' when unknown). */
  protocolOf(stationId: string): OcppProtocol;
}

/** The profile ids the controller owns on every station (one default, one per EVSE): high enough that a CSMS's own ids
 * are unlikely to collide; the same id makes the station replace the old profile instead of piling up. */
export const DEFAULT_PROFILE_ID = 1_900_000_000;
export const txProfileId = (evseId: number): number => DEFAULT_PROFILE_ID + evseId;
export const OWN_PROFILE_IDS: ReadonlySet<number> = new Set(Array.from({ length: 33 }, (_, i) => DEFAULT_PROFILE_ID + i));
