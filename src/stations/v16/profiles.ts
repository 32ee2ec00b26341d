// The controller's 1.6 charging profiles, and the ways of writing them a station may need. A "way" is one choice per
// aspect (unit, kind, stack level, purpose, connector); quirks pick the first way tried, and when a station answers
// Rejected (1.6 gives no reason) the adapter tries the nearest other ways, fewest changes first, and reports the quirk
// each change stands for so the loop keeps it (docs/stations.md, "Quirks").
import { floorToTenth } from '../../../algorithms/index.js';
import { DEFAULT_PROFILE_ID, txProfileId, type Quirk, type StationCapabilities } from '../model.js';

export interface Way {
  unit: 'A' | 'W';
  kind: 'Absolute' | 'Relative';
  /** 0 when the station takes no higher stack level. */
  levelZero: boolean;
  /** The session limit written as a TxDefaultProfile on the connector (the station rejects TxProfile). */
  txDefault: boolean;
  /** The default written on every connector (the station rejects connectorId 0). */
  perConnector: boolean;
  /** A limit of 0 sent as the minimum (the station rejects 0 A). */
  noZero: boolean;
}

const has = (caps: StationCapabilities, q: Quirk) => caps.quirks?.includes(q) ?? false;

/** The first way to try, from the station's rate units and the quirks it is known to have. */
export function firstWay(caps: StationCapabilities): Way {
  const unit = has(caps, 'watts-only') ? 'W' : has(caps, 'amps-only') ? 'A' : !caps.rateUnits.includes('A') && caps.rateUnits.includes('W') ? 'W' : 'A';
  return {
    unit,
    kind: has(caps, 'relative-only') ? 'Relative' : 'Absolute',
    levelZero: has(caps, 'stack-level-0-only'),
    txDefault: has(caps, 'tx-default-only'),
    perConnector: has(caps, 'connector-0-rejected'),
    noZero: has(caps, 'no-zero'),
  };
}

/** The quirks a way stands for, beside the first one (what was learned when it worked). */
export function quirksOf(way: Way, first: Way): Quirk[] {
  const q: Quirk[] = [];
  if (way.unit !== first.unit) q.push(way.unit === 'W' ? 'watts-only' : 'amps-only');
  if (way.kind !== first.kind) q.push('relative-only');
  if (way.levelZero !== first.levelZero) q.push('stack-level-0-only');
  if (way.txDefault !== first.txDefault) q.push('tx-default-only');
  if (way.perConnector !== first.perConnector) q.push('connector-0-rejected');
  if (way.noZero !== first.noZero) q.push('no-zero');
  return q;
}

type Aspect = (w: Way) => Way | undefined;

/**
 * Other ways to try after `first` was rejected, fewest changes first (a station with two quirks needs two), bounded:
 * each aspect changes only toward the fallback (Absolute → Relative, never back), and a unit is flipped only when the
 * config did not pin it.
 */
export function fallbacks(first: Way, caps: StationCapabilities, opts: { session: boolean; zero: boolean; levelAboveZero: boolean }): Way[] {
  const aspects: Aspect[] = [];
  if (opts.zero && !first.noZero) aspects.push((w) => ({ ...w, noZero: true }));
  if (!has(caps, 'watts-only') && !has(caps, 'amps-only')) aspects.push((w) => ({ ...w, unit: w.unit === 'A' ? 'W' : 'A' }));
  if (first.kind === 'Absolute') aspects.push((w) => ({ ...w, kind: 'Relative' }));
  if (opts.levelAboveZero && !first.levelZero) aspects.push((w) => ({ ...w, levelZero: true }));
  if (opts.session && !first.txDefault) aspects.push((w) => ({ ...w, txDefault: true }));
  if (!opts.session && !first.perConnector) aspects.push((w) => ({ ...w, perConnector: true }));
  const out: Array<{ way: Way; n: number }> = [];
  for (let mask = 1; mask < 1 << aspects.length; mask++) {
    let way: Way | undefined = first;
    let n = 0;
    for (let i = 0; i < aspects.length && way; i++) if (mask & (1 << i)) (way = aspects[i](way)), n++;
    if (way) out.push({ way, n });
  }
  return out.sort((a, b) => a.n - b.n).map((x) => x.way);
}

export interface ProfileInput {
  connectorId: number;
  /** 1.6 integer transaction id (session limits only). */
  transactionId?: number;
  limitA: number;
  minA?: number;
  phases: 1 | 3;
  stackLevel: number;
  at: number;
  validTo?: number;
  voltageV: number;
}

/** How far back an Absolute schedule starts: a station whose clock runs a little behind still finds it in force. */
export const START_IN_PAST_MS = 60_000;
/** Per-connector default ids: beside the TxProfile ids, inside OWN_PROFILE_IDS. */
export const connectorDefaultId = (connectorId: number): number => DEFAULT_PROFILE_ID + 16 + connectorId;

/** The limit a way sends for `limitA` (0 → the minimum on a no-zero station), A per phase. */
export function limitFor(way: Way, limitA: number, minA: number | undefined): number {
  return way.noZero && limitA < (minA ?? 6) ? (minA ?? 6) : floorToTenth(limitA);
}

/** A SetChargingProfile.req (1.6) for one connector. `session`: the session's limit (TxProfile, or TxDefaultProfile on
 * the connector for a station that rejects TxProfile); otherwise the fail-safe default. */
export function setChargingProfile(way: Way, p: ProfileInput, session: boolean): Record<string, unknown> {
  const limitA = limitFor(way, p.limitA, p.minA);
  const limit = way.unit === 'W' ? Math.floor(limitA * p.voltageV * p.phases) : limitA;
  const start = p.at - START_IN_PAST_MS;
  const purpose = session && !way.txDefault ? 'TxProfile' : 'TxDefaultProfile';
  const id = session ? txProfileId(p.connectorId) : p.connectorId === 0 ? DEFAULT_PROFILE_ID : connectorDefaultId(p.connectorId);
  const schedule: Record<string, unknown> = {
    chargingRateUnit: way.unit,
    chargingSchedulePeriod: [{ startPeriod: 0, limit, numberPhases: p.phases }],
  };
  if (way.kind === 'Absolute') {
    schedule.startSchedule = new Date(start).toISOString();
    // duration as well as validTo: a station that ignores validTo still lets the limit lapse.
    if (p.validTo !== undefined) schedule.duration = Math.max(1, Math.ceil((p.validTo - start) / 1000));
  }
  return {
    connectorId: p.connectorId,
    csChargingProfiles: {
      chargingProfileId: id,
      ...(purpose === 'TxProfile' && p.transactionId !== undefined ? { transactionId: p.transactionId } : {}),
      stackLevel: way.levelZero ? 0 : p.stackLevel,
      chargingProfilePurpose: purpose,
      chargingProfileKind: way.kind,
      ...(p.validTo !== undefined ? { validTo: new Date(p.validTo).toISOString() } : {}),
      chargingSchedule: schedule,
    },
  };
}
