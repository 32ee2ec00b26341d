// A station that stops reading its socket (but keeps it open, or keeps sending) would make the relay buffer every
// frame meant for it without bound. After each send, if more than the limit is still unsent, the station is cut off
// (terminate: a close frame would only queue behind the rest) and says so in the log; its session ends as on any
// disconnect and the station reconnects when it is healthy again. Other stations are unaffected.
import type { WebSocket } from 'ws';
import type { Logger } from '../common/log.js';

/** Unsent bytes toward one station before it is dropped: several maximum-size frames, at least 1 MiB. */
export function sendBufferLimit(maxFrameBytes: number): number {
  return Math.max(1024 * 1024, 4 * maxFrameBytes);
}

export function guardSendBuffer(ws: WebSocket, limit: number, log: Logger, onDrop?: () => void): void {
  const send = ws.send.bind(ws) as (data: unknown, options?: unknown, cb?: unknown) => void;
  let dropped = false;
  // Named parameters, not a rest array: this runs for every frame toward the station.
  (ws as { send: (data: unknown, options?: unknown, cb?: unknown) => void }).send = (data: unknown, options?: unknown, cb?: unknown): void => {
    if (dropped) return;
    send(data, options, cb);
    // One frame larger than the limit (a certificate chain or local list from the CSMS) may be in flight on its own.
    const frame = typeof data === 'string' ? Buffer.byteLength(data) : Buffer.isBuffer(data) ? data.length : 0;
    if (ws.bufferedAmount > limit + frame) {
      dropped = true;
      log.warn({ bufferedBytes: ws.bufferedAmount, limit }, 'station does not read its socket; disconnecting it');
      onDrop?.();
      ws.terminate();
    }
  };
}
