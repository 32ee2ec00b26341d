// The quick date-time check (src/ocpp/date-time.ts) must never accept what the full RFC 3339 check (ajv-formats)
// refuses, and the validator as a whole must give the same verdicts as before for timestamps a station may send.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import { isPlainDateTime } from '../../src/ocpp/date-time.js';
import { validatePayload } from '../../src/ocpp/validate.js';

const full = (fullFormats['date-time'] as { validate: (s: string) => boolean }).validate;

const heartbeatResponse = (currentTime: string) => validatePayload('Heartbeat', 'response', { currentTime });

describe('date-time check', () => {
  it('accepts the usual spellings the full check accepts', () => {
    for (const s of ['2026-01-01T00:00:00.000Z', '2026-12-31T23:59:59Z', '2024-02-29T12:00:00.5+02:00', '2026-06-30T07:08:09.123456-11:30']) {
      expect(isPlainDateTime(s)).toBe(true);
      expect(full(s)).toBe(true);
      expect(heartbeatResponse(s)).toBeUndefined();
    }
  });

  it('refuses impossible dates and times, and the schema check refuses them too (error a station would get)', () => {
    for (const s of ['2026-02-29T00:00:00Z', '2026-13-01T00:00:00Z', '2026-04-31T00:00:00Z', '2026-01-01T24:00:00Z', '2026-01-01T00:60:00Z',
      '2026-01-01T00:00:00', '2026-01-01 00:00:00Z', '2026-01-01T00:00:00.Z', '2026-01-01T00:00:00+24:00', 'yesterday', '2026-0a-01T00:00:00Z']) {
      expect(isPlainDateTime(s)).toBe(false);
      expect(heartbeatResponse(s)?.code === 'PropertyConstraintViolation').toBe(!full(s));
    }
  });

  it('leaves the rarer spellings to the full check (leap second, lower case, offset without colon)', () => {
    for (const s of ['2016-12-31T23:59:60Z', '2026-01-01t00:00:00z', '2026-01-01T00:00:00+0200', '2026-01-01 00:00:00Z']) {
      expect(isPlainDateTime(s)).toBe(false);
      expect(full(s)).toBe(true);
      expect(heartbeatResponse(s)).toBeUndefined();
    }
  });

  it('never says yes where the full check says no (random and mutated timestamps)', () => {
    const digits = (n: number) => fc.array(fc.constantFrom(...'0123456789'), { minLength: n, maxLength: n }).map((a) => a.join(''));
    const stamp = fc.tuple(digits(4), digits(2), digits(2), digits(2), digits(2), digits(2),
      fc.option(digits(3), { nil: undefined }), fc.constantFrom('Z', 'z', '+02:00', '-23:59', '+24:00', '+05:60', '', '+0200'))
      .map(([y, mo, d, h, mi, s, f, tz]) => `${y}-${mo}-${d}T${h}:${mi}:${s}${f ? `.${f}` : ''}${tz}`);
    const mutated = fc.tuple(stamp, fc.nat(30), fc.string({ minLength: 1, maxLength: 1 })).map(([s, i, c]) => s.slice(0, i % s.length) + c + s.slice((i % s.length) + 1));
    fc.assert(fc.property(fc.oneof(stamp, mutated, fc.string()), (s) => {
      if (isPlainDateTime(s)) expect(full(s)).toBe(true);
    }), { numRuns: 20000 });
  });
});
