// Turning raw 16-bit registers into numbers: the data types meters use, in any byte and word order, with the
// "not implemented" markers SunSpec (and many vendors copying it) put in registers they do not fill.

export type RegisterType = 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'int64' | 'uint64' | 'sunssf';
/** Order of the two bytes inside each register. Modbus itself is big-endian; a few devices swap. */
export type ByteOrder = 'big' | 'little';
/** Order of the registers of a multi-register value: big = most significant word first (Modbus habit). */
export type WordOrder = 'big' | 'little';

export const REGISTER_TYPES: readonly RegisterType[] = [
  'int16', 'uint16', 'int32', 'uint32', 'float32', 'int64', 'uint64', 'sunssf',
];

export function registerCount(type: RegisterType): number {
  switch (type) {
    case 'int16':
    case 'uint16':
    case 'sunssf':
      return 1;
    case 'int32':
    case 'uint32':
    case 'float32':
      return 2;
    case 'int64':
    case 'uint64':
      return 4;
  }
}

/** A decoded register value, or the reason it cannot be used. */
export type Decoded = { ok: true; value: number } | { ok: false; reason: string };

/**
 * Decodes `registerCount(type)` registers. With `sunspecMarkers`, the SunSpec not-implemented values (0x8000 int16,
 * 0xFFFF uint16, 0x80000000 int32, 0xFFFFFFFF uint32, 0x8000000000000000 int64, NaN float32) come back as not ok:
 * a device saying "I do not measure this" must never become a reading of -32768 A.
 */
export function decodeRegisters(
  regs: readonly number[],
  type: RegisterType,
  byteOrder: ByteOrder = 'big',
  wordOrder: WordOrder = 'big',
  sunspecMarkers = false,
): Decoded {
  const n = registerCount(type);
  if (regs.length < n) return { ok: false, reason: `needs ${n} registers, got ${regs.length}` };
  const words = regs.slice(0, n);
  if (wordOrder === 'little') words.reverse();
  const buf = Buffer.alloc(n * 2);
  words.forEach((w, i) => {
    const v = w & 0xffff;
    if (byteOrder === 'big') buf.writeUInt16BE(v, i * 2);
    else buf.writeUInt16LE(v, i * 2);
  });
  let value: number;
  let notImplemented = false;
  switch (type) {
    case 'int16':
    case 'sunssf':
      value = buf.readInt16BE(0);
      notImplemented = value === -0x8000;
      break;
    case 'uint16':
      value = buf.readUInt16BE(0);
      notImplemented = value === 0xffff;
      break;
    case 'int32':
      value = buf.readInt32BE(0);
      notImplemented = value === -0x80000000;
      break;
    case 'uint32':
      value = buf.readUInt32BE(0);
      notImplemented = value === 0xffffffff;
      break;
    case 'float32':
      value = buf.readFloatBE(0);
      if (!Number.isFinite(value)) return { ok: false, reason: Number.isNaN(value) ? 'NaN' : 'infinite' };
      break;
    case 'int64': {
      const big = buf.readBigInt64BE(0);
      notImplemented = big === -0x8000000000000000n;
      value = Number(big);
      break;
    }
    case 'uint64': {
      const big = buf.readBigUInt64BE(0);
      notImplemented = big === 0xffffffffffffffffn;
      value = Number(big);
      break;
    }
  }
  if (sunspecMarkers && notImplemented) return { ok: false, reason: 'not implemented' };
  return { ok: true, value };
}

/** The inverse of decodeRegisters, for the simulated devices and tests. */
export function encodeValue(
  value: number,
  type: RegisterType,
  byteOrder: ByteOrder = 'big',
  wordOrder: WordOrder = 'big',
): number[] {
  const n = registerCount(type);
  const buf = Buffer.alloc(n * 2);
  switch (type) {
    case 'int16':
    case 'sunssf':
      buf.writeInt16BE(clampInt(value, -0x8000, 0x7fff), 0);
      break;
    case 'uint16':
      buf.writeUInt16BE(clampInt(value, 0, 0xffff), 0);
      break;
    case 'int32':
      buf.writeInt32BE(clampInt(value, -0x80000000, 0x7fffffff), 0);
      break;
    case 'uint32':
      buf.writeUInt32BE(clampInt(value, 0, 0xffffffff), 0);
      break;
    case 'float32':
      buf.writeFloatBE(value, 0);
      break;
    case 'int64':
      buf.writeBigInt64BE(BigInt(Math.round(value)), 0);
      break;
    case 'uint64':
      buf.writeBigUInt64BE(BigInt(Math.max(0, Math.round(value))), 0);
      break;
  }
  const words: number[] = [];
  for (let i = 0; i < n; i++) words.push(byteOrder === 'big' ? buf.readUInt16BE(i * 2) : buf.readUInt16LE(i * 2));
  if (wordOrder === 'little') words.reverse();
  return words;
}

function clampInt(v: number, lo: number, hi: number): number {
  const r = Math.round(v);
  return r < lo ? lo : r > hi ? hi : r;
}

/** SunSpec "not implemented" register contents per type, for the simulator to leave points empty. */
export function notImplementedRegisters(type: RegisterType): number[] {
  switch (type) {
    case 'int16':
    case 'sunssf':
      return [0x8000];
    case 'uint16':
      return [0xffff];
    case 'int32':
      return [0x8000, 0x0000];
    case 'uint32':
      return [0xffff, 0xffff];
    case 'float32':
      return [0x7fc0, 0x0000];
    case 'int64':
      return [0x8000, 0, 0, 0];
    case 'uint64':
      return [0xffff, 0xffff, 0xffff, 0xffff];
  }
}
