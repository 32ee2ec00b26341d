// Meters → what each limited node carries that the controller does not steer (uncontrolled current = meter minus the
// EVSE draw below it), PV and battery state, and the fail-safe: a node whose meter is stale, bad, or silent for longer
// than its staleMs runs on control.safeLimitA until good readings return.
import type { PhaseVector, Rotation } from '../../algorithms/types.js';
import type { Reading } from '../../drivers/types.js';
import type { Config, MeterConfig } from '../config/types.js';

export const ROOT_NODE = 'site';

interface MeterState {
  config: MeterConfig;
  /** The last good reading, and when it came. */
  good?: Reading;
  /** Quality of the latest reading (stale/bad arrive from the driver; silence is judged here). */
  quality: Reading['quality'] | 'none';
  reason?: string;
}

/** Site phase index of each EVSE phase for a rotation: "L2L3L1" → [1, 2, 0]. */
export function rotationIndex(rotation: Rotation): [number, number, number] {
  return [0, 1, 2].map((i) => Number(rotation[i * 2 + 1]) - 1) as [number, number, number];
}

/** Per-site-phase current of an EVSE drawing `perPhaseA` (EVSE phases) on `phases` phases with a rotation. */
export function toSitePhases(perPhaseA: number[], phases: 1 | 3, rotation: Rotation): PhaseVector {
  const idx = rotationIndex(rotation);
  const out: PhaseVector = [0, 0, 0];
  for (let i = 0; i < phases; i++) out[idx[i]] += Math.max(0, perPhaseA[i] ?? 0);
  return out;
}

export interface NodeMeasurement {
  /** Current through the node measured by its meter (A per site phase), when it has a good one. */
  meterA?: PhaseVector;
  /** When the meter took that reading (ms). */
  at?: number;
  /** True when the node has a meter and it cannot be trusted now. */
  failSafe: boolean;
  reason?: string;
}

export class Measurements {
  private readonly meters = new Map<string, MeterState>();

  constructor(private readonly config: Config) {
    for (const m of config.meters) this.meters.set(m.id, { config: m, quality: 'none' });
  }

  /** Takes a reading; returns true when it changes the answer (quality change or a step beyond meterStepA). */
  apply(r: Reading): boolean {
    const m = this.meters.get(r.deviceId);
    if (!m) return false;
    const before = m.quality;
    m.quality = r.quality;
    m.reason = r.reason;
    if (r.quality !== 'good') return before !== r.quality;
    const prev = m.good;
    m.good = r;
    if (before !== 'good') return true;
    const a = this.currents(m, prev), b = this.currents(m, r);
    if (!a || !b) return a !== b;
    const step = this.config.control.meterStepA;
    return a.some((v, i) => Math.abs(v - b[i]) > step) || this.powerStep(prev, r);
  }

  /** Marks meters that went silent beyond their staleMs; returns true when one just did. */
  checkSilence(now: number): boolean {
    let changed = false;
    for (const m of this.meters.values()) {
      if (m.quality === 'good' && m.good && now - m.good.at > m.config.staleMs) {
        m.quality = 'stale';
        m.reason = `no reading for ${m.config.staleMs} ms`;
        changed = true;
      }
    }
    return changed;
  }

  /** The meter measuring a node: the grid meter for the root, a sub meter for a circuit. */
  nodeMeasurement(nodeId: string): NodeMeasurement | undefined {
    const m = [...this.meters.values()].find((x) =>
      nodeId === ROOT_NODE ? x.config.role === 'grid' : x.config.role === 'sub' && x.config.circuit === nodeId,
    );
    if (!m) return undefined;
    if (m.quality !== 'good' || !m.good) {
      return { failSafe: true, reason: `meter ${m.config.id} ${m.quality === 'none' ? 'has not answered yet' : m.quality}${m.reason ? `: ${m.reason}` : ''}` };
    }
    const a = this.currents(m, m.good);
    if (!a) return { failSafe: true, reason: `meter ${m.config.id} gives no phase currents` };
    return { meterA: a, at: m.good.at, failSafe: false };
  }

  gridPowerW(): number | undefined {
    return this.goodOf('grid')?.values.activePowerW;
  }

  pv(): { powerW: number } | undefined {
    const r = this.goodOf('pv');
    return r?.values.pvPowerW !== undefined ? { powerW: Math.max(0, r.values.pvPowerW) } : undefined;
  }

  battery(minSocPct: number): { socPct: number; powerW: number; maxDischargeW: number; maxChargeW: number; minSocPct: number } | undefined {
    const v = this.goodOf('battery')?.values;
    if (v?.batterySocPct === undefined || v.batteryPowerW === undefined) return undefined;
    return { socPct: v.batterySocPct, powerW: v.batteryPowerW, maxDischargeW: v.batteryMaxDischargeW ?? 0, maxChargeW: v.batteryMaxChargeW ?? 0, minSocPct };
  }

  /** For the page: the latest good reading of a role. */
  goodOf(role: MeterConfig['role']): Reading | undefined {
    const m = [...this.meters.values()].find((x) => x.config.role === role);
    return m && m.quality === 'good' ? m.good : undefined;
  }

  /**
   * Signed per-phase current through the meter: import positive, export negative. Many meters give current magnitudes
   * only; the sign then comes from that phase's active power. Without per-phase power a magnitude is taken as import,
   * which errs the safe way (export would only ever make room).
   */
  private currents(m: MeterState, r: Reading | undefined): PhaseVector | undefined {
    if (!r) return undefined;
    const pw = r.values.phasePowersW;
    const ia = r.values.phaseCurrentsA;
    if (ia) return ia.map((x, i) => (x < 0 ? x : pw && pw[i] < 0 ? -x : x)) as PhaseVector;
    // Meters without current registers: per-phase power over the nominal voltage.
    if (pw) return pw.map((w) => w / this.config.site.voltage) as PhaseVector;
    void m;
    return undefined;
  }

  private powerStep(a: Reading | undefined, b: Reading): boolean {
    const pa = a?.values.activePowerW ?? a?.values.pvPowerW;
    const pb = b.values.activePowerW ?? b.values.pvPowerW;
    if (pa === undefined || pb === undefined) return false;
    return Math.abs(pa - pb) > this.config.control.meterStepA * this.config.site.voltage;
  }
}
