// What the controller answers for the CSMS while a station's upstream is down (errata 2025-09 §4.13, option B).
import type { AuthCache, IdToken, IdTokenInfo } from '../store/auth-cache.js';

/** Station CALLs that must reach the CSMS eventually: kept in the durable queue and replayed in order. */
export const TRANSACTION_RELATED = new Set(['TransactionEvent', 'MeterValues']);

export interface OfflinePolicy {
  heartbeatIntervalS: number;
  unknownTokenPolicy: 'accept' | 'reject';
}

export type LocalAnswer = { result: Record<string, unknown> } | { error: { code: 'GenericError' | 'NotSupported'; description: string } };

function isIdToken(v: unknown): v is IdToken {
  return typeof v === 'object' && v !== null && typeof (v as IdToken).idToken === 'string' && typeof (v as IdToken).type === 'string';
}

function tokenInfo(token: IdToken, cache: AuthCache, policy: OfflinePolicy, now: number): IdTokenInfo {
  // NoAuthorization tokens need no CSMS decision.
  if (token.type === 'NoAuthorization') return { status: 'Accepted' };
  return cache.lookup(token, now) ?? { status: policy.unknownTokenPolicy === 'accept' ? 'Accepted' : 'Unknown' };
}

const ACKNOWLEDGED = new Set([
  'StatusNotification', 'MeterValues', 'NotifyEvent', 'NotifyReport', 'NotifyMonitoringReport', 'SecurityEventNotification',
  'FirmwareStatusNotification', 'LogStatusNotification', 'NotifyCustomerInformation', 'NotifyDisplayMessages',
  'PublishFirmwareStatusNotification', 'ReportChargingProfiles', 'NotifyChargingLimit', 'ClearedChargingLimit',
]);

/** The reply a CSMS would most plausibly give, built only from what the controller knows. */
export function answerLocally(action: string, payload: Record<string, unknown>, cache: AuthCache, policy: OfflinePolicy, now: number): LocalAnswer {
  const currentTime = new Date(now).toISOString();
  switch (action) {
    case 'BootNotification':
      return { result: { currentTime, interval: policy.heartbeatIntervalS, status: 'Accepted' } };
    case 'Heartbeat':
      return { result: { currentTime } };
    case 'Authorize':
      return { result: { idTokenInfo: isIdToken(payload.idToken) ? tokenInfo(payload.idToken, cache, policy, now) : { status: 'Invalid' } } };
    case 'TransactionEvent':
      return { result: isIdToken(payload.idToken) ? { idTokenInfo: tokenInfo(payload.idToken, cache, policy, now) } : {} };
    case 'NotifyEVChargingNeeds':
      // The controller's own smart charging still sets limits; a CSMS schedule cannot come now.
      return { result: { status: 'Processing' } };
    case 'DataTransfer':
      return { result: { status: 'UnknownVendorId' } };
    default:
      if (ACKNOWLEDGED.has(action)) return { result: {} };
      return { error: { code: 'GenericError', description: 'the CSMS is unreachable; try again later' } };
  }
}

/** Learns tokens from a CSMS reply to a station's CALL. */
export function learnTokens(action: string, request: Record<string, unknown>, result: Record<string, unknown>, cache: AuthCache, now: number): void {
  if (action !== 'Authorize' && action !== 'TransactionEvent') return;
  const info = result.idTokenInfo as IdTokenInfo | undefined;
  if (!info || typeof info.status !== 'string' || !isIdToken(request.idToken)) return;
  cache.learn(request.idToken, info, now);
}
