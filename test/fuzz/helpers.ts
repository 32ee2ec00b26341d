// Shared pieces of the fuzz tests: a seeded generator of hostile OCPP-J frames, and a heap measurement after GC.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';

/** stations.rateLimit lifted: the fuzzers pipeline frames on purpose (rate limits have their own tests). */
export const NO_RATE_LIMIT = { framesPerS: 1_000_000, burst: 1_000_000 };

/** A frame to send as text (string) or as raw bytes in a text frame (Buffer: lets us send invalid UTF-8). */
export type Hostile = { kind: string; data: string };

const validBoot = { chargingStation: { model: 'M', vendorName: 'V' }, reason: 'PowerUp' };

const jsonValue = fc.jsonValue({ maxDepth: 3 });
const messageId = fc.oneof(fc.uuid(), fc.string({ minLength: 1, maxLength: 36 }));
const actions = ['BootNotification', 'Heartbeat', 'StatusNotification', 'MeterValues', 'TransactionEvent', 'Authorize',
  'SetChargingProfile', 'GetVariables', 'DataTransfer', 'NotifyReport'];
const action = fc.oneof(fc.constantFrom(...actions), fc.string({ maxLength: 40 }));

/** Every family of broken frame the fuzz tests throw at a socket. */
export const hostileFrame: fc.Arbitrary<Hostile> = fc.oneof(
  fc.string({ maxLength: 200 }).map((data) => ({ kind: 'random text', data })),
  jsonValue.map((v) => ({ kind: 'random JSON', data: JSON.stringify(v) ?? 'null' })),
  fc.array(jsonValue, { maxLength: 6 }).map((a) => ({ kind: 'random array', data: JSON.stringify(a) })),
  fc.tuple(fc.integer({ min: -2, max: 9 }), messageId, action, jsonValue)
    .map(([t, id, a, p]) => ({ kind: 'wrong shape', data: JSON.stringify([t, id, a, p]) })),
  fc.tuple(messageId, action, fc.dictionary(fc.string({ maxLength: 12 }), jsonValue, { maxKeys: 5 }))
    .map(([id, a, p]) => ({ kind: 'CALL with junk payload', data: JSON.stringify([2, id, a, p]) })),
  fc.tuple(messageId, fc.constantFrom('model', 'vendorName', 'reason', 'extra'), jsonValue).map(([id, k, v]) => {
    const payload = JSON.parse(JSON.stringify(validBoot)) as Record<string, Record<string, unknown> | unknown>;
    if (k === 'reason' || k === 'extra') payload[k] = v;
    else (payload.chargingStation as Record<string, unknown>)[k] = v;
    return { kind: 'schema violation', data: JSON.stringify([2, id, 'BootNotification', payload]) };
  }),
  fc.tuple(messageId, fc.string({ maxLength: 30 }), fc.string({ minLength: 21, maxLength: 40 }), fc.integer({ min: -5, max: 5 }))
    .map(([id, reason, model, evseId]) => ({
      kind: 'enum, length or range violation',
      data: JSON.stringify(evseId % 2 === 0
        ? [2, id, 'BootNotification', { reason: `${reason}!`, chargingStation: { model: 'M', vendorName: 'V' } }]
        : evseId > 0 ? [2, id, 'BootNotification', { reason: 'PowerUp', chargingStation: { model, vendorName: 'V' } }]
          : [2, id, 'StatusNotification', { timestamp: reason, connectorStatus: 'Available', evseId, connectorId: 1 }]),
    })),
  fc.tuple(messageId, jsonValue).map(([id, p]) => ({ kind: 'reply to an id never sent', data: JSON.stringify([3, id, p]) })),
  fc.tuple(messageId, fc.string({ maxLength: 30 })).map(([id, c]) => ({ kind: 'error to an id never sent', data: JSON.stringify([4, id, c, 'x', {}]) })),
  fc.string({ maxLength: 60 }).map((s) => ({ kind: 'truncated JSON', data: `[2,"${s}","Heartbeat",{` })),
);

/** Sample `n` hostile frames from a fixed seed (reproducible across runs). */
export function sampleFrames(seed: number, n: number): Hostile[] {
  return fc.sample(hostileFrame, { seed, numRuns: n });
}

/** Bytes that are not UTF-8 (a lone continuation byte and an overlong encoding), inside an otherwise valid frame. */
export const INVALID_UTF8 = Buffer.concat([Buffer.from('[2,"u1","Heartbeat",{"x":"'), Buffer.from([0xc0, 0xaf, 0x80, 0xff]), Buffer.from('"}]')]);

let gcFn: (() => void) | undefined;
/** Heap used after a full GC, in MB (GC exposed at run time so no node flag is needed). */
export function heapAfterGcMb(): number {
  if (!gcFn) {
    setFlagsFromString('--expose-gc');
    gcFn = runInNewContext('gc') as () => void;
  }
  gcFn();
  gcFn();
  return process.memoryUsage().heapUsed / 1e6;
}
