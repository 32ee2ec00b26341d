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
