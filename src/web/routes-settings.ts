// Changes a facility manager makes: the site limit (an external limit of kind 'page', never above site.limitA),
// sub-circuit limits (never above their fuse), station priorities and modes, the site mode, the safe limit.
// Each is validated (400 with the reason), persisted, applied live and audited (who, when, old → new).
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ChargingMode, PhaseVector } from '../../algorithms/types.js';
import type { Config } from '../config/types.js';
import type { AuditLog } from '../store/audit.js';
import { CHARGING_MODES, SettingsError, type SettingsStore } from '../store/settings.js';
import type { Counter } from './metrics.js';
import { ownValue, STATION_ID_PATTERN } from '../common/ids.js';

export interface SettingsRouteOptions {
  config: Config;
  settings: SettingsStore;
  audit: AuditLog;
  changes: Counter;
  /** Stations seen so far (connected or in the control state), so unknown-but-allowed stations can be set too. */
  seenStations: () => string[];
}

const phaseVector = { type: 'array', minItems: 3, maxItems: 3, items: { type: 'number', minimum: 0, maximum: 10000 } } as const;
const nullableVector = { anyOf: [phaseVector, { type: 'null' }] } as const;
const ID = STATION_ID_PATTERN;

export function registerSettingsRoutes(app: FastifyInstance, o: SettingsRouteOptions): void {
  const { config, settings, audit } = o;

  const view = () => {
    const { control, siteLimitA } = settings.current();
    const stationIds = new Set([...config.stations.list.map((s) => s.id), ...o.seenStations(), ...Object.keys(control.priorities), ...Object.keys(control.modes)]);
    return {
      siteLimitA,
      fuseA: config.site.limitA,
      siteMode: control.siteMode,
      safeLimitA: control.safeLimitA,
      modes: CHARGING_MODES,
      circuits: config.site.circuits.map((c) => ({ id: c.id, parent: c.parent ?? null, fuseA: c.limitA, limitA: ownValue(control.circuitLimitsA, c.id) ?? null })),
      stations: [...stationIds].sort().map((id) => ({
        id, circuit: config.stations.list.find((s) => s.id === id)?.circuit ?? null,
        priority: ownValue(control.priorities, id) ?? 0, mode: ownValue(control.modes, id) ?? null,
      })),
    };
  };

  /** Runs a change; a SettingsError becomes a 4xx with its message. */
  const apply = async (reply: FastifyReply, username: string, action: string, target: string, change: () => [unknown, unknown]) => {
    try {
      const [oldValue, newValue] = change();
      audit.record({ username, action, target, oldValue, newValue });
      o.changes.inc(1, { setting: action });
      return view();
    } catch (err) {
      if (err instanceof SettingsError) {
        return reply.code(err.status).send({ error: err.status === 404 ? 'Not Found' : 'Bad Request', message: err.message });
      }
      throw err;
    }
  };

  app.get('/api/settings', async () => view());

  app.put<{ Body: { limitA: PhaseVector | null } }>('/api/settings/site-limit', {
    schema: { body: { type: 'object', additionalProperties: false, required: ['limitA'], properties: { limitA: nullableVector } } },
  }, async (req, reply) => apply(reply, req.webSession!.username, 'site-limit', 'site', () => settings.setSiteLimit(req.body.limitA)));

  app.put<{ Params: { id: string }; Body: { limitA: PhaseVector | null } }>('/api/settings/circuits/:id', {
    schema: {
      params: { type: 'object', properties: { id: { type: 'string', pattern: ID } } },
      body: { type: 'object', additionalProperties: false, required: ['limitA'], properties: { limitA: nullableVector } },
    },
  }, async (req, reply) => apply(reply, req.webSession!.username, 'circuit-limit', req.params.id, () => settings.setCircuitLimit(req.params.id, req.body.limitA)));

  app.put<{ Params: { id: string }; Body: { priority?: number; mode?: ChargingMode | null } }>('/api/settings/stations/:id', {
    schema: {
      params: { type: 'object', properties: { id: { type: 'string', pattern: ID } } },
      body: {
        type: 'object',
        additionalProperties: false,
        minProperties: 1,
        properties: {
          priority: { type: 'integer', minimum: -1000, maximum: 1000 },
          mode: { anyOf: [{ type: 'string', enum: [...CHARGING_MODES] }, { type: 'null' }] },
        },
      },
    },
  }, async (req, reply) => {
    const id = req.params.id;
    if (!config.stations.list.some((s) => s.id === id) && !config.stations.allowUnknown) {
      return reply.code(404).send({ error: 'Not Found', message: `no station "${id}" in stations.list` });
    }
    return apply(reply, req.webSession!.username, 'station', id, () => settings.setStation(id, req.body));
  });

  app.put<{ Body: { mode: ChargingMode } }>('/api/settings/site-mode', {
    schema: { body: { type: 'object', additionalProperties: false, required: ['mode'], properties: { mode: { type: 'string', enum: [...CHARGING_MODES] } } } },
  }, async (req, reply) => apply(reply, req.webSession!.username, 'site-mode', 'site', () => settings.setSiteMode(req.body.mode)));

  app.put<{ Body: { limitA: PhaseVector } }>('/api/settings/safe-limit', {
    schema: { body: { type: 'object', additionalProperties: false, required: ['limitA'], properties: { limitA: phaseVector } } },
  }, async (req, reply) => apply(reply, req.webSession!.username, 'safe-limit', 'site', () => settings.setSafeLimit(req.body.limitA)));
}
