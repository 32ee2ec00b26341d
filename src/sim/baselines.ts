// The two baselines the score runs beside the controller, both without a meter (they cannot see base load or PV):
// - static: every charger gets a fixed equal share of each limited node it hangs under, per phase, installed once as a
//   TxDefaultProfile at boot; never below 6 A (a charger cannot be set lower and still charge, so an installer with
//   too many chargers on a fuse sets the minimum and hopes);
// - fcfs: first come, first served: an arriving session takes what is left of the fuse limits (after the sessions
//   already there) up to its maximum and keeps it until it leaves; a session that finds less than 6 A waits and is
//   served, in arrival order, when someone leaves.
// They set limits through the same station model (profiles, reaction delay, stations that ignore limits), as an
// installer sets a charger's own maximum: a firmware quirk of its smart-charging interface does not refuse them.
import type { PhaseVector } from '../../algorithms/types.js';
import { MIN_OFFER_A } from './physics/ev.js';
import type { ChargingProfile } from './physics/profiles.js';
import { sitePhases, type SimStation } from './physics/station.js';
import type { SiteSim } from './site-sim.js';
import type { EvSpec, Scenario } from './scenario-types.js';

export type BaselineName = 'static' | 'fcfs';

/** Site phases a charger draws on, as 0/1 weights. */
function phaseUse(station: SimStation, evPhases = 3): PhaseVector {
  const map = sitePhases(station.spec.rotation);
  const n = Math.min(station.spec.phases, evPhases);
  const w: PhaseVector = [0, 0, 0];
  for (let i = 0; i < n; i++) w[map[i]] = 1;
  return w;
}

const relative = (id: number, purpose: 'TxDefaultProfile' | 'TxProfile', limitA: number, transactionId?: string): ChargingProfile => ({
  id,
  stackLevel: 1,
  chargingProfilePurpose: purpose,
  chargingProfileKind: 'Relative',
  ...(transactionId ? { transactionId } : {}),
  chargingSchedule: [{ id, chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: Math.floor(limitA * 10) / 10 }] }],
});

/** Static equal split: per node and phase, the limit over the number of chargers drawing on that phase below it. */
export function staticLimits(s: Scenario, sim: SiteSim): Map<string, number> {
  const out = new Map<string, number>();
  const count = new Map<string, PhaseVector>();
  for (const st of sim.stations.values()) {
    for (const node of sim.tree.pathToRoot(st.spec.circuit)) {
      const c = count.get(node) ?? [0, 0, 0];
      const w = phaseUse(st);
      count.set(node, [c[0] + w[0], c[1] + w[1], c[2] + w[2]]);
    }
  }
  for (const st of sim.stations.values()) {
    let limit = st.spec.maxA;
    const w = phaseUse(st);
    for (const node of sim.tree.pathToRoot(st.spec.circuit)) {
      const n = sim.tree.nodes.find((x) => x.id === node)!;
      const c = count.get(node)!;
      for (let p = 0; p < 3; p++) if (w[p]) limit = Math.min(limit, n.limitA[p] / c[p]);
    }
    out.set(st.spec.id, Math.min(st.spec.maxA, Math.max(MIN_OFFER_A, limit)));
  }
  void s;
  return out;
}

export interface Baseline {
  boot(now: number): void;
  onArrive(ev: EvSpec, station: SimStation, now: number): void;
  onDepart(ev: EvSpec, station: SimStation, now: number): void;
}

export function createBaseline(name: BaselineName, s: Scenario, sim: () => SiteSim): Baseline {
  if (name === 'static') {
    return {
      boot(now) {
        const limits = staticLimits(s, sim());
        for (const st of sim().stations.values()) st.install(0, relative(1, 'TxDefaultProfile', limits.get(st.spec.id)!), now);
      },
      onArrive() {},
      onDepart() {},
    };
  }
  // fcfs
  const sessions: { station: SimStation; ev: EvSpec; limitA: number }[] = [];
  const leftover = (station: SimStation, evPhases: number): number => {
    let left = Math.min(station.spec.maxA);
    const w = phaseUse(station, evPhases);
    for (const node of sim().tree.pathToRoot(station.spec.circuit)) {
      const n = sim().tree.nodes.find((x) => x.id === node)!;
      const used: PhaseVector = [0, 0, 0];
      for (const x of sessions) {
        if (x.limitA <= 0 || !sim().tree.pathToRoot(x.station.spec.circuit).includes(node)) continue;
        const xw = phaseUse(x.station, x.ev.phases);
        for (let p = 0; p < 3; p++) used[p] += xw[p] * x.limitA;
      }
      for (let p = 0; p < 3; p++) if (w[p]) left = Math.min(left, n.limitA[p] - used[p]);
    }
    return Math.max(0, left);
  };
  const grant = (x: { station: SimStation; ev: EvSpec; limitA: number }, now: number) => {
    const left = leftover(x.station, x.ev.phases);
    const want = Math.min(x.station.spec.maxA, x.ev.maxA);
    x.limitA = left >= MIN_OFFER_A ? Math.min(want, left) : 0;
    if (x.station.transactionId) {
      x.station.install(1, relative(2, 'TxProfile', x.limitA, x.station.transactionId), now);
    }
  };
  return {
    boot(now) {
      // Until a session is granted its share it must not draw: a 0 A default.
      for (const st of sim().stations.values()) st.install(0, relative(1, 'TxDefaultProfile', 0), now);
    },
    onArrive(ev, station, now) {
      const x = { station, ev, limitA: 0 };
      sessions.push(x);
      grant(x, now);
    },
    onDepart(ev, _station, now) {
      const i = sessions.findIndex((x) => x.ev.id === ev.id);
      if (i >= 0) sessions.splice(i, 1);
      for (const x of sessions) if (x.limitA === 0) grant(x, now);
    },
  };
}
