// The one SQLite file (better-sqlite3): opened once, WAL, and migrated per module so each stage owns its tables.
import Database from 'better-sqlite3';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

export type Db = Database.Database;

export class StoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreError';
  }
}

/**
 * Opens (creating if missing) the SQLite file. A file that is not a database or fails the quick integrity check is
 * an error naming the file: never silently reset, the operator decides (restore a backup or move it aside).
 */
export function openDatabase(path: string): Db {
  if (path !== ':memory:') createPrivately(path);
  let db: Db;
  try {
    db = new Database(path);
    db.pragma('busy_timeout = 5000');
    // Checked before anything writes: switching a damaged rollback-journal file to WAL would rewrite its header.
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error(String(check));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
  } catch (err) {
    throw new StoreError(
      // One line: SQLite's integrity report spans several; the operator's log and terminal want one.
      `${path} is not a usable SQLite database (${(err as Error).message.replace(/\s*\n\s*/g, '; ')}); restore a backup or move the file aside — it was not changed`,
    );
  }
  db.exec('CREATE TABLE IF NOT EXISTS schema_versions (module TEXT PRIMARY KEY, version INTEGER NOT NULL)');
  return db;
}

/**
 * The folder (0700) and the file (0600) are created readable by the service user only, whatever the umask: the file
 * holds cached idTokens, the journal and passwords the CSMS set. SQLite gives its -wal and -shm files the database
 * file's mode. Existing folders and files keep the mode the operator gave them.
 */
function createPrivately(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/**
 * Applies a module's migrations in order; `migrations[i]` takes the module from version i to i+1. Each runs in a
 * transaction with its version bump, so a crash leaves the module at a whole version.
 */
export function migrate(db: Db, module: string, migrations: readonly string[]): void {
  const row = db.prepare('SELECT version FROM schema_versions WHERE module = ?').get(module) as { version: number } | undefined;
  const current = row?.version ?? 0;
  if (current > migrations.length) {
    throw new StoreError(`the database's ${module} tables are at version ${current}, newer than this program knows (${migrations.length}); upgrade site-controller`);
  }
  for (let v = current; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v]);
      db.prepare('INSERT INTO schema_versions (module, version) VALUES (?, ?) ON CONFLICT(module) DO UPDATE SET version = excluded.version').run(module, v + 1);
    })();
  }
}
