// The configuration file's shape (YAML). Defaults are applied by load.ts; every key is documented in README.md.
import type { ChargingMode, PhaseVector, Rotation } from '../../algorithms/types.js';
import type { DeviceOptions } from '../../drivers/device.js';
import type { OcppProtocol } from '../ocpp/protocol.js';
import type { Quirk } from '../stations/model.js';

export interface StationConfig {
  id: string;
  /** The sub-board (site.circuits[].id) the station hangs on; the grid connection when absent. */
  circuit?: string;
  /** Phases wired to the station: 1 or 3 (default 3). */
  phases: 1 | 3;
  rotation: Rotation;
  /** Maximum current per phase the installation allows (A). */
  maxA: number;
  /** Minimum charging current per phase (A), default 6. */
  minA: number;
  /** scrypt hash (self-describing string) of the station's Basic-auth password, for stations.auth = basic. */
  passwordHash?: string;
  /** Upstream credentials for this station's socket toward the CSMS, when not forwarded from the station. */
  upstreamPassword?: string;
  upstreamPasswordEnv?: string;
  priority: number;
  mode?: ChargingMode;
  /** Number of EVSEs when the station cannot tell (default 1). */
  evses: number;
  /** Can switch 1<->3 phases (when the station cannot tell). */
  phaseSwitching: boolean;
  /** The OCPP version to agree with this station when it offers both (default: the station's own preference). */
  protocol?: OcppProtocol;
  /** Firmware quirks to assume from the start (docs/stations.md, "Quirks"). */
  quirks?: Quirk[];
  /** True when the config file set `rotation` (it then wins over what the station says). */
  rotationSet?: boolean;
}

export interface TlsServerConfig {
  cert: string;
  key: string;
  /** CA bundle to verify station client certificates (security profile 3). */
  ca?: string;
  requireClientCert: boolean;
}

/** Failed station handshakes: limits per source address and per identity (see src/relay/admission.ts). */
export interface HandshakeLimits {
  /** Failed handshakes from one address within windowS before it backs off. */
  failuresPerAddress: number;
  /** Wrong passwords for one identity within windowS before it backs off. */
  failuresPerIdentity: number;
  windowS: number;
  /** First back-off (s); it doubles with every further failure, up to maxBackoffS. */
  firstBackoffS: number;
  maxBackoffS: number;
  /** scrypt password checks running at once. */
  concurrentChecks: number;
  /** Handshakes from one address being checked at once. */
  inFlightPerAddress: number;
}

/** Frames one station may send: a token bucket (sustained rate, burst). Past it the station is disconnected. */
export interface StationRateLimit { framesPerS: number; burst: number }

export interface StationsConfig {
  listen: { host: string; port: number };
  /** Identities never accepted on the station port (the controller's own identity always is). */
  reservedIds: string[];
  handshakeLimits: HandshakeLimits;
  /** A connection that has not completed its WebSocket handshake within this time is closed (s). */
  handshakeTimeoutS: number;
  rateLimit: StationRateLimit;
  /** A station gone this long (s) has its transactions ended in the control loop (its draw no longer counted). */
  goneSessionTimeoutS: number;
  auth: 'none' | 'basic';
  tls?: TlsServerConfig;
  allowUnknown: boolean;
  /** WebSocket ping interval toward stations (s); 0 = off. */
  pingIntervalS: number;
  /** Largest frame accepted from a station (bytes); larger ones are answered with a CALLERROR (see docs/relay.md). */
  maxFrameBytes: number;
  /** What to do with a station's invalid CALL: answer it locally with CALLERROR (default) or forward and log. */
  invalidFromStation: 'reject' | 'forward';
  /** What to do with an invalid CSMS message: forward and log (default) or reject. */
  invalidFromCsms: 'reject' | 'forward';
  list: StationConfig[];
}

export interface UpstreamConfig {
  url: string;
  /** CSMS base URL for OCPP 1.6 stations, when the CSMS serves 1.6 elsewhere (default: url). */
  url16?: string;
  /** Station credentials toward the CSMS: forward the station's own Authorization header, or per-station config. */
  credentials: 'forward' | 'configured';
  /** CA bundle (PEM file) to verify the CSMS's certificate for wss. */
  ca?: string;
  clientCert?: string;
  clientKey?: string;
  /** Reply timeout for CALLs (s). */
  callTimeoutS: number;
  /** Largest frame read from the CSMS (bytes); larger ones are answered with a CALLERROR (see docs/relay.md). */
  maxFrameBytes: number;
  retry: { waitMinimumS: number; randomRangeS: number; repeatTimes: number };
  offline: {
    /** Authorize / TransactionEvent idTokenInfo for tokens not in the local cache while the CSMS is unreachable. */
    unknownTokenPolicy: 'accept' | 'reject';
    /** Heartbeat / boot interval answered locally (s). */
    heartbeatIntervalS: number;
    queueLimitPerStation: number;
    queueLimitTotal: number;
    /** Attempts per replayed message before a CALLERROR-refused message is set aside (E13.FR.02/03). */
    messageAttempts: number;
    /** Wait before attempt n+1 is this × n (s). */
    messageAttemptIntervalS: number;
  };
}

export interface ControllerIdentityConfig {
  identity?: string;
  /** The protocol of the controller's own identity toward the CSMS. */
  protocol: 'ocpp2.0.1' | 'ocpp1.6';
  vendor: string;
  model: string;
  firmwareVersion: string;
  serialNumber?: string;
  /** Basic-auth password of the controller's own identity toward the CSMS. */
  password?: string;
  passwordEnv?: string;
}

export interface CircuitConfig {
  id: string;
  limitA: PhaseVector;
  parent?: string;
  limitW?: number;
}

export interface SiteConfig {
  limitA: PhaseVector;
  limitW?: number;
  voltage: number;
  circuits: CircuitConfig[];
}

/**
 * A configured meter: the driver's own options (drivers/device.ts; a register map given by name or path here) plus the
 * role it plays in the site, which the drivers do not know about.
 */
export type MeterConfig = Omit<DeviceOptions, 'map' | 'pollMs' | 'staleMs' | 'timeoutMs' | 'retries' | 'backoffMinMs' | 'backoffMaxMs'> & {
  role: 'grid' | 'pv' | 'battery' | 'sub';
  /** For role sub: the circuit it measures. */
  circuit?: string;
  pollMs: number;
  staleMs: number;
  timeoutMs: number;
  /** "sunspec" for SunSpec discovery, otherwise a register map name (drivers/maps/<name>.json) or a file path. */
  map?: string;
  /** OPC UA password read from this environment variable at start. */
  passwordEnv?: string;
};

export interface ControlConfig {
  /** Run the optimizer at least this often (ms). */
  loopMs: number;
  mode: ChargingMode;
  /** Per-phase limit (A) the affected nodes fall to when a meter they depend on is stale or bad. */
  safeLimitA: PhaseVector;
  /** TxDefaultProfile installed at station boot (A per phase). */
  defaultTxLimitA: number;
  /** Validity of each TxProfile sent (s); renewed before it runs out. */
  profileValidityS: number;
  /** A station clock off by more than this (s) raises an alarm on the page; limits are sent on its clock anyway. */
  clockOffsetAlarmS: number;
  rampAPerS: number;
  hysteresisA: number;
  rotationPeriodS: number;
  /** The session planner: plans the sessions present to their departures (HiGHS) every `periodS` and when sessions
   * start, end or say their needs; its plan orders and weighs the sharing. Default enabled, 300 s. */
  planner?: { enabled: boolean; periodS: number };
  /** A meter change larger than this (A on any phase) triggers a solve at once. */
  meterStepA: number;
  importCeilingW?: number;
  /** `creditDischarge` (default true): what a home battery behind the grid meter discharges is credited whole on top of
   * the grid connection's fuse while its SoC is 5 points above `minSocPct`, instead of like PV. `refillFromPv` (default
   * true, with `reserveForEvs`): the battery kept for the EVs is told to charge from PV while every EVSE gets what it can
   * take and the grid connection has room, the EVSEs then drawing from the grid (algorithms/battery.ts refillW). */
  battery?: { minSocPct: number; creditDischarge?: boolean; reserveForEvs?: boolean; capacityWh?: number; refillFromPv?: boolean };
  /**
   * At most this share (0..1) of the export measured through a node (PV, battery) is used by EVSEs on top of the
   * node's fuse limit, while its meter is good (never more than the limit again); the loop credits the export less
   * the largest fall of it seen lately (src/control/export-credit.ts). Default 1. See docs/control.md.
   */
  exportCreditFraction: number;
  /** Current (A per phase) kept free on a node whose load is measured, against drift between readings. Default 0.15. */
  marginA: number;
  /** Daily price windows in `tariffTimeZone` ("HH:MM", `to` before `from` runs past midnight); lower price is cheaper. */
  tariff?: TariffWindowConfig[];
  /** IANA time zone of the tariff windows (default "UTC"). */
  tariffTimeZone: string;
}

export interface TariffWindowConfig {
  from: string;
  to: string;
  price: number;
}

export interface WebUserConfig {
  username: string;
  passwordHash?: string;
  passwordEnv?: string;
}

export interface WebConfig {
  enabled: boolean;
  host: string;
  port: number;
  users: WebUserConfig[];
  /** Behind a reverse proxy: take the client address from X-Forwarded-For (login limits count per real client). */
  trustProxy: boolean;
}

export interface StorageConfig {
  path: string;
  /** Folder for certificates and node-opcua PKI (default: beside the SQLite file). */
  dataDir: string;
  /** maxRowsPerStation: the share of the journal one station may fill before its own oldest rows go first. */
  journal: { retentionDays: number; maxRows: number; maxRowsPerStation: number };
}

export interface SimConfig {
  /** Virtual seconds per real second in the demo. */
  speed: number;
  seed: number;
  /** Scenario file (same format as `score`) the demo's simulated world follows. */
  scenario?: string;
}

export interface Config {
  controller: ControllerIdentityConfig;
  stations: StationsConfig;
  upstream: UpstreamConfig;
  storage: StorageConfig;
  web: WebConfig;
  site: SiteConfig;
  meters: MeterConfig[];
  control: ControlConfig;
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'; format: 'auto' | 'json' | 'pretty' };
  sim?: SimConfig;
}
