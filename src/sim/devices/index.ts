// The simulated site's devices in one call, for the demo and tests: a SiteModel the simulator sets, a Modbus TCP
// server with the SunSpec meter (unit 1), inverter (unit 2) and battery (unit 3), optionally an OPC UA server with
// the same values, and device options (drivers/device.ts DeviceOptions) that read them.
import { join } from 'node:path';
import type { DeviceOptions } from '../../../drivers/device.js';
import { SimModbusSite } from './modbus-site.js';
import { SimOpcUaSite, simOpcUaNodes } from './opcua-site.js';
import { SiteModel } from './site-model.js';

export { SiteModel } from './site-model.js';
export type { GridValues, PvValues, BatteryValues, SiteValues, GridInput } from './site-model.js';
export { SimModbusSite } from './modbus-site.js';
export { SimOpcUaSite, simOpcUaNodes, SITE_NODE_IDS } from './opcua-site.js';
export { ModbusTcpServer } from './modbus-tcp-server.js';
export { ModbusRtuSlave } from './modbus-rtu-slave.js';
export type { DeviceFault } from './register-bank.js';

export interface SimDevicesOptions {
  model?: SiteModel;
  host?: string;
  /** Modbus TCP port (0 = any free port). */
  modbusPort?: number;
  /** Start the OPC UA server too (its PKI goes in <dataDir>/sim-opcua-pki). */
  opcua?: boolean;
  opcuaPort?: number;
  dataDir: string;
}

export interface SimDevices {
  model: SiteModel;
  modbus: SimModbusSite;
  opcua?: SimOpcUaSite;
  /** Options for a grid meter, PV inverter and battery reading the simulated devices (Modbus, SunSpec). */
  modbusMeters(pollMs?: number): Array<DeviceOptions & { role: 'grid' | 'pv' | 'battery' }>;
  /** The same over OPC UA (only when started with opcua: true). */
  opcuaMeters(pollMs?: number): Array<DeviceOptions & { role: 'grid' | 'pv' | 'battery' }>;
  close(): Promise<void>;
}

export async function startSimDevices(opts: SimDevicesOptions): Promise<SimDevices> {
  const model = opts.model ?? new SiteModel();
  const host = opts.host ?? '127.0.0.1';
  const modbus = new SimModbusSite(model, { host, port: opts.modbusPort ?? 0 });
  const port = await modbus.start();
  let opcua: SimOpcUaSite | undefined;
  if (opts.opcua) {
    opcua = new SimOpcUaSite(model, { pkiDir: join(opts.dataDir, 'sim-opcua-pki'), host, port: opts.opcuaPort ?? 0 });
    try {
      await opcua.start();
    } catch (err) {
      await modbus.close();
      throw err;
    }
  }
  const u = modbus.unitIds;
  return {
    model,
    modbus,
    opcua,
    modbusMeters: (pollMs = 1000) => [
      { id: 'sim-grid', role: 'grid', driver: 'modbus-tcp', host, port, unitId: u.meter, map: 'sunspec', pollMs },
      { id: 'sim-pv', role: 'pv', driver: 'modbus-tcp', host, port, unitId: u.inverter, map: 'sunspec', pollMs },
      { id: 'sim-battery', role: 'battery', driver: 'modbus-tcp', host, port, unitId: u.battery, map: 'sunspec', pollMs },
    ],
    opcuaMeters: (pollMs = 1000) => {
      if (!opcua) return [];
      const nodes = simOpcUaNodes();
      const endpoint = opcua.endpoint;
      return [
        { id: 'sim-grid-ua', role: 'grid', driver: 'opcua', endpoint, nodes: nodes.grid, pollMs },
        { id: 'sim-pv-ua', role: 'pv', driver: 'opcua', endpoint, nodes: nodes.pv, pollMs },
        { id: 'sim-battery-ua', role: 'battery', driver: 'opcua', endpoint, nodes: nodes.battery, pollMs },
      ];
    },
    close: async () => {
      await modbus.close();
      await opcua?.stop();
    },
  };
}
