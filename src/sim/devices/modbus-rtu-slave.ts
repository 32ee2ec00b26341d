// A simulated Modbus RTU device on a serial port (in tests: one end of a pty pair made by socat). Same register
// banks and protocol logic as the TCP server; RTU framing (unit, PDU, CRC-16). On a bus a device ignores frames
// for other unit ids, so a wrong unit id gets silence (the master times out), as with real meters.
import { SerialPort } from 'serialport';
import { handlePdu, RegisterBank, type DeviceFault } from './register-bank.js';

export function crc16(buf: Buffer): number {
  let crc = 0xffff;
  for (const byte of buf) {
    crc ^= byte;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

export class ModbusRtuSlave {
  readonly units = new Map<number, RegisterBank>();
  private port: SerialPort | undefined;
  private fault: DeviceFault = { kind: 'none' };

  constructor(
    private readonly path: string,
    private readonly baudRate = 9600,
  ) {}

  unit(unitId: number): RegisterBank {
    let bank = this.units.get(unitId);
    if (!bank) {
      bank = new RegisterBank();
      this.units.set(unitId, bank);
    }
    return bank;
  }

  setFault(fault: DeviceFault): void {
    this.fault = fault;
  }

  async start(): Promise<void> {
    const port = new SerialPort({ path: this.path, baudRate: this.baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    port.on('error', () => undefined);
    let buf: Buffer = Buffer.alloc(0);
    port.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const need = frameLength(buf);
        if (need === undefined || buf.length < need) break;
        const frame = buf.subarray(0, need);
        if (crc16(frame.subarray(0, need - 2)) !== frame.readUInt16LE(need - 2)) {
          buf = buf.subarray(1); // resynchronise on line noise
          continue;
        }
        buf = buf.subarray(need);
        this.answer(port, frame.subarray(0, need - 2));
      }
      if (buf.length > 512) buf = Buffer.alloc(0);
    });
    this.port = port;
  }

  private answer(port: SerialPort, frame: Buffer): void {
    const unitId = frame[0] ?? 0;
    if (!this.units.has(unitId)) return;
    const pdu = handlePdu(this.units, unitId, frame.subarray(1), this.fault);
    if (!pdu) return;
    const out = Buffer.alloc(pdu.length + 3);
    out[0] = unitId;
    pdu.copy(out, 1);
    out.writeUInt16LE(crc16(out.subarray(0, out.length - 2)), out.length - 2);
    port.write(out);
  }

  async stop(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}

/** Length of the request frame at the head of `buf` (with CRC), or undefined if it cannot be known yet. */
function frameLength(buf: Buffer): number | undefined {
  if (buf.length < 2) return undefined;
  const fc = buf[1];
  if (fc === 3 || fc === 4 || fc === 6) return 8;
  if (fc === 16) return buf.length < 7 ? undefined : 9 + (buf[6] ?? 0);
  return 4; // unknown function: consume the header and let the CRC check discard it
}
