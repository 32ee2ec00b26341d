// The facility manager's run-time settings (ControlSettings for the control loop, plus the page's own site limit),
// persisted in SQLite so a restart keeps them. Starts from config; every change is validated against the configured
// fuses here, so no caller can persist a limit above a fuse.
import { BehaviorSubject, type Observable } from 'rxjs';
import type { ChargingMode, PhaseVector } from '../../algorithms/types.js';
import type { Config } from '../config/types.js';
import { defaultSettings } from '../control/settings.js';
import type { ControlSettings } from '../control/types.js';
import { migrate, type Db } from './db.js';
import { ownValue, stationRecord } from '../common/ids.js';

const MIGRATIONS = [
  `CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL)`,
];

export const CHARGING_MODES: readonly ChargingMode[] = ['fast', 'pv', 'minpv'];

export class SettingsError extends Error {
  constructor(message: string, readonly status: 400 | 404 = 400) {
    super(message);
    this.name = 'SettingsError';
  }
}

/** What the page can set; ControlSettings plus the page's site limit (null = no page limit). */
export interface PersistedSettings {
  control: ControlSettings;
  /** The page's own site limit (A per phase), applied as an external limit of kind 'page'; null = none. */
  siteLimitA: PhaseVector | null;
}

export interface SettingsStore {
  /** Current settings for the control loop; replays the latest to new subscribers. */
  readonly settings$: Observable<ControlSettings>;
  /** The page's site limit; replays the latest. */
  readonly siteLimit$: Observable<PhaseVector | null>;
  current(): PersistedSettings;
  /** Each setter validates, persists, publishes and returns [old, new] for the audit log. Throws SettingsError. */
  setSiteLimit(limitA: PhaseVector | null): [PhaseVector | null, PhaseVector | null];
  setCircuitLimit(circuitId: string, limitA: PhaseVector | null): [PhaseVector | null, PhaseVector | null];
  setStation(stationId: string, change: { priority?: number; mode?: ChargingMode | null }): [StationSetting, StationSetting];
  setSiteMode(mode: ChargingMode): [ChargingMode, ChargingMode];
  setSafeLimit(limitA: PhaseVector): [PhaseVector, PhaseVector];
  close(): void;
}

export interface StationSetting { priority: number; mode: ChargingMode | null }

/** The settings implied by config alone (what a fresh database starts from). */
export { defaultSettings };

function checkVector(v: unknown, what: string, max: PhaseVector, maxWhat: string): PhaseVector {
  if (!Array.isArray(v) || v.length !== 3 || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
    throw new SettingsError(`${what} must be three numbers [L1, L2, L3] in amperes`);
  }
  const out = v as PhaseVector;
  out.forEach((x, i) => {
    if (x < 0) throw new SettingsError(`${what} L${i + 1} must not be negative (got ${x})`);
    if (x > max[i]) throw new SettingsError(`${what} L${i + 1} = ${x} A is above ${maxWhat} (${max[i]} A)`);
  });
  return [out[0], out[1], out[2]];
}

export function createSettingsStore(db: Db, config: Config, now: () => number = () => Date.now()): SettingsStore {
  migrate(db, 'settings', MIGRATIONS);
  const read = db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?');
  const write = db.prepare('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at');
  const circuitFuse = new Map(config.site.circuits.map((c) => [c.id, c.limitA] as const));

  const base = defaultSettings(config);
  let control = base;
  let siteLimitA: PhaseVector | null = null;
  // A stored value that no longer fits the config (fuse lowered, circuit removed) is dropped, never trusted:
  // a limit the controller is unsure of must not be higher than the configured one.
  const storedControl = read.get('control');
  if (storedControl) {
    try {
      const s = JSON.parse(storedControl.value) as Partial<ControlSettings>;
      const circuitLimitsA: Record<string, PhaseVector> = stationRecord();
      for (const [id, v] of Object.entries(s.circuitLimitsA ?? {})) {
        const fuse = circuitFuse.get(id);
        if (!fuse) continue;
        try { circuitLimitsA[id] = checkVector(v, id, fuse, 'fuse'); } catch { /* dropped */ }
      }
      let safeLimitA = base.safeLimitA;
      try { if (s.safeLimitA) safeLimitA = checkVector(s.safeLimitA, 'safe', config.site.limitA, 'fuse'); } catch { /* dropped */ }
      // A mode cleared on the page stays cleared: config's mode only applies to stations the stored settings
      // did not know yet (added to config since).
      const known = new Set(Object.keys(s.priorities ?? {}));
      const modes: Record<string, ChargingMode> = stationRecord();
      for (const [id, m] of Object.entries(base.modes)) if (!known.has(id)) modes[id] = m;
      for (const [id, m] of Object.entries(s.modes ?? {})) if (CHARGING_MODES.includes(m)) modes[id] = m;
      const priorities: Record<string, number> = stationRecord(Object.entries(base.priorities));
      for (const [id, p] of Object.entries(s.priorities ?? {})) if (Number.isInteger(p)) priorities[id] = p;
      const siteMode = s.siteMode && CHARGING_MODES.includes(s.siteMode) ? s.siteMode : base.siteMode;
      control = { circuitLimitsA, priorities, modes, siteMode, safeLimitA };
    } catch { /* unreadable row: config defaults */ }
  }
  const storedLimit = read.get('siteLimitA');
  if (storedLimit) {
    try {
      const v = JSON.parse(storedLimit.value) as unknown;
      siteLimitA = v === null ? null : checkVector(v, 'site limit', config.site.limitA, 'the site fuse');
    } catch { siteLimitA = null; }
  }

  const settings = new BehaviorSubject<ControlSettings>(control);
  const siteLimit = new BehaviorSubject<PhaseVector | null>(siteLimitA);

  const saveControl = (next: ControlSettings) => {
    write.run('control', JSON.stringify(next), now());
    control = next;
    settings.next(next);
  };

  return {
    settings$: settings.asObservable(),
    siteLimit$: siteLimit.asObservable(),
    current: () => ({ control, siteLimitA }),
    setSiteLimit(limitA) {
      const next = limitA === null ? null : checkVector(limitA, 'site limit', config.site.limitA, 'the site fuse site.limitA');
      const old = siteLimitA;
      write.run('siteLimitA', JSON.stringify(next), now());
      siteLimitA = next;
      siteLimit.next(next);
      return [old, next];
    },
    setCircuitLimit(circuitId, limitA) {
      const fuse = circuitFuse.get(circuitId);
      if (!fuse) throw new SettingsError(`no circuit "${circuitId}" in site.circuits`, 404);
      const next = limitA === null ? null : checkVector(limitA, `circuit ${circuitId} limit`, fuse, `its fuse`);
      const old = ownValue(control.circuitLimitsA, circuitId) ?? null;
      const circuitLimitsA = stationRecord(Object.entries(control.circuitLimitsA));
      if (next) circuitLimitsA[circuitId] = next;
      else delete circuitLimitsA[circuitId];
      saveControl({ ...control, circuitLimitsA });
      return [old, next];
    },
    setStation(stationId, change) {
      if (change.priority !== undefined && (!Number.isInteger(change.priority) || Math.abs(change.priority) > 1000)) {
        throw new SettingsError('priority must be an integer between -1000 and 1000');
      }
      if (change.mode !== undefined && change.mode !== null && !CHARGING_MODES.includes(change.mode)) {
        throw new SettingsError(`mode must be one of ${CHARGING_MODES.join(', ')} (or null for the site mode)`);
      }
      const old: StationSetting = { priority: ownValue(control.priorities, stationId) ?? 0, mode: ownValue(control.modes, stationId) ?? null };
      // Copies without a prototype: a station id like `__proto__` is an own key, not the object's prototype.
      const priorities = stationRecord(Object.entries(control.priorities));
      const modes = stationRecord(Object.entries(control.modes));
      if (change.priority !== undefined) priorities[stationId] = change.priority;
      if (change.mode === null) delete modes[stationId];
      else if (change.mode !== undefined) modes[stationId] = change.mode;
      saveControl({ ...control, priorities, modes });
      return [old, { priority: ownValue(priorities, stationId) ?? 0, mode: ownValue(modes, stationId) ?? null }];
    },
    setSiteMode(mode) {
      if (!CHARGING_MODES.includes(mode)) throw new SettingsError(`mode must be one of ${CHARGING_MODES.join(', ')}`);
      const old = control.siteMode;
      saveControl({ ...control, siteMode: mode });
      return [old, mode];
    },
    setSafeLimit(limitA) {
      const next = checkVector(limitA, 'safe limit', config.site.limitA, 'the site fuse site.limitA');
      const old = control.safeLimitA;
      saveControl({ ...control, safeLimitA: next });
      return [old, next];
    },
    close() {
      settings.complete();
      siteLimit.complete();
    },
  };
}
