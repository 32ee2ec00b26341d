// OCPP 1.6J validation: the OCA 1.6 schemas (with the security whitepaper's messages), 1.6's own CALLERROR spellings,
// and the multipleOf: 0.1 trap on charging limits.
import { describe, expect, it } from 'vitest';
import { isKnownAction, ocppActions, validatePayload } from '../../src/ocpp/validate.js';
import { OCPP16_CSMS_ACTIONS, OCPP16_ERROR_CODES, OCPP16_STATION_ACTIONS } from '../../src/ocpp/messages16.js';

const profile = (limit: number): Record<string, unknown> => ({
  connectorId: 1,
  csChargingProfiles: {
    chargingProfileId: 1, stackLevel: 0, chargingProfilePurpose: 'TxDefaultProfile', chargingProfileKind: 'Absolute',
    chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit }] },
  },
});

describe('OCPP 1.6 validation', () => {
  it('knows every 1.6 action, including the security whitepaper ones, and each one goes one known way', () => {
    const all = ocppActions('ocpp1.6');
    for (const a of ['SecurityEventNotification', 'SignCertificate', 'CertificateSigned', 'SignedUpdateFirmware', 'ExtendedTriggerMessage', 'GetLog', 'StartTransaction']) {
      expect(all).toContain(a);
    }
    for (const a of all) expect(OCPP16_STATION_ACTIONS.has(a) || OCPP16_CSMS_ACTIONS.has(a)).toBe(true);
    for (const a of [...OCPP16_STATION_ACTIONS, ...OCPP16_CSMS_ACTIONS]) expect(isKnownAction(a, 'ocpp1.6')).toBe(true);
    expect(isKnownAction('StartTransaction')).toBe(false);
    expect(isKnownAction('TransactionEvent', 'ocpp1.6')).toBe(false);
  });

  it('accepts a one-decimal limit such as 16.3 and refuses 16.35 (multipleOf 0.1), in both protocols', () => {
    expect(validatePayload('SetChargingProfile', 'request', profile(16.3), 'ocpp1.6')).toBeUndefined();
    expect(validatePayload('SetChargingProfile', 'request', profile(0.7), 'ocpp1.6')).toBeUndefined();
    expect(validatePayload('SetChargingProfile', 'request', profile(16.35), 'ocpp1.6')?.code).toBe('PropertyConstraintViolation');
    const p201 = {
      evseId: 1,
      chargingProfile: {
        id: 1, stackLevel: 0, chargingProfilePurpose: 'TxDefaultProfile', chargingProfileKind: 'Absolute',
        chargingSchedule: [{ id: 1, chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 16.3 }] }],
      },
    };
    expect(validatePayload('SetChargingProfile', 'request', p201)).toBeUndefined();
  });

  it('answers with the 1.6 spellings of the error codes', () => {
    expect(validatePayload('BootNotification', 'request', { chargePointVendor: 'V' }, 'ocpp1.6')?.code).toBe('OccurenceConstraintViolation');
    expect(validatePayload('BootNotification', 'request', { chargePointVendor: 'V', chargePointModel: 'M', x: 1 }, 'ocpp1.6')?.code).toBe('FormationViolation');
    expect(validatePayload('BootNotification', 'request', { chargePointVendor: 1, chargePointModel: 'M' }, 'ocpp1.6')?.code).toBe('TypeConstraintViolation');
    expect(validatePayload('Nope', 'request', {}, 'ocpp1.6')?.code).toBe('NotImplemented');
    for (const c of ['FormationViolation', 'OccurenceConstraintViolation']) expect(OCPP16_ERROR_CODES).toContain(c);
    // 2.0.1 keeps its own.
    expect(validatePayload('BootNotification', 'request', { reason: 'PowerUp' })?.code).toBe('OccurrenceConstraintViolation');
  });

  it('validates the security whitepaper messages', () => {
    expect(validatePayload('SecurityEventNotification', 'request', { type: 'FirmwareUpdated', timestamp: '2026-01-01T00:00:00Z' }, 'ocpp1.6')).toBeUndefined();
    expect(validatePayload('SignCertificate', 'request', { csr: '-----BEGIN CERTIFICATE REQUEST-----' }, 'ocpp1.6')).toBeUndefined();
    expect(validatePayload('ExtendedTriggerMessage', 'request', { requestedMessage: 'SignChargePointCertificate' }, 'ocpp1.6')).toBeUndefined();
    expect(validatePayload('GetLog', 'request', { logType: 'SecurityLog', requestId: 1, log: { remoteLocation: 'ftp://x/y' } }, 'ocpp1.6')).toBeUndefined();
  });
});
