// Which side may initiate which action, per protocol version (table-driven, so 1.6 plugs in beside 2.0.1). A CALL
// sent the wrong way (a station sending SetChargingProfile or Reset as if it were the CSMS) is answered locally with
// the protocol's error and never forwarded: "NotSupported — requested Action is recognized but not supported by the
// receiver" (OCPP-J 2.0.1 Part 4 §4.3; OCPP-J 1.6 §4.2.3 has the same code).
import type { OcppErrorCode as ErrorCode } from './frames.js';
import { OCPP16_CSMS_ACTIONS, OCPP16_STATION_ACTIONS } from './messages16.js';

interface DirectionTable {
  /** Actions a charging station may send to the CSMS. */
  fromStation: ReadonlySet<string>;
  /** Actions only the CSMS may send (known to the protocol, never from a station). */
  csmsOnly: ReadonlySet<string>;
  wrongDirection: ErrorCode;
}

const V201: DirectionTable = {
  fromStation: new Set([
    'Authorize', 'BootNotification', 'ClearedChargingLimit', 'DataTransfer', 'FirmwareStatusNotification', 'Get15118EVCertificate',
    'GetCertificateStatus', 'Heartbeat', 'LogStatusNotification', 'MeterValues', 'NotifyChargingLimit', 'NotifyCustomerInformation',
    'NotifyDisplayMessages', 'NotifyEVChargingNeeds', 'NotifyEVChargingSchedule', 'NotifyEvent', 'NotifyMonitoringReport', 'NotifyReport',
    'PublishFirmwareStatusNotification', 'ReportChargingProfiles', 'ReservationStatusUpdate', 'SecurityEventNotification', 'SignCertificate',
    'StatusNotification', 'TransactionEvent',
  ]),
  csmsOnly: new Set([
    'CancelReservation', 'CertificateSigned', 'ChangeAvailability', 'ClearCache', 'ClearChargingProfile', 'ClearDisplayMessage',
    'ClearVariableMonitoring', 'CostUpdated', 'CustomerInformation', 'DeleteCertificate', 'GetBaseReport', 'GetChargingProfiles',
    'GetCompositeSchedule', 'GetDisplayMessages', 'GetInstalledCertificateIds', 'GetLocalListVersion', 'GetLog', 'GetMonitoringReport',
    'GetReport', 'GetTransactionStatus', 'GetVariables', 'InstallCertificate', 'PublishFirmware', 'RequestStartTransaction',
    'RequestStopTransaction', 'ReserveNow', 'Reset', 'SendLocalList', 'SetChargingProfile', 'SetDisplayMessage', 'SetMonitoringBase',
    'SetMonitoringLevel', 'SetNetworkProfile', 'SetVariableMonitoring', 'SetVariables', 'TriggerMessage', 'UnlockConnector',
    'UnpublishFirmware', 'UpdateFirmware',
  ]),
  wrongDirection: 'NotSupported',
};

const V16: DirectionTable = {
  fromStation: OCPP16_STATION_ACTIONS,
  csmsOnly: new Set([...OCPP16_CSMS_ACTIONS].filter((a) => !OCPP16_STATION_ACTIONS.has(a))),
  wrongDirection: 'NotSupported',
};

/** Direction tables by negotiated subprotocol. A protocol without a table is not checked here. */
export const DIRECTION_TABLES: Record<string, DirectionTable> = { 'ocpp2.0.1': V201, 'ocpp1.6': V16 };

/** The CALLERROR for a station sending a CSMS-only action over `protocol`; undefined when it may send it. */
export function stationMayNotSend(protocol: string, action: string): { code: ErrorCode; description: string } | undefined {
  const t = Object.prototype.hasOwnProperty.call(DIRECTION_TABLES, protocol) ? DIRECTION_TABLES[protocol] : undefined;
  if (!t || !t.csmsOnly.has(action)) return undefined;
  return { code: t.wrongDirection, description: `${action} is sent by the CSMS to a charging station, not by a charging station` };
}
