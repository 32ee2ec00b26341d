// Charging sessions, recorded from the station model's session events (started / updated / ended, any protocol):
// station, EVSE, transaction id, idToken (stored in full; the API masks it), start, end, energy.
import type { Observable, Subscription } from 'rxjs';
import type { SessionEvent, StationEvent } from '../stations/model.js';
import { migrate, type Db } from './db.js';

const MIGRATIONS = [
  `CREATE TABLE charging_sessions (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     station_id TEXT NOT NULL,
     evse_id INTEGER,
     transaction_id TEXT NOT NULL,
     id_token TEXT,
     started_at INTEGER NOT NULL,
     ended_at INTEGER,
     updated_at INTEGER NOT NULL,
     meter_start_wh REAL,
     meter_last_wh REAL,
     energy_wh REAL NOT NULL DEFAULT 0,
     stopped_reason TEXT,
     UNIQUE (station_id, transaction_id)
   );
   CREATE INDEX charging_sessions_started ON charging_sessions (started_at);
   CREATE INDEX charging_sessions_open ON charging_sessions (ended_at);`,
];

export interface ChargingSession {
  id: number;
  stationId: string;
  evseId: number | null;
  transactionId: string;
  idToken: string | null;
  startedAt: number;
  endedAt: number | null;
  updatedAt: number;
  energyWh: number;
  stoppedReason: string | null;
}

export interface SessionQuery {
  state?: 'active' | 'past' | 'all';
  stationId?: string;
  /** Sessions that started at or after (epoch ms). */
  from?: number;
  to?: number;
  limit?: number;
}

export interface SessionStore {
  /** Applies one session event. */
  apply(ev: SessionEvent): void;
  /** Records every session event of the stations' events$ until the subscription ends. */
  record(events$: Observable<StationEvent>, onError?: (err: unknown) => void): Subscription;
  list(query?: SessionQuery): ChargingSession[];
}

interface Row {
  id: number; station_id: string; evse_id: number | null; transaction_id: string; id_token: string | null;
  started_at: number; ended_at: number | null; updated_at: number; meter_start_wh: number | null;
  meter_last_wh: number | null; energy_wh: number; stopped_reason: string | null;
}

export function createSessionStore(db: Db): SessionStore {
  migrate(db, 'charging-sessions', MIGRATIONS);
  const find = db.prepare<[string, string], Row>('SELECT * FROM charging_sessions WHERE station_id = ? AND transaction_id = ?');
  const insert = db.prepare(
    `INSERT INTO charging_sessions (station_id, evse_id, transaction_id, id_token, started_at, updated_at, meter_start_wh, meter_last_wh)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const update = db.prepare(
    `UPDATE charging_sessions SET evse_id = ?, id_token = ?, ended_at = ?, updated_at = ?, meter_start_wh = ?, meter_last_wh = ?,
       energy_wh = ?, stopped_reason = ? WHERE id = ?`,
  );

  const apply = (ev: SessionEvent) => {
    const { stationId, transactionId } = ev;
    const t = ev.time ?? ev.at;
    const evseId = ev.evseId ?? null;
    const idToken = ev.idToken ?? null;
    const registerWh = ev.measurement.energyWh;

    db.transaction(() => {
      let row = find.get(stationId, transactionId);
      if (!row) {
        // An Updated/Ended without Started (controller restarted mid-session) still opens a row, from its own time.
        insert.run(stationId, evseId, transactionId, idToken, t, t, registerWh ?? null, registerWh ?? null);
        row = find.get(stationId, transactionId)!;
      }
      const meterStart = row.meter_start_wh ?? registerWh ?? null;
      const meterLast = registerWh ?? row.meter_last_wh;
      const energy = meterStart !== null && meterLast !== null ? Math.max(0, meterLast - meterStart) : row.energy_wh;
      const ended = ev.phase === 'ended' ? (row.ended_at ?? t) : row.ended_at;
      const reason = ev.phase === 'ended' && ev.stoppedReason !== undefined ? ev.stoppedReason : row.stopped_reason;
      update.run(evseId ?? row.evse_id, idToken ?? row.id_token, ended, Math.max(t, row.updated_at), meterStart, meterLast, energy, reason, row.id);
    })();
  };

  return {
    apply,
    record(events$, onError = () => {}) {
      return events$.subscribe({
        next: (e) => {
          if (e.kind !== 'session') return;
          try { apply(e); } catch (err) { onError(err); /* one bad event must not end the recorder */ }
        },
        error: onError,
      });
    },
    list(query = {}) {
      const where: string[] = [];
      const args: (string | number)[] = [];
      if (query.state === 'active') where.push('ended_at IS NULL');
      if (query.state === 'past') where.push('ended_at IS NOT NULL');
      if (query.stationId) { where.push('station_id = ?'); args.push(query.stationId); }
      if (query.from !== undefined) { where.push('started_at >= ?'); args.push(query.from); }
      if (query.to !== undefined) { where.push('started_at < ?'); args.push(query.to); }
      const limit = Math.min(Math.max(query.limit ?? 200, 1), 10_000);
      const sql = `SELECT * FROM charging_sessions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, id DESC LIMIT ${limit}`;
      return (db.prepare(sql).all(...args) as Row[]).map((r) => ({
        id: r.id, stationId: r.station_id, evseId: r.evse_id, transactionId: r.transaction_id, idToken: r.id_token,
        startedAt: r.started_at, endedAt: r.ended_at, updatedAt: r.updated_at, energyWh: r.energy_wh, stoppedReason: r.stopped_reason,
      }));
    },
  };
}

/** The idToken as the page shows it: its last four characters (two for short tokens, none for very short ones),
 * enough to tell cards apart without disclosing them. */
export function maskIdToken(token: string | null): string | null {
  if (token === null) return null;
  if (token.length <= 4) return '••••';
  return `••••${token.slice(token.length <= 8 ? -2 : -4)}`;
}
