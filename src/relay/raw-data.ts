// Reading ws frames as received (a Buffer, fragments, or an ArrayBuffer) without copying more than needed.
import type { RawData } from 'ws';

/** ws send options for a text frame, allocated once. */
export const TEXT = { binary: false } as const;

export function text(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

export function size(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}

/**
 * The message type and id at the head of a frame too large to parse in full (the id is within the first bytes).
 * undefined when the head is not `[type, "id"`.
 */
export function frameHead(data: RawData): { type: number; messageId: string } | undefined {
  const first = Array.isArray(data) ? data[0] : data instanceof ArrayBuffer ? Buffer.from(data) : data;
  const m = /^\s*\[\s*([234])\s*,\s*"((?:[^"\\]|\\.){1,64})"/.exec(first.subarray(0, 256).toString('utf8'));
  return m ? { type: Number(m[1]), messageId: m[2] } : undefined;
}

/**
 * Frames up to twice a socket's limit are read, so an oversized CALL can be answered with a CALLERROR naming its id;
 * beyond that the socket is closed (1009): a frame cannot be read without holding it whole.
 */
export function readLimit(maxFrameBytes: number): number {
  return 2 * maxFrameBytes;
}
