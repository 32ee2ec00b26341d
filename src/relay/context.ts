// What every station session shares with the relay: config, store, streams, clock and counters.
import type { SchedulerLike } from 'rxjs';
import type { OcppProtocol } from '../ocpp/protocol.js';
import type { Logger } from '../common/log.js';
import type { Config } from '../config/types.js';
import type { AuthCache } from '../store/auth-cache.js';
import type { Journal } from '../store/journal.js';
import type { ForwardQueue } from '../store/queue.js';
import type { OcppCallEvent, OcppResultEvent, Side } from './events.js';
import type { OfflinePolicy } from './offline.js';
import type { ProtocolAdapter } from './protocol-adapter.js';
import type { StationSession } from './session.js';

export interface RelayMetrics {
  /** Frames received from stations and the CSMS. */
  framesIn: number;
  /** Frames sent to stations and the CSMS. */
  framesOut: number;
  /** Malformed or schema-invalid frames, refused handshakes, full queues. */
  errors: number;
  /** Station CALLs answered by the controller because the CSMS was unreachable. */
  localAnswers: number;
  /** Messages committed to the store-and-forward queue. */
  queued: number;
  /** Queued messages the CSMS has answered after reconnecting. */
  replayed: number;
  /** Station handshakes refused (unknown id, bad credentials, refused by the CSMS). */
  refused: number;
  /** Station handshakes with a wrong password, no credentials or an identity that is not a station. */
  authFailures: number;
  /** Station handshakes refused by the failed-handshake back-off or a full line of password checks. */
  throttled: number;
  /** Stations disconnected for piling up frames beyond stations.rateLimit (flooding). */
  floodsCut: number;
}

export interface RelayContext {
  config: Config;
  log: Logger;
  scheduler: SchedulerLike;
  journal: Journal | undefined;
  queue: ForwardQueue;
  authCache: AuthCache;
  offline: OfflinePolicy;
  callTimeoutMs: number;
  metrics: RelayMetrics;
  calls$: { next(e: OcppCallEvent): void };
  emitResult(e: OcppResultEvent): void;
  emitConnection(stationId: string, side: Side, up: boolean, reason?: string, protocol?: OcppProtocol): void;
  /** The station's OCPP version: schemas, error spellings, offline answers, transaction-id translation. */
  adapter: ProtocolAdapter;
  backoff(attempt: number): number;
  sessionEnded(session: StationSession): void;
}

/** A station's own view of the relay context: its adapter, and every event it publishes marked with its protocol. */
export function sessionContext(ctx: RelayContext, adapter: ProtocolAdapter): RelayContext {
  const protocol = adapter.protocol;
  return {
    ...ctx,
    adapter,
    // Every emission site builds a fresh event object: marking it in place saves a copy per frame.
    calls$: { next: (e) => { e.protocol = protocol; ctx.calls$.next(e); } },
    emitResult: (e) => { e.protocol = protocol; ctx.emitResult(e); },
    emitConnection: (stationId, side, up, reason) => ctx.emitConnection(stationId, side, up, reason, protocol),
  };
}
