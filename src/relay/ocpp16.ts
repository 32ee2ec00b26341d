// The relay's OCPP 1.6J adapter. 1.6 differs from 2.0.1 on a station's path in one hard way: the CSMS, not the
// station, gives the integer transactionId (StartTransaction.conf). While the CSMS is unreachable the controller
// answers StartTransaction with a local id (negative: see store/tx-ids.ts), queues the transaction's messages, and
// once the CSMS has answered the replayed StartTransaction with its own id, translates both ways for as long as the
// station uses the local id: station → CSMS local → CSMS id, CSMS → station CSMS id → local.
import type { CallFrame } from '../ocpp/frames.js';
import { ocpp16ErrorCode } from '../ocpp/messages16.js';
import { validatePayload } from '../ocpp/validate.js';
import type { AuthCache, IdToken, IdTokenInfo } from '../store/auth-cache.js';
import type { TransactionIds } from '../store/tx-ids.js';
import type { LocalAnswer, OfflinePolicy } from './offline.js';
import type { ProtocolAdapter } from './protocol-adapter.js';

/** 1.6 idTags share the authorization cache with 2.0.1 idTokens under this token type. */
export const IDTAG_TOKEN_TYPE = 'ocpp1.6-idTag';

/** Acknowledged with an empty reply while the CSMS is away (what it would answer; nothing to decide). */
const ACKNOWLEDGED = new Set([
  'StatusNotification', 'MeterValues', 'DiagnosticsStatusNotification', 'FirmwareStatusNotification',
  'SecurityEventNotification', 'LogStatusNotification', 'SignedFirmwareStatusNotification',
]);

function idTag(v: unknown): IdToken | undefined {
  return typeof v === 'string' && v.length > 0 ? { idToken: v, type: IDTAG_TOKEN_TYPE } : undefined;
}

/** 1.6 idTagInfo → the cache's idTokenInfo (the expiry under 2.0.1's name, so the cache honours it). */
function toCacheInfo(info: Record<string, unknown>): IdTokenInfo {
  const out: IdTokenInfo = { ...info, status: String(info.status) };
  if (typeof info.expiryDate === 'string') out.cacheExpiryDateTime = info.expiryDate;
  return out;
}

function toIdTagInfo(info: IdTokenInfo): Record<string, unknown> {
  const out: Record<string, unknown> = { status: info.status };
  if (typeof info.expiryDate === 'string') out.expiryDate = info.expiryDate;
  if (typeof info.parentIdTag === 'string') out.parentIdTag = info.parentIdTag;
  return out;
}

/** The frames a 1.6 station sends all the time (validators compiled at start). */
export const OCPP16_FREQUENT_ACTIONS: readonly string[] = ['MeterValues', 'StatusNotification', 'Heartbeat', 'StartTransaction', 'StopTransaction'];

/** The replayed StartTransaction's answer names the CSMS's id, which the station never uses: not published again. */
const QUIET_REPLAYS: ReadonlySet<string> = new Set(['StartTransaction']);

export interface Ocpp16Deps {
  authCache: AuthCache;
  policy: OfflinePolicy;
  txIds: TransactionIds;
}

export function ocpp16Adapter(stationId: string, deps: Ocpp16Deps): ProtocolAdapter {
  const { authCache, policy, txIds } = deps;

  const idTagInfo = (payload: Record<string, unknown>, now: number): Record<string, unknown> => {
    const tag = idTag(payload.idTag);
    if (!tag) return { status: 'Invalid' };
    const cached = authCache.lookup(tag, now);
    if (cached) return toIdTagInfo(cached);
    // 1.6 has no "Unknown": a tag the CSMS has never accepted here is Invalid unless the policy accepts it.
    return { status: policy.unknownTokenPolicy === 'accept' ? 'Accepted' : 'Invalid' };
  };

  /** The CSMS's id for the station's local one, when the station names a local id the CSMS has since replaced. */
  const csmsIdOf = (v: unknown): number | undefined => (typeof v === 'number' && v < 0 ? txIds.csmsId(stationId, v) : undefined);

  return {
    protocol: 'ocpp1.6',
    frequentActions: OCPP16_FREQUENT_ACTIONS,
    validate: (action, kind, payload) => validatePayload(action, kind, payload, 'ocpp1.6'),
    errorCode: ocpp16ErrorCode,

    answerOffline(frame: CallFrame, now: number): LocalAnswer {
      const currentTime = new Date(now).toISOString();
      switch (frame.action) {
        case 'BootNotification':
          return { result: { currentTime, interval: policy.heartbeatIntervalS, status: 'Accepted' } };
        case 'Heartbeat':
          return { result: { currentTime } };
        case 'Authorize':
          return { result: { idTagInfo: idTagInfo(frame.payload, now) } };
        case 'StartTransaction':
          // Durable before the station hears it: the same StartTransaction sent again gets the same id.
          return { result: { idTagInfo: idTagInfo(frame.payload, now), transactionId: txIds.allocate(stationId, frame.messageId, JSON.stringify(frame.payload), now) } };
        case 'StopTransaction':
          return { result: frame.payload.idTag === undefined ? {} : { idTagInfo: idTagInfo(frame.payload, now) } };
        case 'DataTransfer':
          return { result: { status: 'UnknownVendorId' } };
        default:
          if (ACKNOWLEDGED.has(frame.action)) return { result: {} };
          return { error: { code: 'GenericError', description: 'the CSMS is unreachable; try again later' } };
      }
    },

    csmsAnswered(action, messageId, request, result, now, replayed) {
      // Only a replayed StartTransaction was answered locally with a local id (a live one's answer went to the station).
      if (replayed && action === 'StartTransaction' && typeof result.transactionId === 'number') {
        txIds.settle(stationId, messageId, JSON.stringify(request), result.transactionId);
      }
      if (action !== 'Authorize' && action !== 'StartTransaction' && action !== 'StopTransaction') return;
      const tag = idTag(request.idTag);
      const info = result.idTagInfo as Record<string, unknown> | undefined;
      if (!tag || !info || typeof info.status !== 'string') return;
      authCache.learn(tag, toCacheInfo(info), now);
    },

    rewriteForCsms(frame) {
      if (frame.action !== 'MeterValues' && frame.action !== 'StopTransaction') return undefined;
      const csmsId = csmsIdOf(frame.payload.transactionId);
      if (csmsId === undefined) return undefined;
      return JSON.stringify([2, frame.messageId, frame.action, { ...frame.payload, transactionId: csmsId }]);
    },

    rewriteForStation(action, payload) {
      const local = (v: unknown): number | undefined => (typeof v === 'number' && v > 0 ? txIds.localId(stationId, v) : undefined);
      if (action === 'RemoteStopTransaction') {
        const id = local(payload.transactionId);
        return id === undefined ? undefined : { ...payload, transactionId: id };
      }
      const key = action === 'SetChargingProfile' ? 'csChargingProfiles' : action === 'RemoteStartTransaction' ? 'chargingProfile' : undefined;
      const profile = key ? payload[key] : undefined;
      if (!key || typeof profile !== 'object' || profile === null) return undefined;
      const id = local((profile as Record<string, unknown>).transactionId);
      return id === undefined ? undefined : { ...payload, [key]: { ...profile, transactionId: id } };
    },

    quietReplays: QUIET_REPLAYS,
    heartbeatIntervalCall: (intervalS) => ({ action: 'ChangeConfiguration', payload: { key: 'HeartbeatInterval', value: String(intervalS) } }),
  };
}
