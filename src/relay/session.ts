// One station's path through the relay: its socket, the frames each way between it and the CSMS, and
// store-and-forward while the upstream is down. The socket toward the CSMS lives in UpstreamLink, the CALLs toward
// the station (CSMS's and the controller's) in StationCalls.
import type { RawData, WebSocket } from 'ws';
import type { SchedulerLike } from 'rxjs';
import type { Logger } from '../common/log.js';
import { callError, encodeFrame, parseFrame, type CallErrorFrame, type CallFrame, type Frame, type OcppErrorCode } from '../ocpp/frames.js';
import type { OcppProtocol } from '../ocpp/protocol.js';
import { stationMayNotSend } from '../ocpp/directions.js';
import type { JournalDirection } from '../store/journal.js';
import { StoreAndForward } from './store-forward.js';
import type { RelayContext } from './context.js';
import { frameHead, size, text, TEXT } from './raw-data.js';
import { StationCalls } from './station-calls.js';
import { RateGate } from './frame-rate.js';
import { UpstreamLink } from './upstream-link.js';

export class StationSession {
  private readonly forwarding: StoreAndForward;
  private readonly link: UpstreamLink;
  private readonly calls: StationCalls;
  private ended = false;
  private pingTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;
  private readonly scheduler: SchedulerLike;
  private initialUpstream: WebSocket | undefined;
  /** Replaced by a newer connection of the same station: its late close must not announce the station down. */
  private retired = false;
  private readonly gate: RateGate;

  constructor(
    readonly stationId: string,
    private readonly station: WebSocket,
    private readonly ctx: RelayContext,
    /** Opens this station's upstream socket (with its credentials) — used to reconnect. */
    connectUpstream: () => Promise<WebSocket | undefined>,
    upstream: WebSocket | undefined,
  ) {
    this.log = ctx.log.child({ stationId });
    this.scheduler = ctx.scheduler;
    this.gate = new RateGate(ctx.config.stations.rateLimit, this.scheduler, {
      handle: (data, isBinary) => this.handle(data, isBinary),
      ended: () => this.ended,
      pause: (waitMs) => {
        this.log.warn({ waitMs, limit: ctx.config.stations.rateLimit }, 'station sends faster than stations.rateLimit; reading paused');
        station.pause();
      },
      resume: () => station.resume(),
      flooding: () => {
        ctx.metrics.floodsCut++;
        this.log.warn({ limit: ctx.config.stations.rateLimit }, 'station floods (frames piling up beyond the rate limit); disconnected');
        station.close(1008, 'rate limit exceeded');
        // A peer that does not answer the close is not waited for.
        this.scheduler.schedule(() => station.terminate(), 2000);
      },
    });
    station.on('message', (data: RawData, isBinary: boolean) => this.gate.received(data, isBinary));
    station.on('error', (err: Error) => this.log.warn({ err: err.message }, 'station socket error'));
    station.once('close', (code: number, reason: Buffer) => this.onStationClose(code, reason.toString('utf8')));
    this.forwarding = new StoreAndForward(stationId, ctx, this.log, {
      sendToStation: (frame, now) => this.sendToStation(frame, now),
      journal: (direction, kind, bytes, at, extra) => this.journal(direction, kind, bytes, at, extra),
      bootAccepted: (intervalS) => this.adoptHeartbeatInterval(intervalS),
      crossing: () => this.calls.awaitingStationAnswer(),
    }, ctx.adapter.protocol);
    this.calls = new StationCalls(stationId, station, ctx, this.log, {
      ended: () => this.ended,
      upstream: () => this.link.socket,
      sendToStation: (frame, now, direction) => this.sendToStation(frame, now, direction),
      journal: (direction, kind, bytes, at, extra) => this.journal(direction, kind, bytes, at, extra),
    });
    this.link = new UpstreamLink(ctx, this.log, this.forwarding, connectUpstream, {
      fromCsms: (data, isBinary, now) => this.fromUpstream(data, isBinary, now),
      frameFailed: (err) => this.frameFailed('CSMS', err),
      announce: (up, reason) => this.announce('upstream', up, reason),
      lost: () => this.calls.dropCsmsCalls(),
      crossing: () => this.calls.awaitingStationAnswer(),
    });
    this.startPing();
    this.initialUpstream = upstream;
  }

  /**
   * Announces the station (connections$ up) and attaches its upstream socket. Called by the relay only after the
   * session is registered, so a subscriber that calls the station at once from its connections$ callback reaches it.
   */
  open(): void {
    const upstream = this.initialUpstream;
    this.initialUpstream = undefined;
    this.ctx.emitConnection(this.stationId, 'station', true);
    if (this.ended) return;
    if (upstream) this.link.attach(upstream);
    else this.link.scheduleReconnect();
  }

  /** The OCPP version agreed with the station on this connection. */
  get protocol(): OcppProtocol {
    return this.ctx.adapter.protocol;
  }

  /** Checks a CALL the controller wants to send to this station against the station's protocol. */
  validateRequest(action: string, payload: Record<string, unknown>): { code: string; description: string } | undefined {
    return this.ctx.adapter.validate(action, 'request', payload);
  }

  get upstreamOnline(): boolean {
    return this.link.socket !== undefined;
  }

  /** The controller's own CALL to this station: queued behind CSMS calls, reply consumed here. */
  inject(action: string, payload: Record<string, unknown>, timeoutMs: number): Promise<Record<string, unknown>> {
    // The controller may name a 1.6 transaction by the CSMS's id (from a replayed StartTransaction): the station knows its own.
    const payloadForStation = this.ctx.adapter.rewriteForStation?.(action, payload) ?? payload;
    return this.calls.fromController(action, payloadForStation, timeoutMs);
  }

  /**
   * The station connected again on a new socket: announce this connection down now (before the new one is announced
   * up), then close it quietly, so subscribers never see a stale "down" after the new "up".
   */
  retire(): void {
    if (this.link.socket) this.announce('upstream', false, 'replaced by a new connection');
    this.announce('station', false, 'replaced by a new connection');
    this.retired = true;
    // The new connection replays the queue on its own upstream socket: stop ours now, or the head could go twice.
    this.link.stop();
    this.forwarding.stopReplay();
    this.link.close(1000, 'station connected again');
    this.close(1000, 'replaced by a new connection');
  }

  /** Closes the station socket (its close handler closes the upstream). */
  close(code = 1001, reason = 'controller stopping'): void {
    this.station.close(code, reason);
  }

  terminate(): void {
    this.station.terminate();
    this.link.terminate();
  }

  // ---- station -> relay --------------------------------------------------------------------------------------

  private fromStation(data: RawData, isBinary: boolean): void {
    const now = this.scheduler.now();
    this.ctx.metrics.framesIn++;
    if (size(data) > this.ctx.config.stations.maxFrameBytes) {
      this.oversized('station', data, this.ctx.config.stations.maxFrameBytes, now);
      return;
    }
    const parsed = isBinary ? undefined : parseFrame(text(data));
    if (!parsed || !parsed.ok) {
      const error = this.inProtocol(parsed && !parsed.ok ? parsed.error : callError('-1', 'FormatViolation', 'binary frames are not OCPP-J'));
      this.ctx.metrics.errors++;
      this.journal('station->controller', 0, size(data), now, { messageId: error.messageId, note: `${error.code}: ${error.description}` });
      this.log.warn({ messageId: error.messageId, code: error.code }, `malformed frame from station: ${error.description}`);
      this.sendToStation(error, now);
      return;
    }
    const frame = parsed.frame;
    if (frame.type === 2) this.stationCall(frame, data, now);
    else this.calls.answered(frame, data, now);
  }

  private stationCall(frame: CallFrame, data: RawData, now: number): void {
    const refusal = this.refuseStationCall(frame);
    if (refusal) {
      this.ctx.metrics.errors++;
      this.log.warn({ messageId: frame.messageId, action: frame.action, code: refusal.code }, refusal.description);
      this.journal('station->controller', 2, size(data), now, { action: frame.action, messageId: frame.messageId, note: `rejected: ${refusal.code}` });
      this.sendToStation(callError(frame.messageId, refusal.code, refusal.description), now);
      return;
    }
    const invalid = this.ctx.adapter.validate(frame.action, 'request', frame.payload);
    if (invalid) {
      this.ctx.metrics.errors++;
      this.log.warn({ messageId: frame.messageId, action: frame.action, code: invalid.code }, invalid.description);
      if (this.ctx.config.stations.invalidFromStation === 'reject') {
        this.journal('station->controller', 2, size(data), now, { action: frame.action, messageId: frame.messageId, note: `rejected: ${invalid.code}` });
        this.sendToStation(callError(frame.messageId, invalid.code, invalid.description), now);
        return;
      }
    }
    const upstream = this.link.socket;
    if (upstream && !this.forwarding.replaying) {
      // 1.6: a transaction the station still names by its local id goes to the CSMS under the CSMS's id.
      const rewritten = this.ctx.adapter.rewriteForCsms?.(frame);
      const out = rewritten === undefined ? data : Buffer.from(rewritten);
      // Forward first (the station's own bytes), bookkeeping after: subscribers never delay the frame.
      upstream.send(out, TEXT);
      this.ctx.metrics.framesOut++;
      this.link.awaitAnswer(frame, out, now);
      this.ctx.journal?.recordRow(now, this.stationId, 'station->csms', 2, frame.action, frame.messageId, size(data), undefined);
      this.ctx.calls$.next({ stationId: this.stationId, origin: 'station', messageId: frame.messageId, action: frame.action, payload: frame.payload, at: now });
      return;
    }
    this.ctx.calls$.next({ stationId: this.stationId, origin: 'station', messageId: frame.messageId, action: frame.action, payload: frame.payload, at: now });
    this.forwarding.answerOffline(frame, text(data), now);
  }

  /**
   * CALLs answered locally and never forwarded: an action only the CSMS may send, and a message id the station is
   * still waiting on (a second CALL with it would overwrite the first's pending entry, and the CSMS's answer to one
   * would be taken as the answer to the other — e.g. the authorization cache learning a token as Accepted).
   */
  private refuseStationCall(frame: CallFrame): { code: OcppErrorCode; description: string } | undefined {
    const wrongWay = stationMayNotSend(this.protocol, frame.action);
    if (wrongWay) return wrongWay;
    if (this.link.isPending(frame.messageId)) {
      return { code: 'GenericError', description: `message id ${frame.messageId} is still in use by a CALL waiting for its answer` };
    }
    return undefined;
  }

  // ---- CSMS -> relay ------------------------------------------------------------------------------------------

  /** A frame on the current upstream socket (UpstreamLink has noted when it arrived). */
  private fromUpstream(data: RawData, isBinary: boolean, now: number): void {
    this.ctx.metrics.framesIn++;
    if (size(data) > this.ctx.config.upstream.maxFrameBytes) {
      this.oversized('CSMS', data, this.ctx.config.upstream.maxFrameBytes, now);
      return;
    }
    const parsed = isBinary ? undefined : parseFrame(text(data));
    if (!parsed || !parsed.ok) {
      const error = this.inProtocol(parsed && !parsed.ok ? parsed.error : callError('-1', 'FormatViolation', 'binary frames are not OCPP-J'));
      this.ctx.metrics.errors++;
      this.log.warn({ messageId: error.messageId, code: error.code }, `malformed frame from the CSMS: ${error.description}`);
      this.journal('csms->station', 0, size(data), now, { messageId: error.messageId, note: `${error.code}: ${error.description}` });
      this.sendUpstream(error);
      return;
    }
    const frame = parsed.frame;
    if (frame.type === 2) {
      const invalid = this.ctx.adapter.validate(frame.action, 'request', frame.payload);
      if (invalid) {
        this.ctx.metrics.errors++;
        this.log.warn({ messageId: frame.messageId, action: frame.action, code: invalid.code }, `CSMS call fails the schema: ${invalid.description}`);
        if (this.ctx.config.stations.invalidFromCsms === 'reject') {
          this.journal('csms->station', 2, size(data), now, { action: frame.action, messageId: frame.messageId, note: `rejected: ${invalid.code}` });
          this.sendUpstream(callError(frame.messageId, invalid.code, invalid.description));
          return;
        }
      }
      // 1.6: a transaction the CSMS names by its own id reaches the station under the id the station gave it, and
      // is published that way too (subscribers know the transaction by the id its station uses).
      const forStation = this.ctx.adapter.rewriteForStation?.(frame.action, frame.payload);
      const call = forStation ? { ...frame, payload: forStation } : frame;
      this.ctx.calls$.next({ stationId: this.stationId, origin: 'csms', messageId: frame.messageId, action: frame.action, payload: call.payload, at: now });
      this.calls.fromCsms(call, forStation ? Buffer.from(JSON.stringify([2, frame.messageId, frame.action, forStation])) : data);
      return;
    }
    if (this.forwarding.isReplayReply(frame.messageId)) {
      this.forwarding.replayAnswered(frame, now);
      return;
    }
    const call = this.link.answered(frame.messageId);
    if (!call) {
      // Not an answer to anything the station sent (or long forgotten): a station would take it for a protocol
      // error (some crash on it), so it is dropped here.
      this.ctx.metrics.errors++;
      this.log.warn({ messageId: frame.messageId, type: frame.type }, 'reply from the CSMS to no pending station call dropped');
      this.journal('csms->station', frame.type, size(data), now, { messageId: frame.messageId, note: 'no pending call, dropped' });
      return;
    }
    // A reply to the station's CALL is forwarded unchanged whatever it holds: send first, then check and record.
    this.station.send(data, TEXT);
    this.ctx.metrics.framesOut++;
    if (frame.type === 3) {
      const invalid = this.ctx.adapter.validate(call.action, 'response', frame.payload);
      if (invalid) {
        this.ctx.metrics.errors++;
        this.log.warn({ messageId: frame.messageId, action: call.action, code: invalid.code }, `CSMS reply fails the schema (forwarded): ${invalid.description}`);
      }
      this.ctx.adapter.csmsAnswered(call.action, frame.messageId, call.payload, frame.payload, now);
    }
    this.ctx.journal?.recordRow(now, this.stationId, 'csms->station', frame.type, call.action, frame.messageId, size(data), undefined);
    this.ctx.emitResult({
      stationId: this.stationId, origin: 'station', messageId: frame.messageId, action: call.action, request: call.payload,
      result: frame.type === 3 ? frame.payload : undefined,
      error: frame.type === 4 ? { code: frame.code, description: frame.description } : undefined, at: now,
    });
  }

  private onStationClose(code: number, reason: string): void {
    this.ended = true;
    // The operator's first question when a station shows offline: who closed, and why (1000 normal, 1001 going away,
    // 1006 no close frame — power or network lost).
    if (!this.retired) this.log.info({ code, reason }, 'station disconnected');
    this.gate.stop();
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.link.stop();
    this.forwarding.stopReplay();
    this.calls.end(new Error(`station ${this.stationId} disconnected`));
    if (this.link.close(1000, 'station disconnected')) this.announce('upstream', false, 'station disconnected');
    this.announce('station', false, `closed (${code}${reason ? ` ${reason}` : ''})`);
    this.ctx.sessionEnded(this);
  }

  /**
   * The CSMS accepted the boot the station sent during the outage, with its own heartbeat interval. A station
   * connected directly would have taken that interval from the BootNotificationResponse; this one got the offline
   * answer's, so it is set on the station (OCPPCommCtrlr.HeartbeatInterval). Best effort: a refusal is only logged.
   */
  private adoptHeartbeatInterval(intervalS: number): void {
    if (intervalS === this.ctx.offline.heartbeatIntervalS) return;
    const { action, payload } = this.ctx.adapter.heartbeatIntervalCall(intervalS);
    this.inject(action, payload, this.ctx.callTimeoutMs).then(
      (r) => this.log.info({ intervalS, result: r }, 'heartbeat interval from the CSMS set on the station'),
      (err: Error) => this.log.warn({ intervalS, err: err.message }, 'could not set the CSMS heartbeat interval on the station'),
    );
  }

  /**
   * A frame above the sender's limit (stations.maxFrameBytes / upstream.maxFrameBytes) is not relayed. A CALL is
   * answered to its sender with a CALLERROR, as a peer that cannot take a message that large would (the socket stays
   * open); a reply is dropped and logged (the call it answers times out at its sender).
   */
  private oversized(from: 'station' | 'CSMS', data: RawData, limit: number, now: number): void {
    const bytes = size(data);
    const head = frameHead(data);
    this.ctx.metrics.errors++;
    const description = `frame of ${bytes} bytes is larger than the ${limit} bytes the controller accepts`;
    this.log.warn({ bytes, limit, messageId: head?.messageId, type: head?.type }, `oversized frame from the ${from} not relayed`);
    this.journal(from === 'station' ? 'station->controller' : 'csms->station', head?.type ?? 0, bytes, now, { messageId: head?.messageId, note: `not relayed: ${description}` });
    if (head?.type !== 2) return;
    const error = this.inProtocol(callError(head.messageId, 'FormatViolation', description));
    if (from === 'station') this.sendToStation(error, now);
    else this.sendUpstream(error);
  }

  private handle(data: RawData, isBinary: boolean): void {
    // A failure handling one frame (e.g. SQLite "disk full" while queueing) must never take the process down.
    try {
      this.fromStation(data, isBinary);
    } catch (err) {
      this.frameFailed('station', err);
    }
  }

  // ---- helpers ------------------------------------------------------------------------------------------------

  /** A framing error in the spelling of the station's protocol (1.6: FormationViolation, …). */
  private inProtocol(error: CallErrorFrame): CallErrorFrame {
    const code = this.ctx.adapter.errorCode(error.code);
    return code === error.code ? error : { ...error, code };
  }

  private frameFailed(from: 'station' | 'CSMS', err: unknown): void {
    this.ctx.metrics.errors++;
    this.log.error({ err: err instanceof Error ? err.message : String(err) }, `handling a frame from the ${from} failed; frame dropped`);
  }

  private announce(side: 'station' | 'upstream', up: boolean, reason?: string): void {
    if (!this.retired) this.ctx.emitConnection(this.stationId, side, up, reason);
  }

  private startPing(): void {
    const s = this.ctx.config.stations.pingIntervalS;
    if (s <= 0) return;
    let alive = true;
    this.station.on('pong', () => { alive = true; });
    this.pingTimer = setInterval(() => {
      if (!alive) {
        this.log.warn('station missed a pong; closing');
        this.station.terminate();
        return;
      }
      alive = false;
      this.station.ping();
    }, s * 1000);
    this.pingTimer.unref();
  }

  private sendToStation(frame: Frame, now: number, direction: JournalDirection = 'controller->station'): void {
    const out = encodeFrame(frame);
    this.journal(direction, frame.type, out.length, now, { action: frame.type === 2 ? frame.action : undefined, messageId: frame.messageId });
    if (this.station.readyState === this.station.OPEN) {
      this.station.send(out);
      this.ctx.metrics.framesOut++;
    }
  }

  private sendUpstream(frame: Frame): void {
    const upstream = this.link.socket;
    if (!upstream) return;
    const out = encodeFrame(frame);
    this.journal('controller->csms', frame.type, out.length, this.scheduler.now(), { messageId: frame.messageId });
    upstream.send(out);
    this.ctx.metrics.framesOut++;
  }

  journal(direction: JournalDirection, kind: number, bytes: number, at: number, extra: { action?: string; messageId?: string; note?: string }): void {
    this.ctx.journal?.recordRow(at, this.stationId, direction, kind, extra.action, extra.messageId, bytes, extra.note);
  }
}

