// ws closes a socket on a protocol error (frame above maxPayload → 1009, invalid UTF-8 → 1007, bad framing → 1002)
// with an empty reason. Stations and the CSMS deserve to know why: this wrapper fills in a reason for those codes
// when ws gives none. Our own close() calls pass reasons and are unaffected.
import type { WebSocket } from 'ws';

export function explainProtocolCloses(ws: WebSocket, maxFrameBytes: number): void {
  const reasons: Record<number, string> = {
    1002: 'WebSocket protocol error',
    1007: 'text frame is not valid UTF-8',
    1009: `frame larger than ${maxFrameBytes} bytes`,
  };
  const close = ws.close.bind(ws);
  ws.close = (code?: number, reason?: string | Buffer): void => {
    close(code, reason === undefined && code !== undefined ? reasons[code] : reason);
  };
}
