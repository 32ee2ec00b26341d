// What differs between the OCPP versions a station may speak on its path through the relay: which schemas check its
// frames, how errors are spelled, what the controller answers for an unreachable CSMS (what is kept for it is in
// forward-rules.ts), and (1.6 only) the transaction ids that must be translated between the station and the CSMS. The session, the queue
// replay and the injected calls ask the station's adapter; they know nothing of the version themselves.
import type { CallFrame, OcppErrorCode } from '../ocpp/frames.js';
import type { OcppProtocol } from '../ocpp/protocol.js';
import { validatePayload } from '../ocpp/validate.js';
import type { AuthCache } from '../store/auth-cache.js';
import { answerLocally, learnTokens, type LocalAnswer, type OfflinePolicy } from './offline.js';

export interface ProtocolAdapter {
  readonly protocol: OcppProtocol;
  /** The frames every station sends all the time: their validators are compiled before the first one arrives. */
  readonly frequentActions: readonly string[];
  validate(action: string, kind: 'request' | 'response', payload: unknown): { code: OcppErrorCode; description: string } | undefined;
  /** The protocol's spelling of a framing error code. */
  errorCode(code: OcppErrorCode): OcppErrorCode;
  /** The answer the controller gives for an unreachable CSMS. */
  answerOffline(frame: CallFrame, now: number): LocalAnswer;
  /** The CSMS answered a station CALL (live, or `replayed` from the queue): learn its tokens (1.6: its transaction id). */
  csmsAnswered(action: string, messageId: string, request: Record<string, unknown>, result: Record<string, unknown>, now: number, replayed?: boolean): void;
  /** A station CALL's text toward the CSMS when it must differ from what the station sent (1.6 local ids). */
  rewriteForCsms?(frame: CallFrame): string | undefined;
  /** A CALL's payload toward the station when it must differ (1.6: the CSMS's transaction id → the station's). */
  rewriteForStation?(action: string, payload: Record<string, unknown>): Record<string, unknown> | undefined;
  /** Actions whose answer from the CSMS on replay is not published again on results$ (it was when answered locally). */
  readonly quietReplays?: ReadonlySet<string>;
  /** The CALL that sets the station's heartbeat interval. */
  heartbeatIntervalCall(intervalS: number): { action: string; payload: Record<string, unknown> };
}

/** OCPP 2.0.1: frames go through unchanged; transaction ids are the station's own (strings), nothing to translate. */
export function ocpp201Adapter(authCache: AuthCache, policy: OfflinePolicy): ProtocolAdapter {
  return {
    protocol: 'ocpp2.0.1',
    frequentActions: ['TransactionEvent', 'MeterValues', 'StatusNotification', 'Heartbeat'],
    validate: (action, kind, payload) => validatePayload(action, kind, payload),
    errorCode: (code) => code,
    answerOffline: (frame, now) => answerLocally(frame.action, frame.payload, authCache, policy, now),
    csmsAnswered: (action, _id, request, result, now) => learnTokens(action, request, result, authCache, now),
    heartbeatIntervalCall: (intervalS) => ({
      action: 'SetVariables',
      payload: { setVariableData: [{ component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' }, attributeValue: String(intervalS) }] },
    }),
  };
}
