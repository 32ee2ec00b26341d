// Needs entered on the page for sessions whose EV cannot say them (most 1.6 stations, EVs without ISO 15118). The
// optimizer and the planner then treat such a session as one whose EV sent NotifyEVChargingNeeds. An entry counts only
// for the transaction it was entered for, and it takes the place of what the EV said: the person who enters a
// departure knows it better than an EV's default.
import type { EnteredNeeds, SessionNeeds } from './types.js';
import { evseKey, stillWantedWh, type EvseSession } from './sessions.js';

export class EnteredNeedsBook {
  private byEvse = new Map<string, EnteredNeeds>();

  /** Replaces the entries; true when any changed. */
  set(list: readonly EnteredNeeds[]): boolean {
    const next = new Map(list.map((e) => [evseKey(e.stationId, e.evseId), e] as const));
    const same = next.size === this.byEvse.size && [...next].every(([k, e]) => {
      const o = this.byEvse.get(k);
      return o !== undefined && o.transactionId === e.transactionId && o.energyWh === e.energyWh && o.departureAt === e.departureAt;
    });
    this.byEvse = next;
    return !same;
  }

  /** The entry for the session's transaction, if one was entered. */
  of(s: EvseSession): EnteredNeeds | undefined {
    const e = this.byEvse.get(evseKey(s.stationId, s.evseId));
    return e !== undefined && s.transactionId !== undefined && e.transactionId === s.transactionId ? e : undefined;
  }

  /** The session as the control loop should read it: an entry's energy counts from the session's start. */
  overlay(s: EvseSession, e = this.of(s)): EvseSession {
    return e ? { ...s, departureAt: e.departureAt, energyAmountWh: e.energyWh, energyAtNeedsWh: s.energyAtStartWh } : s;
  }

  /** What the page shows: the needs in use and where they come from. */
  needsOf(s: EvseSession): SessionNeeds | undefined {
    const e = this.of(s);
    const v = this.overlay(s, e);
    if (v.departureAt === undefined && v.energyAmountWh === undefined) return undefined;
    const remainingWh = stillWantedWh(v);
    return {
      source: e ? 'page' : 'ev',
      ...(v.departureAt !== undefined ? { departureAt: v.departureAt } : {}),
      ...(remainingWh !== undefined ? { remainingWh } : {}),
      ...(e ? { energyWh: e.energyWh, enteredBy: e.enteredBy } : {}),
    };
  }
}
