// The site's PV forecast, pushed in by the integrator (evcc-style solar forecast, but the controller does not fetch it):
// the session planner plans the battery kept for the EVs with it. Validated, persisted, audited.
import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '../store/audit.js';
import type { PvForecast, PvForecastStore } from '../store/pv-forecast.js';
import type { Counter } from './metrics.js';

export interface ForecastRouteOptions {
  forecast: PvForecastStore;
  audit: AuditLog;
  changes: Counter;
  now: () => number;
}

/** The most points one forecast can have: 8 days at 6-minute steps (forecast.solar and Solcast give 15 to 60). */
export const MAX_FORECAST_POINTS = 2000;
/**
 * The largest PUT body (bytes): MAX_FORECAST_POINTS points of up to ~100 bytes each (a 40-character time, a long
 * number, whitespace). The server's 64 KiB default would refuse a full forecast with 413.
 */
export const MAX_FORECAST_BODY_BYTES = 256 * 1024;
/** The furthest ahead a forecast can start (ms). */
export const MAX_FORECAST_START_AHEAD_MS = 7 * 24 * 3_600_000;
/** The longest a forecast can span, first point to last (ms). */
export const MAX_FORECAST_SPAN_MS = 8 * 24 * 3_600_000;
/** The most PV power a point can give (W): beyond any site this controller runs. */
export const MAX_FORECAST_W = 10_000_000;

const PATH = '/api/forecast/pv';

export function registerForecastRoutes(app: FastifyInstance, o: ForecastRouteOptions): void {
  app.put<{ Body: { points: { at: string; w: number }[] } }>(PATH, {
    bodyLimit: MAX_FORECAST_BODY_BYTES,
    schema: {
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['points'],
        properties: {
          points: {
            type: 'array',
            minItems: 2,
            maxItems: MAX_FORECAST_POINTS,
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['at', 'w'],
              properties: {
                at: { type: 'string', format: 'date-time', maxLength: 40 },
                w: { type: 'number', minimum: 0, maximum: MAX_FORECAST_W },
              },
            },
          },
        },
      },
    },
  }, async (req, reply) => {
    const now = o.now();
    const points = req.body.points.map((p) => ({ at: Date.parse(p.at), w: p.w }));
    const bad = (message: string) => reply.code(400).send({ error: 'Bad Request', message });
    for (let i = 1; i < points.length; i++) {
      if (!(points[i].at > points[i - 1].at)) {
        return bad(`points[${i}].at ${req.body.points[i].at} is not after points[${i - 1}].at ${req.body.points[i - 1].at}: times must be strictly increasing`);
      }
    }
    const first = points[0].at;
    const last = points[points.length - 1].at;
    if (!(last > now)) return bad(`the last point (${req.body.points[points.length - 1].at}) is not in the future: the forecast is all past`);
    if (first > now + MAX_FORECAST_START_AHEAD_MS) return bad(`the first point (${req.body.points[0].at}) is more than 7 days ahead`);
    if (last - first > MAX_FORECAST_SPAN_MS) return bad(`the forecast spans more than 8 days (${req.body.points[0].at} to ${req.body.points[points.length - 1].at})`);

    const forecast: PvForecast = { points, setBy: req.webSession!.username, setAt: now };
    const old = o.forecast.set(forecast);
    o.audit.record({ username: forecast.setBy, action: 'pv-forecast', target: 'site', oldValue: old ? brief(old) : null, newValue: brief(forecast) });
    o.changes.inc(1, { setting: 'pv-forecast' });
    return brief(forecast);
  });

  app.get(PATH, async (_req, reply) => {
    const f = o.forecast.current();
    if (!f) return reply.code(404).send({ error: 'Not Found', message: 'no PV forecast is set' });
    return { points: f.points.map((p) => ({ at: iso(p.at), w: p.w })), setBy: f.setBy, setAt: iso(f.setAt) };
  });

  app.delete(PATH, async (req, reply) => {
    const old = o.forecast.clear();
    if (!old) return reply.code(404).send({ error: 'Not Found', message: 'no PV forecast is set' });
    o.audit.record({ username: req.webSession!.username, action: 'pv-forecast', target: 'site', oldValue: brief(old), newValue: null });
    o.changes.inc(1, { setting: 'pv-forecast' });
    return reply.code(204).send();
  });
}

const iso = (ms: number) => new Date(ms).toISOString();

/** What the audit log and the PUT reply show: not every point, just how many and the span. */
const brief = (f: Pick<PvForecast, 'points'>) => ({ points: f.points.length, from: iso(f.points[0].at), to: iso(f.points[f.points.length - 1].at) });
