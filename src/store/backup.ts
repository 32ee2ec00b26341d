// Online backup of the live SQLite file (safe while the controller runs: SQLite's backup API copies a consistent
// snapshot page by page, WAL included).
import { existsSync } from 'node:fs';
import { openDatabase } from './db.js';

export async function backupDatabase(source: string, destination: string): Promise<{ pages: number }> {
  if (!existsSync(source)) throw new Error(`no database at ${source}`);
  if (existsSync(destination)) throw new Error(`${destination} exists; choose a new file name`);
  const db = openDatabase(source);
  try {
    const r = await db.backup(destination);
    return { pages: r.totalPages };
  } finally {
    db.close();
  }
}
