// How fast one station may send: a token bucket (stations.rateLimit: framesPerS sustained, burst). A station over it
// has its socket paused and the frames already read wait in a backlog, handled as the rate allows, so a flood reaches
// neither the CSMS nor the journal faster than the limit and costs the others nothing. A station that keeps one CALL
// outstanding (as OCPP-J requires) never builds a backlog beyond a frame or two, and its backlog empties between its
// CALLs, even replaying its own queue; one that piles up more than MAX_BACKLOG frames while paused, or whose backlog
// never empties for burst/framesPerS seconds (2..10 s), sends without waiting for answers: it is flooding and is cut
// off.
// Time comes from the session's scheduler (virtual time in the simulator).
import type { SchedulerLike, Subscription } from 'rxjs';
import type { RawData } from 'ws';
import type { StationRateLimit } from '../config/types.js';

export class FrameRate {
  private tokens: number;
  private last: number;

  constructor(private readonly framesPerS: number, private readonly burst: number, now: number) {
    this.tokens = burst;
    this.last = now;
  }

  /** Takes one frame; returns 0 when within the rate, else how long (ms) to stop reading to be back within it. */
  take(now: number): number {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.framesPerS);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil(((1 - this.tokens) / this.framesPerS) * 1000);
  }
}

/** Frames read while paused beyond which a station is flooding (it keeps one CALL outstanding otherwise). */
export const MAX_BACKLOG = 32;

export interface RateGateHost {
  handle(data: RawData, isBinary: boolean): void;
  ended(): boolean;
  /** Stop reading the socket (for about waitMs). */
  pause(waitMs: number): void;
  resume(): void;
  /** The station sends without waiting for answers (see MAX_BACKLOG): disconnect. */
  flooding(): void;
}

export class RateGate {
  private readonly rate: FrameRate;
  private backlog: [RawData, boolean][] | undefined;
  private timer: Subscription | undefined;
  private cut = false;
  /** When the backlog last went from empty to non-empty. */
  private backlogSince = 0;
  private readonly floodAfterMs: number;

  constructor(private readonly limit: StationRateLimit, private readonly scheduler: SchedulerLike, private readonly host: RateGateHost) {
    this.rate = new FrameRate(limit.framesPerS, limit.burst, scheduler.now());
    this.floodAfterMs = Math.min(10_000, Math.max(2000, (limit.burst / limit.framesPerS) * 1000));
  }

  received(data: RawData, isBinary: boolean): void {
    if (this.cut || this.host.ended()) return;
    if (this.backlog) {
      this.backlog.push([data, isBinary]);
      if (this.backlog.length > MAX_BACKLOG) this.flooding();
      return;
    }
    const waitMs = this.rate.take(this.scheduler.now());
    if (waitMs === 0) {
      this.host.handle(data, isBinary);
      return;
    }
    this.backlog = [[data, isBinary]];
    this.backlogSince = this.scheduler.now();
    this.host.pause(waitMs);
    this.timer = this.scheduler.schedule(() => this.drain(true), waitMs);
  }

  private flooding(): void {
    // Frames still arriving before the socket closes are dropped: the station is being disconnected.
    this.stop();
    this.cut = true;
    this.host.flooding();
  }

  stop(): void {
    this.timer?.unsubscribe();
    this.timer = undefined;
    this.backlog = undefined;
  }

  /** Handles the backlog as the rate allows; `paid`: its first frame took its token when it arrived. */
  private drain(paid: boolean): void {
    this.timer = undefined;
    const backlog = this.backlog;
    if (!backlog) return;
    while (backlog.length > 0) {
      if (this.host.ended()) return;
      const waitMs = paid ? 0 : this.rate.take(this.scheduler.now());
      paid = false;
      if (waitMs > 0) {
        if (this.scheduler.now() - this.backlogSince > this.floodAfterMs) {
          this.flooding();
          return;
        }
        // The token was taken: the frame is handled when the timer fires.
        this.timer = this.scheduler.schedule(() => this.drain(true), waitMs);
        return;
      }
      const [data, isBinary] = backlog.shift()!;
      this.host.handle(data, isBinary);
    }
    this.backlog = undefined;
    this.host.resume();
  }
}
