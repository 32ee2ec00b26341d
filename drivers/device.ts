// createDevice: one configured meter or inverter -> an Observable of readings. The options mirror the config's
// `meters[]` entries (src/config/types.ts MeterConfig) but are declared here, since drivers/ imports nothing from
// src/; the lead maps config to these options. Roles (grid, pv, battery, sub) are not the drivers' business.
import { asyncScheduler, concat, defer, of, type Observable, type SchedulerLike } from 'rxjs';
import { silentDriverLogger, type DriverLogger } from './log.js';
import type { ModbusEndpoint } from './modbus/client.js';
import { ModbusDevice } from './modbus/device.js';
import { loadRegisterMap, RegisterMapError, type RegisterMap } from './modbus/map.js';
import { OpcUaConfigError, OpcUaDevice } from './opcua/device.js';
import type { CapabilityName, Reading } from './types.js';

export interface DeviceOptions {
  id: string;
  driver: 'modbus-tcp' | 'modbus-rtu' | 'opcua';
  /** Poll interval (Modbus) or re-publish interval (OPC UA), ms. Default 1000. */
  pollMs?: number;
  /** Without an answer for this long a device's readings become stale. Default 5000. */
  staleMs?: number;
  /** Per-request timeout, ms. Default 1000. */
  timeoutMs?: number;
  /** Extra attempts of a failed read within one poll. Default 1. */
  retries?: number;
  /** Reconnect backoff: first wait and ceiling (ms), doubling in between. Defaults 500 and 30000. */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  // modbus-tcp
  host?: string;
  port?: number;
  unitId?: number;
  /** "sunspec" for discovery, a map name in drivers/maps/, a path to a map file, or a map object. */
  map?: string | RegisterMap;
  // modbus-rtu
  serialPort?: string;
  baudRate?: number;
  parity?: 'none' | 'even' | 'odd';
  dataBits?: number;
  stopBits?: number;
  // opcua
  endpoint?: string;
  securityMode?: 'None' | 'Sign' | 'SignAndEncrypt';
  securityPolicy?: string;
  username?: string;
  password?: string;
  /** Node id per measured value: a string, or three for the per-phase values. */
  nodes?: Record<string, string | string[]>;
  samplingMs?: number;
  publishingMs?: number;
}

export interface DeviceContext {
  /** Clock for polling and staleness; default asyncScheduler. */
  scheduler?: SchedulerLike;
  /** Data folder: the OPC UA certificate store goes in <dataDir>/opcua-pki. */
  dataDir: string;
  log?: DriverLogger;
  /** Folder of named register maps (default: the bundled drivers/maps). */
  mapsDir?: string;
}

export interface Device {
  readonly id: string;
  /** The values this device gives (for SunSpec: known after discovery, empty before). */
  readonly capabilities: readonly CapabilityName[];
  /** Readings as they come; a late subscriber gets the latest one first. */
  readonly readings$: Observable<Reading>;
  /** A storage inverter that takes a discharge limit (SunSpec model 124; known after discovery): asks for the most it
   * may discharge (W; negative: charge at least that much), or releases it (undefined). Absent on devices that cannot
   * be told. */
  readonly batteryDischarge?: { readonly available: boolean; setLimit(limitW: number | undefined): void };
  close(): Promise<void>;
}

export class DeviceConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceConfigError';
  }
}

/** Creates and starts a device. Throws DeviceConfigError for options it cannot work with (named in the message). */
export function createDevice(options: DeviceOptions, ctx: DeviceContext): Device {
  const scheduler = ctx.scheduler ?? asyncScheduler;
  const log = ctx.log ?? silentDriverLogger;
  const id = options.id;
  const bad = (msg: string): never => {
    throw new DeviceConfigError(`meter ${id}: ${msg}`);
  };
  if (!id) bad('id is required');
  const pollMs = positive(options.pollMs, 1000, 'pollMs', bad);
  const staleMs = positive(options.staleMs, 5000, 'staleMs', bad);
  const timeoutMs = positive(options.timeoutMs, 1000, 'timeoutMs', bad);
  const common = {
    id, pollMs, staleMs, timeoutMs,
    retries: Math.max(0, Math.floor(options.retries ?? 1)),
    backoffMinMs: positive(options.backoffMinMs, 500, 'backoffMinMs', bad),
    backoffMaxMs: positive(options.backoffMaxMs, 30000, 'backoffMaxMs', bad),
  };

  if (options.driver === 'opcua') {
    if (!options.endpoint || !/^opc\.tcp:\/\//.test(options.endpoint)) bad('endpoint must be an opc.tcp:// URL');
    if (!options.nodes || Object.keys(options.nodes).length === 0) bad('nodes must map at least one value to a node id');
    let dev: OpcUaDevice;
    try {
      dev = new OpcUaDevice(
      {
        ...common,
        endpoint: options.endpoint as string,
        securityMode: options.securityMode ?? 'None',
        securityPolicy: options.securityPolicy,
        username: options.username,
        password: options.password,
        nodes: options.nodes as Record<string, string | string[]>,
        samplingMs: options.samplingMs ?? Math.min(pollMs, 500),
        publishingMs: options.publishingMs ?? Math.min(pollMs, 1000),
        dataDir: ctx.dataDir,
      },
      scheduler,
      log,
    );
    } catch (err) {
      if (err instanceof OpcUaConfigError) return bad(err.message);
      throw err;
    }
    return wrap(id, () => dev.capabilities, dev.emitter, () => dev.close());
  }

  let endpoint: ModbusEndpoint;
  if (options.driver === 'modbus-tcp') {
    if (!options.host) bad('host is required for modbus-tcp');
    endpoint = { kind: 'tcp', host: options.host as string, port: options.port ?? 502 };
  } else if (options.driver === 'modbus-rtu') {
    if (!options.serialPort) bad('serialPort is required for modbus-rtu');
    endpoint = {
      kind: 'rtu',
      path: options.serialPort as string,
      baudRate: options.baudRate ?? 9600,
      parity: options.parity ?? 'none',
      dataBits: options.dataBits === 7 ? 7 : 8,
      stopBits: options.stopBits === 2 ? 2 : 1,
    };
  } else {
    return bad(`unknown driver "${String(options.driver)}"`);
  }
  const unitId = options.unitId ?? 1;
  if (!Number.isInteger(unitId) || unitId < 0 || unitId > 255) bad('unitId must be 0..255');
  let map: RegisterMap | 'sunspec';
  if (options.map === undefined) return bad('map is required for Modbus devices ("sunspec" or a register map name)');
  if (typeof options.map === 'object') map = options.map;
  else if (options.map === 'sunspec') map = 'sunspec';
  else {
    try {
      map = loadRegisterMap(options.map, ctx.mapsDir);
    } catch (err) {
      if (err instanceof RegisterMapError) return bad(err.message);
      throw err;
    }
  }
  const dev = new ModbusDevice({ ...common, endpoint, unitId, map }, scheduler, log);
  return wrap(id, () => dev.capabilities, dev.emitter, () => dev.close(), {
    get available() {
      return dev.controlsBatteryDischarge;
    },
    setLimit: (limitW) => dev.setBatteryDischargeLimit(limitW),
  });
}

function wrap(
  id: string,
  capabilities: () => CapabilityName[],
  emitter: { readings$: Observable<Reading>; latest: Reading | undefined },
  close: () => Promise<void>,
  batteryDischarge?: Device['batteryDischarge'],
): Device {
  const readings$ = defer(() => {
    const latest = emitter.latest;
    return latest ? concat(of(latest), emitter.readings$) : emitter.readings$;
  });
  return {
    id,
    get capabilities() {
      return capabilities();
    },
    readings$,
    ...(batteryDischarge ? { batteryDischarge } : {}),
    close,
  };
}

function positive(v: number | undefined, dflt: number, key: string, bad: (m: string) => never): number {
  if (v === undefined) return dflt;
  if (!Number.isFinite(v) || v <= 0) bad(`${key} must be a positive number`);
  return v;
}
