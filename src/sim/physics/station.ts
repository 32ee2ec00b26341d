// A simulated charging station with one EVSE, on virtual time: it stores charging profiles as a station does, applies
// them after its reaction delay (or ignores / rejects them, as some stations do), runs a transaction per plugged-in EV,
// and says which OCPP messages it would send. The score (in-process) and the demo world (over real sockets) drive it
// the same way: `handle()` incoming CALLs, `plugIn()` / `unplug()` EVs, `step()` time; messages go out via `send`.
import type { Rotation } from '../../../algorithms/types.js';
import { OcppCallError } from '../../ocpp/errors.js';
import type { ChargerSpec } from '../scenario-types.js';
import { capabilitiesOf, profileRefusal, quirksOf, reportedPhases, type ChargerQuirk, type SmartChargingCapabilities } from '../quirks.js';
import { MIN_OFFER_A, SimEv } from './ev.js';
import { effectiveLimit, validateProfile, type ChargingProfile, type InstalledProfile, type PhaseLimit } from './profiles.js';

export type Send = (action: string, payload: Record<string, unknown>) => void;

interface PendingOp {
  at: number;
  apply: () => void;
}

export interface StationOptions {
  voltageV: number;
  /** Interval of TransactionEvent Updated with MeterValuePeriodic (ms); default the charger's meterValuesS. */
  meterIntervalMs?: number;
  send: Send;
  /**
   * The station's own clock at world time `now` (default: the same). Timestamps it sends and the validity of the
   * profiles it holds are on this clock; its physics (EVs, reaction delay, meter interval) on world time. The demo's
   * stations keep real time (plus any offset) while the world runs `sim.speed` times faster.
   */
  clock?: (worldMs: number) => number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * How long a charger that switches between 1 and 3 phases stops charging for it (ms). A real wallbox pauses the EV
 * (PWM off), waits for its current to fall, changes its contactors and lets the EV start again: about 5-30 s, and the
 * contactors wear with every switch, which is why a controller must not switch often.
 */
export const PHASE_SWITCH_PAUSE_MS = 10_000;

/** Site phase index (0..2) of each of the EVSE's phases L1, L2, L3 for a rotation. */
export function sitePhases(rotation: Rotation): [number, number, number] {
  const idx = (c: string) => Number(c) - 1;
  return [idx(rotation[1]), idx(rotation[3]), idx(rotation[5])];
}

/** The CALLs a station without smart charging does not implement (2.0.1 functional block K). */
const SMART_CHARGING_ACTIONS = new Set(['SetChargingProfile', 'ClearChargingProfile', 'GetChargingProfiles', 'GetCompositeSchedule']);

export class SimStation {
  readonly spec: ChargerSpec;
  readonly installed: InstalledProfile[] = [];
  private pending: PendingOp[] = [];
  private readonly opts: Required<Omit<StationOptions, 'send' | 'clock'>> & { send: Send };
  private readonly clock: (worldMs: number) => number;
  ev?: SimEv;
  transactionId?: string;
  private txStartedAt?: number;
  private seqNo = 0;
  private txCounter = 0;
  private lastMeterAt = 0;
  private chargingState: 'EVConnected' | 'Charging' | 'SuspendedEV' | 'SuspendedEVSE' | 'Idle' = 'Idle';
  /** Current per EVSE phase now (A). */
  currentA: [number, number, number] = [0, 0, 0];
  /** Energy register of the EVSE (Wh). */
  energyRegisterWh = 0;
  /** The limit the station applies now (A per phase) and how many phases; set by step(). */
  appliedLimit: PhaseLimit = { limitA: 0, numberPhases: 3 };
  booted = false;
  /** Phases its contactors connect (1 only on a switching charger) and which EVSE phase (0..2) when one. */
  private contactors: { phases: 1 | 3; phase: number };
  /** A phase switch under load stops charging until then (world ms). */
  private switchingUntil = -Infinity;
  /** Phase switches made during transactions (contactor wear; the score reports them). */
  phaseSwitches = 0;
  /** Its firmware quirks (src/sim/quirks.ts) and what they let it declare. */
  readonly quirks: ReadonlySet<ChargerQuirk>;
  readonly capabilities: SmartChargingCapabilities;

  constructor(spec: ChargerSpec, opts: StationOptions) {
    this.spec = spec;
    this.quirks = quirksOf(spec);
    this.capabilities = capabilitiesOf(this.quirks, spec);
    this.contactors = { phases: spec.phases, phase: 0 };
    this.opts = { meterIntervalMs: spec.meterValuesS * 1000, ...opts };
    this.clock = opts.clock ?? ((t) => t);
  }

  /** The station's own clock at world time `worldMs` (what it stamps its messages with). */
  stationTime(worldMs: number): number {
    return this.clock(worldMs);
  }

  /** BootNotification and the first StatusNotification. */
  boot(now: number): void {
    this.booted = true;
    this.opts.send('BootNotification', {
      reason: 'PowerUp',
      chargingStation: { model: 'SimCharger', vendorName: 'site-controller-sim', firmwareVersion: '1.0.0', serialNumber: this.spec.id.slice(0, 25) },
    });
    this.status(now, this.ev ? 'Occupied' : 'Available');
  }

  private status(now: number, connectorStatus: 'Available' | 'Occupied'): void {
    this.opts.send('StatusNotification', { timestamp: iso(this.clock(now)), connectorStatus, evseId: 1, connectorId: 1 });
  }

  private txEvent(now: number, eventType: 'Started' | 'Updated' | 'Ended', triggerReason: string, extra: Record<string, unknown> = {}): void {
    if (!this.transactionId) return;
    const phasesL = reportedPhases(this.quirks, this.spec.phases === 1 ? 1 : 3);
    const sampledValue: Record<string, unknown>[] = [
      { value: round1(this.energyRegisterWh), measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } },
      { value: round1(this.currentA.reduce((a, b) => a + b, 0) * this.opts.voltageV), measurand: 'Power.Active.Import', unitOfMeasure: { unit: 'W' } },
      ...phasesL.map((phase, i) => ({ value: round1(this.currentA[i]), measurand: 'Current.Import', phase, unitOfMeasure: { unit: 'A' } })),
    ];
    const payload: Record<string, unknown> = {
      eventType,
      timestamp: iso(this.clock(now)),
      triggerReason,
      seqNo: this.seqNo++,
      transactionInfo: { transactionId: this.transactionId, chargingState: this.chargingState, ...(extra.transactionInfo as object | undefined) },
      evse: { id: 1, connectorId: 1 },
      meterValue: [{ timestamp: iso(this.clock(now)), sampledValue: eventType === 'Started' ? sampledValue.slice(0, 1) : sampledValue }],
    };
    if (eventType === 'Started') payload.idToken = { idToken: `${this.ev?.spec.id ?? 'EV'}-TOKEN`.slice(0, 36), type: 'Local' };
    this.opts.send('TransactionEvent', payload);
  }

  plugIn(ev: SimEv, now: number): void {
    this.ev = ev;
    this.status(now, 'Occupied');
    this.startTransaction(now, 'CablePluggedIn');
    if (ev.spec.sendsNeeds) {
      this.opts.send('NotifyEVChargingNeeds', {
        evseId: 1,
        chargingNeeds: {
          requestedEnergyTransfer: this.spec.phases === 1 || ev.spec.phases === 1 ? 'AC_single_phase' : 'AC_three_phase',
          departureTime: iso(this.clock(ev.spec.departAt)),
          acChargingParameters: { energyAmount: Math.round(ev.wantedWh), evMinCurrent: MIN_OFFER_A, evMaxCurrent: Math.round(ev.spec.maxA), evMaxVoltage: 400 },
        },
      });
    }
  }

  /** Starts a transaction for the plugged-in EV (at plug-in, or on a RequestStartTransaction after a remote stop). */
  private startTransaction(now: number, triggerReason: 'CablePluggedIn' | 'RemoteStart', remoteStartId?: number): void {
    this.transactionId = `${this.spec.id}-${++this.txCounter}`.slice(0, 36);
    this.txStartedAt = now;
    this.seqNo = 0;
    this.chargingState = 'EVConnected';
    this.txEvent(now, 'Started', triggerReason, remoteStartId !== undefined ? { transactionInfo: { remoteStartId } } : {});
    this.lastMeterAt = now;
  }

  /** Ends the running transaction; the EV may stay plugged in (then it does not charge). */
  private endTransaction(now: number, triggerReason: 'EVDeparted' | 'RemoteStop', stoppedReason: 'EVDisconnected' | 'Remote'): void {
    if (!this.transactionId) return;
    this.currentA = [0, 0, 0];
    this.chargingState = this.ev && triggerReason === 'RemoteStop' ? 'EVConnected' : 'Idle';
    this.txEvent(now, 'Ended', triggerReason, { transactionInfo: { stoppedReason } });
    // A TxProfile ends with its transaction (K01): the station drops it.
    for (let i = this.installed.length - 1; i >= 0; i--) {
      if (this.installed[i].profile.chargingProfilePurpose === 'TxProfile') this.installed.splice(i, 1);
    }
    this.transactionId = undefined;
    this.txStartedAt = undefined;
  }

  unplug(now: number): void {
    if (!this.ev) return;
    this.endTransaction(now, 'EVDeparted', 'EVDisconnected');
    this.currentA = [0, 0, 0];
    this.chargingState = 'Idle';
    this.status(now, 'Available');
    this.ev = undefined;
  }

  /** The limit (A per phase) and phases the station offers now, from its profiles (its maximum when none). */
  offer(now: number): PhaseLimit {
    const l = effectiveLimit(this.installed, this.clock(now), {
      evseId: 1,
      transactionId: this.transactionId,
      transactionStartedAt: this.txStartedAt === undefined ? undefined : this.clock(this.txStartedAt),
      voltageV: this.opts.voltageV,
    });
    if (this.spec.profiles !== 'apply' || !l) return { limitA: this.spec.maxA, numberPhases: 3 };
    // A station that cannot switch phases offers the current on the phases it has: the EV decides how many it uses.
    if (!this.capabilities.phaseSwitching) return { limitA: Math.min(l.limitA, this.spec.maxA), numberPhases: 3 };
    return { limitA: Math.min(l.limitA, this.spec.maxA), numberPhases: l.numberPhases, phaseToUse: l.phaseToUse };
  }

  /**
   * Sets the contactors to the phases the limit asks for. While the EV draws current a change is a switch under load:
   * charging stops for PHASE_SWITCH_PAUSE_MS (an EV not drawing, or no transaction, changes without a pause). Only a
   * change of the phase count (or of the phase used) switches, not every profile.
   */
  private switchPhases(limit: PhaseLimit, now: number): void {
    if (!this.capabilities.phaseSwitching) return;
    const phases = limit.numberPhases;
    const phase = phases === 1 ? Math.min(2, Math.max(0, (limit.phaseToUse ?? 1) - 1)) : 0;
    if (phases === this.contactors.phases && phase === this.contactors.phase) return;
    this.contactors = { phases, phase };
    if (!this.transactionId || !this.currentA.some((a) => a > 0)) return;
    this.switchingUntil = now + PHASE_SWITCH_PAUSE_MS;
    this.phaseSwitches++;
  }

  /** Advances to `now` having charged for `dtMs`: applies due operations, sets the EV's current, integrates energy. */
  step(now: number, dtMs: number): void {
    while (this.pending.length && this.pending[0].at <= now) this.pending.shift()!.apply();
    const limit = this.offer(now);
    this.appliedLimit = limit;
    this.switchPhases(limit, now);
    const ev = this.ev;
    if (!ev || !this.transactionId) {
      this.currentA = [0, 0, 0];
      return;
    }
    const phases = Math.min(this.spec.phases, ev.spec.phases, this.contactors.phases);
    // While the contactors change the EV is paused (as below 6 A) and resumes at the new limit.
    const a = now < this.switchingUntil ? 0 : ev.drawFor(limit.limitA);
    const wh = ev.charge(a, phases, this.opts.voltageV, dtMs);
    // The EV draws the full current unless it got full within the step; then its mean current over the step.
    const full = (a * phases * this.opts.voltageV * dtMs) / 3_600_000;
    const drawn = dtMs > 0 && wh < full - 1e-9 ? (wh * 3_600_000) / (phases * this.opts.voltageV * dtMs) : a;
    this.energyRegisterWh += wh;
    // phaseToUse picks the phase of a 3-phase EVSE switched to one; a 1-phase EV or charger is wired to L1.
    const onPhase = this.spec.phases === 1 || ev.spec.phases === 1 ? 0 : this.contactors.phase;
    this.currentA = phases === 3 ? [drawn, drawn, drawn] : ([0, 1, 2].map((i) => (i === onPhase ? drawn : 0)) as [number, number, number]);
    const state = ev.full && this.spec.reportsSuspendedEV !== false ? 'SuspendedEV' : a <= 0 && !ev.full ? 'SuspendedEVSE' : 'Charging';
    if (state !== this.chargingState) {
      this.chargingState = state;
      this.txEvent(now, 'Updated', 'ChargingStateChanged');
      this.lastMeterAt = now;
    } else if (now - this.lastMeterAt >= this.opts.meterIntervalMs) {
      this.txEvent(now, 'Updated', 'MeterValuePeriodic');
      this.lastMeterAt = now;
    }
  }

  /** Current the EVSE draws on each site phase now (A). */
  siteCurrentA(): [number, number, number] {
    const out: [number, number, number] = [0, 0, 0];
    const map = sitePhases(this.spec.rotation);
    for (let i = 0; i < 3; i++) out[map[i]] += this.currentA[i];
    return out;
  }

  /** Runs `apply` once the station's reaction time has passed (with the profile changes received with it). */
  afterReaction(now: number, apply: () => void): void {
    this.later(now, apply);
  }

  private later(now: number, apply: () => void): void {
    const at = now + this.spec.reactionS * 1000;
    this.pending.push({ at, apply });
    this.pending.sort((a, b) => a.at - b.at);
    if (this.spec.reactionS === 0) this.step(now, 0);
  }

  /** Why this station's firmware refuses a (well-formed) profile: a unit or stack level it does not declare, or a quirk. */
  refusal(evseId: number, profile: ChargingProfile): string | undefined {
    const caps = this.capabilities;
    if (!caps.rateUnits.includes(profile.chargingSchedule[0].chargingRateUnit)) return `unit ${profile.chargingSchedule[0].chargingRateUnit} not supported`;
    if (profile.stackLevel > caps.maxStackLevel) return `stackLevel above ${caps.maxStackLevel}`;
    return profileRefusal(this.quirks, evseId, profile, this.opts.voltageV);
  }

  /** Answers a CALL from the controller or the CSMS as the station would. Throws OcppCallError for CALLERRORs. */
  handle(action: string, payload: Record<string, unknown>, now: number): Record<string, unknown> {
    if (!this.capabilities.smartCharging && SMART_CHARGING_ACTIONS.has(action)) {
      throw new OcppCallError('NotImplemented', `${action}: this simulated station has no smart charging (no-smart-charging)`);
    }
    switch (action) {
      case 'SetChargingProfile':
        return this.setChargingProfile(payload, now);
      case 'ClearChargingProfile':
        return this.clearChargingProfile(payload, now);
      case 'GetChargingProfiles': {
        const found = this.installed.length > 0;
        return { status: found ? 'Accepted' : 'NoProfiles' };
      }
      case 'GetCompositeSchedule': {
        const evseId = Number(payload.evseId ?? 0);
        const duration = Number(payload.duration ?? 0);
        const l = this.offer(now);
        return {
          status: 'Accepted',
          schedule: { evseId, duration, scheduleStart: iso(this.clock(now)), chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: round1(l.limitA), numberPhases: l.numberPhases }] },
        };
      }
      case 'GetVariables':
        return this.getVariables(payload);
      case 'SetVariables': {
        const data = (payload.setVariableData as { component: unknown; variable: unknown }[] | undefined) ?? [];
        return { setVariableResult: data.map((d) => ({ attributeStatus: 'Rejected', component: d.component, variable: d.variable })) };
      }
      case 'TriggerMessage':
        return { status: 'Accepted' };
      // Answered first; the TransactionEvent follows at the next step, as a station sends it after its response.
      case 'RequestStartTransaction': {
        if (!this.ev || this.transactionId) return { status: 'Rejected' };
        const remoteStartId = Number(payload.remoteStartId);
        this.pending.unshift({ at: now, apply: () => this.ev && !this.transactionId && this.startTransaction(now, 'RemoteStart', remoteStartId) });
        return { status: 'Accepted' };
      }
      case 'RequestStopTransaction': {
        if (!this.transactionId || payload.transactionId !== this.transactionId) return { status: 'Rejected' };
        const tx = this.transactionId;
        this.pending.unshift({ at: now, apply: () => this.transactionId === tx && this.endTransaction(now, 'RemoteStop', 'Remote') });
        return { status: 'Accepted' };
      }
      case 'Reset':
      case 'ChangeAvailability':
      case 'UnlockConnector':
        return { status: action === 'UnlockConnector' ? 'Unlocked' : 'Accepted' };
      case 'GetTransactionStatus':
        return { messagesInQueue: false, ...(this.transactionId && payload.transactionId === this.transactionId ? { ongoingIndicator: true } : {}) };
      default:
        throw new OcppCallError('NotImplemented', `${action} is not implemented by this simulated station`);
    }
  }

  /**
   * A limit set on the station itself, as an installer sets a charger's local maximum (the score's baselines): no
   * firmware quirk of its smart-charging interface stands in the way; an ignorer still ignores it, and a station
   * without smart charging takes none (what the score counts as load no one limits: quirks.ts limitable()).
   */
  install(evseId: number, profile: ChargingProfile, now: number): Record<string, unknown> {
    if (!this.capabilities.smartCharging) return { status: 'Rejected' };
    return this.setChargingProfile({ evseId, chargingProfile: profile }, now, true);
  }

  private setChargingProfile(payload: Record<string, unknown>, now: number, local = false): Record<string, unknown> {
    const evseId = Number(payload.evseId);
    const profile = payload.chargingProfile as ChargingProfile | undefined;
    if (!profile || !Number.isInteger(evseId)) throw new OcppCallError('FormatViolation', 'evseId and chargingProfile are required');
    if (this.spec.profiles === 'reject') return { status: 'Rejected', statusInfo: { reasonCode: 'UnsupportedRequest' } };
    const why = validateProfile(evseId, profile, {
      evseCount: 1,
      activeTransactions: new Map(this.transactionId ? [[1, this.transactionId]] : []),
      rateUnits: local ? ['A', 'W'] : this.capabilities.rateUnits,
      maxStackLevel: local ? 10 : this.capabilities.maxStackLevel,
      periodsPerSchedule: 24,
      installed: this.installed,
    });
    if (why) return { status: 'Rejected', statusInfo: { reasonCode: 'InvalidValue', additionalInfo: why.slice(0, 512) } };
    const refused = local ? undefined : profileRefusal(this.quirks, evseId, profile, this.opts.voltageV);
    if (refused) return { status: 'Rejected', statusInfo: { reasonCode: 'UnsupportedRequest', additionalInfo: refused } };
    const receivedAt = this.clock(now);
    this.later(now, () => {
      const i = this.installed.findIndex((p) => p.profile.id === profile.id);
      if (i >= 0) this.installed.splice(i, 1);
      // A TxProfile for a transaction that ended meanwhile is dropped, like the station does at transaction end.
      if (profile.chargingProfilePurpose === 'TxProfile' && profile.transactionId !== this.transactionId) return;
      this.installed.push({ evseId, profile: structuredClone(profile), receivedAt });
    });
    return { status: 'Accepted' };
  }

  private clearChargingProfile(payload: Record<string, unknown>, now: number): Record<string, unknown> {
    const id = payload.chargingProfileId as number | undefined;
    const c = payload.chargingProfileCriteria as { evseId?: number; chargingProfilePurpose?: string; stackLevel?: number } | undefined;
    const matches = (p: InstalledProfile) =>
      id !== undefined
        ? p.profile.id === id
        : (c?.evseId === undefined || p.evseId === c.evseId) &&
          (c?.chargingProfilePurpose === undefined || p.profile.chargingProfilePurpose === c.chargingProfilePurpose) &&
          (c?.stackLevel === undefined || p.profile.stackLevel === c.stackLevel);
    if (!this.installed.some(matches)) return { status: 'Unknown' };
    this.later(now, () => {
      for (let i = this.installed.length - 1; i >= 0; i--) if (matches(this.installed[i])) this.installed.splice(i, 1);
    });
    return { status: 'Accepted' };
  }

  private getVariables(payload: Record<string, unknown>): Record<string, unknown> {
    const known: Record<string, string> = {
      'SmartChargingCtrlr/RateUnit': this.capabilities.rateUnits.join(','),
      'SmartChargingCtrlr/PeriodsPerSchedule': '24',
      'SmartChargingCtrlr/ProfileStackLevel': String(this.capabilities.maxStackLevel),
      'SmartChargingCtrlr/ACPhaseSwitchingSupported': String(this.capabilities.phaseSwitching),
      // An ignorer says it is enabled: it accepts profiles, it just does not apply them.
      'SmartChargingCtrlr/Enabled': String(this.capabilities.smartCharging),
      'SmartChargingCtrlr/Available': String(this.capabilities.smartCharging),
      'ChargingStation/SupplyPhases': String(this.spec.phases),
      'EVSE/SupplyPhases': String(this.spec.phases),
      'SmartChargingCtrlr/Phases3to1': String(this.capabilities.phaseSwitching),
    };
    type Item = { component: { name: string; evse?: unknown }; variable: { name: string; instance?: string }; attributeType?: string };
    const data = (payload.getVariableData as Item[] | undefined) ?? [];
    return {
      getVariableResult: data.map((d) => {
        const v = known[`${d.component?.name}/${d.variable?.name}`];
        return v === undefined
          ? { attributeStatus: 'UnknownVariable', component: d.component, variable: d.variable }
          : { attributeStatus: 'Accepted', attributeType: d.attributeType ?? 'Actual', attributeValue: v, component: d.component, variable: d.variable };
      }),
    };
  }
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}
