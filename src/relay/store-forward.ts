// Store-and-forward for one station (errata 2025-09 §4.13, option B). While its upstream is down, or its queue is
// still being replayed, the station's CALLs are answered here; transaction-related ones are committed to the
// durable queue first. On reconnect the queue is replayed verbatim, one CALL at a time, before live traffic.
import type { Subscription } from 'rxjs';
import type { WebSocket } from 'ws';
import type { Logger } from '../common/log.js';
import { callError, type CallFrame, type Frame } from '../ocpp/frames.js';
import type { JournalDirection } from '../store/journal.js';
import type { QueuedMessage } from '../store/queue.js';
import type { RelayContext } from './context.js';
import { answerLocally, learnTokens, TRANSACTION_RELATED } from './offline.js';

export interface StoreForwardHost {
  sendToStation(frame: Frame, now: number): void;
  journal(direction: JournalDirection, kind: number, bytes: number, at: number, extra: { action?: string; messageId?: string; note?: string }): void;
}

export class StoreAndForward {
  /** True from upstream connect until the queue is empty: live CALLs wait behind the queue meanwhile. */
  replaying = false;
  private upstream: WebSocket | undefined;
  private inFlight: { msg: QueuedMessage; timer: Subscription } | undefined;
  private replayedNow = 0;

  constructor(
    private readonly stationId: string,
    private readonly ctx: RelayContext,
    private readonly log: Logger,
    private readonly host: StoreForwardHost,
  ) {}

  /** CSMS unreachable (or the queue still replaying): queue what must reach it, answer the station for it. */
  answerOffline(frame: CallFrame, raw: string, now: number): void {
    const transactional = TRANSACTION_RELATED.has(frame.action);
    if (transactional) {
      const q = this.ctx.queue.enqueue(this.stationId, frame.messageId, frame.action, raw, now);
      if (!q.queued) {
        // Not acknowledged: the station keeps the message and retries it; nothing is dropped silently.
        this.log.warn({ messageId: frame.messageId, action: frame.action }, q.reason);
        this.ctx.metrics.errors++;
        this.host.journal('station->controller', 2, raw.length, now, { action: frame.action, messageId: frame.messageId, note: 'queue full' });
        this.host.sendToStation(callError(frame.messageId, 'GenericError', q.reason), now);
        return;
      }
      this.ctx.metrics.queued++;
      const n = this.ctx.queue.length(this.stationId);
      // The operator sees the queue grow without a line per message: at 1, 10, 100, 1000 and every 1000 after.
      if (n === 1 || n === 10 || n === 100 || n % 1000 === 0) this.log.info({ queued: n }, 'messages queued for the CSMS');
    }
    const answer = answerLocally(frame.action, frame.payload, this.ctx.authCache, this.ctx.offline, now);
    this.host.journal('station->controller', 2, raw.length, now, {
      action: frame.action, messageId: frame.messageId, note: transactional ? 'queued, answered locally' : 'answered locally',
    });
    this.ctx.metrics.localAnswers++;
    const base = { stationId: this.stationId, origin: 'station' as const, messageId: frame.messageId, action: frame.action, request: frame.payload, answeredLocally: true, at: now };
    if ('result' in answer) {
      this.host.sendToStation({ type: 3, messageId: frame.messageId, payload: answer.result }, now);
      this.ctx.emitResult({ ...base, result: answer.result });
    } else {
      this.host.sendToStation(callError(frame.messageId, answer.error.code, answer.error.description), now);
      this.ctx.emitResult({ ...base, error: answer.error });
    }
  }

  /** The upstream socket is open: replay the queue before anything newer. */
  startReplay(upstream: WebSocket): void {
    this.upstream = upstream;
    this.replaying = true;
    this.replayedNow = 0;
    const queued = this.ctx.queue.length(this.stationId);
    if (queued > 0) this.log.info({ queued }, 'CSMS connection up; replaying queued messages before live traffic');
    this.next();
  }

  /** The upstream socket closed: the message in flight stays at the head and is resent (same id) next time. */
  stopReplay(): void {
    this.inFlight?.timer.unsubscribe();
    this.inFlight = undefined;
    this.upstream = undefined;
  }

  isReplayReply(messageId: string): boolean {
    return this.inFlight?.msg.messageId === messageId;
  }

  replayAnswered(frame: Exclude<Frame, CallFrame>, now: number): void {
    const { msg, timer } = this.inFlight!;
    timer.unsubscribe();
    this.inFlight = undefined;
    const request = (JSON.parse(msg.frame) as [number, string, string, Record<string, unknown>])[3];
    if (frame.type === 3) learnTokens(msg.action, request, frame.payload, this.ctx.authCache, now);
    // A CALLERROR is the CSMS's final word on that message; keeping it would block the queue forever.
    else this.log.warn({ messageId: msg.messageId, code: frame.code }, `CSMS refused a replayed message: ${frame.description}`);
    this.host.journal('csms->station', frame.type, 0, now, { action: msg.action, messageId: msg.messageId, note: 'replay answer, consumed' });
    this.ctx.queue.remove(msg);
    this.ctx.metrics.replayed++;
    this.replayedNow++;
    this.ctx.emitResult({
      stationId: this.stationId, origin: 'station', messageId: msg.messageId, action: msg.action, request,
      result: frame.type === 3 ? frame.payload : undefined,
      error: frame.type === 4 ? { code: frame.code, description: frame.description } : undefined, at: now,
    });
    this.next();
  }

  private next(): void {
    const upstream = this.upstream;
    if (!upstream || this.inFlight) return;
    const msg = this.ctx.queue.head(this.stationId);
    if (!msg) {
      if (this.replaying && this.replayedNow > 0) this.log.info({ replayed: this.replayedNow }, 'store-and-forward queue empty, forwarding live');
      this.replaying = false;
      return;
    }
    const timer = this.ctx.scheduler.schedule(() => {
      // No answer: drop the connection; the message stays at the head and is resent (same id) after reconnect.
      this.log.warn({ messageId: msg.messageId }, 'CSMS did not answer a replayed message; reconnecting');
      upstream.close(1011, 'reply timeout');
    }, this.ctx.callTimeoutMs);
    this.inFlight = { msg, timer };
    this.host.journal('controller->csms', 2, msg.frame.length, this.ctx.scheduler.now(), { action: msg.action, messageId: msg.messageId, note: 'replay' });
    upstream.send(msg.frame);
    this.ctx.metrics.framesOut++;
  }
}
