// How far the control loop believes a station: the bounds of what it may report (plausibility.ts), the implausible
// reports seen (shown as alarms, at most one per station), and how long a station that went away keeps its sessions
// (stations.goneSessionTimeoutS; after that its draw is no longer counted and everything kept for it is forgotten).
import type { SchedulerLike, Subscription } from 'rxjs';
import type { Logger } from '../common/log.js';
import type { Config, StationConfig } from '../config/types.js';
import { UNKNOWN_STATION_MAX_EVSES, type ReportBounds } from './plausibility.js';
import type { ImplausibleReport } from './types.js';

const LOG_EVERY_MS = 60_000;

export class StationTrust {
  private readonly reportsByStation = new Map<string, ImplausibleReport & { loggedAt: number }>();
  private readonly goneTimers = new Map<string, Subscription>();
  private readonly listed: Map<string, StationConfig>;

  constructor(
    private readonly config: Config,
    private readonly scheduler: SchedulerLike,
    private readonly log: Logger,
    private readonly stationOf: (id: string) => StationConfig,
    /** The station stayed away beyond the timeout: end its sessions, forget it. */
    private readonly gone: (stationId: string) => void,
  ) {
    this.listed = new Map(config.stations.list.map((s) => [s.id, s] as const));
  }

  boundsOf(stationId: string): ReportBounds {
    const st = this.stationOf(stationId);
    return { evses: this.listed.has(stationId) ? st.evses : Math.max(st.evses, UNKNOWN_STATION_MAX_EVSES), maxA: st.maxA, phases: st.phases };
  }

  implausible(stationId: string, evseId: number, reason: string): void {
    const now = this.scheduler.now();
    const prev = this.reportsByStation.get(stationId);
    const loggedAt = prev && now - prev.loggedAt < LOG_EVERY_MS ? prev.loggedAt : now;
    if (loggedAt === now) this.log.warn({ stationId, evseId, reason }, 'implausible station report not believed');
    this.reportsByStation.set(stationId, { stationId, evseId, reason, at: now, loggedAt });
  }

  /** The latest implausible report per station (bounded by the stations known to the loop). */
  reports(): ImplausibleReport[] {
    return [...this.reportsByStation.values()].map(({ loggedAt: _l, ...r }) => r);
  }

  up(stationId: string): void {
    this.goneTimers.get(stationId)?.unsubscribe();
    this.goneTimers.delete(stationId);
  }

  down(stationId: string): void {
    if (this.goneTimers.has(stationId)) return;
    this.goneTimers.set(stationId, this.scheduler.schedule(() => {
      this.goneTimers.delete(stationId);
      this.reportsByStation.delete(stationId);
      this.gone(stationId);
    }, this.config.stations.goneSessionTimeoutS * 1000));
  }

  stop(): void {
    for (const t of this.goneTimers.values()) t.unsubscribe();
    this.goneTimers.clear();
  }
}
