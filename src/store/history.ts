// Site history for the page's charts: a recorder samples the site every N seconds into SQLite, and queries return
// series downsampled in SQL into at most `maxPoints` buckets (per-phase currents take the bucket's maximum so a short
// peak against the fuse stays visible on a week chart; limits the minimum; powers the mean).
//
// Each sample is written at three resolutions — as is, per minute and per 5 minutes (running max/min/sum/count) — so
// a day or week chart reads a few thousand rows instead of every sample.
import { interval, type SchedulerLike, type Subscription } from 'rxjs';
import type { PhaseVector } from '../../algorithms/types.js';
import { migrate, type Db } from './db.js';
import { stationRecord } from '../common/ids.js';

/** Resolutions kept (ms); 0 = every sample. */
const LEVELS = [0, 60_000, 300_000] as const;

const siteTable = (level: number) => `CREATE TABLE history_site_${level} (
     t INTEGER PRIMARY KEY,
     g1 REAL, g2 REAL, g3 REAL,
     l1 REAL, l2 REAL, l3 REAL,
     gw_sum REAL NOT NULL DEFAULT 0, gw_n INTEGER NOT NULL DEFAULT 0,
     pv_sum REAL NOT NULL DEFAULT 0, pv_n INTEGER NOT NULL DEFAULT 0,
     bw_sum REAL NOT NULL DEFAULT 0, bw_n INTEGER NOT NULL DEFAULT 0,
     soc_sum REAL NOT NULL DEFAULT 0, soc_n INTEGER NOT NULL DEFAULT 0,
     cw_sum REAL NOT NULL DEFAULT 0, cw_n INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE history_station_${level} (
     t INTEGER NOT NULL,
     station_id TEXT NOT NULL,
     w_sum REAL NOT NULL,
     w_n INTEGER NOT NULL,
     PRIMARY KEY (t, station_id)
   ) WITHOUT ROWID;`;

const MIGRATIONS = [
  `CREATE TABLE history_site (at INTEGER PRIMARY KEY);
   CREATE TABLE history_station (at INTEGER NOT NULL, station_id TEXT NOT NULL, power_w REAL NOT NULL, PRIMARY KEY (station_id, at));`,
  // v2: multi-resolution tables (the v1 tables held only a few minutes of test data at most).
  `DROP TABLE IF EXISTS history_site; DROP TABLE IF EXISTS history_station; ${LEVELS.map(siteTable).join('\n')}`,
];

export interface HistorySample {
  at: number;
  gridCurrentA: PhaseVector | null;
  limitA: PhaseVector | null;
  gridPowerW: number | null;
  pvPowerW: number | null;
  batteryPowerW: number | null;
  batterySoc: number | null;
  chargingPowerW: number | null;
  /** Charging power per station (W). */
  stations: Record<string, number>;
}

/** Column-oriented series, ready for uPlot: `t` in epoch seconds, null where nothing was measured. */
export interface HistorySeries {
  from: number;
  to: number;
  bucketMs: number;
  t: number[];
  gridL1: (number | null)[];
  gridL2: (number | null)[];
  gridL3: (number | null)[];
  limitL1: (number | null)[];
  limitL2: (number | null)[];
  limitL3: (number | null)[];
  gridW: (number | null)[];
  pvW: (number | null)[];
  batteryW: (number | null)[];
  batterySoc: (number | null)[];
  chargingW: (number | null)[];
  stations: Record<string, (number | null)[]>;
}

export interface HistoryStore {
  write(sample: HistorySample): void;
  query(from: number, to: number, maxPoints?: number): HistorySeries;
  /** Deletes samples older than `before` (epoch ms); returns how many full-resolution site rows. */
  prune(before: number): number;
}

export interface HistoryRecorderOptions {
  intervalMs: number;
  /** Samples older than this are pruned (ms); default 8 days (the page shows a week). */
  retentionMs?: number;
  scheduler: SchedulerLike;
  sample: () => HistorySample | undefined;
  onError?: (err: unknown) => void;
}

interface SiteRow {
  b: number; g1: number | null; g2: number | null; g3: number | null; l1: number | null; l2: number | null; l3: number | null;
  gw: number | null; pv: number | null; bw: number | null; soc: number | null; cw: number | null;
}

// NULL-safe running max/min: SQLite's scalar max()/min() return NULL when either side is NULL.
const upMax = (c: string) => `${c} = CASE WHEN ${c} IS NULL OR excluded.${c} > ${c} THEN COALESCE(excluded.${c}, ${c}) ELSE ${c} END`;
const upMin = (c: string) => `${c} = CASE WHEN ${c} IS NULL OR excluded.${c} < ${c} THEN COALESCE(excluded.${c}, ${c}) ELSE ${c} END`;
const upSum = (c: string) => `${c}_sum = ${c}_sum + excluded.${c}_sum, ${c}_n = ${c}_n + excluded.${c}_n`;

export function createHistoryStore(db: Db): HistoryStore {
  migrate(db, 'history', MIGRATIONS);
  const inserts = LEVELS.map((level) => ({
    level,
    site: db.prepare(
      `INSERT INTO history_site_${level} (t, g1, g2, g3, l1, l2, l3, gw_sum, gw_n, pv_sum, pv_n, bw_sum, bw_n, soc_sum, soc_n, cw_sum, cw_n)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(t) DO UPDATE SET ${['g1', 'g2', 'g3'].map(upMax).join(', ')}, ${['l1', 'l2', 'l3'].map(upMin).join(', ')},
         ${['gw', 'pv', 'bw', 'soc', 'cw'].map(upSum).join(', ')}`,
    ),
    station: db.prepare(
      `INSERT INTO history_station_${level} (t, station_id, w_sum, w_n) VALUES (?, ?, ?, 1)
       ON CONFLICT(t, station_id) DO UPDATE SET w_sum = w_sum + excluded.w_sum, w_n = w_n + 1`,
    ),
  }));
  const queries = LEVELS.map((level) => ({
    site: db.prepare<[number, number, number, number], SiteRow>(
      `SELECT CAST(t / ? AS INTEGER) AS b, MAX(g1) AS g1, MAX(g2) AS g2, MAX(g3) AS g3, MIN(l1) AS l1, MIN(l2) AS l2, MIN(l3) AS l3,
         SUM(gw_sum) / NULLIF(SUM(gw_n), 0) AS gw, SUM(pv_sum) / NULLIF(SUM(pv_n), 0) AS pv, SUM(bw_sum) / NULLIF(SUM(bw_n), 0) AS bw,
         SUM(soc_sum) / NULLIF(SUM(soc_n), 0) AS soc, SUM(cw_sum) / NULLIF(SUM(cw_n), 0) AS cw
       FROM history_site_${level} WHERE t >= ? AND t < ? GROUP BY b ORDER BY b LIMIT ?`,
    ),
    station: db.prepare<[number, number, number], { b: number; station_id: string; w: number }>(
      `SELECT CAST(t / ? AS INTEGER) AS b, station_id, SUM(w_sum) / SUM(w_n) AS w FROM history_station_${level}
       WHERE t >= ? AND t < ? GROUP BY b, station_id`,
    ),
    pruneSite: db.prepare(`DELETE FROM history_site_${level} WHERE t < ?`),
    pruneStation: db.prepare(`DELETE FROM history_station_${level} WHERE t < ?`),
  }));

  const write = db.transaction((s: HistorySample) => {
    const g = s.gridCurrentA;
    const l = s.limitA;
    const sum = (v: number | null) => [v ?? 0, v === null || !Number.isFinite(v) ? 0 : 1];
    const values = [g?.[0] ?? null, g?.[1] ?? null, g?.[2] ?? null, l?.[0] ?? null, l?.[1] ?? null, l?.[2] ?? null,
      ...sum(s.gridPowerW), ...sum(s.pvPowerW), ...sum(s.batteryPowerW), ...sum(s.batterySoc), ...sum(s.chargingPowerW)];
    for (const ins of inserts) {
      const t = ins.level === 0 ? s.at : Math.floor(s.at / ins.level) * ins.level;
      ins.site.run(t, ...values);
      for (const [id, w] of Object.entries(s.stations)) if (Number.isFinite(w)) ins.station.run(t, id, w);
    }
  });

  return {
    write: (s) => write(s),
    query(from, to, maxPoints = 400) {
      const points = Math.min(Math.max(Math.floor(maxPoints), 10), 5000);
      const bucketMs = Math.max(1000, Math.ceil((to - from) / points / 1000) * 1000);
      // The coarsest stored resolution that still fits a bucket several times, so buckets stay even.
      let li = 0;
      for (let i = LEVELS.length - 1; i > 0; i--) if (LEVELS[i] * 4 <= bucketMs) { li = i; break; }
      const q = queries[li];
      const rows = q.site.all(bucketMs, from, to, points + 2);
      const index = new Map<number, number>();
      rows.forEach((r, i) => index.set(r.b, i));
      const round = (v: number | null, digits = 2) => (v === null ? null : Math.round(v * 10 ** digits) / 10 ** digits);
      const series: HistorySeries = {
        from, to, bucketMs,
        t: rows.map((r) => (r.b * bucketMs) / 1000),
        gridL1: rows.map((r) => round(r.g1)), gridL2: rows.map((r) => round(r.g2)), gridL3: rows.map((r) => round(r.g3)),
        limitL1: rows.map((r) => round(r.l1)), limitL2: rows.map((r) => round(r.l2)), limitL3: rows.map((r) => round(r.l3)),
        gridW: rows.map((r) => round(r.gw, 0)), pvW: rows.map((r) => round(r.pv, 0)), batteryW: rows.map((r) => round(r.bw, 0)),
        batterySoc: rows.map((r) => round(r.soc, 1)), chargingW: rows.map((r) => round(r.cw, 0)),
        stations: stationRecord(),
      };
      for (const r of q.station.all(bucketMs, from, to)) {
        const i = index.get(r.b);
        if (i === undefined) continue;
        const list = (series.stations[r.station_id] ??= rows.map(() => null));
        list[i] = round(r.w, 0);
      }
      return series;
    },
    prune(before) {
      let removed = 0;
      queries.forEach((q, i) => {
        q.pruneStation.run(before);
        const n = q.pruneSite.run(before).changes;
        if (i === 0) removed = n;
      });
      return removed;
    },
  };
}

/** Samples the site every `intervalMs` on the given scheduler and writes it; prunes old rows once an hour. */
export function startHistoryRecorder(store: HistoryStore, options: HistoryRecorderOptions): Subscription {
  const retentionMs = options.retentionMs ?? 8 * 24 * 3600_000;
  let lastPrune = 0;
  return interval(options.intervalMs, options.scheduler).subscribe(() => {
    try {
      const s = options.sample();
      if (s) store.write(s);
      const now = options.scheduler.now();
      if (now - lastPrune > 3600_000) {
        lastPrune = now;
        store.prune(now - retentionMs);
      }
    } catch (err) {
      options.onError?.(err);
    }
  });
}
