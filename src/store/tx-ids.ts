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
     start_payload TEXT NOT NULL,
     csms_id INTEGER,
     created_at INTEGER NOT NULL
   );
   CREATE INDEX tx_local_ids_start ON tx_local_ids (station_id, start_message_id);
   CREATE INDEX tx_local_ids_csms ON tx_local_ids (station_id, csms_id);`,
];

/** Rows older than this are dropped at start: no transaction, nor a station retrying its messages, lasts that long. */
const KEEP_MS = 90 * 86_400_000;

export class TransactionIds {
  private readonly stmts;

  constructor(db: Db, now = Date.now()) {
    migrate(db, 'tx_local_ids', MIGRATIONS);
    this.stmts = {
      insert: db.prepare('INSERT INTO tx_local_ids (station_id, start_message_id, start_payload, created_at) VALUES (?, ?, ?, ?)'),
      open: db.prepare(`SELECT seq FROM tx_local_ids WHERE station_id = ? AND start_message_id = ? AND start_payload = ? AND csms_id IS NULL
        ORDER BY seq DESC LIMIT 1`),
      setCsms: db.prepare('UPDATE tx_local_ids SET csms_id = ? WHERE seq = ?'),
      csmsOf: db.prepare('SELECT csms_id AS csmsId FROM tx_local_ids WHERE seq = ? AND station_id = ?'),
      localOf: db.prepare('SELECT seq FROM tx_local_ids WHERE station_id = ? AND csms_id = ? ORDER BY seq DESC LIMIT 1'),
    };
    db.prepare('DELETE FROM tx_local_ids WHERE created_at < ?').run(now - KEEP_MS);
  }

  /**
   * The local id for this StartTransaction (durable when this returns). The same message sent again — same id and
   * same payload, before the CSMS has answered it — gets the same local id. Only both together say "the same": many
   * stations count message ids from 1 again after a reboot, so an id alone may name a new transaction.
   */
  allocate(stationId: string, startMessageId: string, startPayload: string, now: number): number {
    const open = this.stmts.open.get(stationId, startMessageId, startPayload) as { seq: number } | undefined;
    if (open) return -open.seq;
    return -Number(this.stmts.insert.run(stationId, startMessageId, startPayload, now).lastInsertRowid);
  }

  /** The CSMS answered the replayed StartTransaction (this message id and payload) with its own id. */
  settle(stationId: string, startMessageId: string, startPayload: string, csmsId: number): void {
    const open = this.stmts.open.get(stationId, startMessageId, startPayload) as { seq: number } | undefined;
    if (open) this.stmts.setCsms.run(csmsId, open.seq);
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
