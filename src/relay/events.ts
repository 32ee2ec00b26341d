// What the relay tells the rest of the controller, as typed RxJS streams, and the one thing it lets others do:
// inject a CALL to a station. The control pipeline, the controller identity and the page consume these; none of
// them reaches into the relay's sockets.
import type { Observable } from 'rxjs';
import type { OcppProtocol } from '../ocpp/protocol.js';

// OcppCallError lives in src/ocpp (a CALLERROR is OCPP's, not the relay's); re-exported so older imports still work.
export { OcppCallError } from '../ocpp/errors.js';
export type { OcppProtocol } from '../ocpp/protocol.js';

/** Which end of a relayed station's path an event is about. */
export type Side = 'station' | 'upstream';

export interface ConnectionEvent {
  stationId: string;
  side: Side;
  up: boolean;
  at: number;
  /** Why a connection went down or was refused, when known. */
  reason?: string;
  /** The OCPP version the station speaks on this path; absent = 'ocpp2.0.1'. */
  protocol?: OcppProtocol;
  /**
   * Station up only: whether the station's registration is accepted (it was last told Accepted). false: it has not
   * booted yet (as far as the controller knows), or is Pending / Rejected — it takes no calls from the controller
   * until boots$ says Accepted. Absent: the producer does not track boots (treat as accepted).
   */
  accepted?: boolean;
}

/** What a station was told about its registration (BootNotificationResponse), or inferred from its traffic. */
export interface BootEvent {
  stationId: string;
  status: 'Accepted' | 'Pending' | 'Rejected';
  /** The controller answered for the CSMS (outage). */
  answeredLocally?: boolean;
  /** Not a boot answer: a station of unknown status sent another CALL, so it was accepted before. */
  inferred?: boolean;
  at: number;
}

/** Who originated a CALL seen on a station's path. */
export type Origin = 'station' | 'csms' | 'controller';

/** A CALL seen on a station's path (after validation), at the moment it was received or sent. */
export interface OcppCallEvent {
  stationId: string;
  origin: Origin;
  messageId: string;
  action: string;
  payload: Record<string, unknown>;
  at: number;
  /** The OCPP version of the frame; absent = 'ocpp2.0.1'. */
  protocol?: OcppProtocol;
}

/** The end of a CALL: its CALLRESULT payload or CALLERROR. `answeredLocally` when the controller answered for the
 * CSMS (outage) rather than the CSMS itself. */
export interface OcppResultEvent {
  stationId: string;
  origin: Origin;
  messageId: string;
  action: string;
  request: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { code: string; description: string };
  answeredLocally?: boolean;
  at: number;
  /** The OCPP version of the frames; absent = 'ocpp2.0.1'. */
  protocol?: OcppProtocol;
}

export interface RelayEvents {
  connections$: Observable<ConnectionEvent>;
  calls$: Observable<OcppCallEvent>;
  results$: Observable<OcppResultEvent>;
  /**
   * Registration changes of stations (published before the BootNotification's result on results$). The controller's
   * own calls wait for Accepted. Optional: a producer without it has every station accepted.
   */
  boots$?: Observable<BootEvent>;
  /** Whether a connected station is accepted now (see ConnectionEvent.accepted); undefined when not tracked. */
  accepted?(stationId: string): boolean | undefined;
}

export interface CallOptions {
  /** Reply timeout (ms); default from config. */
  timeoutMs?: number;
}

/** Sends the controller's own CALLs to stations. Replies are consumed locally, never forwarded upstream. */
export interface StationCaller {
  /** Resolves with the CALLRESULT payload; rejects with OcppCallError, or an Error on timeout / not connected. */
  call(stationId: string, action: string, payload: Record<string, unknown>, options?: CallOptions): Promise<Record<string, unknown>>;
  /** Ids of the stations connected to the controller now. */
  connectedStations(): string[];
}
