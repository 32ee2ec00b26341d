// The scenario file's JSON Schema and how its errors read: every problem named by its key path, and of an anyOf only
// the branch the author meant.
import { Ajv, type ErrorObject } from 'ajv';
import { CHARGER_QUIRKS } from './quirks.js';
import { keyPath } from '../config/load.js';

const phaseVector = { type: 'array', items: { type: 'number', minimum: 0 }, minItems: 3, maxItems: 3 } as const;
const rotation = { enum: ['L1L2L3', 'L2L3L1', 'L3L1L2', 'L1L3L2', 'L3L2L1', 'L2L1L3'] } as const;
const clock = { type: 'string', pattern: '^\\d{1,2}:\\d{2}(\\+\\d+)?$' } as const;
const span = { anyOf: [{ type: 'string', pattern: '^(\\d+(\\.\\d+)?(h|m|s|ms))+$' }, { type: 'number', exclusiveMinimum: 0 }] } as const;
const baseLoad = {
  type: 'object',
  additionalProperties: false,
  required: ['shape'],
  properties: {
    shape: { type: 'string', pattern: '^(office|home|flat|csv:.+)$' },
    peakA: phaseVector,
    noise: { type: 'number', minimum: 0, maximum: 1 },
  },
} as const;
const randomEvs = {
  type: 'object',
  additionalProperties: false,
  required: ['count'],
  properties: {
    count: { type: 'integer', minimum: 1, maximum: 10000 },
    seed: { type: 'integer' },
    /** Arrival window ["HH:MM", "HH:MM"]. */
    arrive: { type: 'array', items: clock, minItems: 2, maxItems: 2 },
    /** Stay in hours [min, max]. */
    stayH: { type: 'array', items: { type: 'number', exclusiveMinimum: 0 }, minItems: 2, maxItems: 2 },
    /** Energy wanted in Wh [min, max]. */
    energyWh: { type: 'array', items: { type: 'number', exclusiveMinimum: 0 }, minItems: 2, maxItems: 2 },
    maxA: { type: 'array', items: { type: 'number', exclusiveMinimum: 0 }, minItems: 1 },
    /** Share of 1-phase EVs (0..1). */
    onePhaseShare: { type: 'number', minimum: 0, maximum: 1 },
    priority: { type: 'integer' },
  },
} as const;

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'duration', 'site', 'chargers', 'evs'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 80 },
    duration: span,
    step: span,
    seed: { type: 'integer' },
    site: {
      type: 'object',
      additionalProperties: false,
      required: ['limitA'],
      properties: { limitA: phaseVector, voltage: { type: 'number', exclusiveMinimum: 0 } },
    },
    mode: { enum: ['fast', 'pv', 'minpv'] },
    baseLoad,
    pv: {
      type: 'object',
      additionalProperties: false,
      required: ['peakW'],
      properties: { peakW: { type: 'number', minimum: 0 }, clouds: { type: 'number', minimum: 0, maximum: 1 } },
    },
    battery: {
      type: 'object',
      additionalProperties: false,
      required: ['capacityWh', 'maxW'],
      properties: {
        capacityWh: { type: 'number', exclusiveMinimum: 0 },
        maxW: { type: 'number', minimum: 0 },
        soc: { type: 'number', minimum: 0, maximum: 1 },
        minSoc: { type: 'number', minimum: 0, maximum: 1 },
        reserveForEvs: { type: 'boolean' },
        refillFromPv: { type: 'boolean' },
      },
    },
    circuits: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'limitA'],
        properties: { id: { type: 'string', minLength: 1 }, limitA: phaseVector, parent: { type: 'string' }, baseLoad },
      },
    },
    chargers: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id'],
        properties: {
          id: { type: 'string', minLength: 1, maxLength: 48, pattern: '^[^:/]+$' },
          circuit: { type: 'string' },
          phases: { enum: [1, 3] },
          maxA: { type: 'number', exclusiveMinimum: 0 },
          rotation,
          reactionS: { type: 'number', minimum: 0 },
          honorsProfiles: { type: 'boolean' },
          /** Finer than honorsProfiles: reject answers SetChargingProfile with Rejected. */
          profiles: { enum: ['apply', 'ignore', 'reject'] },
          meterValuesS: { type: 'number', minimum: 1 },
          protocol: { enum: ['ocpp2.0.1', 'ocpp1.6'] },
          quirks: { type: 'array', uniqueItems: true, items: { enum: [...CHARGER_QUIRKS] } },
          phaseSwitching: { type: 'boolean' },
          /** false: says Charging while its EV is full and draws nothing (SuspendedEV never said). */
          reportsSuspendedEV: { type: 'boolean' },
        },
      },
    },
    evs: {
      anyOf: [
        {
          type: 'array',
          items: {
            anyOf: [
              {
                type: 'object',
                additionalProperties: false,
                required: ['charger', 'arrive', 'depart', 'energyWh'],
                properties: {
                  charger: { type: 'string' },
                  arrive: clock,
                  depart: clock,
                  energyWh: { type: 'number', exclusiveMinimum: 0 },
                  maxA: { type: 'number', exclusiveMinimum: 0 },
                  phases: { enum: [1, 3] },
                  priority: { type: 'integer' },
                  capacityWh: { type: 'number', exclusiveMinimum: 0 },
                  sendsNeeds: { type: 'boolean' },
                  entersNeeds: { type: 'boolean' },
                },
              },
              { type: 'object', additionalProperties: false, required: ['random'], properties: { random: randomEvs } },
            ],
          },
        },
        { type: 'object', additionalProperties: false, required: ['random'], properties: { random: randomEvs } },
      ],
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: false });
export const validateScenario = ajv.compile(schema);

export function describe(e: ErrorObject): string {
  const at = keyPath(e.instancePath);
  const prefix = at === '(top level)' ? '' : `${at}.`;
  switch (e.keyword) {
    case 'required':
      return `${prefix}${String(e.params.missingProperty)}: is required`;
    case 'additionalProperties':
      return `${prefix}${String(e.params.additionalProperty)}: unknown key`;
    case 'enum':
      return `${at}: must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'pattern':
      if (/arrive|depart/.test(at)) return `${at}: must be "HH:MM" or "HH:MM+1"`;
      if (/duration|step/.test(at)) return `${at}: must be a duration like "24h", "90m", "1s" or seconds`;
      if (/shape/.test(at)) return `${at}: must be office, home, flat or csv:<file>`;
      return `${at}: ${e.message ?? 'is invalid'}`;
    default:
      return `${at}: ${e.message ?? 'is invalid'}`;
  }
}

/**
 * ajv reports every branch of an anyOf; a person wants the branch they meant. For each anyOf (deepest first, per data
 * item) keep only the errors of the branch with the fewest errors, and drop the "must match a schema in anyOf" lines.
 */
export function closestBranches(errors: ErrorObject[]): ErrorObject[] {
  let errs = errors.filter((e) => e.keyword !== 'anyOf');
  const splits = new Map<string, { schema: string; depth: number }>();
  for (const e of errs) {
    for (const m of e.schemaPath.matchAll(/\/anyOf\/\d+/g)) {
      const schema = e.schemaPath.slice(0, m.index);
      const depth = (schema.match(/\/(properties\/[^/]+|items)(?=\/|$)/g) ?? []).length;
      splits.set(`${schema}|${e.instancePath.split('/').slice(0, depth + 1).join('/')}`, { schema, depth });
    }
  }
  const keys = [...splits.entries()].sort((a, b) => b[1].schema.length - a[1].schema.length);
  for (const [key, { schema, depth }] of keys) {
    const inst = key.slice(key.indexOf('|') + 1);
    const branchOf = (e: ErrorObject) => {
      if (!e.schemaPath.startsWith(`${schema}/anyOf/`) || e.instancePath.split('/').slice(0, depth + 1).join('/') !== inst) return undefined;
      return Number(e.schemaPath.slice(schema.length + 7).split('/')[0]);
    };
    // A branch whose type does not even fit the value ranks last; then the one with the fewest errors.
    const counts = new Map<number, number>();
    for (const e of errs) {
      const b = branchOf(e);
      if (b !== undefined) counts.set(b, (counts.get(b) ?? 0) + (e.keyword === 'type' && e.instancePath === inst ? 1000 : 1));
    }
    if (counts.size < 2) continue;
    const best = [...counts.entries()].sort((a, b) => a[1] - b[1] || a[0] - b[0])[0][0];
    errs = errs.filter((e) => {
      const b = branchOf(e);
      return b === undefined || b === best;
    });
  }
  return errs;
}

