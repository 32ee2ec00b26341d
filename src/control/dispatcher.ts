// The dispatcher: turns the loop's per-EVSE targets into session limits (and one default limit per station) through
// the station model's requests (src/stations: the protocol's adapter builds the frames).
// One outstanding call per station (decreases first), only when a limit changed beyond the hysteresis or a profile
// is due for renewal, retries with backoff, and "not controllable" when a station says Rejected / NotImplemented or
// keeps drawing above its limit. Every timer runs on the injected scheduler.
import { floorToTenth as floor1 } from '../../algorithms/index.js';
import type { LimitAnswer, Quirk, StationCapabilities } from '../stations/model.js';
import type { DispatcherOptions, EvseDispatch, EvseDispatchState, LimitChange, StationDispatch, TxTarget } from './dispatch-types.js';
import { fixedLoadReason, mergeQuirks } from './capabilities.js';
import { CONTROL_TIMING } from './settings.js';
import { MAX_REACTION_MS, Reactions } from './reactions.js';
import { verifyLimit } from './verify.js';
import { judgeDraw } from './draw-judge.js';
import { limitToSend, sendUrgency, trackRise } from './send-policy.js';
import type { StationControlState } from './types.js';

export type { DispatcherOptions, EvseDispatchState, LimitChange, TxTarget } from './dispatch-types.js';

/** How long accepted limit changes are remembered (for judging measurements against the limit then in force). */
const CHANGE_MEMORY_MS = CONTROL_TIMING.changeMemoryMs;
/** A station whose reaction is not measured yet may be a slow one (those seen take 30-60 s): a limit that follows the
 * PV surplus waits up to this long for its sample before the next is sent. With 15 s here (the default patience) a
 * 45 s station's car was stopped 14 times in a morning (2 with a minute), and a 30 s one's drew 313 Wh from the grid
 * while it charged (7 Wh with a minute). */
const LANDING_UNKNOWN_MS = 60_000;

export class Dispatcher {
  private readonly stations = new Map<string, StationDispatch>();
  private stopped = false;
  /** Reaction times measured per station (reactions.ts). */
  readonly reactions: Reactions;

  constructor(private readonly o: DispatcherOptions) {
    this.reactions = new Reactions((id, ms) => this.remember(this.station(id), { reactionMs: ms }));
  }

  capabilities(stationId: string): StationCapabilities {
    const st = this.stations.get(stationId);
    // A station not dealt with yet gets config's (no entry is made for it here: ids come from whoever connects).
    return st ? (st.caps ?? this.fallback(st)) : this.o.fallbackCapabilities(stationId);
  }

  /** What the station needed (quirks learned), for the page. */
  learned(stationId: string): readonly Quirk[] {
    return this.stations.get(stationId)?.learned ?? [];
  }

  /** Config's capabilities with what is known of the station: config quirks and the quirks it was seen to need. */
  private fallback(st: StationDispatch): StationCapabilities {
    const base = this.o.fallbackCapabilities(st.id);
    const quirks = mergeQuirks(base.quirks, st.learned);
    return { ...base, ...(quirks.length ? { quirks } : {}) };
  }

  /** Keeps what was learned of a station (memory: SQLite in production). */
  private remember(st: StationDispatch, patch: { reactionMs?: number }): void {
    const m = this.o.memory;
    if (!m) return;
    try {
      const prev = m.load(st.id);
      m.save(st.id, {
        ...(st.caps ? { caps: st.caps } : prev?.caps ? { caps: prev.caps } : {}),
        learned: st.learned,
        ...(patch.reactionMs ?? prev?.reactionMs ? { reactionMs: patch.reactionMs ?? prev?.reactionMs } : {}),
        updatedAt: this.now(),
      });
    } catch (err) {
      this.o.log.error({ stationId: st.id, err: err instanceof Error ? err.message : String(err) }, 'keeping what was learned of a station failed');
    }
  }

  /** A quirk seen in what the station sends (not in an answer to a call), kept as the fallbacks are. */
  noteQuirk(stationId: string, quirk: Quirk): void {
    const st = this.stations.get(stationId);
    if (st && !st.learned.includes(quirk)) this.learn(st, [quirk]);
  }

  private learn(st: StationDispatch, quirks: readonly Quirk[] | undefined): void {
    if (!quirks?.length) return;
    const merged = mergeQuirks(st.learned, quirks);
    if (merged.length === st.learned.length) return;
    st.learned = merged;
    if (st.caps) st.caps = { ...st.caps, quirks: mergeQuirks(st.caps.quirks, merged) };
    this.o.log.info({ stationId: st.id, quirks: merged }, 'station needed a fallback; kept');
    this.remember(st, {});
    this.o.onChange();
  }

  isConnected(stationId: string): boolean {
    return this.stations.get(stationId)?.connected ?? false;
  }

  /** `accepted`: whether the station's registration is accepted now (RelayEvents: ConnectionEvent.accepted). */
  stationUp(stationId: string, accepted = true): void {
    const st = this.station(stationId);
    st.connected = true;
    st.accepted = accepted;
    st.inFlight = undefined;
    st.retryAt = undefined;
    st.backoffMs = this.o.backoffMinMs;
    // A reconnect may have lost the station's profiles: install the default again and re-send every TxProfile.
    st.needsSetup = true;
    st.defaultSent = undefined;
    for (const e of st.evses.values()) e.sent = undefined;
    // Next turn: whoever announced the connection may not have finished registering it yet.
    this.o.scheduler.schedule(() => this.pump(st), 0);
  }

  stationDown(stationId: string): void {
    const st = this.station(stationId);
    st.connected = false;
    st.inFlight = undefined;
    st.retryTimer?.unsubscribe();
    st.retryTimer = undefined;
    st.capsRetry?.unsubscribe();
    st.capsRetry = undefined;
    this.o.onChange();
  }

  /**
   * The station's registration changed (RelayEvents.boots$). Only an accepted station is called: a station refuses
   * calls before acceptance, and the CSMS alone may talk to it while it is Pending.
   */
  stationAccepted(stationId: string, accepted: boolean): void {
    const st = this.station(stationId);
    if (st.accepted === accepted) return;
    st.accepted = accepted;
    if (accepted) this.pump(st);
  }

  /** An unlisted station gone beyond the timeout: nothing is kept for it (an id that came and went leaves no trace). */
  forget(stationId: string): void {
    const st = this.stations.get(stationId);
    if (!st || st.connected) return;
    st.retryTimer?.unsubscribe();
    st.capsRetry?.unsubscribe();
    this.stations.delete(stationId);
  }

  /** Boot accepted: the station restarted; read its capabilities again and forget what it held. */
  stationBooted(stationId: string): void {
    const st = this.station(stationId);
    st.caps = undefined;
    st.notControllable = undefined;
    st.noComposite = undefined;
    st.needsSetup = true;
    st.defaultSent = undefined;
    for (const e of st.evses.values()) {
      e.sent = undefined;
      e.notControllable = undefined;
      e.overSince = undefined;
    }
    this.pump(st);
  }

  /** The CSMS cleared (or overwrote) profiles that may have been ours: re-send them. */
  ownProfilesCleared(stationId: string): void {
    const st = this.station(stationId);
    st.defaultSent = undefined;
    for (const e of st.evses.values()) e.sent = undefined;
    this.pump(st);
  }

  /** The full set of sessions now (held ones included); EVSEs not listed have no session. */
  setTargets(targets: TxTarget[]): void {
    const seen = new Set<EvseDispatch>();
    for (const t of targets) {
      const e = this.evse(t.stationId, t.evseId);
      if (e.target?.transactionId !== t.transactionId) {
        // A new transaction starts with a clean slate (a Rejected belonged to the old one).
        e.notControllable = undefined;
        e.overSince = undefined;
        if (e.sent?.transactionId !== t.transactionId) e.sent = undefined;
      }
      e.target = t;
      trackRise(e, t, this.now());
      seen.add(e);
    }
    for (const st of this.stations.values()) {
      for (const e of st.evses.values()) {
        if (!seen.has(e) && e.target) {
          e.target = undefined;
          e.sent = undefined;
          e.notControllable = undefined;
          e.overSince = undefined;
        }
      }
      this.pump(st);
    }
  }

  /** What the station accepted for an EVSE, and whether it follows profiles. */
  evseState(stationId: string, evseId: number): EvseDispatchState {
    const st = this.stations.get(stationId);
    const e = st?.evses.get(evseId);
    const reason = st?.notControllable ?? e?.notControllable;
    const sent = e?.sent;
    const reactionMs = this.reactions.reactionMs(stationId);
    return {
      appliedLimitA: sent ? (sent.appliedA ?? sent.limitA) : undefined,
      appliedPhases: sent?.phases,
      appliedChanges: sent?.changes,
      controllable: reason === undefined,
      reason,
      ...(this.reactions.followsCuts(stationId) && !reason ? { followsCuts: true } : {}),
      ...(reactionMs !== undefined ? { reactionMs } : {}),
    };
  }

  /**
   * Reaction check: a station whose measured current stays above the limit it accepted for longer than `reactionMs`
   * does not follow profiles; it becomes a fixed load. Returns true when it just got marked.
   */
  observe(stationId: string, evseId: number, measuredMaxA: number | undefined, measuredAt: number | undefined, now: number, defaultReactionMs: number): boolean {
    const e = this.stations.get(stationId)?.evses.get(evseId);
    if (!e?.sent || measuredMaxA === undefined || measuredAt === undefined) return false;
    this.reactions.sample(stationId, evseId, measuredAt, measuredMaxA);
    const s = e.sent;
    const limit = s.appliedA ?? s.limitA;
    if (s.landedAt === undefined && measuredAt >= s.changedAt && Math.abs(measuredMaxA - limit) <= Math.max(0.5, 0.05 * limit)) s.landedAt = measuredAt;
    // Judged by its own measured reaction time (a slow applier gets the time it needs), at least the default.
    const verdict = judgeDraw(e, measuredMaxA, measuredAt, now, this.reactions.patienceMs(stationId, defaultReactionMs));
    if (verdict === 'recovered') {
      this.o.log.info({ stationId, evseId, reactionMs: this.reactions.reactionMs(stationId) }, 'follows its limit after all (slow); controllable again');
      this.o.onChange();
    } else if (verdict === 'marked') this.o.log.warn({ stationId, evseId }, `not controllable: ${e.notControllable}`);
    return verdict !== 'none';
  }


  /** Per station: capabilities, the quirks it needed, its measured reaction time, and why it is a fixed load. */
  stationStates(): StationControlState[] {
    return [...this.stations.values()].map((st) => {
      const r = this.reactions.reactionMs(st.id);
      return {
        id: st.id,
        capabilities: st.caps ?? this.fallback(st),
        learned: [...st.learned],
        ...(r !== undefined ? { reactionMs: r } : {}),
        ...(st.notControllable ? { fixedReason: st.notControllable } : {}),
      };
    });
  }

  /** Renewals and retries are judged here; the loop calls it every period. */
  tick(): void {
    for (const st of this.stations.values()) this.pump(st);
  }

  stop(): void {
    this.stopped = true;
    for (const st of this.stations.values()) {
      st.retryTimer?.unsubscribe();
      st.capsRetry?.unsubscribe();
    }
  }

  private station(id: string): StationDispatch {
    let st = this.stations.get(id);
    if (!st) {
      const notes = this.o.memory?.load(id);
      st = { id, connected: false, accepted: true, backoffMs: this.o.backoffMinMs, needsSetup: true, learned: [...(notes?.learned ?? [])], evses: new Map() };
      this.stations.set(id, st);
      if (notes?.reactionMs) this.reactions.seed(id, notes.reactionMs);
    }
    return st;
  }

  private evse(stationId: string, evseId: number): EvseDispatch {
    const st = this.station(stationId);
    let e = st.evses.get(evseId);
    if (!e) {
      e = {};
      st.evses.set(evseId, e);
    }
    return e;
  }

  private now(): number {
    return this.o.scheduler.now();
  }

  private offsetMs(stationId: string | undefined): number {
    const o = stationId === undefined ? 0 : (this.o.clockOffsetMs?.(stationId) ?? 0);
    return Number.isFinite(o) ? o : 0;
  }

  /** How long a limit that follows the PV surplus may wait to land before the next is sent (ms; send-policy.ts,
   * landing): the station's measured reaction, or LANDING_UNKNOWN_MS while none is measured. */
  private landingMs(e: EvseDispatch): number {
    return (e.target ? this.reactions.reactionMs(e.target.stationId) : undefined) ?? LANDING_UNKNOWN_MS;
  }

  /** What the EVSE needs sent now (send-policy.ts). */
  private urgency(e: EvseDispatch, stackLevel: number): number | undefined {
    const offsetMoved = Math.abs(this.offsetMs(e.target?.stationId) - (e.sent?.offsetMs ?? 0)) > Math.max(2000, this.o.validityMs / 10);
    return sendUrgency(e, stackLevel, this.now(), this.o, offsetMoved, this.landingMs(e));
  }

  private pump(st: StationDispatch): void {
    if (this.stopped || !st.connected || !st.accepted || st.inFlight) return;
    if (st.retryAt !== undefined && this.now() < st.retryAt) return;
    if (st.needsSetup) return void this.setup(st);
    if (st.notControllable) return;
    const caps = st.caps ?? this.fallback(st);
    const level = this.o.stackLevel(st.id, caps);
    const csmsDefault = this.o.csmsDefaultLimitA(st.id);
    const defaultLimit = floor1(Math.min(this.o.defaultTxLimitA, csmsDefault ?? Infinity));
    if (!st.defaultSent || st.defaultSent.limitA !== defaultLimit || st.defaultSent.stackLevel !== level) {
      return void this.sendDefault(st, caps, level, defaultLimit);
    }
    let best: { e: EvseDispatch; u: number } | undefined;
    for (const e of st.evses.values()) {
      const u = this.urgency(e, level);
      if (u !== undefined && (!best || u < best.u)) best = { e, u };
    }
    if (best?.e.target) return void this.sendTx(st, best.e, best.e.target, caps, level);
    const now = this.now();
    for (const e of st.evses.values()) if (e.verifyAt !== undefined && e.verifyAt <= now) return void this.verify(st, e);
  }

  /** Reads the composite schedule back after a new or lower limit; a station showing a higher one ignores ours. */
  private verify(st: StationDispatch, e: EvseDispatch): void {
    e.verifyAt = undefined;
    const sent = e.sent;
    const t = e.target;
    if (st.noComposite || !sent || !t || t.hold || e.notControllable) return void this.pump(st);
    const token = {};
    st.inFlight = token;
    // Any limit accepted within the station's reaction time may not be installed yet: the highest of them is allowed.
    const since = this.now() - (e.suspect ? MAX_REACTION_MS : this.reactions.patienceMs(st.id, this.o.reactionMs));
    const accepted = Math.max(sent.appliedA ?? sent.limitA, ...sent.changes.filter((c) => c.at >= since).map((c) => c.limitA));
    void verifyLimit(this.o.requests, st.id, t.evseId, accepted, this.now(), this.o.callTimeoutMs).then((v) => {
      if (st.inFlight !== token) return;
      st.inFlight = undefined;
      if (v.kind === 'unsupported') st.noComposite = true;
      else if (v.kind === 'ok') e.suspect = false;
      else if (v.kind === 'ignored' && e.sent?.transactionId === sent.transactionId && !e.notControllable && !e.suspect) {
        // Some stations show a profile in their composite schedule only once applied (up to a minute or two): ask
        // again after the longest reaction believed before judging.
        e.suspect = true;
        e.verifyAt = this.now() + MAX_REACTION_MS;
      } else if (v.kind === 'ignored' && e.sent?.transactionId === sent.transactionId && !e.notControllable) {
        e.suspect = false;
        e.notControllable = v.reason;
        this.o.log.warn({ stationId: st.id, evseId: t.evseId }, `not controllable: ${v.reason}`);
        this.o.onChange();
      }
      this.pump(st);
    }).catch((err: unknown) => this.o.log.error({ stationId: st.id, err: err instanceof Error ? err.message : String(err) }, 'dispatcher: read-back failed'));
  }

  private setup(st: StationDispatch): void {
    const token = {};
    st.inFlight = token;
    void this.o.requests.readCapabilities(st.id, this.fallback(st), this.o.callTimeoutMs).then(({ caps, final }) => {
      if (st.inFlight !== token) return;
      st.inFlight = undefined;
      const quirks = mergeQuirks(caps.quirks, this.fallback(st).quirks);
      st.caps = { ...caps, ...(quirks.length ? { quirks } : {}) };
      st.needsSetup = false;
      this.o.log.debug({ stationId: st.id, caps: st.caps, final }, 'station capabilities');
      if (final) this.remember(st, {});
      // A station without smart charging is a fixed load: said once, never sent a profile (until it boots again).
      const fixed = fixedLoadReason(st.caps);
      if (fixed) return void this.markStation(st, fixed);
      // No answer at all: carry on with the fallback (the default profile matters more) and ask again later.
      if (!final && st.connected) {
        st.capsRetry?.unsubscribe();
        st.capsRetry = this.o.scheduler.schedule(() => {
          st.capsRetry = undefined;
          if (!st.connected || st.needsSetup) return;
          st.needsSetup = true;
          this.pump(st);
        }, this.o.backoffMaxMs / 4);
      }
      this.o.onChange();
      this.pump(st);
    }).catch((err: unknown) => this.o.log.error({ stationId: st.id, err: err instanceof Error ? err.message : String(err) }, 'dispatcher: station setup failed'));
  }

  private schedule(st: StationDispatch): void {
    st.retryTimer?.unsubscribe();
    const delay = st.backoffMs;
    st.retryAt = this.now() + delay;
    st.backoffMs = Math.min(this.o.backoffMaxMs, st.backoffMs * 2);
    st.retryTimer = this.o.scheduler.schedule(() => {
      st.retryAt = undefined;
      st.retryTimer = undefined;
      this.pump(st);
    }, delay);
  }

  private call(st: StationDispatch, send: () => Promise<LimitAnswer>, done: (r: LimitAnswer) => void): void {
    const token = {};
    st.inFlight = token;
    // Requests answer rather than throw; a throw all the same counts as no answer.
    send().catch((err: unknown): LimitAnswer => ({ status: 'Timeout', reason: err instanceof Error ? err.message : String(err) })).then(
      (answer) => {
        if (st.inFlight !== token) return;
        st.inFlight = undefined;
        if (answer.status === 'Timeout') {
          // Timeout, not connected, or a transient error: try again later, backing off.
          this.o.log.warn({ stationId: st.id, err: answer.reason }, 'setting a limit failed; retrying');
          if (st.connected) this.schedule(st);
          return;
        }
        if (answer.status !== 'NotSupported') st.backoffMs = this.o.backoffMinMs;
        done(answer);
        this.pump(st);
      },
    ).catch((err: unknown) => this.o.log.error({ stationId: st.id, err: err instanceof Error ? err.message : String(err) }, 'dispatcher: handling a reply failed'));
  }

  private markStation(st: StationDispatch, reason: string): void {
    st.notControllable = reason;
    this.o.log.warn({ stationId: st.id }, `not controllable: ${st.notControllable}`);
    this.o.onChange();
  }

  private sendDefault(st: StationDispatch, caps: StationCapabilities, stackLevel: number, limitA: number): void {
    const evses = this.o.evses?.(st.id);
    const limit = { limitA, stackLevel, caps, voltageV: this.o.voltageV, at: this.now(), ...(evses ? { evses } : {}) };
    this.call(st, () => this.o.requests.setDefaultLimit(st.id, limit, this.o.callTimeoutMs), (r) => {
      if (r.status === 'NotSupported') return this.markStation(st, r.reason);
      if (r.status === 'Accepted') this.learn(st, r.learned);
      if (r.status !== 'Accepted') this.o.log.warn({ stationId: st.id, reason: r.status === 'Rejected' ? r.reason : undefined }, 'station rejected the default TxDefaultProfile');
      // Either way do not loop on it: a rejected default is logged, the session limits still follow.
      st.defaultSent = { limitA, stackLevel };
    });
  }

  private sendTx(st: StationDispatch, e: EvseDispatch, t: TxTarget, caps: StationCapabilities, stackLevel: number): void {
    const limitA = limitToSend(e, t, this.now(), this.o.hysteresisA, this.landingMs(e));
    const now = this.now();
    // validTo on the station's clock: profileValidityS after now there, whatever its clock says now.
    const offsetMs = this.offsetMs(st.id);
    const limit = {
      evseId: t.evseId,
      transactionId: t.transactionId,
      limitA,
      phases: t.phases,
      ...(caps.phaseSwitching && t.phases === 1 && t.phaseToUse !== undefined ? { phaseToUse: t.phaseToUse } : {}),
      stackLevel,
      validTo: now + offsetMs + this.o.validityMs,
      // On the station's clock too: an Absolute schedule starts a little before its now.
      at: now + offsetMs,
      ...(this.o.minA ? { minA: this.o.minA(st.id) } : {}),
      caps,
      voltageV: this.o.voltageV,
    };
    const prev = e.sent;
    this.call(st, () => this.o.requests.setSessionLimit(st.id, limit, this.o.callTimeoutMs), (r) => {
      if (r.status === 'NotSupported') return this.markStation(st, r.reason);
      if (r.status === 'Accepted') this.learn(st, r.learned);
      if (e.target?.transactionId !== t.transactionId) return;
      if (r.status === 'Accepted') {
        const applied = r.appliedA ?? limitA;
        const changed = !prev || prev.limitA !== limitA || prev.phases !== t.phases || prev.transactionId !== t.transactionId;
        e.sent = {
          transactionId: t.transactionId,
          limitA,
          phases: t.phases,
          phaseToUse: t.phaseToUse,
          stackLevel,
          sentAt: now,
          offsetMs,
          ...(r.appliedA !== undefined ? { appliedA: r.appliedA } : {}),
          changedAt: changed ? now : prev.changedAt,
          ...(!changed && prev.landedAt !== undefined ? { landedAt: prev.landedAt } : {}),
          changes: rememberChange(prev?.transactionId === t.transactionId ? prev.changes : [], changed, now, applied),
        };
        e.rise = undefined;
        if (changed) this.reactions.changed(st.id, t.evseId, now, applied);
        // Read back the first limit of a session and every decrease (increases cannot hurt the fuse), once the station
        // has had its reaction time (some install a profile only at their next control cycle).
        if (!st.noComposite && (!prev || prev.transactionId !== t.transactionId || applied < (prev.appliedA ?? prev.limitA))) {
          e.verifyAt = now + this.reactions.patienceMs(st.id, this.o.reactionMs);
        }
        if (changed) this.o.onChange();
      } else {
        const reason = r.status === 'Rejected' ? r.reason : undefined;
        e.notControllable = `station rejected the TxProfile${reason ? ` (${reason})` : ''}`;
        this.o.log.warn({ stationId: st.id, evseId: t.evseId }, `not controllable: ${e.notControllable}`);
        this.o.onChange();
      }
    });
  }
}

/** Appends an accepted change and forgets those older than CHANGE_MEMORY_MS, keeping the one in force at the cutoff. */
function rememberChange(changes: LimitChange[], changed: boolean, now: number, limitA: number): LimitChange[] {
  const list = changed ? [...changes, { at: now, limitA }] : changes;
  let first = 0;
  while (first + 1 < list.length && list[first + 1].at <= now - CHANGE_MEMORY_MS) first++;
  return first > 0 ? list.slice(first) : list;
}
