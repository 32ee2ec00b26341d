// The PV forecast the site's integrator pushes in (from forecast.solar, Solcast, its own model). The session planner
// plans the battery kept for the EVs with it: battery energy that PV will refill later can be used now. Kept in
// SQLite so a restart of the controller keeps planning with it. One forecast per site: a new one replaces the old.
import { BehaviorSubject, type Observable } from 'rxjs';
import type { PvForecastPoint } from '../../algorithms/types.js';
import { migrate, type Db } from './db.js';

const MIGRATIONS = [
  `CREATE TABLE pv_forecast (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     points TEXT NOT NULL,
     set_by TEXT NOT NULL,
     set_at INTEGER NOT NULL
   )`,
];

export interface PvForecast { points: readonly PvForecastPoint[]; setBy: string; setAt: number }

export interface PvForecastStore {
  /** The forecast in force; replays the latest to new subscribers (BehaviorSubject), undefined when none. */
  readonly forecast$: Observable<PvForecast | undefined>;
  current(): PvForecast | undefined;
  /** Replaces the forecast; returns the one it replaced. */
  set(f: PvForecast): PvForecast | undefined;
  clear(): PvForecast | undefined;
}

interface Row { points: string; set_by: string; set_at: number }

const fromRow = (r: Row): PvForecast => ({ points: JSON.parse(r.points) as PvForecastPoint[], setBy: r.set_by, setAt: r.set_at });

export function createPvForecastStore(db: Db): PvForecastStore {
  migrate(db, 'pv_forecast', MIGRATIONS);
  const one = db.prepare<[], Row>('SELECT points, set_by, set_at FROM pv_forecast WHERE id = 1');
  const upsert = db.prepare<[string, string, number]>(`INSERT INTO pv_forecast (id, points, set_by, set_at) VALUES (1, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET points = excluded.points, set_by = excluded.set_by, set_at = excluded.set_at`);
  const remove = db.prepare('DELETE FROM pv_forecast');
  const read = () => {
    const r = one.get();
    return r ? fromRow(r) : undefined;
  };
  const forecast$ = new BehaviorSubject<PvForecast | undefined>(read());

  return {
    forecast$: forecast$.asObservable(),
    current: () => forecast$.value,
    set(f) {
      const old = forecast$.value;
      // A copy of plain points: what is stored and what subscribers get are the same and cannot change under them.
      const points = f.points.map((p) => ({ at: p.at, w: p.w }));
      upsert.run(JSON.stringify(points), f.setBy, f.setAt);
      forecast$.next({ points, setBy: f.setBy, setAt: f.setAt });
      return old;
    },
    clear() {
      const old = forecast$.value;
      if (!old) return undefined;
      remove.run();
      forecast$.next(undefined);
      return old;
    },
  };
}
