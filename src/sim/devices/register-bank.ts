// The register memory of one simulated Modbus unit and the protocol logic both simulated transports (TCP and RTU)
// share: decode a request PDU, answer with data or with the exception a real device would send.
import type { RegisterTable } from '../../../drivers/modbus/client.js';

export class RegisterBank {
  readonly holding = new Uint16Array(0x10000);
  readonly input = new Uint16Array(0x10000);
  // Registers a real device implements; reading outside them gives exception 2 like a real device.
  private readonly definedHolding = new Uint8Array(0x10000);
  private readonly definedInput = new Uint8Array(0x10000);

  define(table: RegisterTable, address: number, count: number): void {
    (table === 'holding' ? this.definedHolding : this.definedInput).fill(1, address, address + count);
  }

  write(table: RegisterTable, address: number, words: readonly number[]): void {
    const regs = table === 'holding' ? this.holding : this.input;
    words.forEach((w, i) => {
      regs[address + i] = w & 0xffff;
    });
    this.define(table, address, words.length);
  }

  read(table: RegisterTable, address: number, count: number): number[] | undefined {
    const defined = table === 'holding' ? this.definedHolding : this.definedInput;
    for (let i = address; i < address + count; i++) if (!defined[i]) return undefined;
    return Array.from((table === 'holding' ? this.holding : this.input).subarray(address, address + count));
  }

  isDefined(table: RegisterTable, address: number, count: number): boolean {
    const defined = table === 'holding' ? this.definedHolding : this.definedInput;
    for (let i = address; i < address + count; i++) if (!defined[i]) return false;
    return true;
  }
}

/** How a simulated device misbehaves, for tests of the drivers' failure handling. */
export type DeviceFault =
  | { kind: 'none' }
  /** Answer every request with this Modbus exception code (4 = server device failure, 6 = busy). */
  | { kind: 'exception'; code: number }
  /** Read requests and never answer (the client times out). */
  | { kind: 'silent' }
  /** Answer reads, refuse writes with exception 1 (an inverter whose Modbus write access is not enabled). */
  | { kind: 'read-only' }
  /** Refuse a written word with its top bit set (a negative int16) with exception 3, illegal data value: a storage
   * inverter that takes no negative rate, so cannot be told to charge. */
  | { kind: 'no-negative' };

export type WriteHook = (unitId: number, address: number, words: number[]) => void;

/**
 * Answers one request PDU (function code + data) for `unitId`. Returns the response PDU, or undefined when the
 * device stays silent. Unknown unit ids answer exception 11 (what a gateway says for an absent device).
 */
export function handlePdu(
  units: ReadonlyMap<number, RegisterBank>,
  unitId: number,
  pdu: Buffer,
  fault: DeviceFault,
  onWrite?: WriteHook,
): Buffer | undefined {
  if (fault.kind === 'silent') return undefined;
  const fc = pdu[0] ?? 0;
  const exception = (code: number): Buffer => Buffer.from([fc | 0x80, code]);
  if (fault.kind === 'read-only' && (fc === 6 || fc === 16)) return exception(1);
  if (fault.kind === 'exception') return exception(fault.code);
  const bank = units.get(unitId);
  if (!bank) return exception(0x0b);
  if (fc === 3 || fc === 4) {
    if (pdu.length < 5) return exception(3);
    const address = pdu.readUInt16BE(1);
    const count = pdu.readUInt16BE(3);
    if (count < 1 || count > 125) return exception(3);
    const data = bank.read(fc === 3 ? 'holding' : 'input', address, count);
    if (!data) return exception(2);
    const out = Buffer.alloc(2 + count * 2);
    out[0] = fc;
    out[1] = count * 2;
    data.forEach((w, i) => out.writeUInt16BE(w, 2 + i * 2));
    return out;
  }
  if (fc === 6) {
    if (pdu.length < 5) return exception(3);
    const address = pdu.readUInt16BE(1);
    if (!bank.isDefined('holding', address, 1)) return exception(2);
    const value = pdu.readUInt16BE(3);
    if (fault.kind === 'no-negative' && value & 0x8000) return exception(3);
    bank.write('holding', address, [value]);
    onWrite?.(unitId, address, [value]);
    return Buffer.from(pdu.subarray(0, 5));
  }
  if (fc === 16) {
    if (pdu.length < 6) return exception(3);
    const address = pdu.readUInt16BE(1);
    const count = pdu.readUInt16BE(3);
    const bytes = pdu[5] ?? 0;
    if (count < 1 || count > 123 || bytes !== count * 2 || pdu.length < 6 + bytes) return exception(3);
    if (!bank.isDefined('holding', address, count)) return exception(2);
    const words: number[] = [];
    for (let i = 0; i < count; i++) words.push(pdu.readUInt16BE(6 + i * 2));
    if (fault.kind === 'no-negative' && words.some((w) => w & 0x8000)) return exception(3);
    bank.write('holding', address, words);
    onWrite?.(unitId, address, words);
    return Buffer.from(pdu.subarray(0, 5));
  }
  return exception(1);
}
