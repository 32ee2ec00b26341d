// Neutral requests → OCPP 1.6J calls: capabilities from GetConfiguration (and ChangeConfiguration for the meter setup
// the loop needs), the fail-safe TxDefaultProfile on connectorId 0, the session limits as TxProfile with the integer
// transactionId, GetCompositeSchedule. A Rejected profile is retried the nearest other ways (profiles.ts); the way
// that worked comes back as learned quirks, which the loop keeps and hands back in `caps.quirks`.
import { floorToTenth } from '../../../algorithms/index.js';
import { OcppCallError } from '../../ocpp/errors.js';
import type { StationCaller } from '../../relay/events.js';
import type { CompositeSchedule, DefaultLimit, LimitAnswer, SessionLimit, StationCapabilities, StationRequests } from '../model.js';
import { capabilitiesOf, CONFIG_KEYS, configValues, meterPlan } from './configuration.js';
import { fallbacks, firstWay, limitFor, quirksOf, setChargingProfile, type Way } from './profiles.js';

/** The sample interval asked of stations that sample slower (s): the loop judges reactions on these samples. */
export const METER_INTERVAL_S = 10;
/** At most this many other ways are tried after a rejection (each a round trip; learned once, then kept). */
const MAX_FALLBACK_TRIES = 15;

const notSupported = (err: unknown): err is OcppCallError => err instanceof OcppCallError && (err.code === 'NotImplemented' || err.code === 'NotSupported');
const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const opts = (timeoutMs?: number) => (timeoutMs ? { timeoutMs } : undefined);

async function send(caller: StationCaller, stationId: string, payload: Record<string, unknown>, timeoutMs?: number): Promise<LimitAnswer> {
  try {
    const r = await caller.call(stationId, 'SetChargingProfile', payload, opts(timeoutMs));
    if (r.status === 'Accepted') return { status: 'Accepted' };
    if (r.status === 'NotSupported') return { status: 'NotSupported', reason: 'station answered NotSupported to SetChargingProfile' };
    return { status: 'Rejected' };
  } catch (err) {
    if (notSupported(err)) return { status: 'NotSupported', reason: `station answered ${err.code} to SetChargingProfile` };
    return { status: 'Timeout', reason: `SetChargingProfile failed: ${message(err)}` };
  }
}

/**
 * Sends `write(way)` for the first way; on Rejected tries the fallbacks until one is accepted. Anything but Rejected
 * ends the search (a timeout is not a verdict on the way).
 */
async function withFallbacks(caps: StationCapabilities, o: { session: boolean; zero: boolean; levelAboveZero: boolean }, write: (way: Way) => Promise<LimitAnswer>, appliedA: (way: Way) => number | undefined): Promise<LimitAnswer> {
  const first = firstWay(caps);
  const r = await write(first);
  if (r.status !== 'Rejected') return r.status === 'Accepted' ? accepted(first, first, appliedA) : r;
  for (const way of fallbacks(first, caps, o).slice(0, MAX_FALLBACK_TRIES)) {
    const a = await write(way);
    if (a.status === 'Accepted') return accepted(way, first, appliedA);
    if (a.status !== 'Rejected') return a;
  }
  return { status: 'Rejected', reason: 'every way of writing it' };
}

function accepted(way: Way, first: Way, appliedA: (way: Way) => number | undefined): LimitAnswer {
  const learned = quirksOf(way, first);
  const applied = appliedA(way);
  return { status: 'Accepted', ...(learned.length ? { learned } : {}), ...(applied !== undefined ? { appliedA: applied } : {}) };
}

/** The fail-safe default: connectorId 0, or every connector for a station that rejects 0. */
async function setDefault(caller: StationCaller, stationId: string, l: DefaultLimit, timeoutMs?: number): Promise<LimitAnswer> {
  const at = l.at ?? Date.now();
  const base = { limitA: l.limitA, phases: 3 as const, stackLevel: l.stackLevel, at, voltageV: l.voltageV };
  const write = async (way: Way): Promise<LimitAnswer> => {
    if (!way.perConnector) return send(caller, stationId, setChargingProfile(way, { ...base, connectorId: 0 }, false), timeoutMs);
    const n = Math.max(1, l.evses ?? 1, l.caps.connectors ?? 1);
    let last: LimitAnswer = { status: 'Accepted' };
    for (let c = 1; c <= n; c++) {
      last = await send(caller, stationId, setChargingProfile(way, { ...base, connectorId: c }, false), timeoutMs);
      if (last.status !== 'Accepted') return last;
    }
    return last;
  };
  return withFallbacks(l.caps, { session: false, zero: l.limitA <= 0, levelAboveZero: l.stackLevel > 0 }, write, () => undefined);
}

async function setSession(caller: StationCaller, stationId: string, l: SessionLimit, timeoutMs?: number): Promise<LimitAnswer> {
  const transactionId = Number(l.transactionId);
  // Some stations reject a TxProfile without its transaction: 1.6 ids are integers, one that is not cannot be sent.
  if (!Number.isInteger(transactionId)) return { status: 'Rejected', reason: `transaction id ${l.transactionId} is not a 1.6 integer id` };
  const p = { connectorId: l.evseId, transactionId, limitA: l.limitA, phases: l.phases, stackLevel: l.stackLevel, at: l.at ?? Date.now(), validTo: l.validTo, voltageV: l.voltageV, ...(l.minA !== undefined ? { minA: l.minA } : {}) };
  const write = (way: Way) => send(caller, stationId, setChargingProfile(way, p, true), timeoutMs);
  const appliedA = (way: Way) => (way.noZero && l.limitA < (l.minA ?? 6) ? limitFor(way, l.limitA, l.minA) : undefined);
  return withFallbacks(l.caps, { session: true, zero: l.limitA <= 0, levelAboveZero: l.stackLevel > 0 }, write, appliedA);
}

/** GetConfiguration → capabilities; ChangeConfiguration for the meter setup where the station allows it. */
async function readCapabilities(caller: StationCaller, stationId: string, fallback: StationCapabilities, timeoutMs?: number): Promise<{ caps: StationCapabilities; final: boolean }> {
  let values;
  try {
    values = configValues(await caller.call(stationId, 'GetConfiguration', { key: [...CONFIG_KEYS] }, opts(timeoutMs)));
  } catch (err) {
    return { caps: fallback, final: notSupported(err) };
  }
  const caps = capabilitiesOf(values, fallback);
  const plan = meterPlan(values, METER_INTERVAL_S);
  const notes = [...plan.blocked];
  for (const c of plan.changes) {
    let status: unknown;
    try {
      status = (await caller.call(stationId, 'ChangeConfiguration', c, opts(timeoutMs))).status;
    } catch (err) {
      status = message(err);
    }
    if (status === 'Accepted' || status === 'RebootRequired') {
      if (c.key === 'MeterValuesSampledData') (plan.setup.sampledData = c.value), (plan.setup.phaseResolved = true);
      else plan.setup.intervalS = Number(c.value);
    } else notes.push(`${c.key} could not be set to ${c.value} (${String(status)})`);
  }
  caps.meter = { ...plan.setup, ...(notes.length ? { note: notes.join('; ') } : {}) };
  return { caps, final: true };
}

async function compositeSchedule(caller: StationCaller, stationId: string, evseId: number, durationS: number, timeoutMs?: number): Promise<CompositeSchedule | undefined> {
  try {
    const r = await caller.call(stationId, 'GetCompositeSchedule', { connectorId: evseId, duration: durationS, chargingRateUnit: 'A' }, opts(timeoutMs));
    const s = r.chargingSchedule as Record<string, unknown> | undefined;
    if (r.status !== 'Accepted' || !s || s.chargingRateUnit !== 'A' || !Array.isArray(s.chargingSchedulePeriod)) return undefined;
    const start = typeof r.scheduleStart === 'string' ? r.scheduleStart : s.startSchedule;
    const startAt = typeof start === 'string' ? Date.parse(start) : NaN;
    const periods = (s.chargingSchedulePeriod as Array<Record<string, unknown>>)
      .filter((p) => typeof p.startPeriod === 'number' && typeof p.limit === 'number')
      .map((p) => ({ startS: p.startPeriod as number, limitA: floorToTenth(p.limit as number), ...(typeof p.numberPhases === 'number' ? { phases: p.numberPhases } : {}) }));
    return Number.isFinite(startAt) ? { evseId, startAt, periods } : undefined;
  } catch {
    return undefined;
  }
}

export function requests(caller: StationCaller): StationRequests {
  return {
    readCapabilities: (id, fallback, t) => readCapabilities(caller, id, fallback, t),
    setDefaultLimit: (id, limit, t) => setDefault(caller, id, limit, t),
    setSessionLimit: (id, limit, t) => setSession(caller, id, limit, t),
    compositeSchedule: (id, evseId, d, t) => compositeSchedule(caller, id, evseId, d, t),
  };
}
