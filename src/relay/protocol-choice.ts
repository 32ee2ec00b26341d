// Which OCPP version a station gets: the one it offers (Sec-WebSocket-Protocol), and when it offers both, the one
// configured for it (stations.list[].protocol), else its own first choice.
import type { IncomingMessage } from 'node:http';
import type { StationsConfig } from '../config/types.js';
import { isOcppProtocol, OCPP_PROTOCOLS, type OcppProtocol } from '../ocpp/protocol.js';
import { offeredProtocols } from './handshake.js';

export function chooseProtocol(offered: readonly string[], preferred?: OcppProtocol): OcppProtocol | undefined {
  if (preferred && offered.includes(preferred)) return preferred;
  return offered.find(isOcppProtocol);
}

export function stationProtocol(stationId: string, req: IncomingMessage, config: StationsConfig): OcppProtocol | undefined {
  return chooseProtocol(offeredProtocols(req), config.list.find((s) => s.id === stationId)?.protocol);
}

/** For log lines and close reasons. */
export const SPOKEN = OCPP_PROTOCOLS.join(' or ');
