// One station's socket toward the CSMS: attaching it, noticing when it closes or the CSMS stalls on it, and
// reconnecting with back-off. The station's CALLs forwarded on it wait here for the CSMS's answer; when the socket is
// lost they are answered locally by store-and-forward.
import type { RawData, WebSocket } from 'ws';
import type { SchedulerLike, Subscription } from 'rxjs';
import type { Logger } from '../common/log.js';
import type { CallFrame } from '../ocpp/frames.js';
import type { RelayContext } from './context.js';
import { text } from './raw-data.js';
import type { StoreAndForward } from './store-forward.js';

/** A station CALL forwarded to the CSMS and not answered yet. */
export interface PendingStationCall {
  action: string;
  payload: Record<string, unknown>;
  raw: RawData;
  at: number;
  /** The station sent the same id again while this one was in flight: that many more answers are expected. */
  repeats?: number;
}
// `at` restarts when a crossing is found (see csmsOverdue).

/** What the link needs from its session. */
export interface UpstreamLinkHost {
  /** A frame arrived on the current socket, at `now`. */
  fromCsms(data: RawData, isBinary: boolean, now: number): void;
  frameFailed(err: unknown): void;
  announce(up: boolean, reason?: string): void;
  /** The socket was lost while the station is still connected (CSMS calls for the station are now moot). */
  lost(): void;
  /** A CSMS call is at the station and not answered yet: a station CALL the CSMS holds meanwhile is a crossing. */
  crossing(): boolean;
}

export class UpstreamLink {
  private ws: WebSocket | undefined;
  private readonly pending = new Map<string, PendingStationCall>();
  /** Station CALLs the stall rule stopped waiting for: the station may still be waiting, so a late answer goes on. */
  private readonly forgotten = new Map<string, PendingStationCall>();
  private reconnectSub: Subscription | undefined;
  /** Watches the oldest station CALL the CSMS has not answered (see watchCsmsStall). */
  private stallCheck: Subscription | undefined;
  /** When the socket last delivered a frame (tells a stalled CSMS from one that ignored one CALL). */
  private lastFromUpstreamAt = 0;
  private attempt = 0;
  /** The session is over (station gone, or replaced by a newer connection): no new socket, no reconnect. */
  private stopped = false;
  private readonly scheduler: SchedulerLike;

  constructor(
    private readonly ctx: RelayContext,
    private readonly log: Logger,
    private readonly forwarding: StoreAndForward,
    /** Opens this station's upstream socket (with its credentials) — used to reconnect. */
    private readonly connectUpstream: () => Promise<WebSocket | undefined>,
    private readonly host: UpstreamLinkHost,
  ) {
    this.scheduler = ctx.scheduler;
  }

  get socket(): WebSocket | undefined {
    return this.ws;
  }

  attach(socket: WebSocket): void {
    if (this.stopped) {
      socket.close(1000);
      return;
    }
    this.ws = socket;
    this.attempt = 0;
    socket.on('message', (data: RawData, isBinary: boolean) => {
      try {
        this.received(socket, data, isBinary);
      } catch (err) {
        this.host.frameFailed(err);
      }
    });
    socket.on('error', (err: Error) => this.log.warn({ err: err.message }, 'upstream socket error'));
    socket.once('close', (code: number) => this.onClose(socket, code));
    this.host.announce(true);
    this.forwarding.startReplay(socket);
  }

  /** A station CALL has just been sent on the socket: wait for the CSMS's answer (and watch for a stall). */
  awaitAnswer(frame: CallFrame, raw: RawData, now: number): void {
    // A station that reuses an id still in flight (a protocol error) gets every answer the CSMS gives, as directly.
    const same = this.pending.get(frame.messageId);
    if (same) {
      same.repeats = (same.repeats ?? 0) + 1;
      return;
    }
    this.pending.set(frame.messageId, { action: frame.action, payload: frame.payload, raw, at: now });
    this.watchCsmsStall();
  }

  /** Whether a station CALL with this message id is still waiting for the CSMS's answer. */
  isPending(messageId: string): boolean {
    return this.pending.has(messageId);
  }

  /** The CSMS answered `messageId`: the station CALL it answers, if one was waiting. */
  answered(messageId: string): PendingStationCall | undefined {
    const waiting = this.pending.get(messageId);
    if (waiting?.repeats) {
      waiting.repeats--;
      return waiting;
    }
    if (waiting) this.pending.delete(messageId);
    // Forgotten calls are rare (a CSMS that ignored one): no lookups on the usual path.
    if (this.forgotten.size === 0) return waiting;
    const call = waiting ?? this.forgotten.get(messageId);
    this.forgotten.delete(messageId);
    return call;
  }

  scheduleReconnect(): void {
    if (this.stopped || this.reconnectSub) return;
    const delay = this.ctx.backoff(this.attempt++);
    this.reconnectSub = this.scheduler.schedule(() => {
      this.reconnectSub = undefined;
      void this.connectUpstream().then((socket) => {
        if (socket) this.attach(socket);
        else this.scheduleReconnect();
      });
    }, delay);
  }

  /** The session is over: no reconnect, no stall check, and a socket that opens late is closed. */
  stop(): void {
    this.stopped = true;
    this.reconnectSub?.unsubscribe();
    this.reconnectSub = undefined;
    this.stallCheck?.unsubscribe();
  }

  /** Detaches the socket and closes it quietly (its close is no longer this link's concern); true if there was one. */
  close(code: number, reason: string): boolean {
    const up = this.ws;
    this.ws = undefined;
    up?.close(code, reason);
    return up !== undefined;
  }

  terminate(): void {
    this.ws?.terminate();
  }

  private received(socket: WebSocket, data: RawData, isBinary: boolean): void {
    if (socket !== this.ws) return;
    const now = this.scheduler.now();
    this.lastFromUpstreamAt = now;
    this.host.fromCsms(data, isBinary, now);
  }

  private onClose(socket: WebSocket, code: number): void {
    if (socket !== this.ws) return;
    this.ws = undefined;
    this.forwarding.stopReplay();
    this.stallCheck?.unsubscribe();
    this.stallCheck = undefined;
    this.host.announce(false, `closed (${code})`);
    // Stopped with this socket still attached only when the station has gone (a replaced session detaches it first).
    if (this.stopped) return;
    this.log.warn({ code }, 'CSMS connection lost; answering the station locally');
    // Station CALLs the CSMS never answered: answer them now (transaction-related ones are queued first).
    const now = this.scheduler.now();
    for (const [messageId, c] of this.pending) this.forwarding.answerOffline({ type: 2, messageId, action: c.action, payload: c.payload }, text(c.raw), now);
    this.pending.clear();
    this.forgotten.clear();
    this.host.lost();
    this.scheduleReconnect();
  }

  /**
   * A CSMS that keeps its socket open but stops answering is treated like a lost connection: when a station CALL has
   * waited upstream.callTimeoutS, the upstream socket is dropped, so every unanswered CALL is answered locally
   * (transaction messages queued for replay, as in an outage) and the relay reconnects. One timer per session, on the
   * oldest unanswered CALL (Map order = arrival order), not one per CALL.
   */
  private watchCsmsStall(): void {
    if (this.stallCheck || this.pending.size === 0) return;
    const oldest = this.pending.values().next().value as PendingStationCall;
    const wait = Math.max(0, oldest.at + this.ctx.callTimeoutMs - this.scheduler.now());
    this.stallCheck = this.scheduler.schedule(() => {
      this.stallCheck = undefined;
      const first = this.pending.values().next().value as PendingStationCall | undefined;
      const up = this.ws;
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
    if (up !== this.ws || this.stopped) return;
    const entry = [...this.pending].find(([, c]) => c === call);
    if (!entry) {
      this.watchCsmsStall();
      return;
    }
    if (this.host.crossing()) {
      // Crossed calls, not a dead CSMS: the CSMS may hold the station's CALL until the station answers its own (some
      // CSMSs do). Each peer's own timeout resolves that; dropping the socket here would answer the station locally,
      // replay the CALL (a duplicate at the CSMS) and lose the station's answer. The wait restarts: once the station
      // has answered, the CSMS gets a full reply timeout again.
      this.log.info({ messageId: entry[0], action: call.action }, 'crossed calls: the CSMS awaits the station\'s answer to its own call; still waiting');
      call.at = this.scheduler.now();
      this.watchCsmsStall();
      return;
    }
    this.ctx.metrics.errors++;
    if (this.lastFromUpstreamAt > call.at) {
      // The CSMS is talking, it just never answered this CALL: forget it (the station times out on its own).
      this.pending.delete(entry[0]);
      this.forgotten.set(entry[0], call);
      if (this.forgotten.size > 16) this.forgotten.delete(this.forgotten.keys().next().value as string);
      this.log.warn({ messageId: entry[0], action: call.action }, `the CSMS did not answer within ${this.ctx.callTimeoutMs} ms; call forgotten`);
      this.watchCsmsStall();
      return;
    }
    this.log.warn({ action: call.action, pending: this.pending.size },
      `the CSMS did not answer within ${this.ctx.callTimeoutMs} ms and sent nothing since; dropping its connection and answering the station locally`);
    up.terminate();
  }
}
