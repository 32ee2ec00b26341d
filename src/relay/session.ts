// One station's path through the relay: its socket, its upstream socket toward the CSMS, the CALLs in flight each
// way, the controller's injected CALLs, and store-and-forward while the upstream is down.
import { randomUUID } from 'node:crypto';
import type { RawData, WebSocket } from 'ws';
import type { SchedulerLike, Subscription } from 'rxjs';
import type { Logger } from '../common/log.js';
import { callError, encodeFrame, parseFrame, type CallFrame, type Frame } from '../ocpp/frames.js';
import { validatePayload } from '../ocpp/validate.js';
import type { JournalDirection } from '../store/journal.js';
import { OcppCallError } from './events.js';
import { learnTokens } from './offline.js';
import { StoreAndForward } from './store-forward.js';
import type { RelayContext } from './context.js';

interface ToStationCall {
  origin: 'csms' | 'controller';
  messageId: string;
  action: string;
  payload: Record<string, unknown>;
  /** The CSMS's frame as received, sent on unchanged. */
  raw?: RawData;
  timeoutMs: number;
  resolve?: (r: Record<string, unknown>) => void;
  reject?: (e: Error) => void;
}

interface PendingStationCall { action: string; payload: Record<string, unknown>; raw: RawData; at: number }

/** ws send options for a text frame, allocated once. */
const TEXT = { binary: false } as const;

function text(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

function size(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}

export class StationSession {
  private upstream: WebSocket | undefined;
  private readonly forwarding: StoreAndForward;
  private readonly stationCalls = new Map<string, PendingStationCall>();
  private toStation: (ToStationCall & { timer: Subscription }) | undefined;
  private readonly csmsQueue: ToStationCall[] = [];
  private readonly ownQueue: ToStationCall[] = [];
  private reconnectSub: Subscription | undefined;
  /** Watches the oldest station CALL the CSMS has not answered (see watchCsmsStall). */
  private stallCheck: Subscription | undefined;
  /** When the upstream socket last delivered a frame (tells a stalled CSMS from one that ignored one CALL). */
  private lastFromUpstreamAt = 0;
  private attempt = 0;
  private ended = false;
  private pingTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;
  private readonly scheduler: SchedulerLike;
  private initialUpstream: WebSocket | undefined;
  /** Replaced by a newer connection of the same station: its late close must not announce the station down. */
  private retired = false;

  constructor(
    readonly stationId: string,
    private readonly station: WebSocket,
    private readonly ctx: RelayContext,
    /** Opens this station's upstream socket (with its credentials) — used to reconnect. */
    private readonly connectUpstream: () => Promise<WebSocket | undefined>,
    upstream: WebSocket | undefined,
  ) {
    this.log = ctx.log.child({ stationId });
    this.scheduler = ctx.scheduler;
    station.on('message', (data: RawData, isBinary: boolean) => {
      // A failure handling one frame (e.g. SQLite "disk full" while queueing) must never take the process down.
      try {
        this.fromStation(data, isBinary);
      } catch (err) {
        this.frameFailed('station', err);
      }
    });
    station.on('error', (err: Error) => this.log.warn({ err: err.message }, 'station socket error'));
    station.once('close', (code: number, reason: Buffer) => this.onStationClose(code, reason.toString('utf8')));
    this.forwarding = new StoreAndForward(stationId, ctx, this.log, {
      sendToStation: (frame, now) => this.sendToStation(frame, now),
      journal: (direction, kind, bytes, at, extra) => this.journal(direction, kind, bytes, at, extra),
      bootAccepted: (intervalS) => this.adoptHeartbeatInterval(intervalS),
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
    if (upstream) this.attachUpstream(upstream);
    else this.scheduleReconnect();
  }

  get upstreamOnline(): boolean {
    return this.upstream !== undefined;
  }

  /** The controller's own CALL to this station: queued behind CSMS calls, reply consumed here. */
  inject(action: string, payload: Record<string, unknown>, timeoutMs: number): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      if (this.ended) {
        reject(new Error(`station ${this.stationId} is not connected`));
        return;
      }
      this.ownQueue.push({ origin: 'controller', messageId: randomUUID(), action, payload, timeoutMs, resolve, reject });
      this.pumpToStation();
    });
  }

  /**
   * The station connected again on a new socket: announce this connection down now (before the new one is announced
   * up), then close it quietly, so subscribers never see a stale "down" after the new "up".
   */
  retire(): void {
    if (this.upstream) this.announce('upstream', false, 'replaced by a new connection');
    this.announce('station', false, 'replaced by a new connection');
    this.retired = true;
    // The new connection replays the queue on its own upstream socket: stop ours now, or the head could go twice.
    this.reconnectSub?.unsubscribe();
    this.reconnectSub = undefined;
    this.forwarding.stopReplay();
    const up = this.upstream;
    this.upstream = undefined;
    up?.close(1000, 'station connected again');
    this.close(1000, 'replaced by a new connection');
  }

  /** Closes the station socket (its close handler closes the upstream). */
  close(code = 1001, reason = 'controller stopping'): void {
    this.station.close(code, reason);
  }

  terminate(): void {
    this.station.terminate();
    this.upstream?.terminate();
  }

  // ---- station -> relay --------------------------------------------------------------------------------------

  private fromStation(data: RawData, isBinary: boolean): void {
    const now = this.scheduler.now();
    this.ctx.metrics.framesIn++;
    const parsed = isBinary ? undefined : parseFrame(text(data));
    if (!parsed || !parsed.ok) {
      const error = parsed && !parsed.ok ? parsed.error : callError('-1', 'FormatViolation', 'binary frames are not OCPP-J');
      this.ctx.metrics.errors++;
      this.journal('station->controller', 0, size(data), now, { messageId: error.messageId, note: `${error.code}: ${error.description}` });
      this.log.warn({ messageId: error.messageId, code: error.code }, `malformed frame from station: ${error.description}`);
      this.sendToStation(error, now);
      return;
    }
    const frame = parsed.frame;
    if (frame.type === 2) this.stationCall(frame, data, now);
    else this.stationReply(frame, data, now);
  }

  private stationCall(frame: CallFrame, data: RawData, now: number): void {
    const invalid = validatePayload(frame.action, 'request', frame.payload);
    if (invalid) {
      this.ctx.metrics.errors++;
      this.log.warn({ messageId: frame.messageId, action: frame.action, code: invalid.code }, invalid.description);
      if (this.ctx.config.stations.invalidFromStation === 'reject') {
        this.journal('station->controller', 2, size(data), now, { action: frame.action, messageId: frame.messageId, note: `rejected: ${invalid.code}` });
        this.sendToStation(callError(frame.messageId, invalid.code, invalid.description), now);
        return;
      }
    }
    if (this.upstream && !this.forwarding.replaying) {
      // Forward first (the station's own bytes), bookkeeping after: subscribers never delay the frame.
      this.upstream.send(data, TEXT);
      this.ctx.metrics.framesOut++;
      this.stationCalls.set(frame.messageId, { action: frame.action, payload: frame.payload, raw: data, at: now });
      this.watchCsmsStall();
      this.ctx.journal?.recordRow(now, this.stationId, 'station->csms', 2, frame.action, frame.messageId, size(data), undefined);
      this.ctx.calls$.next({ stationId: this.stationId, origin: 'station', messageId: frame.messageId, action: frame.action, payload: frame.payload, at: now });
      return;
    }
    this.ctx.calls$.next({ stationId: this.stationId, origin: 'station', messageId: frame.messageId, action: frame.action, payload: frame.payload, at: now });
    this.forwarding.answerOffline(frame, text(data), now);
  }

  private stationReply(frame: Exclude<Frame, CallFrame>, data: RawData, now: number): void {
    const call = this.toStation;
    if (!call || call.messageId !== frame.messageId) {
      this.log.warn({ messageId: frame.messageId }, 'reply from station to no outstanding call dropped');
      this.journal('station->controller', frame.type, size(data), now, { messageId: frame.messageId, note: 'no outstanding call' });
      return;
    }
    this.toStation = undefined;
    call.timer.unsubscribe();
    let error: { code: string; description: string } | undefined =
      frame.type === 4 ? { code: frame.code, description: frame.description } : undefined;
    if (frame.type === 3) {
      const invalid = validatePayload(call.action, 'response', frame.payload);
      if (invalid) {
        this.log.warn({ messageId: frame.messageId, action: call.action, code: invalid.code }, `station reply fails the schema: ${invalid.description}`);
        if (call.origin === 'controller') error = invalid;
      }
    }
    const result = frame.type === 3 && !error ? frame.payload : undefined;
    if (call.origin === 'csms') {
      // The CSMS decides what to make of its station's reply: forward it unchanged.
      this.journal('station->csms', frame.type, size(data), now, { action: call.action, messageId: frame.messageId });
      if (this.upstream) {
        this.upstream.send(data, { binary: false });
        this.ctx.metrics.framesOut++;
      }
      this.ctx.emitResult({ stationId: this.stationId, origin: 'csms', messageId: call.messageId, action: call.action, request: call.payload, result: frame.type === 3 ? frame.payload : undefined, error, at: now });
    } else {
      this.journal('station->controller', frame.type, size(data), now, { action: call.action, messageId: frame.messageId });
      this.ctx.emitResult({ stationId: this.stationId, origin: 'controller', messageId: call.messageId, action: call.action, request: call.payload, result, error, at: now });
      if (result) call.resolve?.(result);
      else call.reject?.(frame.type === 4 ? new OcppCallError(frame.code, frame.description, frame.details) : new OcppCallError(error!.code, error!.description));
    }
    this.pumpToStation();
  }

  // ---- CSMS -> relay ------------------------------------------------------------------------------------------

  private fromUpstream(socket: WebSocket, data: RawData, isBinary: boolean): void {
    if (socket !== this.upstream) return;
    const now = this.scheduler.now();
    this.lastFromUpstreamAt = now;
    this.ctx.metrics.framesIn++;
    const parsed = isBinary ? undefined : parseFrame(text(data));
    if (!parsed || !parsed.ok) {
      const error = parsed && !parsed.ok ? parsed.error : callError('-1', 'FormatViolation', 'binary frames are not OCPP-J');
      this.ctx.metrics.errors++;
      this.log.warn({ messageId: error.messageId, code: error.code }, `malformed frame from the CSMS: ${error.description}`);
      this.journal('csms->station', 0, size(data), now, { messageId: error.messageId, note: `${error.code}: ${error.description}` });
      this.sendUpstream(error);
      return;
    }
    const frame = parsed.frame;
    if (frame.type === 2) {
      const invalid = validatePayload(frame.action, 'request', frame.payload);
      if (invalid) {
        this.ctx.metrics.errors++;
        this.log.warn({ messageId: frame.messageId, action: frame.action, code: invalid.code }, `CSMS call fails the schema: ${invalid.description}`);
        if (this.ctx.config.stations.invalidFromCsms === 'reject') {
          this.journal('csms->station', 2, size(data), now, { action: frame.action, messageId: frame.messageId, note: `rejected: ${invalid.code}` });
          this.sendUpstream(callError(frame.messageId, invalid.code, invalid.description));
          return;
        }
      }
      this.ctx.calls$.next({ stationId: this.stationId, origin: 'csms', messageId: frame.messageId, action: frame.action, payload: frame.payload, at: now });
      this.csmsQueue.push({ origin: 'csms', messageId: frame.messageId, action: frame.action, payload: frame.payload, raw: data, timeoutMs: this.ctx.callTimeoutMs });
      this.pumpToStation();
      return;
    }
    if (this.forwarding.isReplayReply(frame.messageId)) {
      this.forwarding.replayAnswered(frame, now);
      return;
    }
    // A reply to the station's CALL is forwarded unchanged whatever it holds: send first, then check and record.
    this.station.send(data, TEXT);
    this.ctx.metrics.framesOut++;
    const call = this.stationCalls.get(frame.messageId);
    this.stationCalls.delete(frame.messageId);
    if (call && frame.type === 3) {
      const invalid = validatePayload(call.action, 'response', frame.payload);
      if (invalid) {
        this.ctx.metrics.errors++;
        this.log.warn({ messageId: frame.messageId, action: call.action, code: invalid.code }, `CSMS reply fails the schema (forwarded): ${invalid.description}`);
      }
      learnTokens(call.action, call.payload, frame.payload, this.ctx.authCache, now);
    }
    this.ctx.journal?.recordRow(now, this.stationId, 'csms->station', frame.type, call?.action, frame.messageId, size(data), undefined);
    if (call) {
      this.ctx.emitResult({
        stationId: this.stationId, origin: 'station', messageId: frame.messageId, action: call.action, request: call.payload,
        result: frame.type === 3 ? frame.payload : undefined,
        error: frame.type === 4 ? { code: frame.code, description: frame.description } : undefined, at: now,
      });
    }
  }

  // ---- one outstanding CALL toward the station: CSMS first, then the controller's own -------------------------

  private pumpToStation(): void {
    if (this.toStation || this.ended) return;
    const next = this.csmsQueue.shift() ?? this.ownQueue.shift();
    if (!next) return;
    const now = this.scheduler.now();
    const timer = this.scheduler.schedule(() => {
      if (this.toStation?.messageId !== next.messageId) return;
      this.toStation = undefined;
      this.log.warn({ messageId: next.messageId, action: next.action, origin: next.origin }, 'station did not answer in time');
      next.reject?.(new Error(`${next.action} to ${this.stationId} timed out after ${next.timeoutMs} ms`));
      this.pumpToStation();
    }, next.timeoutMs);
    this.toStation = { ...next, timer };
    if (next.origin === 'csms' && next.raw) {
      this.journal('csms->station', 2, size(next.raw), now, { action: next.action, messageId: next.messageId });
      this.station.send(next.raw, { binary: false });
      this.ctx.metrics.framesOut++;
    } else {
      this.ctx.calls$.next({ stationId: this.stationId, origin: 'controller', messageId: next.messageId, action: next.action, payload: next.payload, at: now });
      this.sendToStation({ type: 2, messageId: next.messageId, action: next.action, payload: next.payload }, now, 'controller->station');
    }
  }

  // ---- upstream lifecycle and replay ---------------------------------------------------------------------------

  private attachUpstream(socket: WebSocket): void {
    if (this.ended || this.retired) {
      socket.close(1000);
      return;
    }
    this.upstream = socket;
    this.attempt = 0;
    socket.on('message', (data: RawData, isBinary: boolean) => {
      try {
        this.fromUpstream(socket, data, isBinary);
      } catch (err) {
        this.frameFailed('CSMS', err);
      }
    });
    socket.on('error', (err: Error) => this.log.warn({ err: err.message }, 'upstream socket error'));
    socket.once('close', (code: number) => this.onUpstreamClose(socket, code));
    this.announce('upstream', true);
    this.forwarding.startReplay(socket);
  }

  private onUpstreamClose(socket: WebSocket, code: number): void {
    if (socket !== this.upstream) return;
    this.upstream = undefined;
    this.forwarding.stopReplay();
    this.stallCheck?.unsubscribe();
    this.stallCheck = undefined;
    this.announce('upstream', false, `closed (${code})`);
    if (this.ended) return;
    this.log.warn({ code }, 'CSMS connection lost; answering the station locally');
    // Station CALLs the CSMS never answered: answer them now (transaction-related ones are queued first).
    const now = this.scheduler.now();
    for (const [messageId, c] of this.stationCalls) this.forwarding.answerOffline({ type: 2, messageId, action: c.action, payload: c.payload }, text(c.raw), now);
    this.stationCalls.clear();
    // CSMS calls not yet delivered can never be answered to the CSMS: drop them.
    this.csmsQueue.length = 0;
    this.scheduleReconnect();
  }

  /**
   * A CSMS that keeps its socket open but stops answering is treated like a lost connection: when a station CALL has
   * waited upstream.callTimeoutS, the upstream socket is dropped, so every unanswered CALL is answered locally
   * (transaction messages queued for replay, as in an outage) and the relay reconnects. One timer per session, on the
   * oldest unanswered CALL (Map order = arrival order), not one per CALL.
   */
  private watchCsmsStall(): void {
    if (this.stallCheck || this.stationCalls.size === 0) return;
    const oldest = this.stationCalls.values().next().value as PendingStationCall;
    const wait = Math.max(0, oldest.at + this.ctx.callTimeoutMs - this.scheduler.now());
    this.stallCheck = this.scheduler.schedule(() => {
      this.stallCheck = undefined;
      const first = this.stationCalls.values().next().value as PendingStationCall | undefined;
      const up = this.upstream;
      if (!first || !up) return;
      if (this.scheduler.now() - first.at < this.ctx.callTimeoutMs) {
        this.watchCsmsStall();
        return;
      }
      // Decide after the event loop has read what is already waiting on the sockets: on a busy loop the answer may
      // be sitting in the socket buffer while this timer fires.
      setImmediate(() => this.csmsOverdue(up, first));
    }, wait);
  }

  private csmsOverdue(up: WebSocket, call: PendingStationCall): void {
    if (up !== this.upstream || this.ended) return;
    const entry = [...this.stationCalls].find(([, c]) => c === call);
    if (!entry) {
      this.watchCsmsStall();
      return;
    }
    this.ctx.metrics.errors++;
    if (this.lastFromUpstreamAt > call.at) {
      // The CSMS is talking, it just never answered this CALL: forget it (the station times out on its own).
      this.stationCalls.delete(entry[0]);
      this.log.warn({ messageId: entry[0], action: call.action }, `the CSMS did not answer within ${this.ctx.callTimeoutMs} ms; call forgotten`);
      this.watchCsmsStall();
      return;
    }
    this.log.warn({ action: call.action, pending: this.stationCalls.size },
      `the CSMS did not answer within ${this.ctx.callTimeoutMs} ms and sent nothing since; dropping its connection and answering the station locally`);
    up.terminate();
  }

  private scheduleReconnect(): void {
    if (this.ended || this.retired || this.reconnectSub) return;
    const delay = this.ctx.backoff(this.attempt++);
    this.reconnectSub = this.scheduler.schedule(() => {
      this.reconnectSub = undefined;
      void this.connectUpstream().then((socket) => {
        if (socket) this.attachUpstream(socket);
        else this.scheduleReconnect();
      });
    }, delay);
  }

  private onStationClose(code: number, reason: string): void {
    this.ended = true;
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.reconnectSub?.unsubscribe();
    this.stallCheck?.unsubscribe();
    this.forwarding.stopReplay();
    this.toStation?.timer.unsubscribe();
    const err = new Error(`station ${this.stationId} disconnected`);
    this.toStation?.reject?.(err);
    this.toStation = undefined;
    for (const c of this.ownQueue.splice(0)) c.reject?.(err);
    this.csmsQueue.length = 0;
    const up = this.upstream;
    this.upstream = undefined;
    if (up) {
      up.close(1000, 'station disconnected');
      this.announce('upstream', false, 'station disconnected');
    }
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
    const setVariableData = [{ component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' }, attributeValue: String(intervalS) }];
    this.inject('SetVariables', { setVariableData }, this.ctx.callTimeoutMs).then(
      (r) => this.log.info({ intervalS, result: r.setVariableResult }, 'heartbeat interval from the CSMS set on the station'),
      (err: Error) => this.log.warn({ intervalS, err: err.message }, 'could not set the CSMS heartbeat interval on the station'),
    );
  }

  // ---- helpers ------------------------------------------------------------------------------------------------

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
    if (!this.upstream) return;
    const out = encodeFrame(frame);
    this.journal('controller->csms', frame.type, out.length, this.scheduler.now(), { messageId: frame.messageId });
    this.upstream.send(out);
    this.ctx.metrics.framesOut++;
  }

  journal(direction: JournalDirection, kind: number, bytes: number, at: number, extra: { action?: string; messageId?: string; note?: string }): void {
    this.ctx.journal?.recordRow(at, this.stationId, direction, kind, extra.action, extra.messageId, bytes, extra.note);
  }
}

