// What each station was last told about its registration (BootNotificationResponse status), by the CSMS or by the
// controller answering for it during an outage. Kept across restarts: a station that reconnects after a controller
// restart does not boot again, and the controller must still know whether it may call it (B02/B03: a station that is
// Pending or Rejected takes no calls but the CSMS's).
import { migrate, type Db } from './db.js';

export type BootStatus = 'Accepted' | 'Pending' | 'Rejected';

const MIGRATIONS = [
  `CREATE TABLE station_boot (
     station_id TEXT PRIMARY KEY,
     status TEXT NOT NULL,
     at INTEGER NOT NULL
   );`,
];

export class StationBootStore {
  private readonly cache = new Map<string, BootStatus>();
  private readonly stmts;

  constructor(db: Db) {
    migrate(db, 'station_boot', MIGRATIONS);
    this.stmts = {
      set: db.prepare(`INSERT INTO station_boot (station_id, status, at) VALUES (?, ?, ?)
        ON CONFLICT(station_id) DO UPDATE SET status = excluded.status, at = excluded.at`),
    };
    for (const row of db.prepare('SELECT station_id AS s, status FROM station_boot').all() as { s: string; status: BootStatus }[]) this.cache.set(row.s, row.status);
  }

  get(stationId: string): BootStatus | undefined {
    return this.cache.get(stationId);
  }

  /** True when the status changed. A write failure (disk full) keeps it in memory: it is only lost on a restart. */
  set(stationId: string, status: BootStatus, at: number): boolean {
    if (this.cache.get(stationId) === status) return false;
    this.cache.set(stationId, status);
    try {
      this.stmts.set.run(stationId, status, at);
    } catch {
      // See above.
    }
    return true;
  }
}
