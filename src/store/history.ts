// Site history for the page's charts: a recorder samples the site every N seconds into SQLite, and queries return
// series downsampled in SQL into at most `maxPoints` buckets (per-phase currents take the bucket's maximum so a short
// peak against the fuse stays visible on a week chart; powers take the mean).
import { interval, type SchedulerLike, type Subscription } from 'rxjs';
import type { PhaseVector } from '../../algorithms/types.js';
import { migrate, type Db } from './db.js';

const MIGRATIONS = [
  `CREATE TABLE history_site (
     at INTEGER PRIMARY KEY,
     grid_l1 REAL, grid_l2 REAL, grid_l3 REAL,
     limit_l1 REAL, limit_l2 REAL, limit_l3 REAL,
     grid_w REAL, pv_w REAL, battery_w REAL, battery_soc REAL, charging_w REAL
   );
   CREATE TABLE history_station (
     at INTEGER NOT NULL,
     station_id TEXT NOT NULL,
     power_w REAL NOT NULL,
     PRIMARY KEY (station_id, at)
   );
   CREATE INDEX history_station_at ON history_station (at);`,
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

/** Column-oriented series, ready for uPlot: `t` in epoch seconds, null where no sample fell in a bucket. */
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
  /** Deletes samples older than `before` (epoch ms); returns how many site rows. */
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
  t: number; g1: number | null; g2: number | null; g3: number | null; l1: number | null; l2: number | null; l3: number | null;
  gw: number | null; pv: number | null; bw: number | null; soc: number | null; cw: number | null;
}

export function createHistoryStore(db: Db): HistoryStore {
  migrate(db, 'history', MIGRATIONS);
  const insertSite = db.prepare(
    `INSERT OR REPLACE INTO history_site (at, grid_l1, grid_l2, grid_l3, limit_l1, limit_l2, limit_l3, grid_w, pv_w, battery_w, battery_soc, charging_w)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertStation = db.prepare('INSERT OR REPLACE INTO history_station (at, station_id, power_w) VALUES (?, ?, ?)');
  const siteQuery = db.prepare<[number, number, number, number], SiteRow>(
    `SELECT CAST(at / ? AS INTEGER) AS b, MIN(at) AS first, MAX(grid_l1) AS g1, MAX(grid_l2) AS g2, MAX(grid_l3) AS g3,
       MIN(limit_l1) AS l1, MIN(limit_l2) AS l2, MIN(limit_l3) AS l3, AVG(grid_w) AS gw, AVG(pv_w) AS pv,
       AVG(battery_w) AS bw, AVG(battery_soc) AS soc, AVG(charging_w) AS cw, 0 AS t
     FROM history_site WHERE at >= ? AND at < ? GROUP BY b ORDER BY b LIMIT ?`,
  );
  const stationQuery = db.prepare<[number, number, number], { b: number; station_id: string; w: number }>(
    `SELECT CAST(at / ? AS INTEGER) AS b, station_id, AVG(power_w) AS w FROM history_station WHERE at >= ? AND at < ? GROUP BY station_id, b`,
  );
  const pruneSite = db.prepare('DELETE FROM history_site WHERE at < ?');
  const pruneStation = db.prepare('DELETE FROM history_station WHERE at < ?');
  const write = db.transaction((s: HistorySample) => {
    const g = s.gridCurrentA;
    const l = s.limitA;
    insertSite.run(s.at, g?.[0] ?? null, g?.[1] ?? null, g?.[2] ?? null, l?.[0] ?? null, l?.[1] ?? null, l?.[2] ?? null,
      s.gridPowerW, s.pvPowerW, s.batteryPowerW, s.batterySoc, s.chargingPowerW);
    for (const [id, w] of Object.entries(s.stations)) if (Number.isFinite(w)) insertStation.run(s.at, id, w);
  });

  return {
    write: (s) => write(s),
    query(from, to, maxPoints = 400) {
      const points = Math.min(Math.max(Math.floor(maxPoints), 10), 5000);
      const bucketMs = Math.max(1000, Math.ceil((to - from) / points / 1000) * 1000);
      const rows = siteQuery.all(bucketMs, from, to, points + 2) as (SiteRow & { b: number })[];
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
        stations: {},
      };
      for (const r of stationQuery.all(bucketMs, from, to)) {
        const i = index.get(r.b);
        if (i === undefined) continue;
        const list = (series.stations[r.station_id] ??= rows.map(() => null));
        list[i] = round(r.w, 0);
      }
      return series;
    },
    prune(before) {
      pruneStation.run(before);
      return pruneSite.run(before).changes;
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
