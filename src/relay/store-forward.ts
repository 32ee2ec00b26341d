// Store-and-forward for one station (errata 2025-09 §4.13, option B). While its upstream is down, or its queue is
// still being replayed, the station's CALLs are answered here; transaction-related ones are committed to the
// durable queue first. On reconnect the queue is replayed verbatim, one CALL at a time, before live traffic.
// A BootNotification answered locally is kept too and goes to the CSMS first on reconnect: a station that rebooted
// during the outage would have told the CSMS so itself, and the CSMS must not be able to tell the controller is there.
import { randomUUID } from 'node:crypto';
import type { Subscription } from 'rxjs';
import type { WebSocket } from 'ws';
import type { Logger } from '../common/log.js';
import { callError, type CallFrame, type Frame } from '../ocpp/frames.js';
import type { JournalDirection } from '../store/journal.js';
import type { PendingBoot, QueuedMessage } from '../store/queue.js';
import type { RelayContext } from './context.js';
import { answerLocally, learnTokens, TRANSACTION_RELATED } from './offline.js';

export interface StoreForwardHost {
  sendToStation(frame: Frame, now: number): void;
  /** The CSMS accepted the forwarded BootNotification with this heartbeat interval (s). */
  bootAccepted(intervalS: number): void;
  journal(direction: JournalDirection, kind: number, bytes: number, at: number, extra: { action?: string; messageId?: string; note?: string }): void;
}

export class StoreAndForward {
  /** True from upstream connect until the queue is empty: live CALLs wait behind the queue meanwhile. */
  replaying = false;
  private upstream: WebSocket | undefined;
  private inFlight: { msg: QueuedMessage; timer: Subscription; boot?: undefined } | { boot: PendingBoot; messageId: string; timer: Subscription; msg?: undefined } | undefined;
  private replayedNow = 0;
  /** The CSMS answered the forwarded boot Pending or Rejected: it is sent again after the interval it gave. */
  private bootRetry: Subscription | undefined;
  /** The station's id of the last boot sent on this connection: sending that boot again is a new CALL, new id. */
  private bootSent: string | undefined;

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
    // Committed before the station is answered, like the queue: a SIGKILL right after must not lose it.
    if (frame.action === 'BootNotification') {
      try {
        this.ctx.queue.setBoot(this.stationId, frame.messageId, raw, now);
      } catch (err) {
        // Disk full or read-only: the station is still answered (refusing its boot helps nobody); only the CSMS will
        // not hear of this boot.
        this.ctx.metrics.errors++;
        this.log.error({ messageId: frame.messageId, err: (err as Error).message }, 'could not keep the BootNotification for the CSMS');
      }
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
    this.bootSent = undefined;
    const queued = this.ctx.queue.length(this.stationId);
    const boot = this.ctx.queue.pendingBoot(this.stationId) !== undefined;
    if (queued > 0 || boot) this.log.info({ queued, boot }, 'CSMS connection up; forwarding what the station sent during the outage before live traffic');
    this.next();
  }

  /** The upstream socket closed: the message in flight stays at the head and is resent (same id) next time. */
  stopReplay(): void {
    this.inFlight?.timer.unsubscribe();
    this.inFlight = undefined;
    this.bootRetry?.unsubscribe();
    this.bootRetry = undefined;
    this.upstream = undefined;
  }

  isReplayReply(messageId: string): boolean {
    const f = this.inFlight;
    return f !== undefined && (f.msg ? f.msg.messageId : f.messageId) === messageId;
  }

  replayAnswered(frame: Exclude<Frame, CallFrame>, now: number): void {
    const inFlight = this.inFlight!;
    inFlight.timer.unsubscribe();
    this.inFlight = undefined;
    if (inFlight.boot) {
      this.bootAnswered(inFlight.boot, inFlight.messageId, frame, now);
      return;
    }
    const msg = inFlight.msg;
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

  /**
   * Accepted: the queue follows. Pending / Rejected: the CSMS does not take transaction messages yet, so the queue
   * waits and the boot is sent again after the interval the CSMS gave (as the station would). A CALLERROR is final.
   */
  private bootAnswered(boot: PendingBoot, messageId: string, frame: Exclude<Frame, CallFrame>, now: number): void {
    // Not published on results$: the boot was published when it was answered locally, and a second "Accepted" now
    // would make the control loop treat the station as just restarted (forgetting what it set since).
    this.host.journal('csms->station', frame.type, 0, now, { action: 'BootNotification', messageId, note: 'boot answer, consumed' });
    const status = frame.type === 3 ? frame.payload.status : undefined;
    const interval = frame.type === 3 && typeof frame.payload.interval === 'number' ? frame.payload.interval : 0;
    if (frame.type === 3 && (status === 'Pending' || status === 'Rejected')) {
      const waitS = interval > 0 ? interval : this.ctx.offline.heartbeatIntervalS;
      this.log.warn({ messageId, status, retryInS: waitS }, 'the CSMS did not accept the forwarded BootNotification; the queue waits, boot again later');
      this.bootRetry = this.ctx.scheduler.schedule(() => {
        this.bootRetry = undefined;
        this.next();
      }, waitS * 1000);
      return;
    }
    this.ctx.queue.clearBoot(this.stationId, boot.messageId);
    if (frame.type === 4) this.log.warn({ messageId, code: frame.code }, `CSMS refused the forwarded BootNotification: ${frame.description}`);
    else {
      this.log.info({ messageId, interval }, 'the CSMS accepted the BootNotification the station sent during the outage');
      if (interval > 0) this.host.bootAccepted(interval);
    }
    this.next();
  }

  private next(): void {
    const upstream = this.upstream;
    if (!upstream || this.inFlight || this.bootRetry) return;
    const boot = this.ctx.queue.pendingBoot(this.stationId);
    if (boot) {
      this.sendBoot(upstream, boot);
      return;
    }
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

  /** The station's own frame the first time (the CSMS never saw its id); a retry after Pending is a new CALL. */
  private sendBoot(upstream: WebSocket, boot: PendingBoot): void {
    let messageId = boot.messageId;
    let out = boot.frame;
    if (this.bootSent === boot.messageId) {
      messageId = randomUUID();
      const payload = (JSON.parse(boot.frame) as [number, string, string, Record<string, unknown>])[3];
      out = JSON.stringify([2, messageId, 'BootNotification', payload]);
    }
    this.bootSent = boot.messageId;
    const timer = this.ctx.scheduler.schedule(() => {
      this.log.warn({ messageId }, 'CSMS did not answer the forwarded BootNotification; reconnecting');
      upstream.close(1011, 'reply timeout');
    }, this.ctx.callTimeoutMs);
    this.inFlight = { boot, messageId, timer };
    this.host.journal('controller->csms', 2, out.length, this.ctx.scheduler.now(), { action: 'BootNotification', messageId, note: 'boot sent during the outage' });
    upstream.send(out);
    this.ctx.metrics.framesOut++;
  }
}
