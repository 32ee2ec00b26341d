// Read-only API behind the page: state (CONTRACT), live updates (SSE), journal, sessions (+ CSV), history, audit.
import type { FastifyInstance } from 'fastify';
import type { SchedulerLike } from 'rxjs';
import type { Config } from '../config/types.js';
import type { AuditLog } from '../store/audit.js';
import type { HistoryStore } from '../store/history.js';
import { maskIdToken, type ChargingSession, type SessionStore } from '../store/sessions.js';
import type { SiteView } from './live.js';
import type { Gauge } from './metrics.js';
import type { JournalDirection } from '../store/journal.js';
import type { JournalReader } from './ports.js';
import { registerLiveStream } from './live-stream.js';
import { STATION_ID_PATTERN } from '../common/ids.js';

export interface DataRouteOptions {
  config: Config;
  view: SiteView;
  sessions: SessionStore;
  history: HistoryStore;
  audit: AuditLog;
  journal?: JournalReader;
  scheduler: SchedulerLike;
  liveClients: Gauge;
  /** Minimum time between two pushed snapshots on the live stream (ms). */
  liveThrottleMs: number;
  /** Ends every open live stream (called on stop, so close() does not wait for them). */
  onStop: (fn: () => void) => void;
  /** The session behind a cookie token, while it is valid (a stream ends when it is not). */
  sessionValid: (token: string) => boolean;
  /** Registers the function that ends the streams of one session token (logout calls it). */
  onSessionEnd: (fn: (token: string) => void) => void;
  /** A stream whose client has not read for this long while data waits is dropped (ms, default 30 000). */
  liveStallMs?: number;
  /** How often a stream re-checks that its session is still valid (ms, default 5000). */
  liveSessionCheckMs?: number;
}

const JOURNAL_DIRECTIONS: readonly JournalDirection[] = ['station->csms', 'csms->station', 'controller->station', 'station->controller', 'controller->csms'];
const RANGES: Record<string, number> = { hour: 3600_000, day: 24 * 3600_000, week: 7 * 24 * 3600_000 };
const ID = STATION_ID_PATTERN;
const EPOCH = '^[0-9]{1,15}$';

function sessionView(s: ChargingSession, now: number) {
  const end = s.endedAt ?? now;
  const durationS = Math.max(0, Math.round((end - s.startedAt) / 1000));
  return {
    id: s.id, stationId: s.stationId, evseId: s.evseId, transactionId: s.transactionId, idToken: maskIdToken(s.idToken),
    startedAt: s.startedAt, endedAt: s.endedAt, active: s.endedAt === null, durationS, energyWh: Math.round(s.energyWh),
    averagePowerW: durationS > 0 ? Math.round((s.energyWh * 3600) / durationS) : 0, stoppedReason: s.stoppedReason,
  };
}

/**
 * One CSV cell, defused against formula injection: a spreadsheet runs a cell starting with = + - @ (or tab / CR before
 * one), and one opened with another separator (";" in many locales, tab, "|") splits "x;=1+1" into a formula cell
 * too. So a quote mark goes before every such character at the start or after a separator, and the cell is quoted.
 */
export const csvCell = (v: unknown): string => {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return String(v);
  let s = String(v);
  s = s.replace(/(^|[,;\t|\r\n])([\t\r]*)(?=[=+\-@])/g, "$1$2'");
  if (/^[\t\r]/.test(s)) s = `'${s}`;
  return /[",;\t|\n\r']/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

interface SessionQs { state?: 'active' | 'past' | 'all'; station?: string; from?: string; to?: string; limit?: string }

const sessionQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    state: { type: 'string', enum: ['active', 'past', 'all'] },
    station: { type: 'string', pattern: ID },
    from: { type: 'string', pattern: EPOCH },
    to: { type: 'string', pattern: EPOCH },
    limit: { type: 'string', pattern: '^[0-9]{1,5}$' },
  },
} as const;

export function registerDataRoutes(app: FastifyInstance, o: DataRouteOptions): void {
  app.get('/api/state', async () => o.view.snapshot());

  const listSessions = (q: SessionQs) => {
    // A running session's energy may be newer in the control state (MeterValues) than in its last TransactionEvent.
    const live = new Map<string, number>();
    for (const st of o.view.snapshot().stations) {
      for (const e of st.evses) if (e.transactionId && e.energyWh !== null) live.set(`${st.id}/${e.transactionId}`, e.energyWh);
    }
    return o.sessions.list({
      state: q.state ?? 'all', stationId: q.station, from: q.from ? Number(q.from) : undefined, to: q.to ? Number(q.to) : undefined,
      limit: q.limit ? Number(q.limit) : undefined,
    }).map((s) => {
      const now = live.get(`${s.stationId}/${s.transactionId}`);
      return sessionView(s.endedAt === null && now !== undefined && now > s.energyWh ? { ...s, energyWh: now } : s, o.scheduler.now());
    });
  };

  app.get<{ Querystring: SessionQs }>('/api/sessions', { schema: { querystring: sessionQuerySchema } }, async (req) => ({
    sessions: listSessions(req.query),
  }));

  app.get<{ Querystring: SessionQs }>('/api/sessions.csv', { schema: { querystring: sessionQuerySchema } }, async (req, reply) => {
    const rows = listSessions({ limit: '10000', ...req.query });
    const header = ['station', 'evse', 'transactionId', 'idToken', 'start', 'end', 'durationS', 'energyWh', 'averagePowerW', 'stoppedReason'];
    const lines = [header.join(',')].concat(rows.map((s) => [
      s.stationId, s.evseId, s.transactionId, s.idToken, new Date(s.startedAt).toISOString(), s.endedAt === null ? '' : new Date(s.endedAt).toISOString(),
      s.durationS, s.energyWh, s.averagePowerW, s.stoppedReason,
    ].map(csvCell).join(',')));
    reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="sessions.csv"');
    return `${lines.join('\r\n')}\r\n`;
  });

  app.get<{ Querystring: { range?: string; from?: string; to?: string; points?: string } }>('/api/history', {
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          range: { type: 'string', enum: Object.keys(RANGES) },
          from: { type: 'string', pattern: EPOCH },
          to: { type: 'string', pattern: EPOCH },
          points: { type: 'string', pattern: '^[0-9]{1,4}$' },
        },
      },
    },
  }, async (req, reply) => {
    const q = req.query;
    const now = o.scheduler.now();
    const to = q.to ? Number(q.to) : now;
    const from = q.from ? Number(q.from) : to - RANGES[q.range ?? 'hour'];
    if (from >= to) return reply.code(400).send({ error: 'Bad Request', message: 'from must be before to' });
    if (to - from > 31 * 24 * 3600_000) return reply.code(400).send({ error: 'Bad Request', message: 'at most 31 days per query' });
    return o.history.query(from, to, q.points ? Number(q.points) : 400);
  });

  app.get<{ Querystring: { limit?: string } }>('/api/audit', {
    schema: { querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'string', pattern: '^[0-9]{1,4}$' } } } },
  }, async (req) => ({ entries: o.audit.list({ limit: req.query.limit ? Number(req.query.limit) : 100 }) }));

  app.get<{ Params: { id: string }; Querystring: { action?: string; direction?: JournalDirection; before?: string; limit?: string } }>(
    '/api/stations/:id/journal',
    {
      schema: {
        params: { type: 'object', properties: { id: { type: 'string', pattern: ID } } },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            action: { type: 'string', pattern: '^[A-Za-z0-9]{1,64}$' },
            direction: { type: 'string', enum: [...JOURNAL_DIRECTIONS] },
            before: { type: 'string', pattern: '^[0-9]{1,15}$' },
            limit: { type: 'string', pattern: '^[0-9]{1,4}$' },
          },
        },
      },
    },
    async (req) => {
      if (!o.journal) return { available: false, entries: [] };
      const q = req.query;
      const entries = o.journal.query({
        stationId: req.params.id, action: q.action, direction: q.direction, beforeId: q.before ? Number(q.before) : undefined,
        limit: Math.min(Math.max(q.limit ? Number(q.limit) : 200, 1), 1000),
      });
      return { available: true, entries };
    },
  );

  registerLiveStream(app, o);
}
