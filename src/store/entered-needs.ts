// Needs (energy, departure) a person entered on the page for a session, kept in SQLite so a restart of the controller
// keeps planning the session as told. One row per EVSE: a new entry replaces the old, and an entry for a transaction
// that has ended is simply never matched again (the control loop binds it to its transaction id).
import { BehaviorSubject, type Observable } from 'rxjs';
import type { EnteredNeeds } from '../control/types.js';
import { migrate, type Db } from './db.js';

const MIGRATIONS = [
  `CREATE TABLE entered_needs (
     station_id TEXT NOT NULL,
     evse_id INTEGER NOT NULL,
     transaction_id TEXT NOT NULL,
     energy_wh REAL NOT NULL,
     departure_at INTEGER NOT NULL,
     entered_by TEXT NOT NULL,
     entered_at INTEGER NOT NULL,
     PRIMARY KEY (station_id, evse_id)
   )`,
];

/** Entries whose departure is this far past are dropped when anything is entered (the table stays small). */
const KEEP_PAST_DEPARTURE_MS = 24 * 3_600_000;

export interface EnteredNeedsStore {
  /** Every entry; replays the latest list to new subscribers. */
  readonly needs$: Observable<readonly EnteredNeeds[]>;
  list(): EnteredNeeds[];
  /** Enters (or replaces) the needs of one EVSE's session; returns the entry it replaced, if any. */
  set(entry: EnteredNeeds): EnteredNeeds | undefined;
  /** Removes an EVSE's entry; returns it, if there was one. */
  clear(stationId: string, evseId: number): EnteredNeeds | undefined;
}

interface Row {
  station_id: string; evse_id: number; transaction_id: string; energy_wh: number; departure_at: number; entered_by: string; entered_at: number;
}

const fromRow = (r: Row): EnteredNeeds => ({
  stationId: r.station_id, evseId: r.evse_id, transactionId: r.transaction_id, energyWh: r.energy_wh,
  departureAt: r.departure_at, enteredBy: r.entered_by, enteredAt: r.entered_at,
});

export function createEnteredNeedsStore(db: Db): EnteredNeedsStore {
  migrate(db, 'entered_needs', MIGRATIONS);
  const all = db.prepare<[], Row>('SELECT * FROM entered_needs ORDER BY station_id, evse_id');
  const one = db.prepare<[string, number], Row>('SELECT * FROM entered_needs WHERE station_id = ? AND evse_id = ?');
  const upsert = db.prepare(`INSERT INTO entered_needs (station_id, evse_id, transaction_id, energy_wh, departure_at, entered_by, entered_at)
    VALUES (@stationId, @evseId, @transactionId, @energyWh, @departureAt, @enteredBy, @enteredAt)
    ON CONFLICT (station_id, evse_id) DO UPDATE SET transaction_id = excluded.transaction_id, energy_wh = excluded.energy_wh,
      departure_at = excluded.departure_at, entered_by = excluded.entered_by, entered_at = excluded.entered_at`);
  const remove = db.prepare<[string, number]>('DELETE FROM entered_needs WHERE station_id = ? AND evse_id = ?');
  const prune = db.prepare<[number]>('DELETE FROM entered_needs WHERE departure_at < ?');
  const list = () => all.all().map(fromRow);
  const needs$ = new BehaviorSubject<readonly EnteredNeeds[]>(list());

  return {
    needs$: needs$.asObservable(),
    list,
    set(entry) {
      const old = one.get(entry.stationId, entry.evseId);
      db.transaction(() => {
        prune.run(entry.enteredAt - KEEP_PAST_DEPARTURE_MS);
        upsert.run(entry);
      })();
      needs$.next(list());
      return old ? fromRow(old) : undefined;
    },
    clear(stationId, evseId) {
      const old = one.get(stationId, evseId);
      if (!old) return undefined;
      remove.run(stationId, evseId);
      needs$.next(list());
      return fromRow(old);
    },
  };
}
