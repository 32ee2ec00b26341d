// The simulated station's firmware quirks (shared/CONTRACT.md "Charger quirks"), in both protocols: per quirk, the
// profile it refuses is refused on the wire (the same profile is taken by a station without the quirk), the one it
// takes is applied only once its reaction time has passed; what it declares (1.6 configuration keys, 2.0.1
// variables) tells the truth about the quirk; meter values are labelled as such firmware labels them. Plus the
// accepts-and-ignores station and the slow applier on 1.6. In process on virtual time (the score's path); the
// real-socket path is test/sim/station-16.test.ts.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/common/log.js';
import { OcppCallError } from '../../src/ocpp/errors.js';
import { createFace, type StationFace } from '../../src/sim/faces.js';
import { SimEv } from '../../src/sim/physics/ev.js';
import { SimStation } from '../../src/sim/physics/station.js';
import type { ChargerQuirk } from '../../src/sim/quirks.js';
import type { ChargerSpec, EvSpec } from '../../src/sim/scenario-types.js';
import { VIRTUAL_EPOCH } from '../../src/sim/virtual-time.js';
import { check16 } from '../controller/csms16.js';
import { parseScenario } from '../../src/sim/scenario.js';
import { evBounds } from '../../src/sim/bound.js';
import { energyOptimum } from '../../src/sim/optimum.js';
import { createBaseline } from '../../src/sim/baselines.js';
import { SiteSim } from '../../src/sim/site-sim.js';
import { scoreScenarioDetailed } from '../../src/sim/score.js';
import type { ControlState } from '../../src/control/types.js';

const T0 = VIRTUAL_EPOCH + 8 * 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
type Protocol = 'ocpp1.6' | 'ocpp2.0.1';
const PROTOCOLS: Protocol[] = ['ocpp1.6', 'ocpp2.0.1'];

/** A profile in neutral words, sent in the station's protocol. */
interface Ask {
  purpose?: 'TxProfile' | 'TxDefaultProfile';
  kind?: 'Absolute' | 'Relative';
  unit?: 'A' | 'W';
  limit: number;
  stackLevel?: number;
  connector?: number;
}

const flush = () => new Promise((r) => setImmediate(r));

async function rig(protocol: Protocol, quirks: ChargerQuirk[], over: Partial<ChargerSpec> = {}) {
  let t = T0;
  const sent: { action: string; payload: Record<string, unknown> }[] = [];
  const spec: ChargerSpec = { id: 'CPQ', phases: 3, maxA: 32, rotation: 'L1L2L3', reactionS: 30, profiles: 'apply', meterValuesS: 10, protocol, quirks, ...over };
  let face: StationFace | undefined;
  const st = new SimStation(spec, { voltageV: 230, send: (a, p) => face!.fromModel(a, p) });
  // The CSMS side: answers what a 1.6 charge point sends (StartTransaction gets the integer id 7).
  face = createFace(st, async (action, payload) => {
    sent.push({ action, payload });
    if (action === 'StartTransaction') return { transactionId: 7, idTagInfo: { status: 'Accepted' } };
    if (action === 'BootNotification') return { status: 'Accepted', currentTime: iso(t), interval: 300 };
    if (action === 'Authorize') return { idTagInfo: { status: 'Accepted' } };
    return {};
  }, () => t, silentLogger);
  const evSpec: EvSpec = { id: 'EV1', charger: 'CPQ', arriveAt: T0, departAt: T0 + 8 * 3_600_000, energyWh: 40_000, maxA: 32, phases: 3, priority: 0, capacityWh: 60_000, sendsNeeds: false };
  st.boot(t);
  st.plugIn(new SimEv(evSpec), t);
  for (let i = 0; i < 5; i++) await flush();
  const advance = (s: number) => {
    for (let i = 0; i < s; i++) {
      t += 1000;
      st.step(t, 1000);
    }
  };
  advance(1);
  /** CALL to the station as the controller would: its status, or the CALLERROR code. */
  const call = (action: string, payload: Record<string, unknown>): string | Record<string, unknown> => {
    try {
      return face!.handle(action, payload, t);
    } catch (err) {
      if (err instanceof OcppCallError) return err.code;
      throw err;
    }
  };
  let nextId = 1;
  const setProfile = (a: Ask): string => {
    const purpose = a.purpose ?? 'TxProfile';
    const kind = a.kind ?? 'Absolute';
    const period = { startPeriod: 0, limit: a.limit, numberPhases: 3 };
    const start = kind === 'Absolute' ? { startSchedule: iso(t - 60_000) } : {};
    const connector = a.connector ?? 1;
    const id = nextId++;
    let payload: Record<string, unknown>;
    if (protocol === 'ocpp1.6') {
      payload = {
        connectorId: connector,
        csChargingProfiles: {
          chargingProfileId: id,
          stackLevel: a.stackLevel ?? 0,
          chargingProfilePurpose: purpose,
          chargingProfileKind: kind,
          ...(purpose === 'TxProfile' ? { transactionId: 7 } : {}),
          chargingSchedule: { chargingRateUnit: a.unit ?? 'A', ...start, chargingSchedulePeriod: [period] },
        },
      };
      expect(check16('SetChargingProfile', 'request', payload)).toBe('');
    } else {
      payload = {
        evseId: connector,
        chargingProfile: {
          id,
          stackLevel: a.stackLevel ?? 0,
          chargingProfilePurpose: purpose,
          chargingProfileKind: kind,
          ...(purpose === 'TxProfile' ? { transactionId: st.transactionId } : {}),
          chargingSchedule: [{ id, chargingRateUnit: a.unit ?? 'A', ...start, chargingSchedulePeriod: [period] }],
        },
      };
    }
    const r = call('SetChargingProfile', payload);
    if (typeof r === 'string') return r;
    if (protocol === 'ocpp1.6') expect(check16('SetChargingProfile', 'response', r)).toBe('');
    return r.status as string;
  };
  /** What the EV draws now (A on L1). */
  const drawn = () => st.currentA[0];
  return { st, sent, call, setProfile, advance, drawn, meterValues: () => sent.filter((m) => m.action === 'MeterValues').map((m) => m.payload) };
}

interface Case {
  quirk: ChargerQuirk;
  refused: Ask[];
  taken: Ask;
  /** The per-phase current the taken profile gives. */
  appliesA: number;
}

const CASES: Case[] = [
  { quirk: 'watts-only', refused: [{ unit: 'A', limit: 10 }], taken: { unit: 'W', limit: 10 * 230 * 3 }, appliesA: 10 },
  { quirk: 'amps-only', refused: [{ unit: 'W', limit: 10 * 230 * 3 }], taken: { unit: 'A', limit: 10 }, appliesA: 10 },
  { quirk: 'relative-only', refused: [{ kind: 'Absolute', limit: 10 }], taken: { kind: 'Relative', limit: 10 }, appliesA: 10 },
  { quirk: 'no-zero', refused: [{ limit: 0 }, { limit: 3 }, { unit: 'W', limit: 3 * 230 * 3 }], taken: { limit: 6 }, appliesA: 6 },
  { quirk: 'connector-0-rejected', refused: [{ purpose: 'TxDefaultProfile', connector: 0, limit: 10 }], taken: { purpose: 'TxDefaultProfile', connector: 1, limit: 10 }, appliesA: 10 },
  { quirk: 'stack-level-0-only', refused: [{ stackLevel: 1, limit: 10 }], taken: { stackLevel: 0, limit: 10 }, appliesA: 10 },
  { quirk: 'tx-default-only', refused: [{ purpose: 'TxProfile', limit: 10 }], taken: { purpose: 'TxDefaultProfile', limit: 10 }, appliesA: 10 },
];

describe.each(PROTOCOLS)('a quirky simulated station speaking %s', (protocol) => {
  it.each(CASES)('$quirk: refuses what such firmware refuses, applies what it takes after its reaction time', async ({ quirk, refused, taken, appliesA }) => {
    const s = await rig(protocol, [quirk]);
    for (const ask of refused) expect(s.setProfile(ask), JSON.stringify(ask)).toBe('Rejected');
    s.advance(40);
    expect(s.drawn()).toBe(32); // nothing it refused is in force
    expect(s.setProfile(taken)).toBe('Accepted');
    s.advance(25);
    expect(s.drawn()).toBe(32); // still within its 30 s reaction time
    s.advance(10);
    expect(s.drawn()).toBeCloseTo(appliesA, 1);
  });

  it('without quirks takes every profile the quirky ones refuse', async () => {
    for (const { refused } of CASES) {
      for (const ask of refused) {
        const s = await rig(protocol, []);
        expect(s.setProfile(ask), JSON.stringify(ask)).toBe('Accepted');
      }
    }
  });

  it('no-smart-charging: smart-charging calls are not supported, the EV charges at the station maximum', async () => {
    const s = await rig(protocol, ['no-smart-charging']);
    expect(s.setProfile({ limit: 10 })).toBe(protocol === 'ocpp1.6' ? 'NotSupported' : 'NotImplemented');
    expect(s.call('GetCompositeSchedule', protocol === 'ocpp1.6' ? { connectorId: 1, duration: 60 } : { evseId: 1, duration: 60 })).toBe(protocol === 'ocpp1.6' ? 'NotSupported' : 'NotImplemented');
    s.advance(60);
    expect(s.drawn()).toBe(32);
  });

  it('accepts-and-ignores (honorsProfiles: false): every profile Accepted, none applied', async () => {
    const s = await rig(protocol, [], { profiles: 'ignore' });
    expect(s.setProfile({ limit: 8 })).toBe('Accepted');
    expect(s.setProfile({ purpose: 'TxDefaultProfile', limit: 6 })).toBe('Accepted');
    s.advance(120);
    expect(s.drawn()).toBe(32);
  });

  it('a slow applier (45 s) keeps its old limit until the new one is applied, never the station maximum between', async () => {
    const s = await rig(protocol, [], { reactionS: 45 });
    expect(s.setProfile({ limit: 16 })).toBe('Accepted');
    s.advance(46);
    expect(s.drawn()).toBeCloseTo(16, 1);
    // The same purpose and stack level under a new id (1.6 replaces it; 2.0.1 would refuse the clash, so reuse the id there).
    expect(s.setProfile({ limit: 8 })).toBe(protocol === 'ocpp1.6' ? 'Accepted' : 'Rejected');
    if (protocol === 'ocpp1.6') {
      for (let i = 0; i < 44; i++) {
        s.advance(1);
        expect(s.drawn()).toBeCloseTo(16, 1);
      }
      s.advance(2);
      expect(s.drawn()).toBeCloseTo(8, 1);
    }
  });

  it('phase-l1-n and single-phase-report label the phase currents as such firmware does', async () => {
    const labels = async (quirks: ChargerQuirk[]) => {
      const s = await rig(protocol, quirks, { reactionS: 0 });
      s.advance(15);
      for (let i = 0; i < 5; i++) await flush();
      const mv = s.meterValues();
      const values = protocol === 'ocpp1.6'
        ? (mv.at(-1)!.meterValue as { sampledValue: { measurand?: string; phase?: string }[] }[])[0].sampledValue
        : s.sent.filter((m) => m.action === 'TransactionEvent' && m.payload.eventType === 'Updated').at(-1)!.payload.meterValue as never;
      const sampled = protocol === 'ocpp1.6' ? values : (values as unknown as { sampledValue: { measurand?: string; phase?: string }[] }[])[0].sampledValue;
      if (protocol === 'ocpp1.6') expect(check16('MeterValues', 'request', mv.at(-1)!)).toBe('');
      return (sampled as { measurand?: string; phase?: string }[]).filter((v) => v.measurand === 'Current.Import').map((v) => v.phase);
    };
    expect(await labels([])).toEqual(['L1', 'L2', 'L3']);
    expect(await labels(['phase-l1-n'])).toEqual(['L1-N', 'L2-N', 'L3-N']);
    expect(await labels(['single-phase-report'])).toEqual(['L1']);
  });
});

describe('what a quirky station declares', () => {
  const config16 = async (quirks: ChargerQuirk[]) => {
    const s = await rig('ocpp1.6', quirks);
    const r = s.call('GetConfiguration', {}) as { configurationKey: { key: string; value: string }[] };
    expect(check16('GetConfiguration', 'response', r)).toBe('');
    return Object.fromEntries(r.configurationKey.map((k) => [k.key, k.value]));
  };
  const vars201 = async (quirks: ChargerQuirk[]) => {
    const s = await rig('ocpp2.0.1', quirks);
    const names = ['RateUnit', 'ProfileStackLevel', 'Enabled', 'Available'];
    const r = s.call('GetVariables', { getVariableData: names.map((name) => ({ component: { name: 'SmartChargingCtrlr' }, variable: { name } })) }) as {
      getVariableResult: { attributeValue: string; variable: { name: string } }[];
    };
    return Object.fromEntries(r.getVariableResult.map((v) => [v.variable.name, v.attributeValue]));
  };

  it('1.6: GetConfiguration tells the truth about each quirk', async () => {
    expect(await config16([])).toMatchObject({ ChargingScheduleAllowedChargingRateUnit: 'Current,Power', ChargeProfileMaxStackLevel: '10', SupportedFeatureProfiles: 'Core,SmartCharging,RemoteTrigger' });
    expect((await config16(['watts-only'])).ChargingScheduleAllowedChargingRateUnit).toBe('Power');
    expect((await config16(['amps-only'])).ChargingScheduleAllowedChargingRateUnit).toBe('Current');
    expect((await config16(['stack-level-0-only'])).ChargeProfileMaxStackLevel).toBe('0');
    expect((await config16(['no-smart-charging'])).SupportedFeatureProfiles).not.toContain('SmartCharging');
  });

  it('2.0.1: SmartChargingCtrlr variables tell the truth about each quirk', async () => {
    expect(await vars201([])).toEqual({ RateUnit: 'A,W', ProfileStackLevel: '10', Enabled: 'true', Available: 'true' });
    expect((await vars201(['watts-only'])).RateUnit).toBe('W');
    expect((await vars201(['amps-only'])).RateUnit).toBe('A');
    expect((await vars201(['stack-level-0-only'])).ProfileStackLevel).toBe('0');
    expect(await vars201(['no-smart-charging'])).toMatchObject({ Enabled: 'false', Available: 'false' });
  });
});

describe('quirky stations in the score', () => {
  const scenario = () =>
    parseScenario({
      name: 'q',
      duration: '4h',
      step: '1s',
      site: { limitA: [32, 32, 32] },
      baseLoad: { shape: 'flat', peakA: [0, 0, 0] },
      chargers: [
        { id: 'N', protocol: 'ocpp1.6', phases: 3, maxA: 16, quirks: ['no-smart-charging'] },
        { id: 'C', protocol: 'ocpp1.6', phases: 3, maxA: 32, quirks: ['watts-only', 'stack-level-0-only', 'connector-0-rejected', 'no-zero'] },
      ],
      evs: [
        { charger: 'N', arrive: '00:00', depart: '04:00', energyWh: 100000, maxA: 16, phases: 3 },
        { charger: 'C', arrive: '00:00', depart: '04:00', energyWh: 100000, maxA: 32, phases: 3 },
      ],
    });

  it('the optimum counts a station without smart charging as load it cannot limit (16 A for 4 h), not a decision', async () => {
    const s = scenario();
    const o = await energyOptimum(s, evBounds(s));
    // 16 A x 3 x 230 V x 4 h, less nothing: no controller could have given the other EV its share.
    expect(o.energyWh).toBeGreaterThan(16 * 3 * 230 * 4 * 0.99 + 16 * 3 * 230 * 4 * 0.99);
    expect(o.energyWh).toBeLessThanOrEqual(32 * 3 * 230 * 4 + 1);
  });

  it('the baselines set their limits as an installer does: a quirk refuses none of them, nothing throws, nothing limits a station without smart charging', () => {
    const s = scenario();
    const offers = (name: 'static' | 'fcfs') => {
      const sim = new SiteSim(s, { send: () => {} });
      const b = createBaseline(name, s, () => sim);
      b.boot(s.startAt);
      const later = s.startAt + 10_000;
      for (const st of sim.stations.values()) st.step(later, 0);
      return [...sim.stations.values()].map((st) => st.offer(later).limitA);
    };
    expect(offers('static')).toEqual([16, 16]); // 32 A split in two, in A at stack level 1 on connector 0
    // The 0 A default a no-zero firmware would refuse from a controller; the station without smart charging takes none.
    expect(offers('fcfs')).toEqual([16, 0]);
  });
});

describe('quirks the controller is not told of, learned from the stations in the score', () => {
  it('a 2.0.1 no-zero (W-only) station paused and a 1.6 station reporting one phase: both learned, both controlled, the fuse holds', async () => {
    // The score's config names only each station's protocol. A (W only, refuses less than 6 A) is the one the
    // priorities pause; B reports its 3-phase session's current on L1 only.
    const s = parseScenario({
      name: 'learn',
      duration: '30m',
      step: '1s',
      site: { limitA: [20, 20, 20] },
      baseLoad: { shape: 'flat', peakA: [0, 0, 0] },
      chargers: [
        { id: 'A', protocol: 'ocpp2.0.1', phases: 3, maxA: 32, quirks: ['watts-only', 'no-zero'] },
        { id: 'B', protocol: 'ocpp1.6', phases: 3, maxA: 32, quirks: ['single-phase-report'] },
        { id: 'C', protocol: 'ocpp2.0.1', phases: 3, maxA: 32 },
      ],
      evs: [
        { charger: 'B', arrive: '00:00', depart: '01:00', energyWh: 100000, maxA: 32, phases: 3, priority: 5 },
        { charger: 'C', arrive: '00:00', depart: '01:00', energyWh: 100000, maxA: 32, phases: 3, priority: 5 },
        { charger: 'A', arrive: '00:05', depart: '01:00', energyWh: 100000, maxA: 32, phases: 3 },
      ],
    });
    let state: ControlState | undefined;
    let bSite: number[] = [];
    const d = await scoreScenarioDetailed(s, {
      onStep: (snap, sim, loop) => {
        // The EVs leave when the run ends (its last step): the state just before.
        if (snap.at >= s.startAt + s.durationMs) return;
        state = loop.state();
        bSite = sim.stations.get('B')!.siteCurrentA();
      },
    });
    const station = (id: string) => state?.stations?.find((x) => x.id === id);
    const evse = (id: string) => state?.evses.find((e) => e.stationId === id && e.evseId === 1);
    expect(d.score.overload_s).toBe(0);
    // A rejected its pause (0 W): held at its minimum instead, not written off as uncontrollable.
    expect(station('A')?.learned).toContain('no-zero');
    expect(evse('A')?.controllable).toBe(true);
    expect(evse('A')?.appliedLimitA).toBe(6);
    // B's absent L2/L3 are not read as 0: its 3-phase EV keeps three phases.
    expect(station('B')?.learned).toContain('single-phase-report');
    expect(evse('B')?.phases).toBe(3);
    expect(Math.min(...bSite)).toBeGreaterThan(5);
  }, 120_000);

  it('a 1.6 station that says Charging while its EV is full and draws nothing (reportsSuspendedEV: false): its share goes to the EV still charging', async () => {
    // 1.6, where the EV's needs are not told: only the draw shows the EV is done. (A 2.0.1 EV that says its needs is
    // known to be done by them; the 2.0.1 path of the rule: test/control/quality.test.ts.)
    const s = parseScenario({
      name: 'charging-liar',
      duration: '2h',
      step: '1s',
      site: { limitA: [32, 32, 32] },
      baseLoad: { shape: 'flat', peakA: [0, 0, 0] },
      chargers: [
        { id: 'L', protocol: 'ocpp1.6', phases: 3, maxA: 32, reportsSuspendedEV: false },
        { id: 'H', protocol: 'ocpp2.0.1', phases: 3, maxA: 32 },
      ],
      evs: [
        // L's EV is full after ~25 minutes at 16 A; H's wants more than two hours at 32 A give.
        { charger: 'L', arrive: '00:00', depart: '02:00', energyWh: 5000, maxA: 32, phases: 3 },
        { charger: 'H', arrive: '00:00', depart: '02:00', energyWh: 60000, maxA: 32, phases: 3 },
      ],
    });
    const said = new Set<string>();
    const d = await scoreScenarioDetailed(s, {
      onStep: (snap, sim) => {
        const st = sim.stations.get('L')!;
        if (st.currentA[0] === 0 && snap.at > s.startAt + 3_600_000 && snap.at < s.startAt + 6_600_000) said.add((st as unknown as { chargingState: string }).chargingState);
      },
    });
    // It never said SuspendedEV; judged by its draw, H got the site, but for a minute's probe at 6 A every 15
    // minutes: 0.974 of the optimum. Judged by what the station says, L held 16 A to the end: 0.61.
    expect([...said]).toEqual(['Charging']);
    expect(d.score.overload_s).toBe(0);
    expect(d.score.utilization).toBeGreaterThan(0.96);
  }, 120_000);
});
