import { describe, expect, it } from 'vitest';
import { encodeFrame, parseFrame } from '../../src/ocpp/frames.js';
import { isKnownAction, ocppActions, validatePayload } from '../../src/ocpp/validate.js';

const boot = { reason: 'PowerUp', chargingStation: { model: 'M1', vendorName: 'V' } };

describe('parseFrame', () => {
  it('reads the three OCPP-J frame kinds and encodes them back byte for byte', () => {
    for (const text of [
      JSON.stringify([2, 'a1', 'BootNotification', boot]),
      JSON.stringify([3, 'a1', { status: 'Accepted', currentTime: '2026-01-01T00:00:00Z', interval: 300 }]),
      JSON.stringify([4, 'a1', 'NotImplemented', 'nope', {}]),
    ]) {
      const r = parseFrame(text);
      expect(r.ok).toBe(true);
      if (r.ok) expect(encodeFrame(r.frame)).toBe(text);
    }
  });

  it('answers unreadable JSON with id "-1" and FormatViolation', () => {
    const r = parseFrame('[2, "abc", "Heartbeat", {');
    expect(r).toMatchObject({ ok: false, error: { type: 4, messageId: '-1', code: 'FormatViolation' } });
  });

  it('answers a wrong frame shape with RpcFrameworkError, keeping the id when it can be read', () => {
    expect(parseFrame('{"a":1}')).toMatchObject({ ok: false, error: { messageId: '-1', code: 'RpcFrameworkError' } });
    expect(parseFrame('[]')).toMatchObject({ ok: false, error: { messageId: '-1', code: 'RpcFrameworkError' } });
    expect(parseFrame('[2, 17, "Heartbeat", {}]')).toMatchObject({ ok: false, error: { messageId: '-1', code: 'RpcFrameworkError' } });
    expect(parseFrame(`[2, "${'x'.repeat(37)}", "Heartbeat", {}]`)).toMatchObject({ ok: false, error: { messageId: '-1', code: 'RpcFrameworkError' } });
    expect(parseFrame('[2, "id7", "Heartbeat"]')).toMatchObject({ ok: false, error: { messageId: 'id7', code: 'RpcFrameworkError' } });
    expect(parseFrame('[2, "id7", 5, {}]')).toMatchObject({ ok: false, error: { messageId: 'id7', code: 'RpcFrameworkError' } });
    expect(parseFrame('[2, "id7", "Heartbeat", []]')).toMatchObject({ ok: false, error: { messageId: 'id7', code: 'FormatViolation' } });
    expect(parseFrame('["2", "id7", "Heartbeat", {}]')).toMatchObject({ ok: false, error: { messageId: 'id7', code: 'RpcFrameworkError' } });
  });

  it('answers message types 5, 6 and 9 with MessageTypeNotSupported', () => {
    for (const t of [5, 6, 9]) {
      expect(parseFrame(`[${t}, "m${t}", "Heartbeat", {}]`)).toMatchObject({ ok: false, error: { messageId: `m${t}`, code: 'MessageTypeNotSupported' } });
    }
  });
});

describe('validatePayload', () => {
  it('knows the 64 OCPP 2.0.1 actions', () => {
    expect(ocppActions()).toHaveLength(64);
    expect(isKnownAction('TransactionEvent')).toBe(true);
    expect(isKnownAction('StartTransaction')).toBe(false);
  });

  it('accepts valid payloads', () => {
    expect(validatePayload('BootNotification', 'request', boot)).toBeUndefined();
    expect(validatePayload('Heartbeat', 'response', { currentTime: '2026-01-01T00:00:00Z' })).toBeUndefined();
  });

  it('names each kind of violation with its Part 4 §4.3 code', () => {
    expect(validatePayload('Foo', 'request', {})?.code).toBe('NotImplemented');
    // type mismatch
    expect(validatePayload('Heartbeat', 'response', { currentTime: 12 })?.code).toBe('TypeConstraintViolation');
    // missing required field
    expect(validatePayload('BootNotification', 'request', { reason: 'PowerUp' })?.code).toBe('OccurrenceConstraintViolation');
    // enum, length, format
    expect(validatePayload('BootNotification', 'request', { ...boot, reason: 'Bored' })?.code).toBe('PropertyConstraintViolation');
    expect(validatePayload('BootNotification', 'request', { ...boot, chargingStation: { model: 'M'.repeat(21), vendorName: 'V' } })?.code).toBe('PropertyConstraintViolation');
    expect(validatePayload('Heartbeat', 'response', { currentTime: 'yesterday' })?.code).toBe('PropertyConstraintViolation');
    // a property the PDU does not define
    expect(validatePayload('Heartbeat', 'request', { extra: 1 })?.code).toBe('FormatViolation');
    // description says where
    expect(validatePayload('BootNotification', 'request', { ...boot, reason: 'Bored' })?.description).toContain('/reason');
  });
});
