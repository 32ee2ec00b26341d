// The local authorization cache: idTokens the CSMS accepted (Authorize and TransactionEvent replies), with the
// idTokenInfo it gave and an expiry, so stations can be answered while the CSMS is unreachable.
import { migrate, type Db } from './db.js';

const MIGRATIONS = [
  `CREATE TABLE auth_cache (
     id_token TEXT NOT NULL,
     type TEXT NOT NULL,
     info TEXT NOT NULL,
     expires_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (id_token, type)
   );`,
];

/** How long a token stays cached when the CSMS gives no cacheExpiryDateTime (ms). */
export const DEFAULT_CACHE_LIFETIME_MS = 7 * 86_400_000;

export interface IdToken {
  idToken: string;
  type: string;
}

export type IdTokenInfo = Record<string, unknown> & { status: string };

export class AuthCache {
  private readonly stmts;

  constructor(db: Db, private readonly lifetimeMs = DEFAULT_CACHE_LIFETIME_MS) {
    migrate(db, 'auth_cache', MIGRATIONS);
    this.stmts = {
      upsert: db.prepare(`INSERT INTO auth_cache (id_token, type, info, expires_at, updated_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT(id_token, type) DO UPDATE SET info = excluded.info, expires_at = excluded.expires_at, updated_at = excluded.updated_at`),
      get: db.prepare('SELECT info, expires_at AS expiresAt FROM auth_cache WHERE id_token = ? AND type = ?'),
      remove: db.prepare('DELETE FROM auth_cache WHERE id_token = ? AND type = ?'),
    };
  }

  /** Records what the CSMS said about a token: Accepted tokens are cached, any other status removes the token. */
  learn(token: IdToken, info: IdTokenInfo, now: number): void {
    if (info.status !== 'Accepted') {
      this.stmts.remove.run(token.idToken, token.type);
      return;
    }
    const expiry = typeof info.cacheExpiryDateTime === 'string' ? Date.parse(info.cacheExpiryDateTime) : NaN;
    const expiresAt = Number.isFinite(expiry) ? expiry : now + this.lifetimeMs;
    if (expiresAt <= now) return;
    this.stmts.upsert.run(token.idToken, token.type, JSON.stringify(info), expiresAt, now);
  }

  /** The cached idTokenInfo of a token the CSMS accepted and that has not expired. */
  lookup(token: IdToken, now: number): IdTokenInfo | undefined {
    const row = this.stmts.get.get(token.idToken, token.type) as { info: string; expiresAt: number } | undefined;
    if (!row || row.expiresAt <= now) return undefined;
    return JSON.parse(row.info) as IdTokenInfo;
  }
}
