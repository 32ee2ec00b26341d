// An electric vehicle on virtual time: battery capacity and state of charge, its own maximum current and phases, and
// the charging taper near full (the EV, not the station, lowers its current above ~80 % SoC). Pure state + step.
import type { EvSpec } from '../scenario-types.js';

/** IEC 61851: a PWM offer below 6 A means "do not charge". */
export const MIN_OFFER_A = 6;
/** SoC where the taper starts and the lowest fraction of its max current it tapers to. */
export const TAPER_FROM = 0.8;
export const TAPER_FLOOR = 0.1;

/** The SoC an EV arrives with: so that the energy it wants ends at ~90 % SoC (as drivers set a charge limit), never
 * below 5 %. */
export const arrivalSoc = (spec: Pick<EvSpec, 'energyWh' | 'capacityWh'>): number => Math.max(0.05, 0.9 - spec.energyWh / spec.capacityWh);

export class SimEv {
  readonly spec: EvSpec;
  /** State of charge 0..1. */
  soc: number;
  /** Energy delivered in this session (Wh). */
  deliveredWh = 0;

  constructor(spec: EvSpec) {
    this.spec = spec;
    this.soc = arrivalSoc(spec);
  }

  /** Energy still wanted (Wh). */
  get wantedWh(): number {
    return Math.max(0, this.spec.energyWh - this.deliveredWh);
  }

  get full(): boolean {
    return this.wantedWh <= 1e-6;
  }

  /** The most the EV itself takes per phase now (A), after its taper. */
  maxCurrentA(): number {
    if (this.full) return 0;
    const taper = this.soc <= TAPER_FROM ? 1 : Math.max(TAPER_FLOOR, (1 - this.soc) / (1 - TAPER_FROM));
    return this.spec.maxA * taper;
  }

  /**
   * The current per phase (A) the EV draws for an offer (A per phase) on `phases` phases: the offer when it is at least
   * 6 A, capped by the EV's own maximum; 0 below 6 A or when full.
   */
  drawFor(offerA: number): number {
    if (offerA < MIN_OFFER_A - 1e-9) return 0;
    return Math.min(offerA, this.maxCurrentA());
  }

  /** Charges for `dtMs` at `currentA` on `phases` phases; returns the energy taken (Wh), never beyond what is wanted. */
  charge(currentA: number, phases: number, voltageV: number, dtMs: number): number {
    const wh = Math.min(this.wantedWh, (currentA * phases * voltageV * dtMs) / 3_600_000);
    this.deliveredWh += wh;
    this.soc = Math.min(1, this.soc + wh / this.spec.capacityWh);
    return wh;
  }
}

/**
 * The energy an EV could take on its own if it charged at its maximum from arrival to departure (Wh), with its taper:
 * no controller can deliver more to it. `capA` is the charger's maximum; `dtMs` the integration step.
 */
export function ownMaximumWh(spec: EvSpec, capA: number, phases: number, voltageV: number, dtMs = 10_000): number {
  const ev = new SimEv(spec);
  for (let t = spec.arriveAt; t < spec.departAt && !ev.full; t += dtMs) {
    const step = Math.min(dtMs, spec.departAt - t);
    ev.charge(ev.drawFor(capA), phases, voltageV, step);
  }
  return ev.deliveredWh;
}
