// The web's SQLite stores on real files: settings survive a restart and never exceed a fuse, login sessions expire,
// the audit log keeps old → new, history downsamples, sessions from TransactionEvents.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { createAuditLog } from '../../src/store/audit.js';
import { openDatabase, type Db } from '../../src/store/db.js';
import { createHistoryStore } from '../../src/store/history.js';
import { createSessionStore, maskIdToken } from '../../src/store/sessions.js';
import { v201 } from '../../src/stations/v201/index.js';
import type { SessionEvent } from '../../src/stations/model.js';

/** A 2.0.1 TransactionEvent as the store sees it: through the adapter. */
const txEvent = (stationId: string, payload: Record<string, unknown>): SessionEvent =>
  v201.fromCall({ stationId, origin: 'station', messageId: 'm', action: 'TransactionEvent', payload, at: 0 })[0] as SessionEvent;
import { createSettingsStore, SettingsError } from '../../src/store/settings.js';
import { createWebSessionStore } from '../../src/store/web-sessions.js';
import { MetricsRegistry } from '../../src/web/metrics.js';

let dir: string;
let file: string;
let db: Db;
const config = (fuse: [number, number, number] = [63, 63, 63], board: [number, number, number] = [32, 32, 32]): Config =>
  parseConfig({
    stations: { listen: { host: '127.0.0.1', port: 0 }, list: [{ id: 'CP01', priority: 1, mode: 'pv' }, { id: 'CP02' }] },
    upstream: { url: 'ws://127.0.0.1:1/ocpp' },
    site: { limitA: fuse, circuits: [{ id: 'boardA', limitA: board }] },
    control: { safeLimitA: [8, 8, 8] },
  });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'web-store-'));
  file = join(dir, 'site.sqlite');
  db = openDatabase(file);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('settings store', () => {
  it('starts from config, persists every change across a reopen', async () => {
    const s = createSettingsStore(db, config());
    expect(await firstValueFrom(s.settings$)).toEqual({ circuitLimitsA: {}, priorities: { CP01: 1, CP02: 0 }, modes: { CP01: 'pv' }, siteMode: 'fast', safeLimitA: [8, 8, 8] });
    s.setSiteLimit([50, 50, 45]);
    s.setCircuitLimit('boardA', [20, 25, 30]);
    expect(s.setStation('CP01', { mode: null, priority: 3 })).toEqual([{ priority: 1, mode: 'pv' }, { priority: 3, mode: null }]);
    s.setSiteMode('minpv');
    expect(s.setSafeLimit([10, 10, 10])).toEqual([[8, 8, 8], [10, 10, 10]]);
    db.close();
    db = openDatabase(file);
    const again = createSettingsStore(db, config());
    expect(again.current()).toEqual({
      siteLimitA: [50, 50, 45],
      control: { circuitLimitsA: { boardA: [20, 25, 30] }, priorities: { CP01: 3, CP02: 0 }, modes: {}, siteMode: 'minpv', safeLimitA: [10, 10, 10] },
    });
    expect(await firstValueFrom(again.siteLimit$)).toEqual([50, 50, 45]);
  });

  it('refuses limits above a fuse and drops stored values the config no longer allows', () => {
    const s = createSettingsStore(db, config());
    expect(() => s.setSiteLimit([64, 10, 10])).toThrow(/L1 = 64 A is above the site fuse/);
    expect(() => s.setCircuitLimit('boardA', [10, 33, 10])).toThrow(/L2 = 33 A is above its fuse/);
    expect(() => s.setCircuitLimit('nope', [1, 1, 1])).toThrow(SettingsError);
    expect(() => s.setSafeLimit([Number.NaN, 1, 1])).toThrow(/three numbers/);
    s.setSiteLimit([60, 60, 60]);
    s.setCircuitLimit('boardA', [30, 30, 30]);
    // The installer lowered both fuses: the stored limits above them are not trusted.
    const lowered = createSettingsStore(db, config([40, 40, 40], [25, 25, 25]));
    expect(lowered.current().siteLimitA).toBeNull();
    expect(lowered.current().control.circuitLimitsA).toEqual({});
  });
});

describe('web sessions', () => {
  it('creates, finds, slides, expires and destroys sessions; stores only a hash of the token', () => {
    let now = 1_000_000;
    const store = createWebSessionStore(db, { idleMs: 60 * 60_000, maxAgeMs: 3 * 60 * 60_000, now: () => now });
    const { token, session } = store.create('manager');
    expect(store.get(token)).toMatchObject({ username: 'manager', csrfToken: session.csrfToken });
    const raw = db.prepare('SELECT * FROM web_sessions').all() as { token_hash: string }[];
    expect(JSON.stringify(raw)).not.toContain(token);
    now += 50 * 60_000;
    expect(store.get(token)).toBeDefined(); // slides the idle expiry
    now += 50 * 60_000;
    expect(store.get(token)).toBeDefined();
    now += 61 * 60_000;
    expect(store.get(token)).toBeUndefined(); // idle too long
    const b = store.create('manager');
    store.destroy(b.token);
    expect(store.get(b.token)).toBeUndefined();
    expect(store.get('short')).toBeUndefined();
  });
});

describe('audit log', () => {
  it('keeps who, when, old and new, newest first', () => {
    const audit = createAuditLog(db, () => 42);
    audit.record({ username: 'a', action: 'site-limit', target: 'site', oldValue: null, newValue: [1, 2, 3] });
    audit.record({ username: 'b', action: 'site-mode', target: 'site', oldValue: 'fast', newValue: 'pv' });
    expect(audit.list()).toEqual([
      { id: 2, at: 42, username: 'b', action: 'site-mode', target: 'site', oldValue: 'fast', newValue: 'pv' },
      { id: 1, at: 42, username: 'a', action: 'site-limit', target: 'site', oldValue: null, newValue: [1, 2, 3] },
    ]);
    expect(audit.list({ limit: 1 })).toHaveLength(1);
  });
});

describe('history', () => {
  it('downsamples into buckets: max for phase currents, mean for powers; prunes old rows', () => {
    const h = createHistoryStore(db);
    const t0 = 1_699_999_980_000; // on a minute boundary
    for (let i = 0; i < 3600; i++) {
      h.write({
        at: t0 + i * 1000, gridCurrentA: [i === 1234 ? 80 : 10, 20, 30], limitA: [63, 63, 63], gridPowerW: 1000 + (i % 2) * 1000,
        pvPowerW: null, batteryPowerW: null, batterySoc: null, chargingPowerW: 500, stations: { CP01: 250 },
      });
    }
    const s = h.query(t0, t0 + 3600_000, 60);
    expect(s.bucketMs).toBe(60_000);
    expect(s.t).toHaveLength(60);
    expect(Math.max(...(s.gridL1 as number[]))).toBe(80); // the one-second peak survives
    expect(s.gridW[0]).toBe(1500);
    expect(s.pvW[0]).toBeNull();
    expect(s.stations.CP01).toHaveLength(60);
    expect(s.stations.CP01[5]).toBe(250);
    // Coarser charts read the per-minute and per-5-minute tables: same peak, same means.
    for (const points of [10, 12]) {
      const coarse = h.query(t0, t0 + 3600_000, points);
      expect(coarse.t.length).toBeLessThanOrEqual(points + 1);
      expect(Math.max(...(coarse.gridL1 as number[]))).toBe(80);
      expect(coarse.gridW.every((w) => w === 1500)).toBe(true);
      expect(coarse.stations.CP01.every((w) => w === 250)).toBe(true);
    }
    const fiveMin = h.query(t0, t0 + 24 * 3600_000, 24);
    expect(fiveMin.bucketMs).toBe(3600_000);
    expect(fiveMin.t).toHaveLength(2); // the hour of samples straddles two hour buckets
    expect(Math.max(...(fiveMin.gridL1 as number[]))).toBe(80);
    expect(h.prune(t0 + 1800_000)).toBe(1800);
    expect(h.query(t0, t0 + 3600_000, 60).t).toHaveLength(30);
  });
});

describe('charging sessions', () => {
  it('opens a session from an Updated when the Started was missed, and masks tokens', () => {
    const s = createSessionStore(db);
    s.apply(txEvent('CP02', { eventType: 'Updated', timestamp: '2026-01-01T10:00:00Z', transactionInfo: { transactionId: 'T1' }, evse: { id: 2 }, meterValue: [{ sampledValue: [{ value: 100 }] }] }));
    s.apply(txEvent('CP02', { eventType: 'Ended', timestamp: '2026-01-01T11:00:00Z', transactionInfo: { transactionId: 'T1' }, meterValue: [{ sampledValue: [{ value: 3100 }] }] }));
    const [row] = s.list();
    expect(row).toMatchObject({ stationId: 'CP02', evseId: 2, transactionId: 'T1', energyWh: 3000, startedAt: Date.parse('2026-01-01T10:00:00Z'), endedAt: Date.parse('2026-01-01T11:00:00Z') });
    expect(s.list({ state: 'active' })).toHaveLength(0);
    expect(maskIdToken('123456789')).toBe('••••6789');
    expect(maskIdToken('12345678')).toBe('••••78');
    expect(maskIdToken('123')).toBe('••••');
    expect(maskIdToken(null)).toBeNull();
  });
});

describe('metrics registry', () => {
  it('renders gauges and counters in Prometheus text with escaped labels', async () => {
    const m = new MetricsRegistry({ processMetrics: false });
    m.gauge('queue_messages', 'Queued').set(3, { station: 'CP"1' });
    const c = m.counter('frames', 'Frames');
    c.inc();
    c.inc(2);
    m.collect(() => { throw new Error('broken collector'); });
    expect(await m.render()).toBe('# HELP queue_messages Queued\n# TYPE queue_messages gauge\nqueue_messages{station="CP\\"1"} 3\n\n# HELP frames_total Frames\n# TYPE frames_total counter\nframes_total 3\n');
    expect(() => m.gauge('bad name', 'x')).toThrow(/invalid metric name/);
    expect(() => m.gauge('frames_total', 'x')).toThrow(/already registered/);
  });
});
