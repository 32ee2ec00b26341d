// One Modbus connection (TCP or RTU over a serial port) on top of modbus-serial, reduced to what the drivers need:
// read a range of holding or input registers from a unit, and tell a device's answer (a Modbus exception) apart
// from a transport failure (timeout, refused, closed), because the first is a bad value and the second a lost device.
import type { ModbusRTU as ModbusClient } from 'modbus-serial/ModbusRTU.js';

// modbus-serial is CommonJS: under NodeNext the default import arrives as the module object or wrapped in { default }.
// Loaded on the first connect, not at start: it pulls in serialport (~17 MB RSS, ~0.1–0.4 s), which a controller
// without Modbus meters never needs.
type ModbusCtor = new () => ModbusClient;
let modbusRtu: Promise<ModbusCtor> | undefined;
function loadModbusRtu(): Promise<ModbusCtor> {
  modbusRtu ??= import('modbus-serial').then((m) => {
    const mod = m as unknown as { default?: ModbusCtor | { default?: ModbusCtor } };
    const d = mod.default as { default?: ModbusCtor } | ModbusCtor | undefined;
    return (d && typeof d === 'object' && d.default ? d.default : d) as ModbusCtor;
  });
  return modbusRtu;
}

export type RegisterTable = 'holding' | 'input';

export type ModbusEndpoint =
  | { kind: 'tcp'; host: string; port: number }
  | {
      kind: 'rtu';
      path: string;
      baudRate: number;
      parity: 'none' | 'even' | 'odd';
      dataBits: 7 | 8;
      stopBits: 1 | 2;
    };

const EXCEPTION_NAMES: Record<number, string> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'server device failure',
  5: 'acknowledge',
  6: 'server device busy',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond (wrong unit id?)',
};

/** The device answered with a Modbus exception: it is alive, the value is not. */
export class ModbusExceptionError extends Error {
  constructor(
    readonly code: number,
    readonly table: RegisterTable,
    readonly address: number,
    readonly count: number,
  ) {
    super(`Modbus exception ${code} (${EXCEPTION_NAMES[code] ?? 'unknown'}) reading ${table} ${address}+${count}`);
    this.name = 'ModbusExceptionError';
  }
}

/** No usable answer: timeout, connection refused or lost, serial port gone. */
export class ModbusTransportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModbusTransportError';
  }
}

/** Largest read the protocol allows in one request (FC 3/4). */
export const MAX_READ_REGISTERS = 125;

export class ModbusConnection {
  private client: ModbusClient | undefined;
  private connecting: Promise<void> | undefined;

  constructor(
    readonly endpoint: ModbusEndpoint,
    private readonly timeoutMs: number,
  ) {}

  get isOpen(): boolean {
    return this.client?.isOpen === true;
  }

  describe(): string {
    return this.endpoint.kind === 'tcp' ? `${this.endpoint.host}:${this.endpoint.port}` : this.endpoint.path;
  }

  async connect(): Promise<void> {
    if (this.isOpen) return;
    if (this.connecting) return this.connecting;
    this.connecting = this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async open(): Promise<void> {
    await this.close();
    const ModbusRTU = await loadModbusRtu();
    const client = new ModbusRTU();
    // Without a listener an 'error' on the socket would become an uncaught exception and crash the process.
    client.on('error', () => undefined);
    client.setTimeout(this.timeoutMs);
    const ep = this.endpoint;
    const opening =
      ep.kind === 'tcp'
        ? client.connectTCP(ep.host, { port: ep.port, timeout: this.timeoutMs } as Parameters<ModbusClient['connectTCP']>[1])
        : client.connectRTUBuffered(ep.path, {
            baudRate: ep.baudRate,
            parity: ep.parity,
            dataBits: ep.dataBits,
            stopBits: ep.stopBits,
          });
    try {
      await withTimeout(opening, this.timeoutMs * 2, `connecting to ${this.describe()} timed out`);
    } catch (err) {
      safeClose(client);
      throw new ModbusTransportError(`cannot connect to ${this.describe()}: ${errorText(err)}`);
    }
    this.client = client;
  }

  async read(unitId: number, table: RegisterTable, address: number, count: number): Promise<number[]> {
    if (count < 1 || count > MAX_READ_REGISTERS) throw new RangeError(`register count ${count} out of 1..125`);
    const client = this.client;
    if (!client || !client.isOpen) throw new ModbusTransportError(`not connected to ${this.describe()}`);
    client.setID(unitId);
    try {
      const res =
        table === 'holding'
          ? await client.readHoldingRegisters(address, count)
          : await client.readInputRegisters(address, count);
      if (res.data.length < count) {
        throw new ModbusTransportError(`short answer: ${res.data.length} of ${count} registers`);
      }
      return res.data;
    } catch (err) {
      if (err instanceof ModbusTransportError) throw err;
      const code = (err as { modbusCode?: unknown }).modbusCode;
      if (typeof code === 'number') throw new ModbusExceptionError(code, table, address, count);
      const text = errorText(err);
      throw new ModbusTransportError(text === 'Timed out' ? `timeout after ${this.timeoutMs} ms` : text);
    }
  }

  async write(unitId: number, address: number, values: number[]): Promise<void> {
    const client = this.client;
    if (!client || !client.isOpen) throw new ModbusTransportError(`not connected to ${this.describe()}`);
    client.setID(unitId);
    try {
      await client.writeRegisters(address, values);
    } catch (err) {
      const code = (err as { modbusCode?: unknown }).modbusCode;
      if (typeof code === 'number') throw new ModbusExceptionError(code, 'holding', address, values.length);
      throw new ModbusTransportError(errorText(err));
    }
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await new Promise<void>((resolve) => safeClose(client, resolve));
  }
}

function safeClose(client: ModbusClient, done?: () => void): void {
  let finished = false;
  const finish = (): void => {
    if (!finished) {
      finished = true;
      done?.();
    }
  };
  try {
    if (client.isOpen) client.close(finish);
    else finish();
    // A serial port or half-open socket may never call back; do not hang a shutdown on it.
    setTimeout(finish, 500).unref();
  } catch {
    finish();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(message)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === 'object' && err !== null && 'message' in err) return String((err as { message: unknown }).message);
  return String(err);
}
