// Arbitration with the CSMS: the charging profiles the CSMS set on each station (SetChargingProfile / ClearChargingProfile
// from origin 'csms', taken into account once the station accepted them), and the limit they put in force now. The
// controller sends min(CSMS limit, local allocation) because its own TxProfile sits at a higher stack level and would
// otherwise replace the CSMS's (see docs/control.md, "Arbitration").
import type { OcppResultEvent } from '../relay/events.js';

type Purpose = 'TxProfile' | 'TxDefaultProfile' | 'ChargingStationMaxProfile' | 'ChargingStationExternalConstraints';

interface Period {
  startPeriod: number;
  limit: number;
  numberPhases?: number;
}

interface Schedule {
  startSchedule?: string;
  duration?: number;
  unit: 'A' | 'W';
  periods: Period[];
}

export interface CsmsProfile {
  id: number;
  evseId: number;
  stackLevel: number;
  purpose: Purpose;
  kind: 'Absolute' | 'Recurring' | 'Relative';
  recurrency?: 'Daily' | 'Weekly';
  validFrom?: number;
  validTo?: number;
  transactionId?: string;
  schedules: Schedule[];
  /** When the station accepted it (controller clock). */
  receivedAt: number;
}

const DAY = 86_400_000;

function parseProfile(raw: unknown, evseId: number, now: number): CsmsProfile | undefined {
  const p = raw as Record<string, unknown> | undefined;
  if (!p || typeof p.id !== 'number' || typeof p.stackLevel !== 'number') return undefined;
  const schedules: Schedule[] = [];
  for (const s of Array.isArray(p.chargingSchedule) ? (p.chargingSchedule as Array<Record<string, unknown>>) : []) {
    const periods = (Array.isArray(s.chargingSchedulePeriod) ? (s.chargingSchedulePeriod as Array<Record<string, unknown>>) : [])
      .filter((x) => typeof x.startPeriod === 'number' && typeof x.limit === 'number')
      .map((x) => ({ startPeriod: x.startPeriod as number, limit: x.limit as number, numberPhases: typeof x.numberPhases === 'number' ? x.numberPhases : undefined }))
      .sort((a, b) => a.startPeriod - b.startPeriod);
    if (!periods.length) continue;
    schedules.push({
      startSchedule: typeof s.startSchedule === 'string' ? s.startSchedule : undefined,
      duration: typeof s.duration === 'number' ? s.duration : undefined,
      unit: s.chargingRateUnit === 'W' ? 'W' : 'A',
      periods,
    });
  }
  const time = (v: unknown) => (typeof v === 'string' && Number.isFinite(Date.parse(v)) ? Date.parse(v) : undefined);
  return {
    id: p.id,
    evseId,
    stackLevel: p.stackLevel,
    purpose: p.chargingProfilePurpose as Purpose,
    kind: (p.chargingProfileKind as CsmsProfile['kind']) ?? 'Absolute',
    recurrency: p.recurrencyKind === 'Weekly' ? 'Weekly' : p.recurrencyKind === 'Daily' ? 'Daily' : undefined,
    validFrom: time(p.validFrom),
    validTo: time(p.validTo),
    transactionId: typeof p.transactionId === 'string' ? p.transactionId : undefined,
    schedules,
    receivedAt: now,
  };
}

/**
 * The limit (A per phase) a profile puts in force at `now`, or undefined when it puts none (not yet valid, expired,
 * schedule not started or over). `relativeStart` is where a Relative schedule counts from.
 */
export function profileLimitAt(p: CsmsProfile, now: number, voltageV: number, relativeStart: number): number | undefined {
  if (p.validFrom !== undefined && now < p.validFrom) return undefined;
  if (p.validTo !== undefined && now >= p.validTo) return undefined;
  let limit: number | undefined;
  for (const s of p.schedules) {
    let start: number;
    if (p.kind === 'Relative') start = relativeStart;
    else {
      const at = s.startSchedule ? Date.parse(s.startSchedule) : p.receivedAt;
      start = Number.isFinite(at) ? at : p.receivedAt;
      if (p.kind === 'Recurring' && now >= start) {
        const period = p.recurrency === 'Weekly' ? 7 * DAY : DAY;
        start += Math.floor((now - start) / period) * period;
      }
    }
    const elapsedS = (now - start) / 1000;
    if (elapsedS < 0) continue;
    if (s.duration !== undefined && elapsedS >= s.duration) continue;
    let current: Period | undefined;
    for (const per of s.periods) if (per.startPeriod <= elapsedS) current = per;
    if (!current) continue;
    const a = s.unit === 'W' ? current.limit / (voltageV * (current.numberPhases ?? 3)) : current.limit;
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
   * Records an accepted CSMS SetChargingProfile or ClearChargingProfile. Returns 'cleared' when a clear may have
   * removed the controller's own profiles too (the controller then re-sends them), 'changed' or 'none'.
   */
  onResult(ev: OcppResultEvent, now: number, ownProfileIds: ReadonlySet<number>, ownStackLevel: number): 'changed' | 'cleared' | 'none' {
    if (ev.origin !== 'csms' || !ev.result) return 'none';
    if (ev.action === 'SetChargingProfile') {
      if (ev.result.status !== 'Accepted') return 'none';
      const evseId = typeof ev.request.evseId === 'number' ? ev.request.evseId : 0;
      const p = parseProfile(ev.request.chargingProfile, evseId, now);
      if (!p) return 'none';
      const m = this.stationMap(ev.stationId);
      m.set(p.id, p);
      // A CSMS profile that re-uses one of the controller's ids has replaced that profile on the station.
      return ownProfileIds.has(p.id) ? 'cleared' : 'changed';
    }
    if (ev.action === 'ClearChargingProfile') {
      if (ev.result.status !== 'Accepted') return 'none';
      const m = this.stationMap(ev.stationId);
      const id = typeof ev.request.chargingProfileId === 'number' ? ev.request.chargingProfileId : undefined;
      const c = (ev.request.chargingProfileCriteria ?? {}) as { evseId?: number; chargingProfilePurpose?: string; stackLevel?: number };
      const matches = (x: { id: number; evseId?: number; purpose?: string; stackLevel?: number }) =>
        id !== undefined
          ? x.id === id
          : (c.evseId === undefined || c.evseId === x.evseId) &&
            (c.chargingProfilePurpose === undefined || c.chargingProfilePurpose === x.purpose) &&
            (c.stackLevel === undefined || c.stackLevel === x.stackLevel);
      for (const p of [...m.values()]) if (matches(p)) m.delete(p.id);
      // Could it have hit ours? Our TxProfiles / TxDefaultProfile sit at ownStackLevel; the evse is unknown here.
      const oursHit =
        (id !== undefined && ownProfileIds.has(id)) ||
        (id === undefined &&
          (c.chargingProfilePurpose === undefined || c.chargingProfilePurpose === 'TxProfile' || c.chargingProfilePurpose === 'TxDefaultProfile') &&
          (c.stackLevel === undefined || c.stackLevel === ownStackLevel));
      return oursHit ? 'cleared' : 'changed';
    }
    return 'none';
  }

  /** A transaction ended: the station drops the TxProfiles that belonged to it. */
  transactionEnded(stationId: string, transactionId: string): void {
    const m = this.byStation.get(stationId);
    if (!m) return;
    for (const p of [...m.values()]) if (p.purpose === 'TxProfile' && p.transactionId === transactionId) m.delete(p.id);
  }

  /** Highest stack level the CSMS uses on this station for a purpose (-1 when none). */
  maxStackLevel(stationId: string, purpose: Purpose): number {
    let max = -1;
    for (const p of this.byStation.get(stationId)?.values() ?? []) if (p.purpose === purpose) max = Math.max(max, p.stackLevel);
    return max;
  }

  /** The CSMS's limit for this EVSE now: what the station would apply if the controller sent nothing. */
  limitFor(stationId: string, evseId: number, transactionId: string | undefined, now: number, voltageV: number, txStartedAt?: number): CsmsLimit {
    const profiles = [...(this.byStation.get(stationId)?.values() ?? [])];
    const relStart = (p: CsmsProfile) => txStartedAt ?? p.receivedAt;
    // Highest stack level with a limit in force wins within a purpose (the station's own rule).
    const pick = (candidates: CsmsProfile[]) => {
      const sorted = candidates.sort((a, b) => b.stackLevel - a.stackLevel || (b.evseId > 0 ? 1 : 0) - (a.evseId > 0 ? 1 : 0));
      for (const p of sorted) {
        const l = profileLimitAt(p, now, voltageV, relStart(p));
        if (l !== undefined) return { limit: l, stackLevel: p.stackLevel };
      }
      return undefined;
    };
    const tx =
      transactionId === undefined
        ? undefined
        : pick(profiles.filter((p) => p.purpose === 'TxProfile' && p.evseId === evseId && (p.transactionId === undefined || p.transactionId === transactionId)));
    const dflt = tx ? undefined : pick(profiles.filter((p) => p.purpose === 'TxDefaultProfile' && (p.evseId === evseId || p.evseId === 0)));
    const max = pick(profiles.filter((p) => p.purpose === 'ChargingStationMaxProfile'));
    const parts = [tx?.limit ?? dflt?.limit, max?.limit].filter((x): x is number => x !== undefined);
    return { limitA: parts.length ? Math.min(...parts) : undefined, txStackLevel: tx?.stackLevel };
  }

  /** The CSMS's TxDefaultProfile limit in force for a station (evseId 0 or any EVSE), for our own TxDefaultProfile. */
  defaultLimitFor(stationId: string, now: number, voltageV: number): number | undefined {
    let min: number | undefined;
    for (const p of this.byStation.get(stationId)?.values() ?? []) {
      if (p.purpose !== 'TxDefaultProfile' && p.purpose !== 'ChargingStationMaxProfile') continue;
      const l = profileLimitAt(p, now, voltageV, p.receivedAt);
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
