// How much of the export measured through a node (PV, a battery) the EVSEs may use on top of its fuse: the export as
// measured now, less the largest fall of that export seen within one settle time (the time a cut takes to land at the
// stations) in the last minutes. A cloud that took 8 A of export within 10 s leaves 8 A of the export uncredited for
// the next quarter of an hour, so the next such fall lands in room kept free instead of on the fuse; export that has
// been steady is credited whole. `control.exportCreditFraction` caps the share credited.
import type { PhaseVector } from '../../algorithms/types.js';

/** One phase of one node: its export over the last `horizonMs`, and the falls seen over `memoryMs`. */
class PhaseWatch {
  /** (t, export) with exports decreasing: the head is the highest export within the horizon. */
  private readonly highs: { t: number; a: number }[] = [];
  /** (t, fall) with falls decreasing: the head is the largest fall within the memory. */
  private readonly falls: { t: number; a: number }[] = [];

  constructor(private readonly horizonMs: number, private readonly memoryMs: number) {}

  /** Records the export (A) at `now`; returns the largest fall within one horizon seen in the memory, now included. */
  observe(now: number, exportA: number): number {
    const highs = this.highs;
    while (highs.length && highs[highs.length - 1].a <= exportA) highs.pop();
    highs.push({ t: now, a: exportA });
    while (highs[0].t < now - this.horizonMs) highs.shift();
    const fall = highs[0].a - exportA;
    const falls = this.falls;
    while (falls.length && falls[falls.length - 1].a <= fall) falls.pop();
    falls.push({ t: now, a: fall });
    while (falls[0].t < now - this.memoryMs) falls.shift();
    return falls[0].a;
  }
}

/** The falls of export seen per node and phase, kept by the loop across solves. */
export class ExportWatch {
  private readonly nodes = new Map<string, { watch: PhaseWatch[]; at: number; fall: PhaseVector }>();

  /**
   * `horizonMs`: how long a fall can go on before the stations' answer to it lands (a cut is in force within the
   * settle time); `memoryMs`: how long a fall is remembered (clouds come and go over minutes).
   */
  constructor(readonly horizonMs: number, readonly memoryMs: number) {}

  /**
   * Records a node's export per phase (A, ≥ 0) at `now`; returns per phase the largest fall to allow for. The first
   * reading of an instant counts: a second solve at the same instant (a station held at its minimum) only asks.
   */
  observe(nodeId: string, now: number, exportA: PhaseVector): PhaseVector {
    let n = this.nodes.get(nodeId);
    if (!n) {
      n = { watch: [0, 1, 2].map(() => new PhaseWatch(this.horizonMs, this.memoryMs)), at: -Infinity, fall: [0, 0, 0] };
      this.nodes.set(nodeId, n);
    }
    if (now > n.at) {
      const w = n.watch;
      n.fall = [0, 1, 2].map((i) => w[i].observe(now, exportA[i])) as PhaseVector;
      n.at = now;
    }
    return n.fall;
  }

  /** The node's meter could not be trusted: what was learned from it before is not a basis for crediting after. */
  forget(nodeId: string): void {
    this.nodes.delete(nodeId);
  }
}

/** The share credited of export no source meter accounts for (the default `exportCreditFraction` before the watch). */
export const UNEXPLAINED_EXPORT_SHARE = 0.5;

/**
 * The part of a phase's export (A) credited on top of its limit. `firmA`: the part that is a home battery discharging,
 * credited whole while it has charge to spare (`firmOk`) and not at all when it is about to stop. `sourceA`: what the
 * metered sources behind the node (PV inverter, battery) give on that phase now. The rest of the export is credited
 * less the fall allowed for, at most `fraction` of the part they account for and at most half of the part they do
 * not: export no source meter accounts for (no PV meter, or the loop's load estimate running below zero for a moment)
 * is not known to be real.
 */
export function exportCredit(exportA: number, firmA: number, firmOk: boolean, sourceA: number, fallA: number, fraction: number): number {
  const firm = Math.min(exportA, firmA);
  const rest = exportA - firm;
  const metered = Math.min(rest, Math.max(0, sourceA - firm));
  const cap = metered * fraction + (rest - metered) * Math.min(fraction, UNEXPLAINED_EXPORT_SHARE);
  return (firmOk ? firm : 0) + Math.max(0, Math.min(cap, rest - fallA));
}
