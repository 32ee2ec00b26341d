// Which station CALLs must reach the CSMS even when they were answered locally during an outage, and how they are
// kept until then. One row per (protocol, action): a new protocol (OCPP 1.6) or a new message only adds rows.
//
// - `inOrder`: every message is kept, in arrival order, and replayed in that order (transaction messages: what the
//   station would have queued itself, E13 in 2.0.1 / §4.7 in 1.6; security events: A04 asks a station to queue
//   them while offline and deliver them in order).
// - `latestPerKey`: only the newest message per key is kept, at the place of its latest arrival (StatusNotification:
//   after reconnect a station reports the current status of every connector that changed, B04 — not the history).
//
// Every kept message follows the same retry rule on a CALLERROR (E13.FR.02/03, see store-forward.ts).

import { DEFAULT_PROTOCOL, type OcppProtocol } from '../ocpp/protocol.js';

export type { OcppProtocol } from '../ocpp/protocol.js';

export type ForwardRule =
  | { keep: 'inOrder' }
  | { keep: 'latestPerKey'; key(payload: Record<string, unknown>): string };

const num = (v: unknown): string => (typeof v === 'number' || typeof v === 'string' ? String(v) : '?');

export const FORWARD_RULES: Readonly<Record<OcppProtocol, Readonly<Record<string, ForwardRule>>>> = {
  'ocpp2.0.1': {
    TransactionEvent: { keep: 'inOrder' },
    MeterValues: { keep: 'inOrder' },
    SecurityEventNotification: { keep: 'inOrder' },
    NotifyEvent: { keep: 'inOrder' },
    StatusNotification: { keep: 'latestPerKey', key: (p) => `${num(p.evseId)}/${num(p.connectorId)}` },
  },
  'ocpp1.6': {
    StartTransaction: { keep: 'inOrder' },
    StopTransaction: { keep: 'inOrder' },
    // 1.6 MeterValues outside a transaction are not required to reach the CSMS, but keeping them costs little and
    // keeps the rule one row.
    MeterValues: { keep: 'inOrder' },
    SecurityEventNotification: { keep: 'inOrder' },
    // connectorId 0 is the whole station; its status is kept like any connector's.
    StatusNotification: { keep: 'latestPerKey', key: (p) => num(p.connectorId) },
  },
};

/** How a station CALL is kept for the CSMS during an outage; undefined = answered locally only. */
export function forwardRule(action: string, protocol: OcppProtocol = DEFAULT_PROTOCOL): ForwardRule | undefined {
  return FORWARD_RULES[protocol][action];
}

/** The key under which only the newest message is kept (undefined for in-order messages). */
export function forwardKey(rule: ForwardRule, payload: Record<string, unknown>): string | undefined {
  return rule.keep === 'latestPerKey' ? rule.key(payload) : undefined;
}

/** MessageAttempts / MessageAttemptInterval (E13.FR.02/03): after a CALLERROR, attempt `attempt` + 1 waits this long. */
export function retryDelayMs(attempt: number, intervalS: number): number {
  return Math.max(0, intervalS * attempt * 1000);
}
