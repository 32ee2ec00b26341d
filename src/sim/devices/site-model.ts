// The simulated site's electrical values as the devices would measure them. The simulator (or a test) sets them;
// the simulated Modbus and OPC UA devices publish whatever is here at the moment they are read.
import { Subject, type Observable } from 'rxjs';
import type { PhaseVector } from '../../../drivers/types.js';

export interface GridValues {
  /** Per-phase currents at the grid connection (A, magnitude). */
  currentsA: PhaseVector;
  voltagesV: PhaseVector;
  /** Per-phase active power (W, import positive). */
  phasePowersW: PhaseVector;
  /** Total active power (W, import positive). */
  powerW: number;
  importWh: number;
  exportWh: number;
  frequencyHz: number;
}

export interface PvValues {
  /** AC production (W, positive). */
  powerW: number;
  /** Production per MPPT input (W); defaults to powerW split evenly. */
  mpptW: number[];
  /** Active power limit in % of nameplate (100 = unlimited). */
  limitPct: number;
  /** Nameplate (W). */
  ratedW: number;
  energyWh: number;
}

export interface BatteryValues {
  socPct: number;
  /** Battery power (W, discharging positive). */
  powerW: number;
  maxChargeW: number;
  maxDischargeW: number;
  capacityWh: number;
}

export interface SiteValues {
  grid: GridValues;
  pv: PvValues;
  battery: BatteryValues;
}

export type GridInput = Partial<Omit<GridValues, 'currentsA' | 'voltagesV' | 'phasePowersW'>> & {
  currentsA?: PhaseVector;
  voltagesV?: PhaseVector;
  phasePowersW?: PhaseVector;
};

export class SiteModel {
  private readonly changes = new Subject<SiteValues>();
  readonly values: SiteValues = {
    grid: {
      currentsA: [0, 0, 0], voltagesV: [230, 230, 230], phasePowersW: [0, 0, 0], powerW: 0,
      importWh: 0, exportWh: 0, frequencyHz: 50,
    },
    pv: { powerW: 0, mpptW: [0, 0], limitPct: 100, ratedW: 30000, energyWh: 0 },
    battery: { socPct: 50, powerW: 0, maxChargeW: 10000, maxDischargeW: 10000, capacityWh: 50000 },
  };

  /** Fires after every set*, for devices that push (OPC UA) rather than being polled. */
  get changes$(): Observable<SiteValues> {
    return this.changes.asObservable();
  }

  /**
   * Sets grid-connection values. When only currents are given, phase powers follow from currents x voltages
   * (import positive, unity power factor) and the total from the phases, so a test can change one number.
   */
  setGrid(input: GridInput): void {
    const g = this.values.grid;
    if (input.voltagesV) g.voltagesV = [...input.voltagesV];
    if (input.currentsA) g.currentsA = [...input.currentsA];
    if (input.phasePowersW) g.phasePowersW = [...input.phasePowersW];
    else if (input.currentsA) {
      const sign = input.powerW !== undefined && input.powerW < 0 ? -1 : 1;
      g.phasePowersW = [0, 1, 2].map((i) => sign * g.currentsA[i] * g.voltagesV[i]) as PhaseVector;
    }
    if (input.powerW !== undefined) g.powerW = input.powerW;
    else if (input.currentsA || input.phasePowersW) g.powerW = g.phasePowersW[0] + g.phasePowersW[1] + g.phasePowersW[2];
    if (input.importWh !== undefined) g.importWh = input.importWh;
    if (input.exportWh !== undefined) g.exportWh = input.exportWh;
    if (input.frequencyHz !== undefined) g.frequencyHz = input.frequencyHz;
    this.changes.next(this.values);
  }

  setPv(input: Partial<PvValues>): void {
    const pv = this.values.pv;
    Object.assign(pv, input);
    if (input.powerW !== undefined && !input.mpptW) {
      const n = pv.mpptW.length || 1;
      pv.mpptW = new Array<number>(n).fill(input.powerW / n);
    }
    this.changes.next(this.values);
  }

  setBattery(input: Partial<BatteryValues>): void {
    Object.assign(this.values.battery, input);
    this.changes.next(this.values);
  }

  complete(): void {
    this.changes.complete();
  }
}
