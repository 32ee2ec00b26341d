// Live session state per EVSE, built from what stations send through the relay (calls$ with origin 'station'):
// who charges where, with which transaction id, what the EVSE measures, and what the EV said it needs.
import type { OcppCallEvent } from '../relay/events.js';

export interface EvseSession {
  stationId: string;
  evseId: number;
  /** StatusNotification connectorStatus (last connector reported on this EVSE). */
  status?: string;
  transactionId?: string;
  chargingState?: string;
  /** When the transaction started (epoch ms, controller clock: when the Started event was seen). */
  startedAt?: number;
  /** Measured current per EVSE phase (A, index 0 = EVSE L1). */
  measuredCurrentA?: number[];
  /** When measuredCurrentA was last updated (controller clock). */
  measuredAt?: number;
  measuredPowerW?: number;
  /** Energy register now and at the transaction's start (Wh). */
  energyRegisterWh?: number;
  energyAtStartWh?: number;
  /** From NotifyEVChargingNeeds. */
  departureAt?: number;
  energyAmountWh?: number;
  /** Energy register when the charging needs were received, to count what is still wanted. */
  energyAtNeedsWh?: number;
  evMaxCurrentA?: number;
  evMinCurrentA?: number;
  /** Phases the EV asked for (AC_single_phase → 1). */
  evPhases?: 1 | 3;
  /** TransactionEvent numberOfPhasesUsed / cableMaxCurrent. */
  phasesUsed?: number;
  cableMaxCurrentA?: number;
}

/** What an event changed: the loop re-solves on everything except plain measurements. */
export type SessionChange = 'start' | 'end' | 'needs' | 'status' | 'meter' | 'none';

export const evseKey = (stationId: string, evseId: number): string => `${stationId}/${evseId}`;

interface Sample {
  measurand: string;
  phase?: string;
  value: number;
}

const MEASURAND_DEFAULT = 'Energy.Active.Import.Register';

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** Flattens OCPP meterValue[] into samples with units normalised to A, W, Wh. */
export function parseMeterValues(meterValue: unknown): Sample[] {
  const out: Sample[] = [];
  if (!Array.isArray(meterValue)) return out;
  for (const mv of meterValue) {
    const sampled = obj(mv)?.sampledValue;
    if (!Array.isArray(sampled)) continue;
    for (const sv of sampled) {
      const s = obj(sv);
      const raw = num(s?.value);
      if (!s || raw === undefined) continue;
      const unit = obj(s.unitOfMeasure);
      const multiplier = num(unit?.multiplier) ?? 0;
      const u = typeof unit?.unit === 'string' ? unit.unit : undefined;
      let value = raw * 10 ** multiplier;
      // kW / kWh are allowed units: bring them to W / Wh.
      if (u === 'kW' || u === 'kWh') value *= 1000;
      out.push({ measurand: typeof s.measurand === 'string' ? s.measurand : MEASURAND_DEFAULT, phase: typeof s.phase === 'string' ? s.phase : undefined, value });
    }
  }
  return out;
}

const PHASE_INDEX: Record<string, number> = { L1: 0, L2: 1, L3: 2, 'L1-N': 0, 'L2-N': 1, 'L3-N': 2 };

export class SessionTracker {
  private readonly evses = new Map<string, EvseSession>();
  private readonly byTransaction = new Map<string, string>();

  constructor(
    private readonly evseCountOf: (stationId: string) => number,
    /** For stations that report power but no current: phases wired and nominal voltage. */
    private readonly phasesOf: (stationId: string) => 1 | 3 = () => 3,
    private readonly voltageV = 230,
  ) {}

  get(stationId: string, evseId: number): EvseSession | undefined {
    return this.evses.get(evseKey(stationId, evseId));
  }

  all(): EvseSession[] {
    return [...this.evses.values()];
  }

  /** EVSEs with a transaction running. */
  active(): EvseSession[] {
    return this.all().filter((s) => s.transactionId !== undefined);
  }

  ensure(stationId: string, evseId: number): EvseSession {
    const key = evseKey(stationId, evseId);
    let s = this.evses.get(key);
    if (!s) {
      s = { stationId, evseId };
      this.evses.set(key, s);
    }
    return s;
  }

  /** Applies one CALL a station sent; returns what it changed. */
  apply(ev: OcppCallEvent, now: number): SessionChange {
    if (ev.origin !== 'station') return 'none';
    const p = ev.payload;
    switch (ev.action) {
      case 'TransactionEvent':
        return this.onTransactionEvent(ev.stationId, p, now);
      case 'MeterValues': {
        const evseId = num(p.evseId);
        if (evseId === undefined || evseId === 0) return 'none';
        this.applySamples(this.ensure(ev.stationId, evseId), parseMeterValues(p.meterValue), now);
        return 'meter';
      }
      case 'StatusNotification': {
        const evseId = num(p.evseId);
        if (evseId === undefined || typeof p.connectorStatus !== 'string') return 'none';
        const s = this.ensure(ev.stationId, evseId);
        const changed = s.status !== p.connectorStatus;
        s.status = p.connectorStatus;
        return changed ? 'status' : 'none';
      }
      case 'NotifyEVChargingNeeds':
        return this.onChargingNeeds(ev.stationId, p);
      default:
        return 'none';
    }
  }

  /** The station rebooted: its transactions may be gone; they come back with their next TransactionEvent. */
  stationBooted(stationId: string): void {
    for (const s of this.evses.values()) if (s.stationId === stationId) this.endTransaction(s);
  }

  private onTransactionEvent(stationId: string, p: Record<string, unknown>, now: number): SessionChange {
    const info = obj(p.transactionInfo);
    const transactionId = typeof info?.transactionId === 'string' ? info.transactionId : undefined;
    if (!transactionId) return 'none';
    let evseId = num(obj(p.evse)?.id);
    const known = this.byTransaction.get(`${stationId}|${transactionId}`);
    if (evseId === undefined && known) evseId = this.evses.get(known)?.evseId;
    // A station with one EVSE can only be talking about that one (a transaction seen after a controller restart).
    if (evseId === undefined && this.evseCountOf(stationId) === 1) evseId = 1;
    if (evseId === undefined) return 'none';
    const s = this.ensure(stationId, evseId);
    let change: SessionChange = 'meter';
    if (p.eventType === 'Ended') {
      this.applySamples(s, parseMeterValues(p.meterValue), now);
      this.endTransaction(s);
      return 'end';
    }
    if (s.transactionId !== transactionId) {
      if (s.transactionId) this.endTransaction(s);
      s.transactionId = transactionId;
      s.startedAt = now;
      this.byTransaction.set(`${stationId}|${transactionId}`, evseKey(stationId, evseId));
      change = 'start';
    }
    if (typeof info?.chargingState === 'string' && info.chargingState !== s.chargingState) {
      s.chargingState = info.chargingState;
      if (change === 'meter') change = 'status';
    }
    const phases = num(p.numberOfPhasesUsed);
    if (phases !== undefined) s.phasesUsed = phases;
    const cable = num(p.cableMaxCurrent);
    if (cable !== undefined) s.cableMaxCurrentA = cable;
    const samples = parseMeterValues(p.meterValue);
    this.applySamples(s, samples, now);
    if (s.energyAtStartWh === undefined && s.energyRegisterWh !== undefined) s.energyAtStartWh = s.energyRegisterWh;
    return change;
  }

  private onChargingNeeds(stationId: string, p: Record<string, unknown>): SessionChange {
    const evseId = num(p.evseId);
    const needs = obj(p.chargingNeeds);
    if (evseId === undefined || !needs) return 'none';
    const s = this.ensure(stationId, evseId);
    const departure = typeof needs.departureTime === 'string' ? Date.parse(needs.departureTime) : NaN;
    s.departureAt = Number.isFinite(departure) ? departure : undefined;
    const ac = obj(needs.acChargingParameters);
    const dc = obj(needs.dcChargingParameters);
    s.energyAmountWh = num(ac?.energyAmount) ?? num(dc?.energyAmount);
    s.energyAtNeedsWh = s.energyRegisterWh;
    s.evMaxCurrentA = num(ac?.evMaxCurrent);
    s.evMinCurrentA = num(ac?.evMinCurrent);
    s.evPhases = needs.requestedEnergyTransfer === 'AC_single_phase' ? 1 : needs.requestedEnergyTransfer === 'AC_three_phase' ? 3 : undefined;
    return 'needs';
  }

  private applySamples(s: EvseSession, samples: Sample[], now: number): void {
    let currents: number[] | undefined;
    let totalCurrent: number | undefined;
    let power: number | undefined;
    for (const x of samples) {
      if (x.measurand === 'Current.Import') {
        const i = x.phase !== undefined ? PHASE_INDEX[x.phase] : undefined;
        if (i === undefined) totalCurrent = x.value;
        else {
          currents ??= [0, 0, 0];
          currents[i] = x.value;
        }
      } else if (x.measurand === 'Power.Active.Import' && x.phase === undefined) {
        s.measuredPowerW = x.value;
        power = x.value;
      } else if (x.measurand === 'Energy.Active.Import.Register' && x.phase === undefined) {
        s.energyRegisterWh = x.value;
      }
    }
    // A Current.Import without a phase is the per-phase current of every phase in use.
    if (!currents && totalCurrent !== undefined) currents = [totalCurrent, totalCurrent, totalCurrent];
    // Power only: spread it over the phases in use at the nominal voltage.
    if (!currents && power !== undefined) {
      const n = s.phasesUsed === 1 || this.phasesOf(s.stationId) === 1 ? 1 : 3;
      const a = Math.max(0, power) / (this.voltageV * n);
      currents = n === 1 ? [a, 0, 0] : [a, a, a];
    }
    if (currents) {
      s.measuredCurrentA = currents;
      s.measuredAt = now;
    }
  }

  private endTransaction(s: EvseSession): void {
    if (s.transactionId) this.byTransaction.delete(`${s.stationId}|${s.transactionId}`);
    s.transactionId = undefined;
    s.startedAt = undefined;
    s.chargingState = undefined;
    s.measuredCurrentA = undefined;
    s.measuredPowerW = undefined;
    s.energyAtStartWh = undefined;
    s.departureAt = undefined;
    s.energyAmountWh = undefined;
    s.energyAtNeedsWh = undefined;
    s.evMaxCurrentA = undefined;
    s.evMinCurrentA = undefined;
    s.evPhases = undefined;
    s.phasesUsed = undefined;
    s.cableMaxCurrentA = undefined;
  }
}
