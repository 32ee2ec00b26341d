// Publishes the effective site limit: min(config fuse, CSMS ChargingStationMaxProfile in force now, external limits),
// re-evaluated exactly when a profile period starts or ends or a validity bound passes (timers on the injected
// scheduler) and whenever a limit changes. Emits only when the result differs from the last one.
import { ReplaySubject, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import type { PhaseVector } from '../../algorithms/types.js';
import type { SiteConfig } from '../config/types.js';
import { periodAsCurrent } from '../ocpp/charging-schedule.js';
import { maxProfileAt } from './profiles-schedule.js';
import type { InstalledProfile } from './profiles-types.js';
import type { LimitSource, SiteLimit } from './site-limit.js';

/** Where an external limit comes from, as reported upstream (K14, ChargingLimitSourceEnumType without CSO). */
export type ExternalLimitKind = 'EMS' | 'Other' | 'SO';

export interface ExternalLimitSource {
  /** Stable id of the input, e.g. "dso-signal" or "page". */
  id: string;
  kind: ExternalLimitKind;
  /** Set by the facility manager's page: published with source kind "page" rather than "external". */
  page?: boolean;
}

export interface ExternalLimit {
  source: ExternalLimitSource;
  limitA: PhaseVector;
}

/** Longest single timer: Node timers overflow past ~24.8 days, and a re-check that changes nothing emits nothing. */
const MAX_TIMER_MS = 6 * 3_600_000;

function sameLimit(a: SiteLimit, b: SiteLimit): boolean {
  return JSON.stringify({ ...a, at: 0 }) === JSON.stringify({ ...b, at: 0 });
}

/** Pure: the site limit from its sources. `sources` must contain the fuse first. */
export function combineSources(at: number, sources: LimitSource[]): SiteLimit {
  const limitA: PhaseVector = [0, 1, 2].map((p) => Math.min(...sources.map((s) => s.limitA[p]))) as PhaseVector;
  const ws = sources.map((s) => s.limitW).filter((w): w is number => w !== undefined);
  let phase = 0;
  for (let p = 1; p < 3; p++) if (limitA[p] < limitA[phase]) phase = p;
  const binding = sources.find((s) => s.limitA[phase] === limitA[phase]) ?? sources[0];
  return { at, limitA, ...(ws.length ? { limitW: Math.min(...ws) } : {}), binding, sources };
}

export class SiteLimitPublisher {
  private readonly subject = new ReplaySubject<SiteLimit>(1);
  readonly siteLimit$: Observable<SiteLimit> = this.subject.asObservable();
  private readonly external = new Map<string, ExternalLimit>();
  private last: SiteLimit | undefined;
  private timer: Subscription | undefined;
  private stopped = false;

  constructor(
    private readonly site: SiteConfig,
    private readonly scheduler: SchedulerLike,
    /** The CSMS profiles to honour; absent when the controller has no identity. */
    private readonly profiles: (() => readonly InstalledProfile[]) | undefined,
  ) {}

  start(): void {
    this.stopped = false;
    this.evaluate();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.unsubscribe();
    this.timer = undefined;
  }

  complete(): void {
    this.stop();
    this.subject.complete();
  }

  setExternal(source: ExternalLimitSource, limitA: PhaseVector | null): void {
    const key = `${source.page ? 'page' : 'external'}:${source.id}`;
    if (limitA === null) this.external.delete(key);
    else this.external.set(key, { source, limitA });
    this.evaluate();
  }

  externalLimits(): ExternalLimit[] {
    return [...this.external.values()];
  }

  /** The current value (computed now, not waiting for the stream). */
  current(): SiteLimit {
    return this.compute(this.scheduler.now()).limit;
  }

  private compute(now: number): { limit: SiteLimit; next: number } {
    const sources: LimitSource[] = [
      { kind: 'fuse', id: 'site.limitA', limitA: [...this.site.limitA] as PhaseVector, ...(this.site.limitW !== undefined ? { limitW: this.site.limitW } : {}) },
    ];
    let next = Infinity;
    if (this.profiles) {
      const m = maxProfileAt(this.profiles(), now);
      next = m.next;
      if (m.active) {
        const c = periodAsCurrent(m.active, this.site.voltage);
        sources.push({ kind: 'csms', id: `csms profile ${m.active.installed.profile.id}`, limitA: [c.limitA, c.limitA, c.limitA], ...(c.limitW !== undefined ? { limitW: c.limitW } : {}) });
      }
    }
    for (const [key, e] of this.external) sources.push({ kind: e.source.page ? 'page' : 'external', id: key, limitA: [...e.limitA] as PhaseVector });
    return { limit: combineSources(now, sources), next };
  }

  /** Recomputes now, emits on change and arms the timer for the next boundary. */
  evaluate(): void {
    if (this.stopped) return;
    const now = this.scheduler.now();
    const { limit, next } = this.compute(now);
    if (!this.last || !sameLimit(this.last, limit)) {
      this.last = limit;
      this.subject.next(limit);
    }
    this.timer?.unsubscribe();
    this.timer = undefined;
    if (Number.isFinite(next)) {
      const delay = Math.min(Math.max(next - now, 0), MAX_TIMER_MS);
      this.timer = this.scheduler.schedule(() => {
        this.timer = undefined;
        this.evaluate();
      }, delay);
    }
  }
}
