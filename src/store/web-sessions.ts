// Login sessions of the page: random tokens handed out as HttpOnly cookies; only their SHA-256 is stored, so a copy
// of the database does not let anyone log in. Each session carries its CSRF token (synchronizer pattern).
import { createHash, randomBytes } from 'node:crypto';
import { migrate, type Db } from './db.js';

const MIGRATIONS = [
  `CREATE TABLE web_sessions (
     token_hash TEXT PRIMARY KEY,
     username TEXT NOT NULL,
     csrf_token TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   );
   CREATE INDEX web_sessions_expires ON web_sessions (expires_at);`,
];

export interface WebSession {
  username: string;
  csrfToken: string;
  createdAt: number;
  expiresAt: number;
}

export interface WebSessionStore {
  /** Creates a session; returns the token for the cookie (never stored in clear). */
  create(username: string): { token: string; session: WebSession };
  /** The live session for a cookie token, sliding its expiry forward; undefined when unknown or expired. */
  get(token: string): WebSession | undefined;
  destroy(token: string): void;
  /** Removes expired sessions; returns how many. */
  purge(): number;
}

export interface WebSessionOptions {
  /** Idle time after which a session expires (ms); default 8 h. */
  idleMs?: number;
  /** Absolute lifetime (ms); default 7 days. */
  maxAgeMs?: number;
  now?: () => number;
}

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

export function createWebSessionStore(db: Db, options: WebSessionOptions = {}): WebSessionStore {
  migrate(db, 'web-sessions', MIGRATIONS);
  const idleMs = options.idleMs ?? 8 * 3600_000;
  const maxAgeMs = options.maxAgeMs ?? 7 * 24 * 3600_000;
  const now = options.now ?? (() => Date.now());
  const insert = db.prepare('INSERT INTO web_sessions (token_hash, username, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)');
  const select = db.prepare<[string], { username: string; csrf_token: string; created_at: number; expires_at: number }>(
    'SELECT username, csrf_token, created_at, expires_at FROM web_sessions WHERE token_hash = ?',
  );
  const touch = db.prepare('UPDATE web_sessions SET expires_at = ? WHERE token_hash = ?');
  const del = db.prepare('DELETE FROM web_sessions WHERE token_hash = ?');
  const purge = db.prepare('DELETE FROM web_sessions WHERE expires_at <= ?');
  return {
    create(username) {
      const token = randomBytes(32).toString('base64url');
      const t = now();
      const session: WebSession = { username, csrfToken: randomBytes(24).toString('base64url'), createdAt: t, expiresAt: t + idleMs };
      insert.run(hash(token), username, session.csrfToken, t, session.expiresAt);
      return { token, session };
    },
    get(token) {
      if (typeof token !== 'string' || token.length < 16 || token.length > 128) return undefined;
      const h = hash(token);
      const row = select.get(h);
      const t = now();
      if (!row) return undefined;
      if (row.expires_at <= t) {
        del.run(h);
        return undefined;
      }
      const expiresAt = Math.min(t + idleMs, row.created_at + maxAgeMs);
      // Only write when the expiry moves noticeably: every request would otherwise be a write.
      if (expiresAt - row.expires_at > 60_000) touch.run(expiresAt, h);
      return { username: row.username, csrfToken: row.csrf_token, createdAt: row.created_at, expiresAt: Math.max(expiresAt, row.expires_at) };
    },
    destroy(token) {
      if (typeof token === 'string') del.run(hash(token));
    },
    purge() {
      return purge.run(now()).changes;
    },
  };
}
