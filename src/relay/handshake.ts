// The station's WebSocket handshake: identity from the URL path, client certificates (security profile 3) and
// subprotocol negotiation (Part 4 §3). Who may connect (ids, passwords, rate limits) is admission.ts.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { STATUS_CODES } from 'node:http';
import type { StationsConfig } from '../config/types.js';
import { OCPP_SUBPROTOCOL } from '../ocpp/messages.js';

export const MAX_IDENTITY_LENGTH = 48;

/** The station identity from `/ocpp/<id>` (percent-decoded), or why the path is not one. */
export function stationIdFromPath(url: string | undefined): { id: string } | { error: string } {
  const path = (url ?? '').split('?')[0];
  const m = /^\/ocpp\/([^/]+)\/?$/.exec(path);
  if (!m) return { error: 'path is not /ocpp/<stationId>' };
  let id: string;
  try {
    id = decodeURIComponent(m[1]);
  } catch {
    return { error: 'station id is not valid percent-encoding' };
  }
  if (id.length === 0 || id.length > MAX_IDENTITY_LENGTH) return { error: `station id must be 1..${MAX_IDENTITY_LENGTH} characters` };
  if (id.includes(':')) return { error: 'station id must not contain ":"' };
  return { id };
}

export function offeredProtocols(req: IncomingMessage): string[] {
  const h = req.headers['sec-websocket-protocol'];
  return (Array.isArray(h) ? h.join(',') : h ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

export function agreesOcpp(req: IncomingMessage): boolean {
  return offeredProtocols(req).includes(OCPP_SUBPROTOCOL);
}

/** The identities a client certificate speaks for: its subject CN and its DNS / URI subjectAltNames. */
export function certificateIdentities(cert: { subject?: Record<string, string | string[]>; subjectaltname?: string }): string[] {
  const ids: string[] = [];
  const cn = cert.subject?.CN;
  if (typeof cn === 'string') ids.push(cn);
  else if (Array.isArray(cn)) ids.push(...cn);
  for (const part of (cert.subjectaltname ?? '').split(',')) {
    const m = /^\s*(DNS|URI):(.*)$/.exec(part);
    if (m) ids.push(m[2].trim());
  }
  return ids;
}

/**
 * Security profile 3: the station's client certificate must be issued to the identity in the URL (its CN or a
 * subjectAltName), so one station's certificate cannot open another station's path (OCPP 2.0.1 Part 2 A00 /
 * the security whitepaper: the CN carries the charging station's identity). undefined when it matches or when client
 * certificates are not required.
 */
export function certificateMismatch(id: string, req: IncomingMessage, config: StationsConfig): { status: number; reason: string } | undefined {
  if (!config.tls?.requireClientCert) return undefined;
  const socket = req.socket as TLSSocket;
  const cert = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
  if (!cert || Object.keys(cert).length === 0) return { status: 401, reason: 'no client certificate' };
  const ids = certificateIdentities(cert as unknown as { subject?: Record<string, string | string[]>; subjectaltname?: string });
  if (!ids.includes(id)) return { status: 403, reason: `client certificate is for ${ids.join(', ') || 'no identity'}, not ${id}` };
  return undefined;
}

export function refuse(socket: Duplex, status: number, extraHeaders: Record<string, string> = {}): void {
  if (socket.destroyed) return;
  const headers = { Connection: 'close', 'Content-Length': '0', ...extraHeaders };
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}`);
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n${lines.join('\r\n')}\r\n\r\n`);
}
