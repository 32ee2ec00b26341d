// The OCPP versions a station (or the controller's own identity) may speak: the WebSocket subprotocol names
// (OCPP-J 1.6 §3.1.2, OCPP 2.0.1 Part 4 §3.1.2), so one string serves as both.
export type OcppProtocol = 'ocpp2.0.1' | 'ocpp1.6';

/** What a relay event without a protocol means (every station spoke 2.0.1 before 1.6 was relayed). */
export const DEFAULT_PROTOCOL: OcppProtocol = 'ocpp2.0.1';

/** In the order the station port prefers them when a station offers both and nothing else decides. */
export const OCPP_PROTOCOLS: readonly OcppProtocol[] = ['ocpp2.0.1', 'ocpp1.6'];

export function isOcppProtocol(v: unknown): v is OcppProtocol {
  return v === 'ocpp2.0.1' || v === 'ocpp1.6';
}
