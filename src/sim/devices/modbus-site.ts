// The simulated site's Modbus devices on one TCP port: a SunSpec grid meter (models 1 + 203), a SunSpec PV
// inverter (1 + 103 + 123 + 160) and a SunSpec battery (1 + 802 + 124), each on its own unit id, all publishing
// the SiteModel. Registers are rewritten on every model change, so a poll right after a set* sees the new value.
import type { Subscription } from 'rxjs';
import { ModbusTcpServer } from './modbus-tcp-server.js';
import type { DeviceFault } from './register-bank.js';
import { SiteModel, type SiteValues } from './site-model.js';
import { SunSpecImage } from './sunspec-image.js';

export interface ModbusSiteOptions {
  host?: string;
  port?: number;
  /** Unit ids (defaults 1, 2, 3). */
  units?: { meter?: number; inverter?: number; battery?: number };
  /** The devices' own clock (ms), for the revert time of a discharge limit; default the wall clock. */
  now?: () => number;
  /** Where "SunS" sits (default 40000). */
  base?: number;
  /** MPPT inputs of the inverter (default 2). */
  mppts?: number;
}

export class SimModbusSite {
  readonly server: ModbusTcpServer;
  readonly meter: SunSpecImage;
  readonly inverter: SunSpecImage;
  readonly battery: SunSpecImage;
  readonly unitIds: { meter: number; inverter: number; battery: number };
  private readonly sub: Subscription;
  /** When a client last wrote the battery's storage controls (model 124), for their revert time (ms, wall clock). */
  private storageWrittenAt = 0;

  private readonly now: () => number;

  constructor(
    readonly model: SiteModel = new SiteModel(),
    opts: ModbusSiteOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.server = new ModbusTcpServer({ host: opts.host, port: opts.port });
    this.unitIds = { meter: opts.units?.meter ?? 1, inverter: opts.units?.inverter ?? 2, battery: opts.units?.battery ?? 3 };
    const base = opts.base ?? 40000;
    // Scale factors chosen so a large site fits int16: 0.1 A, 0.1 V, 10 W resolution.
    this.meter = new SunSpecImage(this.server.unit(this.unitIds.meter), base, [
      { id: 1 },
      { id: 203, scaleFactors: { A_SF: -1, V_SF: -1, Hz_SF: -2, W_SF: 1, VA_SF: 1, VAR_SF: 1, PF_SF: -2, TotWh_SF: 0 } },
    ]);
    this.inverter = new SunSpecImage(this.server.unit(this.unitIds.inverter), base, [
      { id: 1 },
      { id: 103, scaleFactors: { A_SF: -1, V_SF: -1, W_SF: 1, Hz_SF: -2, WH_SF: 0, DCW_SF: 1 } },
      { id: 123, scaleFactors: { WMaxLimPct_SF: 0 } },
      { id: 160, repeat: opts.mppts ?? 2, scaleFactors: { DCA_SF: -1, DCV_SF: -1, DCW_SF: 0, DCWH_SF: 0 } },
    ]);
    this.battery = new SunSpecImage(this.server.unit(this.unitIds.battery), base, [
      { id: 1 },
      { id: 802, scaleFactors: { SoC_SF: -1, W_SF: 1, WChaDisChaMax_SF: 1, WHRtg_SF: 1, V_SF: -1, A_SF: -1 } },
      { id: 124, scaleFactors: { WChaMax_SF: 1, ChaState_SF: -1 } },
    ]);
    for (const [img, md, sn] of [
      [this.meter, 'SimMeter 3P', 'M-0001'],
      [this.inverter, 'SimInverter 30k', 'I-0001'],
      [this.battery, 'SimBattery 50k', 'B-0001'],
    ] as const) {
      img.setString(1, 'Mn', 'site-controller sim');
      img.setString(1, 'Md', md);
      img.setString(1, 'SN', sn);
    }
    // Storage controls as a battery leaves its factory: no limit set, full rate, no revert time.
    this.battery.setRaw(124, 'StorCtl_Mod', [0]);
    this.battery.set(124, 'OutWRte', 100);
    this.battery.set(124, 'InOutWRte_RvrtTms', 0);
    this.write(model.values);
    this.sub = model.changes$.subscribe((v) => this.write(v));
    this.server.onWrite((unit, address) => {
      if (unit === this.unitIds.battery && this.battery.holds(124, address)) this.storageWrittenAt = this.now();
    });
  }

  /**
   * The discharge limit a controller set through model 124 (W): StorCtl_Mod bit 1 with OutWRte percent of WChaMax
   * (negative: it charges at least that much).
   * Undefined when none is set, or when its revert time (InOutWRte_RvrtTms) passed without it being written again.
   */
  batteryDischargeLimitW(now = this.now()): number | undefined {
    const b = this.battery;
    const mode = b.get(124, 'StorCtl_Mod') ?? 0;
    if (!(mode & 0b10)) return undefined;
    const revertS = b.get(124, 'InOutWRte_RvrtTms') ?? 0;
    if (revertS > 0 && now - this.storageWrittenAt > revertS * 1000) return undefined;
    const pct = b.get(124, 'OutWRte') ?? 100;
    return (Math.max(-100, Math.min(100, pct)) / 100) * (b.get(124, 'WChaMax') ?? 0);
  }

  get port(): number {
    return this.server.port;
  }

  async start(): Promise<number> {
    return this.server.start();
  }

  /** Goes away (connections dropped, port closed); start() brings it back on the same port. */
  async stop(): Promise<void> {
    await this.server.stop();
  }

  setFault(fault: DeviceFault, unitId?: number): void {
    this.server.setFault(fault, unitId);
  }

  async close(): Promise<void> {
    this.sub.unsubscribe();
    await this.server.stop();
  }

  private write(v: SiteValues): void {
    const g = v.grid;
    const m = this.meter;
    m.set(203, 'A', g.currentsA[0] + g.currentsA[1] + g.currentsA[2]);
    ['AphA', 'AphB', 'AphC'].forEach((p, i) => m.set(203, p, g.currentsA[i]));
    m.set(203, 'PhV', (g.voltagesV[0] + g.voltagesV[1] + g.voltagesV[2]) / 3);
    ['PhVphA', 'PhVphB', 'PhVphC'].forEach((p, i) => m.set(203, p, g.voltagesV[i]));
    m.set(203, 'Hz', g.frequencyHz);
    m.set(203, 'W', g.powerW);
    ['WphA', 'WphB', 'WphC'].forEach((p, i) => m.set(203, p, g.phasePowersW[i]));
    m.set(203, 'TotWhImp', g.importWh);
    m.set(203, 'TotWhExp', g.exportWh);

    const pv = v.pv;
    const inv = this.inverter;
    const perPhaseA = pv.powerW / 3 / 230;
    inv.set(103, 'A', perPhaseA * 3);
    ['AphA', 'AphB', 'AphC'].forEach((p) => inv.set(103, p, perPhaseA));
    ['PhVphA', 'PhVphB', 'PhVphC'].forEach((p, i) => inv.set(103, p, g.voltagesV[i]));
    inv.set(103, 'W', pv.powerW);
    inv.set(103, 'Hz', g.frequencyHz);
    inv.set(103, 'WH', pv.energyWh);
    inv.set(103, 'St', pv.powerW > 0 ? 4 : 2); // MPPT / sleeping
    inv.set(123, 'WMaxLimPct', pv.limitPct);
    inv.set(123, 'WMaxLim_Ena', pv.limitPct < 100 ? 1 : 0);
    pv.mpptW.forEach((w, i) => {
      try {
        inv.set(160, 'DCW', w, i);
      } catch {
        // more MPPT values than inputs in the image: the extra ones are not published
      }
    });

    const b = v.battery;
    const bat = this.battery;
    bat.set(802, 'SoC', b.socPct);
    bat.set(802, 'W', b.powerW);
    bat.set(802, 'WChaRteMax', b.maxChargeW);
    bat.set(802, 'WDisChaRteMax', b.maxDischargeW);
    bat.set(802, 'WHRtg', b.capacityWh);
    bat.set(124, 'WChaMax', b.maxChargeW);
    bat.set(124, 'ChaState', b.socPct);
  }
}
