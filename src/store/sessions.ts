// Charging sessions, recorded from the TransactionEvent CALLs stations send (Started / Updated / Ended):
// station, EVSE, transaction id, idToken (stored in full; the API masks it), start, end, energy.
import type { Observable, Subscription } from 'rxjs';
import type { OcppCallEvent } from '../relay/events.js';
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
  /** Applies one TransactionEvent request (as sent by the station). Ignores anything else. */
  apply(stationId: string, payload: Record<string, unknown>, at: number): void;
  /** Records every station TransactionEvent of a relay's calls$ until the subscription ends. */
  record(calls$: Observable<OcppCallEvent>, onError?: (err: unknown) => void): Subscription;
  list(query?: SessionQuery): ChargingSession[];
}

interface Row {
  id: number; station_id: string; evse_id: number | null; transaction_id: string; id_token: string | null;
  started_at: number; ended_at: number | null; updated_at: number; meter_start_wh: number | null;
  meter_last_wh: number | null; energy_wh: number; stopped_reason: string | null;
}

const obj = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

/** The Energy.Active.Import.Register reading (Wh) of a TransactionEvent's meterValue, if present. */
export function energyRegisterWh(payload: Record<string, unknown>): number | undefined {
  const meterValue = payload.meterValue;
  if (!Array.isArray(meterValue)) return undefined;
  let found: number | undefined;
  for (const mv of meterValue) {
    const sampled = obj(mv)?.sampledValue;
    if (!Array.isArray(sampled)) continue;
    for (const s of sampled) {
      const sv = obj(s);
      if (!sv || typeof sv.value !== 'number') continue;
      // measurand defaults to Energy.Active.Import.Register (OCPP 2.0.1 SampledValueType); a per-phase value is skipped.
      const measurand = (sv.measurand as string | undefined) ?? 'Energy.Active.Import.Register';
      if (measurand !== 'Energy.Active.Import.Register' || sv.phase !== undefined) continue;
      const unit = obj(sv.unitOfMeasure);
      const multiplier = typeof unit?.multiplier === 'number' ? unit.multiplier : 0;
      const scale = unit?.unit === 'kWh' ? 1000 : 1;
      found = sv.value * scale * 10 ** multiplier;
    }
  }
  return found;
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

  const apply = (stationId: string, payload: Record<string, unknown>, at: number) => {
    const info = obj(payload.transactionInfo);
    const transactionId = info?.transactionId;
    const eventType = payload.eventType;
    if (typeof transactionId !== 'string' || !['Started', 'Updated', 'Ended'].includes(eventType as string)) return;
    const parsed = typeof payload.timestamp === 'string' ? Date.parse(payload.timestamp) : NaN;
    const t = Number.isFinite(parsed) ? parsed : at;
    const evseRaw = obj(payload.evse)?.id;
    const evseId = typeof evseRaw === 'number' ? evseRaw : null;
    const tokenRaw = obj(payload.idToken)?.idToken;
    const idToken = typeof tokenRaw === 'string' && tokenRaw !== '' ? tokenRaw : null;
    const registerWh = energyRegisterWh(payload);

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
      const ended = eventType === 'Ended' ? (row.ended_at ?? t) : row.ended_at;
      const reason = eventType === 'Ended' && typeof info?.stoppedReason === 'string' ? info.stoppedReason : row.stopped_reason;
      update.run(evseId ?? row.evse_id, idToken ?? row.id_token, ended, Math.max(t, row.updated_at), meterStart, meterLast, energy, reason, row.id);
    })();
  };

  return {
    apply,
    record(calls$, onError = () => {}) {
      return calls$.subscribe({
        next: (e) => {
          if (e.origin !== 'station' || e.action !== 'TransactionEvent') return;
          try { apply(e.stationId, e.payload, e.at); } catch (err) { onError(err); /* one bad event must not end the recorder */ }
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
