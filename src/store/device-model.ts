// Persisted device model values of the controller's own identity: only what the CSMS (or the controller itself, e.g.
// the HeartbeatInterval from a BootNotification answer) has set; everything else comes from the definitions.
import { migrate, type Db } from './db.js';

export interface DeviceModelStore {
  /** Every stored value by variable key ("Component.Variable[instance]"). */
  load(): Map<string, string>;
  save(key: string, value: string, at: number): void;
}

const MIGRATIONS = [
  `CREATE TABLE device_model_values (
     key TEXT PRIMARY KEY,
     value TEXT NOT NULL,
     updated_at INTEGER NOT NULL
   )`,
];

export function openDeviceModelStore(db: Db): DeviceModelStore {
  migrate(db, 'device-model', MIGRATIONS);
  const all = db.prepare('SELECT key, value FROM device_model_values');
  const upsert = db.prepare(
    'INSERT INTO device_model_values (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
  );
  return {
    load: () => new Map((all.all() as Array<{ key: string; value: string }>).map((r) => [r.key, r.value])),
    save: (key, value, at) => void upsert.run(key, value, at),
  };
}
