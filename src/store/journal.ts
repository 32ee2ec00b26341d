// The frame journal: one row per OCPP frame in or out of the relay (station, direction, kind, action, message id,
// time, size). Rows are buffered in memory (one flat array, 8 slots a row: cheap to fill and to post) and posted to a
// writer thread every flushMs or batchRows rows — small posts, because a structured clone of a whole second's rows
// would stall the relay's thread for milliseconds — so the relay's hot path only pushes to an array. The writer has
// its own connection (WAL lets it write while the main thread reads) and commits once a second (commitMs): the
// per-station index gets one leaf page dirtied per station per commit whatever the number of rows, so fewer, larger
// commits cut the CPU per row and the write volume (flash wear) several-fold. Neither an insert batch nor pruning
// millions of rows ever stalls the relay's event loop. Retention prunes by age and by row count.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
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
  /** How often (ms) or after how many rows buffered rows go to the writer (default 100 ms / 5000 rows). */
  flushMs?: number;
  batchRows?: number;
  /** How often (ms) or after how many rows the writer thread commits (default 1000 ms / 20 000 rows). */
  commitMs?: number;
  commitRows?: number;
  retentionDays?: number;
  maxRows?: number;
  /** Rows one station may hold; beyond, its own oldest rows go first, so one station cannot evict the others'. */
  maxRowsPerStation?: number;
  /** How often retention runs (ms). */
  pruneMs?: number;
  /** Write on a worker thread (default true; always off for an in-memory database). */
  writerThread?: boolean;
  /**
   * Told when writing starts failing (disk full, read-only file, I/O error: `ok` false with the error) and when it
   * works again (`ok` true). The journal never throws into the relay: rows of a failed batch are counted as lost.
   */
  onHealth?: (ok: boolean, error?: string) => void;
}

/** Whether the journal is writing, and what it lost while it was not. */
export interface JournalHealth {
  ok: boolean;
  /** Batches (and rows in them) that could not be written since start. */
  failedBatches: number;
  lostRows: number;
  lastError?: string;
}

/** Slots per row in the flat buffer: at, station_id, direction, kind, action, message_id, size, note. */
const ROW_SLOTS = 8;
/** Rows per multi-row INSERT statement (8 × 64 = 512 parameters, below SQLite's 999 limit on old builds). */
const ROWS_PER_INSERT = 64;

const INSERT_SQL = 'INSERT INTO journal (at, station_id, direction, kind, action, message_id, size, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)';
const INSERT_MANY_SQL = `${INSERT_SQL}${', (?, ?, ?, ?, ?, ?, ?, ?)'.repeat(ROWS_PER_INSERT - 1)}`;

/** Inserts a flat buffer of rows (ROW_SLOTS values each), ROWS_PER_INSERT rows per statement. Used by both writers. */
function insertFlat(one: { run(...a: unknown[]): unknown }, many: { run(...a: unknown[]): unknown }, flat: readonly unknown[]): void {
  const chunk = ROW_SLOTS * ROWS_PER_INSERT;
  let i = 0;
  for (; i + chunk <= flat.length; i += chunk) many.run(flat.slice(i, i + chunk));
  for (; i < flat.length; i += ROW_SLOTS) one.run(flat.slice(i, i + ROW_SLOTS));
}
const PRUNE_AGE_SQL = 'DELETE FROM journal WHERE at < ?';
// The global cap counts rows, not an id range: ids keep growing while a station's own rows are pruned, so "max id
// minus maxRows" would delete the other stations' history once one station had written maxRows rows in total.
const COUNT_SQL = 'SELECT COUNT(*) AS n FROM journal';
const PRUNE_ROWS_SQL = 'DELETE FROM journal WHERE id <= (SELECT id FROM journal ORDER BY id LIMIT 1 OFFSET ?)';
// The time of a station's Nth newest row (journal_station_at index), and the delete of its rows before it.
const STATION_CUTOFF_SQL = 'SELECT at FROM journal WHERE station_id = ? ORDER BY at DESC LIMIT 1 OFFSET ?';
const PRUNE_STATION_SQL = 'DELETE FROM journal WHERE station_id = ? AND at < ?';

// Plain CommonJS so it runs the same from the TypeScript sources (tests) and from dist/.
const WRITER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
const insert = db.prepare(${JSON.stringify(INSERT_SQL)});
const insertMany = db.prepare(${JSON.stringify(INSERT_MANY_SQL)});
// insertFlat() below, in plain JavaScript.
function insertFlat(one, many, flat) {
  const chunk = ${ROW_SLOTS * ROWS_PER_INSERT};
  let i = 0;
  for (; i + chunk <= flat.length; i += chunk) many.run(flat.slice(i, i + chunk));
  for (; i < flat.length; i += ${ROW_SLOTS}) one.run(flat.slice(i, i + ${ROW_SLOTS}));
}
const ROW_SLOTS = ${ROW_SLOTS};
const write = db.transaction((chunks) => { for (const rows of chunks) insertFlat(insert, insertMany, rows); });
const ack = new Int32Array(workerData.ack);
let failing = false;
// Rows arrive in small posts (cheap for the relay's thread, no long structured clone); they are committed together
// every commitMs or commitSlots values, or at once when the main thread asks (flush).
let pending = [];
let pendingSlots = 0;
let timer;
function commit() {
  if (timer) { clearTimeout(timer); timer = undefined; }
  if (pending.length === 0) return;
  const chunks = pending;
  pending = [];
  pendingSlots = 0;
  try {
    write(chunks);
    if (failing) { failing = false; parentPort.postMessage({ recovered: true }); }
  } catch (err) {
    failing = true;
    let slots = 0;
    for (const c of chunks) slots += c.length;
    parentPort.postMessage({ error: String(err && err.message || err), lostRows: slots / ROW_SLOTS });
  }
}
parentPort.on('message', (m) => {
  if (m.rows && m.rows.length > 0) {
    pending.push(m.rows);
    pendingSlots += m.rows.length;
    if (pendingSlots >= workerData.commitSlots) commit();
    else if (!timer) timer = setTimeout(commit, workerData.commitMs);
  }
  if (m.commit) commit();
  try {
    if (m.prune) {
      db.prepare(${JSON.stringify(PRUNE_AGE_SQL)}).run(m.prune.before);
      for (const station of m.prune.stations) {
        const cut = db.prepare(${JSON.stringify(STATION_CUTOFF_SQL)}).get(station, m.prune.maxRowsPerStation - 1);
        if (cut) db.prepare(${JSON.stringify(PRUNE_STATION_SQL)}).run(station, cut.at);
      }
      const total = db.prepare(${JSON.stringify(COUNT_SQL)}).get().n;
      if (total > m.prune.maxRows) db.prepare(${JSON.stringify(PRUNE_ROWS_SQL)}).run(total - m.prune.maxRows - 1);
    }
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message || err), lostRows: 0 });
  }
  Atomics.store(ack, 0, m.seq);
  Atomics.notify(ack, 0);
});
`;

export class Journal {
  private buffer: (string | number | null)[] = [];
  private readonly insert;
  private readonly insertMany;
  private writer: Worker | undefined;
  private readonly ack = new Int32Array(new SharedArrayBuffer(4));
  private seq = 0;
  /** The last error the writer thread reported (rows of that batch are lost; the relay is not affected). */
  lastError: string | undefined;
  private failing = false;
  private failedBatches = 0;
  private lostRows = 0;
  private readonly onHealth: ((ok: boolean, error?: string) => void) | undefined;
  private flushSub: Subscription | undefined;
  private pruneSub: Subscription | undefined;
  private readonly scheduler: SchedulerLike;
  private readonly flushMs: number;
  private readonly batchRows: number;
  private readonly commitMs: number;
  private readonly commitRows: number;
  private readonly retentionMs: number;
  private readonly maxRows: number;
  private readonly maxRowsPerStation: number;
  /** Stations with rows written since the last prune: only their quota needs checking. */
  private touched = new Set<string>();
  private readonly pruneMs: number;
  private written = 0;
  private stopped = false;

  constructor(private readonly db: Db, options: JournalOptions = {}) {
    migrate(db, 'journal', MIGRATIONS);
    this.scheduler = options.scheduler ?? asyncScheduler;
    this.flushMs = options.flushMs ?? 100;
    this.batchRows = options.batchRows ?? 5000;
    this.commitMs = options.commitMs ?? 1000;
    this.commitRows = options.commitRows ?? 20_000;
    this.retentionMs = (options.retentionDays ?? 30) * 86_400_000;
    this.maxRows = options.maxRows ?? 5_000_000;
    this.maxRowsPerStation = options.maxRowsPerStation ?? 500_000;
    this.pruneMs = options.pruneMs ?? 60_000;
    this.onHealth = options.onHealth;
    this.insert = db.prepare(INSERT_SQL);
    this.insertMany = db.prepare(INSERT_MANY_SQL);
    if (!db.memory && options.writerThread !== false) this.startWriter(db.name);
    this.schedulePrune();
  }

  /** Rows written to SQLite so far. */
  get rowsWritten(): number {
    return this.written;
  }

  get pending(): number {
    return this.buffer.length / ROW_SLOTS;
  }

  record(entry: JournalEntry): void {
    this.recordRow(entry.at, entry.stationId, entry.direction, entry.kind, entry.action, entry.messageId, entry.size, entry.note);
  }

  /** record() without building an entry object first (the relay's hot path). */
  recordRow(at: number, stationId: string, direction: JournalDirection, kind: number, action: string | undefined, messageId: string | undefined, size: number, note: string | undefined): void {
    if (this.stopped) return;
    this.touched.add(stationId);
    this.buffer.push(at, stationId, direction, kind, action ?? null, messageId ?? null, size, note ?? null);
    if (this.buffer.length >= this.batchRows * ROW_SLOTS) this.write(false);
    else if (!this.flushSub) this.flushSub = this.scheduler.schedule(() => { this.flushSub = undefined; this.write(false); }, this.flushMs);
  }

  /** Writes everything buffered and returns when it is in the database (queries see it). */
  flush(): void {
    this.write(true);
  }

  /** Deletes rows older than the retention age and the oldest rows beyond maxRows; returns how many. */
  prune(now = this.scheduler.now()): number {
    this.flush();
    let removed = this.db.prepare(PRUNE_AGE_SQL).run(now - this.retentionMs).changes;
    // A station over its quota loses its own oldest rows first; only then does the global cap apply.
    for (const station of this.takeTouched()) {
      const cut = this.db.prepare(STATION_CUTOFF_SQL).get(station, this.maxRowsPerStation - 1) as { at: number } | undefined;
      if (cut) removed += this.db.prepare(PRUNE_STATION_SQL).run(station, cut.at).changes;
    }
    const total = (this.db.prepare(COUNT_SQL).get() as { n: number }).n;
    if (total > this.maxRows) removed += this.db.prepare(PRUNE_ROWS_SQL).run(total - this.maxRows - 1).changes;
    return removed;
  }

  private write(wait: boolean): void {
    const rows = this.buffer;
    this.buffer = [];
    if (rows.length > 0) this.written += rows.length / ROW_SLOTS;
    if (this.writer) {
      if (rows.length > 0 || wait) this.writer.postMessage({ seq: ++this.seq, rows, commit: wait });
      if (wait) this.waitForWriter();
      return;
    }
    if (rows.length === 0) return;
    try {
      this.db.transaction(() => insertFlat(this.insert, this.insertMany, rows))();
      if (this.failing) this.recovered();
    } catch (err) {
      this.failed((err as Error).message, rows.length / ROW_SLOTS);
    }
  }

  private takeTouched(): string[] {
    const list = [...this.touched];
    this.touched = new Set();
    return list;
  }

  health(): JournalHealth {
    return { ok: !this.failing, failedBatches: this.failedBatches, lostRows: this.lostRows, ...(this.lastError ? { lastError: this.lastError } : {}) };
  }

  private failed(error: string, lostRows: number): void {
    this.lastError = error;
    this.failedBatches++;
    this.lostRows += lostRows;
    if (lostRows > 0 && !this.failing) {
      this.failing = true;
      this.onHealth?.(false, error);
    }
  }

  private recovered(): void {
    this.failing = false;
    this.onHealth?.(true);
  }

  /** Blocks until the writer has done everything posted so far (explicit flushes only, never on the hot path). */
  private waitForWriter(): void {
    const deadline = Date.now() + 10_000;
    while (Atomics.load(this.ack, 0) < this.seq && Date.now() < deadline) Atomics.wait(this.ack, 0, Atomics.load(this.ack, 0), 100);
  }

  private startWriter(file: string): void {
    const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
    const writer = new Worker(WRITER_SOURCE, { eval: true, workerData: { file, sqlite, ack: this.ack.buffer, commitMs: this.commitMs, commitSlots: this.commitRows * ROW_SLOTS } });
    writer.unref();
    writer.on('message', (m: { error?: string; lostRows?: number; recovered?: boolean }) => {
      if (m.error) this.failed(m.error, m.lostRows ?? 0);
      else if (m.recovered) this.recovered();
    });
    writer.on('error', (err) => {
      // The writer thread died: go on writing on the main thread rather than losing the journal.
      this.failed(err.message, 0);
      if (this.writer === writer) this.writer = undefined;
    });
    this.writer = writer;
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

  /** Flushes what is buffered and stops the timers and the writer thread. */
  close(): void {
    this.flushSub?.unsubscribe();
    this.pruneSub?.unsubscribe();
    this.flush();
    this.stopped = true;
    void this.writer?.terminate();
    this.writer = undefined;
  }

  private schedulePrune(): void {
    this.pruneSub = this.scheduler.schedule(() => {
      try {
        if (this.writer) this.writer.postMessage({ seq: ++this.seq, prune: {
          before: this.scheduler.now() - this.retentionMs, maxRows: this.maxRows, maxRowsPerStation: this.maxRowsPerStation, stations: this.takeTouched(),
        } });
        else this.prune();
      } catch (err) {
        // Retention failing (disk full, read-only) must not take the relay down; the next run tries again.
        this.failed((err as Error).message, 0);
      } finally {
        if (!this.stopped) this.schedulePrune();
      }
    }, this.pruneMs);
  }
}
