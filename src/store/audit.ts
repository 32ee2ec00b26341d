// Who changed what on the page, when, from which value to which: an append-only log in SQLite.
import { migrate, type Db } from './db.js';

const MIGRATIONS = [
  `CREATE TABLE audit_log (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     at INTEGER NOT NULL,
     username TEXT NOT NULL,
     action TEXT NOT NULL,
     target TEXT NOT NULL,
     old_value TEXT,
     new_value TEXT
   );
   CREATE INDEX audit_log_at ON audit_log (at);`,
];

export interface AuditEntry {
  id: number;
  at: number;
  username: string;
  /** e.g. "site-limit", "circuit-limit", "station", "site-mode", "safe-limit", "login", "logout". */
  action: string;
  /** What was changed, e.g. "site", "boardA", "CP01". */
  target: string;
  oldValue: unknown;
  newValue: unknown;
}

export interface AuditLog {
  record(entry: Omit<AuditEntry, 'id' | 'at'> & { at?: number }): void;
  /** Newest first. */
  list(options?: { limit?: number; before?: number }): AuditEntry[];
}

interface Row { id: number; at: number; username: string; action: string; target: string; old_value: string | null; new_value: string | null }

export function createAuditLog(db: Db, now: () => number = () => Date.now()): AuditLog {
  migrate(db, 'audit', MIGRATIONS);
  const insert = db.prepare('INSERT INTO audit_log (at, username, action, target, old_value, new_value) VALUES (?, ?, ?, ?, ?, ?)');
  const select = db.prepare<[number, number], Row>('SELECT * FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?');
  const parse = (s: string | null): unknown => (s === null ? null : JSON.parse(s));
  return {
    record(e) {
      insert.run(e.at ?? now(), e.username, e.action, e.target, JSON.stringify(e.oldValue ?? null), JSON.stringify(e.newValue ?? null));
    },
    list(options = {}) {
      const limit = Math.min(Math.max(options.limit ?? 100, 1), 1000);
      return select.all(options.before ?? Number.MAX_SAFE_INTEGER, limit).map((r) => ({
        id: r.id, at: r.at, username: r.username, action: r.action, target: r.target,
        oldValue: parse(r.old_value), newValue: parse(r.new_value),
      }));
    },
  };
}
