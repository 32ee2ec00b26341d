// Live session state per EVSE, built from the neutral station events (src/stations): who charges where, with which
// transaction id, what the EVSE measures, and what the EV said it needs. No protocol here: the adapters parsed it.
import type { EvNeeds, Measurement, SessionEvent, StationEvent } from '../stations/model.js';
import { boundCurrents, boundPowerW, evseOutOfBounds, type ReportBounds } from './plausibility.js';

/** Bounds for what stations report, and where an implausible report is told (plausibility.ts). */
export interface SessionTrackerChecks {
  boundsOf(stationId: string): ReportBounds;
  implausible(stationId: string, evseId: number, reason: string): void;
}

export interface EvseSession {
  stationId: string;
  evseId: number;
  /** Connector status (last connector reported on this EVSE). */
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
  /** What the EV said it needs. */
  departureAt?: number;
  energyAmountWh?: number;
  /** Energy register when the charging needs were received, to count what is still wanted. */
  energyAtNeedsWh?: number;
  evMaxCurrentA?: number;
  evMinCurrentA?: number;
  /** Phases the EV asked for (AC_single_phase → 1). */
  evPhases?: 1 | 3;
  /** Phases in use and the cable's maximum, as the station reported them during the session. */
  phasesUsed?: number;
  cableMaxCurrentA?: number;
}

/** What an event changed: the loop re-solves on everything except plain measurements. */
export type SessionChange = 'start' | 'end' | 'needs' | 'status' | 'meter' | 'none';

export const evseKey = (stationId: string, evseId: number): string => `${stationId}/${evseId}`;

/** Energy the session still wants now (Wh): what its needs asked for less what it got since; undefined if unknown. */
export function stillWantedWh(s: EvseSession): number | undefined {
  if (s.energyAmountWh === undefined) return undefined;
  const since = s.energyRegisterWh !== undefined && s.energyAtNeedsWh !== undefined ? Math.max(0, s.energyRegisterWh - s.energyAtNeedsWh) : 0;
  return Math.max(0, s.energyAmountWh - since);
}

export class SessionTracker {
  private readonly evses = new Map<string, EvseSession>();
  private readonly byTransaction = new Map<string, string>();

  constructor(
    private readonly evseCountOf: (stationId: string) => number,
    /** For stations that report power but no current: phases wired and nominal voltage. */
    private readonly phasesOf: (stationId: string) => 1 | 3 = () => 3,
    private readonly voltageV = 230,
    private readonly checks?: SessionTrackerChecks,
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

  /** The station has been gone beyond stations.goneSessionTimeoutS: its sessions end and its EVSEs are forgotten. */
  forgetStation(stationId: string): number {
    let ended = 0;
    for (const [key, s] of [...this.evses]) {
      if (s.stationId !== stationId) continue;
      if (s.transactionId) ended++;
      this.endTransaction(s);
      this.evses.delete(key);
    }
    return ended;
  }

  /** An EVSE id the station cannot have is reported and ignored (never creates an EVSE). */
  private evseExists(stationId: string, evseId: number): boolean {
    if (!this.checks) return true;
    // EVSE 0 is the station as a whole (its own meter, its own status), never a place a vehicle charges.
    if (evseId === 0) return false;
    const why = evseOutOfBounds(evseId, this.checks.boundsOf(stationId));
    if (why) this.checks.implausible(stationId, evseId, why);
    return why === undefined;
  }

  /** Applies one station event; returns what it changed. */
  apply(ev: StationEvent, now: number): SessionChange {
    if ((ev.kind === 'meter' || ev.kind === 'status' || ev.kind === 'needs') && !this.evseExists(ev.stationId, ev.evseId)) return 'none';
    switch (ev.kind) {
      case 'session':
        return this.onSession(ev, now);
      case 'meter':
        this.applyMeasurement(this.ensure(ev.stationId, ev.evseId), ev.measurement, now);
        return 'meter';
      case 'status': {
        const s = this.ensure(ev.stationId, ev.evseId);
        let changed = s.status !== ev.status;
        s.status = ev.status;
        // A 1.6 station's charging state (its connector status) belongs to the session in progress, if any.
        if (ev.chargingState !== undefined && s.transactionId !== undefined && ev.chargingState !== s.chargingState) {
          s.chargingState = ev.chargingState;
          changed = true;
        }
        return changed ? 'status' : 'none';
      }
      case 'needs':
        return this.onChargingNeeds(ev.stationId, ev.evseId, ev.needs);
      default:
        return 'none';
    }
  }

  /** The station rebooted: its transactions may be gone; they come back with their next session event. */
  stationBooted(stationId: string): void {
    for (const s of this.evses.values()) if (s.stationId === stationId) this.endTransaction(s);
  }

  private onSession(ev: SessionEvent, now: number): SessionChange {
    const { stationId, transactionId } = ev;
    let evseId = ev.evseId;
    const known = this.byTransaction.get(`${stationId}|${transactionId}`);
    if (evseId === undefined && known) evseId = this.evses.get(known)?.evseId;
    // A station with one EVSE can only be talking about that one (a transaction seen after a controller restart).
    if (evseId === undefined && this.evseCountOf(stationId) === 1) evseId = 1;
    if (evseId === undefined || !this.evseExists(stationId, evseId)) return 'none';
    const s = this.ensure(stationId, evseId);
    let change: SessionChange = 'meter';
    if (ev.phase === 'ended') {
      this.applyMeasurement(s, ev.measurement, now);
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
    if (ev.chargingState !== undefined && ev.chargingState !== s.chargingState) {
      s.chargingState = ev.chargingState;
      if (change === 'meter') change = 'status';
    }
    if (ev.phasesUsed !== undefined) s.phasesUsed = this.checks ? Math.min(ev.phasesUsed, this.checks.boundsOf(stationId).phases) : ev.phasesUsed;
    if (ev.cableMaxCurrentA !== undefined) s.cableMaxCurrentA = ev.cableMaxCurrentA;
    this.applyMeasurement(s, ev.measurement, now);
    if (s.energyAtStartWh === undefined && s.energyRegisterWh !== undefined) s.energyAtStartWh = s.energyRegisterWh;
    return change;
  }

  private onChargingNeeds(stationId: string, evseId: number, needs: EvNeeds): SessionChange {
    const s = this.ensure(stationId, evseId);
    s.departureAt = needs.departureAt;
    s.energyAmountWh = needs.energyAmountWh;
    s.energyAtNeedsWh = s.energyRegisterWh;
    s.evMaxCurrentA = needs.evMaxCurrentA;
    s.evMinCurrentA = needs.evMinCurrentA;
    s.evPhases = needs.phases;
    return 'needs';
  }

  private applyMeasurement(s: EvseSession, m: Measurement, now: number): void {
    let currents = m.currentA ? [...m.currentA] : undefined;
    const powerW = m.powerW !== undefined ? this.plausiblePower(s, m.powerW) : undefined;
    if (powerW !== undefined) s.measuredPowerW = powerW;
    if (m.energyWh !== undefined) s.energyRegisterWh = m.energyWh;
    // A current without a phase is the per-phase current of every phase in use.
    if (!currents && m.currentAnyPhaseA !== undefined) currents = [m.currentAnyPhaseA, m.currentAnyPhaseA, m.currentAnyPhaseA];
    // Power only: spread it over the phases in use at the nominal voltage.
    if (!currents && powerW !== undefined) {
      const n = s.phasesUsed === 1 || this.phasesOf(s.stationId) === 1 ? 1 : 3;
      const a = Math.max(0, powerW) / (this.voltageV * n);
      currents = n === 1 ? [a, 0, 0] : [a, a, a];
    }
    if (currents) {
      s.measuredCurrentA = this.plausibleCurrents(s, currents);
      s.measuredAt = now;
    }
  }

  private plausibleCurrents(s: EvseSession, currents: number[]): number[] {
    if (!this.checks) return currents;
    const r = boundCurrents(currents, this.checks.boundsOf(s.stationId));
    if (r.reason) this.checks.implausible(s.stationId, s.evseId, r.reason);
    return r.currentsA;
  }

  private plausiblePower(s: EvseSession, powerW: number): number {
    if (!this.checks) return powerW;
    const r = boundPowerW(powerW, this.checks.boundsOf(s.stationId), this.voltageV);
    if (r.reason) this.checks.implausible(s.stationId, s.evseId, r.reason);
    return r.powerW;
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
