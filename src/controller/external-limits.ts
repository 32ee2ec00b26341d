// K14: tells the CSMS about external limits set locally — NotifyChargingLimit when a source kind's limit appears or
// changes by at least LimitChangeSignificance, ClearedChargingLimit when the last limit of that kind is withdrawn.
// While the CSMS is unreachable nothing is sent; on the next registration the CSMS is brought up to date with the
// latest state per source kind (changes in between are coalesced: the CSMS only ever needs the limit in force).
import type { PhaseVector } from '../../algorithms/types.js';
import type { Logger } from '../common/log.js';
import { VAR, type DeviceModel } from './device-model.js';
import type { ExternalLimit, ExternalLimitKind } from './site-limit-stream.js';

export type UpstreamCall = (action: string, payload: Record<string, unknown>) => Promise<Record<string, unknown>>;

const KINDS: readonly ExternalLimitKind[] = ['EMS', 'Other', 'SO'];

/** True when `next` differs from `reported` by at least `percent` % on some phase (relative to the reported value). */
export function significantChange(reported: PhaseVector, next: PhaseVector, percent: number): boolean {
  return reported.some((r, i) => {
    const diff = Math.abs(next[i] - r);
    if (diff === 0) return false;
    if (r === 0) return true;
    return (diff / r) * 100 >= percent;
  });
}

export class ExternalLimitReporter {
  private readonly reported = new Map<ExternalLimitKind, PhaseVector>();
  private running = false;
  private again = false;

  constructor(
    private readonly limits: () => readonly ExternalLimit[],
    private readonly deviceModel: DeviceModel,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {}

  /** The lowest limit per phase of each source kind now in force. */
  private current(): Map<ExternalLimitKind, PhaseVector> {
    const out = new Map<ExternalLimitKind, PhaseVector>();
    for (const e of this.limits()) {
      const prev = out.get(e.source.kind);
      out.set(e.source.kind, prev ? (prev.map((v, i) => Math.min(v, e.limitA[i])) as PhaseVector) : ([...e.limitA] as PhaseVector));
    }
    return out;
  }

  /** Brings the CSMS up to date; `call` rejects when offline, and the rest waits for the next sync. */
  async sync(call: UpstreamCall): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.again = false;
        await this.syncOnce(call);
      } while (this.again);
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'external limit report deferred until the CSMS is reachable');
    } finally {
      this.running = false;
    }
  }

  private async syncOnce(call: UpstreamCall): Promise<void> {
    const current = this.current();
    const significance = this.deviceModel.getNumber(VAR.limitChangeSignificance, 10);
    for (const kind of KINDS) {
      const now = current.get(kind);
      const before = this.reported.get(kind);
      if (!now && before) {
        await call('ClearedChargingLimit', { chargingLimitSource: kind });
        this.reported.delete(kind);
      } else if (now && (!before || significantChange(before, now, significance))) {
        const withSchedule = this.deviceModel.getBoolean(VAR.notifyWithSchedules, true);
        const limit = Math.floor(Math.min(...now) * 10) / 10;
        await call('NotifyChargingLimit', {
          chargingLimit: { chargingLimitSource: kind },
          ...(withSchedule
            ? {
                chargingSchedule: [
                  {
                    id: KINDS.indexOf(kind) + 1,
                    startSchedule: new Date(this.now()).toISOString(),
                    chargingRateUnit: 'A',
                    chargingSchedulePeriod: [{ startPeriod: 0, limit, numberPhases: 3 }],
                  },
                ],
              }
            : {}),
        });
        this.reported.set(kind, now);
      }
    }
  }
}
