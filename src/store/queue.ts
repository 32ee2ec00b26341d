// The durable store-and-forward queue: transaction-related CALLs a station sent while its CSMS connection was down,
// kept verbatim (the original frame text, so message id and payload reach the CSMS unchanged) in arrival order per
// station. A row is committed before the station is acknowledged and deleted only after the CSMS answered it.
import { migrate, type Db } from './db.js';
import { stationRecord } from '../common/ids.js';

const MIGRATIONS = [
  `CREATE TABLE forward_queue (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     station_id TEXT NOT NULL,
     message_id TEXT NOT NULL,
     action TEXT NOT NULL,
     frame TEXT NOT NULL,
     queued_at INTEGER NOT NULL
   );
   CREATE INDEX forward_queue_station ON forward_queue (station_id, seq);`,
  // key: only the newest message per (station, action, key) is kept (StatusNotification per connector).
  // failed_at / error: the CSMS refused the message on every attempt; it is kept, set aside, never replayed again.
  `ALTER TABLE forward_queue ADD COLUMN key TEXT;
   ALTER TABLE forward_queue ADD COLUMN failed_at INTEGER;
   ALTER TABLE forward_queue ADD COLUMN error TEXT;`,
];

export interface QueuedMessage {
  seq: number;
  stationId: string;
  messageId: string;
  action: string;
  /** The CALL exactly as the station sent it. */
  frame: string;
  queuedAt: number;
}

/** A message the CSMS refused on every attempt: kept (not replayed again) for the operator to see. */
export interface FailedMessage {
  seq: number;
  stationId: string;
  messageId: string;
  action: string;
  queuedAt: number;
  failedAt: number;
  error: string;
}

/**
 * The latest BootNotification a station sent while the controller answered for the CSMS: forwarded to the CSMS when
 * it is reachable again, before the queue, as the station itself would have done had it been connected directly.
 */
export interface PendingBoot {
  stationId: string;
  messageId: string;
  /** The CALL exactly as the station sent it. */
  frame: string;
  at: number;
}

const BOOT_MIGRATIONS = [
  `CREATE TABLE forward_boot (
     station_id TEXT PRIMARY KEY,
     message_id TEXT NOT NULL,
     frame TEXT NOT NULL,
     at INTEGER NOT NULL
   );`,
];

export interface QueueLimits {
  perStation: number;
  total: number;
}

export type EnqueueResult = { queued: true; seq: number } | { queued: false; reason: string };

export class ForwardQueue {
  private readonly counts = new Map<string, number>();
  private total = 0;
  private failedCount = 0;
  private readonly stmts;

  constructor(private readonly db: Db, private readonly limits: QueueLimits) {
    migrate(db, 'forward_queue', MIGRATIONS);
    migrate(db, 'forward_boot', BOOT_MIGRATIONS);
    this.stmts = {
      setBoot: db.prepare(`INSERT INTO forward_boot (station_id, message_id, frame, at) VALUES (?, ?, ?, ?)
        ON CONFLICT(station_id) DO UPDATE SET message_id = excluded.message_id, frame = excluded.frame, at = excluded.at`),
      getBoot: db.prepare('SELECT station_id AS stationId, message_id AS messageId, frame, at FROM forward_boot WHERE station_id = ?'),
      clearBoot: db.prepare('DELETE FROM forward_boot WHERE station_id = ? AND message_id = ?'),
      insert: db.prepare('INSERT INTO forward_queue (station_id, message_id, action, frame, queued_at, key) VALUES (?, ?, ?, ?, ?, ?)'),
      head: db.prepare('SELECT seq, station_id AS stationId, message_id AS messageId, action, frame, queued_at AS queuedAt FROM forward_queue WHERE station_id = ? AND failed_at IS NULL ORDER BY seq LIMIT 1'),
      remove: db.prepare('DELETE FROM forward_queue WHERE seq = ? AND failed_at IS NULL'),
      hasFrame: db.prepare('SELECT 1 FROM forward_queue WHERE station_id = ? AND message_id = ? AND frame = ? LIMIT 1'),
      supersede: db.prepare('DELETE FROM forward_queue WHERE station_id = ? AND action = ? AND key = ? AND failed_at IS NULL'),
      setAside: db.prepare('UPDATE forward_queue SET failed_at = ?, error = ? WHERE seq = ? AND failed_at IS NULL'),
      failed: db.prepare(`SELECT seq, station_id AS stationId, message_id AS messageId, action, queued_at AS queuedAt, failed_at AS failedAt, error
        FROM forward_queue WHERE failed_at IS NOT NULL ORDER BY seq DESC LIMIT ?`),
    };
    this.failedCount = (db.prepare('SELECT COUNT(*) AS n FROM forward_queue WHERE failed_at IS NOT NULL').get() as { n: number }).n;
    for (const row of db.prepare('SELECT station_id AS s, COUNT(*) AS n FROM forward_queue WHERE failed_at IS NULL GROUP BY station_id').all() as { s: string; n: number }[]) {
      this.counts.set(row.s, row.n);
      this.total += row.n;
    }
  }

  /**
   * Commits a CALL to the queue (durable when this returns). When a limit is reached nothing is stored and the
   * caller must not acknowledge the message (policy: the station keeps it and retries, nothing is silently dropped).
   */
  enqueue(stationId: string, messageId: string, action: string, frame: string, at: number, key?: string): EnqueueResult {
    const n = this.counts.get(stationId) ?? 0;
    if (n >= this.limits.perStation) return { queued: false, reason: `queue for ${stationId} is full (${this.limits.perStation} messages)` };
    if (this.total >= this.limits.total) return { queued: false, reason: `store-and-forward queue is full (${this.limits.total} messages in total)` };
    // A station retrying a CALL it already sent (same id, same frame) must not be queued twice. The id alone is not
    // enough: many stations count message ids from 1 again after a reboot, and a new message must never be dropped.
    if (this.stmts.hasFrame.get(stationId, messageId, frame)) return { queued: true, seq: -1 };
    let seq: number;
    let gone = 0;
    try {
      seq = this.db.transaction(() => {
        // Only the newest per key: the older one is replaced, and the new one goes at the end (its arrival order).
        if (key !== undefined) gone = this.stmts.supersede.run(stationId, action, key).changes;
        return Number(this.stmts.insert.run(stationId, messageId, action, frame, at, key ?? null).lastInsertRowid);
      })();
    } catch (err) {
      // Disk full, read-only file, I/O error: not stored, so not acknowledged — the station keeps it and retries.
      return { queued: false, reason: `cannot store the message for the CSMS (${(err as Error).message})` };
    }
    this.counts.set(stationId, n - gone + 1);
    this.total += 1 - gone;
    return { queued: true, seq };
  }

  head(stationId: string): QueuedMessage | undefined {
    return this.stmts.head.get(stationId) as QueuedMessage | undefined;
  }

  /** Deletes a message the CSMS has answered. */
  remove(message: QueuedMessage): void {
    if (this.stmts.remove.run(message.seq).changes === 0) return;
    const n = (this.counts.get(message.stationId) ?? 1) - 1;
    if (n <= 0) this.counts.delete(message.stationId);
    else this.counts.set(message.stationId, n);
    this.total--;
  }

  /**
   * The CSMS refused the message on every attempt: it stays in the table (never silently consumed) but leaves the
   * replay, so the messages behind it go on.
   */
  setAside(message: QueuedMessage, error: string, at: number): void {
    if (this.stmts.setAside.run(at, error, message.seq).changes === 0) return;
    const n = (this.counts.get(message.stationId) ?? 1) - 1;
    if (n <= 0) this.counts.delete(message.stationId);
    else this.counts.set(message.stationId, n);
    this.total--;
    this.failedCount++;
  }

  /** Messages set aside after the CSMS refused every attempt, newest first. */
  failed(limit = 100): FailedMessage[] {
    return this.stmts.failed.all(limit) as FailedMessage[];
  }

  get failedTotal(): number {
    return this.failedCount;
  }

  /** Keeps a locally answered BootNotification for the CSMS (durable when this returns); replaces an older one. */
  setBoot(stationId: string, messageId: string, frame: string, at: number): void {
    try {
      this.stmts.setBoot.run(stationId, messageId, frame, at);
    } catch {
      // Disk full or read-only: the boot is still answered locally; the CSMS learns of it at the station's next boot.
    }
  }

  pendingBoot(stationId: string): PendingBoot | undefined {
    return this.stmts.getBoot.get(stationId) as PendingBoot | undefined;
  }

  /** The CSMS has accepted (or refused for good) this boot; a newer one the station sent meanwhile is kept. */
  clearBoot(stationId: string, messageId: string): void {
    this.stmts.clearBoot.run(stationId, messageId);
  }

  length(stationId: string): number {
    return this.counts.get(stationId) ?? 0;
  }

  /** Queued messages per station (stations with an empty queue are absent). */
  lengths(): Record<string, number> {
    return stationRecord(this.counts);
  }

  get totalLength(): number {
    return this.total;
  }
}
