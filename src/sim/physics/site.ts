// The site around the chargers, as pure functions of virtual time: base load shapes with per-phase peaks and seeded
// noise, PV from a clear-sky curve with seeded clouds, a home battery (self-consumption), and the per-phase current of
// every limited node (grid connection, sub-boards) from all of that plus the chargers' draws on their rotated phases.
// Signs: current and power at a node are import positive (export through the grid connection is negative).
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { PhaseVector } from '../../../algorithms/types.js';
import type { BaseLoadSpec, Scenario } from '../scenario-types.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Deterministic value noise in [-1, 1] at time t (ms) with a knot every `periodMs`, from a seed and a channel. */
export function valueNoise(seed: number, channel: number, t: number, periodMs: number): number {
  const x = t / periodMs;
  const i = Math.floor(x);
  const f = x - i;
  const h = (k: number) => {
    let v = Math.imul(k ^ Math.imul(seed, 0x9e3779b1), 0x85ebca6b) ^ Math.imul(channel + 1, 0xc2b2ae35);
    v ^= v >>> 13;
    v = Math.imul(v, 0x27d4eb2f);
    v ^= v >>> 16;
    return ((v >>> 0) / 4294967295) * 2 - 1;
  };
  const s = f * f * (3 - 2 * f);
  return h(i) * (1 - s) + h(i + 1) * s;
}

/** Fraction of the peak (0..1) for a built-in shape at hour-of-day h (0..24). */
export function shapeFraction(shape: 'office' | 'home' | 'flat', h: number, weekday: boolean): number {
  const bump = (center: number, width: number) => Math.exp(-(((h - center) / width) ** 2));
  switch (shape) {
    case 'flat':
      return 1;
    case 'office': {
      if (!weekday) return 0.15;
      // Night base 15 %; ramps up 7-9, lunch dip, ramps down 17-19.
      const up = 1 / (1 + Math.exp(-(h - 8) * 2.5));
      const down = 1 / (1 + Math.exp((h - 18) * 2));
      return Math.min(1, 0.15 + 0.85 * up * down - 0.1 * bump(12.5, 0.6));
    }
    case 'home':
      // Night 20 %, morning bump at 7:30, evening peak at 19:00.
      return Math.min(1, 0.2 + 0.35 * bump(7.5, 1) + 0.8 * bump(19, 1.8) + 0.1 * bump(13, 2));
  }
}

interface CsvPoint { atMs: number; a: PhaseVector }

/** Reads "HH:MM,L1,L2,L3" rows (A, a header line allowed); repeats daily, linear between points. */
export function readCsvShape(file: string, baseDir: string): CsvPoint[] {
  const path = isAbsolute(file) ? file : resolve(baseDir, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`baseLoad csv ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const points: CsvPoint[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const cells = line.split(/[,;]\s*/).map((c) => c.trim());
    if (!line.trim() || (i === 0 && !/^\d/.test(cells[0]))) return;
    const m = /^(\d{1,2}):(\d{2})$/.exec(cells[0]);
    const a = cells.slice(1, 4).map(Number);
    if (!m || a.length !== 3 || a.some((v) => !Number.isFinite(v) || v < 0)) throw new Error(`baseLoad csv ${file} line ${i + 1}: expected "HH:MM,L1,L2,L3" with amperes`);
    points.push({ atMs: (Number(m[1]) * 60 + Number(m[2])) * 60_000, a: a as PhaseVector });
  });
  if (!points.length) throw new Error(`baseLoad csv ${file}: no rows`);
  return points.sort((x, y) => x.atMs - y.atMs);
}

/** A base load as a function of time: per-phase current (A, import). */
export type LoadFn = (t: number) => PhaseVector;

export function baseLoadFn(spec: BaseLoadSpec, seed: number, channel: number, epoch: number, baseDir: string): LoadFn {
  const noise = (t: number, p: number) => 1 + spec.noise * (0.7 * valueNoise(seed, channel * 3 + p, t, 5 * 60_000) + 0.3 * valueNoise(seed, 100 + channel * 3 + p, t, 30_000));
  if (typeof spec.shape === 'object') {
    const pts = readCsvShape(spec.shape.csv, baseDir);
    const peak = Math.max(...pts.flatMap((p) => p.a));
    const scale = spec.peakA.some((v) => v > 0) && peak > 0 ? spec.peakA.map((v) => v / peak) : [1, 1, 1];
    return (t) => {
      const d = (((t - epoch) % DAY) + DAY) % DAY;
      let i = pts.findIndex((p) => p.atMs > d);
      if (i < 0) i = pts.length;
      const a = pts[(i - 1 + pts.length) % pts.length];
      const b = pts[i % pts.length];
      const span = ((b.atMs - a.atMs + DAY) % DAY) || DAY;
      const f = (((d - a.atMs + DAY) % DAY) / span);
      return [0, 1, 2].map((p) => Math.max(0, (a.a[p] + (b.a[p] - a.a[p]) * f) * scale[p] * noise(t, p))) as PhaseVector;
    };
  }
  const shape = spec.shape;
  return (t) => {
    const day = Math.floor((t - epoch) / DAY);
    const weekday = ((day % 7) + 7) % 7 < 5; // virtual day 1 is a Monday
    const f = shapeFraction(shape, (((t - epoch) % DAY) + DAY) % DAY / HOUR, weekday);
    return [0, 1, 2].map((p) => Math.max(0, spec.peakA[p] * f * noise(t, p))) as PhaseVector;
  };
}

/** Clear-sky fraction (0..1) at hour h: sunrise 5:30, sunset 21:30, a sin^1.5 bell (a summer day in central Europe). */
export function clearSky(h: number): number {
  const rise = 5.5;
  const set = 21.5;
  if (h <= rise || h >= set) return 0;
  return Math.sin((Math.PI * (h - rise)) / (set - rise)) ** 1.5;
}

/** PV production (W) at t: clear sky times a seeded cloud factor. `clouds` 0 = clear all day, 1 = heavy clouds. */
export function pvPowerFn(peakW: number, clouds: number, seed: number, epoch: number): (t: number) => number {
  return pvOf(peakW, clouds, seed, epoch, true);
}

/** The PV forecast the score and the demo give the controller (W at t): the same sky with its cloud cover's drift over
 * hours but not the clouds that pass in minutes, as an intraday forecast refreshed through the day knows it. */
export function pvForecastFn(peakW: number, clouds: number, seed: number, epoch: number): (t: number) => number {
  return pvOf(peakW, clouds, seed, epoch, false);
}

function pvOf(peakW: number, clouds: number, seed: number, epoch: number, passing: boolean): (t: number) => number {
  return (t) => {
    const h = (((t - epoch) % DAY) + DAY) % DAY / HOUR;
    const sky = clearSky(h);
    if (sky <= 0 || peakW <= 0) return 0;
    // Clouds pass in minutes; their density drifts over hours.
    const drift = clouds * (0.6 + 0.6 * valueNoise(seed, 900, t, 2 * HOUR));
    const cover = Math.max(0, Math.min(1, drift + (passing ? 0.35 * clouds * valueNoise(seed, 901, t, 4 * 60_000) : 0)));
    const shade = cover > 0.45 ? 1 - 0.75 * Math.min(1, (cover - 0.45) / 0.3) : 1;
    return peakW * sky * shade;
  };
}

/** A forecast's points (every `stepMs` from `from` to `to`, W). */
export function forecastPoints(fn: (t: number) => number, from: number, to: number, stepMs = 15 * 60_000): { at: number; w: number }[] {
  const out: { at: number; w: number }[] = [];
  for (let t = from; t <= to; t += stepMs) out.push({ at: t, w: Math.round(fn(t)) });
  return out;
}

/** A home battery doing self-consumption: charges from export, discharges against import, within its limits. Told to
 * charge (a negative discharge limit, SunSpec OutWRte below 0) it charges at least that much, from PV only (its
 * grid charging off, ChaGriSet PV): at most the PV beyond the site's base load, the rule the LP optimum has too. */
export class SimBattery {
  soc: number;
  /** W, discharging positive. */
  powerW = 0;
  /** The most it may discharge, as its controller set it (W; negative: charge at least that much); undefined: as much
   * as it can (its maxW). */
  dischargeLimitW: number | undefined;
  constructor(readonly capacityWh: number, readonly maxW: number, soc: number, readonly minSoc: number) {
    this.soc = soc;
  }

  /** Sets the power for the next `dtMs` from the grid power it would see without itself (W, import positive). */
  step(gridWithoutBatteryW: number, dtMs: number, pvBeyondBaseW = Infinity): number {
    const h = dtMs / 3_600_000;
    const limit = this.dischargeLimitW ?? this.maxW;
    const told = limit < 0 ? Math.max(limit, -Math.max(0, pvBeyondBaseW)) : limit;
    let p = Math.max(-this.maxW, Math.min(this.maxW, told, gridWithoutBatteryW));
    if (p > 0) p = Math.min(p, (Math.max(0, this.soc - this.minSoc) * this.capacityWh) / Math.max(h, 1e-9));
    else p = Math.max(p, -((1 - this.soc) * this.capacityWh) / Math.max(h, 1e-9));
    this.powerW = p;
    this.soc = Math.max(0, Math.min(1, this.soc - (p * h) / this.capacityWh));
    return p;
  }
}

export interface NodeCurrents {
  id: string;
  limitA: PhaseVector;
  /** Signed per-phase current (A, import positive). */
  currentA: PhaseVector;
}

/** The supply tree of a scenario: which node each charger and board hangs under, and the limits. */
export class SiteTree {
  readonly nodes: { id: string; parent?: string; limitA: PhaseVector; load?: LoadFn }[];
  private readonly chain = new Map<string, string[]>();

  constructor(scenario: Scenario) {
    const root = { id: 'grid', limitA: scenario.site.limitA, load: baseLoadFn(scenario.baseLoad, scenario.seed, 0, scenario.startAt, scenario.baseDir) };
    this.nodes = [
      root,
      ...scenario.circuits.map((c, i) => ({
        id: c.id,
        parent: c.parent ?? 'grid',
        limitA: c.limitA,
        load: c.baseLoad ? baseLoadFn(c.baseLoad, scenario.seed, i + 1, scenario.startAt, scenario.baseDir) : undefined,
      })),
    ];
    for (const n of this.nodes) {
      const ids: string[] = [];
      for (let p: string | undefined = n.id; p !== undefined; p = this.nodes.find((x) => x.id === p)?.parent) ids.push(p);
      this.chain.set(n.id, ids);
    }
  }

  /** Node ids from `nodeId` up to the grid connection. */
  pathToRoot(nodeId: string | undefined): string[] {
    return this.chain.get(nodeId ?? 'grid') ?? ['grid'];
  }

  /** Base load of each node's own loads at t (not including its children). */
  ownLoads(t: number): Map<string, PhaseVector> {
    const m = new Map<string, PhaseVector>();
    for (const n of this.nodes) m.set(n.id, n.load ? n.load(t) : [0, 0, 0]);
    return m;
  }

  /**
   * Per-phase current of every node: its own base load, its sub-boards, the chargers under it; at the grid connection
   * also PV and battery (both spread evenly over three phases, as 3-phase inverters).
   */
  currents(t: number, chargers: { circuit?: string; siteA: PhaseVector }[], sourceW: number, voltageV: number, own = this.ownLoads(t)): NodeCurrents[] {
    const acc = new Map<string, PhaseVector>();
    for (const n of this.nodes) acc.set(n.id, [0, 0, 0]);
    const add = (nodeId: string | undefined, a: PhaseVector) => {
      for (const id of this.pathToRoot(nodeId)) {
        const v = acc.get(id)!;
        v[0] += a[0];
        v[1] += a[1];
        v[2] += a[2];
      }
    };
    for (const n of this.nodes) add(n.id, own.get(n.id)!);
    for (const c of chargers) add(c.circuit, c.siteA);
    const g = acc.get('grid')!;
    const perPhase = sourceW / (3 * voltageV);
    for (let p = 0; p < 3; p++) g[p] -= perPhase;
    return this.nodes.map((n) => ({ id: n.id, limitA: n.limitA, currentA: acc.get(n.id)! }));
  }
}
