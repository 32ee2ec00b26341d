// The scenario a simulated site follows (shared/CONTRACT.md "Scenario file"), after loading: times are epoch ms on the
// virtual clock, random EVs are expanded, defaults are filled.
import type { PhaseVector, Rotation } from '../../algorithms/types.js';
import type { ChargerQuirk } from './quirks.js';

export type BaseLoadShape = 'office' | 'home' | 'flat' | { csv: string };

export interface BaseLoadSpec {
  shape: BaseLoadShape;
  /** Peak current per site phase (A). For csv the file gives amperes and peakA scales them when given. */
  peakA: PhaseVector;
  /** Random variation (fraction of the shape, default 0.05). */
  noise: number;
}

/** What a charger does with a SetChargingProfile: apply it, accept it but ignore it, or answer Rejected. */
export type ProfileHandling = 'apply' | 'ignore' | 'reject';

export interface ChargerSpec {
  id: string;
  /** The sub-board it hangs on; the grid connection when absent. */
  circuit?: string;
  phases: 1 | 3;
  maxA: number;
  rotation: Rotation;
  /** Seconds between a profile arriving and the EV drawing the new limit. */
  reactionS: number;
  profiles: ProfileHandling;
  /** Interval of its MeterValuePeriodic TransactionEvents (s); default 10. */
  meterValuesS: number;
  /** The protocol it speaks; absent = ocpp2.0.1. */
  protocol?: 'ocpp2.0.1' | 'ocpp1.6';
  /** Firmware quirks (src/sim/quirks.ts names); absent = none. */
  quirks?: ChargerQuirk[];
  /** A 3-phase charger that switches to one phase when a profile says numberPhases 1 (and says so to the
   * controller: ACPhaseSwitchingSupported / ConnectorSwitch3to1PhaseSupported); absent = false. */
  phaseSwitching?: boolean;
  /** false: the station says Charging while its EV is full and draws nothing, as some firmware does whenever the
   * contactor is closed (1.6 StatusNotification, 2.0.1 chargingState); absent = it says SuspendedEV. */
  reportsSuspendedEV?: boolean;
}

export interface EvSpec {
  /** "EV1", "EV2", ... in file order. */
  id: string;
  charger: string;
  arriveAt: number;
  departAt: number;
  /** Energy the EV wants (Wh). */
  energyWh: number;
  maxA: number;
  phases: 1 | 3;
  priority: number;
  /** Battery capacity (Wh); default max(60 kWh, energyWh / 0.8). */
  capacityWh: number;
  /** Whether the EV sends NotifyEVChargingNeeds (ISO 15118); default true. */
  sendsNeeds: boolean;
  /** Whether its driver enters its energy and departure on the page when it plugs in (for a station that cannot send
   * them, such as a 1.6 one); default false. */
  entersNeeds?: boolean;
}

export interface CircuitSpec {
  id: string;
  limitA: PhaseVector;
  parent?: string;
  /** Optional own base load on this board (in addition to the site base load at the grid connection). */
  baseLoad?: BaseLoadSpec;
}

export interface Scenario {
  name: string;
  /** Virtual ms. */
  durationMs: number;
  stepMs: number;
  seed: number;
  /** Epoch ms of 00:00 day 1 (the virtual clock's epoch). */
  startAt: number;
  site: { limitA: PhaseVector; voltage: number };
  /** The site's charging mode (control.mode): fast (default), pv (solar surplus only), minpv. */
  mode?: 'fast' | 'pv' | 'minpv';
  baseLoad: BaseLoadSpec;
  pv?: { peakW: number; /** Cloudiness 0 (clear) .. 1 (overcast), default 0.3. */ clouds: number };
  /** `reserveForEvs`: the site keeps the battery for the EVs (control.battery.reserveForEvs): it follows the controller's
   * discharge limit. `refillFromPv: false` turns its refill from PV off (control.battery.refillFromPv). */
  battery?: { capacityWh: number; maxW: number; soc: number; minSoc: number; reserveForEvs?: boolean; refillFromPv?: boolean };
  circuits: CircuitSpec[];
  chargers: ChargerSpec[];
  evs: EvSpec[];
  /** Folder of the scenario file, for csv shapes. */
  baseDir: string;
}
