// OCPP 1.6 transaction ids given out by the controller while the CSMS was unreachable, and the CSMS's own id for each
// once it has answered the replayed StartTransaction. Durable, so a restart between the outage and the replay (or
// after it, while the station still uses the local id) loses nothing.
//
// Local ids are negative (-1, -2, …; -seq of an AUTOINCREMENT that never reuses a value): CSMSs give out positive ids,
// so a local id can never be one the CSMS gave, and the relay tells the two apart by the sign alone.
import { migrate, type Db } from './db.js';

const MIGRATIONS = [
  `CREATE TABLE tx_local_ids (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     station_id TEXT NOT NULL,
     start_message_id TEXT NOT NULL,
     csms_id INTEGER,
     created_at INTEGER NOT NULL,
     UNIQUE (station_id, start_message_id)
   );
   CREATE INDEX tx_local_ids_csms ON tx_local_ids (station_id, csms_id);`,
];

/** Rows older than this are dropped at start: no transaction, nor a station retrying its messages, lasts that long. */
const KEEP_MS = 90 * 86_400_000;

export class TransactionIds {
  private readonly stmts;

  constructor(db: Db, now = Date.now()) {
    migrate(db, 'tx_local_ids', MIGRATIONS);
    this.stmts = {
      insert: db.prepare('INSERT INTO tx_local_ids (station_id, start_message_id, created_at) VALUES (?, ?, ?) ON CONFLICT(station_id, start_message_id) DO NOTHING'),
      byStart: db.prepare('SELECT seq FROM tx_local_ids WHERE station_id = ? AND start_message_id = ?'),
      setCsms: db.prepare('UPDATE tx_local_ids SET csms_id = ? WHERE station_id = ? AND start_message_id = ?'),
      csmsOf: db.prepare('SELECT csms_id AS csmsId FROM tx_local_ids WHERE seq = ? AND station_id = ?'),
      localOf: db.prepare('SELECT seq FROM tx_local_ids WHERE station_id = ? AND csms_id = ? ORDER BY seq DESC LIMIT 1'),
    };
    db.prepare('DELETE FROM tx_local_ids WHERE created_at < ?').run(now - KEEP_MS);
  }

  /**
   * The local id for the StartTransaction the station sent with this message id (durable when this returns). The
   * same message sent again (the station retrying) gets the same id.
   */
  allocate(stationId: string, startMessageId: string, now: number): number {
    this.stmts.insert.run(stationId, startMessageId, now);
    const row = this.stmts.byStart.get(stationId, startMessageId) as { seq: number };
    return -row.seq;
  }

  /** The CSMS answered the replayed StartTransaction with its own id. */
  settle(stationId: string, startMessageId: string, csmsId: number): void {
    this.stmts.setCsms.run(csmsId, stationId, startMessageId);
  }

  /** The CSMS's id for a local id, once known. */
  csmsId(stationId: string, localId: number): number | undefined {
    if (localId >= 0) return undefined;
    const row = this.stmts.csmsOf.get(-localId, stationId) as { csmsId: number | null } | undefined;
    return row?.csmsId ?? undefined;
  }

  /** The local id the station knows a CSMS id by, when the transaction started during an outage. */
  localId(stationId: string, csmsId: number): number | undefined {
    const row = this.stmts.localOf.get(stationId, csmsId) as { seq: number } | undefined;
    return row ? -row.seq : undefined;
  }
}
