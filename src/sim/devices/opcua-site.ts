// The simulated site over OPC UA (node-opcua): the same SiteModel values as the Modbus devices, under stable
// string node ids in namespace 1 (ns=1;s=Grid.CurrentL1, ...). Values are read from the model when sampled, so a
// set* on the model reaches subscribed clients at the next sampling interval. stop() and start() make the server
// go away and come back on the same port; its PKI lives in the given folder.
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { DataType, DataValue, OPCUACertificateManager, OPCUAServer, StatusCodes, setWarningLogger, Variant, type Namespace, type UAObject } from 'node-opcua';
import type { SiteModel, SiteValues } from './site-model.js';

/** Node ids (namespace 1) of the simulated site's values. */
export const SITE_NODE_IDS = {
  gridCurrentsA: ['Grid.CurrentL1', 'Grid.CurrentL2', 'Grid.CurrentL3'],
  gridVoltagesV: ['Grid.VoltageL1', 'Grid.VoltageL2', 'Grid.VoltageL3'],
  gridPhasePowersW: ['Grid.PowerL1', 'Grid.PowerL2', 'Grid.PowerL3'],
  gridPowerW: 'Grid.Power',
  gridImportWh: 'Grid.ImportEnergy',
  gridExportWh: 'Grid.ExportEnergy',
  pvPowerW: 'Pv.Power',
  pvLimitPct: 'Pv.LimitPct',
  batterySocPct: 'Battery.Soc',
  batteryPowerW: 'Battery.Power',
  batteryMaxChargeW: 'Battery.MaxChargePower',
  batteryMaxDischargeW: 'Battery.MaxDischargePower',
} as const;

const ns = (id: string): string => `ns=1;s=${id}`;

/** `nodes` config entries for a grid, pv and battery device reading this server (for the demo config and tests). */
export function simOpcUaNodes(): { grid: Record<string, string | string[]>; pv: Record<string, string>; battery: Record<string, string> } {
  const n = SITE_NODE_IDS;
  return {
    grid: {
      phaseCurrentsA: n.gridCurrentsA.map(ns),
      phaseVoltagesV: n.gridVoltagesV.map(ns),
      phasePowersW: n.gridPhasePowersW.map(ns),
      activePowerW: ns(n.gridPowerW),
      importEnergyWh: ns(n.gridImportWh),
      exportEnergyWh: ns(n.gridExportWh),
    },
    pv: { pvPowerW: ns(n.pvPowerW), pvPowerLimitPct: ns(n.pvLimitPct) },
    battery: {
      batterySocPct: ns(n.batterySocPct),
      batteryPowerW: ns(n.batteryPowerW),
      batteryMaxChargeW: ns(n.batteryMaxChargeW),
      batteryMaxDischargeW: ns(n.batteryMaxDischargeW),
    },
  };
}

export interface OpcUaSiteOptions {
  /** Folder for the server's PKI (certificates); created if missing. */
  pkiDir: string;
  port?: number;
  host?: string;
  /** When set, only this user/password may log in (and anonymous is refused). */
  user?: { username: string; password: string };
}

export class SimOpcUaSite {
  private server: OPCUAServer | undefined;
  private boundPort: number;
  /** Make every value read report Bad (a failing sensor behind a healthy server). */
  badValues = false;

  constructor(
    readonly model: SiteModel,
    private readonly opts: OpcUaSiteOptions,
  ) {
    this.boundPort = opts.port ?? 0;
  }

  get port(): number {
    return this.boundPort;
  }

  get endpoint(): string {
    return `opc.tcp://${this.opts.host ?? '127.0.0.1'}:${this.boundPort}/UA/site`;
  }

  async start(): Promise<string> {
    if (this.server) return this.endpoint;
    if (this.boundPort === 0) this.boundPort = await freePort(this.opts.host ?? '127.0.0.1');
    mkdirSync(this.opts.pkiDir, { recursive: true });
    const mgr = (sub: string) => new OPCUACertificateManager({ rootFolder: join(this.opts.pkiDir, sub), automaticallyAcceptUnknownCertificate: true });
    const user = this.opts.user;
    const server = new OPCUAServer({
      port: this.boundPort,
      host: this.opts.host ?? '127.0.0.1',
      hostname: this.opts.host ?? '127.0.0.1',
      resourcePath: '/UA/site',
      allowAnonymous: !user,
      serverCertificateManager: mgr('server'),
      userCertificateManager: mgr('user'),
      buildInfo: { productName: 'site-controller simulated site', manufacturerName: 'site-controller' },
      userManager: user ? { isValidUser: (u: string, p: string) => u === user.username && p === user.password } : undefined,
    });
    // node-opcua's chatter goes to stdout; the simulated server has nothing to say that a user needs.
    setWarningLogger(() => undefined);
    await server.initialize();
    const addressSpace = server.engine.addressSpace;
    if (!addressSpace) throw new Error('OPC UA address space missing');
    const namespace = addressSpace.getOwnNamespace();
    const site = namespace.addObject({ organizedBy: addressSpace.rootFolder.objects, browseName: 'Site' });
    this.addVariables(namespace, site);
    await server.start();
    this.server = server;
    return this.endpoint;
  }

  private addVariables(namespace: Namespace, parent: UAObject): void {
    const n = SITE_NODE_IDS;
    const add = (id: string, get: (v: SiteValues) => number): void => {
      namespace.addVariable({
        componentOf: parent,
        browseName: id,
        nodeId: `s=${id}`,
        dataType: 'Double',
        minimumSamplingInterval: 50,
        value: {
          timestamped_get: () => {
            const now = new Date();
            return new DataValue({
              value: new Variant({ dataType: DataType.Double, value: this.badValues ? 0 : get(this.model.values) }),
              statusCode: this.badValues ? StatusCodes.BadSensorFailure : StatusCodes.Good,
              sourceTimestamp: now,
              serverTimestamp: now,
            });
          },
        },
      });
    };
    n.gridCurrentsA.forEach((id, i) => add(id, (v) => v.grid.currentsA[i]));
    n.gridVoltagesV.forEach((id, i) => add(id, (v) => v.grid.voltagesV[i]));
    n.gridPhasePowersW.forEach((id, i) => add(id, (v) => v.grid.phasePowersW[i]));
    add(n.gridPowerW, (v) => v.grid.powerW);
    add(n.gridImportWh, (v) => v.grid.importWh);
    add(n.gridExportWh, (v) => v.grid.exportWh);
    add(n.pvPowerW, (v) => v.pv.powerW);
    add(n.pvLimitPct, (v) => v.pv.limitPct);
    add(n.batterySocPct, (v) => v.battery.socPct);
    add(n.batteryPowerW, (v) => v.battery.powerW);
    add(n.batteryMaxChargeW, (v) => v.battery.maxChargeW);
    add(n.batteryMaxDischargeW, (v) => v.battery.maxDischargeW);
  }

  /** Goes away (all sessions dropped, port closed); start() brings it back on the same port. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await server.shutdown(0);
  }
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = addr && typeof addr === 'object' ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
