// Virtual time for the site score and tests: an RxJS scheduler whose clock only moves when told to. The control loop
// and the simulated world take it as their SchedulerLike, so a 24 h scenario runs in seconds.
//
// Not rxjs's VirtualTimeScheduler: its VirtualAction creates a new child action on every periodic reschedule, so an
// `interval` running for a simulated day nests 86 400 subscriptions and unsubscribing overflows the stack. Here an
// action reschedules itself (like AsyncAction does on real time) and due actions sit in a binary heap.
import { Subscription, type SchedulerAction, type SchedulerLike } from 'rxjs';

/** Epoch ms of virtual day 1, 00:00 (UTC). A fixed Monday, so shapes that know weekdays are reproducible. */
export const VIRTUAL_EPOCH = Date.UTC(2026, 0, 5, 0, 0, 0);

interface Entry {
  due: number;
  seq: number;
  action: ClockAction<unknown>;
  version: number;
}

class ClockAction<T> extends Subscription implements SchedulerAction<T> {
  state?: T;
  version = 0;

  constructor(
    private readonly clock: VirtualClock,
    private readonly work: (this: SchedulerAction<T>, state?: T) => void,
  ) {
    super();
  }

  schedule(state?: T, delay = 0): Subscription {
    if (this.closed) return this;
    this.state = state;
    this.version++;
    this.clock.enqueue(this as ClockAction<unknown>, this.clock.now() + Math.max(0, Number.isFinite(delay) ? delay : 0));
    return this;
  }

  /** Runs the work once; an error closes the action and reaches whoever advanced the clock. */
  run(): void {
    try {
      this.work.call(this, this.state);
    } catch (err) {
      this.unsubscribe();
      throw err;
    }
  }

  override unsubscribe(): void {
    this.version++;
    super.unsubscribe();
  }
}

export class VirtualClock implements SchedulerLike {
  private t: number;
  private heap: Entry[] = [];
  private seq = 0;

  /** `epoch`: epoch ms the clock starts at (00:00 of virtual day 1 by default). */
  constructor(readonly epoch: number = VIRTUAL_EPOCH) {
    this.t = epoch;
  }

  now(): number {
    return this.t;
  }

  schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
    return new ClockAction<T>(this, work).schedule(state, delay);
  }

  /** @internal */
  enqueue(action: ClockAction<unknown>, due: number): void {
    this.push({ due, seq: this.seq++, action, version: action.version });
  }

  /** Runs every action due up to and including `ms` (epoch ms), in time order, then leaves the clock at `ms`. */
  advanceTo(ms: number): void {
    if (ms < this.t) throw new Error(`virtual time cannot go back (${ms} < ${this.t})`);
    for (;;) {
      const top = this.heap[0];
      if (!top || top.due > ms) break;
      this.pop();
      if (top.action.closed || top.version !== top.action.version) continue;
      this.t = Math.max(this.t, top.due);
      top.action.run();
    }
    this.t = ms;
  }

  advanceBy(ms: number): void {
    this.advanceTo(this.t + ms);
  }

  /** Actions waiting to run (for tests and leak checks). */
  pending(): number {
    return this.heap.filter((e) => !e.action.closed && e.version === e.action.version).length;
  }

  private less(a: Entry, b: Entry): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }

  private push(e: Entry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (!h.length) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l], h[m])) m = l;
      if (r < h.length && this.less(h[r], h[m])) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
}
