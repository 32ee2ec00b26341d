// The CALLs toward one station. OCPP-J allows one outstanding CALL per direction, so the CSMS's calls and the
// controller's own share a single slot: the CSMS's go first (it is the station's operator), the controller's wait
// behind them, and each is given up after its timeout so one unanswered CALL never blocks the rest.
import { randomUUID } from 'node:crypto';
import type { RawData, WebSocket } from 'ws';
import type { SchedulerLike, Subscription } from 'rxjs';
import type { Logger } from '../common/log.js';
import type { CallFrame, Frame } from '../ocpp/frames.js';
import type { JournalDirection } from '../store/journal.js';
import { OcppCallError } from '../ocpp/errors.js';
import type { RelayContext } from './context.js';
import { size } from './raw-data.js';

/** A CSMS call counts as awaited (for late replies and crossings) up to this many reply timeouts after it was sent. */
const LATE_CSMS_FACTOR = 3;

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

/** What the calls need from their session. */
export interface StationCallsHost {
  /** The station has disconnected: nothing more is sent. */
  ended(): boolean;
  /** The socket toward the CSMS, if connected: a CSMS call's reply goes back on it. */
  upstream(): WebSocket | undefined;
  sendToStation(frame: Frame, now: number, direction?: JournalDirection): void;
  journal(direction: JournalDirection, kind: number, bytes: number, at: number, extra: { action?: string; messageId?: string; note?: string }): void;
}

export class StationCalls {
  private outstanding: (ToStationCall & { timer: Subscription }) | undefined;
  private readonly csmsQueue: ToStationCall[] = [];
  private readonly ownQueue: ToStationCall[] = [];
  /**
   * CSMS calls the relay stopped waiting for (its slot timer ran out) that the station has not answered, with when
   * they stop counting: the CSMS may still be waiting (its own timeout decides), so a late answer is still forwarded,
   * and until then a station CALL the CSMS holds is a crossing, not a dead CSMS (see UpstreamLink).
   */
  private readonly lateCsms = new Map<string, number>();
  private readonly scheduler: SchedulerLike;

  constructor(
    private readonly stationId: string,
    private readonly station: WebSocket,
    private readonly ctx: RelayContext,
    private readonly log: Logger,
    private readonly host: StationCallsHost,
  ) {
    this.scheduler = ctx.scheduler;
  }

  /** The controller's own CALL: queued behind CSMS calls, reply consumed here. */
  fromController(action: string, payload: Record<string, unknown>, timeoutMs: number): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      if (this.host.ended()) {
        reject(new Error(`station ${this.stationId} is not connected`));
        return;
      }
      this.ownQueue.push({ origin: 'controller', messageId: randomUUID(), action, payload, timeoutMs, resolve, reject });
      this.pump();
    });
  }

  /** A CSMS CALL for the station, forwarded unchanged (raw) when its turn comes. */
  fromCsms(frame: CallFrame, raw: RawData): void {
    this.csmsQueue.push({ origin: 'csms', messageId: frame.messageId, action: frame.action, payload: frame.payload, raw, timeoutMs: this.ctx.callTimeoutMs });
    this.pump();
  }

  /** The CSMS connection is lost: CSMS calls not yet delivered can never be answered to the CSMS, so drop them. */
  dropCsmsCalls(): void {
    this.csmsQueue.length = 0;
    this.lateCsms.clear();
  }

  /** A CSMS call was delivered to the station and the station has not answered it yet. */
  awaitingStationAnswer(): boolean {
    if (this.outstanding?.origin === 'csms') return true;
    const now = this.scheduler.now();
    for (const [id, until] of this.lateCsms) {
      if (until > now) return true;
      this.lateCsms.delete(id);
    }
    return false;
  }

  /** The station's CALLRESULT or CALLERROR: settles the outstanding call and sends the next. */
  answered(frame: Exclude<Frame, CallFrame>, data: RawData, now: number): void {
    const call = this.outstanding;
    if ((!call || call.messageId !== frame.messageId) && this.lateCsms.delete(frame.messageId)) {
      // Late, but the CSMS may still be waiting for it (its timeout is its own): forward it, the CSMS decides.
      this.log.info({ messageId: frame.messageId }, 'late reply from the station to a CSMS call forwarded');
      this.host.journal('station->csms', frame.type, size(data), now, { messageId: frame.messageId, note: 'late reply' });
      const upstream = this.host.upstream();
      if (upstream) {
        upstream.send(data, { binary: false });
        this.ctx.metrics.framesOut++;
      }
      return;
    }
    if (!call || call.messageId !== frame.messageId) {
      this.log.warn({ messageId: frame.messageId }, 'reply from station to no outstanding call dropped');
      this.host.journal('station->controller', frame.type, size(data), now, { messageId: frame.messageId, note: 'no outstanding call' });
      return;
    }
    this.outstanding = undefined;
    call.timer.unsubscribe();
    let error: { code: string; description: string } | undefined =
      frame.type === 4 ? { code: frame.code, description: frame.description } : undefined;
    if (frame.type === 3) {
      const invalid = this.ctx.adapter.validate(call.action, 'response', frame.payload);
      if (invalid) {
        this.log.warn({ messageId: frame.messageId, action: call.action, code: invalid.code }, `station reply fails the schema: ${invalid.description}`);
        if (call.origin === 'controller') error = invalid;
      }
    }
    const result = frame.type === 3 && !error ? frame.payload : undefined;
    if (call.origin === 'csms') {
      // The CSMS decides what to make of its station's reply: forward it unchanged.
      this.host.journal('station->csms', frame.type, size(data), now, { action: call.action, messageId: frame.messageId });
      const upstream = this.host.upstream();
      if (upstream) {
        upstream.send(data, { binary: false });
        this.ctx.metrics.framesOut++;
      }
      this.ctx.emitResult({ stationId: this.stationId, origin: 'csms', messageId: call.messageId, action: call.action, request: call.payload, result: frame.type === 3 ? frame.payload : undefined, error, at: now });
    } else {
      this.host.journal('station->controller', frame.type, size(data), now, { action: call.action, messageId: frame.messageId });
      this.ctx.emitResult({ stationId: this.stationId, origin: 'controller', messageId: call.messageId, action: call.action, request: call.payload, result, error, at: now });
      if (result) call.resolve?.(result);
      else call.reject?.(frame.type === 4 ? new OcppCallError(frame.code, frame.description, frame.details) : new OcppCallError(error!.code, error!.description));
    }
    this.pump();
  }

  /** The station disconnected: the outstanding call and the controller's queued ones fail with `err`. */
  end(err: Error): void {
    this.outstanding?.timer.unsubscribe();
    this.outstanding?.reject?.(err);
    this.outstanding = undefined;
    for (const c of this.ownQueue.splice(0)) c.reject?.(err);
    this.csmsQueue.length = 0;
    this.lateCsms.clear();
  }

  private pump(): void {
    if (this.outstanding || this.host.ended()) return;
    const next = this.csmsQueue.shift() ?? this.ownQueue.shift();
    if (!next) return;
    const now = this.scheduler.now();
    const timer = this.scheduler.schedule(() => {
      if (this.outstanding?.messageId !== next.messageId) return;
      this.outstanding = undefined;
      this.log.warn({ messageId: next.messageId, action: next.action, origin: next.origin }, 'station did not answer in time');
      if (next.origin === 'csms') {
        // Remembered for a while (a few of them at most): a late answer still goes to the CSMS.
        this.lateCsms.set(next.messageId, now + LATE_CSMS_FACTOR * this.ctx.callTimeoutMs);
        if (this.lateCsms.size > 16) this.lateCsms.delete(this.lateCsms.keys().next().value as string);
      }
      next.reject?.(new Error(`${next.action} to ${this.stationId} timed out after ${next.timeoutMs} ms`));
      this.pump();
    }, next.timeoutMs);
    this.outstanding = { ...next, timer };
    if (next.origin === 'csms' && next.raw) {
      this.host.journal('csms->station', 2, size(next.raw), now, { action: next.action, messageId: next.messageId });
      this.station.send(next.raw, { binary: false });
      this.ctx.metrics.framesOut++;
    } else {
      this.ctx.calls$.next({ stationId: this.stationId, origin: 'controller', messageId: next.messageId, action: next.action, payload: next.payload, at: now });
      this.host.sendToStation({ type: 2, messageId: next.messageId, action: next.action, payload: next.payload }, now, 'controller->station');
    }
  }
}
