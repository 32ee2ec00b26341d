// The control loop: station events (src/stations), meter readings, the site limit and the settings in; an allocation out, dispatched as
// TxProfiles. Solves on every event that changes the answer (coalesced within one scheduler turn) and at least every
// control.loopMs, all on the injected scheduler so the site score runs this exact loop on virtual time.
import { BehaviorSubject, interval, type Subscription } from 'rxjs';
import { allocate as defaultAllocate } from '../../algorithms/index.js';
import type { AllocationInput, AllocationResult, PvForecastPoint } from '../../algorithms/types.js';
import type { Reading } from '../../drivers/types.js';
import type { SiteLimit } from '../controller/site-limit.js';
import { StationClocks } from '../stations/clock.js';
import { OWN_PROFILE_IDS, type StationCapabilities, type StationEvent } from '../stations/model.js';
import { fallbackCapabilities } from './capabilities.js';
import { CsmsProfiles } from './csms-profiles.js';
import { Dispatcher, type TxTarget } from './dispatcher.js';
import { ExportWatch } from './export-credit.js';
import { Measurements, ROOT_NODE } from './measurements.js';
import { evseKey, SessionTracker } from './sessions.js';
import { StationTrust } from './station-trust.js';
import { stationRecord } from '../common/ids.js';
import { isValidTimeZone, tariffWindows } from './tariff.js';
import { CONTROL_TIMING } from './settings.js';
import { applyPlan, Planner } from './planner.js';
import { evCapOf } from './ev-cap.js';
import { undrawnIdle } from './idle.js';
import { EnteredNeedsBook } from './entered-needs.js';
import { batteryCommand, type BatteryCommand } from './battery-reserve.js';
import { atMinimum, heldAtMinimum } from './no-zero.js';
import { buildInput, defaultSettings, defaultStation, STATION_SETTLE_MS, type EvseHistory, type SessionView, type SettledLoad } from './solve-input.js';
import type { ControlInputs, ControlLoop, ControlSettings, ControlState, EnteredNeeds, EvseState, NodeState } from './types.js';

export function createControlLoop(inputs: ControlInputs): ControlLoop {
  const { scheduler, config, stations, log } = inputs;
  const allocate = inputs.allocate ?? defaultAllocate;
  const reactionMs = inputs.reactionMs ?? CONTROL_TIMING.reactionMs;
  const exportCreditFraction = Math.min(1, Math.max(0, inputs.exportCreditFraction ?? config.control.exportCreditFraction ?? 0));
  const tariffZone = config.control.tariffTimeZone ?? 'UTC';
  if (config.control.tariff?.length && !isValidTimeZone(tariffZone)) {
    log.error({ tariffTimeZone: tariffZone }, 'control.tariffTimeZone is not a known time zone; tariff windows are read in UTC');
  }
  const stationCfg = new Map(config.stations.list.map((s) => [s.id, s]));
  const stationOf = (id: string) => stationCfg.get(id) ?? defaultStation(id);

  const trust = new StationTrust(config, scheduler, log, stationOf, (id) => {
    const ended = sessions.forgetStation(id);
    if (!stationCfg.has(id)) {
      dispatcher.forget(id);
      clocks.reset(id);
    }
    if (ended) log.warn({ stationId: id, ended, afterS: config.stations.goneSessionTimeoutS }, 'station gone too long: its sessions ended, its draw no longer counted');
    requestSolve();
  });
  const sessions = new SessionTracker((id) => stationOf(id).evses, (id) => stationOf(id).phases, config.site.voltage, {
    boundsOf: (id) => trust.boundsOf(id),
    implausible: (id, evseId, reason) => trust.implausible(id, evseId, reason),
  });
  const csms = new CsmsProfiles();
  const entered = new EnteredNeedsBook();
  const measurements = new Measurements(config);
  const clocks = new StationClocks();
  const clockAlarmMs = (config.control.clockOffsetAlarmS ?? 60) * 1000;
  const clockAlarmed = new Set<string>();
  const history = new Map<string, EvseHistory>();
  const plannerCfg = config.control.planner ?? { enabled: true, periodS: 300 };
  const planner = inputs.lpSolver && plannerCfg.enabled ? new Planner(inputs.lpSolver, plannerCfg.periodS * 1000, log) : undefined;
  /** Plans the sessions (when a planner runs) and hands allocate() the plan for now. */
  const allocateWithPlan = (input: AllocationInput): AllocationResult =>
    allocate(planner ? { ...input, evses: applyPlan(input.evses, planner.planFor(input)) } : input);
  let settings: ControlSettings = defaultSettings(config);
  let pvForecast: readonly PvForecastPoint[] | undefined;
  let siteLimit: SiteLimit | undefined;
  /** The ramp advances on the periodic solves only (see solve()). */
  let lastTickAt: number | undefined;
  const settledNet = new Map<string, SettledLoad>();
  const exportWatch = new ExportWatch(CONTROL_TIMING.stationSettleMs, CONTROL_TIMING.exportFallMemoryMs);
  let lastResult: AllocationResult = { allocations: [], alarms: [] };
  let lastNodes: NodeState[] = [];
  let lastSolveMs = 0;
  let lastBattery: BatteryCommand | undefined;
  let stopped = false;

  // Our stack level: the highest the station accepts, so our TxProfile replaces any CSMS TxProfile below it (we send
  // min(CSMS, allocation) ourselves). Unknown → one above anything the CSMS uses there.
  const stackLevel = (stationId: string, caps: StationCapabilities): number =>
    caps.maxStackLevel ?? Math.max(1, csms.maxStackLevel(stationId, 'TxProfile') + 1, csms.maxStackLevel(stationId, 'TxDefaultProfile') + 1);

  const dispatcher = new Dispatcher({
    scheduler,
    requests: stations.requests,
    log,
    voltageV: config.site.voltage,
    validityMs: config.control.profileValidityS * 1000,
    hysteresisA: config.control.hysteresisA,
    defaultTxLimitA: config.control.defaultTxLimitA,
    callTimeoutMs: inputs.callTimeoutMs ?? 10_000,
    backoffMinMs: Math.max(500, config.control.loopMs),
    backoffMaxMs: 60_000,
    fallbackCapabilities: (id) => fallbackCapabilities(stationOf(id)),
    stackLevel,
    csmsDefaultLimitA: (id) => csms.defaultLimitFor(id, scheduler.now(), config.site.voltage),
    onChange: () => requestSolve(),
    clockOffsetMs: (id) => clocks.offsetMs(id) ?? 0,
    ...(inputs.memory ? { memory: inputs.memory } : {}),
    minA: (id) => stationOf(id).minA,
    evses: (id) => stationOf(id).evses,
    reactionMs,
  });

  const initial: ControlState = { at: scheduler.now(), nodes: [], evses: [], alarms: [], lastSolveMs: 0 };
  const state$ = new BehaviorSubject<ControlState>(initial);

  // Coalesce bursts (a hundred session events in one turn) into one solve, still within the same instant.
  let pending: Subscription | undefined;
  function requestSolve(): void {
    if (stopped || pending) return;
    pending = scheduler.schedule(() => {
      pending = undefined;
      try {
        solve();
      } catch (err) {
        log.error({ err: err instanceof Error ? err.message : String(err) }, 'control: solve failed');
      }
    }, 0);
  }

  function views(): SessionView[] {
    const now = scheduler.now();
    return sessions.active().map((s) => {
      const caps = dispatcher.capabilities(s.stationId);
      const configured = stationOf(s.stationId);
      // The rotation the station reports (1.6 ConnectorPhaseRotation) unless the config file sets one.
      const station = !configured.rotationSet && caps.phaseRotation ? { ...configured, rotation: caps.phaseRotation } : configured;
      const d = dispatcher.evseState(s.stationId, s.evseId);
      const c = csms.limitFor(s.stationId, s.evseId, s.transactionId, now, config.site.voltage, s.startedAt);
      const connected = dispatcher.isConnected(s.stationId);
      let fixedReason = d.reason;
      if (!fixedReason && !connected) fixedReason = 'station not connected';
      if (!fixedReason && c.txStackLevel !== undefined && c.txStackLevel >= stackLevel(s.stationId, caps)) {
        fixedReason = `CSMS TxProfile at stack level ${c.txStackLevel}, not below the controller's`;
      }
      return { session: entered.overlay(s), station, dispatch: d, csms: c, connected, canSwitchPhases: caps.phaseSwitching && station.phases === 3, fixedReason };
    });
  }

  /**
   * `tick`: the periodic solve, where increases advance by the ramp over the time since the previous tick. Event-driven
   * solves pass a zero step: they apply decreases (and a new session's minimum) at once but never ramp up, so a burst
   * of events cannot stall the ramp in 0.1 A rounding nor speed it up.
   */
  function solve(tick = false): void {
    if (stopped) return;
    const now = scheduler.now();
    const stepMs = tick ? (lastTickAt === undefined ? config.control.loopMs : now - lastTickAt) : 0;
    if (tick) lastTickAt = now;
    measurements.checkSilence(now);
    const vs = views();
    // Stations that keep drawing above their limit after the reaction time become fixed loads.
    let marked = false;
    for (const v of vs) {
      const m = v.session.measuredCurrentA;
      marked = dispatcher.observe(v.session.stationId, v.session.evseId, m ? Math.max(...m) : undefined, v.session.measuredAt, now, reactionMs) || marked;
    }
    const current = marked ? views() : vs;
    const tariff = tariffWindows(now, config.control.tariff, tariffZone);
    const built = buildInput({ now, config, settings, siteLimit, measurements, views: current, history, stepMs, exportCreditFraction, tariff, settledNet, exportWatch, batteryPlanW: planner?.plannedBatteryW(), pvForecast });
    const t0 = performance.now();
    try {
      lastResult = allocateWithPlan(built.input);
    } catch (err) {
      // An optimizer failure must not leave stations at their old limits: everyone falls back to the minimum safe state.
      log.error({ err: err instanceof Error ? err.message : String(err) }, 'allocation failed; pausing controllable EVSEs');
      lastResult = { allocations: built.input.evses.map((e) => ({ evseId: e.id, limitA: 0, phases: e.phases, reason: 'paused-no-capacity' as const })), alarms: [] };
    }
    let nodes = built.nodes;
    let solved = built.input;
    // A station that refuses 0 A (no-zero) keeps drawing its minimum when paused: solve again with it counted as a
    // fixed load at (at least) its minimum, so the others never get the current it keeps.
    const held = heldAtMinimum(current, lastResult, (id) => dispatcher.capabilities(id));
    if (held.size) {
      const again = current.map((v) => (held.has(evseKey(v.session.stationId, v.session.evseId)) ? atMinimum(v) : v));
      const rebuilt = buildInput({ now, config, settings, siteLimit, measurements, views: again, history, stepMs, exportCreditFraction, tariff, settledNet, exportWatch, batteryPlanW: planner?.plannedBatteryW(), pvForecast });
      try {
        lastResult = allocateWithPlan(rebuilt.input);
        nodes = rebuilt.nodes;
        solved = rebuilt.input;
      } catch (err) {
        log.error({ err: err instanceof Error ? err.message : String(err) }, 'allocation failed; pausing controllable EVSEs');
        lastResult = { allocations: rebuilt.input.evses.map((e) => ({ evseId: e.id, limitA: 0, phases: e.phases, reason: 'paused-no-capacity' as const })), alarms: [] };
      }
      for (const a of lastResult.allocations) if (held.has(a.evseId)) Object.assign(a, { limitA: 0, reason: 'paused-no-capacity' });
    }
    lastSolveMs = performance.now() - t0;
    lastNodes = nodes;

    const byId = new Map(lastResult.allocations.map((a) => [a.evseId, a]));
    const targets: TxTarget[] = [];
    const liveKeys = new Set<string>();
    for (const v of current) {
      const key = evseKey(v.session.stationId, v.session.evseId);
      liveKeys.add(key);
      const a = byId.get(key);
      const limitA = a?.limitA ?? 0;
      const phases = a?.phases ?? 3;
      const h = history.get(key);
      const m = v.session.measuredCurrentA;
      const drawing = m !== undefined && Math.max(...m) >= 1;
      const cs = v.session.chargingState;
      const undrawn = undrawnIdle(v, h, now);
      const evCap = evCapOf(v, h?.evCap, now, STATION_SETTLE_MS);
      const idleByState = h?.idleByState ? !(cs === 'Charging' || drawing) : cs === 'SuspendedEV' && !drawing && (h?.limitA ?? 0) > 0;
      history.set(key, {
        limitA,
        phases,
        // Offered current (a limit in force) and not taking it, as the station says (SuspendedEV) or as its draw shows
        // (undrawnIdle); over once it charges again.
        evIdle: idleByState || undrawn.idleByDrawSince !== undefined,
        ...(idleByState ? { idleByState } : {}),
        ...undrawn,
        ...(evCap ? { evCap } : {}),
        pausedSince: limitA === 0 ? (h?.pausedSince ?? now) : undefined,
        chargingSince: limitA > 0 ? (h?.chargingSince ?? now) : undefined,
        phasesSince: h && h.phases !== phases ? now : (h?.phasesSince ?? now),
      });
      if (!v.session.transactionId) continue;
      targets.push({
        hold: v.fixedReason !== undefined,
        stationId: v.session.stationId,
        evseId: v.session.evseId,
        transactionId: v.session.transactionId,
        limitA: Math.min(limitA, v.csms.limitA ?? Infinity),
        // At the EVSE's own maximum or held by the CSMS's limit: an exact figure, not a share of measured headroom.
        atCap: a?.reason === 'max' || (v.csms.limitA !== undefined && v.csms.limitA <= limitA),
        ...(a?.reason === 'pv-limited' ? { followsSurplus: true } : {}),
        phases,
        ...(phases === 1 && v.canSwitchPhases ? { phaseToUse: 1 as const } : {}),
      });
    }
    for (const k of [...history.keys()]) if (!liveKeys.has(k)) history.delete(k);
    dispatcher.setTargets(targets);
    const fuseA = nodes.find((n) => n.id === ROOT_NODE)?.limitA ?? config.site.limitA; // the root, not credited
    lastBattery = batteryCommand({ config, measurements, fuseA, views: current, input: solved, result: lastResult, planW: planner?.plannedBatteryW() });
    state$.next(buildState(now, current));
  }

  function buildState(now: number, vs: SessionView[]): ControlState {
    const byId = new Map(lastResult.allocations.map((a) => [a.evseId, a]));
    const viewByKey = new Map(vs.map((v) => [evseKey(v.session.stationId, v.session.evseId), v]));
    const keys = new Set<string>();
    for (const s of config.stations.list) for (let e = 1; e <= s.evses; e++) keys.add(evseKey(s.id, e));
    for (const s of sessions.all()) keys.add(evseKey(s.stationId, s.evseId));
    const evses: EvseState[] = [...keys].map((key) => {
      const slash = key.lastIndexOf('/');
      const stationId = key.slice(0, slash);
      const evseId = Number(key.slice(slash + 1));
      const s = sessions.get(stationId, evseId);
      const v = viewByKey.get(key);
      const d = dispatcher.evseState(stationId, evseId);
      const a = byId.get(key);
      const reason = v?.fixedReason ?? d.reason;
      const needs = s?.transactionId !== undefined ? entered.needsOf(s) : undefined;
      return {
        stationId,
        evseId,
        controllable: reason === undefined,
        ...(reason !== undefined ? { controllableReason: reason } : {}),
        ...(s?.status !== undefined ? { status: s.status } : {}),
        ...(s?.transactionId !== undefined ? { transactionId: s.transactionId } : {}),
        ...(v && a && v.fixedReason === undefined ? { limitA: Math.min(a.limitA, v.csms.limitA ?? Infinity), phases: a.phases, reason: a.reason } : {}),
        ...(v && a?.limitedBy ? { limitedBy: a.limitedBy } : {}),
        ...(v && v.fixedReason !== undefined ? { reason: 'not-controllable' as const } : {}),
        ...(s?.transactionId !== undefined && d.appliedLimitA !== undefined ? { appliedLimitA: d.appliedLimitA } : {}),
        ...(s?.measuredCurrentA ? { measuredCurrentA: s.measuredCurrentA } : {}),
        ...(s?.measuredPowerW !== undefined ? { measuredPowerW: s.measuredPowerW } : {}),
        ...(s?.energyRegisterWh !== undefined && s.energyAtStartWh !== undefined ? { energyWh: s.energyRegisterWh - s.energyAtStartWh } : {}),
        ...(v?.csms.limitA !== undefined ? { csmsLimitA: v.csms.limitA } : {}),
        ...(needs ? { needs } : {}),
      };
    });
    const clockOffsetsS: Record<string, number> = stationRecord();
    for (const [id, ms] of clocks.all()) clockOffsetsS[id] = Math.round(ms / 100) / 10;
    const implausible = trust.reports();
    return { at: now, nodes: lastNodes, evses, stations: dispatcher.stationStates(), alarms: lastResult.alarms, lastSolveMs, clockOffsetsS, ...(implausible.length ? { implausible } : {}), ...(lastBattery ? { battery: lastBattery } : {}) };
  }

  /** A station-stamped event is a sample of its clock; one sent late from its offline queue is not. A session's start
   * is not taken either: a 1.6 station's start is known only once the CSMS answered, seconds after its stamp. */
  function sampleClock(ev: StationEvent): void {
    if (ev.kind !== 'status' && ev.kind !== 'meter' && ev.kind !== 'session') return;
    if (ev.time === undefined || (ev.kind === 'session' && (ev.offline || ev.phase === 'started'))) return;
    clocks.sample(ev.stationId, ev.time, ev.at);
    const offset = clocks.offsetMs(ev.stationId) ?? 0;
    const off = Math.abs(offset) > clockAlarmMs;
    if (off && !clockAlarmed.has(ev.stationId)) {
      clockAlarmed.add(ev.stationId);
      log.warn({ stationId: ev.stationId, clockOffsetS: Math.round(offset / 1000) }, `station clock is ${Math.round(Math.abs(offset) / 1000)} s ${offset > 0 ? 'ahead of' : 'behind'} the controller's; limits are sent on its clock`);
    } else if (!off && clockAlarmed.delete(ev.stationId)) {
      log.info({ stationId: ev.stationId, clockOffsetS: Math.round(offset / 1000) }, 'station clock back within the alarm threshold');
    }
  }

  function onStation(ev: StationEvent): void {
    sampleClock(ev);
    switch (ev.kind) {
      case 'connection':
        // Nothing of ours goes to a station before its registration is accepted ('registration' says when).
        if (ev.up) {
          trust.up(ev.stationId);
          dispatcher.stationUp(ev.stationId, ev.accepted ?? true);
        } else {
          trust.down(ev.stationId);
          dispatcher.stationDown(ev.stationId);
        }
        return requestSolve();
      case 'registration':
        return dispatcher.stationAccepted(ev.stationId, ev.accepted);
      case 'booted':
        // It may have set its clock from the CSMS's answer: measure again.
        clocks.reset(ev.stationId);
        sessions.stationBooted(ev.stationId);
        dispatcher.stationBooted(ev.stationId);
        return requestSolve();
      case 'csms-profile-set':
      case 'csms-profile-cleared': {
        const caps = dispatcher.capabilities(ev.stationId);
        const r = csms.onEvent(ev, scheduler.now(), OWN_PROFILE_IDS, stackLevel(ev.stationId, caps));
        if (r === 'cleared') dispatcher.ownProfilesCleared(ev.stationId);
        if (r !== 'none') requestSolve();
        return;
      }
      default: {
        // A 2.0.1 departureTime is on the station's clock (it turns the EV's "in n seconds" into a time with it).
        const onOurs = ev.kind === 'needs' && ev.needs.departureAt !== undefined ? { ...ev, needs: { ...ev.needs, departureAt: clocks.toControllerMs(ev.stationId, ev.needs.departureAt) } } : ev;
        const change = sessions.apply(withQuirks(onOurs), scheduler.now());
        if ((ev.kind === 'session' && ev.phase !== 'updated') || ev.kind === 'needs') planner?.invalidate();
        if (ev.kind === 'session' && ev.phase === 'ended') csms.transactionEnded(ev.stationId, ev.transactionId);
        if (change !== 'none' && change !== 'meter') requestSolve();
      }
    }
  }

  /** Measurements read the way the station's quirks need: a station that reports one phase's current for a 3-phase
   * session (single-phase-report) means that current on every phase in use (the safe reading). A 3-phase station
   * whose report names one phase only has that quirk (learned and kept): the absent phases are unknown, not 0 — read
   * as 0 they made a 3-phase EV look like a 1-phase one, and it was then given one phase. */
  function withQuirks(ev: StationEvent): StationEvent {
    if ((ev.kind !== 'session' && ev.kind !== 'meter') || !ev.measurement.currentA) return ev;
    const onePhaseReport = ev.measurement.currentPhases === 1 && (stationCfg.get(ev.stationId)?.phases ?? 3) === 3;
    if (onePhaseReport) dispatcher.noteQuirk(ev.stationId, 'single-phase-report');
    if (!onePhaseReport && !dispatcher.capabilities(ev.stationId).quirks?.includes('single-phase-report')) return ev;
    const { currentA, ...rest } = ev.measurement;
    return { ...ev, measurement: { ...rest, currentAnyPhaseA: Math.max(...currentA) } };
  }

  // A bad event or a failing input stream is logged and skipped: nothing here may take the process down. A meter stream
  // that dies simply goes silent, and its node falls to the safe limit after staleMs.
  const guard = <T>(what: string, fn: (v: T) => void) => ({
    next: (v: T) => {
      try {
        fn(v);
      } catch (err) {
        log.error({ err: err instanceof Error ? err.message : String(err) }, `control: ${what} event failed`);
      }
    },
    error: (err: unknown) => log.error({ err: err instanceof Error ? err.message : String(err) }, `control: ${what} stream failed`),
  });

  const subs: Subscription[] = [];
  subs.push(
    stations.events$.subscribe(guard('station', (ev: StationEvent) => onStation(ev))),
    inputs.readings$.subscribe(guard('reading', (r: Reading) => {
      if (measurements.apply(r)) requestSolve();
    })),
    inputs.siteLimit$.subscribe(guard('site limit', (l: SiteLimit) => {
      const changed = !siteLimit || l.limitA.some((x, i) => x !== siteLimit?.limitA[i]) || l.limitW !== siteLimit.limitW;
      siteLimit = l;
      if (changed) requestSolve();
    })),
    inputs.settings$.subscribe(guard('settings', (s: ControlSettings) => {
      settings = s;
      requestSolve();
    })),
    interval(config.control.loopMs, scheduler).subscribe(guard('loop tick', () => solve(true))),
  );
  if (inputs.pvForecast$) {
    subs.push(inputs.pvForecast$.subscribe(guard('PV forecast', (points: readonly PvForecastPoint[] | undefined) => {
      pvForecast = points;
      planner?.invalidate();
    })));
  }
  if (inputs.enteredNeeds$) {
    subs.push(inputs.enteredNeeds$.subscribe(guard('entered needs', (list: readonly EnteredNeeds[]) => {
      if (!entered.set(list)) return;
      planner?.invalidate();
      requestSolve();
    })));
  }
  // Stations already connected when the loop starts (a restart of the loop inside a running relay).
  for (const id of stations.connectedStations()) dispatcher.stationUp(id, stations.accepted?.(id) ?? true);
  requestSolve();

  return {
    state$: state$.asObservable(),
    state: () => state$.getValue(),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      pending?.unsubscribe();
      for (const s of subs) s.unsubscribe();
      trust.stop();
      dispatcher.stop();
      state$.complete();
    },
  };
}
