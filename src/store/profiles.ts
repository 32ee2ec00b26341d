// Charging profiles the CSMS installed on the controller's own identity, kept across restarts.
import { migrate, type Db } from './db.js';

export interface StoredProfile {
  id: number;
  evseId: number;
  purpose: string;
  stackLevel: number;
  /** The ChargingProfileType as received (JSON). */
  profile: Record<string, unknown>;
  /** When it was installed (epoch ms): an absent validFrom means valid from here. */
  receivedAt: number;
}

export interface ProfileStore {
  load(): StoredProfile[];
  /** Inserts or replaces (by profile id) in one transaction. */
  put(p: StoredProfile): void;
  remove(ids: number[]): void;
}

const MIGRATIONS = [
  `CREATE TABLE charging_profiles (
     id INTEGER PRIMARY KEY,
     evse_id INTEGER NOT NULL,
     purpose TEXT NOT NULL,
     stack_level INTEGER NOT NULL,
     profile TEXT NOT NULL,
     received_at INTEGER NOT NULL
   )`,
];

export function openProfileStore(db: Db): ProfileStore {
  migrate(db, 'charging-profiles', MIGRATIONS);
  const all = db.prepare('SELECT id, evse_id, purpose, stack_level, profile, received_at FROM charging_profiles ORDER BY id');
  const upsert = db.prepare(
    `INSERT INTO charging_profiles (id, evse_id, purpose, stack_level, profile, received_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT(id) DO UPDATE SET evse_id = excluded.evse_id, purpose = excluded.purpose, stack_level = excluded.stack_level,
       profile = excluded.profile, received_at = excluded.received_at`,
  );
  const del = db.prepare('DELETE FROM charging_profiles WHERE id = ?');
  const removeMany = db.transaction((ids: number[]) => {
    for (const id of ids) del.run(id);
  });
  return {
    load: () =>
      (all.all() as Array<{ id: number; evse_id: number; purpose: string; stack_level: number; profile: string; received_at: number }>).map((r) => ({
        id: r.id,
        evseId: r.evse_id,
        purpose: r.purpose,
        stackLevel: r.stack_level,
        profile: JSON.parse(r.profile) as Record<string, unknown>,
        receivedAt: r.received_at,
      })),
    put: (p) => void upsert.run(p.id, p.evseId, p.purpose, p.stackLevel, JSON.stringify(p.profile), p.receivedAt),
    remove: (ids) => removeMany(ids),
  };
}
