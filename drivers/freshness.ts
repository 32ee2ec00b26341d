// The one place that decides a reading's quality over time, shared by the Modbus and OPC UA devices: good values
// go out as good; failures go out as bad while the device is still within its stale time, and as stale after it
// (with empty values: the last good values are never repeated as if they were current).
import { Subject, type Observable, type SchedulerLike } from 'rxjs';
import type { DriverLogger } from './log.js';
import { checkPlausible } from './plausibility.js';
import type { MeasuredValues, Quality, Reading } from './types.js';

export class ReadingEmitter {
  private readonly subject = new Subject<Reading>();
  private lastAnswerAt: number;
  private lastQuality: Quality | undefined;
  private lastReason: string | undefined;
  private last: Reading | undefined;

  constructor(
    readonly deviceId: string,
    private readonly scheduler: SchedulerLike,
    private readonly staleMs: number,
    private readonly log: DriverLogger,
  ) {
    // Counting from creation: a device that never answers goes stale after staleMs, like one that stopped.
    this.lastAnswerAt = scheduler.now();
  }

  get readings$(): Observable<Reading> {
    return this.subject.asObservable();
  }

  /** The most recent reading, for late subscribers that need a starting point. */
  get latest(): Reading | undefined {
    return this.last;
  }

  /** The device answered with these values; `problems` lists values it could not give (makes the reading bad). */
  answered(values: MeasuredValues, problems: string[] = []): void {
    this.lastAnswerAt = this.scheduler.now();
    this.emitChecked(values, problems);
  }

  private emitChecked(values: MeasuredValues, problems: string[]): void {
    const checked = checkPlausible(values);
    const all = [...problems, ...checked.problems];
    if (all.length === 0) this.emit('good', checked.values);
    else this.emit('bad', checked.values, all.join('; '));
  }

  /** The device showed it is alive (an OPC UA keep-alive) without new values. */
  heard(): void {
    this.lastAnswerAt = this.scheduler.now();
  }

  /**
   * Publishes values still current by the device's own account (an OPC UA subscription that is alive reports only
   * changes, so unchanged values stay valid). Once the device is stale, a stale reading goes out instead.
   */
  republish(values: MeasuredValues, problems: string[] = []): void {
    if (this.isStale()) {
      this.checkStale('no answer');
      return;
    }
    this.emitChecked(values, problems);
  }

  /** No usable answer this time (timeout, refused, disconnected). */
  failed(reason: string): void {
    this.emit(this.isStale() ? 'stale' : 'bad', {}, reason);
  }

  /** Called on every poll tick: turns silence into a stale reading once the stale time has passed. */
  checkStale(reason = 'no answer'): boolean {
    if (!this.isStale()) return false;
    if (this.lastQuality !== 'stale') this.emit('stale', {}, reason);
    return true;
  }

  isStale(): boolean {
    return this.scheduler.now() - this.lastAnswerAt >= this.staleMs;
  }

  complete(): void {
    this.subject.complete();
  }

  private emit(quality: Quality, values: MeasuredValues, reason?: string): void {
    const reading: Reading = { deviceId: this.deviceId, at: this.scheduler.now(), quality, values: quality === 'stale' ? {} : values };
    if (reason !== undefined && quality !== 'good') reading.reason = reason;
    if (quality !== this.lastQuality || (quality !== 'good' && reason !== this.lastReason)) {
      const ctx = { device: this.deviceId, quality, reason };
      if (quality === 'good') this.log.info(ctx, 'device readings good');
      else this.log.warn(ctx, `device readings ${quality}`);
    }
    this.lastQuality = quality;
    this.lastReason = reason;
    this.last = reading;
    this.subject.next(reading);
  }
}
