// The OCPP versions a station (or the controller's own identity) may speak: the WebSocket subprotocol names.
export type OcppProtocol = 'ocpp2.0.1' | 'ocpp1.6';

/** What a relay event without a protocol means (every station spoke 2.0.1 before 1.6 was relayed). */
export const DEFAULT_PROTOCOL: OcppProtocol = 'ocpp2.0.1';
