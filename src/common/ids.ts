// The one rule for station identities, used by the station port, the config, the page's routes and the settings.
// OCPP 2.0.1 Part 4 §3.1 / Part 2 identifierString: a-z A-Z 0-9 * - _ = : + | @ . and at most 48 characters; ':' is
// left out because the identity is the Basic-auth user name (RFC 7617 forbids ':' in it). Anything else (spaces,
// unicode, '/', '%') is refused at the handshake, so it can never reach a page, a file name or a query.
export const MAX_STATION_ID_LENGTH = 48;

/** The rule as a JSON-schema / RegExp pattern string. */
export const STATION_ID_PATTERN = '^[A-Za-z0-9*_=+|@.-]{1,48}$';

const STATION_ID = new RegExp(STATION_ID_PATTERN);

export function isStationId(id: string): boolean {
  return STATION_ID.test(id);
}

/**
 * A plain object for data keyed by station id (settings, JSON for the page) that a key like `__proto__` or
 * `constructor` cannot reach into: no prototype, so lookups see only own keys.
 */
export function stationRecord<T>(entries?: Iterable<readonly [string, T]>): Record<string, T> {
  const out = Object.create(null) as Record<string, T>;
  if (entries) for (const [k, v] of entries) out[k] = v;
  return out;
}

/** `record[id]` only when it is the record's own key (never an inherited property such as `constructor`). */
export function ownValue<T>(record: Record<string, T>, id: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(record, id) ? record[id] : undefined;
}
