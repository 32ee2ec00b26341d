// How long each station takes to follow a lower limit, measured: from the moment it accepted a limit below what the
// EVSE was drawing to the first sample at or under it. Stations differ (a few seconds to a minute: many 1.6 firmwares
// apply a profile only at their next control cycle), so the loop judges each by its own time, not one fixed 15 s.
import { CONTROL_TIMING } from './settings.js';

/** Longest reaction believed: a station slower than this is not following (and the watchdog lapses anyway). */
export const MAX_REACTION_MS = 120_000;
/** How many recent reactions a station's figure is the highest of. */
const KEEP = 5;

interface Pending {
  at: number;
  limitA: number;
  /** The draw when the limit was accepted: only a limit below it shows a reaction. */
  drawA?: number;
}

export class Reactions {
  private readonly last = new Map<string, number>();
  private readonly pending = new Map<string, Pending>();
  private readonly recent = new Map<string, number[]>();
  private readonly following = new Set<string>();

  constructor(private readonly onLearned: (stationId: string, ms: number) => void) {}

  /** A reaction time known from before (kept in the store). */
  seed(stationId: string, ms: number): void {
    if (Number.isFinite(ms) && ms > 0) this.recent.set(stationId, [Math.min(ms, MAX_REACTION_MS)]);
  }

  /** The station accepted a new limit for an EVSE. */
  changed(stationId: string, evseId: number, at: number, limitA: number): void {
    const key = `${stationId}/${evseId}`;
    this.pending.set(key, { at, limitA, drawA: this.last.get(key) });
  }

  /** A measurement of an EVSE (its highest phase). */
  sample(stationId: string, evseId: number, at: number, drawA: number): void {
    const key = `${stationId}/${evseId}`;
    this.last.set(key, drawA);
    const p = this.pending.get(key);
    if (!p || at <= p.at) return;
    const tolerance = Math.max(1, 0.1 * p.limitA);
    if (p.drawA === undefined || p.drawA <= p.limitA + tolerance || at - p.at > MAX_REACTION_MS) return void this.pending.delete(key);
    if (drawA > p.limitA + tolerance) return;
    this.pending.delete(key);
    // Came down to the limit and still draws: it follows cuts. (Down to nothing proves nothing: the EV may be full.)
    if (p.limitA >= 1 && drawA >= p.limitA - tolerance) this.following.add(stationId);
    const list = [...(this.recent.get(stationId) ?? []), at - p.at].slice(-KEEP);
    const before = this.reactionMs(stationId);
    this.recent.set(stationId, list);
    const now = this.reactionMs(stationId);
    if (now !== undefined && (before === undefined || Math.abs(now - before) >= 1000)) this.onLearned(stationId, now);
  }

  /** The station's measured reaction time (ms), the highest of its recent ones; undefined until one was seen. */
  reactionMs(stationId: string): number | undefined {
    const list = this.recent.get(stationId);
    return list?.length ? Math.max(...list) : undefined;
  }

  /** The station has been seen coming down to a cut limit while its EV kept drawing (this run of the process). */
  followsCuts(stationId: string): boolean {
    return this.following.has(stationId);
  }

  /** How long to wait for the station before judging it: its own time with a margin, never less than `defaultMs`. */
  patienceMs(stationId: string, defaultMs: number = CONTROL_TIMING.reactionMs): number {
    const r = this.reactionMs(stationId);
    return r === undefined ? defaultMs : Math.max(defaultMs, Math.min(MAX_REACTION_MS, r * 1.5));
  }

  forget(stationId: string, evseId: number): void {
    const key = `${stationId}/${evseId}`;
    this.pending.delete(key);
    this.last.delete(key);
  }
}
