// A small, fast Modbus TCP server (MBAP framing; function codes 3, 4, 6, 16) for the simulated site. Several
// units share one port, as behind a real gateway. It can be told to misbehave (exceptions, silence) or to go
// away and come back on the same port, so the drivers' failure handling can be tested against a real socket.
import { createServer, type Server, type Socket } from 'node:net';
import { handlePdu, RegisterBank, type DeviceFault, type WriteHook } from './register-bank.js';

export interface ModbusTcpServerOptions {
  host?: string;
  /** 0 = pick a free port (tests). */
  port?: number;
}

export class ModbusTcpServer {
  readonly units = new Map<number, RegisterBank>();
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private fault: DeviceFault = { kind: 'none' };
  private readonly unitFaults = new Map<number, DeviceFault>();
  private boundPort = 0;
  private readonly host: string;
  private writeHooks: WriteHook[] = [];
  /** Requests answered since start, for benchmarks. */
  requests = 0;

  constructor(opts: ModbusTcpServerOptions = {}) {
    this.host = opts.host ?? '127.0.0.1';
    this.boundPort = opts.port ?? 0;
  }

  get port(): number {
    return this.boundPort;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  unit(unitId: number): RegisterBank {
    let bank = this.units.get(unitId);
    if (!bank) {
      bank = new RegisterBank();
      this.units.set(unitId, bank);
    }
    return bank;
  }

  /** Make every unit (or one unit) misbehave; `{kind:'none'}` restores normal answers. */
  setFault(fault: DeviceFault, unitId?: number): void {
    if (unitId === undefined) this.fault = fault;
    else this.unitFaults.set(unitId, fault);
  }

  onWrite(hook: WriteHook): void {
    this.writeHooks.push(hook);
  }

  /** Starts listening (again on the same port after stop(), so clients can reconnect). */
  async start(): Promise<number> {
    if (this.server) return this.boundPort;
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.boundPort, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', () => undefined);
    const addr = server.address();
    if (addr && typeof addr === 'object') this.boundPort = addr.port;
    this.server = server;
    return this.boundPort;
  }

  /** Goes away: stops listening and drops every connection, as a device losing power would. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    let buf: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (buf.length >= 7) {
        const length = buf.readUInt16BE(4); // unit id + PDU
        if (length < 2 || length > 254) {
          socket.destroy(); // not Modbus TCP: a real device would drop it too
          return;
        }
        if (buf.length < 6 + length) break;
        const frame = buf.subarray(0, 6 + length);
        buf = buf.subarray(6 + length);
        this.answer(socket, frame);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => this.sockets.delete(socket));
  }

  private answer(socket: Socket, frame: Buffer): void {
    const transactionId = frame.readUInt16BE(0);
    const protocolId = frame.readUInt16BE(2);
    if (protocolId !== 0) return;
    const unitId = frame[6] ?? 0;
    const fault = this.fault.kind !== 'none' ? this.fault : (this.unitFaults.get(unitId) ?? this.fault);
    const pdu = handlePdu(this.units, unitId, frame.subarray(7), fault, (u, a, w) => {
      for (const h of this.writeHooks) h(u, a, w);
    });
    if (!pdu) return;
    this.requests++;
    const out = Buffer.alloc(7 + pdu.length);
    out.writeUInt16BE(transactionId, 0);
    out.writeUInt16BE(0, 2);
    out.writeUInt16BE(pdu.length + 1, 4);
    out[6] = unitId;
    pdu.copy(out, 7);
    if (!socket.destroyed) socket.write(out);
  }
}
