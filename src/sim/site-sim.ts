// One simulated site run on virtual time: the stations with their EVs arriving and leaving, the base loads, PV and the
// home battery, and the current through every limited node. The score runs three of these (controller, two baselines)
// from the same scenario; the demo world runs one and serves it over OCPP, Modbus and OPC UA.
import type { PhaseVector } from '../../algorithms/types.js';
import { SimEv } from './physics/ev.js';
import { SimBattery, SiteTree, pvPowerFn, type NodeCurrents } from './physics/site.js';
import { SimStation } from './physics/station.js';
import type { EvSpec, Scenario } from './scenario-types.js';

export type StationSend = (stationId: string, action: string, payload: Record<string, unknown>) => void;

export interface SiteSnapshot {
  at: number;
  nodes: NodeCurrents[];
  pvW: number;
  /** Battery power (W, discharging positive) and SoC (0..1), when there is a battery. */
  batteryW: number;
  batterySoc?: number;
  /** Grid active power (W, import positive). */
  gridW: number;
  /** Import and export energy counters at the grid connection (Wh). */
  importWh: number;
  exportWh: number;
  /** Energy delivered to EVs so far (Wh). */
  evEnergyWh: number;
}

export interface SiteSimOptions {
  send: StationSend;
  meterIntervalMs?: number;
  /** A station's own clock from world time (default: world time itself), by station id. */
  clock?: (stationId: string) => ((worldMs: number) => number) | undefined;
  /** Called when an EV plugs in (after its TransactionEvent Started). */
  onArrive?: (ev: EvSpec, station: SimStation) => void;
  onDepart?: (ev: EvSpec, station: SimStation) => void;
}

export class SiteSim {
  readonly stations = new Map<string, SimStation>();
  readonly tree: SiteTree;
  readonly battery?: SimBattery;
  private readonly pv: (t: number) => number;
  private readonly arrivals: EvSpec[];
  private readonly present: { spec: EvSpec; ev: SimEv }[] = [];
  /** Every EV that came, with what it got. */
  readonly evs: { spec: EvSpec; ev: SimEv }[] = [];
  private importWh = 0;
  private exportWh = 0;
  private evEnergyWh = 0;
  last?: SiteSnapshot;

  constructor(readonly scenario: Scenario, private readonly opts: SiteSimOptions) {
    this.tree = new SiteTree(scenario);
    this.pv = scenario.pv ? pvPowerFn(scenario.pv.peakW, scenario.pv.clouds, scenario.seed, scenario.startAt) : () => 0;
    const b = scenario.battery;
    if (b) this.battery = new SimBattery(b.capacityWh, b.maxW, b.soc, b.minSoc);
    for (const c of scenario.chargers) {
      this.stations.set(c.id, new SimStation(c, { voltageV: scenario.site.voltage, ...(opts.meterIntervalMs ? { meterIntervalMs: opts.meterIntervalMs } : {}), clock: opts.clock?.(c.id), send: (a, p) => opts.send(c.id, a, p) }));
    }
    this.arrivals = [...scenario.evs];
  }

  /** Adds EVs to come (the demo repeats its day); they must arrive after now. */
  addEvs(evs: EvSpec[]): void {
    this.arrivals.push(...evs);
    this.arrivals.sort((a, b) => a.arriveAt - b.arriveAt);
  }

  /** Boots every station (BootNotification, StatusNotification). */
  boot(now: number): void {
    for (const s of this.stations.values()) s.boot(now);
  }

  /**
   * Advances to `now` after an interval of `dtMs`: stations charge their EVs over the interval with the limits in
   * force, EVs that are due leave and arrive, then node currents, PV and battery are computed for `now`.
   */
  step(now: number, dtMs: number): SiteSnapshot {
    for (const s of this.stations.values()) s.step(now, dtMs);
    for (let i = this.present.length - 1; i >= 0; i--) {
      const p = this.present[i];
      if (p.spec.departAt <= now) {
        const st = this.stations.get(p.spec.charger)!;
        st.unplug(now);
        this.present.splice(i, 1);
        this.opts.onDepart?.(p.spec, st);
      }
    }
    while (this.arrivals.length && this.arrivals[0].arriveAt <= now) {
      const spec = this.arrivals.shift()!;
      const st = this.stations.get(spec.charger)!;
      if (st.ev) continue; // the loader keeps EVs on one charger apart; never two at once
      const ev = new SimEv(spec);
      st.plugIn(ev, now);
      this.present.push({ spec, ev });
      this.evs.push({ spec, ev });
      this.opts.onArrive?.(spec, st);
    }
    return this.measure(now, dtMs);
  }

  private measure(now: number, dtMs: number): SiteSnapshot {
    const V = this.scenario.site.voltage;
    const chargers = [...this.stations.values()].map((s) => ({ circuit: s.spec.circuit, siteA: s.siteCurrentA() }));
    const pvW = this.pv(now);
    const own = this.tree.ownLoads(now);
    let nodes = this.tree.currents(now, chargers, pvW, V, own);
    let batteryW = 0;
    if (this.battery) {
      const g = nodes[0].currentA;
      let baseW = 0;
      for (const a of own.values()) baseW += (a[0] + a[1] + a[2]) * V;
      batteryW = this.battery.step((g[0] + g[1] + g[2]) * V, dtMs, pvW - baseW);
      if (batteryW !== 0) nodes = this.tree.currents(now, chargers, pvW + batteryW, V, own);
    }
    const g = nodes[0].currentA;
    const gridW = (g[0] + g[1] + g[2]) * V;
    const h = dtMs / 3_600_000;
    if (gridW >= 0) this.importWh += gridW * h;
    else this.exportWh -= gridW * h;
    this.evEnergyWh = 0;
    for (const s of this.stations.values()) this.evEnergyWh += s.energyRegisterWh;
    this.last = {
      at: now,
      nodes,
      pvW,
      batteryW,
      batterySoc: this.battery?.soc,
      gridW,
      importWh: this.importWh,
      exportWh: this.exportWh,
      evEnergyWh: this.evEnergyWh,
    };
    return this.last;
  }
}

export function phaseVector(a: number[]): PhaseVector {
  return [a[0] ?? 0, a[1] ?? 0, a[2] ?? 0];
}
