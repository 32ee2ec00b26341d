// What the control loop learned per station, kept across restarts: its capabilities as it last said them, the quirks
// it needed a fallback for (so the next boot starts with the way that works instead of probing again) and its
// measured reaction time.
import { isQuirk, type StationCapabilities, type StationMemory, type StationNotes } from '../stations/model.js';
import { migrate, type Db } from './db.js';

const MIGRATIONS = [
  `CREATE TABLE station_notes (
     station_id TEXT PRIMARY KEY,
     caps TEXT,
     learned TEXT NOT NULL,
     reaction_ms INTEGER,
     updated_at INTEGER NOT NULL
   )`,
];

/** The most stations kept: a station id is chosen by whoever connects, so the table is bounded (oldest go first). */
const MAX_STATIONS = 10_000;

interface Row {
  caps: string | null;
  learned: string;
  reaction_ms: number | null;
  updated_at: number;
}

function parse<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

export function openStationNotes(db: Db): StationMemory {
  migrate(db, 'station-notes', MIGRATIONS);
  const get = db.prepare('SELECT caps, learned, reaction_ms, updated_at FROM station_notes WHERE station_id = ?');
  const upsert = db.prepare(
    `INSERT INTO station_notes (station_id, caps, learned, reaction_ms, updated_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT(station_id) DO UPDATE SET caps = excluded.caps, learned = excluded.learned, reaction_ms = excluded.reaction_ms, updated_at = excluded.updated_at`,
  );
  const trim = db.prepare('DELETE FROM station_notes WHERE station_id NOT IN (SELECT station_id FROM station_notes ORDER BY updated_at DESC LIMIT ?)');
  let writes = 0;
  return {
    load(stationId): StationNotes | undefined {
      const r = get.get(stationId) as Row | undefined;
      if (!r) return undefined;
      const learned = parse<unknown[]>(r.learned, []);
      const caps = parse<StationCapabilities | undefined>(r.caps, undefined);
      return {
        ...(caps && Array.isArray(caps.rateUnits) ? { caps } : {}),
        learned: Array.isArray(learned) ? learned.filter(isQuirk) : [],
        ...(r.reaction_ms !== null ? { reactionMs: r.reaction_ms } : {}),
        updatedAt: r.updated_at,
      };
    },
    save(stationId, n) {
      upsert.run(stationId, n.caps ? JSON.stringify(n.caps) : null, JSON.stringify(n.learned), n.reactionMs !== undefined ? Math.round(n.reactionMs) : null, n.updatedAt);
      if (++writes % 100 === 0) trim.run(MAX_STATIONS);
    },
  };
}
