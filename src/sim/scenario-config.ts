// The controller configuration a scenario implies: its stations, circuits and meters (the simulated site's devices),
// so the score runs the product's control loop with exactly what an installer would have configured.
import { parseConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { SIM_METER_IDS } from './inprocess.js';
import type { Scenario } from './scenario-types.js';

export interface ScenarioConfigOptions {
  /** Host/port of the simulated Modbus server, when the meters are read over Modbus (the demo). */
  modbus?: { host: string; port: number };
  /** Extra config keys merged at the top level (e.g. control settings). */
  overrides?: Record<string, unknown>;
}

export function scenarioConfig(s: Scenario, opts: ScenarioConfigOptions = {}): Config {
  const modbus = opts.modbus ?? { host: '127.0.0.1', port: 1502 };
  const meter = (id: string, role: string, unitId: number, circuit?: string) => ({
    id,
    role,
    driver: 'modbus-tcp',
    host: modbus.host,
    port: modbus.port,
    unitId,
    map: 'sunspec',
    pollMs: Math.max(50, Math.min(s.stepMs, 1000)),
    staleMs: 5000,
    ...(circuit ? { circuit } : {}),
  });
  const raw = {
    controller: { identity: 'site-controller-sim' },
    stations: {
      listen: { host: '127.0.0.1', port: 0 },
      allowUnknown: false,
      list: s.chargers.map((c) => ({ id: c.id, ...(c.circuit ? { circuit: c.circuit } : {}), phases: c.phases, rotation: c.rotation, maxA: c.maxA, ...(c.protocol === 'ocpp1.6' ? { protocol: c.protocol } : {}) })),
    },
    upstream: { url: 'ws://127.0.0.1:9/ocpp' },
    storage: { path: ':memory:' },
    site: {
      limitA: s.site.limitA,
      voltage: s.site.voltage,
      circuits: s.circuits.map((c) => ({ id: c.id, limitA: c.limitA, ...(c.parent ? { parent: c.parent } : {}) })),
    },
    meters: [
      meter(SIM_METER_IDS.grid, 'grid', 1),
      ...s.circuits.map((c, i) => meter(SIM_METER_IDS.sub(c.id), 'sub', 10 + i, c.id)),
      ...(s.pv ? [meter(SIM_METER_IDS.pv, 'pv', 2)] : []),
      ...(s.battery ? [meter(SIM_METER_IDS.battery, 'battery', 3)] : []),
    ],
    control: {
      safeLimitA: s.site.limitA.map((a) => Math.min(6, a)),
      ...(s.mode ? { mode: s.mode } : {}),
      // The battery's own minimum state of charge, as its installer sets it in the inverter and here; kept for the EVs
      // with its capacity, as the installer of such a site sets it.
      ...(s.battery ? { battery: { minSocPct: Math.round(s.battery.minSoc * 100), ...(s.battery.reserveForEvs ? { reserveForEvs: true, capacityWh: s.battery.capacityWh, ...(s.battery.refillFromPv === false ? { refillFromPv: false } : {}) } : {}) } } : {}),
    },
    log: { level: 'silent' },
    ...opts.overrides,
  };
  return parseConfig(raw);
}
