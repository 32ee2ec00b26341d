// The frame journal: one row per OCPP frame in or out of the relay (station, direction, kind, action, message id,
// time, size). Rows are buffered in memory and written in one transaction every flushMs or every batchRows rows,
// so the relay's hot path only pushes to an array. Retention prunes by age and by row count.
import { asyncScheduler, type SchedulerLike, type Subscription } from 'rxjs';
import { migrate, type Db } from './db.js';

const MIGRATIONS = [
  `CREATE TABLE journal (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     at INTEGER NOT NULL,
     station_id TEXT NOT NULL,
     direction TEXT NOT NULL,
     kind INTEGER NOT NULL,
     action TEXT,
     message_id TEXT,
     size INTEGER NOT NULL,
     note TEXT
   );
   CREATE INDEX journal_station_at ON journal (station_id, at);
   CREATE INDEX journal_at ON journal (at);`,
];

/** Which way a frame travelled: from the station to the CSMS, the CSMS to the station, or to/from the controller itself. */
export type JournalDirection = 'station->csms' | 'csms->station' | 'controller->station' | 'station->controller' | 'controller->csms';

export interface JournalEntry {
  at: number;
  stationId: string;
  direction: JournalDirection;
  /** OCPP-J message type: 2 CALL, 3 CALLRESULT, 4 CALLERROR; 0 for an unreadable frame. */
  kind: number;
  action?: string;
  messageId?: string;
  size: number;
  /** Why a frame was answered locally, rejected or queued, when it was. */
  note?: string;
}

export interface JournalQuery {
  stationId?: string;
  action?: string;
  direction?: JournalDirection;
  from?: number;
  to?: number;
  /** Newest first; default 200, at most 10000. */
  limit?: number;
  /** Rows with id below this (paging backwards). */
  beforeId?: number;
}

export interface JournalRow extends JournalEntry {
  id: number;
}

export interface JournalOptions {
  scheduler?: SchedulerLike;
  flushMs?: number;
  batchRows?: number;
  retentionDays?: number;
  maxRows?: number;
  /** How often retention runs (ms). */
  pruneMs?: number;
}

export class Journal {
  private buffer: JournalEntry[] = [];
  private readonly insert;
  private flushSub: Subscription | undefined;
  private pruneSub: Subscription | undefined;
  private readonly scheduler: SchedulerLike;
  private readonly flushMs: number;
  private readonly batchRows: number;
  private readonly retentionMs: number;
  private readonly maxRows: number;
  private readonly pruneMs: number;
  private written = 0;
  private stopped = false;

  constructor(private readonly db: Db, options: JournalOptions = {}) {
    migrate(db, 'journal', MIGRATIONS);
    this.scheduler = options.scheduler ?? asyncScheduler;
    this.flushMs = options.flushMs ?? 100;
    this.batchRows = options.batchRows ?? 5000;
    this.retentionMs = (options.retentionDays ?? 30) * 86_400_000;
    this.maxRows = options.maxRows ?? 5_000_000;
    this.pruneMs = options.pruneMs ?? 60_000;
    this.insert = db.prepare(
      'INSERT INTO journal (at, station_id, direction, kind, action, message_id, size, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.schedulePrune();
  }

  /** Rows written to SQLite so far. */
  get rowsWritten(): number {
    return this.written;
  }

  get pending(): number {
    return this.buffer.length;
  }

  record(entry: JournalEntry): void {
    if (this.stopped) return;
    this.buffer.push(entry);
    if (this.buffer.length >= this.batchRows) this.flush();
    else if (!this.flushSub) this.flushSub = this.scheduler.schedule(() => { this.flushSub = undefined; this.flush(); }, this.flushMs);
  }

  /** Writes everything buffered in one transaction. */
  flush(): void {
    if (this.buffer.length === 0) return;
    const rows = this.buffer;
    this.buffer = [];
    this.db.transaction(() => {
      for (const r of rows) this.insert.run(r.at, r.stationId, r.direction, r.kind, r.action ?? null, r.messageId ?? null, r.size, r.note ?? null);
    })();
    this.written += rows.length;
  }

  /** Deletes rows older than the retention age and the oldest rows beyond maxRows. */
  prune(now = this.scheduler.now()): number {
    let removed = this.db.prepare('DELETE FROM journal WHERE at < ?').run(now - this.retentionMs).changes;
    const max = this.db.prepare('SELECT MAX(id) AS m FROM journal').get() as { m: number | null };
    if (max.m !== null) removed += this.db.prepare('DELETE FROM journal WHERE id <= ?').run(max.m - this.maxRows).changes;
    return removed;
  }

  query(q: JournalQuery = {}): JournalRow[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.stationId !== undefined) { where.push('station_id = ?'); args.push(q.stationId); }
    if (q.action !== undefined) { where.push('action = ?'); args.push(q.action); }
    if (q.direction !== undefined) { where.push('direction = ?'); args.push(q.direction); }
    if (q.from !== undefined) { where.push('at >= ?'); args.push(q.from); }
    if (q.to !== undefined) { where.push('at < ?'); args.push(q.to); }
    if (q.beforeId !== undefined) { where.push('id < ?'); args.push(q.beforeId); }
    const limit = Math.max(1, Math.min(10_000, Math.floor(q.limit ?? 200)));
    const sql = `SELECT id, at, station_id AS stationId, direction, kind, action, message_id AS messageId, size, note FROM journal
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${limit}`;
    const rows = this.db.prepare(sql).all(...args) as (JournalRow & { action: string | null; messageId: string | null; note: string | null })[];
    return rows.map((r) => {
      const out: JournalRow = { id: r.id, at: r.at, stationId: r.stationId, direction: r.direction, kind: r.kind, size: r.size };
      if (r.action !== null) out.action = r.action;
      if (r.messageId !== null) out.messageId = r.messageId;
      if (r.note !== null) out.note = r.note;
      return out;
    });
  }

  /** Flushes what is buffered and stops the timers. */
  close(): void {
    this.flushSub?.unsubscribe();
    this.pruneSub?.unsubscribe();
    this.flush();
    this.stopped = true;
  }

  private schedulePrune(): void {
    this.pruneSub = this.scheduler.schedule(() => {
      try {
        this.prune();
      } finally {
        if (!this.stopped) this.schedulePrune();
      }
    }, this.pruneMs);
  }
}
