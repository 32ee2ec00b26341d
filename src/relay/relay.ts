// The relay: the station server, one upstream socket per connected station, injected calls, the journal and
// store-and-forward. `createRelay` is what main.ts wires; everything else talks to it through RelayEvents and
// StationCaller (events.ts).
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { asyncScheduler, Subject, type Observable, type SchedulerLike } from 'rxjs';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../common/log.js';
import { readPrivateKey } from '../common/private-key.js';
import type { Config } from '../config/types.js';
import type { OcppProtocol } from '../ocpp/protocol.js';
import { precompile } from '../ocpp/validate.js';
import { AuthCache } from '../store/auth-cache.js';
import type { Db } from '../store/db.js';
import { Journal } from '../store/journal.js';
import { ForwardQueue, type FailedMessage } from '../store/queue.js';
import { StationBootStore, type BootStatus } from '../store/station-boot.js';
import { sessionContext, type RelayContext, type RelayMetrics } from './context.js';
import {
  OcppCallError, type BootEvent, type CallOptions, type ConnectionEvent, type OcppCallEvent, type OcppResultEvent, type RelayEvents, type Side,
  type StationCaller,
} from './events.js';
import { certificateMismatch, refuse, stationIdFromPath } from './handshake.js';
import { HandshakeAdmission, sourceAddress, type Refusal } from './admission.js';
import { OCPP16_FREQUENT_ACTIONS, ocpp16Adapter } from './ocpp16.js';
import { ocpp201Adapter, type ProtocolAdapter } from './protocol-adapter.js';
import { SPOKEN, stationProtocol } from './protocol-choice.js';
import { TransactionIds } from '../store/tx-ids.js';
import { guardSendBuffer, sendBufferLimit } from './backpressure.js';
import { explainProtocolCloses } from './close-reasons.js';
import { PER_MESSAGE_DEFLATE } from './deflate.js';
import { readLimit } from './raw-data.js';
import { StationSession } from './session.js';
import { backoffMs, loadUpstreamTls, openUpstream, type UpstreamTls } from './upstream.js';

export interface RelayOptions {
  config: Config;
  db: Db;
  log: Logger;
  scheduler?: SchedulerLike;
  /** Journal every frame (default true). */
  journal?: boolean;
  /** How long a station's handshake waits for its upstream socket before it is served offline (ms, default 10000). */
  upstreamHandshakeTimeoutMs?: number;
}

export interface RelayMetricsSnapshot extends RelayMetrics {
  stationsConnected: number;
  upstreamsConnected: number;
  queuedTotal: number;
  /** false while the journal cannot write (disk full, read-only file); relaying is not affected. */
  journalOk: boolean;
  /** Journal rows lost to write failures since start. */
  journalLostRows: number;
  /** Queued messages the CSMS refused on every attempt, kept aside (forward_queue, never replayed again). */
  forwardFailed: number;
}

export interface Relay extends RelayEvents, StationCaller {
  start(): Promise<{ port: number }>;
  stop(): Promise<void>;
  /** Messages waiting in the store-and-forward queue, per station (absent = 0). */
  queueLengths(): Record<string, number>;
  /** Queued messages the CSMS refused on every attempt (kept aside), newest first. */
  refusedMessages(limit?: number): FailedMessage[];
  metrics(): RelayMetricsSnapshot;
  /** The frame journal (query API for the page); undefined when journaling is off. */
  readonly journal: Journal | undefined;
  /** Whether a station's upstream socket toward the CSMS is open now. */
  upstreamConnected(stationId: string): boolean;
}

export function createRelay(options: RelayOptions): Relay {
  return new RelayImpl(options);
}

class RelayImpl implements Relay {
  readonly connections$: Observable<ConnectionEvent>;
  readonly calls$: Observable<OcppCallEvent>;
  readonly results$: Observable<OcppResultEvent>;
  readonly boots$: Observable<BootEvent>;
  readonly journal: Journal | undefined;
  private readonly bootSubject = new Subject<BootEvent>();
  private readonly bootStore: StationBootStore;
  private readonly connectionSubject = new Subject<ConnectionEvent>();
  private readonly callSubject = new Subject<OcppCallEvent>();
  private readonly resultSubject = new Subject<OcppResultEvent>();
  private readonly sessions = new Map<string, StationSession>();
  private readonly ctx: RelayContext;
  private readonly config: Config;
  private readonly log: Logger;
  private readonly scheduler: SchedulerLike;
  private readonly wss: WebSocketServer;
  private readonly tls: UpstreamTls;
  private readonly handshakeTimeoutMs: number;
  private server: Server | undefined;
  private stopping = false;
  /** The version agreed in a handshake, for the WebSocket server's subprotocol answer. */
  private readonly agreed = new WeakMap<IncomingMessage, OcppProtocol>();
  private readonly txIds: TransactionIds;
  private readonly ocpp201: ProtocolAdapter;
  private readonly admission: HandshakeAdmission;

  constructor(options: RelayOptions) {
    this.config = options.config;
    this.log = options.log;
    this.scheduler = options.scheduler ?? asyncScheduler;
    this.handshakeTimeoutMs = options.upstreamHandshakeTimeoutMs ?? 10_000;
    this.connections$ = this.connectionSubject.asObservable();
    this.calls$ = this.callSubject.asObservable();
    this.results$ = this.resultSubject.asObservable();
    this.boots$ = this.bootSubject.asObservable();
    this.bootStore = new StationBootStore(options.db);
    this.tls = loadUpstreamTls(this.config.upstream);
    this.journal = options.journal === false ? undefined : new Journal(options.db, {
      scheduler: this.scheduler,
      retentionDays: this.config.storage.journal.retentionDays,
      maxRows: this.config.storage.journal.maxRows,
      maxRowsPerStation: this.config.storage.journal.maxRowsPerStation,
      onHealth: (ok, error) => {
        if (ok) this.log.info('journal: writing again');
        else this.log.error({ err: error }, 'journal: cannot write frames (relaying goes on; journal rows are lost until this clears)');
      },
    });
    const up = this.config.upstream;
    const authCache = new AuthCache(options.db);
    const offline = { heartbeatIntervalS: up.offline.heartbeatIntervalS, unknownTokenPolicy: up.offline.unknownTokenPolicy };
    this.txIds = new TransactionIds(options.db);
    this.ocpp201 = ocpp201Adapter(authCache, offline);
    this.ctx = {
      config: this.config,
      log: this.log,
      scheduler: this.scheduler,
      journal: this.journal,
      queue: new ForwardQueue(options.db, { perStation: up.offline.queueLimitPerStation, total: up.offline.queueLimitTotal }),
      authCache,
      offline,
      adapter: this.ocpp201,
      callTimeoutMs: up.callTimeoutS * 1000,
      metrics: { framesIn: 0, framesOut: 0, errors: 0, localAnswers: 0, queued: 0, replayed: 0, refused: 0, authFailures: 0, throttled: 0, floodsCut: 0 },
      calls$: this.callSubject,
      emitResult: (e) => {
        this.observeBoot(e);
        this.resultSubject.next(e);
      },
      emitConnection: (stationId: string, side: Side, upFlag: boolean, reason?: string, protocol?: OcppProtocol) =>
        this.connectionSubject.next({
          stationId, side, up: upFlag, at: this.scheduler.now(), ...(reason ? { reason } : {}), ...(protocol ? { protocol } : {}),
          ...(side === 'station' && upFlag ? { accepted: this.bootStore.get(stationId) === 'Accepted' } : {}),
        }),
      backoff: (attempt) => backoffMs(attempt, up.retry),
      sessionEnded: (s) => {
        if (this.sessions.get(s.stationId) === s) this.sessions.delete(s.stationId);
      },
    };
    this.admission = new HandshakeAdmission(this.config, () => Date.now());
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: PER_MESSAGE_DEFLATE,
      maxPayload: readLimit(this.config.stations.maxFrameBytes),
      // No agreed subprotocol: complete the handshake without the header, then close (Part 4 §3.2).
      handleProtocols: (_protocols, req) => this.agreed.get(req) ?? false,
    });
  }

  async start(): Promise<{ port: number }> {
    const { tls, listen } = this.config.stations;
    this.server = tls
      ? createHttpsServer({
        cert: readFileSync(tls.cert), key: readPrivateKey(tls.key, 'stations.tls.key'), ca: tls.ca ? readFileSync(tls.ca) : undefined,
        requestCert: tls.requireClientCert, rejectUnauthorized: tls.requireClientCert,
        handshakeTimeout: this.config.stations.handshakeTimeoutS * 1000,
      })
      : createHttpServer();
    this.server.on('request', (_req, res) => {
      res.statusCode = 426;
      res.setHeader('Upgrade', 'websocket');
      res.end('stations connect with WebSocket to /ocpp/<stationId>\n');
    });
    // A connection that never completes its handshake (never sends a byte, or stalls mid-headers) is closed: an
    // unauthenticated peer must not be able to hold sockets open for minutes.
    const handshakeTimeoutMs = this.config.stations.handshakeTimeoutS * 1000;
    this.server.on(this.config.stations.tls ? 'secureConnection' : 'connection', (socket: Duplex & { setTimeout(ms: number, cb?: () => void): void }) => {
      socket.setTimeout(handshakeTimeoutMs, () => socket.destroy());
    });
    this.server.headersTimeout = handshakeTimeoutMs;
    this.server.requestTimeout = handshakeTimeoutMs;
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => undefined);
      // The request is complete: from here the admission and the upstream connect bound the wait themselves.
      (socket as Duplex & { setTimeout(ms: number): void }).setTimeout(0);
      this.onUpgrade(req, socket, head).catch((err: unknown) => {
        this.log.error({ err: (err as Error).message }, 'station handshake failed');
        refuse(socket, 500);
      });
    });
    const server = this.server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // A site's stations reconnect together after a controller restart or a power cut: Node's default accept
      // backlog (511) overflows at ~1000 simultaneous connects and the kernel drops SYNs (the station retries only
      // after 1 s, 3 s, 7 s …). The kernel caps this at net.core.somaxconn.
      server.listen({ port: listen.port, host: listen.host, backlog: 4096 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const port = (server.address() as AddressInfo).port;
    this.log.info({ host: listen.host, port, tls: Boolean(tls) }, 'relay listening for stations');
    // The frames every station sends all the time: their validators are ready before the first one arrives.
    void precompile(this.ocpp201.frequentActions).then(() => precompile(OCPP16_FREQUENT_ACTIONS, 'ocpp1.6'));
    return { port };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const s of [...this.sessions.values()]) s.close(1001, 'controller stopping');
    // Give stations a moment to answer the close frame, then cut whatever is left.
    const deadline = Date.now() + 1000;
    while (this.sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const s of [...this.sessions.values()]) s.terminate();
    const server = this.server;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      });
    }
    this.journal?.close();
    this.connectionSubject.complete();
    this.callSubject.complete();
    this.resultSubject.complete();
    this.bootSubject.complete();
  }

  accepted(stationId: string): boolean | undefined {
    return this.sessions.has(stationId) ? this.bootStore.get(stationId) === 'Accepted' : undefined;
  }

  /**
   * What the station was told about its registration: the BootNotification's answer (the CSMS's, or the local one
   * during an outage). A station of unknown status (first seen, empty database) that sends any other CALL was
   * accepted before — a station sends nothing else while Pending or Rejected (B02/B03).
   */
  private observeBoot(e: OcppResultEvent): void {
    if (e.origin !== 'station') return;
    let status: BootStatus;
    if (e.action === 'BootNotification') {
      const s = e.result?.status;
      if (s !== 'Accepted' && s !== 'Pending' && s !== 'Rejected') return;
      status = s;
    } else if (this.bootStore.get(e.stationId) === undefined) status = 'Accepted';
    else return;
    if (!this.bootStore.set(e.stationId, status, e.at)) return;
    this.log.info({ stationId: e.stationId, status, answeredLocally: e.answeredLocally ?? false }, `station registration ${status}`);
    this.bootSubject.next({
      stationId: e.stationId, status, at: e.at, ...(e.answeredLocally ? { answeredLocally: true } : {}),
      ...(e.action !== 'BootNotification' ? { inferred: true } : {}),
    });
  }

  call(stationId: string, action: string, payload: Record<string, unknown>, options: CallOptions = {}): Promise<Record<string, unknown>> {
    const session = this.sessions.get(stationId);
    if (!session) return Promise.reject(new Error(`station ${stationId} is not connected`));
    const invalid = session.validateRequest(action, payload);
    if (invalid) return Promise.reject(new OcppCallError(invalid.code, invalid.description));
    return session.inject(action, payload, options.timeoutMs ?? this.ctx.callTimeoutMs);
  }

  connectedStations(): string[] {
    return [...this.sessions.keys()];
  }

  upstreamConnected(stationId: string): boolean {
    return this.sessions.get(stationId)?.upstreamOnline ?? false;
  }

  queueLengths(): Record<string, number> {
    return this.ctx.queue.lengths();
  }

  refusedMessages(limit?: number): FailedMessage[] {
    return this.ctx.queue.failed(limit);
  }

  metrics(): RelayMetricsSnapshot {
    let upstreams = 0;
    for (const s of this.sessions.values()) if (s.upstreamOnline) upstreams++;
    const journal = this.journal?.health();
    return {
      ...this.ctx.metrics, stationsConnected: this.sessions.size, upstreamsConnected: upstreams, queuedTotal: this.ctx.queue.totalLength,
      journalOk: journal?.ok ?? true, journalLostRows: journal?.lostRows ?? 0, forwardFailed: this.ctx.queue.failedTotal,
    };
  }

  private adapterFor(stationId: string, protocol: OcppProtocol): ProtocolAdapter {
    if (protocol === 'ocpp2.0.1') return this.ocpp201;
    return ocpp16Adapter(stationId, { authCache: this.ctx.authCache, policy: this.ctx.offline, txIds: this.txIds });
  }

  private upstreamAuthorization(stationId: string, req: IncomingMessage): string | undefined {
    if (this.config.upstream.credentials === 'forward') return req.headers.authorization;
    const st = this.config.stations.list.find((s) => s.id === stationId);
    const password = st?.upstreamPassword ?? (st?.upstreamPasswordEnv ? process.env[st.upstreamPasswordEnv] : undefined);
    return password ? `Basic ${Buffer.from(`${stationId}:${password}`).toString('base64')}` : undefined;
  }

  private async onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const parsed = stationIdFromPath(req.url);
    if ('error' in parsed) {
      this.ctx.metrics.refused++;
      this.log.warn({ url: req.url?.slice(0, 200) }, `station refused: ${parsed.error}`);
      refuse(socket, 404);
      return;
    }
    const stationId = parsed.id;
    const log = this.log.child({ stationId });
    if (this.stopping) return refuse(socket, 503);
    const denied: Refusal | undefined = certificateMismatch(stationId, req, this.config.stations) ?? await this.admission.admit(stationId, req);
    if (denied) {
      // A refused handshake changes nothing about anyone: no connection event, no state keyed by its id (the
      // station of that id, if connected, stays connected and controlled). Only counters and the log see it.
      this.ctx.metrics.refused++;
      if (denied.authFailure) this.ctx.metrics.authFailures++;
      if (denied.throttled) this.ctx.metrics.throttled++;
      // Throttled attempts are counted, not logged one by one: a flood must not become a flood of log lines.
      if (!denied.throttled) log.warn({ status: denied.status, address: sourceAddress(req) }, `station refused: ${denied.reason}`);
      const headers: Record<string, string> = denied.status === 401 ? { 'WWW-Authenticate': 'Basic realm="OCPP"' } : {};
      if (denied.retryAfterS !== undefined) headers['Retry-After'] = String(denied.retryAfterS);
      refuse(socket, denied.status, headers);
      return;
    }
    const protocol = stationProtocol(stationId, req, this.config.stations);
    if (!protocol) {
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        log.warn({ offered: req.headers['sec-websocket-protocol'] ?? null }, `station offered neither ${SPOKEN}; closing`);
        ws.close(1002, `subprotocol ${SPOKEN} required`);
      });
      return;
    }
    this.agreed.set(req, protocol);
    // 1.6 stations may have their own CSMS endpoint (many CSMSs serve 1.6 on another path or port).
    const upstreamBase = protocol === 'ocpp1.6' ? this.config.upstream.url16 ?? this.config.upstream.url : this.config.upstream.url;
    // The upstream socket opens first so a CSMS refusal (401/404) reaches the station as its own handshake answer,
    // exactly as without the controller. An unreachable CSMS does not stop the station: it is served offline.
    const authorization = this.upstreamAuthorization(stationId, req);
    const connect = async (): Promise<WebSocket | undefined> => {
      const r = await openUpstream(upstreamBase, stationId, {
        authorization, tls: this.tls, handshakeTimeoutMs: this.handshakeTimeoutMs, maxPayload: readLimit(this.config.upstream.maxFrameBytes), protocol,
      });
      if (r.ok) return r.socket;
      log.warn({ status: r.status }, `upstream connect failed: ${r.reason}`);
      return undefined;
    };
    const first = await openUpstream(upstreamBase, stationId, {
      authorization, tls: this.tls, handshakeTimeoutMs: this.handshakeTimeoutMs, maxPayload: readLimit(this.config.upstream.maxFrameBytes), protocol,
    });
    if (!first.ok && first.status !== undefined && first.status >= 400 && first.status < 500) {
      this.ctx.metrics.refused++;
      log.warn({ status: first.status }, `station refused by the CSMS: ${first.reason}`);
      refuse(socket, first.status, first.status === 401 ? { 'WWW-Authenticate': 'Basic realm="OCPP"' } : {});
      return;
    }
    if (!first.ok) log.warn(`CSMS unreachable (${first.reason}); serving the station locally`);
    if (socket.destroyed || this.stopping) {
      if (first.ok) first.socket.close(1000, 'station went away');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      explainProtocolCloses(ws, readLimit(this.config.stations.maxFrameBytes));
      guardSendBuffer(ws, sendBufferLimit(this.config.stations.maxFrameBytes), log, () => { this.ctx.metrics.errors++; });
      const previous = this.sessions.get(stationId);
      if (previous) {
        log.warn('station connected again; closing its previous connection');
        previous.retire();
      }
      const ctx = sessionContext(this.ctx, this.adapterFor(stationId, protocol));
      const session = new StationSession(stationId, ws, ctx, connect, first.ok ? first.socket : undefined);
      this.sessions.set(stationId, session);
      log.info({ upstream: first.ok, protocol }, 'station connected');
      // Registered first, announced second: a connections$ subscriber may call the station from its callback.
      session.open();
    });
  }
}
