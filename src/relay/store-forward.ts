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
import { DEFAULT_PROTOCOL, type OcppProtocol } from '../ocpp/protocol.js';
import { forwardKey, forwardRule, retryDelayMs } from './forward-rules.js';

export interface StoreForwardHost {
  sendToStation(frame: Frame, now: number): void;
  /** The CSMS accepted the forwarded BootNotification with this heartbeat interval (s). */
  bootAccepted(intervalS: number): void;
  /** A CSMS call is at the station, unanswered: a replayed CALL the CSMS holds meanwhile is crossed, not stalled. */
  crossing(): boolean;
  journal(direction: JournalDirection, kind: number, bytes: number, at: number, extra: { action?: string; messageId?: string; note?: string }): void;
}

export class StoreAndForward {
  /** True from upstream connect until the queue is empty: live CALLs wait behind the queue meanwhile. */
  replaying = false;
  private upstream: WebSocket | undefined;
  /** messageId: the id the CALL went out with (the station's own, or a new one for a retry after a CALLERROR). */
  private inFlight: { msg: QueuedMessage; messageId: string; timer: Subscription; boot?: undefined } | { boot: PendingBoot; messageId: string; timer: Subscription; msg?: undefined } | undefined;
  /** Attempts at the head message (E13.FR.02): survives a reconnect so a refused message is not retried forever. */
  private attempts: { seq: number; count: number; lastId: string } | undefined;
  /** Waiting MessageAttemptInterval × attempt before the next attempt at the head. */
  private retryWait: Subscription | undefined;
  /** The head was refused: its next send is a new attempt (new id), not a resend of the one in doubt. */
  private retryDue = false;
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
    private readonly protocol: OcppProtocol = DEFAULT_PROTOCOL,
  ) {}

  /** CSMS unreachable (or the queue still replaying): queue what must reach it, answer the station for it. */
  answerOffline(frame: CallFrame, raw: string, now: number): void {
    const rule = forwardRule(frame.action, this.protocol);
    const transactional = rule !== undefined;
    if (rule) {
      const q = this.ctx.queue.enqueue(this.stationId, frame.messageId, frame.action, raw, now, forwardKey(rule, frame.payload));
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
    const answer = this.ctx.adapter.answerOffline(frame, now);
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
    this.retryWait?.unsubscribe();
    this.retryWait = undefined;
    this.upstream = undefined;
  }

  isReplayReply(messageId: string): boolean {
    return this.inFlight?.messageId === messageId;
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
    if (frame.type === 4) {
      this.refused(msg, inFlight.messageId, frame, request, now);
      return;
    }
    this.ctx.adapter.csmsAnswered(msg.action, msg.messageId, request, frame.payload, now, true);
    this.host.journal('csms->station', frame.type, 0, now, { action: msg.action, messageId: inFlight.messageId, note: 'replay answer, consumed' });
    this.ctx.queue.remove(msg);
    this.attempts = undefined;
    this.ctx.metrics.replayed++;
    this.replayedNow++;
    // 1.6 StartTransaction: published when answered locally, with the id the station uses; the CSMS's answer (its own
    // id) would announce a second transaction that the station's frames never name.
    if (!this.ctx.adapter.quietReplays?.has(msg.action)) {
      this.ctx.emitResult({ stationId: this.stationId, origin: 'station', messageId: msg.messageId, action: msg.action, request, result: frame.payload, at: now });
    }
    this.next();
  }

  /**
   * The CSMS answered a replayed message with a CALLERROR (e.g. RpcFrameworkError "Call already in progress": busy
   * with its own call to the station). The station was answered long ago and will not resend, so the controller
   * retries as the station would (E13.FR.02): up to upstream.offline.messageAttempts attempts, waiting
   * messageAttemptIntervalS × attempt before each. Then the message is set aside (kept, counted, shown), never
   * silently consumed, and the queue goes on (E13.FR.03).
   */
  private refused(msg: QueuedMessage, sentId: string, frame: Extract<Frame, { type: 4 }>, request: Record<string, unknown>, now: number): void {
    const count = this.attempts?.seq === msg.seq ? this.attempts.count : 1;
    const { messageAttempts, messageAttemptIntervalS } = this.ctx.config.upstream.offline;
    this.host.journal('csms->station', 4, 0, now, { action: msg.action, messageId: sentId, note: `replay refused (attempt ${count} of ${messageAttempts}): ${frame.code}` });
    if (count < messageAttempts) {
      const waitMs = retryDelayMs(count, messageAttemptIntervalS);
      this.log.warn({ messageId: msg.messageId, action: msg.action, code: frame.code, attempt: count, retryInMs: waitMs }, `CSMS refused a replayed message: ${frame.description}; retrying`);
      this.retryDue = true;
      this.retryWait = this.ctx.scheduler.schedule(() => {
        this.retryWait = undefined;
        this.next();
      }, waitMs);
      return;
    }
    this.ctx.queue.setAside(msg, `${frame.code}: ${frame.description}`, now);
    this.attempts = undefined;
    this.ctx.metrics.errors++;
    this.log.error({ messageId: msg.messageId, action: msg.action, code: frame.code, attempts: count },
      `CSMS refused a replayed message on every attempt: ${frame.description}; kept aside (forward_queue), the queue goes on`);
    this.ctx.emitResult({
      stationId: this.stationId, origin: 'station', messageId: msg.messageId, action: msg.action, request,
      error: { code: frame.code, description: frame.description }, at: now,
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
    if (!upstream || this.inFlight || this.bootRetry || this.retryWait) return;
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
    const { out: attemptText, messageId, again } = this.attempt(msg);
    const out = this.forCsms(attemptText);
    // No answer: drop the connection; the message stays at the head and is resent (same id) after reconnect.
    const timer = this.replyTimer(upstream, messageId, 'a replayed message');
    this.inFlight = { msg, messageId, timer };
    this.host.journal('controller->csms', 2, out.length, this.ctx.scheduler.now(), { action: msg.action, messageId, note: again ? 'replay, again' : 'replay' });
    upstream.send(out);
    this.ctx.metrics.framesOut++;
  }

  /**
   * The frame for the next attempt at the head. First attempt: the station's own frame. After a CALLERROR: a new CALL
   * (new id, same payload) — the CSMS has answered the old id. After a timeout or a lost socket: the frame last sent
   * again (in doubt; a resend keeps its id, Part 4 §4.1.4).
   */
  private attempt(msg: QueuedMessage): { out: string; messageId: string; again: boolean } {
    const a = this.attempts?.seq === msg.seq ? this.attempts : undefined;
    const retry = this.retryDue;
    this.retryDue = false;
    if (!a) {
      this.attempts = { seq: msg.seq, count: 1, lastId: msg.messageId };
      return { out: msg.frame, messageId: msg.messageId, again: false };
    }
    const messageId = retry ? randomUUID() : a.lastId;
    if (retry) this.attempts = { seq: msg.seq, count: a.count + 1, lastId: messageId };
    if (messageId === msg.messageId) return { out: msg.frame, messageId, again: true };
    const [, , action, payload] = JSON.parse(msg.frame) as [number, string, string, Record<string, unknown>];
    return { out: JSON.stringify([2, messageId, action, payload]), messageId, again: true };
  }

  /** A queued frame as it goes to the CSMS: unchanged, unless its protocol must translate it (1.6: local transaction ids). */
  private forCsms(text: string): string {
    const rewrite = this.ctx.adapter.rewriteForCsms;
    if (!rewrite) return text;
    const [, messageId, action, payload] = JSON.parse(text) as [number, string, string, Record<string, unknown>];
    return rewrite({ type: 2, messageId, action, payload }) ?? text;
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
    const timer = this.replyTimer(upstream, messageId, 'the forwarded BootNotification');
    this.inFlight = { boot, messageId, timer };
    this.host.journal('controller->csms', 2, out.length, this.ctx.scheduler.now(), { action: 'BootNotification', messageId, note: 'boot sent during the outage' });
    upstream.send(out);
    this.ctx.metrics.framesOut++;
  }

  /**
   * Waits upstream.callTimeoutS for the CSMS's answer, then drops the socket — unless the calls are crossed (a CSMS
   * call still awaits the station's answer; the CSMS may hold ours until then): the wait then starts again.
   */
  private replyTimer(upstream: WebSocket, messageId: string, what: string): Subscription {
    const sub = this.ctx.scheduler.schedule(() => {
      if (this.inFlight?.messageId !== messageId) return;
      if (this.host.crossing()) {
        this.log.info({ messageId }, `crossed calls: the CSMS awaits the station's answer to its own call; still waiting for its answer to ${what}`);
        this.inFlight.timer = this.replyTimer(upstream, messageId, what);
        return;
      }
      this.log.warn({ messageId }, `CSMS did not answer ${what}; reconnecting`);
      upstream.close(1011, 'reply timeout');
    }, this.ctx.callTimeoutMs);
    return sub;
  }
}
