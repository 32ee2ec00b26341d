// A 1-phase EV (or a 1-phase charger) is wired to the EVSE's L1: a profile's phaseToUse moves only a 3-phase EVSE
// switched to one phase (a charger that switches phases, scenario `phaseSwitching`). The LP optimum (src/sim/optimum.ts)
// relies on it: a 1-phase EV loads one site phase only.
import { describe, expect, it } from 'vitest';
import { SimEv } from '../../src/sim/physics/ev.js';
import { PHASE_SWITCH_PAUSE_MS, SimStation } from '../../src/sim/physics/station.js';
import type { ChargerSpec, EvSpec } from '../../src/sim/scenario-types.js';
import { VIRTUAL_EPOCH } from '../../src/sim/virtual-time.js';

const T0 = VIRTUAL_EPOCH;
const charger: ChargerSpec = { id: 'CP1', phases: 3, maxA: 32, rotation: 'L2L3L1', reactionS: 0, profiles: 'apply', meterValuesS: 10, phaseSwitching: true };
const ev = (phases: 1 | 3): EvSpec => ({ id: 'EV1', charger: 'CP1', arriveAt: T0, departAt: T0 + 3_600_000, energyWh: 20_000, maxA: 16, phases, priority: 0, capacityWh: 60_000, sendsNeeds: false });

function onePhaseOnL2(phases: 1 | 3): [number, number, number] {
  const st = new SimStation(charger, { voltageV: 230, send: () => {} });
  st.boot(T0);
  st.plugIn(new SimEv(ev(phases)), T0);
  st.step(T0 + 1000, 1000);
  const period = { startPeriod: 0, limit: 10, numberPhases: 1, phaseToUse: 2 };
  const r = st.handle('SetChargingProfile', {
    evseId: 1,
    chargingProfile: { id: 3, stackLevel: 1, chargingProfilePurpose: 'TxProfile', chargingProfileKind: 'Relative', transactionId: st.transactionId, chargingSchedule: [{ id: 3, chargingRateUnit: 'A', chargingSchedulePeriod: [period] }] },
  }, T0 + 1000);
  expect(r).toEqual({ status: 'Accepted' });
  // Past the pause a switch under load takes.
  st.step(T0 + 2000 + PHASE_SWITCH_PAUSE_MS, 1000 + PHASE_SWITCH_PAUSE_MS);
  return st.siteCurrentA();
}

describe('phase wiring', () => {
  it('a 3-phase EV switched to one phase draws on the phase phaseToUse names (EVSE L2 = site L3 here)', () => {
    expect(onePhaseOnL2(3)).toEqual([0, 0, 10]);
  });

  it('a 1-phase EV stays on the EVSE\'s L1 (site L2 here) whatever phaseToUse says', () => {
    expect(onePhaseOnL2(1)).toEqual([0, 10, 0]);
  });
});
