// Needs a person enters for a session whose EV cannot say them (most 1.6 stations, EVs without ISO 15118): the
// energy it should get and when it leaves. The optimizer then shares by need and the planner plans to the departure,
// as for an EV that sent NotifyEVChargingNeeds. Bound to the session running now; validated, persisted, audited.
import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '../store/audit.js';
import type { EnteredNeedsStore } from '../store/entered-needs.js';
import type { SiteView } from './live.js';
import type { Counter } from './metrics.js';
import { STATION_ID_PATTERN } from '../common/ids.js';

export interface NeedsRouteOptions {
  view: SiteView;
  needs: EnteredNeedsStore;
  audit: AuditLog;
  changes: Counter;
  now: () => number;
}

/** The most energy one session can be told to get (Wh): beyond any EV battery on sale. */
export const MAX_ENTERED_WH = 250_000;
/** The furthest departure that can be entered (ms ahead). */
export const MAX_DEPARTURE_AHEAD_MS = 7 * 24 * 3_600_000;

interface Params { id: string; evseId: string }
const params = {
  type: 'object',
  required: ['id', 'evseId'],
  properties: { id: { type: 'string', pattern: STATION_ID_PATTERN }, evseId: { type: 'string', pattern: '^[1-9][0-9]{0,3}$' } },
} as const;
const evseOf = (p: Params) => ({ id: p.id, evseId: Number(p.evseId) });

export function registerNeedsRoutes(app: FastifyInstance, o: NeedsRouteOptions): void {
  const sessionOn = (id: string, evseId: number) =>
    o.view.snapshot().stations.find((s) => s.id === id)?.evses.find((e) => e.id === evseId)?.transactionId ?? null;
  const target = (p: { id: string; evseId: number }) => `${p.id} EVSE ${p.evseId}`;

  app.put<{ Params: Params; Body: { energyWh: number; departureAt: string } }>('/api/stations/:id/evses/:evseId/needs', {
    schema: {
      params,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['energyWh', 'departureAt'],
        properties: {
          energyWh: { type: 'number', exclusiveMinimum: 0, maximum: MAX_ENTERED_WH },
          departureAt: { type: 'string', format: 'date-time', maxLength: 40 },
        },
      },
    },
  }, async (req, reply) => {
    const p = evseOf(req.params);
    const transactionId = sessionOn(p.id, p.evseId);
    if (!transactionId) {
      return reply.code(409).send({ error: 'Conflict', message: `no session on ${target(p)} now: needs belong to a session, enter them once the EV is plugged in` });
    }
    const now = o.now();
    const departureAt = Date.parse(req.body.departureAt);
    if (!(departureAt > now)) return reply.code(400).send({ error: 'Bad Request', message: `departureAt ${req.body.departureAt} is not in the future` });
    if (departureAt > now + MAX_DEPARTURE_AHEAD_MS) {
      return reply.code(400).send({ error: 'Bad Request', message: `departureAt ${req.body.departureAt} is more than 7 days ahead` });
    }
    const entry = { stationId: p.id, evseId: p.evseId, transactionId, energyWh: req.body.energyWh, departureAt, enteredBy: req.webSession!.username, enteredAt: now };
    const old = o.needs.set(entry);
    o.audit.record({ username: entry.enteredBy, action: 'session-needs', target: target(p), oldValue: old && old.transactionId === transactionId ? brief(old) : null, newValue: brief(entry) });
    o.changes.inc(1, { setting: 'session-needs' });
    return { ...brief(entry), transactionId };
  });

  app.delete<{ Params: Params }>('/api/stations/:id/evses/:evseId/needs', { schema: { params } }, async (req, reply) => {
    const p = evseOf(req.params);
    const old = o.needs.clear(p.id, p.evseId);
    if (!old) return reply.code(404).send({ error: 'Not Found', message: `no needs entered for ${target(p)}` });
    o.audit.record({ username: req.webSession!.username, action: 'session-needs', target: target(p), oldValue: brief(old), newValue: null });
    o.changes.inc(1, { setting: 'session-needs' });
    return reply.code(204).send();
  });
}

const brief = (e: { energyWh: number; departureAt: number }) => ({ energyWh: e.energyWh, departureAt: new Date(e.departureAt).toISOString() });
