// What differs between the controller's identity speaking OCPP 2.0.1 and 1.6J toward the CSMS: the subprotocol, the
// BootNotification payload and the CALL handlers. The connection (UpstreamStation), the device model, the installed
// profiles and the site-limit stream are shared; each protocol is one adapter (protocol-201.ts, protocol-16.ts).
import type { ControllerIdentityConfig } from '../config/types.js';
import type { OcppPeer } from '../ocpp/index.js';
import type { OcppProtocol } from '../ocpp/protocol.js';
import type { HandlerContext } from './station-handlers.js';

export type BootReason = 'PowerUp' | 'Triggered' | 'RemoteReset' | 'Unknown';

export interface IdentityProtocol {
  readonly subprotocol: OcppProtocol;
  bootNotification(reason: BootReason, controller: ControllerIdentityConfig): Record<string, unknown>;
  installHandlers(peer: OcppPeer, ctx: HandlerContext): void;
  /** K14 NotifyChargingLimit / ClearedChargingLimit exist in 2.0.1 only. */
  readonly reportsExternalLimits: boolean;
  /** Sent each time the CSMS accepts the identity (after boot or a reconnect). */
  onRegistered?(call: (action: string, payload: Record<string, unknown>) => Promise<Record<string, unknown>>, now: number): Promise<void>;
}
