// Counts failed attempts (passwords) per key — a source address, an identity, a user name — and blocks a key with a
// growing back-off once it has failed too often. Successes are never counted. Bounded: at most `maxKeys` keys are
// kept (the oldest are forgotten first), so made-up identities or addresses cannot grow memory.
export interface FailureLimiterOptions {
  /** Failures allowed within `windowMs` before the key is blocked. */
  maxFailures: number;
  /** A key with no failure for this long starts again from zero (ms). */
  windowMs: number;
  /** First block (ms); doubles with every further failure, up to maxBlockMs. */
  baseBlockMs: number;
  maxBlockMs: number;
  /** Keys remembered at most. */
  maxKeys: number;
  now: () => number;
}

interface Entry { failures: number; lastFailureAt: number; blockedUntil: number }

export class FailureLimiter {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly o: FailureLimiterOptions) {}

  /** Milliseconds the key must still wait; 0 when it may try. */
  blockedForMs(key: string): number {
    const e = this.live(key);
    return e ? Math.max(0, e.blockedUntil - this.o.now()) : 0;
  }

  /** Whether the key has failed recently (within the window). */
  hasFailed(key: string): boolean {
    return this.live(key) !== undefined;
  }

  /** Records a failure; returns how long the key is now blocked for (0 = not blocked). */
  fail(key: string): number {
    const now = this.o.now();
    const e = this.live(key) ?? { failures: 0, lastFailureAt: now, blockedUntil: 0 };
    e.failures++;
    e.lastFailureAt = now;
    const over = e.failures - this.o.maxFailures;
    if (over >= 0) e.blockedUntil = now + Math.min(this.o.maxBlockMs, this.o.baseBlockMs * 2 ** Math.min(over, 30));
    // Re-inserted so Map order is least-recently-failed first, the eviction order.
    this.entries.delete(key);
    this.entries.set(key, e);
    while (this.entries.size > this.o.maxKeys) this.entries.delete(this.entries.keys().next().value as string);
    return Math.max(0, e.blockedUntil - now);
  }

  /** A success clears the key's failures. */
  succeed(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  private live(key: string): Entry | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    const now = this.o.now();
    if (now - e.lastFailureAt > this.o.windowMs && now >= e.blockedUntil) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }
}
