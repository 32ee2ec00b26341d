// Arbitration with the CSMS: the charging profiles the CSMS set on each station (the station model's csms-profile-set /
// csms-profile-cleared events, seen once the station accepted them), and the limit they put in force now. The
// controller sends min(CSMS limit, local allocation) because its own TxProfile sits at a higher stack level and would
// otherwise replace the CSMS's (see docs/control.md, "Arbitration").
import { periodAsCurrent, profileAt, type InstalledProfile } from '../stations/schedule.js';
import type { CsmsProfileCleared, CsmsProfileSet, ProfilePurpose } from '../stations/model.js';

/** A CSMS profile a station accepted: receivedAt is when the station accepted it (controller clock). */
export type CsmsProfile = InstalledProfile;

/**
 * The limit (A per phase) a profile puts in force at `now`, or undefined when it puts none (not yet valid, expired,
 * schedule not started or over). `transactionStartedAt` is where a Relative schedule counts from (absent: no
 * transaction, the schedule starts now). Several schedules (ISO 15118: the EV picks one) count as their minimum: until
 * we know the EV's choice, the lowest is the one that is safe.
 */
export function profileLimitAt(p: CsmsProfile, now: number, voltageV: number, transactionStartedAt?: number): number | undefined {
  let limit: number | undefined;
  for (let i = 0; i < p.profile.chargingSchedule.length; i++) {
    const at = profileAt(p.profile, now, { receivedAt: p.receivedAt, ...(transactionStartedAt !== undefined ? { transactionStartedAt } : {}) }, i);
    if (!at.active) continue;
    const a = periodAsCurrent(at.active, voltageV).limitA;
    limit = limit === undefined ? a : Math.min(limit, a);
  }
  return limit;
}

export interface CsmsLimit {
  /** min(in-force TxProfile or else TxDefaultProfile, ChargingStationMaxProfile), A per phase. */
  limitA?: number;
  /** Highest stack level of a CSMS TxProfile on this transaction. */
  txStackLevel?: number;
}

export class CsmsProfiles {
  /** stationId → profile id → profile. */
  private readonly byStation = new Map<string, Map<number, CsmsProfile>>();

  /**
   * Records a CSMS profile the station accepted, or a clear. Returns 'cleared' when it may have replaced or removed
   * the controller's own profiles too (the controller then re-sends them), 'changed' or 'none'.
   */
  onEvent(ev: CsmsProfileSet | CsmsProfileCleared, now: number, ownProfileIds: ReadonlySet<number>, ownStackLevel: number): 'changed' | 'cleared' | 'none' {
    const m = this.stationMap(ev.stationId);
    if (ev.kind === 'csms-profile-set') {
      m.set(ev.profile.id, { evseId: ev.evseId, profile: ev.profile, receivedAt: now });
      // A CSMS profile that re-uses one of the controller's ids has replaced that profile on the station.
      return ownProfileIds.has(ev.profile.id) ? 'cleared' : 'changed';
    }
    const id = ev.profileId;
    const matches = (x: CsmsProfile) =>
      id !== undefined
        ? x.profile.id === id
        : (ev.evseId === undefined || ev.evseId === x.evseId) &&
          (ev.purpose === undefined || ev.purpose === x.profile.chargingProfilePurpose) &&
          (ev.stackLevel === undefined || ev.stackLevel === x.profile.stackLevel);
    for (const p of [...m.values()]) if (matches(p)) m.delete(p.profile.id);
    // Could it have hit ours? Our TxProfiles / TxDefaultProfile sit at ownStackLevel; the evse is unknown here.
    const oursHit =
      (id !== undefined && ownProfileIds.has(id)) ||
      (id === undefined &&
        (ev.purpose === undefined || ev.purpose === 'TxProfile' || ev.purpose === 'TxDefaultProfile') &&
        (ev.stackLevel === undefined || ev.stackLevel === ownStackLevel));
    return oursHit ? 'cleared' : 'changed';
  }

  /** A transaction ended: the station drops the TxProfiles that belonged to it. */
  transactionEnded(stationId: string, transactionId: string): void {
    const m = this.byStation.get(stationId);
    if (!m) return;
    for (const p of [...m.values()]) if (p.profile.chargingProfilePurpose === 'TxProfile' && p.profile.transactionId === transactionId) m.delete(p.profile.id);
  }

  /** Highest stack level the CSMS uses on this station for a purpose (-1 when none). */
  maxStackLevel(stationId: string, purpose: ProfilePurpose): number {
    let max = -1;
    for (const p of this.byStation.get(stationId)?.values() ?? []) if (p.profile.chargingProfilePurpose === purpose) max = Math.max(max, p.profile.stackLevel);
    return max;
  }

  /** The CSMS's limit for this EVSE now: what the station would apply if the controller sent nothing. */
  limitFor(stationId: string, evseId: number, transactionId: string | undefined, now: number, voltageV: number, txStartedAt?: number): CsmsLimit {
    const profiles = [...(this.byStation.get(stationId)?.values() ?? [])];
    // Relative schedules count from the transaction start; when the controller missed it (e.g. it restarted during the
    // transaction) from when the station accepted the profile, which is after that start; with no transaction, from now.
    const relStart = (p: CsmsProfile) => (transactionId === undefined ? undefined : (txStartedAt ?? p.receivedAt));
    const purpose = (p: CsmsProfile) => p.profile.chargingProfilePurpose;
    // Highest stack level with a limit in force wins within a purpose (the station's own rule).
    const pick = (candidates: CsmsProfile[]) => {
      const sorted = candidates.sort((a, b) => b.profile.stackLevel - a.profile.stackLevel || (b.evseId > 0 ? 1 : 0) - (a.evseId > 0 ? 1 : 0));
      for (const p of sorted) {
        const l = profileLimitAt(p, now, voltageV, relStart(p));
        if (l !== undefined) return { limit: l, stackLevel: p.profile.stackLevel };
      }
      return undefined;
    };
    const tx =
      transactionId === undefined
        ? undefined
        : pick(profiles.filter((p) => purpose(p) === 'TxProfile' && p.evseId === evseId && (p.profile.transactionId === undefined || p.profile.transactionId === transactionId)));
    const dflt = tx ? undefined : pick(profiles.filter((p) => purpose(p) === 'TxDefaultProfile' && (p.evseId === evseId || p.evseId === 0)));
    const max = pick(profiles.filter((p) => purpose(p) === 'ChargingStationMaxProfile'));
    const parts = [tx?.limit ?? dflt?.limit, max?.limit].filter((x): x is number => x !== undefined);
    return { limitA: parts.length ? Math.min(...parts) : undefined, txStackLevel: tx?.stackLevel };
  }

  /** The CSMS's TxDefaultProfile limit in force for a station (evseId 0 or any EVSE), for our own TxDefaultProfile. */
  defaultLimitFor(stationId: string, now: number, voltageV: number): number | undefined {
    let min: number | undefined;
    for (const p of this.byStation.get(stationId)?.values() ?? []) {
      if (p.profile.chargingProfilePurpose !== 'TxDefaultProfile' && p.profile.chargingProfilePurpose !== 'ChargingStationMaxProfile') continue;
      // No transaction: a Relative schedule counts from now, as it would for a transaction starting now.
      const l = profileLimitAt(p, now, voltageV);
      if (l !== undefined) min = min === undefined ? l : Math.min(min, l);
    }
    return min;
  }

  private stationMap(stationId: string): Map<number, CsmsProfile> {
    let m = this.byStation.get(stationId);
    if (!m) {
      m = new Map();
      this.byStation.set(stationId, m);
    }
    return m;
  }
}
