// Opening a station's socket toward the CSMS, and the OCPP reconnect back-off (Part 4 §5.3, errata §4.12).
import { readFileSync } from 'node:fs';
import { WebSocket } from 'ws';
import { readPrivateKey } from '../common/private-key.js';
import type { OcppProtocol } from '../ocpp/protocol.js';
import type { UpstreamConfig } from '../config/types.js';
import { explainProtocolCloses } from './close-reasons.js';
import { PER_MESSAGE_DEFLATE } from './deflate.js';

export type UpstreamResult =
  | { ok: true; socket: WebSocket }
  /** status: the CSMS's HTTP answer when it refused the handshake (401, 404, ...); absent when unreachable. */
  | { ok: false; status?: number; reason: string };

export interface UpstreamTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** Reads the CA bundle and client certificate files named in the config once, at start. */
export function loadUpstreamTls(config: UpstreamConfig): UpstreamTls {
  return {
    ca: config.ca ? readFileSync(config.ca) : undefined,
    cert: config.clientCert ? readFileSync(config.clientCert) : undefined,
    key: config.clientKey ? readPrivateKey(config.clientKey, 'upstream.clientKey') : undefined,
  };
}

export function upstreamUrl(base: string, stationId: string): string {
  return `${base.replace(/\/+$/, '')}/${encodeURIComponent(stationId)}`;
}

export function openUpstream(
  base: string,
  stationId: string,
  opts: { authorization?: string; tls: UpstreamTls; handshakeTimeoutMs: number; maxPayload: number; protocol?: OcppProtocol },
): Promise<UpstreamResult> {
  // The station's own version: the CSMS must speak to it exactly as the station asked.
  const protocol = opts.protocol ?? 'ocpp2.0.1';
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: UpstreamResult): void => {
      if (done) return;
      done = true;
      resolve(r);
    };
    const socket = new WebSocket(upstreamUrl(base, stationId), [protocol], {
      perMessageDeflate: PER_MESSAGE_DEFLATE,
      handshakeTimeout: opts.handshakeTimeoutMs,
      maxPayload: opts.maxPayload,
      headers: opts.authorization ? { Authorization: opts.authorization } : {},
      ca: opts.tls.ca,
      cert: opts.tls.cert,
      key: opts.tls.key,
    });
    explainProtocolCloses(socket, opts.maxPayload);
    socket.once('open', () => {
      if (socket.protocol !== protocol) {
        socket.close(1002, 'no OCPP subprotocol agreed');
        finish({ ok: false, reason: `the CSMS did not agree to ${protocol}` });
        return;
      }
      finish({ ok: true, socket });
    });
    socket.once('unexpected-response', (req, res) => {
      const status = res.statusCode ?? 502;
      req.destroy();
      finish({ ok: false, status, reason: `the CSMS answered HTTP ${status}` });
    });
    socket.on('error', (err: Error) => finish({ ok: false, reason: err.message }));
    socket.once('close', () => finish({ ok: false, reason: 'closed during handshake' }));
  });
}

/**
 * Wait before reconnect attempt `attempt` (0-based): RetryBackOffWaitMinimum doubled for each earlier attempt, at
 * most RetryBackOffRepeatTimes times, plus a random part up to RetryBackOffRandomRange.
 */
export function backoffMs(attempt: number, retry: UpstreamConfig['retry'], random: () => number = Math.random): number {
  const doublings = Math.min(attempt, retry.repeatTimes);
  return Math.round((retry.waitMinimumS * 2 ** doublings + random() * retry.randomRangeS) * 1000);
}
