// Each station's clock offset, measured from its own timestamps: a station stamps what it sends (TransactionEvent,
// StatusNotification, MeterValues) on its clock; the controller notes when it arrived on its own. The difference is
// the offset less the transit time, so the estimate errs low (the station's clock looks slightly behind) — and a limit
// expressed with it on the station's clock then lapses slightly early, never late (docs/control.md, "Station clocks").
// Robust: the median of the recent samples, so a stale queued event or one odd timestamp does not move it.
// Pure: times are parameters.

export interface StationClockOptions {
  /** Samples kept per station (the newest). Default 15. */
  maxSamples?: number;
  /** Samples older than this (controller clock, ms) are forgotten. Default 15 min. */
  maxAgeMs?: number;
}

interface Sample {
  offsetMs: number;
  at: number;
}

export class StationClocks {
  private readonly samples = new Map<string, Sample[]>();
  private readonly maxSamples: number;
  private readonly maxAgeMs: number;

  constructor(opts: StationClockOptions = {}) {
    this.maxSamples = opts.maxSamples ?? 15;
    this.maxAgeMs = opts.maxAgeMs ?? 15 * 60_000;
  }

  /** A message the station stamped `stationTime` (its clock) arrived at `receivedAt` (the controller's clock). */
  sample(stationId: string, stationTime: number, receivedAt: number): void {
    if (!Number.isFinite(stationTime) || !Number.isFinite(receivedAt)) return;
    let list = this.samples.get(stationId);
    if (!list) this.samples.set(stationId, (list = []));
    list.push({ offsetMs: stationTime - receivedAt, at: receivedAt });
    while (list.length > this.maxSamples || (list.length && list[0].at < receivedAt - this.maxAgeMs)) list.shift();
  }

  /** The station (re)booted: it may have set its clock from the CSMS's BootNotification answer; start over. */
  reset(stationId: string): void {
    this.samples.delete(stationId);
  }

  /** Station clock minus controller clock (ms), or undefined before the station stamped anything. */
  offsetMs(stationId: string): number | undefined {
    const list = this.samples.get(stationId);
    if (!list?.length) return undefined;
    const sorted = list.map((s) => s.offsetMs).sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }

  /** A time the station gave on its clock (ms), on the controller's; unchanged while its offset is unknown. */
  toControllerMs(stationId: string, stationTime: number): number {
    return stationTime - (this.offsetMs(stationId) ?? 0);
  }

  /** Every station's offset (ms) that is known. */
  all(): Map<string, number> {
    const out = new Map<string, number>();
    for (const id of this.samples.keys()) {
      const o = this.offsetMs(id);
      if (o !== undefined) out.set(id, o);
    }
    return out;
  }
}
