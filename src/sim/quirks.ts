// Charger firmware quirks a simulated station can have (shared/CONTRACT.md "Charger quirks": the same names as
// stations.list[].quirks). Read in one place — quirksOf() — and bent here, where each message it concerns is decided,
// so a quirk never needs ifs spread elsewhere: what the station declares (capabilitiesOf: 1.6 configuration keys,
// 2.0.1 variables), which profiles it refuses (profileRefusal), how it labels its phase currents (reportedPhases).
// The declared keys tell the truth about each quirk; real firmware sometimes lies (a station declaring
// Current,Power and refusing A exists), which is why a controller must learn from the answers, not only the keys.
import { MIN_OFFER_A } from './physics/ev.js';
import type { ChargingProfile } from './physics/profiles.js';
import type { ChargerSpec } from './scenario-types.js';
import { QUIRKS } from '../stations/model.js';

/** The CONTRACT's quirk names: one list, the station model's, for the controller's config and the scenarios alike. */
export const CHARGER_QUIRKS = QUIRKS;

export type ChargerQuirk = (typeof CHARGER_QUIRKS)[number];

export function quirksOf(spec: Pick<ChargerSpec, 'quirks'>): ReadonlySet<ChargerQuirk> {
  return new Set(spec.quirks ?? []);
}

/** Whether any controller can limit a charger: it applies profiles and has smart charging at all. The score counts
 * the others as load, not decisions (its optimum and fairness), as a controller must. */
export function limitable(spec: Pick<ChargerSpec, 'profiles' | 'quirks'>): boolean {
  return spec.profiles === 'apply' && !(spec.quirks ?? []).includes('no-smart-charging');
}

/** What a station with these quirks declares (and holds to) about smart charging. */
export interface SmartChargingCapabilities {
  /** False: no SmartCharging feature profile (1.6) / smart charging not implemented (2.0.1). */
  smartCharging: boolean;
  rateUnits: ('A' | 'W')[];
  maxStackLevel: number;
  /** Switches a 3-phase EVSE to one phase on a profile's numberPhases (2.0.1 ACPhaseSwitchingSupported, 1.6
   * ConnectorSwitch3to1PhaseSupported): the scenario's charger option `phaseSwitching`, not a quirk. */
  phaseSwitching: boolean;
}

export function capabilitiesOf(quirks: ReadonlySet<ChargerQuirk>, spec: Pick<ChargerSpec, 'phases' | 'phaseSwitching'> = { phases: 3 }): SmartChargingCapabilities {
  const rateUnits: ('A' | 'W')[] = quirks.has('watts-only') ? ['W'] : quirks.has('amps-only') ? ['A'] : ['A', 'W'];
  const smartCharging = !quirks.has('no-smart-charging');
  return {
    smartCharging,
    rateUnits,
    maxStackLevel: quirks.has('stack-level-0-only') ? 0 : 10,
    // Switching is steered by profiles: without smart charging, or on a 1-phase EVSE, there is nothing to switch.
    phaseSwitching: spec.phaseSwitching === true && spec.phases === 3 && smartCharging,
  };
}

/** The lowest current (A per phase) a no-zero station accepts in a profile period. */
export const NO_ZERO_MIN_A = MIN_OFFER_A;

/**
 * Why a station with these quirks refuses a profile it would otherwise take (undefined: it takes it). The profile is
 * the model's (2.0.1) shape; a 1.6 face converts first, so one check serves both protocols. Rate unit and stack level
 * are refused by the station's declared capabilities (the model's profile validation, capabilitiesOf).
 */
export function profileRefusal(quirks: ReadonlySet<ChargerQuirk>, evseId: number, profile: ChargingProfile, voltageV: number): string | undefined {
  if (quirks.has('connector-0-rejected') && evseId === 0) return 'profiles on connector/EVSE 0 are not supported';
  if (quirks.has('tx-default-only') && profile.chargingProfilePurpose === 'TxProfile') return 'TxProfile is not supported';
  if (quirks.has('relative-only') && profile.chargingProfileKind === 'Absolute') return 'Absolute profiles are not supported';
  if (quirks.has('no-zero')) {
    for (const schedule of profile.chargingSchedule) {
      for (const p of schedule.chargingSchedulePeriod) {
        const perPhaseA = schedule.chargingRateUnit === 'W' ? p.limit / (voltageV * (p.numberPhases ?? 3)) : p.limit;
        if (perPhaseA < NO_ZERO_MIN_A - 1e-6) return `limit below the minimum of ${NO_ZERO_MIN_A} A`;
      }
    }
  }
  return undefined;
}

/** The phase labels of a station's Current.Import samples for a session on `phases` phases. */
export function reportedPhases(quirks: ReadonlySet<ChargerQuirk>, phases: 1 | 3): string[] {
  const n = quirks.has('single-phase-report') ? 1 : phases;
  const labels = ['L1', 'L2', 'L3'].slice(0, n);
  return quirks.has('phase-l1-n') ? labels.map((l) => `${l}-N`) : labels;
}
